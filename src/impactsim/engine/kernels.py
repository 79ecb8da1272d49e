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

from impactsim.engine.intrinsics import atomic_add, fetch_add, prefetch_row
from impactsim.population import draw_family
from impactsim.resources import EVENT_LIST_CAPACITY
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


@nb.njit(cache=True)
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
    Computed without data-dependent branches (statuses vary from parent to parent, so
    branches on them mispredict): the product is multiplied by 1 or 0, which leaves its
    value exactly as it is or makes it zero.
    """
    st = status[i, k]
    lag = now - 1 - np.int64(t_event[i, k]) - sleeper_steps[k]
    on = (st == COMPLETED) | (st == DROPPED)
    on &= lag >= 0
    lag_c = max(lag, 0)
    return effect[i, k] * decay_tab[k, lag_c] * on


@nb.njit(cache=True, nogil=True)
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
    interaction term applies only when both effects are positive (added as the term
    times 1 or 0, the same sum as skipping it).
    """
    total = 0.0
    for k in range(n_iv):
        gk = effect_now(i, k, now, status, t_event, effect, decay_tab, sleeper_steps)
        total += gk + spill[i, k]
        if has_gamma:
            for m in range(k + 1, n_iv):
                g_km = gamma[k, m]
                if g_km != 0.0:  # the same for every parent: predictable
                    gm = effect_now(i, m, now, status, t_event, effect, decay_tab, sleeper_steps)
                    both = (gk > 0.0) & (gm > 0.0)
                    total += g_km * min(gk, gm) * both
    return total


@nb.njit(cache=True, nogil=True)
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


# Rows of the per-chunk / per-month count array ``cnt[..., row, s]`` (see :func:`count_rows`).
ROW_N = 0  # parents present
ROW_PREV = 1  # cases, scenario
ROW_PREV_CF = 2  # cases, counterfactual
ROW_REALIZED = 3  # gain >= minimal important change
ROW_ANY = 4  # took part in any intervention
ROW_INDIRECT = 5  # non-participants with a spillover gain
N_FIXED_ROWS = 6

#: ``1 - exp(-x)`` computed in floating point is at most ``x (1 + 2.3e-16)``; a draw at or
#: above ``x * REJECT_MARGIN`` is certainly rejected, so p need not be computed.
REJECT_MARGIN = 1.0 + 1e-12


N_STATUS = 7  # NONE .. GAVE_UP

# Kinds of events the parent pass lists per chunk for the sequential phase (columns of
# ``c_flags``, which also counts them): leavers with a participation history, completers
# of a programme with spillover, new waiting-list entries, and all leavers (counted only).
EV_EXIT = 0
EV_SPILL = 1
EV_JOIN = 2
EV_ANY_EXIT = 3
EV_BOUND = 4  # candidates whose hazard exceeded its bound (a bug; counted, then raised)
N_FLAGS = 5
#: No event scheduled (the int16 clocks ``t_exit`` and ``t_next``).
NEVER = 32767
#: A hazard may exceed its bounding rate by rounding only.
BOUND_SLACK = 1.0 + 1e-9
#: Events listed per chunk, kind and step; a chunk with more is scanned instead (the same
#: result: lists and scans visit a chunk's events of one intervention in parent order).
EVENT_CAP = EVENT_LIST_CAPACITY
# the parents' pass prefetches the state of the parent this many places down its list
PREFETCH_AHEAD = 8
# the network pushes prefetch an event's neighbour list this many events ahead (its
# offsets twice as many, its receivers' rows 2 events ahead)
PUSH_PREFETCH_AHEAD = 8
#: int64 slots between the work counters of two workers (64 bytes: one cache line each)
WORK_COUNTER_STRIDE = 8


@nb.njit(cache=True)
def note_event(c_events: np.ndarray, c_flags: np.ndarray, c: int, kind: int, code: int) -> None:
    """Count an event of chunk c and list it (``code``) if the chunk's list has room."""
    n_ev = c_flags[c, kind]
    if n_ev < c_events.shape[2]:
        c_events[c, kind, n_ev] = code
    c_flags[c, kind] = n_ev + 1


@nb.njit(cache=True)
def join_code(i: int, k: int, n_iv: int, direct: bool) -> int:
    """Event code of parent i joining programme k: ``2 (i K + k)``, plus 1 if enrolled at once."""
    return 2 * (i * n_iv + k) + (1 if direct else 0)


@nb.njit(cache=True)
def count_rows(n_iv: int, n_cat: int, n_pseudo: int) -> tuple:
    """First rows of the status, per-category and per-channel blocks, and the total.

    Returns ``(status, any_cat, n_cat, any_channel, n_rows)``. The status block has a
    row per (status, intervention): parents with status ``st`` for intervention ``k``
    are counted in row ``status + st * K + k`` (one indexed increment, no branch); the
    category blocks have A rows and the channel block C + 2 rows.
    """
    o = N_FIXED_ROWS
    o_cat = o + N_STATUS * n_iv
    return (o, o_cat, o_cat + n_cat, o_cat + 2 * n_cat, o_cat + 2 * n_cat + n_pseudo)


@nb.njit(cache=True)
def status_row(st: int, k: int, n_iv: int) -> int:
    """Row of the stock counts for parents with status ``st`` for intervention k."""
    return N_FIXED_ROWS + st * n_iv + k


@nb.njit(cache=True)
def move_status(cnt: np.ndarray, c: int, k: int, n_iv: int, s: int, old: int, new: int) -> None:
    """Move one parent of segment s from status ``old`` to ``new`` (intervention k) in the counts."""
    cnt[c, status_row(old, k, n_iv), s] -= 1
    cnt[c, status_row(new, k, n_iv), s] += 1


@nb.njit(cache=True)
def took_part(i: int, status: np.ndarray) -> bool:
    """Whether parent i is or was enrolled in any intervention (enrolled, completed, dropped)."""
    took = False
    for k in range(status.shape[1]):
        st = status[i, k]
        took |= (st >= ENROLLED) & (st <= DROPPED)
    return took


@nb.njit(cache=True)
def decay_spill_range(lo: int, hi: int, spill: np.ndarray, spill_decay_step: np.ndarray) -> None:
    """One step's decay of the spillover gains of parents ``lo .. hi - 1`` (in place).

    Every value is multiplied by its programme's factor per step (a loop LLVM
    vectorizes); a parent without spillover keeps 0 (``0 * f = 0``). Nothing is counted
    here: the spillover-only parents are counted at month ends (:func:`measure_chunk`).
    """
    n_iv = spill.shape[1]
    for i in range(lo, hi):
        for k in range(n_iv):
            spill[i, k] *= spill_decay_step[k]


