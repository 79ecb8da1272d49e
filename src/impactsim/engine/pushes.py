"""Word of mouth and spillover between parents (docs/model.md, sections 4 and 7).

With a network, the pushes of a step: the word-of-mouth counters of the neighbours of
leavers and new participants, and the spillover of completers to their neighbours. In a
fully mixed population, the mean-field share of participants a parent sees instead
(:func:`mean_field_share`). The word-of-mouth hazard that reads them is
:func:`impactsim.engine.uptake.uptake_hazards`.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from impactsim.engine.intrinsics import atomic_add, fetch_add, prefetch_row
from impactsim.engine.layout import INTERNAL, WORK_COUNTER_STRIDE
from impactsim.engine.state import Network

# the network pushes prefetch an event's neighbour list this many events ahead (its
# offsets twice as many, its receivers' rows 2 events ahead)
PUSH_PREFETCH_AHEAD = 8


@nb.njit(cache=True, inline="always")
def wom_parent(e: int, leave_id: np.ndarray, enrol_ev: np.ndarray, n_iv: int) -> int:
    """The parent of word-of-mouth event e: leavers first, then enrolments."""
    if e < leave_id.shape[0]:
        return leave_id[e]
    return enrol_ev[e - leave_id.shape[0]] // n_iv


@nb.njit(cache=True, nogil=True, **INTERNAL)
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


@nb.njit(cache=True, nogil=True, **INTERNAL)
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


@nb.njit(cache=True, inline="always")
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


@nb.njit(cache=True, nogil=True, **INTERNAL)
def mean_field_share(network: Network, n: int, mf_share: np.ndarray) -> None:
    """The share of (former) participants a parent of segment s sees in a fully mixed population.

    ``mf_share[s, k] = h * own + (1 - h) * overall``: the share among the segment's present
    parents and among all ``n``, mixed by the homophily h.
    """
    mf_count, n_seg_now, homophily = network.mf_count, network.n_seg_now, network.homophily
    n_seg, n_iv = mf_count.shape
    for k in range(n_iv):
        total = 0
        for s in range(n_seg):
            total += mf_count[s, k]
        overall = total / max(n, 1)
        for s in range(n_seg):
            own = mf_count[s, k] / max(n_seg_now[s], 1)
            mf_share[s, k] = homophily * own + (1.0 - homophily) * overall
