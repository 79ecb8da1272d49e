"""Compare strategies for the same municipality with common random numbers.

Every strategy is run with the same base seed and replicate numbers, so replicate ``r``
of each strategy sees the same families, problem scores, turnover, network and — for
anything two strategies share by name (an intervention, a channel, a cost item) — the
same random numbers. Differences between strategies are therefore *paired* per
replicate, and their intervals are much narrower than those of the strategies' own
results.

Reported per strategy against a baseline: paired differences in public impact, reach,
differential impact, costs, benefits and NPV (mean, SD, percentile interval); the
probability of beating the baseline on impact and on NPV; the ICER; dominance; the
efficient frontier (cost against impact, incl. the no-programme option); the
cost-effectiveness acceptability curves; and for combinations A+B of two compared
strategies the interaction contribution ``X(A+B) - X(A) - X(B)``. Formulas are in
``docs/economics.md``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from impactsim.compare_places import neighbourhood_differences, place_lines
from impactsim.frontier import efficient_frontier, icer
from impactsim.inputs import ScenarioError
from impactsim.posterior import Posterior
from impactsim.runner import RunResult, run
from impactsim.scenario import Scenario
from impactsim.tables import eur, interval, replicate_values

#: The no-programme option (cost 0, effect 0) that every frontier and CEAC includes.
NO_PROGRAMME = "no_programme"

#: Per-replicate outcomes compared between strategies (summary metric names, totals).
OUTCOMES: tuple[str, ...] = (
    "public_impact_pp",
    "reach_cumulative",
    "differential_impact_gap_pp",
    "cases_prevented",
    "case_years_prevented_pv",
    "cost_pv",
    "benefit_pv",
    "npv",
)

#: Outcomes whose interaction contribution X(A+B) - X(A) - X(B) is reported.
INTERACTION_OUTCOMES: tuple[str, ...] = (
    "public_impact_pp",
    "reach_cumulative",
    "case_years_prevented_pv",
    "cost_pv",
    "benefit_pv",
    "npv",
)

#: Effect measures the frontier and ICER may use.
EFFECTS: tuple[str, ...] = ("case_years_prevented_pv", "public_impact_pp")

COLUMNS = ["scenario", "versus", "metric", "mean", "sd", "lo", "hi", "n"]


class CompareError(ValueError):
    """Strategies cannot be compared (different municipalities, names, settings)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


# --------------------------------------------------------------------------- checks
def _differences(a: Any, b: Any, path: str, out: list[str], limit: int = 5) -> None:
    """Append up to ``limit`` paths where nested data ``a`` and ``b`` differ."""
    if len(out) >= limit:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(dict.fromkeys([*a, *b])):
            sub = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                out.append(f"{sub} (present in only one)")
            else:
                _differences(a[key], b[key], sub, out, limit)
            if len(out) >= limit:
                return
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path} ({len(a)} vs {len(b)} items)")
            return
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _differences(x, y, f"{path}[{i}]", out, limit)
    elif a != b:
        out.append(f"{path} ({a!r} vs {b!r})")


def _population_without_contacts(sc: Scenario) -> dict[str, Any]:
    pop = sc.population.model_dump(mode="json")
    for seg in pop["segments"]:
        seg.pop("contact_rates", None)
    return pop


def _shared_outcomes(a: Scenario, b: Scenario) -> tuple[dict, dict]:
    """The outcomes after the primary that both scenarios have, and their correlations.

    Strategies may measure different further outcomes (each compared where both have it);
    those they share must be the same outcome, with the same correlation.
    """
    names = [o.name for o in a.outcome_list[1:] if o.name in {x.name for x in b.outcome_list}]

    def part(sc: Scenario) -> dict:
        defs = {o.name: o.model_dump(mode="json") for o in sc.outcome_list if o.name in names}
        corr = {
            f"{x}.{y}": v
            for x, row in sc.outcome_correlation.items()
            for y, v in row.items()
            if {x, y} <= {*names, sc.outcome_list[0].name}
        }
        return {"definitions": defs, "correlation": corr}

    return part(a), part(b)


