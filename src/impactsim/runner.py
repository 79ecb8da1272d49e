"""Monte Carlo runner: replicates of a scenario, with the counterfactual built in.

Each replicate ``r`` of a run with base seed ``seed`` uses the key
``SeedSequence(seed, spawn_key=(r,))``; inside it named streams give common
random numbers (see :mod:`impactsim.rng`). Running replicates 0..R-1 in one call
or in pieces gives the same numbers.

Replicates run side by side, one per numba thread (:func:`replicate_workers`), or one
at a time on all numba threads (the engine splits the parents over the threads). The
numbers are the same either way.
"""

from __future__ import annotations

import functools
import json
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import numba
import pandas as pd
from tqdm.auto import tqdm

from impactsim._version import __version__
from impactsim.economic_tables import ceac_table, wsipp_table
from impactsim.economics import concat_long
from impactsim.engine.families import network_summary
from impactsim.engine.simulate import (
    Recording,
    engine_compiled,
    numba_threads,
    simulate_replicate,
    warm_up,
)
from impactsim.engine.spec import ModelSpec, compile_scenario
from impactsim.io import staged_directory, write_csv, write_parquet, write_text
from impactsim.loading import dump_scenario
from impactsim.place_economics import economics_tables
from impactsim.place_metrics import categorical, summarise_places
from impactsim.posterior import Posterior
from impactsim.resources import MemoryLimitError, check_memory
from impactsim.rng import replicate_key
from impactsim.runfiles import RUN_FORMAT, file_digest
from impactsim.scenario import Scenario
from impactsim.scenario.settings import MAX_SEED
from impactsim.tables import interval_table, replicate_values

#: How a run uses its numba threads: ``"parents"`` runs one replicate at a time with the
#: parents split over the threads; ``"replicates"`` runs one replicate per thread, side by
#: side; ``"auto"`` runs side by side when the memory limit allows the replicates in
#: flight, else one at a time. The numbers are identical in every mode.
Parallel = Literal["auto", "replicates", "parents"]

#: Said on stderr before the first run of a fresh installation compiles the engine.
COMPILING_MESSAGE = (
    "compiling the simulation engine (first run only; this takes a while, later runs start at once)"
)


def replicate_workers(
    replicates: int, parallel: Parallel = "auto", threads: int | None = None
) -> int:
    """Number of replicates a run simulates side by side (1: one at a time).

    Side by side, each replicate runs on one numba thread and never waits for another
    thread; one at a time, the threads share each step and wait for each other and for
    the step's serial phase. On the 2-core benchmark machine side by side gave 1.15x the
    agent-months per second at 10,000 and 1,000,000 parents and about the same at 100,000
    (benchmarks/README.md).

    Args:
        replicates: replicates in the run.
        parallel: ``"auto"``, ``"replicates"`` or ``"parents"`` (see :data:`Parallel`).
        threads: numba threads available; default ``numba.get_num_threads()``.

    Returns:
        ``min(threads, replicates)``, or 1 for ``"parents"`` and when numba's threading
        layer cannot run kernels from several threads at once (``workqueue``).

    Raises:
        ValueError: unknown ``parallel``.
    """
    if parallel not in get_args(Parallel):
        *first, last = (repr(mode) for mode in get_args(Parallel))
        allowed = f"{', '.join(first)} or {last}"
        raise ValueError(f"parallel must be {allowed} (got {parallel!r})")
    available = numba.get_num_threads()  # also starts numba's threading layer
    if parallel == "parents" or numba.threading_layer() == "workqueue":  # not thread-safe
        return 1
    return max(1, min(available if threads is None else int(threads), int(replicates)))


