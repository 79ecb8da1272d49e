"""Waiting lists handled in parallel: joiners listed per chunk, give-ups in blocks.

``waiting_lists.list_joiners`` and ``waiting_lists.give_up`` switch to a parallel kernel when a step
has many joiners or many parents past their maximum wait. Each test compares the
parallel kernel with the one-thread code and with a numpy statement of the rule, and the
engine's recordings on one and two threads.
"""

from __future__ import annotations

import dataclasses

import numba
import numpy as np
import pytest

from helpers import build
from impactsim.engine.layout import (
    AWARE,
    COMPLETED,
    ENROLLED,
    EV_JOIN,
    GAVE_UP,
    N_FLAGS,
    NONE,
    WAITING,
    join_code,
)
from impactsim.engine.simulate import simulate_replicate
from impactsim.engine.spec import compile_scenario
from impactsim.engine.waiting_lists import (
    GIVE_UP_PARALLEL_MIN,
    LIST_JOINERS_PARALLEL_MIN,
    give_up_blocks,
    give_up_span,
    list_joiners,
    list_joiners_parallel,
)
from impactsim.rng import replicate_key, stream_key, uniform
from test_providers import capacity_scenario

needs_two_threads = pytest.mark.skipif(
    numba.config.NUMBA_NUM_THREADS < 2, reason="needs at least 2 numba threads"
)


def _queue(seed: int, n: int = 12_000, stale: int = 18_000, t: int = 40):
    """A waiting list of programme k = 1 with current and stale entries.

    Parents have a random status and event step in 1..t; each waiting parent has one
    current entry (its event step) and stale entries of earlier waits (older steps) are
    added for random parents, all in order of joining, as the engine keeps the list.
    """
    rng = np.random.default_rng(seed)
    n_iv = 2
    status = rng.integers(0, 6, (n, n_iv)).astype(np.int8)
    t_event = rng.integers(1, t + 1, (n, n_iv)).astype(np.int16)
    segment = rng.integers(0, 3, n).astype(np.int8)
    waiting = np.nonzero(status[:, 1] == WAITING)[0]
    old = rng.integers(0, n, stale)
    old_step = np.where(
        status[old, 1] == WAITING,
        (rng.random(stale) * t_event[old, 1]).astype(np.int64),  # before the current wait
        rng.integers(0, t + 1, stale),
    )
    ids = np.concatenate([waiting, old])
    steps = np.concatenate([t_event[waiting, 1], old_step]).astype(np.int16)
    order = np.argsort(steps, kind="stable")
    q_id = np.zeros((n_iv, len(ids)), np.int32)
    q_t = np.zeros((n_iv, len(ids)), np.int16)
    q_id[1] = ids[order]
    q_t[1] = steps[order]
    return q_id, q_t, segment, status, t_event


@needs_two_threads
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_give_up_blocks_equal_one_thread_and_the_rule(seed: int):
    t, lo, hi = 41, 1500, 17_000
    q_id, q_t, segment, status, t_event = _queue(seed)
    # the rule: an entry is current if the parent waits (status WAITING) since its step;
    # current entries give up in step t, stale ones are left alone
    ids, steps = q_id[1, lo:hi], q_t[1, lo:hi]
    current = (status[ids, 1] == WAITING) & (t_event[ids, 1] == steps)
    assert len(np.unique(ids[current])) == current.sum()  # one current entry per parent
    want_status, want_t = status.copy(), t_event.copy()
    want_status[ids[current], 1] = GAVE_UP
    want_t[ids[current], 1] = t
    want_counts = np.bincount(segment[ids[current]], minlength=3)
    assert want_counts.sum() > 1000  # enough current entries to see a lost one

    serial = (status.copy(), t_event.copy(), np.zeros(3, np.int64))
    give_up_span(1, t, lo, hi, q_id, q_t, segment, serial[0], serial[1], serial[2])
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(2)
        blocks = (status.copy(), t_event.copy(), np.zeros(3, np.int64))
        give_up_blocks(1, t, lo, hi, q_id, q_t, segment, *blocks, 8)
    finally:
        numba.set_num_threads(before)
    for got in (serial, blocks):
        np.testing.assert_array_equal(got[0], want_status)
        np.testing.assert_array_equal(got[1], want_t)
        np.testing.assert_array_equal(got[2], want_counts)


