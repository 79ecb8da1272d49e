"""What the app computes, away from the page: strategies, runs, figures and the report.

The page never simulates itself. A run is started in a worker thread (a Solara task, one
per browser session) and calls :func:`analyse`, which

- waits for the server's one simulation slot (:data:`SLOTS`): the engine already uses
  every core, so two sessions' runs would only slow each other down; a waiting run says
  so and can be cancelled while it waits;
- runs the strategies with common random numbers (:func:`impactsim.compare`), reporting
  each finished replicate to a progress callback, and stops at the next replicate when
  the session's cancel event is set (:class:`Cancelled`);
- draws the figures (PNG bytes) in the plan's language (with, for a scenario with
  neighbourhoods, reach and public impact by neighbourhood); another language's are drawn
  when the page first asks for them (:func:`figures_in`). Drawing holds :data:`PLOTS`
  (matplotlib's pyplot is not thread-safe).

A strategy from the library is put into the planner's municipality by
:func:`strategy_in`: the library file's channels, providers, programmes and strategy,
the municipality's families, outcome, economics and simulation settings.
"""

from __future__ import annotations

import copy
import inspect
import io
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from impactsim import plots
from impactsim.compare import CompareResult, compare
from impactsim.i18n import N_
from impactsim.inputs import Problem, ScenarioError
from impactsim.library import library_dir
from impactsim.loading import dump_scenario, parse_scenario, parse_yaml_text, read_yaml
from impactsim.runner import RunResult, run
from impactsim.scenario import Scenario
from impactsim.tables import PLACE_COLUMN

#: One simulation at a time on this server; the others wait (and may be cancelled).
SLOTS = threading.BoundedSemaphore(1)
#: One figure drawn at a time: matplotlib's pyplot keeps global state.
PLOTS = threading.RLock()

#: Key of the figure of reach and public impact by neighbourhood (scenarios with
#: neighbourhoods only), which the page shows with the results by neighbourhood.
NEIGHBOURHOOD_FIGURE = "neighbourhoods"

#: The sections a library strategy keeps; the rest comes from the municipality.
STRATEGY_SECTIONS = ("name", "description", "channels", "providers", "interventions", "strategy")


class Cancelled(Exception):
    """The planner cancelled the run."""


@dataclass(frozen=True)
class Plan:
    """One run the planner asked for.

    Attributes:
        scenarios: the strategies by scenario name, the first is the baseline.
        replicates: replicates per strategy.
        seed: base seed shared by every strategy.
        budget: euros (present value) the costs are held against; None: no budget.
        lang: language of the report.
        cancel: set by the page to stop the run.
    """

    scenarios: dict[str, Scenario]
    replicates: int
    seed: int
    budget: float | None = None
    lang: str = "en"
    cancel: threading.Event = field(default_factory=threading.Event, compare=False)


@dataclass
class Analysis:
    """What the page shows after a run.

    Attributes:
        plan: what was run.
        runs: each strategy's run, by scenario name.
        comparison: the paired comparison (None with one strategy).
        figures: ``(key, strategy or "", caption message, png bytes)`` in the plan's
            language.
        seconds: wall time from the start of the simulations to the figures.
        other_figures: the figures in other languages, drawn when first asked for.
    """

    plan: Plan
    runs: dict[str, RunResult]
    comparison: CompareResult | None
    figures: list[tuple[str, str, str, bytes]]
    seconds: float
    other_figures: dict[str, list[tuple[str, str, str, bytes]]] = field(
        default_factory=dict, repr=False
    )


def library_strategies() -> dict[str, Path]:
    """The library's strategies (scenario files), by name.

    The names and paths of :func:`impactsim.library.entries`' scenarios, without reading
    the files (the page asks for them at every render).
    """
    return {p.stem: p for p in sorted(library_dir().glob("*.yaml"))}


def plans_by_neighbourhood(library_file: Path) -> bool:
    """Whether a library scenario divides its families into neighbourhoods.

    Such a strategy names neighbourhoods, so it fits only a municipality that has them:
    the page then says how to open the file as the municipality.
    """
    try:
        data = read_yaml(library_file)
    except ScenarioError:
        return False
    population = data.get("population") if isinstance(data, dict) else None
    return isinstance(population, dict) and bool(population.get("neighbourhoods"))


