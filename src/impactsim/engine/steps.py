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

import numba as nb
import numpy as np

from impactsim.engine.clocks import first_due
from impactsim.engine.counts import (
    add_measured,
    add_measured_outcomes,
    measure_chunk,
    measure_outcomes_chunk,
    record_enrolments,
    record_stocks,
    tally_parents_pass,
)
from impactsim.engine.effects import decay_spill_range
from impactsim.engine.intrinsics import fetch_add, prefetch_row
from impactsim.engine.layout import (
    COMPLETED,
    ENROLLED,
    EV_EXIT,
    EV_JOIN,
    EV_SPILL,
    EVENT_LIST_CAPACITY,
    INTERNAL,
    N_FLAGS,
    N_M_ROWS,
    N_X_ROWS,
    PREFETCH_AHEAD,
    WORK_COUNTER_STRIDE,
)
from impactsim.engine.participation import end_participation
from impactsim.engine.providers import direct_providers, step_providers_and_record
from impactsim.engine.pushes import mean_field_share, push_spillover, push_to_neighbours
from impactsim.engine.state import (
    Channels,
    ChunkScratch,
    Interventions,
    Joiners,
    MeasureWork,
    Network,
    Parents,
    Population,
    Providers,
    Queues,
    Records,
    Step,
)
from impactsim.engine.turnover import replace_family
from impactsim.engine.uptake import candidate_step
from impactsim.engine.waiting_lists import (
    grow_queues,
    list_joiners,
    serve_and_push,
    serve_waiting_lists,
)


@nb.njit(cache=True, parallel=True, nogil=True)
def step_parents(
    step: Step,
    bounds: np.ndarray,
    parents: Parents,
    population: Population,
    network: Network,
    channels: Channels,
    interventions: Interventions,
    providers: Providers,
    scratch: ChunkScratch,
    s_cnt: np.ndarray,
    n_threads: int,
) -> None:
    """Advance every parent by one step (see the module docstring, phase 2).

    Parents are visited only at their scheduled steps (next-event sampling,
    :mod:`impactsim.engine.clocks`): ``t_exit`` is the step at which the family leaves
    (:func:`~impactsim.engine.turnover.replace_family`), ``t_next[i, k]`` the next step at
    which something may happen to parent i for intervention k: the end of the step in
    which an enrolled parent drops out or completes
    (:func:`~impactsim.engine.participation.end_participation`), or a *candidate* step
    for awareness or enrolment (:func:`~impactsim.engine.uptake.candidate_step`).
    ``t_due[i]``, the earliest of the parent's steps, is all the scan for due parents
    reads (:func:`parents_chunk`).

    Every change of a parent's counted state is applied to its chunk's stock counts
    ``s_cnt[c]``; leavers, completers with spillover and joiners are listed in the
    chunk's scratch (``scratch.events``) for the sequential phase.

    ``n_threads`` workers run the chunks (dynamic scheduling): worker w first takes the
    chunks of its own range ``[C w / W, C (w + 1) / W)`` in order, one at a time from a
    shared counter of that range (:func:`~impactsim.engine.intrinsics.fetch_add`), then
    takes what is left of the other workers' ranges the same way. A chunk is run exactly
    once, by whichever worker takes it; static halves left the faster thread waiting at
    the step's end (a thread of a shared machine slowed down, or a half with more events).
    Chunks change only their own parents and per-chunk scratch, so the result does not
    depend on ``n_threads`` nor on who runs a chunk. The parallel loop only runs
    :func:`parents_worker` (inlined) once per worker, which keeps this parallel region
    small to compile and a step's calls few.
    """
    n_chunks = bounds.shape[0] - 1
    # dynamic scheduling (see above): worker w's range starts at take[w * stride]
    n_workers = max(1, min(n_threads, n_chunks))
    take = np.zeros(n_workers * WORK_COUNTER_STRIDE, np.int64)
    for w in range(n_workers):
        take[w * WORK_COUNTER_STRIDE] = n_chunks * w // n_workers
    # each worker's list of its chunk's due parents, and its work space for the counts
    largest = 0
    for c in range(n_chunks):
        largest = max(largest, bounds[c + 1] - bounds[c])
    n_iv = parents.status.shape[1]
    hits = np.empty((n_workers, largest), np.int64)
    g = np.empty((n_workers, n_iv, largest), interventions.decay_tab.dtype)
    gain = np.empty((n_workers, largest))
    with_effect = np.empty((n_workers, largest), np.int64)
    spilled = np.empty((n_workers, largest), np.bool_)
    for w in nb.prange(n_workers):
        parents_worker(
            np.int64(w),  # the loop index is unsigned here: one signature for both
            take,
            step,
            bounds,
            parents,
            population,
            network,
            channels,
            interventions,
            providers,
            scratch,
            s_cnt,
            hits[w],
            MeasureWork(g[w], gain[w], with_effect[w], spilled[w]),
        )


