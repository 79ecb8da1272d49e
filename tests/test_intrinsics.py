"""The intrinsics of the kernels: a prefetch that changes nothing, and atomic additions.

Expected values: a prefetch is a hint with no effect on memory (the arrays must equal
their copies bit for bit, and a sum computed with prefetches equals the one without);
the machine code must hold the processor's prefetch instruction (``prefetch*`` on
x86-64, ``prfm`` on ARM), else the kernels would silently lose it. Atomic additions from
all threads lose none: the counters equal ``np.bincount`` of the rows added to, exactly
(plain additions from two threads lose some: about 3 % of 4 million were lost in a
try); on x86-64 the machine code holds a ``lock``-prefixed instruction. A fetch-and-add
returns the value before its addition, so workers taking items from one shared counter
each get different items: every item is taken exactly once (plain reads and writes of
the counter hand some items to two workers).
"""

from __future__ import annotations

import platform

import numba as nb
import numpy as np
import pytest

from impactsim.engine.intrinsics import atomic_add, fetch_add, prefetch_row


@nb.njit
def _gather_sum(values: np.ndarray, rows: np.ndarray, ahead: int) -> float:
    total = 0.0
    for h in range(rows.shape[0]):
        if ahead > 0:
            # also past the end of the list and of the array: a hint never faults
            prefetch_row(values, rows[h] + ahead)
        total += values[rows[h], 0]
    return total


@nb.njit
def _touch_all(a1: np.ndarray, a2: np.ndarray, a3: np.ndarray, i: int) -> None:
    prefetch_row(a1, i)
    prefetch_row(a2, i)
    prefetch_row(a3, i)


def test_prefetch_changes_no_value() -> None:
    rng = np.random.default_rng(5)
    values = rng.random((50_000, 3))
    rows = rng.integers(0, values.shape[0], 20_000)
    before = values.copy()
    plain = _gather_sum(values, rows, 0)
    with_prefetch = _gather_sum(values, rows, 8)
    assert with_prefetch == plain  # same additions in the same order
    np.testing.assert_array_equal(values, before)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.float32, np.float64])
def test_prefetch_any_dtype_and_rank(dtype: type) -> None:
    a1 = np.arange(10, dtype=dtype)
    a2 = np.arange(40, dtype=dtype).reshape(10, 4)
    a3 = np.arange(80, dtype=dtype).reshape(10, 4, 2)[:, ::2, :]  # non-contiguous rows
    copies = [a.copy() for a in (a1, a2, a3)]
    for i in (0, 9, 1000):
        _touch_all(a1, a2, a3, i)
    for a, c in zip((a1, a2, a3), copies, strict=True):
        np.testing.assert_array_equal(a, c)


def test_prefetch_is_in_the_machine_code() -> None:
    _gather_sum(np.zeros((4, 1)), np.zeros(4, np.int64), 1)
    asm = "\n".join(_gather_sum.inspect_asm().values()).lower()
    arch = platform.machine().lower()
    if arch in ("x86_64", "amd64"):
        assert "prefetch" in asm
    elif arch in ("aarch64", "arm64"):
        assert "prfm" in asm
    else:
        pytest.skip(f"no known prefetch instruction for {arch}")


def test_prefetch_rejects_non_arrays() -> None:
    @nb.njit
    def bad(x: float) -> None:
        prefetch_row(x, 0)

    with pytest.raises(nb.core.errors.TypingError):
        bad(1.0)


@nb.njit(parallel=True)
def _add_many(counts: np.ndarray, rows: np.ndarray) -> None:
    for x in nb.prange(rows.shape[0]):
        atomic_add(counts, rows[x], 1, 1)
        atomic_add(counts, rows[x], 0, -1)


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.int64])
def test_atomic_add_loses_no_addition_between_threads(dtype: type) -> None:
    # 400,000 additions to 4 counters from all threads; int16 wraps modulo 2**16
    rows = np.random.default_rng(3).integers(0, 4, 400_000)
    want = np.bincount(rows, minlength=4)
    counts = np.zeros((4, 2), dtype)
    _add_many(counts, rows)
    np.testing.assert_array_equal(counts[:, 1], want.astype(dtype))
    np.testing.assert_array_equal(counts[:, 0], (-want).astype(dtype))


def test_atomic_add_rejects_float_arrays() -> None:
    @nb.njit
    def bad(a: np.ndarray) -> None:
        atomic_add(a, 0, 0, 1)

    with pytest.raises(nb.core.errors.TypingError):
        bad(np.zeros((2, 2)))


@nb.njit(parallel=True)
def _take_all(counter: np.ndarray, n_items: int, n_workers: int, taken_by: np.ndarray) -> None:
    for w in nb.prange(n_workers):
        item = fetch_add(counter, 0, 1)
        while item < n_items:
            taken_by[item] += w + 1
            item = fetch_add(counter, 0, 1)


@pytest.mark.parametrize("n_workers", [1, 2, 7])
def test_fetch_add_hands_out_every_item_exactly_once(n_workers: int) -> None:
    # workers take items from one shared counter: each item is taken by one worker
    # (taken_by[item] is that worker's number, never 0 and never the sum of two), and
    # the counter ends at the items plus one failed take per worker
    n_items = 200_000
    counter = np.zeros(1, np.int64)
    taken_by = np.zeros(n_items, np.int64)
    _take_all(counter, n_items, n_workers, taken_by)
    assert taken_by.min() >= 1
    assert taken_by.max() <= n_workers
    assert counter[0] == n_items + n_workers
    if n_workers == 1:
        assert (taken_by == 1).all()


@nb.njit
def _fetch_twice(a: np.ndarray) -> tuple[int, int]:
    first = fetch_add(a, 1, 5)
    second = fetch_add(a, 1, -2)
    return first, second


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.int64])
def test_fetch_add_returns_the_value_before(dtype: type) -> None:
    a = np.array([7, 10, 3], dtype)
    assert _fetch_twice(a) == (10, 15)
    np.testing.assert_array_equal(a, np.array([7, 13, 3], dtype))


@pytest.mark.parametrize(
    ("kernel", "args"),
    [
        (_add_many, (np.zeros((4, 2), np.int16), np.zeros(4, np.int64))),
        (_fetch_twice, (np.zeros(2, np.int64),)),
    ],
    ids=["atomic_add", "fetch_add"],
)
def test_atomic_additions_are_in_the_machine_code(kernel: object, args: tuple) -> None:
    kernel(*args)
    asm = "\n".join(kernel.inspect_asm().values()).lower()
    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("the lock prefix is x86-64's")
    assert "lock" in asm


def test_fetch_add_rejects_float_and_2d_arrays() -> None:
    @nb.njit
    def bad(a: np.ndarray) -> int:
        return fetch_add(a, 0, 1)

    with pytest.raises(nb.core.errors.TypingError):
        bad(np.zeros(2))
    with pytest.raises(nb.core.errors.TypingError):
        bad(np.zeros((2, 2), np.int64))
