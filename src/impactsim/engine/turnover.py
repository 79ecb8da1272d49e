"""Population turnover (docs/model.md, "Population": turnover).

In each step a family leaves with probability ``1 - exp(-r_turnover dt)``: its exit step is
drawn ahead (:func:`impactsim.engine.clocks.set_clocks`), and at that step an entrant takes
the slot: segment, category and score drawn afresh (:func:`impactsim.population.draw_family`,
keyed by slot and entry step), no programme history, the slot's network ties.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from impactsim.engine.clocks import set_clocks
from impactsim.engine.counts import count_parent
from impactsim.engine.layout import (
    COMPLETED,
    DROPPED,
    ENROLLED,
    EV_ANY_EXIT,
    EV_EXIT,
    NONE,
    note_event,
)
from impactsim.engine.state import ChunkScratch, Interventions, Network, Parents, Population
from impactsim.population import draw_family, draw_outcome_scores


@nb.njit(cache=True, nogil=True, inline="always")
def replace_family(
    i: int,
    c: int,
    t: int,
    parents: Parents,
    population: Population,
    network: Network,
    interventions: Interventions,
    scratch: ChunkScratch,
    s_cnt: np.ndarray,
) -> None:
    """Family i leaves in step t (counted in chunk c) and an entrant takes its slot.

    The leaver is taken out of the stock counts and, if it took part in a programme of a
    network population, listed (``EV_EXIT``) so its neighbours' word-of-mouth counters
    drop; the entrant is counted in, with new clocks from step t (it acts from step t + 1).
    """
    segment, category, score = parents.segment, parents.category, parents.score
    status, t_event, ref_channel = parents.status, parents.t_event, parents.ref_channel
    cutoff, mic = population.cutoff, population.mic
    pop_keys = population.pop_keys
    n_iv = status.shape[1]
    old = segment[i]
    count_parent(
        i,
        c,
        np.int64(-1),
        segment,
        category,
        score,
        parents.first_channel,
        status,
        cutoff,
        mic,
        s_cnt,
    )
    mask = 0
    for k in range(n_iv):
        st = status[i, k]
        if st == ENROLLED or st == COMPLETED or st == DROPPED:
            mask |= 1 << k
            scratch.exit_sk[c, old, k] += 1
    if mask != 0 and not network.fully_mixed:
        parents.exit_mask[i] = mask
        note_event(scratch.events, scratch.flags, c, EV_EXIT, i)
    s_new, a_new, z_new = draw_family(
        pop_keys[0],
        pop_keys[1],
        pop_keys[2],
        pop_keys[3],
        i,
        t + 1,
        population.seg_cum[population.nbh[i]],
        population.cat_cum,
        population.seg_mu,
    )
    segment[i] = s_new
    category[i] = a_new
    score[i] = z_new
    if parents.x_score.shape[0] > 0:
        draw_outcome_scores(
            pop_keys[2],
            pop_keys[3],
            population.x_keys,
            population.out_chol,
            population.x_mu,
            np.int64(i),
            np.int64(t + 1),
            np.int64(s_new),
            parents.x_score,
        )
        for k in range(n_iv):
            parents.unit_effect[i, k] = 0.0
            parents.unit_spill[i, k] = 0.0
    parents.first_channel[i] = -1
    parents.adopt_step[i] = -1
    scratch.seg_delta[c, old] -= 1
    scratch.seg_delta[c, s_new] += 1
    scratch.flags[c, EV_ANY_EXIT] += 1
    for k in range(n_iv):
        status[i, k] = NONE
        t_event[i, k] = 0
        ref_channel[i, k] = -1
        parents.effect[i, k] = 0.0
        parents.spill[i, k] = 0.0
    set_clocks(
        np.int64(i),
        np.int64(t),
        np.int64(s_new),
        np.int64(a_new),
        np.float64(z_new),
        parents.t_exit,
        parents.t_next,
        parents.t_due,
        population.turn_rate,
        pop_keys[4],
        interventions.follow_after,
        interventions.score_gate,
        interventions.cand_none,
        interventions.cand_aware,
        interventions.iv_keys,
    )
    parents.has_gain[i] = 0
    parents.eff_on[i] = 0
    count_parent(
        i,
        c,
        np.int64(1),
        segment,
        category,
        score,
        parents.first_channel,
        status,
        cutoff,
        mic,
        s_cnt,
    )