@nb.njit(cache=True, nogil=True)
def count_parent(
    i: int,
    c: int,
    sign: int,
    segment: np.ndarray,
    category: np.ndarray,
    score: np.ndarray,
    first_channel: np.ndarray,
    status: np.ndarray,
    cutoff: float,
    mic: float,
    cnt: np.ndarray,
) -> None:
    """Add (``sign`` = 1) or remove (-1) parent i's contribution to the stock counts ``cnt[c]``.

    The stock counts are kept up to date at every event (entry, exit, change of status,
    first enrolment) instead of being counted from all parents each month. The rows that
    depend on the parent's gain, cases and realized change, hold the value at zero gain
    (``z > cutoff``, ``0 >= mic``), and the spillover-only row ``ROW_INDIRECT`` holds 0;
    the month-end pass adds the difference for parents with a gain and counts the
    spillover-only parents (:func:`measure_chunk`).
    """
    n_iv = status.shape[1]
    _, _, o_ncat, _, n_rows = count_rows(n_iv, 5, 0)
    n_pseudo = cnt.shape[1] - n_rows  # the channel block is last
    s = segment[i]
    a = category[i]
    z = score[i]
    cnt[c, ROW_N, s] += sign
    cnt[c, o_ncat + a, s] += sign
    case = sign * np.int64(z > cutoff)
    cnt[c, ROW_PREV_CF, s] += case
    cnt[c, ROW_PREV, s] += case
    cnt[c, ROW_REALIZED, s] += sign * np.int64(0.0 >= mic)
    for k in range(n_iv):
        cnt[c, status_row(status[i, k], k, n_iv), s] += sign
    if took_part(i, status):
        count_first_enrolment(i, c, sign, s, a, first_channel, n_iv, n_pseudo, cnt)


@nb.njit(cache=True)
def count_first_enrolment(
    i: int,
    c: int,
    sign: int,
    s: int,
    a: int,
    first_channel: np.ndarray,
    n_iv: int,
    n_pseudo: int,
    cnt: np.ndarray,
) -> None:
    """Count parent i among those who took part: overall, by category and by first channel."""
    _, o_cat, _, o_ch, _ = count_rows(n_iv, 5, n_pseudo)
    cnt[c, ROW_ANY, s] += sign
    cnt[c, o_cat + a, s] += sign
    fc = first_channel[i]
    if fc >= 0 and fc < n_pseudo:
        cnt[c, o_ch + fc, s] += sign


@nb.njit(cache=True)
def enrol(
    i: int,
    k: int,
    t: int,
    c: int,
    s: int,
    old: int,
    p: int,
    category: np.ndarray,
    first_channel: np.ndarray,
    adopt_step: np.ndarray,
    status: np.ndarray,
    t_event: np.ndarray,
    effect: np.ndarray,
    t_next: np.ndarray,
    t_due: np.ndarray,
    fidelity: np.ndarray,
    effect_d: np.ndarray,
    eff_mult: np.ndarray,
    drop_rate: np.ndarray,
    dur_steps: np.ndarray,
    iv_keys: np.ndarray,
    s_cnt: np.ndarray,
) -> None:
    """Parent i (segment s, status ``old``) takes a place in programme k at organisation p.

    Counted in slot c of the stock counts (the first enrolment in any programme also
    among those who took part); the effect is ``d_k * multiplier_ks * fidelity_p``; the
    next step is the dropout step (geometric) or else the step of completion.
    """
    n_iv = status.shape[1]
    if not took_part(i, status):
        n_pseudo = s_cnt.shape[1] - count_rows(n_iv, 5, 0)[-1]
        count_first_enrolment(i, c, 1, s, category[i], first_channel, n_iv, n_pseudo, s_cnt)
    move_status(s_cnt, c, k, n_iv, s, old, ENROLLED)
    status[i, k] = ENROLLED
    t_event[i, k] = t
    effect[i, k] = effect_d[k] * eff_mult[k, s] * fidelity[p]
    t_next[i, k] = min(
        next_time(iv_keys[k, 2], np.int64(i), np.int64(t), drop_rate[k, s]), t + dur_steps[k]
    )
    t_due[i] = min(t_due[i], t_next[i, k])
    if adopt_step[i] < 0:
        adopt_step[i] = t


@nb.njit(cache=True)
def next_time(key: np.uint64, who: int, t0: int, rate_step: float) -> int:
    """The first step after ``t0`` at which a per-step Bernoulli process fires.

    The process fires in each step with probability ``1 - exp(-rate_step)``; the number
    of steps to its first firing is geometric, drawn here by inversion from one keyed
    uniform ``(key, who, t0)``: ``t0 + 1 + floor(-log(1 - u) / rate_step)``. Returns
    :data:`NEVER` if the rate is zero or the time is beyond the int16 clocks.
    """
    if rate_step <= 0.0:
        return NEVER
    gap = -math.log1p(-uniform(key, who, t0)) / rate_step
    if gap >= NEVER - 1 - t0:
        return NEVER
    return t0 + 1 + np.int64(gap)


@nb.njit(cache=True)
def schedule_uptake(
    i: int,
    k: int,
    t0: int,
    s: int,
    a: int,
    st: int,
    ref: int,
    key: np.uint64,
    cand_none: np.ndarray,
    cand_aware: np.ndarray,
    t_next: np.ndarray,
) -> None:
    """Draw the next candidate step of parent i for intervention k after step ``t0``.

    Candidates come at the bounding rate of the parent's state (not aware, or aware
    through channel ``ref``), per step; see :func:`step_parents`.
    """
    rate = cand_none[s, a, k] if st == NONE else cand_aware[a, ref, k]
    t_next[i, k] = next_time(key, np.int64(i), np.int64(t0), rate)


@nb.njit(cache=True)
def set_clocks(
    i: int,
    t0: int,
    s: int,
    a: int,
    z: float,
    t_exit: np.ndarray,
    t_next: np.ndarray,
    t_due: np.ndarray,
    turn_rate: float,
    turn_key: np.uint64,
    follow_after: np.ndarray,
    score_gate: np.ndarray,
    cand_none: np.ndarray,
    cand_aware: np.ndarray,
    iv_keys: np.ndarray,
) -> None:
    """The exit step and first candidate steps, after ``t0``, of a family entering slot i.

    A follow-up intervention gets no candidates: it opens when its programme is completed.
    Nor does an indicated programme whose score threshold the family's problem score
    ``z`` can never pass (``z <= score_gate[k]``, see ``simulate.score_gate``): every one
    of its candidates would be rejected, so leaving them out changes nothing.
    """
    t_exit[i] = next_time(turn_key, np.int64(i), np.int64(t0), turn_rate)
    for k in range(t_next.shape[1]):
        t_next[i, k] = NEVER
        if follow_after[k] == -1 and z > score_gate[k]:
            schedule_uptake(
                np.int64(i),
                np.int64(k),
                np.int64(t0),
                np.int64(s),
                np.int64(a),
                np.int64(NONE),
                np.int64(-1),
                iv_keys[k, 5],
                cand_none,
                cand_aware,
                t_next,
            )
    t_due[i] = first_due(i, t_exit, t_next)