# Inlined in step_parents' parallel loop (as a separate kernel, numba would optimise and
# emit all of parents_chunk's code once more on a cold start). Nothing here allocates (the
# worker's list of due parents and its work space for the month-end counts are allocated
# by step_parents).
@nb.njit(cache=True, nogil=True, inline="always")
def parents_worker(
    w: int,
    take: np.ndarray,
    step: Step,
    bounds: np.ndarray,
    parents: Parents,
    population: Population,
    network: Network,
    channels: Channels,
    interventions: Interventions,
    providers: Providers,
    scratch: ChunkScratch,
    s_cnt: np.ndarray,
    hits: np.ndarray,
    work: MeasureWork,
) -> None:
    """Worker w's share of the parents' pass: chunks taken from the shared counters ``take``.

    The worker first takes the chunks of its own range in order, one at a time from that
    range's counter, then what is left of the other workers' ranges (see
    :func:`step_parents`); each chunk is measured (:func:`measure_or_decay`, inlined
    here) and then stepped (:func:`parents_chunk`, one call per chunk: inlining its
    large body too would make numba copy it, slowly, when compiling).
    """
    n_chunks = bounds.shape[0] - 1
    n_workers = take.shape[0] // WORK_COUNTER_STRIDE
    owner = np.int64(w)
    for _ in range(n_workers):
        owner_end = n_chunks * (owner + 1) // n_workers
        c = fetch_add(take, owner * WORK_COUNTER_STRIDE, 1)
        while c < owner_end:
            measure_or_decay(c, step, bounds, parents, population, interventions, scratch, work)
            parents_chunk(
                c,
                step,
                bounds,
                parents,
                population,
                network,
                channels,
                interventions,
                providers,
                scratch,
                s_cnt,
                hits,
            )
            c = fetch_add(take, owner * WORK_COUNTER_STRIDE, 1)
        owner = owner + 1 if owner + 1 < n_workers else 0


@nb.njit(cache=True, nogil=True, inline="always")
def measure_or_decay(
    c: int,
    step: Step,
    bounds: np.ndarray,
    parents: Parents,
    population: Population,
    interventions: Interventions,
    scratch: ChunkScratch,
    work: MeasureWork,
) -> None:
    """Pass 1 of chunk c: at a month end its gain-dependent counts, else the spillover decay.

    At month ends (``step.measure_now``) :func:`~impactsim.engine.counts.measure_chunk`
    takes the chunk's gain-dependent counts, which also decays its spillover by this
    step; in other steps the spillover decays alone (when any programme has spillover).
    A chunk's events change only its own parents, so measuring each chunk before its
    events (:func:`parents_chunk`) equals measuring all before the step.
    """
    lo, hi = bounds[c], bounds[c + 1]
    iv = interventions
    if step.measure_now:
        m_cnt, m_gain = scratch.m_cnt, scratch.m_gain
        measure_chunk(c, lo, hi, step.t, parents, population, iv, m_cnt, m_gain, iv.any_spill, work)
        if parents.x_score.shape[0] > 0:
            x_cnt, x_gain = scratch.x_m_cnt, scratch.x_m_gain
            measure_outcomes_chunk(
                c, lo, hi, step.t, parents, population, iv, x_cnt, x_gain, iv.any_spill, work
            )
    elif iv.any_spill:
        decay_spill_range(lo, hi, parents.spill, iv.spill_decay_step)
        if parents.x_score.shape[0] > 0:
            decay_spill_range(lo, hi, parents.unit_spill, iv.spill_decay_step)


