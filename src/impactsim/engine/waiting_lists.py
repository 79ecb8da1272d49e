"""Waiting lists and places (docs/model.md, "Providers and waiting lists").

Joiners are listed, appended in random order, given places first come first served, and
leave the list when they have waited too long.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from impactsim.engine.intrinsics import prefetch_row
from impactsim.engine.layout import (
    ENROLLED,
    EV_JOIN,
    GAVE_UP,
    INTERNAL,
    P_OFFERING,
    PREFETCH_AHEAD,
    WAITING,
    WORK_COUNTER_STRIDE,
    status_row,
)
from impactsim.engine.participation import enrol
from impactsim.engine.pushes import push_share, push_word_of_mouth
from impactsim.engine.state import Interventions, Joiners, Network, Parents, Providers, Queues
from impactsim.rng import uniform


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


@nb.njit(cache=True, inline="always")
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


@nb.njit(cache=True, nogil=True, **INTERNAL)
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
            np.int64(c),
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


@nb.njit(cache=True, nogil=True, **INTERNAL)
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


@nb.njit(cache=True, nogil=True, **INTERNAL)
def serve_waiting_lists(
    t: int,
    joiners: Joiners,
    queues: Queues,
    parents: Parents,
    providers: Providers,
    interventions: Interventions,
    s_cnt: np.ndarray,
    enrol_new: np.ndarray,
    gaveup_new: np.ndarray,
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
    segment = parents.segment
    category = parents.category
    first_channel = parents.first_channel
    adopt_step = parents.adopt_step
    status = parents.status
    t_event = parents.t_event
    effect = parents.effect
    spill = parents.spill
    t_next = parents.t_next
    t_due = parents.t_due
    prov_state = providers.prov_state
    prov_acc = providers.prov_acc
    prov_enrol = providers.prov_enrol
    prov_cap_step = providers.prov_cap_step
    iv_keys = interventions.iv_keys
    max_wait_steps = interventions.max_wait_steps
    wait_start = joiners.start
    wait_id = joiners.parent
    wait_key = joiners.key
    q_id = queues.q_id
    q_t = queues.q_t
    q_len = queues.q_len
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
                enrol(i, k, t, cs, s, WAITING, p, parents, providers, interventions, s_cnt)
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


@nb.njit(cache=True, parallel=True, nogil=True, **INTERNAL)
def serve_and_push(
    t: int,
    joiners: Joiners,
    queues: Queues,
    parents: Parents,
    providers: Providers,
    interventions: Interventions,
    network: Network,
    s_cnt: np.ndarray,
    enrol_new: np.ndarray,
    gaveup_new: np.ndarray,
    enrol_ev: np.ndarray,
    n_direct: int,
    leave_id: np.ndarray,
    leave_mask: np.ndarray,
    spill_ev: np.ndarray,
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
    effect = parents.effect
    spill = parents.spill
    wom_count = parents.wom_count
    has_gain = parents.has_gain
    spill_frac = interventions.spill_frac
    nbr_off = network.nbr_off
    nbrs = network.nbrs
    mf_count = network.mf_count
    n_tasks = max(2, n_threads)
    n_wom = leave_id.shape[0] + n_direct
    take = np.zeros(WORK_COUNTER_STRIDE, np.int64)
    for task in nb.prange(n_tasks):
        if task == 0:
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


@nb.njit(cache=True, nogil=True, **INTERNAL)
def grow_queues(q_id: np.ndarray, q_t: np.ndarray, q_len: np.ndarray, n_join: int) -> tuple:
    """Room on the waiting lists for ``n_join`` joiners: the lists, doubled when too small."""
    n_iv = q_len.shape[0]
    need = n_join
    for k in range(n_iv):
        need = max(need, q_len[k] + n_join)
    if need <= q_id.shape[1]:
        return q_id, q_t
    cap = max(need, 2 * q_id.shape[1])
    q_id2 = np.zeros((n_iv, cap), np.int32)
    q_t2 = np.zeros((n_iv, cap), np.int16)
    for k in range(n_iv):  # element by element: slice assignment is slow to compile
        for j in range(q_len[k]):
            q_id2[k, j] = q_id[k, j]
            q_t2[k, j] = q_t[k, j]
    return q_id2, q_t2