@nb.njit(cache=True)
def first_due(i: int, t_exit: np.ndarray, t_next: np.ndarray) -> int:
    """The earliest scheduled step of parent i: its exit or any intervention's next step."""
    first = t_exit[i]
    for k in range(t_next.shape[1]):
        first = min(first, t_next[i, k])
    return first


@nb.njit(cache=True, parallel=True, nogil=True)
def start_clocks(
    segment: np.ndarray,
    category: np.ndarray,
    score: np.ndarray,
    t_exit: np.ndarray,
    t_next: np.ndarray,
    t_due: np.ndarray,
    turn_rate: float,
    turn_key: np.uint64,
    follow_after: np.ndarray,
    score_gate: np.ndarray,
    cand_none: np.ndarray,
    cand_aware: np.ndarray,
    iv_keys: np.ndarray,
) -> None:
    """The first exit step and the first candidate steps of every parent (from step -1)."""
    for i in nb.prange(segment.shape[0]):
        set_clocks(
            np.int64(i),
            np.int64(-1),
            np.int64(segment[i]),
            np.int64(category[i]),
            np.float64(score[i]),
            t_exit,
            t_next,
            t_due,
            turn_rate,
            turn_key,
            follow_after,
            score_gate,
            cand_none,
            cand_aware,
            iv_keys,
        )


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


@nb.njit(cache=True)
def wom_parent(e: int, leave_id: np.ndarray, enrol_ev: np.ndarray, n_iv: int) -> int:
    """The parent of word-of-mouth event e: leavers first, then enrolments."""
    if e < leave_id.shape[0]:
        return leave_id[e]
    return enrol_ev[e - leave_id.shape[0]] // n_iv


@nb.njit(cache=True, nogil=True)
def push_word_of_mouth(
    e_lo: int,
    e_hi: int,
    leave_id: np.ndarray,
    leave_mask: np.ndarray,
    enrol_ev: np.ndarray,
    nbr_off: np.ndarray,
    nbrs: np.ndarray,
    wom_count: np.ndarray,
    atomic: bool,
) -> None:
    """Word-of-mouth pushes of events ``e_lo .. e_hi - 1`` (leavers first, then enrolments).

    A leaver (``leave_id``, with the mask of programmes it took part in) takes 1 off its
    neighbours' counters ``wom_count[j, k]`` of those programmes, an enrolment
    (``i * K + k``) adds 1 to ``wom_count[j, k]``. Integer additions commute, so the
    counters end the same whatever the order; with ``atomic`` (other threads push other
    events at the same time) each addition is
    :func:`~impactsim.engine.intrinsics.atomic_add`. The receivers are random parents:
    each event prefetches the neighbour list of the event ``PUSH_PREFETCH_AHEAD`` places
    on and the counters of the neighbours of the event 2 places on.
    """
    n_iv = wom_count.shape[1]
    n_l = leave_id.shape[0]
    for e in range(e_lo, e_hi):
        prefetch_row(
            nbr_off,
            wom_parent(min(e + 2 * PUSH_PREFETCH_AHEAD, e_hi - 1), leave_id, enrol_ev, n_iv),
        )
        prefetch_row(
            nbrs,
            nbr_off[wom_parent(min(e + PUSH_PREFETCH_AHEAD, e_hi - 1), leave_id, enrol_ev, n_iv)],
        )
        i_next = wom_parent(min(e + 2, e_hi - 1), leave_id, enrol_ev, n_iv)
        for x in range(nbr_off[i_next], nbr_off[i_next + 1]):
            prefetch_row(wom_count, nbrs[x])
        i = wom_parent(e, leave_id, enrol_ev, n_iv)
        if e < n_l:
            m = leave_mask[e]
            for x in range(nbr_off[i], nbr_off[i + 1]):
                j = nbrs[x]
                for k in range(n_iv):
                    if m & (1 << k):
                        if atomic:
                            atomic_add(wom_count, j, k, -1)
                        else:
                            wom_count[j, k] -= 1
        else:
            k = enrol_ev[e - n_l] % n_iv
            for x in range(nbr_off[i], nbr_off[i + 1]):
                j = nbrs[x]
                if atomic:
                    atomic_add(wom_count, j, k, 1)
                else:
                    wom_count[j, k] += 1