def comparability_problems(scenarios: Mapping[str, Scenario]) -> list[str]:
    """Why these scenarios cannot be compared as strategies for one municipality.

    Strategies must share the population (segments, shares, prevalences, adopter
    categories, network, turnover, size), the contact rates of every channel they both
    define, the outcome definition, the horizon and time step, and the economics section
    (discount rates, values, willingness to pay). Channels, providers, interventions,
    strategy and costs may differ.

    Args:
        scenarios: strategies by label.

    Returns:
        Problem messages; empty when the comparison is valid.
    """
    out: list[str] = []
    items = list(scenarios.items())
    if len(items) < 2:
        return ["compare needs at least two strategies"]
    ref_name, ref = items[0]
    for name, sc in items[1:]:
        checks: list[tuple[str, Any, Any]] = [
            (
                "population",
                _population_without_contacts(ref),
                _population_without_contacts(sc),
            ),
            (
                "outcome",
                ref.outcome.model_dump(mode="json", exclude={"name"}),
                sc.outcome.model_dump(mode="json", exclude={"name"}),
            ),
            ("outcomes", *_shared_outcomes(ref, sc)),
            (
                "simulation",
                {"months": ref.simulation.months, "dt_months": ref.simulation.dt_months},
                {"months": sc.simulation.months, "dt_months": sc.simulation.dt_months},
            ),
            (
                "economics",
                ref.economics.model_dump(mode="json"),
                sc.economics.model_dump(mode="json"),
            ),
        ]
        shared = {c.name for c in ref.channels} & {c.name for c in sc.channels}
        rates_a = {
            f"{s.name}.{c}": s.contact_rates.get(c, 0.0)
            for s in ref.population.segments
            for c in sorted(shared)
        }
        rates_b = {
            f"{s.name}.{c}": s.contact_rates.get(c, 0.0)
            for s in sc.population.segments
            for c in sorted(shared)
        }
        if _population_without_contacts(ref) == _population_without_contacts(sc):
            checks.append(("population.segments.contact_rates", rates_a, rates_b))
        for section, a, b in checks:
            diffs: list[str] = []
            _differences(a, b, section, diffs)
            if diffs:
                what = (
                    "define different populations"
                    if section.startswith("population")
                    else f"differ in the {section} section"
                )
                out.append(
                    f"strategies '{ref_name}' and '{name}' {what}; common random numbers need "
                    f"one municipality. Differences: {'; '.join(diffs)}"
                )
    return out


def _labels(scenarios: Sequence[Scenario] | Mapping[str, Scenario]) -> dict[str, Scenario]:
    if isinstance(scenarios, Mapping):
        return {str(k): v for k, v in scenarios.items()}
    names = [sc.name for sc in scenarios]
    rep = sorted({n for n in names if names.count(n) > 1})
    if rep:
        raise CompareError([f"strategies need distinct scenario names; repeated: {', '.join(rep)}"])
    return dict(zip(names, scenarios, strict=True))


def find_combinations(scenarios: Mapping[str, Scenario]) -> dict[str, list[tuple[str, str]]]:
    """Strategies that combine two others: offered interventions = disjoint union of theirs.

    Args:
        scenarios: strategies by label.

    Returns:
        ``{combination: [(part_a, part_b), ...]}``.
    """
    offered = {
        name: frozenset(o.intervention for o in sc.strategy.offers)
        for name, sc in scenarios.items()
    }
    out: dict[str, list[tuple[str, str]]] = {}
    names = list(scenarios)
    for s in names:
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                if s in (a, b) or not offered[a] or not offered[b]:
                    continue
                if offered[a] & offered[b]:
                    continue
                if offered[a] | offered[b] == offered[s]:
                    out.setdefault(s, []).append((a, b))
    return out


# --------------------------------------------------------------------------- statistics
def _point(value: float, n: int) -> dict[str, float]:
    return {"mean": value, "sd": math.nan, "lo": math.nan, "hi": math.nan, "n": n}


