"""Small scenario builders for the tests, and one replicate's engine bundles for kernel tests."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from impactsim.loading import parse_scenario
from impactsim.scenario import Scenario
from impactsim.validation import NEUTRAL_CATEGORIES, base_scenario_dict  # noqa: F401 - re-exported


def base_dict(size: int = 2000, months: int = 12, prevalence: float = 0.15) -> dict[str, Any]:
    """One segment, one 'campaign' channel that reaches everyone at once, one unlimited provider,
    and one intervention 'prog' (d=0.4, 1 month, no dropout, no decay) that everyone enrols in.

    The analytic validation cases use the same scenario (impactsim.validation).
    """
    d = base_scenario_dict(size=size, months=months, prevalence=prevalence)
    d["name"] = "test"
    d["simulation"].update(replicates=2, seed=7)
    return d


#: Three neighbourhoods of two segments (low 0.38, high 0.62: the shares the mixes imply).
PLACE_MIX = {
    "north": {"low": 0.1, "high": 0.9},
    "centre": {"low": 0.4, "high": 0.6},
    "south": {"low": 0.8, "high": 0.2},
}
PLACE_SHARES = {"north": 0.4, "centre": 0.35, "south": 0.25}


def three_places_dict(
    size: int, months: int, kind: str = "small_world", turnover: float = 0.0
) -> dict[str, Any]:
    """base_dict in three neighbourhoods (:data:`PLACE_SHARES`, :data:`PLACE_MIX`).

    Segments low (baseline prevalence 0.25) and high (0.10); a small-world network of
    degree 6 (rewiring 0.1, 5 % of ties between neighbourhoods) or ``kind`` with degree 6.
    """
    d = base_dict(size=size, months=months)
    seg = d["population"]["segments"][0]
    low = seg | {"name": "low", "share": 0.38, "baseline_prevalence": 0.25}
    high = seg | {"name": "high", "share": 0.62, "baseline_prevalence": 0.10}
    d["population"]["segments"] = [low, high]
    d["population"]["neighbourhoods"] = [
        {"name": h, "share": PLACE_SHARES[h], "segment_mix": PLACE_MIX[h]} for h in PLACE_SHARES
    ]
    d["population"]["network"] = {"kind": kind, "mean_degree": 6, "homophily": 0.5}
    if kind == "small_world":
        d["population"]["network"] |= {"rewiring": 0.1, "between_neighbourhoods": 0.05}
    d["population"]["turnover_rate_per_month"] = turnover
    return d


def build(d: dict[str, Any]) -> Scenario:
    return parse_scenario(copy.deepcopy(d), "<test>")


def metric(result, name: str, **where: str) -> float:
    """Mean over replicates of one summary metric."""
    return float(result.metric(name, **where).mean())


def ts(result, name: str, month: int, **where: str) -> float:
    """Mean over replicates of one time-series metric at a month."""
    df = result.timeseries
    sel = (df["metric"] == name) & (df["month"] == month)
    for col in ("segment", "intervention", "channel", "adopter_category"):
        sel &= df[col] == where.get(col, "all")
    return float(df.loc[sel, "value"].mean())


# --- the engine's bundles, for unit tests of its kernels --------------------------------


@dataclass
class Engine:
    """One replicate's bundles as ``simulate`` builds them, before the first step."""

    spec: Any
    draws: Any
    population: Any
    parents: Any
    network: Any
    channels: Any
    interventions: Any
    providers: Any
    records: Any
    bounds: np.ndarray
    scratch: Any

    def chunk_of(self, i: int) -> int:
        """The chunk of parent i (the fixed partition ``simulate.chunk_bounds``)."""
        return int(np.searchsorted(self.bounds, i, side="right") - 1)

    def step(self, t: int, direct_prov=None, mf_share=None, measure_now: bool = False):
        """The ``Step`` bundle of step t, as ``steps.run_steps`` makes it (same dtypes)."""
        from impactsim.engine.state import Step

        reg = self.channels.regime_of_step[t]
        n_seg, n_iv = self.spec.n_segments, self.spec.n_interventions
        prov = np.full(n_iv, -1, np.int64) if direct_prov is None else direct_prov
        share = np.zeros((n_seg, n_iv)) if mf_share is None else mf_share
        return Step(
            int(t),
            self.channels.r_aw_hz[reg],
            self.channels.r_p_aw[reg],
            self.channels.r_promote[reg],
            self.channels.r_offered[reg],
            np.ascontiguousarray(share, np.float64),
            np.ascontiguousarray(prov, np.int64),
            bool(measure_now),
        )

    def recount(self) -> np.ndarray:
        """The stock counts [row, S] of the current state, counted from scratch."""
        cnt = np.zeros_like(self.records.s_cnt)
        self._count_into(cnt)
        return cnt.sum(axis=0)

    def restart_counts(self) -> None:
        """Set the stock counts to a recount of the state (after the state was set by hand)."""
        self.records.s_cnt[...] = 0
        self._count_into(self.records.s_cnt)

    def counts(self) -> np.ndarray:
        """The stock counts [row, S] the kernels kept, summed over their slots."""
        return self.records.s_cnt.sum(axis=0)

    def _count_into(self, cnt: np.ndarray) -> None:
        from impactsim.engine.counts import count_all

        p = self.parents
        count_all(
            self.bounds,
            p.segment,
            p.category,
            p.score,
            p.first_channel,
            p.status,
            self.spec.cutoff,
            self.spec.mic,
            cnt,
        )