# no reference counting (numba's NRT) in the parents' pass: its per-event kernels are inlined
# here and read the bundles' arrays field by field, and each read of an array from a bundle
# would otherwise add and remove a reference (two atomic operations) per event. Nothing
# here allocates, nor in the kernels it calls that are not inlined (count_parent,
# parent_gain): numba compiles a callee with its caller's flags, so these have no NRT
# either.
@nb.njit(cache=True, nogil=True, _nrt=False)
def parents_chunk(
    c: int,
    step: Step,
    bounds: np.ndarray,
    parents: Parents,
    population: Population,
    network: Network,
    channels: Channels,
    interventions: Interventions,
    providers: Providers,
    scratch: ChunkScratch,
    s_cnt: np.ndarray,
    hits: np.ndarray,
) -> None:
    """Step ``step.t`` of the parents of chunk c (phase 2, after :func:`measure_or_decay`).

    The list of the chunk's parents with an event due in this step (``t_due = t``), in
    parent order, collected without branches into ``hits``; then each listed parent's
    events, in order of k; a leaving family's other events lapse (handling one event sets
    only steps after t, so the events due are those that were due when the step began).
    """
    t = step.t
    lo = bounds[c]
    hi = bounds[c + 1]
    iv = interventions
    t_due, t_next, status = parents.t_due, parents.t_next, parents.status
    n_iv = status.shape[1]
    n_hit = 0
    for i in range(lo, hi):
        hits[n_hit] = i
        n_hit += t_due[i] == t
    for h in range(n_hit):
        i = hits[h]
        if h + PREFETCH_AHEAD < n_hit:
            prefetch_parent(hits[h + PREFETCH_AHEAD], parents)
        if parents.t_exit[i] == t:
            replace_family(i, c, t, parents, population, network, iv, scratch, s_cnt)
            continue  # an entrant's first step is the next one
        s = parents.segment[i]
        a = parents.category[i]
        for k in range(n_iv):
            if t_next[i, k] != t:
                continue
            st = status[i, k]
            if st == ENROLLED:
                end_participation(
                    i, k, c, t, s, a, network.fully_mixed, parents, iv, scratch, s_cnt
                )
                continue
            candidate_step(
                i,
                k,
                c,
                t,
                st,
                s,
                a,
                step,
                parents,
                population,
                network,
                channels,
                iv,
                providers,
                scratch,
                s_cnt,
            )
        t_due[i] = first_due(i, parents.t_exit, t_next)


@nb.njit(cache=True, nogil=True, inline="always")
def prefetch_parent(i: int, parents: Parents) -> None:
    """Ask for parent i's rows of the arrays its events read.

    A parent's events read its rows of about a dozen arrays, scattered in memory (each a
    cache miss in large populations): :func:`parents_chunk` asks for those of the parent
    :data:`~impactsim.engine.layout.PREFETCH_AHEAD` places down its list, so they are
    loaded by the time it is handled.
    """
    prefetch_row(parents.t_exit, i)
    prefetch_row(parents.t_next, i)
    prefetch_row(parents.t_due, i)
    prefetch_row(parents.status, i)
    prefetch_row(parents.t_event, i)
    prefetch_row(parents.wom_count, i)
    prefetch_row(parents.segment, i)
    prefetch_row(parents.category, i)
    prefetch_row(parents.score, i)
    prefetch_row(parents.has_gain, i)
    prefetch_row(parents.eff_on, i)


