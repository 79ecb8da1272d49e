"""The layout of the count arrays (``engine.layout``): rows, status rows, decoding.

The stock counts ``cnt[..., row, s]`` hold, in this order (``layout.count_rows``): the
fixed rows ``ROW_N .. ROW_INDIRECT``, a status block of ``N_STATUS * K`` rows (status
``st`` of intervention k in row ``first + st K + k``), the took-part rows per adopter
category (A), the present parents per category (A) and the took-part rows per channel of
first contact (C + 2). The expected rows below are written out from that description.
"""

from __future__ import annotations

import numpy as np
import pytest

from impactsim.engine import layout
from impactsim.engine.layout import (
    AWARE,
    COMPLETED,
    DROPPED,
    ENROLLED,
    GAVE_UP,
    N_FIXED_ROWS,
    N_STATUS,
    NONE,
    ROW_ANY,
    ROW_INDIRECT,
    ROW_N,
    ROW_PREV,
    ROW_PREV_CF,
    ROW_REALIZED,
    WAITING,
    count_rows,
    decode_count_rows,
    join_code,
    note_event,
    status_row,
)

N_CAT = 5  # the five Rogers adopter categories
SIZES = [(1, 3), (2, 4), (3, 7), (6, 2)]  # (K interventions, C + 2 channel rows)


def test_count_rows_by_hand():
    # K = 2, C + 2 = 4: 6 fixed rows, 7 x 2 status rows (6..19), 5 took-part rows per
    # category (20..24), 5 present per category (25..29), 4 channel rows (30..33)
    assert count_rows(2, N_CAT, 4) == (6, 20, 25, 30, 34)


@pytest.mark.parametrize(("n_iv", "n_pseudo"), SIZES)
def test_count_rows_blocks_are_consecutive_and_do_not_overlap(n_iv: int, n_pseudo: int):
    o_st, o_cat, o_ncat, o_ch, n_rows = count_rows(n_iv, N_CAT, n_pseudo)
    fixed = [ROW_N, ROW_PREV, ROW_PREV_CF, ROW_REALIZED, ROW_ANY, ROW_INDIRECT]
    assert sorted(fixed) == list(range(N_FIXED_ROWS))  # distinct, the first rows
    blocks = [
        range(N_FIXED_ROWS),
        range(o_st, o_cat),
        range(o_cat, o_ncat),
        range(o_ncat, o_ch),
        range(o_ch, n_rows),
    ]
    # each block starts where the previous one ends, with its documented number of rows
    assert [len(b) for b in blocks] == [N_FIXED_ROWS, N_STATUS * n_iv, N_CAT, N_CAT, n_pseudo]
    assert [b.start for b in blocks[1:]] == [b.stop for b in blocks[:-1]]
    # together they cover every row exactly once
    every = np.concatenate([np.arange(b.start, b.stop) for b in blocks])
    np.testing.assert_array_equal(every, np.arange(n_rows))


@pytest.mark.parametrize(("n_iv", "n_pseudo"), SIZES)
def test_status_row_is_the_status_block_of_count_rows(n_iv: int, n_pseudo: int):
    o_st, o_cat, *_ = count_rows(n_iv, N_CAT, n_pseudo)
    rows = [status_row(st, k, n_iv) for st in range(N_STATUS) for k in range(n_iv)]
    # row = first + st K + k: one row per (status, intervention), filling the block
    assert rows == [o_st + st * n_iv + k for st in range(N_STATUS) for k in range(n_iv)]
    assert sorted(rows) == list(range(o_st, o_cat))


def test_statuses_are_the_seven_of_the_status_block():
    assert [NONE, AWARE, WAITING, ENROLLED, COMPLETED, DROPPED, GAVE_UP] == list(range(N_STATUS))


@pytest.mark.parametrize(("n_iv", "n_pseudo"), [(2, 4), (3, 7)])
def test_decode_count_rows_reads_each_stock_from_its_row(n_iv: int, n_pseudo: int):
    n_months, n_seg = 3, 2
    _, o_cat, o_ncat, o_ch, n_rows = count_rows(n_iv, N_CAT, n_pseudo)
    # every entry tells its month, row and segment: 10^6 m + 10^3 s + row
    m = np.arange(n_months)[:, None, None]
    s = np.arange(n_seg)[None, None, :]
    cnt = 1_000_000 * m + 1000 * s + np.arange(n_rows)[None, :, None]
    got = decode_count_rows(cnt, n_iv, n_pseudo)

    def rows(first: int, n: int) -> np.ndarray:
        """What rows first .. first + n - 1 hold, [M, n, S]."""
        return 1_000_000 * m + 1000 * s + (first + np.arange(n))[None, :, None]

    fixed = {
        "n": ROW_N,
        "prev": ROW_PREV,
        "prev_cf": ROW_PREV_CF,
        "realized": ROW_REALIZED,
        "any_ever": ROW_ANY,
        "indirect": ROW_INDIRECT,
    }
    for name, r in fixed.items():
        np.testing.assert_array_equal(got[name], rows(r, 1)[:, 0], name)  # [M, S]
    # the status block: status st of intervention k in row 6 + st K + k
    by_status = {
        "enrolled": ENROLLED,
        "completed": COMPLETED,
        "dropped": DROPPED,
        "waiting": WAITING,
        "gave_up": GAVE_UP,
    }
    for name, st in by_status.items():
        np.testing.assert_array_equal(got[name], rows(N_FIXED_ROWS + st * n_iv, n_iv), name)
    # present parents who ever took part: enrolled + completed + dropped
    ever = sum(rows(N_FIXED_ROWS + st * n_iv, n_iv) for st in (ENROLLED, COMPLETED, DROPPED))
    np.testing.assert_array_equal(got["ever"], ever)
    # the blocks after it: took part per category, present per category, per channel
    np.testing.assert_array_equal(got["any_ever_cat"], rows(o_cat, N_CAT))
    np.testing.assert_array_equal(got["n_cat"], rows(o_ncat, N_CAT))
    np.testing.assert_array_equal(got["any_ever_channel"], rows(o_ch, n_pseudo))
    # nothing else is decoded (NONE and AWARE are not recorded)
    assert set(got) == {*fixed, *by_status, "ever", "any_ever_cat", "n_cat", "any_ever_channel"}


def test_note_event_lists_while_there_is_room_and_always_counts():
    cap = layout.EVENT_LIST_CAPACITY
    events = np.full((2, 3, cap), -1, np.int64)
    flags = np.zeros((2, layout.N_FLAGS), np.int64)
    for code in range(cap + 5):
        note_event(events, flags, 1, layout.EV_SPILL, 100 + code)
    assert flags[1, layout.EV_SPILL] == cap + 5  # every event counted
    np.testing.assert_array_equal(events[1, layout.EV_SPILL], 100 + np.arange(cap))  # first cap
    assert (events[0] == -1).all() and (events[1, layout.EV_EXIT] == -1).all()  # nothing else
    assert flags.sum() == cap + 5


def test_join_code_packs_parent_programme_and_direct_enrolment():
    # 2 (i K + k) + 1 if enrolled at once: even codes wait, odd codes were enrolled
    assert join_code(7, 2, 3, False) == 2 * (7 * 3 + 2)
    assert join_code(7, 2, 3, True) == 2 * (7 * 3 + 2) + 1