# --------------------------------------------------------------------------- result
@dataclass
class CompareResult:
    """Result of :func:`compare`.

    Attributes:
        baseline: label of the baseline strategy.
        seed: base seed shared by every strategy.
        replicates: replicates per strategy.
        effect: effect measure of the frontier, ICER and CEAC.
        runs: each strategy's :class:`~impactsim.runner.RunResult`.
        outcomes: per-replicate outcomes, wide (scenario, replicate, one column per outcome).
        comparison: long table (scenario, versus, metric, mean, sd, lo, hi, n).
        frontier: cost against effect of every option incl. ``no_programme``.
        ceac: acceptability curves: per willingness to pay and strategy, the probability
            of the highest net monetary benefit and of beating the baseline.
        combinations: detected or given combinations ``{A+B: [(A, B)]}``.
    """

    baseline: str
    seed: int
    replicates: int
    effect: str
    runs: dict[str, RunResult] = field(repr=False)
    outcomes: pd.DataFrame = field(repr=False)
    comparison: pd.DataFrame = field(repr=False)
    frontier: pd.DataFrame = field(repr=False)
    ceac: pd.DataFrame = field(repr=False)
    combinations: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def value(self, scenario: str, metric: str, versus: str | None = None) -> pd.Series:
        """One row of :attr:`comparison` (mean, sd, lo, hi, n).

        Args:
            scenario: strategy (or combination) label.
            metric: e.g. ``diff_npv``, ``p_better_impact``, ``interaction_public_impact_pp``.
            versus: the reference; default the baseline for ``diff_``/``p_``/``icer`` metrics,
                ``no_programme`` for levels, the combination's parts for ``interaction_``.
        """
        df = self.comparison
        sel = (df["scenario"] == scenario) & (df["metric"] == metric)
        if versus is not None:
            sel &= df["versus"] == versus
        rows = df.loc[sel]
        if rows.empty:
            raise KeyError(f"no comparison row for scenario={scenario!r}, metric={metric!r}")
        return rows.iloc[0]

    def table(self) -> str:
        """A readable text report of the comparison."""
        return format_report(self)

    def to_dir(self, path: str | Path, write_runs: bool = True) -> Path:
        """Write comparison.csv (long), frontier.csv, ceac.csv, outcomes.csv, comparison.txt.

        Args:
            path: output directory.
            write_runs: also write each strategy's run directory under ``runs/<label>/``.

        Returns:
            The directory. Every file is written atomically.

        Raises:
            OutputPathError: ``runs`` or a run's folder inside ``path`` is a symbolic link
                (checked before anything is written; a planted link is never followed).
        """
        from impactsim.io import inner_dir, refuse_planted_links, write_csv, write_text

        out = Path(path)
        refuse_planted_links(out, *(("runs", name) for name in self.runs if write_runs))
        out.mkdir(parents=True, exist_ok=True)
        write_csv(out / "comparison.csv", self.comparison)
        write_csv(out / "frontier.csv", self.frontier)
        write_csv(out / "ceac.csv", self.ceac)
        write_csv(out / "outcomes.csv", self.outcomes)
        write_text(out / "comparison.txt", self.table() + "\n")
        if write_runs:
            for name, res in self.runs.items():
                res.to_dir(inner_dir(out, "runs") / name)
        return out


def per_outcome_metric(outcome: str) -> str:
    """The compared metric of one outcome's public impact: ``public_impact_pp[<outcome>]``."""
    return f"public_impact_pp[{outcome}]"


def _outcomes(runs: Mapping[str, RunResult]) -> pd.DataFrame:
    frames = []
    for name, res in runs.items():
        cols = {m: replicate_values(res.summary, m) for m in OUTCOMES}
        for out in res.scenario.outcomes:  # several outcomes: each one's public impact
            cols[per_outcome_metric(out.name)] = replicate_values(
                res.summary, "public_impact_pp", outcome=out.name
            )
        idx = cols["cost_pv"].index
        df = pd.DataFrame({m: s.reindex(idx) for m, s in cols.items()})
        df.insert(0, "replicate", idx.to_numpy())
        df.insert(0, "scenario", name)
        frames.append(df.reset_index(drop=True))
    return pd.concat(frames, ignore_index=True)


