"""Network pushes side by side, and the waiting lists' key order.

``pushes.push_to_neighbours`` runs the spillover pushes of a step's completers on one
thread, in event order, while all threads take blocks of the word-of-mouth pushes of
leavers and enrolments from a shared counter (with atomic additions when more than one
block). Whatever the number of threads, the result must be the rule applied event by
event, neighbour by neighbour, which the reference below states in plain Python. ``waiting_lists.order_by_uniform_key`` must
give the order of a stable sort.
"""

from __future__ import annotations

import numpy as np
import pytest

from impactsim.engine.pushes import push_to_neighbours
from impactsim.engine.waiting_lists import order_by_uniform_key

N_IV = 3


def _network(rng: np.random.Generator, n: int, mean_degree: float):
    """A random undirected network as CSR arrays (offsets int64, neighbours int32)."""
    n_ties = int(n * mean_degree / 2)
    a = rng.integers(0, n, n_ties)
    b = rng.integers(0, n, n_ties)
    keep = a != b
    a, b = a[keep], b[keep]
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    nbr_off = np.zeros(n + 1, np.int64)
    np.add.at(nbr_off, src + 1, 1)
    return np.cumsum(nbr_off), dst.astype(np.int32)


def _step(seed: int, n: int, n_leave: int, n_spill: int, n_enrol: int):
    """One step's events and the state they are pushed into."""
    rng = np.random.default_rng(seed)
    nbr_off, nbrs = _network(rng, n, 10.0)
    effect = rng.normal(0.3, 0.2, (n, N_IV)).astype(np.float32)
    spill = np.where(rng.random((n, N_IV)) < 0.3, rng.normal(0.0, 0.05, (n, N_IV)), 0.0).astype(
        np.float32
    )
    # a few completers whose push cancels a neighbour's spillover to exactly zero
    spill_frac = np.array([0.25, 0.0, 0.5])
    ids = rng.permutation(n)
    leave_id = ids[:n_leave].astype(np.int64)
    leave_mask = rng.integers(1, 1 << N_IV, n_leave).astype(np.int64)
    spill_ev = np.sort(
        ids[n_leave : n_leave + n_spill] * N_IV + rng.choice([0, 2], n_spill)
    ).astype(np.int64)
    enrol_ev = (
        ids[n_leave + n_spill : n_leave + n_spill + n_enrol] * N_IV + rng.integers(0, N_IV, n_enrol)
    ).astype(np.int64)
    state = {
        "effect": effect,
        "spill_frac": spill_frac,
        "spill": spill,
        "has_gain": np.zeros(n, np.uint8),
        "wom_count": rng.integers(5, 20, (n, N_IV)).astype(np.int16),
    }
    return (leave_id, leave_mask, spill_ev, enrol_ev, nbr_off, nbrs), state


def _reference(events, state):
    """The pushes event by event, neighbour by neighbour (the rule in docs/model.md)."""
    leave_id, leave_mask, spill_ev, enrol_ev, nbr_off, nbrs = events
    st = {name: a.copy() for name, a in state.items()}
    for i, m in zip(leave_id, leave_mask, strict=True):
        for j in nbrs[nbr_off[i] : nbr_off[i + 1]]:
            for k in range(N_IV):
                if m & (1 << k):
                    st["wom_count"][j, k] -= 1
    for ev in spill_ev:
        i, k = divmod(int(ev), N_IV)
        val = st["spill_frac"][k] * st["effect"][i, k]  # float64, as in the kernel
        for j in nbrs[nbr_off[i] : nbr_off[i + 1]]:
            old = st["spill"][j, k]
            st["spill"][j, k] = np.float64(old) + val  # rounded to float32 on storing
            st["has_gain"][j] = 1
    for ev in enrol_ev:
        i, k = divmod(int(ev), N_IV)
        for j in nbrs[nbr_off[i] : nbr_off[i + 1]]:
            st["wom_count"][j, k] += 1
    return st