@nb.njit(cache=True, nogil=True)
def push_spillover(
    spill_ev: np.ndarray,
    nbr_off: np.ndarray,
    nbrs: np.ndarray,
    effect: np.ndarray,
    spill_frac: np.ndarray,
    spill: np.ndarray,
    has_gain: np.ndarray,
) -> None:
    """Spillover pushes of one step, on one thread, in event order.

    Each completer (``i * K + k``) adds ``spill_frac_k * effect_ik`` to its neighbours'
    spillover ``spill[j, k]`` and flags them in ``has_gain``. Float sums depend on their
    order: one thread adds them in event order, so each neighbour's spillover is the same
    for any number of threads. Prefetching as in :func:`push_word_of_mouth`.
    """
    n_iv = spill.shape[1]
    n_ev = spill_ev.shape[0]
    for e in range(n_ev):
        i_far = spill_ev[min(e + 2 * PUSH_PREFETCH_AHEAD, n_ev - 1)] // n_iv
        prefetch_row(nbr_off, i_far)
        prefetch_row(effect, i_far)
        prefetch_row(nbrs, nbr_off[spill_ev[min(e + PUSH_PREFETCH_AHEAD, n_ev - 1)] // n_iv])
        i_next = spill_ev[min(e + 2, n_ev - 1)] // n_iv
        for x in range(nbr_off[i_next], nbr_off[i_next + 1]):
            prefetch_row(spill, nbrs[x])
            prefetch_row(has_gain, nbrs[x])
        i = spill_ev[e] // n_iv
        k = spill_ev[e] % n_iv
        val = spill_frac[k] * effect[i, k]
        for x in range(nbr_off[i], nbr_off[i + 1]):
            j = nbrs[x]
            spill[j, k] += val
            has_gain[j] = 1


#: Word-of-mouth events a task takes at a time from the step's shared counter.
PUSH_BLOCK = 256

#: The task that runs the spillover pushes (task 0 when there is only one).
SPILL_TASK = 1


@nb.njit(cache=True)
def push_share(
    task: int,
    n_tasks: int,
    take: np.ndarray,
    leave_id: np.ndarray,
    leave_mask: np.ndarray,
    spill_ev: np.ndarray,
    enrol_ev: np.ndarray,
    n_wom: int,
    nbr_off: np.ndarray,
    nbrs: np.ndarray,
    effect: np.ndarray,
    spill_frac: np.ndarray,
    spill: np.ndarray,
    has_gain: np.ndarray,
    wom_count: np.ndarray,
    atomic: bool,
) -> None:
    """Task ``task``'s part of a step's pushes (one of ``n_tasks`` tasks of a parallel loop).

    Task :data:`SPILL_TASK` (task 0 when alone) first runs all the spillover pushes
    (:func:`push_spillover`: one thread, event order). Then every task takes blocks of
    :data:`PUSH_BLOCK` word-of-mouth events (the first ``n_wom`` events of the list
    leavers, then enrolments) from the shared counter ``take[0]`` and pushes them
    (:func:`push_word_of_mouth`, with atomic additions when ``atomic``), until none is
    left; so a task that finished its other work early takes more of them.
    """
    if task == min(SPILL_TASK, n_tasks - 1):
        push_spillover(spill_ev, nbr_off, nbrs, effect, spill_frac, spill, has_gain)
    n_blocks = (n_wom + PUSH_BLOCK - 1) // PUSH_BLOCK
    b = fetch_add(take, 0, 1)
    while b < n_blocks:
        push_word_of_mouth(
            b * PUSH_BLOCK,
            min(n_wom, (b + 1) * PUSH_BLOCK),
            leave_id,
            leave_mask,
            enrol_ev,
            nbr_off,
            nbrs,
            wom_count,
            atomic,
        )
        b = fetch_add(take, 0, 1)


@nb.njit(cache=True, parallel=True, nogil=True)
def push_to_neighbours(
    leave_id: np.ndarray,
    leave_mask: np.ndarray,
    spill_ev: np.ndarray,
    enrol_ev: np.ndarray,
    nbr_off: np.ndarray,
    nbrs: np.ndarray,
    effect: np.ndarray,
    spill_frac: np.ndarray,
    spill: np.ndarray,
    has_gain: np.ndarray,
    wom_count: np.ndarray,
    n_threads: int,
) -> None:
    """Network pushes of one step: spillover and word of mouth, side by side.

    The spillover of completers (:func:`push_spillover`, one thread, event order) and the
    word-of-mouth counters of leavers and enrolments (:func:`push_word_of_mouth`) change
    different arrays, so they run at the same time as ``n_threads`` tasks of one parallel
    loop (:func:`push_share`): one task runs the spillover, and all take blocks of the
    word-of-mouth events from a shared counter, with atomic additions when more than one
    task adds to the counters. Nothing else reads or writes these arrays meanwhile, and
    the result does not depend on ``n_threads``. (With waiting lists to serve in the
    same step, :func:`serve_and_push` runs them beside the pushes.)
    """
    n_wom = leave_id.shape[0] + enrol_ev.shape[0]
    n_tasks = max(1, n_threads)
    atomic = n_tasks > 1 and n_wom > PUSH_BLOCK
    take = np.zeros(WORK_COUNTER_STRIDE, np.int64)
    for task in nb.prange(n_tasks):
        push_share(
            np.int64(task),
            n_tasks,
            take,
            leave_id,
            leave_mask,
            spill_ev,
            enrol_ev,
            n_wom,
            nbr_off,
            nbrs,
            effect,
            spill_frac,
            spill,
            has_gain,
            wom_count,
            atomic,
        )


@nb.njit(cache=True)
def order_by_uniform_key(key: np.ndarray) -> np.ndarray:
    """The stable ascending order of keys drawn uniformly from [0, 1), in expected O(n).

    The same order as ``np.argsort(key, kind="stable")``, by a bucket sort: key j goes to
    bucket ``floor(key_j * n)`` (clamped to 0 .. n - 1: a key just below 1 can round up
    to n; the clamp keeps the buckets in key order), buckets are filled in order of j,
    and each entry is moved in front of the earlier entries of its bucket with a
    strictly greater key. With n uniform keys a bucket holds one key on average, so this is about six
    times as fast as numba's merge sort for the few thousand entries that join a
    waiting list in one step.
    """
    n = key.shape[0]
    bucket = np.empty(n, np.int64)
    start = np.zeros(n + 1, np.int64)
    for j in range(n):
        b = min(max(np.int64(key[j] * n), 0), n - 1)
        bucket[j] = b
        start[b + 1] += 1
    for b in range(n):
        start[b + 1] += start[b]
    order = np.empty(n, np.int64)
    fill = start[:n].copy()
    for j in range(n):
        b = bucket[j]
        x = fill[b]
        fill[b] = x + 1
        while x > start[b] and key[order[x - 1]] > key[j]:
            order[x] = order[x - 1]
            x -= 1
        order[x] = j
    return order


@nb.njit(cache=True)
def add_waiting(
    c: int,
    i: int,
    k: int,
    t: int,
    iv_keys: np.ndarray,
    wait_at: np.ndarray,
    wait_id: np.ndarray,
    wait_key: np.ndarray,
) -> None:
    """List parent i of chunk c, who joined programme k's waiting list, with its order key."""
    w = wait_at[c, k]
    wait_id[w] = i
    wait_key[w] = uniform(iv_keys[k, 3], i, t)
    wait_at[c, k] = w + 1


@nb.njit(cache=True, nogil=True)
def list_chunk_joiners(
    c: int,
    t: int,
    bounds: np.ndarray,
    c_flags: np.ndarray,
    c_events: np.ndarray,
    status: np.ndarray,
    t_event: np.ndarray,
    iv_keys: np.ndarray,
    direct_at: np.ndarray,
    wait_at: np.ndarray,
    wait_id: np.ndarray,
    wait_key: np.ndarray,
    enrol_ev: np.ndarray,
) -> None:
    """The joiners of step t in chunk c, in parent order (see :func:`list_joiners`)."""
    n_ev = c_flags[c, EV_JOIN]
    if n_ev == 0:
        return
    n_iv = status.shape[1]
    list_direct = enrol_ev.shape[0] > 0
    d = direct_at[c]
    if n_ev <= c_events.shape[2]:
        for e in range(n_ev):
            code = c_events[c, EV_JOIN, e]
            ik = code >> 1
            if code & 1:
                if list_direct:
                    enrol_ev[d] = ik
                    d += 1
            else:
                add_waiting(c, ik // n_iv, ik % n_iv, t, iv_keys, wait_at, wait_id, wait_key)
    else:
        for i in range(bounds[c], bounds[c + 1]):
            for k in range(n_iv):
                if t_event[i, k] != t:
                    continue
                st = status[i, k]
                if st == ENROLLED:
                    if list_direct:
                        enrol_ev[d] = i * n_iv + k
                        d += 1
                elif st == WAITING:
                    add_waiting(c, i, k, t, iv_keys, wait_at, wait_id, wait_key)


@nb.njit(cache=True, parallel=True, nogil=True)
def list_joiners_parallel(
    t: int,
    bounds: np.ndarray,
    c_flags: np.ndarray,
    c_events: np.ndarray,
    status: np.ndarray,
    t_event: np.ndarray,
    iv_keys: np.ndarray,
    direct_at: np.ndarray,
    wait_at: np.ndarray,
    wait_id: np.ndarray,
    wait_key: np.ndarray,
    enrol_ev: np.ndarray,
) -> None:
    """:func:`list_chunk_joiners` for every chunk, in parallel."""
    for c in nb.prange(bounds.shape[0] - 1):
        list_chunk_joiners(
            c,
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
        )


#: Joiners in a step below which they are listed on one thread.
LIST_JOINERS_PARALLEL_MIN = 256


@nb.njit(cache=True, nogil=True)
def list_joiners(
    t: int,
    bounds: np.ndarray,
    c_flags: np.ndarray,
    c_events: np.ndarray,
    status: np.ndarray,
    t_event: np.ndarray,
    iv_keys: np.ndarray,
    direct_at: np.ndarray,
    wait_at: np.ndarray,
    wait_id: np.ndarray,
    wait_key: np.ndarray,
    enrol_ev: np.ndarray,
    n_join: int,
    n_threads: int,
) -> None:
    """The ``n_join`` joiners of step t, listed per chunk, in parallel when many.

    A joiner enrolled at once by :func:`step_parents` is written to ``enrol_ev`` as
    ``i * K + k`` from slot ``direct_at[c]`` on (not when ``enrol_ev`` is empty: no
    pushes); a joiner of programme k who waits is written to ``wait_id`` from slot
    ``wait_at[c, k]`` on (advanced as it is used), with its waiting-list key
    ``uniform(iv_keys[k, 3], i, t)`` in ``wait_key``. Each chunk writes its own slots,
    so the lists are the same on any number of threads. A chunk whose list of joiners
    overflowed is scanned instead: its joiners are the parents whose status is enrolled
    or waiting and whose event step is t.
    """
    args = (c_flags, c_events, status, t_event, iv_keys, direct_at, wait_at)
    if n_threads > 1 and n_join >= LIST_JOINERS_PARALLEL_MIN:
        list_joiners_parallel(t, bounds, *args, wait_id, wait_key, enrol_ev)
    else:
        for c in range(bounds.shape[0] - 1):
            list_chunk_joiners(c, t, bounds, *args, wait_id, wait_key, enrol_ev)


@nb.njit(cache=True, nogil=True)
def give_up_span(
    k: int,
    t: int,
    lo: int,
    hi: int,
    q_id: np.ndarray,
    q_t: np.ndarray,
    segment: np.ndarray,
    status: np.ndarray,
    t_event: np.ndarray,
    gave_up: np.ndarray,
) -> None:
    """Waiting-list entries ``lo .. hi - 1`` of programme k, each past its maximum wait.

    An entry still current (the parent waits since the entry's step) gives up in step t;
    ``gave_up[s]`` counts them by segment. Other entries (the slot's family left, or the
    parent was handled since) are left alone.
    """
    for e in range(lo, hi):
        # the entries are random parents: prefetch the rows of the one PREFETCH_AHEAD on
        i_ahead = q_id[k, min(e + PREFETCH_AHEAD, hi - 1)]
        prefetch_row(status, i_ahead)
        prefetch_row(t_event, i_ahead)
        prefetch_row(segment, i_ahead)
        i = q_id[k, e]
        if status[i, k] == WAITING and t_event[i, k] == q_t[k, e]:
            status[i, k] = GAVE_UP
            t_event[i, k] = t
            gave_up[segment[i]] += 1


#: Waiting-list entries below which those giving up are handled on one thread.
GIVE_UP_PARALLEL_MIN = 4096


@nb.njit(cache=True, parallel=True, nogil=True)
def give_up_blocks(
    k: int,
    t: int,
    lo: int,
    hi: int,
    q_id: np.ndarray,
    q_t: np.ndarray,
    segment: np.ndarray,
    status: np.ndarray,
    t_event: np.ndarray,
    gave_up: np.ndarray,
    n_blocks: int,
) -> None:
    """:func:`give_up_span` over ``n_blocks`` blocks of the entries, in parallel.

    A parent has at most one current entry on a list (entries of earlier waits have
    older steps than the parent's event step, whatever is written to it in step t), so
    the blocks touch different parents; their counts are added up at the end.
    """
    counts = np.zeros((n_blocks, gave_up.shape[0]), np.int64)
    for b in nb.prange(n_blocks):
        give_up_span(
            k,
            t,
            lo + (hi - lo) * b // n_blocks,
            lo + (hi - lo) * (b + 1) // n_blocks,
            q_id,
            q_t,
            segment,
            status,
            t_event,
            counts[b],
        )
    for b in range(n_blocks):
        for s in range(gave_up.shape[0]):
            gave_up[s] += counts[b, s]


@nb.njit(cache=True, nogil=True)
def give_up(
    k: int,
    t: int,
    lo: int,
    hi: int,
    q_id: np.ndarray,
    q_t: np.ndarray,
    segment: np.ndarray,
    status: np.ndarray,
    t_event: np.ndarray,
    gave_up: np.ndarray,
    n_threads: int,
) -> None:
    """:func:`give_up_span`, in parallel when the entries are many and threads are given."""
    if n_threads > 1 and hi - lo >= GIVE_UP_PARALLEL_MIN:
        give_up_blocks(k, t, lo, hi, q_id, q_t, segment, status, t_event, gave_up, 4 * n_threads)
    else:
        give_up_span(k, t, lo, hi, q_id, q_t, segment, status, t_event, gave_up)


@nb.njit(cache=True, nogil=True)
def serve_waiting_lists(
    t: int,
    wait_start: np.ndarray,
    wait_id: np.ndarray,
    wait_key: np.ndarray,
    q_id: np.ndarray,
    q_t: np.ndarray,
    q_len: np.ndarray,
    prov_state: np.ndarray,
    prov_acc: np.ndarray,
    prov_cap_step: np.ndarray,
    segment: np.ndarray,
    category: np.ndarray,
    first_channel: np.ndarray,
    adopt_step: np.ndarray,
    status: np.ndarray,
    t_event: np.ndarray,
    effect: np.ndarray,
    spill: np.ndarray,
    t_next: np.ndarray,
    t_due: np.ndarray,
    fidelity: np.ndarray,
    effect_d: np.ndarray,
    eff_mult: np.ndarray,
    max_wait_steps: np.ndarray,
    dur_steps: np.ndarray,
    drop_rate: np.ndarray,
    iv_keys: np.ndarray,
    s_cnt: np.ndarray,
    enrol_new: np.ndarray,
    gaveup_new: np.ndarray,
    prov_enrol: np.ndarray,
    fully_mixed: bool,
    mf_count: np.ndarray,
    enrol_ev: np.ndarray,
    n_enrol: int,
    n_threads: int,
) -> int:
    """Steps 4 to 6 of :func:`step_sequential`: each programme's waiting list in step t.

    Programme k's joiners of this step (``wait_id[wait_start[k]:wait_start[k + 1]]``,
    with their keys in ``wait_key``) join the end of its list in key order; the places
    of this step go to the list's front, first come first served; then those who have
    waited ``max_wait`` give up. Enrolments are counted in the last slot of ``s_cnt``
    and, unless ``fully_mixed``, listed in ``enrol_ev`` (as ``i * K + k``) from slot
    ``n_enrol`` on, for the network pushes. Changes only the parents who wait, the
    lists, the organisations' places and the step's counts: none of the arrays the
    network pushes change or read, bar ``effect`` of other (parent, programme) pairs.
    ``n_threads`` > 1 lets :func:`give_up` run in parallel; 1 when called from a task
    of a parallel loop.

    Returns:
        The number of entries of ``enrol_ev`` in use afterwards.
    """
    n_iv = status.shape[1]
    n_prov = prov_state.shape[0]
    cs = s_cnt.shape[0] - 1  # the slot of the stock counts for this phase
    avail = np.zeros(n_prov, np.int64)
    open_prov = np.empty(n_prov, np.int64)
    gave_up = np.zeros(gaveup_new.shape[1], np.int64)
    for k in range(n_iv):
        # places this step (created even when nobody waits: the whole places then lapse,
        # the fraction of a place carries over)
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
        # 4. new waiting-list entries, in keyed random order within the step
        n_new = wait_start[k + 1] - wait_start[k]
        if n_new > 0:
            order = order_by_uniform_key(wait_key[wait_start[k] : wait_start[k + 1]])
            base = q_len[k]
            for j in range(n_new):
                q_id[k, base + j] = wait_id[wait_start[k] + order[j]]
                q_t[k, base + j] = t
            q_len[k] = base + n_new
        if q_len[k] == 0:
            continue
        # 5. places, first come first served, while any are left
        e = 0
        if n_open > 0:
            r = np.int64(uniform(iv_keys[k, 4], k, t) * n_open) % n_open
            while e < q_len[k] and n_open > 0:
                # the entries are random parents, each a dozen rows scattered in memory:
                # prefetch those of the entry PREFETCH_AHEAD places on
                i_ahead = q_id[k, min(e + PREFETCH_AHEAD, q_len[k] - 1)]
                prefetch_row(status, i_ahead)
                prefetch_row(t_event, i_ahead)
                prefetch_row(segment, i_ahead)
                prefetch_row(category, i_ahead)
                prefetch_row(first_channel, i_ahead)
                prefetch_row(adopt_step, i_ahead)
                prefetch_row(effect, i_ahead)
                prefetch_row(spill, i_ahead)
                prefetch_row(t_next, i_ahead)
                prefetch_row(t_due, i_ahead)
                i = q_id[k, e]
                joined = q_t[k, e]
                e += 1
                if status[i, k] != WAITING or t_event[i, k] != joined:
                    continue  # left the population (slot reused) or already handled
                s = segment[i]
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
                enrol(
                    i,
                    k,
                    t,
                    cs,
                    s,
                    WAITING,
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
                enrol_new[k, s] += 1
                prov_enrol[p, k] += 1
                if fully_mixed:
                    mf_count[s, k] += 1
                else:
                    enrol_ev[n_enrol] = i * n_iv + k
                    n_enrol += 1
        # 6. no place left: those who have waited max_wait give up. The list is in order
        # of joining, so they are the entries up to the first one who joined after
        # t - max_wait; the rest is kept (entries of parents who left are dropped when
        # they reach the front)
        e_end = e + np.searchsorted(q_t[k, e : q_len[k]], t - max_wait_steps[k], side="right")
        if e_end > e:
            gave_up[:] = 0
            give_up(k, t, e, e_end, q_id, q_t, segment, status, t_event, gave_up, n_threads)
            for s in range(gave_up.shape[0]):
                if gave_up[s] > 0:
                    s_cnt[cs, status_row(WAITING, k, n_iv), s] -= gave_up[s]
                    s_cnt[cs, status_row(GAVE_UP, k, n_iv), s] += gave_up[s]
                    gaveup_new[k, s] += gave_up[s]
        for e2 in range(e_end, q_len[k]):
            q_id[k, e2 - e_end] = q_id[k, e2]
            q_t[k, e2 - e_end] = q_t[k, e2]
        q_len[k] -= e_end
    return n_enrol


@nb.njit(cache=True, parallel=True, nogil=True)
def serve_and_push(
    t: int,
    wait_start: np.ndarray,
    wait_id: np.ndarray,
    wait_key: np.ndarray,
    q_id: np.ndarray,
    q_t: np.ndarray,
    q_len: np.ndarray,
    prov_state: np.ndarray,
    prov_acc: np.ndarray,
    prov_cap_step: np.ndarray,
    segment: np.ndarray,
    category: np.ndarray,
    first_channel: np.ndarray,
    adopt_step: np.ndarray,
    status: np.ndarray,
    t_event: np.ndarray,
    effect: np.ndarray,
    spill: np.ndarray,
    t_next: np.ndarray,
    t_due: np.ndarray,
    fidelity: np.ndarray,
    effect_d: np.ndarray,
    eff_mult: np.ndarray,
    max_wait_steps: np.ndarray,
    dur_steps: np.ndarray,
    drop_rate: np.ndarray,
    iv_keys: np.ndarray,
    s_cnt: np.ndarray,
    enrol_new: np.ndarray,
    gaveup_new: np.ndarray,
    prov_enrol: np.ndarray,
    mf_count: np.ndarray,
    enrol_ev: np.ndarray,
    n_direct: int,
    leave_id: np.ndarray,
    leave_mask: np.ndarray,
    spill_ev: np.ndarray,
    nbr_off: np.ndarray,
    nbrs: np.ndarray,
    spill_frac: np.ndarray,
    has_gain: np.ndarray,
    wom_count: np.ndarray,
    n_threads: int,
) -> None:
    """The waiting lists and the network pushes of step t, side by side (``n_threads`` > 1).

    Task 0 serves the waiting lists (:func:`serve_waiting_lists`, with :func:`give_up`
    on its thread) and then pushes the word of mouth of the enrolments they made, while
    the other tasks push those of the step's leavers, completers and direct enrolments
    (the first ``n_direct`` entries of ``enrol_ev``) as :func:`push_share` does; task 0
    then joins them. The lists change status, clocks, counts and the effect of the
    (parent, programme) pairs that enrol, the pushes the neighbours' spillover, gain
    flags and word-of-mouth counters, reading the effect of completed pairs only: no
    array element is written by one and read or written by the other. The pushes are
    those of :func:`push_to_neighbours` (spillover on one thread in event order,
    word-of-mouth counters added atomically), so the result does not depend on
    ``n_threads`` nor on which task runs what.
    """
    n_tasks = max(2, n_threads)
    n_wom = leave_id.shape[0] + n_direct
    take = np.zeros(WORK_COUNTER_STRIDE, np.int64)
    for task in nb.prange(n_tasks):
        if task == 0:
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
                np.bool_(False),  # a network: enrolments are listed for the pushes
                mf_count,
                enrol_ev,
                np.int64(n_direct),
                np.int64(1),
            )
            # the word of mouth of the lists' enrolments: events n_wom .. of the list
            # leavers, then enrolments (push_word_of_mouth), after the direct ones
            n_more = n_enrol - n_direct
            if n_more > 0:
                push_word_of_mouth(
                    n_wom,
                    n_wom + n_more,
                    leave_id,
                    leave_mask,
                    enrol_ev,
                    nbr_off,
                    nbrs,
                    wom_count,
                    np.bool_(True),
                )
        push_share(
            np.int64(task),
            n_tasks,
            take,
            leave_id,
            leave_mask,
            spill_ev,
            enrol_ev,
            n_wom,
            nbr_off,
            nbrs,
            effect,
            spill_frac,
            spill,
            has_gain,
            wom_count,
            np.bool_(True),
        )


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


@nb.njit(cache=True, parallel=True, nogil=True)
def count_all(
    bounds: np.ndarray,
    segment: np.ndarray,
    category: np.ndarray,
    score: np.ndarray,
    first_channel: np.ndarray,
    status: np.ndarray,
    cutoff: float,
    mic: float,
    s_cnt: np.ndarray,
) -> None:
    """Stock counts of all parents, per chunk, into ``s_cnt`` [chunk (+ slots), row, S]."""
    n_chunks = bounds.shape[0] - 1
    for c in nb.prange(n_chunks):
        for i in range(bounds[c], bounds[c + 1]):
            count_parent(
                i, c, 1, segment, category, score, first_channel, status, cutoff, mic, s_cnt
            )


#: Rows of the month-end counts per chunk (``m_cnt`` [chunk, row, S]): the change in
#: cases (scenario), the parents with a gain of at least the minimal important change,
#: and the parents who never took part but carry a spillover gain, added to the month's
#: ``ROW_PREV``, ``ROW_REALIZED`` and ``ROW_INDIRECT`` by :func:`add_measured`.
M_PREV = 0
M_REALIZED = 1
M_INDIRECT = 2
N_M_ROWS = 3


@nb.njit(cache=True, nogil=True)
def measure_chunk(
    c: int,
    lo: int,
    hi: int,
    now: int,
    segment: np.ndarray,
    score: np.ndarray,
    status: np.ndarray,
    adopt_step: np.ndarray,
    t_event: np.ndarray,
    effect: np.ndarray,
    spill: np.ndarray,
    decay_tab: np.ndarray,
    sleeper_steps: np.ndarray,
    gamma: np.ndarray,
    has_gamma: bool,
    cutoff: float,
    mic: float,
    m_cnt: np.ndarray,
    m_gain: np.ndarray,
    decay_now: bool,
    spill_decay_step: np.ndarray,
    spill_on: np.ndarray,
    eff_on: np.ndarray,
) -> None:
    """Gain-dependent counts of chunk ``c`` (parents ``lo .. hi - 1``) at time ``now``.

    The stock counts hold every parent at zero gain; this sets ``m_cnt[c]`` and
    ``m_gain[c]`` to the difference the chunk's gains make: per segment, the change in
    cases (``z - gain > cutoff`` against the counterfactual ``z > cutoff``, the same
    ``z``: common random numbers; row ``M_PREV``), the parents with ``gain >= mic`` (row
    ``M_REALIZED``, less those counted at zero gain), the parents who never took part
    but carry a spillover gain (row ``M_INDIRECT``; the stock counts hold none) and the
    summed gain. A parent's gain
    is :func:`parent_gain`: the effects of the interventions flagged in ``eff_on`` (bit
    k: completed or dropped out of k), then the spillover and interaction terms one
    intervention at a time over the chunk (loops without branches), added up for each
    parent in the same order, so the values are identical. Parents without a gain add 0
    to every count. With ``decay_now``, the spillover gains then decay by the step
    ``now`` (as :func:`step_parents` does in the other steps), while the chunk is in
    cache. The spillover of an intervention without ``spill_on`` is always 0 (no step
    sets it) and is not read: adding 0 to the float32 term leaves it as it is.
    """
    n_c = hi - lo
    n_iv = status.shape[1]
    for s in range(m_cnt.shape[2]):
        for r in range(N_M_ROWS):
            m_cnt[c, r, s] = 0
        m_gain[c, s] = 0.0
    # effect of each intervention (SD units), in the type effect_now returns (float32
    # effect times float32 decay table), so that each term is rounded as in parent_gain.
    # Only completers and dropouts have an effect: eff_on (one bit per intervention)
    # says which, so only parents with a bit set are visited (listed without branches,
    # as their statuses vary from parent to parent: a branch on them mispredicts), and
    # their terms are computed without branches, times 1 when the bit is set and the
    # lag reached, else times 0 (+0.0 or -0.0: the sums start at +0.0, and adding
    # -0.0 instead of +0.0 to them gives the same sums).
    g = np.zeros((n_iv, n_c), decay_tab.dtype)
    gain = np.zeros(n_c)
    n_lag = decay_tab.shape[1]
    with_effect = np.empty(n_c, np.int64)
    n_with = 0
    for j in range(n_c):
        with_effect[n_with] = j
        n_with += eff_on[lo + j] != 0
    for h in range(n_with):
        j = with_effect[h]
        m = np.int64(eff_on[lo + j])
        # effect_now, with the lag clamped into the table (the same value)
        for k in range(n_iv):
            lag = now - 1 - sleeper_steps[k] - np.int64(t_event[lo + j, k])
            dec = decay_tab[k, min(max(lag, 0), n_lag - 1)]
            g[k, j] = effect[lo + j, k] * dec * ((lag >= 0) & (((m >> k) & 1) != 0))
    # with decay_now each spillover decays by one step after it is read (a factor 1
    # leaves it exactly as it is); spilled[j]: parent j carries a spillover (before the
    # decay: the state the month records)
    spilled = np.zeros(n_c, np.bool_)
    for k in range(n_iv):
        if spill_on[k]:
            f_k = spill_decay_step[k] if decay_now else 1.0
            for j in range(n_c):
                x = spill[lo + j, k]
                gain[j] += g[k, j] + x
                spill[lo + j, k] = np.float32(x * f_k)
                spilled[j] |= x != 0.0
        else:
            for j in range(n_c):
                gain[j] += g[k, j]
        if has_gamma:
            for m in range(k + 1, n_iv):
                g_km = gamma[k, m]
                if g_km != 0.0:
                    for j in range(n_c):
                        gk = g[k, j]
                        gm = g[m, j]
                        gain[j] += g_km * min(gk, gm) * ((gk > 0.0) & (gm > 0.0))
    for j in range(n_c):
        s = segment[lo + j]
        z = score[lo + j]
        gj = gain[j]
        # comparisons add 0 or 1: no data-dependent branches (they mispredict)
        m_cnt[c, M_PREV, s] += np.int64(z - gj > cutoff) - np.int64(z > cutoff)
        m_cnt[c, M_REALIZED, s] += np.int64(gj >= mic) - np.int64(0.0 >= mic)
        m_gain[c, s] += gj
        # spillover only: never took part (adopt_step, the step of the first enrolment
        # since the family entered, is -1 exactly while no status is enrolled, completed
        # or dropped)
        m_cnt[c, M_INDIRECT, s] += np.int64(spilled[j] & (adopt_step[lo + j] < 0))


@nb.njit(cache=True, parallel=True, nogil=True)
def measure(
    bounds: np.ndarray,
    now: int,
    segment: np.ndarray,
    score: np.ndarray,
    status: np.ndarray,
    adopt_step: np.ndarray,
    t_event: np.ndarray,
    effect: np.ndarray,
    spill: np.ndarray,
    decay_tab: np.ndarray,
    sleeper_steps: np.ndarray,
    gamma: np.ndarray,
    has_gamma: bool,
    cutoff: float,
    mic: float,
    m_cnt: np.ndarray,
    m_gain: np.ndarray,
    decay_now: bool,
    spill_decay_step: np.ndarray,
    spill_on: np.ndarray,
    eff_on: np.ndarray,
) -> None:
    """:func:`measure_chunk` of every chunk, in parallel (``m_cnt`` [chunk, N_M_ROWS, S]).

    In the steps, :func:`step_parents` measures each chunk just before handling its
    parents' events; this is for the state after the last step.
    """
    for c in nb.prange(bounds.shape[0] - 1):
        measure_chunk(
            c,
            bounds[c],
            bounds[c + 1],
            now,
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
            decay_now,
            spill_decay_step,
            spill_on,
            eff_on,
        )


@nb.njit(cache=True, nogil=True)
def adoption_times(adopt_step: np.ndarray, dt: float) -> np.ndarray:
    """The first-enrolment times (months, ``adopt_step * dt``) of the parents who took part.

    In parent order; parents with ``adopt_step < 0`` never enrolled and are left out.
    """
    n_took = 0
    for i in range(adopt_step.shape[0]):
        n_took += adopt_step[i] >= 0
    # without branches (who took part varies from parent to parent): each parent is
    # written to the next slot, which only a parent who took part claims
    times = np.empty(n_took + 1)
    w = 0
    for i in range(adopt_step.shape[0]):
        times[w] = np.float64(adopt_step[i]) * dt
        w += adopt_step[i] >= 0
    return times[:n_took]


@nb.njit(cache=True, nogil=True)
def count_adoption_classes(
    adopt_step: np.ndarray, category: np.ndarray, dt: float, edges: np.ndarray, out: np.ndarray
) -> None:
    """Add each adopter to ``out[category, class]``, its class the number of ``edges`` <= its time.

    ``edges`` ascending (then the class is ``np.searchsorted(edges, time, side="right")``);
    the time is ``adopt_step * dt`` as in :func:`adoption_times`, and parents with
    ``adopt_step < 0`` are left out.
    """
    for i in range(adopt_step.shape[0]):
        x = np.float64(adopt_step[i]) * dt
        cls = 0
        for e in range(edges.shape[0]):
            cls += x >= edges[e]
        out[category[i], cls] += adopt_step[i] >= 0  # without branches, as above


@nb.njit(cache=True, nogil=True)
def step_probabilities(hz: np.ndarray, dt: float) -> np.ndarray:
    """Elementwise ``1 - exp(-hz * dt)``, computed exactly as in :func:`step_parents`."""
    flat = hz.ravel()
    out = np.empty(flat.shape[0], np.float64)
    for j in range(flat.shape[0]):
        out[j] = -math.expm1(-flat[j] * dt)
    return out.reshape(hz.shape)


@nb.njit(cache=True, nogil=True)
def record_stocks(
    s_cnt: np.ndarray, prov_state: np.ndarray, cnt: np.ndarray, offering: np.ndarray
) -> None:
    """The first part of a month's record: the stock counts and the offering organisations.

    Adds ``s_cnt`` summed over chunks to ``cnt`` [row, S] and the organisations offering
    each programme to ``offering`` [K]; :func:`add_measured` adds the gain-dependent counts.
    """
    for c in range(s_cnt.shape[0]):
        for r in range(s_cnt.shape[1]):
            for s in range(s_cnt.shape[2]):
                cnt[r, s] += s_cnt[c, r, s]
    for p in range(prov_state.shape[0]):
        for k in range(prov_state.shape[1]):
            offering[k] += prov_state[p, k] == P_OFFERING


@nb.njit(cache=True, nogil=True)
def add_measured(m_cnt: np.ndarray, m_gain: np.ndarray, cnt: np.ndarray, gain: np.ndarray) -> None:
    """The second part of a month's record: the chunks' gain-dependent counts.

    Adds the counts of every chunk (:func:`measure_chunk`) to the month's rows ``cnt``
    [row, S] and its summed gain to ``gain`` [S] (chunks added in order, so the sum is
    reproducible).
    """
    for c in range(m_cnt.shape[0]):
        for s in range(m_cnt.shape[2]):
            cnt[ROW_PREV, s] += m_cnt[c, M_PREV, s]
            cnt[ROW_REALIZED, s] += m_cnt[c, M_REALIZED, s]
            cnt[ROW_INDIRECT, s] += m_cnt[c, M_INDIRECT, s]
    for c in range(m_gain.shape[0]):
        for s in range(m_gain.shape[1]):
            gain[s] += m_gain[c, s]


@nb.njit(cache=True, nogil=True)
def record_month(
    now: int,
    bounds: np.ndarray,
    segment: np.ndarray,
    score: np.ndarray,
    status: np.ndarray,
    adopt_step: np.ndarray,
    t_event: np.ndarray,
    effect: np.ndarray,
    spill: np.ndarray,
    decay_tab: np.ndarray,
    sleeper_steps: np.ndarray,
    gamma: np.ndarray,
    has_gamma: bool,
    cutoff: float,
    mic: float,
    s_cnt: np.ndarray,
    prov_state: np.ndarray,
    cnt: np.ndarray,
    gain: np.ndarray,
    offering: np.ndarray,
    decay_now: bool,
    spill_decay_step: np.ndarray,
    spill_on: np.ndarray,
    eff_on: np.ndarray,
) -> None:
    """Record the state at time ``now`` (steps) into one month's rows (after the last step).

    ``cnt`` [row, S] gets the stock counts ``s_cnt`` summed over chunks plus the
    gain-dependent counts of :func:`measure`; ``gain`` [S] the summed gain (chunks added
    in order, so the sum is reproducible); ``offering`` [K] the organisations offering
    each programme. With ``decay_now`` the spillover gains then decay by the step ``now``
    (see :func:`measure_chunk`). Within the steps, :func:`run_steps` records the same
    values with the measuring done chunk by chunk in :func:`step_parents`.
    """
    n_chunks = bounds.shape[0] - 1
    m_cnt = np.empty((n_chunks, N_M_ROWS, s_cnt.shape[2]), np.int64)
    m_gain = np.empty((n_chunks, s_cnt.shape[2]))
    record_stocks(s_cnt, prov_state, cnt, offering)
    measure(
        bounds,
        now,
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
        decay_now,
        spill_decay_step,
        spill_on,
        eff_on,
    )
    add_measured(m_cnt, m_gain, cnt, gain)


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
    c_events = np.zeros((n_chunks, 3, EVENT_CAP), np.int64)
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