def compare(
    scenarios: Sequence[Scenario] | Mapping[str, Scenario],
    baseline: str | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    *,
    combinations: Mapping[str, tuple[str, str]] | None = None,
    effect: str = "case_years_prevented_pv",
    level: float = 0.95,
    progress: bool | None = None,
    on_run: Callable[[str], None] | None = None,
    on_replicate: Callable[[str, int], None] | None = None,
    posterior: Posterior | None = None,
) -> CompareResult:
    """Run strategies with common random numbers and compare them with a baseline.

    Args:
        scenarios: the strategies (labelled by scenario name), or a mapping label -> scenario.
        baseline: label of the baseline; default the first strategy.
        replicates: replicates per strategy; default the baseline's ``simulation.replicates``.
        seed: base seed shared by all; default the baseline's ``simulation.seed``.
        combinations: ``{combination: (part_a, part_b)}``; default: detected, a strategy whose
            offered interventions are the disjoint union of two others'.
        effect: effect measure of the frontier, ICER and CEAC: ``case_years_prevented_pv``
            (discounted prevented case-years) or ``public_impact_pp`` (at the horizon).
        level: central interval of the reported intervals (0.95: 2.5-97.5 percentiles).
        progress: show progress bars (as :func:`impactsim.run`).
        on_run: called with each strategy's label after it has run.
        on_replicate: called with a strategy's label and replicate number after each
            replicate (progress); an exception it raises stops the comparison (cancel).
        posterior: a calibrated posterior (:func:`impactsim.posterior.load_posterior`) as
            the source of parameter uncertainty: replicate ``r`` of every strategy runs with
            the same posterior draw (keyed by seed and replicate), so the differences stay
            paired. Its paths must exist in every strategy.

    Returns:
        A :class:`CompareResult`.

    Raises:
        CompareError: the strategies describe different municipalities (population, outcome,
            horizon, economics), have repeated names, or the baseline/combination is unknown.
        impactsim.inputs.ScenarioError: the posterior does not fit a strategy (checked for
            all of them before any runs).
    """
    labelled = _labels(scenarios)
    base, combos = _settings(labelled, baseline, combinations, effect, [])
    ref = labelled[base]
    reps = ref.simulation.replicates if replicates is None else int(replicates)
    base_seed = ref.simulation.seed if seed is None else int(seed)
    _check_posterior(labelled, posterior)
    runs: dict[str, RunResult] = {}
    for name, sc in labelled.items():
        each = None if on_replicate is None else functools.partial(on_replicate, name)
        runs[name] = run(
            sc,
            replicates=reps,
            seed=base_seed,
            progress=progress,
            on_replicate=each,
            posterior=posterior,
        )
        if on_run is not None:
            on_run(name)
    return _result(runs, base, combos, effect, level, base_seed, reps)


def _check_posterior(labelled: Mapping[str, Scenario], posterior: Posterior | None) -> None:
    """Refuse, before anything runs, a posterior that does not fit every strategy."""
    if posterior is None:
        return
    problems = []
    for name, sc in labelled.items():
        try:
            posterior.bind(sc, name)
        except ScenarioError as err:
            problems += err.problems
    if problems:
        raise ScenarioError(problems)


def compare_runs(
    runs: Mapping[str, Any],
    baseline: str | None = None,
    *,
    combinations: Mapping[str, tuple[str, str]] | None = None,
    effect: str = "case_years_prevented_pv",
    level: float = 0.95,
) -> CompareResult:
    """Compare strategies that were already run with common random numbers.

    For runs read back from disk (:func:`impactsim.rundir.load_run_dir`), e.g. the run
    directories ``impactsim compare`` writes under ``runs/``: the same tables as
    :func:`compare`, without simulating again.

    Args:
        runs: ``{label: run}``; each with ``scenario`` and ``summary`` (a RunResult or
            a RunDir).
        baseline: label of the baseline; default the first.
        combinations: as in :func:`compare`.
        effect: as in :func:`compare`.
        level: as in :func:`compare`.

    Returns:
        A :class:`CompareResult`.

    Raises:
        CompareError: as :func:`compare`, and when the runs are not paired: another base
            seed or other replicate numbers than the first run's.
    """
    labelled = {str(k): r.scenario for k, r in runs.items()}
    problems: list[str] = []
    items = list(runs.items())
    first_name, first = items[0] if items else ("", None)
    reps = sorted(int(r) for r in pd.unique(first.summary["replicate"])) if first else []
    for name, res in items[1:]:
        mine = sorted(int(r) for r in pd.unique(res.summary["replicate"]))
        if res.scenario.simulation.seed != first.scenario.simulation.seed or mine != reps:
            problems.append(
                f"runs '{first_name}' and '{name}' are not paired (seed "
                f"{first.scenario.simulation.seed} against {res.scenario.simulation.seed}, "
                f"{len(reps)} against {len(mine)} replicates): run the strategies together "
                "with `impactsim compare`, which writes paired runs under runs/"
            )
    base, combos = _settings(labelled, baseline, combinations, effect, problems)
    seed = int(first.scenario.simulation.seed) if first else 0
    return _result(dict(runs), base, combos, effect, level, seed, len(reps))