def _joiners(seed: int, t: int = 9):
    """Join events of step t in 40 chunks of 100 parents; chunks 5 and 17 overflowed.

    Listed chunks carry their joiners' codes (``layout.join_code``, in parent order);
    an overflowed chunk has more joiners than its list holds, found by their state.
    """
    rng = np.random.default_rng(seed)
    n_iv, n_chunks, size, cap = 3, 40, 100, 64
    n = n_chunks * size
    bounds = np.arange(0, n + 1, size, dtype=np.int64)
    status = rng.choice([NONE, AWARE, COMPLETED], (n, n_iv)).astype(np.int8)
    t_event = rng.integers(0, t, (n, n_iv)).astype(np.int16)
    rate = np.full(n, 0.1)
    for c in (5, 17):
        rate[bounds[c] : bounds[c + 1]] = 0.5
    joins = rng.random((n, n_iv)) < rate[:, None]
    direct = rng.random((n, n_iv)) < 0.4
    status[joins & direct] = ENROLLED
    status[joins & ~direct] = WAITING
    t_event[joins] = t
    c_flags = np.zeros((n_chunks, N_FLAGS), np.int64)
    c_events = np.zeros((n_chunks, 3, cap), np.int64)
    c_direct = np.zeros((n_chunks, n_iv), np.int64)
    c_wait = np.zeros((n_chunks, n_iv), np.int64)
    for c in range(n_chunks):
        for i in range(bounds[c], bounds[c + 1]):
            for k in np.nonzero(joins[i])[0]:
                e = c_flags[c, EV_JOIN]
                if e < cap:
                    c_events[c, EV_JOIN, e] = join_code(i, k, n_iv, direct[i, k])
                c_flags[c, EV_JOIN] = e + 1
                (c_direct if direct[i, k] else c_wait)[c, k] += 1
    listed = np.ones(n_chunks, bool)
    listed[[5, 17]] = False
    assert (c_flags[listed, EV_JOIN] <= cap).all()
    assert (c_flags[~listed, EV_JOIN] > cap).all()
    return bounds, status, t_event, joins, direct, c_flags, c_events, c_direct, c_wait


@needs_two_threads
@pytest.mark.parametrize("seed", [4, 5])
def test_joiners_listed_in_parallel_equal_one_thread_and_the_rule(seed: int):
    t = 9
    bounds, status, t_event, joins, direct, c_flags, c_events, c_direct, c_wait = _joiners(seed)
    n_iv = status.shape[1]
    iv_keys = np.array(
        [[stream_key(seed, "iv", str(k), str(j)) for j in range(6)] for k in range(n_iv)]
    )
    direct_at = np.concatenate([[0], np.cumsum(c_direct.sum(axis=1))[:-1]]).astype(np.int64)
    wait_start = np.concatenate([[0], np.cumsum(c_wait.sum(axis=0))])
    first_slot = wait_start[:-1] + np.vstack([np.zeros(n_iv, np.int64), np.cumsum(c_wait, 0)[:-1]])
    # the rule: enrolled joiners as i * K + k in parent order; for each programme, the
    # waiting joiners in parent order, each with the key uniform(iv_keys[k, 3], i, t)
    ii, kk = np.nonzero(joins & direct)
    want_direct = ii * n_iv + kk
    want_id = np.concatenate([np.nonzero(joins[:, k] & ~direct[:, k])[0] for k in range(n_iv)])
    want_k = np.repeat(np.arange(n_iv), np.diff(wait_start))
    want_key = np.array(
        [uniform(iv_keys[k, 3], i, t) for i, k in zip(want_id, want_k, strict=True)]
    )

    def listing(parallel: bool):
        wait_at = first_slot.astype(np.int64)  # advanced by the kernel
        out = (np.empty(wait_start[-1], np.int32), np.empty(wait_start[-1]))
        enrol_ev = np.empty(len(want_direct), np.int64)
        args = (t, bounds, c_flags, c_events, status, t_event, iv_keys, direct_at, wait_at)
        if parallel:
            list_joiners_parallel(*args, *out, enrol_ev)
        else:
            list_joiners(*args, *out, enrol_ev, int(c_flags[:, EV_JOIN].sum()), 1)
        return out[0], out[1], enrol_ev, wait_at

    before = numba.get_num_threads()
    try:
        numba.set_num_threads(2)
        results = [listing(False), listing(True)]
    finally:
        numba.set_num_threads(before)
    for wait_id, wait_key, enrol_ev, wait_at in results:
        np.testing.assert_array_equal(enrol_ev, want_direct)
        np.testing.assert_array_equal(wait_id, want_id)
        np.testing.assert_array_equal(wait_key, want_key)
        np.testing.assert_array_equal(wait_at, first_slot + c_wait)


@needs_two_threads
def test_engine_identical_on_one_and_two_threads_with_long_waiting_lists():
    # capacity_scenario with no patience (test_providers): 3 organisations x 5 places; with
    # 20,000 parents nearly all ask for a place in the same step, so on 2 threads the
    # joiners are listed and the give-ups handled by the parallel kernels
    d = capacity_scenario(max_wait=0)
    d["population"]["size"] = 20_000
    spec = compile_scenario(build(d))
    recs = []
    before = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            recs.append(simulate_replicate(spec, replicate_key(21, 0)))
    finally:
        numba.set_num_threads(before)
    gave_up = recs[1].gaveup_new[:, 0].sum(axis=1)
    asked = gave_up + recs[1].enrol_new[:, 0].sum(axis=1)
    assert gave_up.max() >= GIVE_UP_PARALLEL_MIN
    assert asked.max() >= LIST_JOINERS_PARALLEL_MIN
    # 15 places in the month the parents ask; everyone else gives up at once
    assert recs[1].enrol_new[:, 0].sum() == 15
    assert gave_up.sum() == 20_000 - 15
    for field in dataclasses.fields(recs[0]):
        np.testing.assert_array_equal(
            getattr(recs[0], field.name), getattr(recs[1], field.name), err_msg=field.name
        )
