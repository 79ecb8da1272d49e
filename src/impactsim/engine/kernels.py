"""Numba kernels of one time step. They take arrays and scalars only.

A step ``t`` covers the time ``[t*dt, (t+1)*dt)`` months and runs these phases:

1. :func:`step_providers` (sequential, tiny): organisations adopt or drop programmes.
2. :func:`step_parents` (parallel over fixed chunks of parents): turnover, completion
   and dropout of enrolled parents, awareness through channels, and the decision to
   enrol (channel referral, word of mouth, follow-up referral) which puts a parent
   on the programme's waiting list.
3. :func:`step_sequential` (sequential, touches only flagged parents): word-of-mouth
   counters of leavers are removed, completers pass spillover to neighbours, new
   waiting-list entries are appended in random order, places are allocated first
   come first served, and parents who waited too long give up.
4. :func:`measure` (parallel, at month ends): counts for every recorded metric.

Parallel kernels write only to their own parent rows and to per-chunk partial
arrays; chunks are fixed by the population size, not by the thread count, and
all randomness is keyed by (stream, parent, step), so results are bit-identical
for any number of threads.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from impactsim.population import draw_family
from impactsim.rng import uniform

# Status of a parent for one intervention.
NONE = 0  # not aware
AWARE = 1  # made aware by a channel, not (yet) enrolled
WAITING = 2  # wants to enrol, on the waiting list
ENROLLED = 3  # taking part
COMPLETED = 4  # finished the programme
DROPPED = 5  # dropped out
GAVE_UP = 6  # left the waiting list without a place

# Provider organisation state for one intervention.
P_NOT = 0
P_OFFERING = 1
P_STOPPED = 2


@nb.njit(cache=True, inline="always")
def effect_now(
    i: int,
    k: int,
    now: int,
    status: np.ndarray,
    t_event: np.ndarray,
    effect: np.ndarray,
    decay_tab: np.ndarray,
    sleeper_steps: np.ndarray,
) -> float:
    """Effect of intervention k on parent i at the end of step ``now - 1`` (SD units).

    A completer (or dropout, with a dose-scaled effect) stamped at step ``t_e`` has
    effect ``e * decay(now - 1 - t_e - sleeper)`` once that lag is >= 0, else 0.
    """
    st = status[i, k]
    if st != COMPLETED and st != DROPPED:
        return 0.0
    lag = now - 1 - np.int64(t_event[i, k]) - sleeper_steps[k]
    if lag < 0:
        return 0.0
    return effect[i, k] * decay_tab[k, lag]


@nb.njit(cache=True)
def parent_gain(
    i: int,
    now: int,
    n_iv: int,
    status: np.ndarray,
    t_event: np.ndarray,
    effect: np.ndarray,
    spill: np.ndarray,
    decay_tab: np.ndarray,
    sleeper_steps: np.ndarray,
    gamma: np.ndarray,
    has_gamma: bool,
) -> float:
    """Total reduction of parent i's problem score (SD units).

    ``sum_k g_k + sum_{k<l} gamma_kl * min(g_k, g_l) + sum_k spill_k``, where the
    interaction term applies only when both effects are positive.
    """
    total = 0.0
    for k in range(n_iv):
        gk = effect_now(i, k, now, status, t_event, effect, decay_tab, sleeper_steps)
        total += gk + spill[i, k]
        if has_gamma and gk > 0.0:
            for m in range(k + 1, n_iv):
                if gamma[k, m] != 0.0:
                    gm = effect_now(i, m, now, status, t_event, effect, decay_tab, sleeper_steps)
                    if gm > 0.0:
                        total += gamma[k, m] * min(gk, gm)
    return total


@nb.njit(cache=True)
def step_providers(
    t: int,
    prov_state: np.ndarray,
    prov_type: np.ndarray,
    type_counts: np.ndarray,
    prov_may_offer: np.ndarray,
    offer_start: np.ndarray,
    offer_end: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    p_stop: np.ndarray,
    init_share: np.ndarray,
    prov_keys: np.ndarray,
    dt: float,
    adopt_new: np.ndarray,
) -> None:
    """Provider organisations adopt (Bass among same-type organisations) or discontinue.

    Adoption hazard of a non-offering organisation of type p for intervention k:
    ``alpha_p + beta_p * (share of type p offering k)``; an offering organisation stops
    for good with per-step probability ``p_stop``. At the offer's start a share
    ``init_share`` of organisations already offers it. ``adopt_new[k]`` is incremented
    for each adoption.
    """
    n_prov, n_iv = prov_state.shape
    n_types = type_counts.shape[0]
    offering = np.zeros(n_types, np.int64)
    for k in range(n_iv):
        if t < offer_start[k]:
            continue
        if t >= offer_end[k]:
            for p in range(n_prov):
                if prov_state[p, k] == P_OFFERING:
                    prov_state[p, k] = P_STOPPED
            continue
        offering[:] = 0
        for p in range(n_prov):
            if prov_state[p, k] == P_OFFERING:
                offering[prov_type[p]] += 1
        for p in range(n_prov):
            if not prov_may_offer[p, k]:
                continue
            st = prov_state[p, k]
            if st == P_NOT:
                if t == offer_start[k] and uniform(prov_keys[k, 2], p, 0) < init_share[p]:
                    prov_state[p, k] = P_OFFERING
                    adopt_new[k] += 1
                    continue
                share = offering[prov_type[p]] / type_counts[prov_type[p]]
                hz = alpha[p] + beta[p] * share
                if hz > 0.0 and uniform(prov_keys[k, 0], p, t) < -math.expm1(-hz * dt):
                    prov_state[p, k] = P_OFFERING
                    adopt_new[k] += 1
            elif st == P_OFFERING:
                if p_stop[p] > 0.0 and uniform(prov_keys[k, 1], p, t) < p_stop[p]:
                    prov_state[p, k] = P_STOPPED


@nb.njit(cache=True, parallel=True)
def step_parents(
    t: int,
    bounds: np.ndarray,
    # parent state
    segment: np.ndarray,
    category: np.ndarray,
    score: np.ndarray,
    first_channel: np.ndarray,
    adopt_step: np.ndarray,
    status: np.ndarray,
    t_event: np.ndarray,
    ref_channel: np.ndarray,
    effect: np.ndarray,
    spill: np.ndarray,
    wom_count: np.ndarray,
    exit_mask: np.ndarray,
    done_mask: np.ndarray,
    join_mask: np.ndarray,
    nbr_off: np.ndarray,
    fully_mixed: bool,
    mf_share: np.ndarray,
    # population
    p_turnover: float,
    pop_keys: np.ndarray,
    seg_cum: np.ndarray,
    cat_cum: np.ndarray,
    seg_mu: np.ndarray,
    # adopter categories
    cat_ch_mult: np.ndarray,
    cat_im_mult: np.ndarray,
    cat_threshold: np.ndarray,
    # channels at this step
    aw_hz: np.ndarray,
    contact_hz: np.ndarray,
    chan_cat: np.ndarray,
    promote_now: np.ndarray,
    chan_ref: np.ndarray,
    # interventions
    offered_now: np.ndarray,
    dur_steps: np.ndarray,
    p_drop: np.ndarray,
    elig_seg: np.ndarray,
    elig_min_score: np.ndarray,
    follow_after: np.ndarray,
    follow_delay_steps: np.ndarray,
    follow_ref_hz: np.ndarray,
    q_imit: np.ndarray,
    spill_on: np.ndarray,
    spill_decay_step: np.ndarray,
    decay_tab: np.ndarray,
    sleeper_steps: np.ndarray,
    gamma: np.ndarray,
    has_gamma: bool,
    any_spill: bool,
    iv_keys: np.ndarray,
    dt: float,
    # per-chunk outputs
    c_complete: np.ndarray,
    c_drop: np.ndarray,
    c_enrolled: np.ndarray,
    c_exit_sk: np.ndarray,
    c_seg_delta: np.ndarray,
    c_flags: np.ndarray,
) -> None:
    """Advance every parent by one step (see the module docstring, phase 2)."""
    n_chunks = bounds.shape[0] - 1
    n_iv = status.shape[1]
    n_ch = contact_hz.shape[1]
    for c in nb.prange(n_chunks):
        for i in range(bounds[c], bounds[c + 1]):
            if any_spill:
                for k in range(n_iv):
                    if spill[i, k] != 0.0:
                        spill[i, k] *= spill_decay_step[k]
            # --- turnover: the family leaves, an entrant takes the slot (and its ties)
            if p_turnover > 0.0 and uniform(pop_keys[4], i, t) < p_turnover:
                old = segment[i]
                mask = 0
                for k in range(n_iv):
                    st = status[i, k]
                    if st == ENROLLED or st == COMPLETED or st == DROPPED:
                        mask |= 1 << k
                        c_exit_sk[c, old, k] += 1
                if mask != 0 and not fully_mixed:
                    exit_mask[i] = mask
                    c_flags[c, 0] += 1
                s_new, a_new, z_new = draw_family(
                    pop_keys[0],
                    pop_keys[1],
                    pop_keys[2],
                    pop_keys[3],
                    i,
                    t + 1,
                    seg_cum,
                    cat_cum,
                    seg_mu,
                )
                segment[i] = s_new
                category[i] = a_new
                score[i] = z_new
                first_channel[i] = -1
                adopt_step[i] = -1
                c_seg_delta[c, old] -= 1
                c_seg_delta[c, s_new] += 1
                c_flags[c, 3] += 1
                for k in range(n_iv):
                    status[i, k] = NONE
                    t_event[i, k] = 0
                    ref_channel[i, k] = -1
                    effect[i, k] = 0.0
                    spill[i, k] = 0.0
                continue
            s = segment[i]
            a = category[i]
            gain_known = False
            gain = 0.0
            for k in range(n_iv):
                st = status[i, k]
                if st == ENROLLED:
                    # enrolled in step e: steps e+1 .. e+D are the D steps of attendance;
                    # each can end in dropout (dose = steps attended / D), the last in completion
                    c_enrolled[c, k] += 1
                    if p_drop[k, s] > 0.0 and uniform(iv_keys[k, 2], i, t) < p_drop[k, s]:
                        effect[i, k] *= (t - 1 - t_event[i, k]) / dur_steps[k]
                        status[i, k] = DROPPED
                        t_event[i, k] = t
                        c_drop[c, k, s] += 1
                    elif t - t_event[i, k] >= dur_steps[k]:
                        status[i, k] = COMPLETED
                        t_event[i, k] = t
                        c_complete[c, k, s] += 1
                        if spill_on[k] and not fully_mixed:
                            done_mask[i] |= 1 << k
                            c_flags[c, 1] += 1
                    continue
                if st > AWARE or not offered_now[k] or not elig_seg[k, s]:
                    continue
                fa = follow_after[k]
                if fa != -1:
                    if fa < 0 or status[i, fa] != COMPLETED:
                        continue
                    # completed before this step (synchronous update: a completion in this
                    # step, seen only when A comes first in the offers, does not count yet)
                    # and at least the delay ago
                    if t_event[i, fa] >= t or t < t_event[i, fa] + follow_delay_steps[k]:
                        continue
                if elig_min_score[k] > -np.inf:
                    if not gain_known:
                        gain = parent_gain(
                            i,
                            t,
                            n_iv,
                            status,
                            t_event,
                            effect,
                            spill,
                            decay_tab,
                            sleeper_steps,
                            gamma,
                            has_gamma,
                        )
                        gain_known = True
                    if score[i] - gain <= elig_min_score[k]:
                        continue
                h_aw = aw_hz[s, a, k] if st == NONE else 0.0
                h_ch = cat_ch_mult[a] * chan_ref[ref_channel[i, k]] if st == AWARE else 0.0
                h_fu = follow_ref_hz[k] if fa >= 0 else 0.0
                h_wom = 0.0
                if q_imit[k] > 0.0:
                    if fully_mixed:
                        f = mf_share[s, k]
                    else:
                        deg = nbr_off[i + 1] - nbr_off[i]
                        f = wom_count[i, k] / deg if deg > 0 else 0.0
                    if f > 0.0 and f >= cat_threshold[a]:
                        h_wom = cat_im_mult[a] * q_imit[k] * f
                hz = h_aw + h_ch + h_wom + h_fu
                if hz <= 0.0:
                    continue
                p = -math.expm1(-hz * dt)
                u = uniform(iv_keys[k, 0], i, t)
                if u >= p:
                    continue
                # competing risks: which hazard fired, in proportion to its size
                x = u / p * hz
                if x < h_aw:
                    v = uniform(iv_keys[k, 1], i, t) * h_aw
                    acc = 0.0
                    ch = -1
                    for cc in range(n_ch):
                        if promote_now[cc, k] and chan_cat[cc, a] and contact_hz[s, cc] > 0.0:
                            acc += contact_hz[s, cc]
                            ch = cc
                            if v < acc:
                                break
                    status[i, k] = AWARE
                    t_event[i, k] = t
                    ref_channel[i, k] = ch
                    if first_channel[i] < 0:
                        first_channel[i] = ch
                else:
                    if x < h_aw + h_ch:
                        via = ref_channel[i, k]
                    elif x < h_aw + h_ch + h_wom:
                        via = n_ch  # word of mouth
                    else:
                        via = n_ch + 1  # follow-up referral
                    if first_channel[i] < 0:
                        first_channel[i] = via
                    status[i, k] = WAITING
                    t_event[i, k] = t
                    join_mask[i] |= 1 << k
                    c_flags[c, 2] += 1


@nb.njit(cache=True)
def step_sequential(
    t: int,
    bounds: np.ndarray,
    c_flags: np.ndarray,
    exit_mask: np.ndarray,
    done_mask: np.ndarray,
    join_mask: np.ndarray,
    segment: np.ndarray,
    adopt_step: np.ndarray,
    status: np.ndarray,
    t_event: np.ndarray,
    effect: np.ndarray,
    spill: np.ndarray,
    wom_count: np.ndarray,
    nbr_off: np.ndarray,
    nbrs: np.ndarray,
    fully_mixed: bool,
    mf_count: np.ndarray,
    spill_frac: np.ndarray,
    q_id: np.ndarray,
    q_t: np.ndarray,
    q_len: np.ndarray,
    scratch_id: np.ndarray,
    scratch_key: np.ndarray,
    prov_state: np.ndarray,
    prov_acc: np.ndarray,
    prov_cap_step: np.ndarray,
    fidelity: np.ndarray,
    effect_d: np.ndarray,
    eff_mult: np.ndarray,
    max_wait_steps: np.ndarray,
    iv_keys: np.ndarray,
    enrol_new: np.ndarray,
    gaveup_new: np.ndarray,
    prov_enrol: np.ndarray,
) -> None:
    """Phase 3 of a step: network pushes, waiting lists and place allocation.

    Waiting lists are first come, first served; parents who joined in the same step
    are ordered by a keyed random number. Each offering organisation adds
    ``capacity * dt`` places per step; whole places are used in turn (starting at a
    random organisation) and unused places lapse. A parent who has waited
    ``max_wait`` without a place gives up.
    """
    n_chunks = bounds.shape[0] - 1
    n_iv = status.shape[1]
    n_prov = prov_state.shape[0]
    # 1. leavers: their neighbours no longer see them as (former) participants
    for c in range(n_chunks):
        if c_flags[c, 0] == 0:
            continue
        for i in range(bounds[c], bounds[c + 1]):
            m = exit_mask[i]
            if m == 0:
                continue
            for e in range(nbr_off[i], nbr_off[i + 1]):
                j = nbrs[e]
                for k in range(n_iv):
                    if m & (1 << k):
                        wom_count[j, k] -= 1
            exit_mask[i] = 0
    # 2. completers pass a fraction of their effect to their neighbours
    for c in range(n_chunks):
        if c_flags[c, 1] == 0:
            continue
        for i in range(bounds[c], bounds[c + 1]):
            m = done_mask[i]
            if m == 0:
                continue
            for k in range(n_iv):
                if m & (1 << k):
                    val = spill_frac[k] * effect[i, k]
                    for e in range(nbr_off[i], nbr_off[i + 1]):
                        spill[nbrs[e], k] += val
            done_mask[i] = 0
    # 3. new waiting-list entries, in keyed random order within the step
    any_join = False
    for c in range(n_chunks):
        if c_flags[c, 2] > 0:
            any_join = True
    avail = np.zeros(n_prov, np.int64)
    open_prov = np.empty(n_prov, np.int64)
    for k in range(n_iv):
        if any_join:
            n_new = 0
            bit = 1 << k
            for c in range(n_chunks):
                if c_flags[c, 2] == 0:
                    continue
                for i in range(bounds[c], bounds[c + 1]):
                    if join_mask[i] & bit:
                        scratch_id[n_new] = i
                        scratch_key[n_new] = uniform(iv_keys[k, 3], i, t)
                        n_new += 1
            if n_new > 0:
                order = np.argsort(scratch_key[:n_new], kind="mergesort")
                base = q_len[k]
                for j in range(n_new):
                    q_id[k, base + j] = scratch_id[order[j]]
                    q_t[k, base + j] = t
                q_len[k] = base + n_new
        # 4. places this step (created even when nobody waits: the whole places then
        # lapse, the fraction of a place carries over)
        n_open = 0
        for p in range(n_prov):
            avail[p] = 0
            if prov_state[p, k] == P_OFFERING:
                if math.isinf(prov_cap_step[p]):
                    avail[p] = 1 << 62
                else:
                    prov_acc[p, k] += prov_cap_step[p]
                    avail[p] = np.int64(math.floor(prov_acc[p, k] + 1e-9))
                    prov_acc[p, k] -= avail[p]  # unused whole places lapse
                if avail[p] > 0:
                    open_prov[n_open] = p
                    n_open += 1
        if q_len[k] == 0:
            continue
        r = 0
        if n_open > 0:
            r = np.int64(uniform(iv_keys[k, 4], k, t) * n_open) % n_open
        kept = 0
        for e in range(q_len[k]):
            i = q_id[k, e]
            joined = q_t[k, e]
            if status[i, k] != WAITING or t_event[i, k] != joined:
                continue  # left the population (slot reused) or already handled
            s = segment[i]
            if n_open > 0:
                while avail[open_prov[r]] == 0:
                    r = (r + 1) % n_open
                p = open_prov[r]
                avail[p] -= 1
                if avail[p] == 0:
                    # remove p from the rotation
                    open_prov[r] = open_prov[n_open - 1]
                    n_open -= 1
                    if n_open > 0:
                        r = r % n_open
                else:
                    r = (r + 1) % n_open
                status[i, k] = ENROLLED
                t_event[i, k] = t
                effect[i, k] = effect_d[k] * eff_mult[k, s] * fidelity[p]
                if adopt_step[i] < 0:
                    adopt_step[i] = t
                enrol_new[k, s] += 1
                prov_enrol[p, k] += 1
                if fully_mixed:
                    mf_count[s, k] += 1
                else:
                    for e2 in range(nbr_off[i], nbr_off[i + 1]):
                        wom_count[nbrs[e2], k] += 1
            elif t - joined >= max_wait_steps[k]:
                status[i, k] = GAVE_UP
                t_event[i, k] = t
                gaveup_new[k, s] += 1
            else:
                q_id[k, kept] = i
                q_t[k, kept] = joined
                kept += 1
        q_len[k] = kept
    if any_join:
        for c in range(n_chunks):
            if c_flags[c, 2] == 0:
                continue
            for i in range(bounds[c], bounds[c + 1]):
                join_mask[i] = 0


@nb.njit(cache=True, parallel=True)
def measure(
    now: int,
    bounds: np.ndarray,
    target_seg: np.ndarray,
    segment: np.ndarray,
    category: np.ndarray,
    score: np.ndarray,
    first_channel: np.ndarray,
    status: np.ndarray,
    t_event: np.ndarray,
    effect: np.ndarray,
    spill: np.ndarray,
    decay_tab: np.ndarray,
    sleeper_steps: np.ndarray,
    gamma: np.ndarray,
    has_gamma: bool,
    cutoff: float,
    mic: float,
    m_n: np.ndarray,
    m_prev: np.ndarray,
    m_prev_cf: np.ndarray,
    m_real: np.ndarray,
    m_gain: np.ndarray,
    m_ever: np.ndarray,
    m_compl: np.ndarray,
    m_drop: np.ndarray,
    m_enr: np.ndarray,
    m_wait: np.ndarray,
    m_gaveup: np.ndarray,
    m_any: np.ndarray,
    m_any_cat: np.ndarray,
    m_any_ch: np.ndarray,
    m_indirect: np.ndarray,
    m_n_cat: np.ndarray,
) -> None:
    """Count the recorded metrics at time ``now`` (steps) into per-chunk arrays.

    A parent is a case when ``z - gain > cutoff``; the counterfactual case count uses
    the same ``z`` with no gain (common random numbers). Arrays are indexed
    ``[chunk, ...]`` and must be zeroed by the caller.
    """
    n_chunks = bounds.shape[0] - 1
    n_iv = status.shape[1]
    n_pseudo = m_any_ch.shape[1]
    for c in nb.prange(n_chunks):
        for i in range(bounds[c], bounds[c + 1]):
            s = segment[i]
            m_n[c, s] += 1
            m_n_cat[c, category[i], s] += 1
            gain = parent_gain(
                i,
                now,
                n_iv,
                status,
                t_event,
                effect,
                spill,
                decay_tab,
                sleeper_steps,
                gamma,
                has_gamma,
            )
            z = score[i]
            if z > cutoff:
                m_prev_cf[c, s] += 1
            if z - gain > cutoff:
                m_prev[c, s] += 1
            if gain >= mic:
                m_real[c, s] += 1
            m_gain[c, s] += gain
            took_part = False
            spilled = False
            for k in range(n_iv):
                st = status[i, k]
                if st == ENROLLED or st == COMPLETED or st == DROPPED:
                    m_ever[c, k, s] += 1
                    took_part = True
                if st == ENROLLED:
                    m_enr[c, k, s] += 1
                elif st == COMPLETED:
                    m_compl[c, k, s] += 1
                elif st == DROPPED:
                    m_drop[c, k, s] += 1
                elif st == WAITING:
                    m_wait[c, k, s] += 1
                elif st == GAVE_UP:
                    m_gaveup[c, k, s] += 1
                if spill[i, k] != 0.0:
                    spilled = True
            if took_part:
                m_any[c, s] += 1
                m_any_cat[c, category[i], s] += 1
                fc = first_channel[i]
                if fc >= 0 and fc < n_pseudo:
                    m_any_ch[c, fc, s] += 1
            elif spilled:
                m_indirect[c, s] += 1