def strategy_in(municipality: Scenario, library_file: Path) -> Scenario:
    """A library strategy put into the planner's municipality.

    Contact rates of channels the municipality does not define are taken from the
    library file's segment of the same name; those it defines stay the municipality's.
    The municipality's outcomes are kept: effects on other outcomes are left out.

    Raises:
        ScenarioError: the strategy does not fit the municipality (e.g. it names
            segments the municipality lacks), with every problem.
    """
    lib = read_yaml(library_file)
    data = copy.deepcopy(municipality.model_dump(mode="json"))
    for section in STRATEGY_SECTIONS:
        if section in lib:
            data[section] = copy.deepcopy(lib[section])
        else:
            data.pop(section, None)
    data["sources"] = {}
    # the municipality's outcomes decide what is measured: a strategy's effects on outcomes
    # it does not define are left out
    measured = {o.name for o in municipality.outcome_list[1:]}
    for iv in data.get("interventions") or []:
        if isinstance(iv, dict) and isinstance(iv.get("effect_sizes"), dict):
            iv["effect_sizes"] = {k: v for k, v in iv["effect_sizes"].items() if k in measured}
    lib_segments = {
        s.get("name"): s for s in (lib.get("population") or {}).get("segments", []) or []
    }
    for seg in data["population"]["segments"]:
        theirs = (lib_segments.get(seg["name"]) or {}).get("contact_rates") or {}
        seg["contact_rates"] = {**theirs, **(seg.get("contact_rates") or {})}
    return parse_scenario(data, library_file.name)


def warm_engine(scenario: Scenario) -> None:
    """Load the engine (from numba's cache, or compile it) before the first run needs it.

    The server calls this on a thread when it starts; it holds the simulation slot, so a
    run started meanwhile waits for it rather than loading the engine a second time.
    """
    from impactsim.engine.simulate import warm_up
    from impactsim.engine.spec import compile_scenario

    with SLOTS:
        warm_up(compile_scenario(scenario))


def wait_for_slot(plan: Plan, on_wait: Callable[[], None] | None) -> None:
    """Take the server's simulation slot, waiting (cancellable) while another run holds it."""
    if SLOTS.acquire(blocking=False):
        return
    if on_wait is not None:
        on_wait()
    while not SLOTS.acquire(timeout=0.2):
        if plan.cancel.is_set():
            raise Cancelled


def analyse(
    plan: Plan,
    on_progress: Callable[[float], None] | None = None,
    on_wait: Callable[[], None] | None = None,
) -> Analysis:
    """Run a plan: simulate, compare, draw. Blocks; call it from a worker thread.

    Args:
        plan: what to run.
        on_progress: called with the share of replicates done (0-1).
        on_wait: called once when another run holds the simulation slot.

    Raises:
        Cancelled: ``plan.cancel`` was set.
        impactsim.compare.CompareError, impactsim.resources.MemoryLimitError, ValueError:
            the run cannot be done (shown to the planner).
    """
    total = max(1, len(plan.scenarios) * plan.replicates)
    done = 0

    def tick(label: str, replicate: int) -> None:
        nonlocal done
        if plan.cancel.is_set():
            raise Cancelled
        done += 1
        if on_progress is not None:
            on_progress(done / total)

    wait_for_slot(plan, on_wait)
    try:
        if plan.cancel.is_set():
            raise Cancelled
        t0 = time.perf_counter()
        comparison: CompareResult | None = None
        if len(plan.scenarios) == 1:
            ((name, sc),) = plan.scenarios.items()
            runs = {
                name: run(
                    sc,
                    replicates=plan.replicates,
                    seed=plan.seed,
                    progress=False,
                    on_replicate=lambda r: tick(name, r),
                )
            }
        else:
            comparison = compare(
                plan.scenarios,
                replicates=plan.replicates,
                seed=plan.seed,
                progress=False,
                on_replicate=tick,
            )
            runs = comparison.runs
        if plan.cancel.is_set():
            raise Cancelled
        figures = draw_figures(runs, plan.lang)
        return Analysis(plan, runs, comparison, figures, time.perf_counter() - t0)
    finally:
        SLOTS.release()


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def figures_in(analysis: Analysis, lang: str) -> list[tuple[str, str, str, bytes]]:
    """The analysis's figures in a language (drawn the first time; blocks meanwhile)."""
    if lang == analysis.plan.lang:
        return analysis.figures
    with PLOTS:
        if lang not in analysis.other_figures:
            analysis.other_figures[lang] = draw_figures(analysis.runs, lang)
        return analysis.other_figures[lang]