def _simulate_all(
    spec: ModelSpec | Callable[[int], ModelSpec],
    base_seed: int,
    numbers: Sequence[int],
    workers: int,
    done: Callable[[int, Recording], None],
) -> None:
    """Simulate replicates ``numbers``, ``workers`` side by side; ``done`` is called in order.

    With ``workers`` > 1, the largest multiple of ``workers`` of the replicates runs on as
    many threads, one numba thread each (the kernels release the GIL), and the remainder
    one at a time on all threads, so no thread idles while the last replicate runs.
    ``done`` runs in the calling thread. A replicate's numbers depend only on its key (and
    its spec: ``spec`` may be a function of the replicate number, as with a posterior).
    On an exception in the calling thread (Ctrl-C), the running replicates stop at their
    next block of steps and the others do not start.
    """
    spec_of = spec if callable(spec) else (lambda _r, s=spec: s)
    n_side = len(numbers) // workers * workers if workers > 1 else 0
    if n_side:
        cancel = threading.Event()

        def one(r: int) -> Recording:
            with numba_threads(1):
                return simulate_replicate(spec_of(r), replicate_key(base_seed, r), cancel=cancel)

        with ThreadPoolExecutor(workers, thread_name_prefix="impactsim-replicate") as pool:
            futures: list[Future[Recording]] = []
            try:
                futures += [pool.submit(one, r) for r in numbers[:n_side]]
                for r, fut in zip(numbers[:n_side], futures, strict=True):
                    done(r, fut.result())
            except BaseException:
                cancel.set()
                for fut in futures:
                    fut.cancel()
                raise
    for r in numbers[n_side:]:
        done(r, simulate_replicate(spec_of(r), replicate_key(base_seed, r)))