def new_scratch(n_chunks: int, n_iv: int, n_seg: int, n_x: int = 0):
    """An empty ``ChunkScratch``, as ``steps.run_steps`` allocates it (same dtypes)."""
    from impactsim.engine.layout import EVENT_LIST_CAPACITY, N_FLAGS, N_M_ROWS, N_X_ROWS
    from impactsim.engine.state import ChunkScratch

    return ChunkScratch(
        np.zeros((n_chunks, n_iv, n_seg), np.int64),
        np.zeros((n_chunks, n_iv, n_seg), np.int64),
        np.zeros((n_chunks, n_seg, n_iv), np.int64),
        np.zeros((n_chunks, n_seg), np.int64),
        np.zeros((n_chunks, N_FLAGS), np.int64),
        np.zeros((n_chunks, 3, EVENT_LIST_CAPACITY), np.int64),
        np.zeros((n_chunks, n_iv, n_seg), np.int64),
        np.zeros((n_chunks, n_iv), np.int64),
        np.zeros((n_chunks, N_M_ROWS, n_seg), np.int64),
        np.zeros((n_chunks, n_seg)),
        np.zeros((n_chunks, n_x, N_X_ROWS, n_seg), np.int64),
        np.zeros((n_chunks, n_x, n_seg)),
    )


def engine_bundles(d: dict[str, Any], seed: int = 1) -> Engine:
    """Compile scenario ``d`` and build replicate 0's bundles with the ``simulate`` builders.

    The clocks are started and the stock counts taken as ``simulate_replicate`` does before
    its first step.
    """
    from impactsim.engine import simulate as sim
    from impactsim.engine.spec import compile_scenario
    from impactsim.rng import replicate_key

    spec = compile_scenario(build(d))
    draws, population, parents, network, channels, iv, providers, bounds, records = (
        sim._new_replicate(spec, replicate_key(seed, 0))
    )
    scratch = new_scratch(
        bounds.shape[0] - 1, spec.n_interventions, spec.n_segments, len(spec.outcome_names) - 1
    )
    eng = Engine(
        spec, draws, population, parents, network, channels, iv, providers, records, bounds, scratch
    )
    eng.restart_counts()
    return eng


def busy_sweep_dict(name: str, metrics: list[str]) -> dict[str, Any]:
    """12 tasks of about a second each: some are running when the driver is stopped.

    For the tests that interrupt or kill a sweep's driver (test_interrupt, test_orphans).
    """
    return {
        "name": name,
        "base": base_dict(size=12_000, months=24),
        "parameters": [
            {
                "path": "interventions.prog.effect_size.mean",
                "name": "effect",
                "values": [0.2, 0.3, 0.4, 0.5],
            }
        ],
        "sampler": {"method": "grid"},
        "replicates": 6,
        "replicates_per_task": 2,
        "seed": 11,
        "outputs": {"metrics": metrics},
    }


def tiny_sweep_dict(**over: Any) -> dict[str, Any]:
    """A sweep of 3 points x 2 replicates, one replicate per task (6 tasks of ~0.05 s each).

    For the tests of damaged sweep directories (tests/test_sweep_integrity.py, _fuzz.py).
    """
    d: dict[str, Any] = {
        "name": "tiny",
        "base": base_dict(size=100, months=3),
        "parameters": [
            {
                "path": "interventions.prog.effect_size.mean",
                "name": "effect",
                "values": [0.2, 0.4, 0.6],
            }
        ],
        "sampler": {"method": "grid"},
        "replicates": 2,
        "replicates_per_task": 1,
        "seed": 1,
        "outputs": {"metrics": ["public_impact_pp", "reach_cumulative"]},
    }
    d.update(over)
    return d
