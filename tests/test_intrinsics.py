"""The prefetch intrinsic of the kernels: compiles to a prefetch and changes nothing.

Expected values: a prefetch is a hint with no effect on memory (the arrays must equal
their copies bit for bit, and a sum computed with prefetches equals the one without);
the machine code must hold the processor's prefetch instruction (``prefetch*`` on
x86-64, ``prfm`` on ARM), else the kernels would silently lose it.
"""

from __future__ import annotations

import platform

import numba as nb
import numpy as np
import pytest

from impactsim.engine.intrinsics import prefetch_row


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