@dataclass
class RunResult:
    """Result of a Monte Carlo run.

    Attributes:
        scenario: the fully resolved scenario that was run.
        seed: base seed used.
        replicates: number of replicates.
        summary: per-replicate horizon metrics incl. economics (docs/economics.md), long format
            (columns scenario, replicate,
            metric, segment, intervention, channel, adopter_category, outcome, value).
        timeseries: per-replicate monthly metrics, long format (with a month column).
        recordings: raw counts per replicate (for economics and custom metrics).
        timings: seconds spent compiling and simulating.
        replicate_workers: replicates simulated side by side (1: one at a time).
        posterior: the posterior the replicates drew their parameter values from (None:
            the scenario's own values); ``scenario`` is then the base scenario.
    """

    scenario: Scenario
    seed: int
    replicates: int
    summary: pd.DataFrame
    timeseries: pd.DataFrame
    recordings: list[Recording] = field(repr=False)
    spec: ModelSpec = field(repr=False)
    timings: dict[str, float] = field(default_factory=dict)
    replicate_workers: int = 1
    posterior: Posterior | None = field(default=None, repr=False)
    first_replicate: int = 0

    @functools.cached_property
    def network(self) -> dict[str, float | str | None]:
        """The first replicate's network: kind, realised mean degree, clustering, tie shares.

        Rebuilt from the replicate's key (:func:`impactsim.engine.families.network_summary`);
        written to ``run.json`` as ``network``.
        """
        return network_summary(self.spec, replicate_key(self.seed, self.first_replicate))

    def summary_stats(self, level: float = 0.95) -> pd.DataFrame:
        """Mean, SD and percentile interval (default 2.5-97.5 %) of every summary metric."""
        return interval_table(self.summary, level=level)

    def timeseries_stats(self, level: float = 0.95) -> pd.DataFrame:
        """Mean and percentile band of every time series metric, per month."""
        return interval_table(self.timeseries, level=level)

    def metric(self, name: str, **where: str) -> pd.Series:
        """Per-replicate values of one summary metric (totals unless ``where`` says otherwise).

        Example: ``result.metric("reach_direct", intervention="online_course")``.
        """
        return replicate_values(self.summary, name, **where)

    def ceac(self, wtp_grid: Sequence[float] | None = None) -> pd.DataFrame:
        """Cost-effectiveness acceptability curve against no programme.

        Args:
            wtp_grid: willingness-to-pay values (euros per prevented case-year); default
                ``economics.wtp_grid_eur_per_case_year``.

        Returns:
            One row per willingness to pay: ``p_cost_effective`` (share of replicates with a
            positive net monetary benefit) and ``mean_nmb`` (euros).
        """
        grid = self.scenario.economics.wtp_grid_eur_per_case_year if wtp_grid is None else wtp_grid
        return ceac_table(self.summary, grid)

    def wsipp(self, level: float = 0.95) -> pd.DataFrame:
        """Per-participant benefits by stakeholder, costs, net, BCR, ROI (WSIPP layout)."""
        return wsipp_table(self.summary, self.scenario, level=level)

    def run_info(self) -> dict[str, Any]:
        """Provenance: versions, seed, replicates, threads and timings."""
        import numpy
        import pydantic

        return {
            "impactsim_version": __version__,
            "scenario": self.scenario.name,
            "seed": self.seed,
            "replicates": self.replicates,
            "population_size": self.scenario.population.size,
            "months": self.scenario.simulation.months,
            "numba_threads": numba.get_num_threads(),
            "replicate_workers": self.replicate_workers,
            "versions": {
                "numpy": numpy.__version__,
                "numba": numba.__version__,
                "pandas": pd.__version__,
                "pydantic": pydantic.__version__,
            },
            "timings_s": self.timings,
            **({} if self.posterior is None else {"posterior": self.posterior_info()}),
            "network": self.network,
        }

    def posterior_info(self) -> dict[str, Any]:
        """The posterior's file, SHA-256, parameters and the row each replicate drew."""
        if self.posterior is None:
            return {}
        numbers = sorted(int(r) for r in pd.unique(self.summary["replicate"]))
        return self.posterior.provenance(self.seed, numbers)

    def parameter_draws(self) -> pd.DataFrame:
        """Per replicate: the posterior row and the parameter values it ran with.

        Columns ``replicate``, ``row`` and one per parameter label; empty without a posterior.
        """
        if self.posterior is None:
            return pd.DataFrame({"replicate": [], "row": []})
        numbers = sorted(int(r) for r in pd.unique(self.summary["replicate"]))
        rows = [self.posterior.row(self.seed, r) for r in numbers]
        out = pd.DataFrame(self.posterior.values[rows], columns=self.posterior.labels)
        out.insert(0, "row", rows)
        out.insert(0, "replicate", numbers)
        return out

    def to_dir(self, path: str | Path) -> Path:
        """Write the run's tables, the resolved scenario, run.json and the economics tables.

        Files: summary (CSV and Parquet), summary_stats.csv, time series (Parquet),
        scenario.resolved.yaml, run.json, ceac.csv and wsipp.csv.

        Every file is written atomically (temporary file, then rename), and all of them
        into a staging directory moved into place at the end
        (:func:`impactsim.io.staged_directory`): an interruption leaves the previous
        outputs or none, never a mix and never a temporary file.
        """
        out = Path(path)
        with staged_directory(out) as stage:
            write_run_dir(self, stage)
        return out


def write_run_dir(result: RunResult, out: Path) -> Path:
    """Write a run's files to ``out``: :data:`impactsim.io.RUN_FILES`, ceac.csv and wsipp.csv.

    run.json, written last, records the run directory format and the SHA-256 of every other file
    (:func:`impactsim.runfiles.file_digest`), so that a reader detects a file changed
    after the run. Each file is written atomically; to replace a directory's files all
    at once, write into a :func:`~impactsim.io.staged_directory`.

    Args:
        result: the run.
        out: the directory (created when missing).

    Returns:
        ``out``.
    """
    out.mkdir(parents=True, exist_ok=True)
    written = [
        write_csv(out / "summary.csv", result.summary),
        write_parquet(out / "summary.parquet", result.summary),
        write_csv(out / "summary_stats.csv", result.summary_stats()),
        write_parquet(out / "timeseries.parquet", result.timeseries),
        write_text(out / "scenario.resolved.yaml", dump_scenario(result.scenario)),
        write_csv(out / "ceac.csv", result.ceac()),
        write_csv(out / "wsipp.csv", result.wsipp()),
    ]
    info = {
        "format": RUN_FORMAT,
        **result.run_info(),
        "sha256": {p.name: file_digest(p) for p in written},
    }
    write_text(out / "run.json", json.dumps(info, indent=2) + "\n")
    return out