def _settings(
    labelled: Mapping[str, Scenario],
    baseline: str | None,
    combinations: Mapping[str, tuple[str, str]] | None,
    effect: str,
    problems: list[str],
) -> tuple[str, dict[str, list[tuple[str, str]]]]:
    """The baseline and combinations of a comparison, after checking everything.

    Raises:
        CompareError: every problem found (and those already in ``problems``).
    """
    problems = [*comparability_problems(labelled), *problems]
    if effect not in EFFECTS:
        problems.append(f"effect must be one of {', '.join(EFFECTS)} (got {effect!r})")
    names = list(labelled)
    base = names[0] if baseline is None and names else str(baseline)
    if base not in labelled:
        problems.append(f"unknown baseline '{base}' (strategies: {', '.join(names)})")
    if combinations is None:
        combos = find_combinations(labelled)
    else:
        combos = {}
        for combo, parts in combinations.items():
            for n in (combo, *parts):
                if n not in labelled:
                    problems.append(
                        f"combination '{combo}': unknown strategy '{n}' "
                        f"(strategies: {', '.join(names)})"
                    )
            combos[combo] = [tuple(parts)]  # type: ignore[list-item]
    if problems:
        raise CompareError(problems)
    return base, combos


def _result(
    runs: dict[str, Any],
    base: str,
    combos: dict[str, list[tuple[str, str]]],
    effect: str,
    level: float,
    seed: int,
    replicates: int,
) -> CompareResult:
    """The comparison tables of strategies already run (paired replicates)."""
    outcomes = _outcomes(runs)
    wide = {
        str(name): df.drop(columns="scenario").set_index("replicate")
        for name, df in outcomes.groupby("scenario", sort=False)
    }
    comparison, frontier = _compare_tables(wide, base, combos, effect, level)
    grid = runs[base].scenario.economics.wtp_grid_eur_per_case_year
    return CompareResult(
        baseline=base,
        seed=seed,
        replicates=replicates,
        effect=effect,
        runs=runs,
        outcomes=outcomes,
        comparison=comparison,
        frontier=frontier,
        ceac=_ceac(wide, base, grid, effect),
        combinations=combos,
    )


