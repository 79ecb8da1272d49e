"""Awareness and uptake (docs/model.md, "Awareness and uptake").

A parent's candidate steps for a programme (not aware, or aware through a channel):
the hazards of awareness through channels, channel referral, word of mouth and
follow-up referral, thinning against the bounding rate, the score threshold of indicated
programmes, and which of the competing hazards fired.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from impactsim.engine.clocks import schedule_uptake
from impactsim.engine.counts import move_status
from impactsim.engine.effects import parent_gain
from impactsim.engine.layout import AWARE, COMPLETED, ENROLLED, EV_BOUND, NEVER, NONE, WAITING
from impactsim.engine.participation import join
from impactsim.engine.state import (
    Channels,
    ChunkScratch,
    Interventions,
    Network,
    Parents,
    Population,
    Providers,
    Step,
)
from impactsim.rng import uniform

#: ``1 - exp(-x)`` computed in floating point is at most ``x (1 + 2.3e-16)``; a draw at or
#: above ``x * REJECT_MARGIN`` is certainly rejected, so p need not be computed.
REJECT_MARGIN = 1.0 + 1e-12


#: A hazard may exceed its bounding rate by rounding only.
BOUND_SLACK = 1.0 + 1e-9


@nb.njit(cache=True, nogil=True, inline="always")
def uptake_hazards(
    i: int,
    k: int,
    t: int,
    st: int,
    s: int,
    a: int,
    step: Step,
    parents: Parents,
    population: Population,
    network: Network,
    channels: Channels,
    interventions: Interventions,
) -> tuple:
    """The hazards (per month) of parent i's next change for k, and whether k is open to it.

    ``h_aw``: awareness through the channels that promote k now (only when not aware);
    ``h_ch``: referral by the channel that made the parent aware (only when aware);
    ``h_wom``: word of mouth, the imitation hazard times the share of neighbours (or, fully
    mixed, of the segment's mix) who took part, when that share reaches the adopter
    category's social-proof threshold; ``h_fu``: follow-up referral. Terms that do not
    apply are multiplied by 0 (exact: the same sum as leaving them out).

    Returns:
        ``(open_, h_aw, h_ch, h_wom, h_fu)``.
    """
    iv = interventions
    status, t_event, ref_channel = parents.status, parents.t_event, parents.ref_channel
    fa = iv.follow_after[k]
    open_ = (st <= AWARE) & iv.elig_seg[k, s]
    if fa != -1:
        if fa < 0 or status[i, fa] != COMPLETED:
            open_ = False
        else:
            # completed before this step (synchronous update: a completion in this step
            # does not count yet) and at least the delay ago
            t_fa = t_event[i, fa]
            open_ &= (t_fa < t) & (t >= t_fa + iv.follow_delay_steps[k])
    h_aw = step.aw_hz[s, a, k] * (st == NONE)
    h_ch = population.cat_ch_mult[a] * channels.chan_ref[ref_channel[i, k]] * (st == AWARE)
    h_fu = iv.follow_ref_hz[k] if fa >= 0 else 0.0
    h_wom = 0.0
    if iv.q_imit[k] > 0.0:
        if network.fully_mixed:
            f = step.mf_share[s, k]
        else:
            nbr_off = network.nbr_off
            deg = nbr_off[i + 1] - nbr_off[i]
            f = parents.wom_count[i, k] / deg if deg > 0 else 0.0
        h_wom = (
            population.cat_im_mult[a]
            * iv.q_imit[k]
            * f
            * ((f > 0.0) & (f >= population.cat_threshold[a]))
        )
    return open_, h_aw, h_ch, h_wom, h_fu


@nb.njit(cache=True, nogil=True, inline="always")
def become_aware(
    i: int,
    k: int,
    c: int,
    t: int,
    st: int,
    s: int,
    a: int,
    h_aw: float,
    step: Step,
    parents: Parents,
    channels: Channels,
    interventions: Interventions,
    s_cnt: np.ndarray,
) -> None:
    """Parent i becomes aware of k through a channel, chosen in proportion to its contacts."""
    v = uniform(interventions.iv_keys[k, 1], i, t) * h_aw
    contact_hz, chan_cat = channels.contact_hz, channels.chan_cat
    acc = 0.0
    ch = -1
    for cc in range(contact_hz.shape[1]):
        if step.promote_now[cc, k] and chan_cat[cc, a] and contact_hz[s, cc] > 0.0:
            acc += contact_hz[s, cc]
            ch = cc
            if v < acc:
                break
    move_status(s_cnt, c, k, parents.status.shape[1], s, st, AWARE)
    parents.status[i, k] = AWARE
    parents.t_event[i, k] = t
    parents.ref_channel[i, k] = ch
    if parents.first_channel[i] < 0:
        parents.first_channel[i] = ch


@nb.njit(cache=True, nogil=True, inline="always")
def candidate_step(
    i: int,
    k: int,
    c: int,
    t: int,
    st: int,
    s: int,
    a: int,
    step: Step,
    parents: Parents,
    population: Population,
    network: Network,
    channels: Channels,
    interventions: Interventions,
    providers: Providers,
    scratch: ChunkScratch,
    s_cnt: np.ndarray,
) -> None:
    """A candidate step of parent i (not aware or aware, ``st``) for intervention k at step t.

    Candidates come at the bounding rate of the parent's state; a candidate is accepted
    with probability ``p_t / p_max`` (thinning, :mod:`impactsim.engine.clocks`), so every
    step has the probability ``p_t = 1 - exp(-h dt)`` of the hazards' sum ``h``
    (:func:`uptake_hazards`). An indicated programme's score threshold is checked only
    when the step fires (the outcome of a draw that does not fire is the same whether or
    not the parent is eligible). Which hazard fired is drawn in proportion to their sizes
    (competing risks): awareness (:func:`become_aware`) or a decision to enrol
    (:func:`~impactsim.engine.participation.join`). Then the next candidate is drawn,
    unless the parent waits or is enrolled.
    """
    iv = interventions
    ref_channel = parents.ref_channel
    new_st = st
    if step.offered_now[k]:  # the same for every parent: predictable branches
        open_, h_aw, h_ch, h_wom, h_fu = uptake_hazards(
            i, k, t, st, s, a, step, parents, population, network, channels, iv
        )
        dt = population.dt
        hz = h_aw + h_ch + h_wom + h_fu
        if st == NONE:
            rate = iv.cand_none[s, a, k]
            p_max = iv.pmax_none[s, a, k]
        else:
            rate = iv.cand_aware[a, ref_channel[i, k], k]
            p_max = iv.pmax_aware[a, ref_channel[i, k], k]
        if hz * open_ * dt > rate * BOUND_SLACK:
            scratch.flags[c, EV_BOUND] += 1  # the bound is wrong: a bug (raised later)
        # thinning: u is uniform on [0, p_max); the step fires when u < p_t
        u = uniform(iv.iv_keys[k, 0], i, t) * p_max
        # 1 - exp(-x) <= x: most draws are rejected without computing p
        if u < hz * open_ * dt * REJECT_MARGIN:
            if h_wom == 0.0 and h_fu == 0.0:
                # one hazard alone: its step probability is tabulated (same value)
                p = step.p_aw[s, a, k] if st == NONE else channels.p_ch[a, ref_channel[i, k]]
            else:
                p = -math.expm1(-hz * dt)
            fire = u < p
            if fire and iv.elig_min_score[k] > -np.inf:
                fire = parents.score[i] - gain_before(i, t, parents, iv) > iv.elig_min_score[k]
            if fire:
                x = u / p * hz
                if x < h_aw:
                    become_aware(i, k, c, t, st, s, a, h_aw, step, parents, channels, iv, s_cnt)
                    new_st = AWARE
                else:
                    n_ch = channels.contact_hz.shape[1]
                    if x < h_aw + h_ch:
                        via = ref_channel[i, k]
                    elif x < h_aw + h_ch + h_wom:
                        via = n_ch  # word of mouth
                    else:
                        via = n_ch + 1  # follow-up referral
                    new_st = join(
                        i, k, c, t, s, st, via, step, parents, iv, providers, scratch, s_cnt
                    )
    if new_st == WAITING:
        parents.t_next[i, k] = NEVER  # the waiting list decides what happens next
    elif new_st != ENROLLED:  # an enrolment has set its next step
        schedule_uptake(
            np.int64(i),
            np.int64(k),
            np.int64(t),
            np.int64(s),
            np.int64(a),
            np.int64(new_st),
            np.int64(ref_channel[i, k]),
            iv.iv_keys[k, 5],
            iv.cand_none,
            iv.cand_aware,
            parents.t_next,
        )


@nb.njit(cache=True, nogil=True, inline="always")
def gain_before(i: int, t: int, parents: Parents, interventions: Interventions) -> float:
    """Parent i's gain at the end of the previous step (0 for a parent without a gain).

    Changes made in step t (a completion or dropout stamped t) do not count yet.
    """
    if not parents.has_gain[i]:
        return 0.0
    iv = interventions
    return parent_gain(
        i,
        t,
        parents.status.shape[1],
        parents.status,
        parents.t_event,
        parents.effect,
        parents.spill,
        iv.decay_tab,
        iv.sleeper_steps,
        iv.gamma,
        iv.has_gamma,
    )