def _interruption_in(err: BaseException) -> KeyboardInterrupt | None:
    """The KeyboardInterrupt among an exception's causes and contexts, if any."""
    seen: set[int] = set()
    node: BaseException | None = err
    while node is not None and id(node) not in seen:
        if isinstance(node, KeyboardInterrupt):
            return node
        seen.add(id(node))
        node = node.__cause__ or node.__context__
    return None


def run(
    scenario: Scenario,
    replicates: int | None = None,
    seed: int | None = None,
    *,
    first_replicate: int = 0,
    progress: bool | None = None,
    on_replicate: Callable[[int], None] | None = None,
    memory_limit: int | str | None = None,
    parallel: Parallel = "auto",
    posterior: Posterior | None = None,
    economics: bool = True,
) -> RunResult:
    """Run a scenario as a Monte Carlo experiment.

    Before anything is allocated, the run's memory is estimated
    (:func:`impactsim.resources.estimate_memory`) and a run above the limit is refused.
    Replicates run side by side, one per numba thread, when the memory allows it (see
    ``parallel``); the results are identical to one replicate at a time.

    Args:
        scenario: validated scenario (see :func:`impactsim.load_scenario`).
        replicates: number of replicates; default ``scenario.simulation.replicates``.
        seed: base seed; default ``scenario.simulation.seed``.
        first_replicate: number of the first replicate (to split a run into pieces).
        progress: show a progress bar; default: only when the run takes over a second.
        on_replicate: called with each finished replicate number.
        memory_limit: bytes, a size such as ``"8G"``, a share such as ``"75%"`` or ``"off"``;
            default ``$IMPACTSIM_MEMORY_LIMIT``, else half the memory available now.
        parallel: ``"parents"``: one replicate at a time, its parents split over the numba
            threads; ``"replicates"``: one replicate per numba thread, side by side;
            ``"auto"`` (default): side by side if the memory limit allows the replicates
            in flight, else one at a time.
        posterior: a calibrated posterior (:func:`impactsim.posterior.load_posterior`) as
            the source of parameter uncertainty: replicate ``r`` runs the scenario with the
            posterior row :meth:`~impactsim.posterior.Posterior.row` draws for ``(seed, r)``;
            every other random number is the one it would be without it. None (default):
            the scenario's own values, bit for bit as before.
        economics: add the economics rows (costs, benefits, ratios) to the summary;
            False leaves them out when no one reads them (a calibration's candidates),
            every other row unchanged.

    Returns:
        A :class:`RunResult`. The resolved scenario in it carries the seed and replicate
        count actually used.

    Raises:
        impactsim.resources.MemoryLimitError: the estimated memory exceeds the limit; the
            message says by how much and how to reduce it.
        ValueError: bad ``replicates``, ``seed``, ``memory_limit`` or ``parallel``.
        impactsim.inputs.ScenarioError: the posterior does not fit the scenario (a path
            it lacks, a value its schema refuses).
    """
    reps = scenario.simulation.replicates if replicates is None else int(replicates)
    base_seed = scenario.simulation.seed if seed is None else int(seed)
    if reps < 1:
        raise ValueError(f"replicates must be at least 1 (got {reps})")
    if not 0 <= base_seed <= MAX_SEED:
        raise ValueError(f"seed must be an integer from 0 to {MAX_SEED} (got {base_seed})")
    resolved = scenario.model_copy(
        update={
            "simulation": scenario.simulation.model_copy(
                update={"replicates": reps, "seed": base_seed}
            )
        }
    )
    workers = replicate_workers(reps, parallel)
    if workers > 1 and parallel == "auto":
        try:
            check_memory(resolved, reps, memory_limit, concurrent=workers)
        except MemoryLimitError:
            workers = 1  # one at a time may still fit: checked next
    numbers: Sequence[int] = range(first_replicate, first_replicate + reps)
    drawn = _posterior_scenarios(resolved, posterior, base_seed, numbers)
    check_memory(resolved, reps, memory_limit, concurrent=workers)
    t0 = time.perf_counter()
    spec = compile_scenario(resolved)
    per_rep = {r: (sc, compile_scenario(sc)) for r, sc in drawn.items()}
    if not engine_compiled():
        if progress is not False:
            print(COMPILING_MESSAGE, file=sys.stderr, flush=True)
        warm_up(spec)
    t1 = time.perf_counter()
    recordings: list[Recording] = []
    bar = tqdm(
        total=reps,
        desc=resolved.name,
        unit="rep",
        delay=0.0 if progress else 1.0,
        disable=(progress is False),
        leave=False,
    )

    def done(r: int, recording: Recording) -> None:
        recordings.append(recording)
        bar.update(1)
        if on_replicate is not None:
            on_replicate(r)

    try:
        _simulate_all(
            (lambda r: per_rep[r][1]) if per_rep else spec, base_seed, numbers, workers, done
        )
    except SystemError as err:
        # Ctrl-C handled while numba called back into Python surfaces as a SystemError
        # ("returned a result with an exception set") caused by the KeyboardInterrupt
        interrupt = _interruption_in(err)
        if interrupt is None:
            raise
        raise interrupt from None
    finally:
        bar.close()
    t2 = time.perf_counter()
    if per_rep:
        summary, timeseries = _posterior_tables(
            recordings, per_rep, resolved.name, base_seed, economics
        )
    else:
        summary, timeseries = summarise_places(recordings, spec, resolved.name, list(numbers))
        if economics:
            econ = economics_tables(recordings, spec, resolved, base_seed, list(numbers), summary)
            summary = categorical(concat_long([summary, *econ]))
    t3 = time.perf_counter()
    return RunResult(
        scenario=resolved,
        seed=base_seed,
        replicates=reps,
        summary=summary,
        timeseries=timeseries,
        recordings=recordings,
        spec=spec,
        timings={"compile_s": t1 - t0, "simulate_s": t2 - t1, "metrics_s": t3 - t2},
        replicate_workers=workers,
        posterior=posterior,
        first_replicate=first_replicate,
    )


def _posterior_scenarios(
    resolved: Scenario, posterior: Posterior | None, seed: int, numbers: Sequence[int]
) -> dict[int, Scenario]:
    """Each replicate's scenario with its posterior draw (empty without a posterior).

    Raises:
        impactsim.inputs.ScenarioError: the posterior does not fit the scenario.
    """
    if posterior is None:
        return {}
    bound = posterior.bind(resolved)
    return {r: bound.scenario(seed, r) for r in numbers}


def _posterior_tables(
    recordings: Sequence[Recording],
    per_rep: dict[int, tuple[Scenario, ModelSpec]],
    name: str,
    seed: int,
    economics: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Summary (with economics unless ``economics`` is False) and time series of replicates that each ran their own values.

    Each replicate's metrics and economics are computed with its own scenario (a drawn cost
    or value counts too); the tables have the layout of a run without a posterior.
    """
    summaries, series = [], []
    for (r, (sc, spec)), rec in zip(per_rep.items(), recordings, strict=True):
        s, t = summarise_places([rec], spec, name, [r])
        if economics:
            s = concat_long([s, *economics_tables([rec], spec, sc, seed, [r], s)])
        summaries.append(s)
        series.append(t)
    return categorical(concat_long(summaries)), concat_long(series)
