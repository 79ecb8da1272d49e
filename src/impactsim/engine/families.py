"""A replicate's families and their network, and what the network looks like.

The families (segment, adopter category, score) are drawn per slot from the slot's
neighbourhood mix (:func:`impactsim.population.draw_families`); the network is built by
the scenario's kind: ``random`` (:func:`impactsim.population.build_network`),
``small_world`` (:func:`impactsim.small_world.build_small_world`) or none
(``fully_mixed``).
"""

from __future__ import annotations

import numpy as np

from impactsim.engine.spec import ModelSpec, ReplicateDraws, draw_replicate
from impactsim.engine.state import Population
from impactsim.network_stats import network_stats
from impactsim.population import build_network, draw_families
from impactsim.small_world import SmallWorld, build_small_world


def replicate_population(spec: ModelSpec, draws: ReplicateDraws) -> Population:
    """The replicate's population parameters, with its keys for families and turnover."""
    pop_keys = np.array(
        [draws.keys[k] for k in ("segment", "category", "za", "zb", "turnover")], dtype=np.uint64
    )
    return Population(
        float(-np.log1p(-spec.p_turnover)),
        pop_keys,
        spec.seg_cum,
        spec.nbh_slot,
        spec.cat_cum,
        spec.seg_mu,
        spec.cat_ch_mult,
        spec.cat_im_mult,
        spec.cat_threshold,
        spec.cutoff,
        spec.mic,
        spec.dt,
        spec.steps_per_month,
        draws.x_keys,
        spec.x_mu,
        spec.out_chol,
        spec.x_cutoff,
        spec.x_mic,
    )


def draw_population(
    spec: ModelSpec, draws: ReplicateDraws, population: Population
) -> dict[str, np.ndarray]:
    """The replicate's initial families: ``segment``, ``category`` and ``score`` per slot."""
    keys = population.pop_keys
    segment, category, score = draw_families(
        keys[0], keys[1], keys[2], keys[3], population.nbh, spec.seg_cum, spec.cat_cum, spec.seg_mu
    )
    return {"segment": segment, "category": category, "score": score}


def replicate_network(
    spec: ModelSpec, draws: ReplicateDraws, segment: np.ndarray, nbh: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The replicate's network as CSR ``(offsets, neighbours)``; no ties when fully mixed.

    ``segment`` holds the families' cells (:mod:`impactsim.engine.places`); homophily and
    relative degrees are by segment, so the network is built on the cells' segments.
    """
    if spec.network_kind == "fully_mixed":
        return np.zeros(segment.shape[0] + 1, np.int64), np.zeros(0, np.int32)
    if spec.neighbourhood_names:
        segment = spec.cell_segment[segment].astype(np.int8)
    if spec.network_kind == "small_world":
        settings = SmallWorld(
            spec.mean_degree, spec.rewiring, spec.between_neighbourhoods, spec.homophily
        )
        return build_small_world(segment, nbh, settings, draws.keys["small_world"])
    return build_network(
        segment,
        spec.mean_degree,
        spec.homophily,
        spec.relative_degree[: spec.n_segments],
        draws.keys["network"],
    )


def network_summary(spec: ModelSpec, rep_key: int) -> dict[str, float | str | None]:
    """The network of the replicate with key ``rep_key``: its kind and realised statistics.

    Rebuilds the replicate's families and network (the same arrays the replicate used) and
    returns ``kind`` with :func:`impactsim.network_stats.network_stats` (only ``kind`` for a
    fully mixed population, which has no ties; None for a statistic not defined).
    """
    if spec.network_kind == "fully_mixed":
        return {"kind": spec.network_kind}
    draws = draw_replicate(spec, rep_key)
    population = replicate_population(spec, draws)
    cell = draw_population(spec, draws, population)["segment"]
    offsets, nbrs = replicate_network(spec, draws, cell, population.nbh)
    stats = network_stats(offsets, nbrs, spec.cell_segment[cell], population.nbh)
    # JSON has no NaN: a statistic without ties is written as null
    return {"kind": spec.network_kind} | {k: None if v != v else v for k, v in stats.items()}
