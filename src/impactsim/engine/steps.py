"""Numba kernels of the time loop. They take arrays and scalars only.

A step ``t`` covers the time ``[t*dt, (t+1)*dt)`` months and runs these phases:

0. At month ends (before the step): the record of the month is the stock counts, kept
   up to date at every event (:func:`count_parent`, :func:`move_status`), plus the
   gain-dependent and spillover-only counts taken by :func:`measure_chunk`.
1. :func:`step_providers` (sequential, tiny): organisations adopt or drop programmes.
2. :func:`step_parents` (parallel over fixed chunks of parents): the events scheduled
   for this step (next-event sampling, :func:`next_time`): turnover, completion and
   dropout of enrolled parents, and candidate steps (thinning) for awareness through
   channels and the decision to enrol (channel referral, word of mouth, follow-up
   referral), which puts a parent on the programme's waiting list. Leavers, completers
   and joiners are listed per chunk.
3. :func:`step_sequential` (visits only listed events): the joiners are listed per
   chunk (:func:`list_joiners`, parallel over chunks when many), new waiting-list
   entries are appended in random order, places are allocated first come first served
   (sequential), and parents who waited too long give up (:func:`give_up`, parallel in
   blocks when many); then :func:`push_to_neighbours` updates the word-of-mouth counters
   of the neighbours of leavers and enrolled parents and, at the same time on another
   thread, passes the spillover of completers to their neighbours.

:func:`run_steps` runs a block of steps with all three phases inside numba (no
interpreter work per step); :func:`record_month` records a month (also the state after
the last step).

Parallel kernels write only to their own parent rows and to per-chunk partial
arrays; chunks are fixed by the population size, not by the thread count, and
all randomness is keyed by (stream, parent, step), so results are bit-identical
for any number of threads.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from impactsim.engine.clocks import first_due, next_time, schedule_uptake, set_clocks
from impactsim.engine.counts import (
    add_measured,
    count_parent,
    measure_chunk,
    move_status,
    record_stocks,
)
from impactsim.engine.effects import decay_spill_range, parent_gain
from impactsim.engine.intrinsics import fetch_add, prefetch_row
from impactsim.engine.layout import (
    AWARE,
    COMPLETED,
    DROPPED,
    ENROLLED,
    EV_ANY_EXIT,
    EV_BOUND,
    EV_EXIT,
    EV_JOIN,
    EV_SPILL,
    EVENT_LIST_CAPACITY,
    N_FLAGS,
    N_M_ROWS,
    NEVER,
    NONE,
    P_OFFERING,
    PREFETCH_AHEAD,
    WAITING,
    WORK_COUNTER_STRIDE,
    join_code,
    note_event,
    status_row,
)
from impactsim.engine.participation import enrol
from impactsim.engine.providers import step_providers
from impactsim.engine.pushes import push_to_neighbours
from impactsim.engine.uptake import BOUND_SLACK, REJECT_MARGIN
from impactsim.engine.waiting_lists import list_joiners, serve_and_push, serve_waiting_lists
from impactsim.population import draw_family
from impactsim.rng import uniform


@nb.njit(cache=True, parallel=True, nogil=True)
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
    has_gain: np.ndarray,
    eff_on: np.ndarray,
    t_exit: np.ndarray,
    t_next: np.ndarray,
    t_due: np.ndarray,
    nbr_off: np.ndarray,
    fully_mixed: bool,
    mf_share: np.ndarray,
    # population
    turn_rate: float,
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
    p_aw: np.ndarray,
    contact_hz: np.ndarray,
    chan_cat: np.ndarray,
    promote_now: np.ndarray,
    chan_ref: np.ndarray,
    p_ch: np.ndarray,
    # interventions
    offered_now: np.ndarray,
    dur_steps: np.ndarray,
    drop_rate: np.ndarray,
    elig_seg: np.ndarray,
    elig_min_score: np.ndarray,
    score_gate: np.ndarray,
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
    spill_decays: bool,
    iv_keys: np.ndarray,
    dt: float,
    # candidate processes: rates per step and their step probabilities
    cand_none: np.ndarray,
    cand_aware: np.ndarray,
    pmax_none: np.ndarray,
    pmax_aware: np.ndarray,
    # counts: stock counts kept at events, gain-dependent counts at month ends
    cutoff: float,
    mic: float,
    s_cnt: np.ndarray,
    # per-chunk outputs
    c_complete: np.ndarray,
    c_drop: np.ndarray,
    c_exit_sk: np.ndarray,
    c_seg_delta: np.ndarray,
    c_flags: np.ndarray,
    c_events: np.ndarray,
    # direct enrolment (a single organisation with unlimited places is open)
    direct_prov: np.ndarray,
    fidelity: np.ndarray,
    effect_d: np.ndarray,
    eff_mult: np.ndarray,
    c_direct: np.ndarray,
    c_wait: np.ndarray,
    # month end: the gain-dependent counts of each chunk, taken before its events
    measure_now: bool,
    m_cnt: np.ndarray,
    m_gain: np.ndarray,
    n_threads: int,
) -> None:
    """Advance every parent by one step (see the module docstring, phase 2).

    Parents are visited only at their scheduled steps (next-event sampling): ``t_exit``
    is the step at which the family leaves (turnover), ``t_next[i, k]`` the next step
    at which something may happen to parent i for intervention k: the end of the step
    in which an enrolled parent drops out or completes, or a *candidate* step for
    awareness or enrolment. ``t_due[i]``, the earliest of the parent's steps, is all the
    scan for due parents reads; it is set again after the parent's events
    (:func:`first_due`) and lowered by :func:`enrol`. Candidates come at a bounding rate
    ``B`` (the largest hazard the parent's state can have, rounded up to a power of two),
    and a candidate in step t is accepted with probability ``p_t / p_max``, where ``p_t``
    is the step probability of the hazard in step t and ``p_max = 1 - exp(-B dt)``
    (thinning). This gives every step the probability ``p_t``, exactly as a draw in every
    step would; the waiting times are geometric, drawn by :func:`next_time`.

    Every change of a parent's counted state is applied to its chunk's stock counts
    ``s_cnt[c]``; ``eff_on[i]`` has bit k set while parent i has completed or dropped out
    of intervention k (so has an effect of k); ``has_gain`` flags parents who may have a
    gain (completed, dropped or received spillover; only their spillover needs decaying,
    once per step if ``spill_decays``: by :func:`measure_chunk` at month ends, else here).
    Leavers, completers
    with spillover and joiners are listed in ``c_events`` for the sequential phase. A
    joiner of programme k with ``direct_prov[k] = p >= 0`` (nobody waiting, and a single
    organisation p, with unlimited places, open: the waiting list would enrol every joiner
    with p) is enrolled here at once, exactly as :func:`step_sequential` would (counted
    per chunk in ``c_direct`` [chunk, K, S], and listed as a joiner for the network
    pushes); the other joiners are counted per chunk and programme in ``c_wait`` [chunk,
    K]. ``p_aw`` and ``p_ch`` are the per-step probabilities of the awareness and
    channel-referral hazards alone (``1 - exp(-h dt)``), used when no other hazard
    competes.

    With ``measure_now`` (a month end) each chunk is first measured
    (:func:`measure_chunk` into ``m_cnt`` and ``m_gain``, with the spillover decay of
    this step): a chunk's events change only its own parents, so
    this equals measuring every chunk before the step, in one parallel pass over the
    chunks instead of two, and the chunk's rows are still in cache for its events.

    ``n_threads`` workers run the chunks (dynamic scheduling): worker w first takes the
    chunks of its own range ``[C w / W, C (w + 1) / W)`` in order, one at a time from a
    shared counter of that range (:func:`~impactsim.engine.intrinsics.fetch_add`), then
    takes what is left of the other workers' ranges the same way. A chunk is run exactly
    once, by whichever worker takes it; static halves left the faster thread waiting at
    the step's end (a thread of a shared machine slowed down, or a half with more events).
    Chunks change only their own parents and per-chunk scratch, so the result does not
    depend on ``n_threads`` nor on who runs a chunk.
    """
    n_chunks = bounds.shape[0] - 1
    n_iv = status.shape[1]
    n_ch = contact_hz.shape[1]
    # dynamic scheduling (see above): worker w's range starts at take[w * stride]
    n_workers = max(1, min(n_threads, n_chunks))
    take = np.zeros(n_workers * WORK_COUNTER_STRIDE, np.int64)
    for w in range(n_workers):
        take[w * WORK_COUNTER_STRIDE] = n_chunks * w // n_workers
    for w in nb.prange(n_workers):
        owner = np.int64(w)
        for _ in range(n_workers):
            owner_end = n_chunks * (owner + 1) // n_workers
            c = fetch_add(take, owner * WORK_COUNTER_STRIDE, 1)
            while c < owner_end:
                lo = bounds[c]
                hi = bounds[c + 1]
                # pass 1: at month ends the chunk's gain-dependent counts, which also decay its
                # spillover by this step, else the spillover decay alone; then the list of the
                # chunk's parents with an event due in this step (t_due = t), in parent order,
                # collected without branches
                if measure_now:
                    measure_chunk(
                        c,
                        lo,
                        hi,
                        t,
                        segment,
                        score,
                        status,
                        adopt_step,
                        t_event,
                        effect,
                        spill,
                        decay_tab,
                        sleeper_steps,
                        gamma,
                        has_gamma,
                        cutoff,
                        mic,
                        m_cnt,
                        m_gain,
                        spill_decays,
                        spill_decay_step,
                        spill_on,
                        eff_on,
                    )
                elif spill_decays:
                    decay_spill_range(lo, hi, spill, spill_decay_step)
                hits = np.empty(hi - lo, np.int64)
                n_hit = 0
                for i in range(lo, hi):
                    hits[n_hit] = i
                    n_hit += t_due[i] == t
                # pass 2: each listed parent's events, in order; a leaving family's other events lapse
                for h in range(n_hit):
                    i = hits[h]
                    if h + PREFETCH_AHEAD < n_hit:
                        # a parent's events read its rows of about a dozen arrays, scattered in
                        # memory (each a cache miss in large populations): the parent this many
                        # places down the list has them loaded while this one is handled
                        i_ahead = hits[h + PREFETCH_AHEAD]
                        prefetch_row(t_exit, i_ahead)
                        prefetch_row(t_next, i_ahead)
                        prefetch_row(t_due, i_ahead)
                        prefetch_row(status, i_ahead)
                        prefetch_row(t_event, i_ahead)
                        prefetch_row(wom_count, i_ahead)
                        prefetch_row(segment, i_ahead)
                        prefetch_row(category, i_ahead)
                        prefetch_row(score, i_ahead)
                        prefetch_row(has_gain, i_ahead)
                        prefetch_row(eff_on, i_ahead)
                    # --- turnover: the family leaves, an entrant takes the slot (and its ties)
                    if t_exit[i] == t:
                        old = segment[i]
                        count_parent(
                            i,
                            c,
                            -1,
                            segment,
                            category,
                            score,
                            first_channel,
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
                                c_exit_sk[c, old, k] += 1
                        if mask != 0 and not fully_mixed:
                            exit_mask[i] = mask
                            note_event(c_events, c_flags, c, EV_EXIT, i)
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
                        c_flags[c, EV_ANY_EXIT] += 1
                        for k in range(n_iv):
                            status[i, k] = NONE
                            t_event[i, k] = 0
                            ref_channel[i, k] = -1
                            effect[i, k] = 0.0
                            spill[i, k] = 0.0
                        set_clocks(
                            np.int64(i),
                            np.int64(t),
                            np.int64(s_new),
                            np.int64(a_new),
                            np.float64(z_new),
                            t_exit,
                            t_next,
                            t_due,
                            turn_rate,
                            pop_keys[4],
                            follow_after,
                            score_gate,
                            cand_none,
                            cand_aware,
                            iv_keys,
                        )
                        has_gain[i] = 0
                        eff_on[i] = 0
                        count_parent(
                            i,
                            c,
                            1,
                            segment,
                            category,
                            score,
                            first_channel,
                            status,
                            cutoff,
                            mic,
                            s_cnt,
                        )
                        continue  # an entrant's first step is the next one
                    # --- the parent's scheduled events, in order of k (handling one sets only steps
                    # after t, so the events due are those that were due when the step began)
                    s = segment[i]
                    a = category[i]
                    for k in range(n_iv):
                        if t_next[i, k] != t:
                            continue
                        st = status[i, k]
                        if st == ENROLLED:
                            # enrolled in step e: steps e+1 .. e+D are the D steps of attendance;
                            # each can end in dropout (dose = steps attended / D), the last in
                            # completion. The dropout step was drawn at enrolment (geometric) and
                            # is drawn again, from the same key, to tell the two apart.
                            e = np.int64(t_event[i, k])
                            t_next[i, k] = NEVER
                            if next_time(iv_keys[k, 2], np.int64(i), e, drop_rate[k, s]) == t:
                                effect[i, k] *= (t - 1 - e) / dur_steps[k]
                                move_status(s_cnt, c, k, n_iv, s, ENROLLED, DROPPED)
                                has_gain[i] = 1
                                eff_on[i] |= 1 << k
                                status[i, k] = DROPPED
                                t_event[i, k] = t
                                c_drop[c, k, s] += 1
                            else:
                                move_status(s_cnt, c, k, n_iv, s, ENROLLED, COMPLETED)
                                has_gain[i] = 1
                                eff_on[i] |= 1 << k
                                status[i, k] = COMPLETED
                                t_event[i, k] = t
                                c_complete[c, k, s] += 1
                                if spill_on[k] and not fully_mixed:
                                    note_event(c_events, c_flags, c, EV_SPILL, i * n_iv + k)
                                # follow-ups of k open for this parent: their candidates start
                                # after the delay (completed before the step, at least the delay ago)
                                for kb in range(n_iv):
                                    if (
                                        follow_after[kb] == k
                                        and status[i, kb] <= AWARE
                                        and score[i] > score_gate[kb]
                                    ):
                                        t0 = t + max(1, follow_delay_steps[kb]) - 1
                                        schedule_uptake(
                                            np.int64(i),
                                            np.int64(kb),
                                            np.int64(t0),
                                            np.int64(s),
                                            np.int64(a),
                                            np.int64(status[i, kb]),
                                            np.int64(ref_channel[i, kb]),
                                            iv_keys[kb, 5],
                                            cand_none,
                                            cand_aware,
                                            t_next,
                                        )
                            continue
                        # --- a candidate step for awareness or enrolment (st is NONE or AWARE)
                        new_st = st
                        if offered_now[k]:  # the same for every parent: predictable branches
                            fa = follow_after[k]
                            open_ = (st <= AWARE) & elig_seg[k, s]
                            if fa != -1:
                                if fa < 0 or status[i, fa] != COMPLETED:
                                    open_ = False
                                else:
                                    # completed before this step (synchronous update: a completion
                                    # in this step does not count yet) and at least the delay ago
                                    t_fa = t_event[i, fa]
                                    open_ &= (t_fa < t) & (t >= t_fa + follow_delay_steps[k])
                            # terms that do not apply are multiplied by 0 (exact: the same sum as
                            # leaving them out)
                            h_aw = aw_hz[s, a, k] * (st == NONE)
                            h_ch = cat_ch_mult[a] * chan_ref[ref_channel[i, k]] * (st == AWARE)
                            h_fu = follow_ref_hz[k] if fa >= 0 else 0.0
                            h_wom = 0.0
                            if q_imit[k] > 0.0:
                                if fully_mixed:
                                    f = mf_share[s, k]
                                else:
                                    deg = nbr_off[i + 1] - nbr_off[i]
                                    f = wom_count[i, k] / deg if deg > 0 else 0.0
                                h_wom = (
                                    cat_im_mult[a]
                                    * q_imit[k]
                                    * f
                                    * ((f > 0.0) & (f >= cat_threshold[a]))
                                )
                            hz = h_aw + h_ch + h_wom + h_fu
                            if st == NONE:
                                rate = cand_none[s, a, k]
                                p_max = pmax_none[s, a, k]
                            else:
                                rate = cand_aware[a, ref_channel[i, k], k]
                                p_max = pmax_aware[a, ref_channel[i, k], k]
                            if hz * open_ * dt > rate * BOUND_SLACK:
                                # the bound is wrong: a bug (raised later)
                                c_flags[c, EV_BOUND] += 1
                            # thinning: u is uniform on [0, p_max); the step fires when u < p_t
                            u = uniform(iv_keys[k, 0], i, t) * p_max
                            # 1 - exp(-x) <= x: most draws are rejected without computing p
                            if u < hz * open_ * dt * REJECT_MARGIN:
                                if h_wom == 0.0 and h_fu == 0.0:
                                    # one hazard alone: its step probability is tabulated (same value)
                                    p = p_aw[s, a, k] if st == NONE else p_ch[a, ref_channel[i, k]]
                                else:
                                    p = -math.expm1(-hz * dt)
                                fire = u < p
                                # only now the score threshold of an indicated programme (the
                                # outcome of a draw that does not fire is the same whether or not
                                # the parent is eligible)
                                if fire and elig_min_score[k] > -np.inf:
                                    # the gain at the end of the previous step: changes made in
                                    # this step (a completion or dropout stamped t) do not count yet;
                                    # a parent without has_gain has gain exactly 0
                                    gain = 0.0
                                    if has_gain[i]:
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
                                    fire = score[i] - gain > elig_min_score[k]
                                if fire:
                                    # competing risks: which hazard fired, in proportion to its size
                                    x = u / p * hz
                                    if x < h_aw:
                                        v = uniform(iv_keys[k, 1], i, t) * h_aw
                                        acc = 0.0
                                        ch = -1
                                        for cc in range(n_ch):
                                            if (
                                                promote_now[cc, k]
                                                and chan_cat[cc, a]
                                                and contact_hz[s, cc] > 0.0
                                            ):
                                                acc += contact_hz[s, cc]
                                                ch = cc
                                                if v < acc:
                                                    break
                                        move_status(s_cnt, c, k, n_iv, s, st, AWARE)
                                        new_st = AWARE
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
                                        t_event[i, k] = t
                                        p = direct_prov[k]
                                        note_event(
                                            c_events,
                                            c_flags,
                                            c,
                                            EV_JOIN,
                                            join_code(i, k, n_iv, p >= 0),
                                        )
                                        if p >= 0:
                                            enrol(
                                                i,
                                                k,
                                                t,
                                                c,
                                                s,
                                                st,
                                                p,
                                                category,
                                                first_channel,
                                                adopt_step,
                                                status,
                                                t_event,
                                                effect,
                                                t_next,
                                                t_due,
                                                fidelity,
                                                effect_d,
                                                eff_mult,
                                                drop_rate,
                                                dur_steps,
                                                iv_keys,
                                                s_cnt,
                                            )
                                            c_direct[c, k, s] += 1
                                            new_st = ENROLLED
                                        else:
                                            move_status(s_cnt, c, k, n_iv, s, st, WAITING)
                                            new_st = WAITING
                                            status[i, k] = WAITING
                                            c_wait[c, k] += 1
                        if new_st == WAITING:
                            t_next[i, k] = NEVER  # the waiting list decides what happens next
                        elif new_st != ENROLLED:  # an enrolment has set its next step
                            schedule_uptake(
                                np.int64(i),
                                np.int64(k),
                                np.int64(t),
                                np.int64(s),
                                np.int64(a),
                                np.int64(new_st),
                                np.int64(ref_channel[i, k]),
                                iv_keys[k, 5],
                                cand_none,
                                cand_aware,
                                t_next,
                            )
                    t_due[i] = first_due(i, t_exit, t_next)
                c = fetch_add(take, owner * WORK_COUNTER_STRIDE, 1)
            owner = owner + 1 if owner + 1 < n_workers else 0


@nb.njit(cache=True, nogil=True)
def step_sequential(
    t: int,
    bounds: np.ndarray,
    c_flags: np.ndarray,
    c_events: np.ndarray,
    exit_mask: np.ndarray,
    segment: np.ndarray,
    category: np.ndarray,
    first_channel: np.ndarray,
    adopt_step: np.ndarray,
    status: np.ndarray,
    t_event: np.ndarray,
    effect: np.ndarray,
    spill: np.ndarray,
    has_gain: np.ndarray,
    wom_count: np.ndarray,
    nbr_off: np.ndarray,
    nbrs: np.ndarray,
    fully_mixed: bool,
    mf_count: np.ndarray,
    spill_on: np.ndarray,
    spill_frac: np.ndarray,
    q_id: np.ndarray,
    q_t: np.ndarray,
    q_len: np.ndarray,
    prov_state: np.ndarray,
    prov_acc: np.ndarray,
    prov_cap_step: np.ndarray,
    fidelity: np.ndarray,
    effect_d: np.ndarray,
    eff_mult: np.ndarray,
    max_wait_steps: np.ndarray,
    dur_steps: np.ndarray,
    drop_rate: np.ndarray,
    t_next: np.ndarray,
    t_due: np.ndarray,
    iv_keys: np.ndarray,
    s_cnt: np.ndarray,
    enrol_new: np.ndarray,
    gaveup_new: np.ndarray,
    prov_enrol: np.ndarray,
    c_direct: np.ndarray,
    c_wait: np.ndarray,
    n_threads: int,
) -> None:
    """Phase 3 of a step: network pushes, waiting lists and place allocation.

    Changes of counted state are applied to the last slot of the stock counts ``s_cnt``.
    Leavers and completers of this step are taken from the chunks' event lists
    (``c_events``), or found by their state (exit mask; status and ``t_event == t``) in a
    chunk whose list overflowed; joiners likewise, by :func:`list_joiners` (in parallel
    over chunks; ``c_direct`` and ``c_wait`` are their counts per chunk). Waiting lists
    are first come, first served; parents who joined in the same step are ordered by a
    keyed random number (joiners of a programme whose only open organisation has
    unlimited places and nobody waiting were enrolled by :func:`step_parents`; here they
    are only listed for the pushes). Each offering organisation adds ``capacity * dt``
    places per step; whole places are used in turn (starting at a random organisation)
    and unused places lapse. Once no place is left, those who have waited ``max_wait``
    give up: as a list is in order of joining, they are a leading stretch of it, found by
    binary search and handled by :func:`give_up`; the rest is kept without visiting it
    (:func:`serve_waiting_lists`). The queues ``q_id`` / ``q_t`` must have room for every
    joiner of this step. Then come the network pushes of the step's leavers, completers
    and enrolments (:func:`push_to_neighbours`: the spillover on one thread, the word of
    mouth on all). On more than one thread, the waiting lists are served on one thread
    while the others start on the pushes (:func:`serve_and_push`). The result does not
    depend on ``n_threads``, the number of threads the pushes (and, in a fully mixed
    population, :func:`give_up`) are spread over.
    """
    n_chunks = bounds.shape[0] - 1
    n_iv = status.shape[1]
    cap = c_events.shape[2]
    # 1. leavers, whose neighbours no longer see them as (former) participants, and
    # 2. completers of this step, who pass a fraction of their effect to their neighbours:
    # collected in order (chunks in order; the completers of one programme in parent
    # order, so each neighbour's spillover sum is added up in one order) and pushed to
    # the neighbours at the end of the phase, by push_to_neighbours
    n_leave = 0
    n_spill = 0
    for c in range(n_chunks):
        n_leave += c_flags[c, EV_EXIT]
        n_spill += c_flags[c, EV_SPILL]
    leave_id = np.empty(n_leave, np.int64)
    leave_mask = np.empty(n_leave, np.int64)
    spill_ev = np.empty(n_spill, np.int64)
    n_leave = 0
    n_spill = 0
    for c in range(n_chunks):
        n_ev = c_flags[c, EV_EXIT]
        if n_ev > 0:
            listed = n_ev <= cap
            for e in range(n_ev if listed else bounds[c + 1] - bounds[c]):
                i = c_events[c, EV_EXIT, e] if listed else bounds[c] + e
                if exit_mask[i] != 0:
                    leave_id[n_leave] = i
                    leave_mask[n_leave] = exit_mask[i]
                    n_leave += 1
                    exit_mask[i] = 0
        n_ev = c_flags[c, EV_SPILL]
        if n_ev > 0:
            listed = n_ev <= cap
            n_chunk = bounds[c + 1] - bounds[c]
            for e in range(n_ev if listed else n_chunk * n_iv):
                if listed:
                    spill_ev[n_spill] = c_events[c, EV_SPILL, e]
                    n_spill += 1
                else:
                    i, k = bounds[c] + e // n_iv, e % n_iv  # parent-major, as listed
                    if spill_on[k] and status[i, k] == COMPLETED and t_event[i, k] == t:
                        spill_ev[n_spill] = i * n_iv + k
                        n_spill += 1
    # 3. this step's joiners (in parallel over chunks): those enrolled directly by
    # step_parents are listed for the pushes, the others per programme with the keyed
    # random number that orders them on the waiting list
    n_join = 0
    n_direct = 0
    for c in range(n_chunks):
        n_join += c_flags[c, EV_JOIN]
    direct_at = np.empty(n_chunks, np.int64)  # chunk c's first slot in enrol_ev
    wait_at = np.empty((n_chunks, n_iv), np.int64)  # chunk c's first slot for k, advanced
    wait_start = np.zeros(n_iv + 1, np.int64)  # programme k's joiners: wait_start[k:k+2]
    for c in range(n_chunks):
        direct_at[c] = n_direct
        for k in range(n_iv):
            for s in range(c_direct.shape[2]):
                n_direct += c_direct[c, k, s]
    for k in range(n_iv):
        wait_start[k + 1] = wait_start[k]
        for c in range(n_chunks):
            wait_at[c, k] = wait_start[k + 1]
            wait_start[k + 1] += c_wait[c, k]
    if n_direct + wait_start[n_iv] != n_join:
        raise RuntimeError("internal error: joiners counted and listed differ")
    wait_id = np.empty(wait_start[n_iv], np.int32)
    wait_key = np.empty(wait_start[n_iv], np.float64)
    n_room = n_join
    for k in range(n_iv):
        n_room += q_len[k]
    enrol_ev = np.empty(0 if fully_mixed else n_room, np.int64)  # enrolments, for the pushes
    if n_join > 0:
        list_joiners(
            t,
            bounds,
            c_flags,
            c_events,
            status,
            t_event,
            iv_keys,
            direct_at,
            wait_at,
            wait_id,
            wait_key,
            enrol_ev,
            np.int64(n_join),
            n_threads,
        )
    n_enrol = 0 if fully_mixed else n_direct
    # 4.-6. the waiting lists, and 7. the network pushes of this step's leavers,
    # completers and enrolments: side by side when on more than one thread (the lists
    # change none of the arrays the pushes change or read; serve_and_push)
    if n_threads > 1 and not fully_mixed and n_leave + n_spill + n_room > 0:
        serve_and_push(
            t,
            wait_start,
            wait_id,
            wait_key,
            q_id,
            q_t,
            q_len,
            prov_state,
            prov_acc,
            prov_cap_step,
            segment,
            category,
            first_channel,
            adopt_step,
            status,
            t_event,
            effect,
            spill,
            t_next,
            t_due,
            fidelity,
            effect_d,
            eff_mult,
            max_wait_steps,
            dur_steps,
            drop_rate,
            iv_keys,
            s_cnt,
            enrol_new,
            gaveup_new,
            prov_enrol,
            mf_count,
            enrol_ev,
            np.int64(n_enrol),
            leave_id[:n_leave],
            leave_mask[:n_leave],
            spill_ev[:n_spill],
            nbr_off,
            nbrs,
            spill_frac,
            has_gain,
            wom_count,
            n_threads,
        )
        return
    n_enrol = serve_waiting_lists(
        t,
        wait_start,
        wait_id,
        wait_key,
        q_id,
        q_t,
        q_len,
        prov_state,
        prov_acc,
        prov_cap_step,
        segment,
        category,
        first_channel,
        adopt_step,
        status,
        t_event,
        effect,
        spill,
        t_next,
        t_due,
        fidelity,
        effect_d,
        eff_mult,
        max_wait_steps,
        dur_steps,
        drop_rate,
        iv_keys,
        s_cnt,
        enrol_new,
        gaveup_new,
        prov_enrol,
        fully_mixed,
        mf_count,
        enrol_ev,
        np.int64(n_enrol),
        n_threads,
    )
    # 7. the network pushes of this step's leavers, completers and enrolments
    if n_leave + n_spill + n_enrol > 0:
        push_to_neighbours(
            leave_id[:n_leave],
            leave_mask[:n_leave],
            spill_ev[:n_spill],
            enrol_ev[:n_enrol],
            nbr_off,
            nbrs,
            effect,
            spill_frac,
            spill,
            has_gain,
            wom_count,
            n_threads,
        )


@nb.njit(cache=True, nogil=True)
def run_steps(
    t_begin: int,
    t_end: int,
    per_month: int,
    dt: float,
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
    has_gain: np.ndarray,
    eff_on: np.ndarray,
    t_exit: np.ndarray,
    t_next: np.ndarray,
    t_due: np.ndarray,
    nbr_off: np.ndarray,
    nbrs: np.ndarray,
    fully_mixed: bool,
    homophily: float,
    mf_count: np.ndarray,
    n_seg_now: np.ndarray,
    q_id: np.ndarray,
    q_t: np.ndarray,
    q_len: np.ndarray,
    # providers
    prov_state: np.ndarray,
    prov_acc: np.ndarray,
    prov_enrol: np.ndarray,
    prov_type: np.ndarray,
    type_counts: np.ndarray,
    prov_may_offer: np.ndarray,
    offer_start: np.ndarray,
    offer_end: np.ndarray,
    prov_alpha: np.ndarray,
    prov_beta: np.ndarray,
    prov_p_stop: np.ndarray,
    prov_init_share: np.ndarray,
    prov_keys: np.ndarray,
    prov_cap_step: np.ndarray,
    fidelity: np.ndarray,
    # population
    turn_rate: float,
    pop_keys: np.ndarray,
    seg_cum: np.ndarray,
    cat_cum: np.ndarray,
    seg_mu: np.ndarray,
    # adopter categories
    cat_ch_mult: np.ndarray,
    cat_im_mult: np.ndarray,
    cat_threshold: np.ndarray,
    # channels, by regime (stretch of steps with the same channels and offers)
    regime_of_step: np.ndarray,
    r_promote: np.ndarray,
    r_aw_hz: np.ndarray,
    r_p_aw: np.ndarray,
    r_offered: np.ndarray,
    contact_hz: np.ndarray,
    chan_cat: np.ndarray,
    chan_ref: np.ndarray,
    p_ch: np.ndarray,
    # interventions
    dur_steps: np.ndarray,
    drop_rate: np.ndarray,
    elig_seg: np.ndarray,
    elig_min_score: np.ndarray,
    score_gate: np.ndarray,
    follow_after: np.ndarray,
    follow_delay_steps: np.ndarray,
    follow_ref_hz: np.ndarray,
    q_imit: np.ndarray,
    spill_on: np.ndarray,
    spill_frac: np.ndarray,
    spill_decay_step: np.ndarray,
    decay_tab: np.ndarray,
    sleeper_steps: np.ndarray,
    gamma: np.ndarray,
    has_gamma: bool,
    any_spill: bool,
    iv_keys: np.ndarray,
    effect_d: np.ndarray,
    eff_mult: np.ndarray,
    max_wait_steps: np.ndarray,
    cand_none: np.ndarray,
    cand_aware: np.ndarray,
    pmax_none: np.ndarray,
    pmax_aware: np.ndarray,
    # recording
    cutoff: float,
    mic: float,
    s_cnt: np.ndarray,
    rec_cnt: np.ndarray,
    rec_gain: np.ndarray,
    rec_enrol_new: np.ndarray,
    rec_complete_new: np.ndarray,
    rec_dropout_new: np.ndarray,
    rec_gaveup_new: np.ndarray,
    rec_participant_months: np.ndarray,
    rec_providers_offering: np.ndarray,
    rec_provider_adopt_new: np.ndarray,
    rec_provider_offer_months: np.ndarray,
    rec_exits: np.ndarray,
    n_threads: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Run steps ``t_begin .. t_end - 1`` (phases 1-3, and the month-end counts).

    The month-end state of month ``m`` (after step ``m * per_month - 1``) is recorded at
    the start of step ``m * per_month`` by :func:`record_month`: the stock counts ``s_cnt``
    (kept up to date at every event, initialised by :func:`count_all`) plus the
    gain-dependent counts; the caller records the final month after the last step with
    the same function. The waiting-list arrays grow when
    needed, so they are returned.

    Returns:
        ``(q_id, q_t)``, the (possibly reallocated) waiting-list arrays.
    """
    n_chunks = bounds.shape[0] - 1
    n_iv = status.shape[1]
    n_seg = seg_cum.shape[0]
    n_prov = prov_state.shape[0]
    c_complete = np.zeros((n_chunks, n_iv, n_seg), np.int64)
    c_drop = np.zeros((n_chunks, n_iv, n_seg), np.int64)
    c_exit_sk = np.zeros((n_chunks, n_seg, n_iv), np.int64)
    c_seg_delta = np.zeros((n_chunks, n_seg), np.int64)
    c_flags = np.zeros((n_chunks, N_FLAGS), np.int64)  # events per kind (EV_*)
    c_events = np.zeros((n_chunks, 3, EVENT_LIST_CAPACITY), np.int64)
    c_direct = np.zeros((n_chunks, n_iv, n_seg), np.int64)  # direct enrolments
    c_wait = np.zeros((n_chunks, n_iv), np.int64)  # joiners put on a waiting list
    direct_prov = np.full(n_iv, -1, np.int64)
    mf_share = np.zeros((n_seg, n_iv), np.float64)
    adopt_new = np.zeros(n_iv, np.int64)
    enrol_new = np.zeros((n_iv, n_seg), np.int64)
    gaveup_new = np.zeros((n_iv, n_seg), np.int64)
    direct_new = np.zeros((n_iv, n_seg), np.int64)  # enrolled by step_parents, all chunks
    m_cnt = np.empty((n_chunks, N_M_ROWS, n_seg), np.int64)  # set by measure_chunk
    m_gain = np.empty((n_chunks, n_seg))
    n = segment.shape[0]
    for t in range(t_begin, t_end):
        month = t // per_month + 1
        reg = regime_of_step[t]
        do_measure = t % per_month == 0
        if do_measure:
            # the month's stock counts (and the offering organisations, before this step's
            # provider changes); step_parents adds the gain-dependent counts chunk by chunk
            record_stocks(s_cnt, prov_state, rec_cnt[month - 1], rec_providers_offering[month - 1])
        if fully_mixed and n_iv > 0:
            # mean-field share of (former) participants seen by a parent of segment s
            for k in range(n_iv):
                total = 0
                for s in range(n_seg):
                    total += mf_count[s, k]
                overall = total / max(n, 1)
                for s in range(n_seg):
                    own = mf_count[s, k] / max(n_seg_now[s], 1)
                    mf_share[s, k] = homophily * own + (1.0 - homophily) * overall
        adopt_new[:] = 0
        step_providers(
            t,
            prov_state,
            prov_type,
            type_counts,
            prov_may_offer,
            offer_start,
            offer_end,
            prov_alpha,
            prov_beta,
            prov_p_stop,
            prov_init_share,
            prov_keys,
            dt,
            adopt_new,
        )
        for k in range(n_iv):
            rec_provider_adopt_new[month, k] += adopt_new[k]
            for p in range(n_prov):
                rec_provider_offer_months[month, p, k] += (
                    dt if prov_state[p, k] == P_OFFERING else 0.0
                )
        # programmes whose joiners are enrolled at once: nobody waiting, and a single
        # organisation open, with unlimited places (step_sequential would enrol them all
        # with it)
        for k in range(n_iv):
            direct_prov[k] = -1
            n_open = 0
            for p in range(n_prov):
                if prov_state[p, k] == P_OFFERING:
                    n_open += 1
                    if math.isinf(prov_cap_step[p]):
                        direct_prov[k] = p
            if n_open != 1 or q_len[k] != 0:
                direct_prov[k] = -1
        c_direct[...] = 0
        c_wait[...] = 0
        c_complete[...] = 0
        c_drop[...] = 0
        c_exit_sk[...] = 0
        c_seg_delta[...] = 0
        c_flags[...] = 0
        step_parents(
            t,
            bounds,
            segment,
            category,
            score,
            first_channel,
            adopt_step,
            status,
            t_event,
            ref_channel,
            effect,
            spill,
            wom_count,
            exit_mask,
            has_gain,
            eff_on,
            t_exit,
            t_next,
            t_due,
            nbr_off,
            fully_mixed,
            mf_share,
            turn_rate,
            pop_keys,
            seg_cum,
            cat_cum,
            seg_mu,
            cat_ch_mult,
            cat_im_mult,
            cat_threshold,
            r_aw_hz[reg],
            r_p_aw[reg],
            contact_hz,
            chan_cat,
            r_promote[reg],
            chan_ref,
            p_ch,
            r_offered[reg],
            dur_steps,
            drop_rate,
            elig_seg,
            elig_min_score,
            score_gate,
            follow_after,
            follow_delay_steps,
            follow_ref_hz,
            q_imit,
            spill_on,
            spill_decay_step,
            decay_tab,
            sleeper_steps,
            gamma,
            has_gamma,
            any_spill,
            iv_keys,
            dt,
            cand_none,
            cand_aware,
            pmax_none,
            pmax_aware,
            cutoff,
            mic,
            s_cnt,
            c_complete,
            c_drop,
            c_exit_sk,
            c_seg_delta,
            c_flags,
            c_events,
            direct_prov,
            fidelity,
            effect_d,
            eff_mult,
            c_direct,
            c_wait,
            do_measure,
            m_cnt,
            m_gain,
            n_threads,
        )
        if do_measure:
            add_measured(m_cnt, m_gain, rec_cnt[month - 1], rec_gain[month - 1])
        n_join = 0
        for c in range(n_chunks):
            if c_flags[c, EV_BOUND] > 0:
                raise RuntimeError("internal error: a hazard exceeded its bounding rate")
            n_join += c_flags[c, EV_JOIN]
            rec_exits[month] += c_flags[c, EV_ANY_EXIT]
            for s in range(n_seg):
                n_seg_now[s] += c_seg_delta[c, s]
        for k in range(n_iv):
            # parents enrolled during the step: those enrolled now (the stock counts, before
            # the waiting lists' enrolments) and those who completed or dropped out in it
            enrolled = 0
            row = status_row(ENROLLED, k, n_iv)
            for c in range(n_chunks + 1):
                for s in range(n_seg):
                    enrolled += s_cnt[c, row, s]
            for s in range(n_seg):
                done = 0
                drop = 0
                direct = 0
                for c in range(n_chunks):
                    done += c_complete[c, k, s]
                    drop += c_drop[c, k, s]
                    direct += c_direct[c, k, s]
                direct_new[k, s] = direct
                # those enrolled directly in this step take part from the next one
                enrolled += done + drop - direct
                rec_complete_new[month, k, s] += done
                rec_dropout_new[month, k, s] += drop
                if fully_mixed:
                    left = 0
                    for c in range(n_chunks):
                        left += c_exit_sk[c, s, k]
                    mf_count[s, k] -= left
            rec_participant_months[month, k] += enrolled * dt
        # room on the waiting lists for this step's joiners
        need = n_join
        for k in range(n_iv):
            need = max(need, q_len[k] + n_join)
        if need > q_id.shape[1]:
            cap = max(need, 2 * q_id.shape[1])
            q_id2 = np.zeros((n_iv, cap), np.int32)
            q_t2 = np.zeros((n_iv, cap), np.int16)
            for k in range(n_iv):
                q_id2[k, : q_len[k]] = q_id[k, : q_len[k]]
                q_t2[k, : q_len[k]] = q_t[k, : q_len[k]]
            q_id = q_id2
            q_t = q_t2
        enrol_new[...] = 0
        gaveup_new[...] = 0
        step_sequential(
            t,
            bounds,
            c_flags,
            c_events,
            exit_mask,
            segment,
            category,
            first_channel,
            adopt_step,
            status,
            t_event,
            effect,
            spill,
            has_gain,
            wom_count,
            nbr_off,
            nbrs,
            fully_mixed,
            mf_count,
            spill_on,
            spill_frac,
            q_id,
            q_t,
            q_len,
            prov_state,
            prov_acc,
            prov_cap_step,
            fidelity,
            effect_d,
            eff_mult,
            max_wait_steps,
            dur_steps,
            drop_rate,
            t_next,
            t_due,
            iv_keys,
            s_cnt,
            enrol_new,
            gaveup_new,
            prov_enrol,
            c_direct,
            c_wait,
            n_threads,
        )
        for k in range(n_iv):
            for s in range(n_seg):
                direct = direct_new[k, s]
                if direct > 0:
                    prov_enrol[direct_prov[k], k] += direct
                    if fully_mixed:
                        mf_count[s, k] += direct
                rec_enrol_new[month, k, s] += enrol_new[k, s] + direct
                rec_gaveup_new[month, k, s] += gaveup_new[k, s]
    return q_id, q_t