def _compare_tables(
    wide: Mapping[str, pd.DataFrame],
    base: str,
    combos: Mapping[str, list[tuple[str, str]]],
    effect: str,
    level: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows: list[dict[str, Any]] = []

    def add(scenario: str, versus: str, metric: str, stats: dict[str, float]) -> None:
        rows.append({"scenario": scenario, "versus": versus, "metric": metric, **stats})

    b = wide[base]
    points = {NO_PROGRAMME: (0.0, 0.0)}
    for name, df in wide.items():
        points[name] = (float(df["cost_pv"].mean()), float(df[effect].mean()))
    frontier = efficient_frontier(points)
    status = frontier.set_index("scenario")["status"]
    for name, df in wide.items():
        n = len(df)
        compared = [*OUTCOMES, *(c for c in df.columns if c.startswith("public_impact_pp["))]
        for m in compared:
            add(name, NO_PROGRAMME, m, interval(df[m].to_numpy(), level))
        add(name, "frontier", "on_frontier", _point(float(status[name] == "efficient"), n))
        if name == base:
            continue
        d = df.sub(b.reindex(df.index))
        for m in (c for c in compared if c in b.columns):
            add(name, base, f"diff_{m}", interval(d[m].to_numpy(), level))
        add(name, base, "p_better_impact", _point(float((d["public_impact_pp"] > 0).mean()), n))
        add(name, base, "p_better_npv", _point(float((d["npv"] > 0).mean()), n))
        dc, de = float(d["cost_pv"].mean()), float(d[effect].mean())
        add(name, base, icer_metric(effect), _point(icer(dc, de), n))
        dominates = dc <= 0 and de >= 0 and (dc < 0 or de > 0)
        dominated = dc >= 0 and de <= 0 and (dc > 0 or de < 0)
        add(name, base, "dominates_baseline", _point(float(dominates), n))
        add(name, base, "dominated_by_baseline", _point(float(dominated), n))
    for combo, pairs in combos.items():
        for pa, pb in pairs:
            c, a, bb = wide[combo], wide[pa].reindex(wide[combo].index), wide[pb]
            inter = c.sub(a).sub(bb.reindex(c.index))
            versus = f"{pa} + {pb}"
            for m in INTERACTION_OUTCOMES:
                add(combo, versus, f"interaction_{m}", interval(inter[m].to_numpy(), level))
            n = len(inter)
            add(
                combo,
                versus,
                "p_interaction_positive_impact",
                _point(float((inter["public_impact_pp"] > 0).mean()), n),
            )
            add(
                combo,
                versus,
                "p_interaction_positive_npv",
                _point(float((inter["npv"] > 0).mean()), n),
            )
    comparison = pd.DataFrame(rows, columns=COLUMNS)
    frontier = frontier.rename(columns={"cost": "cost_pv_mean", "effect": f"{effect}_mean"})
    frontier = frontier.rename(
        columns={"icer_vs_previous": f"icer_vs_previous_eur_per_{_effect_unit(effect)}"}
    )
    return comparison, frontier


def _effect_unit(effect: str) -> str:
    return "case_year" if effect == "case_years_prevented_pv" else "pp"


def icer_metric(effect: str) -> str:
    """Name of the ICER row in :attr:`CompareResult.comparison` for an effect measure."""
    return f"icer_eur_per_{_effect_unit(effect)}"


def _ceac(
    wide: Mapping[str, pd.DataFrame], base: str, grid: Sequence[float], effect: str
) -> pd.DataFrame:
    """Acceptability curves of all options (strategies and no programme).

    For willingness to pay λ and replicate r, ``NMB = λ · E - C`` (0 for no programme);
    ``p_highest_nmb`` is the share of replicates in which an option has the highest NMB,
    ``p_cost_effective_vs_baseline`` the share in which its NMB exceeds the baseline's.
    """
    names = list(wide)
    idx = wide[base].index
    cost = np.array([wide[n]["cost_pv"].reindex(idx).to_numpy() for n in names])
    eff = np.array([wide[n][effect].reindex(idx).to_numpy() for n in names])
    rows = []
    b = names.index(base)
    for lam in sorted(set(float(x) for x in grid)):
        nmb = lam * eff - cost  # [S, R]
        allv = np.vstack([np.zeros((1, nmb.shape[1])), nmb])
        best = np.argmax(allv, axis=0)
        for s, name in enumerate([NO_PROGRAMME, *names]):
            row = {
                f"wtp_eur_per_{_effect_unit(effect)}": lam,
                "scenario": name,
                "p_highest_nmb": float((best == s).mean()),
                "mean_nmb": float(allv[s].mean()),
                "p_cost_effective_vs_baseline": (
                    float((allv[s] > nmb[b]).mean()) if name != base else math.nan
                ),
            }
            rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- report
def _fmt(x: float, kind: str) -> str:
    if x != x:
        return "n/a"
    if kind == "eur":
        return f"{x:+,.0f}" if abs(x) < 1e15 else f"{x:+.3g}"
    if kind == "pct":
        return f"{100 * x:+.2f} %"
    if kind == "pp":
        return f"{x:+.3f}"
    if kind == "prob":
        return f"{x:.2f}"
    return f"{x:+.2f}"


def format_report(res: CompareResult) -> str:
    """Readable text report: levels per strategy, differences vs baseline, interactions."""
    cmp_ = res.comparison
    lines = [
        f"Comparison of {len(res.runs)} strategies, {res.replicates} replicates, seed {res.seed} "
        f"(common random numbers); baseline '{res.baseline}'",
        "",
    ]
    lvl = cmp_[cmp_["versus"] == NO_PROGRAMME].pivot_table(
        index="scenario", columns="metric", values="mean", sort=False
    )
    status = res.frontier.set_index("scenario")["status"]
    table = pd.DataFrame(
        {
            "impact pp": lvl["public_impact_pp"].map(lambda v: f"{v:.3f}"),
            "reach": lvl["reach_cumulative"].map(lambda v: f"{100 * v:.2f} %"),
            "cost PV": lvl["cost_pv"].map(eur),
            "benefit PV": lvl["benefit_pv"].map(eur),
            "NPV": lvl["npv"].map(eur),
            "frontier": [status.get(n, "") for n in lvl.index],
        }
    )
    lines.append("Levels against no programme (means):")
    lines.append(table.to_string())
    unit = _effect_unit(res.effect)
    spec = [
        ("diff_public_impact_pp", "public impact (pp)", "pp"),
        ("diff_reach_cumulative", "reach (any programme)", "pct"),
        ("diff_differential_impact_gap_pp", "differential impact gap (pp)", "pp"),
        ("diff_case_years_prevented_pv", "prevented case-years (PV)", "num"),
        ("diff_cost_pv", "cost PV (€)", "eur"),
        ("diff_benefit_pv", "benefit PV (€)", "eur"),
        ("diff_npv", "NPV (€)", "eur"),
    ]
    for name in res.runs:
        if name == res.baseline:
            continue
        sub = cmp_[(cmp_["scenario"] == name) & (cmp_["versus"] == res.baseline)].set_index(
            "metric"
        )
        lines += ["", f"{name} minus {res.baseline} (paired, mean [95 % interval]):"]
        for metric, label, kind in spec:
            r = sub.loc[metric]
            lines.append(
                f"  {label:<34} {_fmt(r['mean'], kind):>14}  "
                f"[{_fmt(r['lo'], kind)}, {_fmt(r['hi'], kind)}]"
            )
        lines.append(
            f"  {'P(better impact)':<34} {_fmt(sub.loc['p_better_impact', 'mean'], 'prob'):>14}"
        )
        lines.append(f"  {'P(better NPV)':<34} {_fmt(sub.loc['p_better_npv', 'mean'], 'prob'):>14}")
        ic = sub.loc[f"icer_eur_per_{unit}", "mean"]
        dom = (
            "dominates baseline"
            if sub.loc["dominates_baseline", "mean"] == 1
            else "dominated by baseline"
            if sub.loc["dominated_by_baseline", "mean"] == 1
            else ""
        )
        lines.append(f"  {'ICER (€ per ' + unit.replace('_', '-') + ')':<34} {eur(ic):>14}  {dom}")
        lines += place_lines(neighbourhood_differences(res.runs, res.baseline), name, _fmt)
    inter = cmp_[cmp_["metric"].astype(str).str.startswith("interaction_")]
    if not inter.empty:
        lines += ["", "Interaction contribution X(A+B) - X(A) - X(B) (mean [95 % interval]):"]
        for (combo, versus), sub in inter.groupby(["scenario", "versus"], sort=False):
            sub = sub.set_index("metric")
            lines.append(f"  {combo} vs {versus}:")
            for metric, label, kind in (
                ("interaction_public_impact_pp", "public impact (pp)", "pp"),
                ("interaction_npv", "NPV (€)", "eur"),
            ):
                r = sub.loc[metric]
                lines.append(
                    f"    {label:<32} {_fmt(r['mean'], kind):>14}  "
                    f"[{_fmt(r['lo'], kind)}, {_fmt(r['hi'], kind)}]"
                )
    return "\n".join(lines)
