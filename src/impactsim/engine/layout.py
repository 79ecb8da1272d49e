"""The engine's layout, defined once.

Parent statuses, provider states, event kinds, the rows of the count arrays, the clocks'
"never", chunking and list capacities. Every kernel module and the memory estimate
(:mod:`impactsim.resources`) read these; the record rows are written by
:mod:`impactsim.engine.counts` and decoded by :mod:`impactsim.engine.simulate` through
:func:`count_rows` and :func:`status_row`.
"""

from __future__ import annotations

import numba as nb
import numpy as np

#: Options of the kernels that only other kernels call (never Python): numba makes no
#: Python or C entry point for them. Their code is part of their callers' anyway, and the
#: entry points (which unpack every array of every bundle) cost a cold start seconds.
INTERNAL = {"no_cpython_wrapper": True, "no_cfunc_wrapper": True}

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


# Rows of the per-chunk / per-month count array ``cnt[..., row, s]`` (see :func:`count_rows`).
ROW_N = 0  # parents present
ROW_PREV = 1  # cases, scenario
ROW_PREV_CF = 2  # cases, counterfactual
ROW_REALIZED = 3  # gain >= minimal important change
ROW_ANY = 4  # took part in any intervention
ROW_INDIRECT = 5  # non-participants with a spillover gain
N_FIXED_ROWS = 6


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


# the parents' pass prefetches the state of the parent this many places down its list
PREFETCH_AHEAD = 8


#: int64 slots between the work counters of two workers (64 bytes: one cache line each)
WORK_COUNTER_STRIDE = 8


@nb.njit(cache=True, inline="always")
def note_event(c_events: np.ndarray, c_flags: np.ndarray, c: int, kind: int, code: int) -> None:
    """Count an event of chunk c and list it (``code``) if the chunk's list has room."""
    n_ev = c_flags[c, kind]
    if n_ev < c_events.shape[2]:
        c_events[c, kind, n_ev] = code
    c_flags[c, kind] = n_ev + 1


@nb.njit(cache=True, inline="always")
def join_code(i: int, k: int, n_iv: int, direct: bool) -> int:
    """Event code of parent i joining programme k: ``2 (i K + k)``, plus 1 if enrolled at once."""
    return 2 * (i * n_iv + k) + (1 if direct else 0)


@nb.njit(cache=True, inline="always")
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


@nb.njit(cache=True, inline="always")
def status_row(st: int, k: int, n_iv: int) -> int:
    """Row of the stock counts for parents with status ``st`` for intervention k."""
    return N_FIXED_ROWS + st * n_iv + k


#: Rows of the month-end counts per chunk (``m_cnt`` [chunk, row, S]): the change in
#: cases (scenario), the parents with a gain of at least the minimal important change,
#: and the parents who never took part but carry a spillover gain, added to the month's
#: ``ROW_PREV``, ``ROW_REALIZED`` and ``ROW_INDIRECT`` by :func:`add_measured`.
M_PREV = 0
M_REALIZED = 1
M_INDIRECT = 2
N_M_ROWS = 3

#: Rows of the further outcomes' month-end counts (``x_m_cnt``, ``rec_x_cnt``), counted
#: from all parents at month ends: cases without programmes, cases, realized change.
X_CF = 0
X_PREV = 1
X_REALIZED = 2
N_X_ROWS = 3

#: Events of one kind a chunk lists per step for the engine's sequential phase (a chunk
#: with more is scanned instead: lists and scans visit a chunk's events of one
#: intervention in parent order).
EVENT_LIST_CAPACITY = 64

#: Initial waiting-list capacity per intervention, at least (the lists grow by doubling).
QUEUE_MIN_CAPACITY = 1024


def initial_queue_capacity(n: int) -> int:
    """Initial waiting-list capacity per intervention for ``n`` parents."""
    return min(n, max(QUEUE_MIN_CAPACITY, n // 64))


def chunk_count(n: int) -> int:
    """Number of fixed chunks the engine splits ``n`` parents into (not the thread count)."""
    return max(1, min(512, n // 256))


def decode_count_rows(cnt: np.ndarray, n_iv: int, n_pseudo: int) -> dict[str, np.ndarray]:
    """The recorded count rows ``cnt`` [month, row, S] by name (the layout of :func:`count_rows`).

    Returns:
        The stocks of :class:`impactsim.engine.simulate.Recording` that the count rows hold:
        ``n``, ``prev``, ``prev_cf``, ``realized``, ``any_ever``, ``indirect`` [M + 1, S];
        ``enrolled``, ``completed``, ``dropped``, ``waiting``, ``gave_up`` and ``ever``
        (enrolled, completed or dropped: present parents who ever took part) [M + 1, K, S];
        ``any_ever_cat`` and ``n_cat`` [M + 1, A, S]; ``any_ever_channel`` [M + 1, C + 2, S].
    """
    o_st, o_cat, o_ncat, o_ch, n_rows = count_rows(n_iv, 5, n_pseudo)

    def rows(first: int, stop: int | None = None) -> np.ndarray:
        return np.ascontiguousarray(cnt[:, first] if stop is None else cnt[:, first:stop])

    def by_status(st: int) -> np.ndarray:
        return rows(o_st + st * n_iv, o_st + (st + 1) * n_iv)

    enrolled, completed, dropped = (by_status(x) for x in (ENROLLED, COMPLETED, DROPPED))
    return {
        "n": rows(ROW_N),
        "prev": rows(ROW_PREV),
        "prev_cf": rows(ROW_PREV_CF),
        "realized": rows(ROW_REALIZED),
        "ever": enrolled + completed + dropped,
        "completed": completed,
        "dropped": dropped,
        "enrolled": enrolled,
        "waiting": by_status(WAITING),
        "gave_up": by_status(GAVE_UP),
        "any_ever": rows(ROW_ANY),
        "any_ever_cat": rows(o_cat, o_ncat),
        "any_ever_channel": rows(o_ch, n_rows),
        "indirect": rows(ROW_INDIRECT),
        "n_cat": rows(o_ncat, o_ch),
    }