def _push(events, got, n_threads: int) -> None:
    push_to_neighbours(
        *events,
        got["effect"],
        got["spill_frac"],
        got["spill"],
        got["has_gain"],
        got["wom_count"],
        n_threads,
    )


@pytest.mark.parametrize("n_threads", [1, 2, 3, 7])
@pytest.mark.parametrize(
    "sizes",
    [(400, 900, 1500), (2, 3, 4), (0, 0, 1), (0, 50, 0)],
    ids=["many-events", "fewer-events-than-threads", "one-enrolment", "completers-only"],
)
def test_pushes_equal_the_rule_for_any_number_of_threads(n_threads: int, sizes):
    # n_threads is the number of tasks the kernel splits the pushes into, whatever numba
    # runs on; "many-events" has 1,900 word-of-mouth events, 8 blocks of
    # pushes.PUSH_BLOCK (256) taken by the tasks, with atomic additions when > 1 task
    events, state = _step(
        seed=sum(sizes) + n_threads, n=3000, n_leave=sizes[0], n_spill=sizes[1], n_enrol=sizes[2]
    )
    want = _reference(events, state)
    got = {name: a.copy() for name, a in state.items()}
    _push(events, got, n_threads)
    for name in ("wom_count", "spill", "has_gain"):
        # exact: integer counts, and float32 sums added up in the same order
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    # the step does change the state (a push that reached nobody would pass the above)
    assert (got["wom_count"] != state["wom_count"]).any() or sizes[0] + sizes[2] == 0
    assert (got["spill"] != state["spill"]).any() or sizes[1] == 0


def test_pushes_cancel_spillover_to_exactly_zero():
    # neighbours with spillover -0.25 * 0.4 = -0.1 from before get +0.25 * 0.4 back: their
    # spillover goes to exactly zero (the month-end count then no longer counts them as
    # spillover-only; see test_population)
    n = 10
    nbr_off = np.array([0, 3] + [3] * (n - 1), np.int64)
    nbrs = np.array([2, 5, 9], np.int32)
    effect = np.zeros((n, N_IV), np.float32)
    effect[0, 0] = 0.4
    spill = np.zeros((n, N_IV), np.float32)
    spill[[2, 5, 9], 0] = np.float32(-0.25 * np.float32(0.4))
    for n_threads in (1, 2, 4):
        got = {
            "effect": effect,
            "spill_frac": np.array([0.25, 0.0, 0.0]),
            "spill": spill.copy(),
            "has_gain": np.zeros(n, np.uint8),
            "wom_count": np.zeros((n, N_IV), np.int16),
        }
        events = (
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.array([0 * N_IV + 0], np.int64),
            np.zeros(0, np.int64),
            nbr_off,
            nbrs,
        )
        _push(events, got, n_threads)
        assert (got["spill"] == 0.0).all()
        np.testing.assert_array_equal(np.flatnonzero(got["has_gain"]), [2, 5, 9])


@pytest.mark.parametrize("n", [0, 1, 2, 17, 5400])
def test_order_by_uniform_key_is_a_stable_sort(n: int):
    rng = np.random.default_rng(n)
    key = rng.random(n)
    key[: n // 5] = key[n // 3 : n // 3 + n // 5]  # ties, to be kept in index order
    if n >= 2:
        key[0], key[1] = 0.0, np.nextafter(1.0, 0.0)  # the ends of [0, 1)
    np.testing.assert_array_equal(order_by_uniform_key(key), np.argsort(key, kind="stable"))


def test_order_by_uniform_key_with_one_key_repeated_and_clustered_keys():
    same = np.full(300, 0.5)
    np.testing.assert_array_equal(order_by_uniform_key(same), np.arange(300))
    # all keys in one bucket: the insertion sort does all the work
    clustered = 0.3 + np.random.default_rng(5).random(200) * 1e-6
    np.testing.assert_array_equal(
        order_by_uniform_key(clustered), np.argsort(clustered, kind="stable")
    )