@nb.njit(cache=True, nogil=True, **INTERNAL)
def step_sequential(
    t: int,
    bounds: np.ndarray,
    parents: Parents,
    network: Network,
    interventions: Interventions,
    providers: Providers,
    queues: Queues,
    scratch: ChunkScratch,
    s_cnt: np.ndarray,
    enrol_new: np.ndarray,
    gaveup_new: np.ndarray,
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
    fully_mixed = network.fully_mixed
    leave_id, leave_mask, n_leave, spill_ev, n_spill = collect_leavers_and_completers(
        t, bounds, parents, interventions, scratch
    )
    joiners, enrol_ev, n_direct, n_room = list_step_joiners(
        t, bounds, parents, network, interventions, queues, scratch, n_threads
    )
    mf_count = network.mf_count
    n_enrol = 0 if fully_mixed else n_direct
    # 4.-6. the waiting lists, and 7. the network pushes of this step's leavers,
    # completers and enrolments: side by side when on more than one thread (the lists
    # change none of the arrays the pushes change or read; serve_and_push)
    if n_threads > 1 and not fully_mixed and n_leave + n_spill + n_room > 0:
        serve_and_push(
            t,
            joiners,
            queues,
            parents,
            providers,
            interventions,
            network,
            s_cnt,
            enrol_new,
            gaveup_new,
            enrol_ev,
            np.int64(n_enrol),
            leave_id[:n_leave],
            leave_mask[:n_leave],
            spill_ev[:n_spill],
            n_threads,
        )
        push_unit_spillover(spill_ev[:n_spill], parents, network, interventions)
        return
    n_enrol = serve_waiting_lists(
        t,
        joiners,
        queues,
        parents,
        providers,
        interventions,
        s_cnt,
        enrol_new,
        gaveup_new,
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
            network.nbr_off,
            network.nbrs,
            parents.effect,
            interventions.spill_frac,
            parents.spill,
            parents.has_gain,
            parents.wom_count,
            n_threads,
        )
    push_unit_spillover(spill_ev[:n_spill], parents, network, interventions)


@nb.njit(cache=True, nogil=True, **INTERNAL)
def push_unit_spillover(
    spill_ev: np.ndarray, parents: Parents, network: Network, interventions: Interventions
) -> None:
    """With further outcomes, the step's spillover pushes of the unit effects (after the others).

    The same completers, neighbours and order as the spillover of the primary outcome
    (:func:`~impactsim.engine.pushes.push_spillover`), into ``unit_spill`` from
    ``unit_effect``; nothing reads these between the two, so pushing them last gives
    the same values.
    """
    if parents.unit_spill.shape[0] > 0 and spill_ev.shape[0] > 0:
        push_spillover(
            spill_ev,
            network.nbr_off,
            network.nbrs,
            parents.unit_effect,
            interventions.spill_frac,
            parents.unit_spill,
            parents.has_gain,
        )


@nb.njit(cache=True, nogil=True, **INTERNAL)
def collect_leavers_and_completers(
    t: int,
    bounds: np.ndarray,
    parents: Parents,
    interventions: Interventions,
    scratch: ChunkScratch,
) -> tuple:
    """The step's leavers (with their programmes) and completers with spillover, in order.

    Leavers' neighbours no longer see them as (former) participants; completers pass a
    fraction of their effect to their neighbours. Both are collected in order (chunks in
    order; the completers of one programme in parent order, so each neighbour's spillover
    sum is added up in one order) from the chunks' event lists, or found by their state
    (exit mask; status and ``t_event == t``) in a chunk whose list overflowed.

    Returns:
        ``(leave_id, leave_mask, n_leave, spill_ev, n_spill)``: the first ``n_leave`` and
        ``n_spill`` entries are in use.
    """
    status, t_event, exit_mask = parents.status, parents.t_event, parents.exit_mask
    spill_on = interventions.spill_on
    c_flags, c_events = scratch.flags, scratch.events
    n_chunks = bounds.shape[0] - 1
    n_iv = status.shape[1]
    cap = c_events.shape[2]
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
    return leave_id, leave_mask, n_leave, spill_ev, n_spill


@nb.njit(cache=True, nogil=True, **INTERNAL)
def list_step_joiners(
    t: int,
    bounds: np.ndarray,
    parents: Parents,
    network: Network,
    interventions: Interventions,
    queues: Queues,
    scratch: ChunkScratch,
    n_threads: int,
) -> tuple:
    """This step's joiners, listed in parallel over chunks (:func:`list_joiners`).

    Those enrolled directly by :func:`step_parents` are listed for the pushes (the first
    ``n_direct`` entries of ``enrol_ev``), the others per programme with the keyed random
    number that orders them on the waiting list.

    Returns:
        ``(joiners, enrol_ev, n_direct, n_room)``; ``enrol_ev`` has room for every
        enrolment of the step (``n_room``: joiners and those waiting), empty in a fully
        mixed population (no pushes).
    """
    c_flags, c_events = scratch.flags, scratch.events
    c_direct, c_wait = scratch.direct, scratch.wait
    q_len = queues.q_len
    n_chunks = bounds.shape[0] - 1
    n_iv = parents.status.shape[1]
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
    # the enrolments, for the pushes (none in a fully mixed population)
    enrol_ev = np.empty(0 if network.fully_mixed else n_room, np.int64)
    if n_join > 0:
        list_joiners(
            t,
            bounds,
            c_flags,
            c_events,
            parents.status,
            parents.t_event,
            interventions.iv_keys,
            direct_at,
            wait_at,
            wait_id,
            wait_key,
            enrol_ev,
            np.int64(n_join),
            n_threads,
        )
    return Joiners(wait_start, wait_id, wait_key), enrol_ev, n_direct, n_room


@nb.njit(cache=True, nogil=True)
def run_steps(
    t_begin: int,
    t_end: int,
    bounds: np.ndarray,
    parents: Parents,
    population: Population,
    network: Network,
    channels: Channels,
    interventions: Interventions,
    providers: Providers,
    q_id: np.ndarray,
    q_t: np.ndarray,
    q_len: np.ndarray,
    records: Records,
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
    n_iv = parents.status.shape[1]
    n_seg = population.seg_mu.shape[0]
    per_month = population.per_month
    scratch = new_scratch(n_chunks, n_iv, n_seg, parents.x_score.shape[0])
    direct_prov = np.full(n_iv, -1, np.int64)
    mf_share = np.zeros((n_seg, n_iv), np.float64)
    enrol_new = np.zeros((n_iv, n_seg), np.int64)
    gaveup_new = np.zeros((n_iv, n_seg), np.int64)
    direct_new = np.zeros((n_iv, n_seg), np.int64)  # enrolled by step_parents, all chunks
    for t in range(t_begin, t_end):
        month = t // per_month + 1
        reg = channels.regime_of_step[t]
        do_measure = t % per_month == 0
        if do_measure:
            # the month's stock counts (and the offering organisations, before this step's
            # provider changes); step_parents adds the gain-dependent counts chunk by chunk
            record_stocks(
                records.s_cnt,
                providers.prov_state,
                records.rec_cnt[month - 1],
                records.providers_offering[month - 1],
            )
        if network.fully_mixed and n_iv > 0:
            mean_field_share(network, parents.segment.shape[0], mf_share)
        step_providers_and_record(t, month, providers, population.dt, records)
        direct_providers(providers, q_len, direct_prov)
        clear_scratch(scratch)
        step = Step(
            t,
            channels.r_aw_hz[reg],
            channels.r_p_aw[reg],
            channels.r_promote[reg],
            channels.r_offered[reg],
            mf_share,
            direct_prov,
            do_measure,
        )
        step_parents(
            step,
            bounds,
            parents,
            population,
            network,
            channels,
            interventions,
            providers,
            scratch,
            records.s_cnt,
            n_threads,
        )
        if do_measure:
            add_measured(
                scratch.m_cnt,
                scratch.m_gain,
                records.rec_cnt[month - 1],
                records.rec_gain[month - 1],
            )
            add_measured_outcomes(
                scratch.x_m_cnt,
                scratch.x_m_gain,
                records.rec_x_cnt[month - 1],
                records.rec_x_gain[month - 1],
            )
        n_join = tally_parents_pass(month, population.dt, network, scratch, records, direct_new)
        q_id, q_t = grow_queues(q_id, q_t, q_len, n_join)
        enrol_new[...] = 0
        gaveup_new[...] = 0
        step_sequential(
            t,
            bounds,
            parents,
            network,
            interventions,
            providers,
            Queues(q_id, q_t, q_len),
            scratch,
            records.s_cnt,
            enrol_new,
            gaveup_new,
            n_threads,
        )
        record_enrolments(
            month, direct_new, direct_prov, enrol_new, gaveup_new, network, providers, records
        )
    return q_id, q_t


@nb.njit(cache=True, nogil=True)
def new_scratch(n_chunks: int, n_iv: int, n_seg: int, n_x: int) -> ChunkScratch:
    """The per-chunk counts and event lists of the parents' pass (for :func:`run_steps`).

    ``n_x``: the outcomes after the primary.
    """
    return ChunkScratch(
        np.zeros((n_chunks, n_iv, n_seg), np.int64),  # completions
        np.zeros((n_chunks, n_iv, n_seg), np.int64),  # dropouts
        np.zeros((n_chunks, n_seg, n_iv), np.int64),  # leavers who took part
        np.zeros((n_chunks, n_seg), np.int64),  # change of parents per segment
        np.zeros((n_chunks, N_FLAGS), np.int64),  # events per kind (EV_*)
        np.zeros((n_chunks, 3, EVENT_LIST_CAPACITY), np.int64),  # listed events
        np.zeros((n_chunks, n_iv, n_seg), np.int64),  # direct enrolments
        np.zeros((n_chunks, n_iv), np.int64),  # joiners put on a waiting list
        np.empty((n_chunks, N_M_ROWS, n_seg), np.int64),  # set by measure_chunk
        np.empty((n_chunks, n_seg)),
        np.empty((n_chunks, n_x, N_X_ROWS, n_seg), np.int64),  # set by measure_outcomes_chunk
        np.empty((n_chunks, n_x, n_seg)),
    )


@nb.njit(cache=True, nogil=True, **INTERNAL)
def clear_scratch(scratch: ChunkScratch) -> None:
    """Zero the per-chunk counts and event flags before the parents' pass."""
    scratch.direct[...] = 0
    scratch.wait[...] = 0
    scratch.complete[...] = 0
    scratch.drop[...] = 0
    scratch.exit_sk[...] = 0
    scratch.seg_delta[...] = 0
    scratch.flags[...] = 0
