"""Monte Carlo runner: replicates of a scenario, with the counterfactual built in.

Each replicate ``r`` of a run with base seed ``seed`` uses the key
``SeedSequence(seed, spawn_key=(r,))``; inside it named streams give common
random numbers (see :mod:`impactsim.rng`). Running replicates 0..R-1 in one call
or in pieces gives the same numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba
import pandas as pd
from tqdm.auto import tqdm

from impactsim._version import __version__
from impactsim.economics import ceac_table, concat_long, economics_rows, wsipp_table
from impactsim.engine.simulate import Recording, simulate_replicate
from impactsim.engine.spec import ModelSpec, compile_scenario
from impactsim.metrics import interval_table, summarise
from impactsim.resources import check_memory
from impactsim.rng import replicate_key
from impactsim.scenario import Scenario


@dataclass
class RunResult:
    """Result of a Monte Carlo run.

    Attributes:
        scenario: the fully resolved scenario that was run.
        seed: base seed used.
        replicates: number of replicates.
        summary: per-replicate horizon metrics incl. economics (docs/economics.md), long format
            (columns scenario, replicate,
            metric, segment, intervention, channel, adopter_category, value).
        timeseries: per-replicate monthly metrics, long format (with a month column).
        recordings: raw counts per replicate (for economics and custom metrics).
        timings: seconds spent compiling and simulating.
    """

    scenario: Scenario
    seed: int
    replicates: int
    summary: pd.DataFrame
    timeseries: pd.DataFrame
    recordings: list[Recording] = field(repr=False)
    spec: ModelSpec = field(repr=False)
    timings: dict[str, float] = field(default_factory=dict)

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
        df = self.summary
        sel = df["metric"] == name
        for col in ("segment", "intervention", "channel", "adopter_category"):
            sel &= df[col] == where.get(col, "all")
        return df.loc[sel].set_index("replicate")["value"]

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
            "versions": {
                "numpy": numpy.__version__,
                "numba": numba.__version__,
                "pandas": pd.__version__,
                "pydantic": pydantic.__version__,
            },
            "timings_s": self.timings,
        }

    def to_dir(self, path: str | Path) -> Path:
        """Write the run's tables, the resolved scenario, run.json and the economics tables.

        Files: summary (CSV and Parquet), summary_stats.csv, time series (Parquet),
        scenario.resolved.yaml, run.json, ceac.csv and wsipp.csv.

        Every file is written atomically (temporary file, then rename), and all of them
        into a staging directory moved into place at the end
        (:func:`impactsim.io.staged_directory`): an interruption leaves the previous
        outputs or none, never a mix and never a temporary file.
        """
        from impactsim.io import staged_directory, write_csv, write_run_dir

        out = Path(path)
        with staged_directory(out) as stage:
            write_run_dir(self, stage)
            write_csv(stage / "ceac.csv", self.ceac())
            write_csv(stage / "wsipp.csv", self.wsipp())
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
) -> RunResult:
    """Run a scenario as a Monte Carlo experiment.

    Before anything is allocated, the run's memory is estimated
    (:func:`impactsim.resources.estimate_memory`) and a run above the limit is refused.

    Args:
        scenario: validated scenario (see :func:`impactsim.load_scenario`).
        replicates: number of replicates; default ``scenario.simulation.replicates``.
        seed: base seed; default ``scenario.simulation.seed``.
        first_replicate: number of the first replicate (to split a run into pieces).
        progress: show a progress bar; default: only when the run takes over a second.
        on_replicate: called with each finished replicate number.
        memory_limit: bytes, a size such as ``"8G"``, a share such as ``"75%"`` or ``"off"``;
            default ``$IMPACTSIM_MEMORY_LIMIT``, else half the memory available now.

    Returns:
        A :class:`RunResult`. The resolved scenario in it carries the seed and replicate
        count actually used.

    Raises:
        impactsim.resources.MemoryLimitError: the estimated memory exceeds the limit; the
            message says by how much and how to reduce it.
        ValueError: bad ``replicates``, ``seed`` or ``memory_limit``.
    """
    reps = scenario.simulation.replicates if replicates is None else int(replicates)
    base_seed = scenario.simulation.seed if seed is None else int(seed)
    if reps < 1:
        raise ValueError(f"replicates must be at least 1 (got {reps})")
    if base_seed < 0:
        raise ValueError(f"seed must be a non-negative integer (got {base_seed})")
    resolved = scenario.model_copy(
        update={
            "simulation": scenario.simulation.model_copy(
                update={"replicates": reps, "seed": base_seed}
            )
        }
    )
    check_memory(resolved, reps, memory_limit)
    t0 = time.perf_counter()
    spec = compile_scenario(resolved)
    t1 = time.perf_counter()
    numbers: Sequence[int] = range(first_replicate, first_replicate + reps)
    recordings: list[Recording] = []
    bar = tqdm(
        numbers,
        desc=resolved.name,
        unit="rep",
        delay=0.0 if progress else 1.0,
        disable=(progress is False),
        leave=False,
    )
    try:
        for r in bar:
            recordings.append(simulate_replicate(spec, replicate_key(base_seed, r)))
            if on_replicate is not None:
                on_replicate(r)
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
    summary, timeseries = summarise(recordings, spec, resolved.name, list(numbers))
    econ = economics_rows(recordings, spec, resolved, base_seed, list(numbers))
    summary = concat_long([summary, econ])
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
    )