def draw_figures(
    runs: Mapping[str, RunResult], lang: str = "en"
) -> list[tuple[str, str, str, bytes]]:
    """The result figures as ``(key, strategy or "", caption message, PNG bytes)``."""
    with PLOTS:
        return _draw(runs, lang)


def _draw(runs: Mapping[str, RunResult], lang: str) -> list[tuple[str, str, str, bytes]]:
    out: list[tuple[str, str, str, bytes]] = []
    first = next(iter(runs.values()))
    if len(runs) > 1:
        out.append(
            (
                "impact",
                "",
                N_("Public impact by strategy (mean, 95 % interval)"),
                _png(plots.public_impact_comparison(dict(runs), lang=lang)),
            )
        )
    wtp = first.scenario.economics.willingness_to_pay_eur_per_case_year
    out.append(
        (
            "plane",
            "",
            N_("Cost-effectiveness plane: costs against prevented case-years, per replicate"),
            _png(plots.cost_effectiveness_plane(dict(runs), wtp_eur=wtp, lang=lang)),
        )
    )
    for name, res in runs.items():
        out.append(("funnel", name, N_("Impact funnel"), _png(plots.impact_funnel(res, lang=lang))))
        out.append(
            (
                "adoption",
                name,
                N_("Adoption over time by segment"),
                _png(plots.adoption_curves(res, lang=lang)),
            )
        )
        out.append(
            (
                "differential",
                name,
                N_("Differential impact by segment"),
                _png(plots.differential_impact(res, lang=lang)),
            )
        )
        if PLACE_COLUMN in res.summary.columns:
            out.append(
                (
                    NEIGHBOURHOOD_FIGURE,
                    name,
                    N_("Reach and public impact by neighbourhood"),
                    _png(plots.by_neighbourhood(res, lang=lang)),
                )
            )
    return out


def report_html(plan: Plan, build: Callable[..., Path] | None = None) -> bytes:
    """The HTML report of a plan (:func:`impactsim.report.build_report`), as bytes.

    It simulates the strategies again (same seed and replicates, so the same numbers),
    holding the simulation slot.
    """
    if build is None:
        from impactsim.report import build_report as build
    with tempfile.TemporaryDirectory(prefix="impactsim-app-") as tmp:
        paths = []
        for name, sc in plan.scenarios.items():
            path = Path(tmp) / f"{name}.yaml"
            path.write_text(dump_scenario(sc), encoding="utf-8")
            paths.append(path)
        out = Path(tmp) / "report.html"
        kwargs: dict[str, Any] = {"replicates": plan.replicates, "seed": plan.seed}
        if "lang" in inspect.signature(build).parameters:  # reports in Dutch, once they can
            kwargs["lang"] = plan.lang
        wait_for_slot(plan, None)
        try:
            build(paths, out, progress=False, **kwargs)
        finally:
            SLOTS.release()
        return out.read_bytes()


def read_upload(raw: bytes, name: str) -> tuple[Scenario | None, list[Problem], Any]:
    """An uploaded scenario file, validated.

    Returns:
        ``(scenario, [], data)`` or ``(None, problems, data)``; ``data`` is the parsed
        document (None when the file is not YAML), against which problems are worded.
    """
    try:
        data = parse_yaml_text(raw, name)
    except ScenarioError as err:
        return None, list(err.problems), None
    try:
        return parse_scenario(data, name), [], data
    except ScenarioError as err:
        return None, list(err.problems), data
