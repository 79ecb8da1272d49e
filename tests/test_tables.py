"""The shared helpers of the long result tables: total rows, intervals, euro amounts."""

import math

import numpy as np
import pandas as pd
import pytest

from impactsim.tables import ALL, eur, interval, replicate_values, select


def long_table() -> pd.DataFrame:
    rows = []
    for rep in range(3):
        rows.append(("m", rep, ALL, ALL, ALL, ALL, float(rep)))
        rows.append(("m", rep, "low", ALL, ALL, ALL, 10.0 + rep))
        rows.append(("m", rep, ALL, "course", ALL, ALL, 20.0 + rep))
        rows.append(("other", rep, ALL, ALL, ALL, ALL, -1.0))
    cols = ["metric", "replicate", "segment", "intervention", "channel", "adopter_category"]
    return pd.DataFrame(rows, columns=[*cols, "value"])


def test_select_takes_totals_unless_told_otherwise():
    df = long_table()
    assert select(df, "m")["value"].tolist() == [0.0, 1.0, 2.0]
    assert select(df, "m", segment="low")["value"].tolist() == [10.0, 11.0, 12.0]
    assert select(df, "m", free=("segment",))["value"].tolist() == [0, 10, 1, 11, 2, 12]
    assert len(select(df)) == 6  # totals of every metric
    assert replicate_values(df, "m", intervention="course").to_dict() == {0: 20, 1: 21, 2: 22}


def test_select_skips_breakdown_columns_a_table_lacks():
    df = long_table().drop(columns=["channel", "adopter_category"])
    assert select(df, "m")["value"].tolist() == [0.0, 1.0, 2.0]


def test_interval_skips_nan_and_handles_no_values():
    iv = interval([1.0, 2.0, math.nan, 3.0, 4.0], level=0.5)
    assert iv["n"] == 4 and iv["mean"] == 2.5
    assert (iv["lo"], iv["hi"]) == (
        np.quantile([1, 2, 3, 4], 0.25),
        np.quantile([1, 2, 3, 4], 0.75),
    )
    assert math.isnan(interval([5.0])["sd"])
    empty = interval([])
    assert empty["n"] == 0 and math.isnan(empty["mean"])


@pytest.mark.parametrize(
    ("amount", "millions", "text"),
    [
        (1234.4, False, "€1,234"),
        (-1234.4, False, "\u2212€1,234"),
        (2_345_678.0, False, "€2,345,678"),
        (2_345_678.0, True, "€2.35 million"),
        (-2_345_678.0, True, "\u2212€2.35 million"),
        (999_999.0, True, "€999,999"),
        (math.nan, False, "n/a"),
    ],
)
def test_eur_writes_a_true_minus_sign(amount, millions, text):
    assert eur(amount, millions=millions) == text
