"""Shared helpers for the long result tables: total rows, intervals and euro amounts.

A run's ``summary`` and ``timeseries`` (and a sweep's results) are long tables with one
row per metric and breakdown (:data:`BREAKDOWN_COLUMNS`); totals carry the label
:data:`ALL` in every breakdown column. :func:`select` picks them, :func:`interval` and
:func:`interval_table` summarise values across replicates, and :func:`eur` writes an
amount of money as every text output shows it.

A low layer: it imports neither the engine nor the modules that use it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from impactsim.i18n import MINUS as MINUS  # the minus sign of amounts (re-exported)
from impactsim.i18n import money

#: Label of the total over a breakdown column.
ALL = "all"

#: Columns that say which part of the population a row is about.
#: ``outcome``: with several outcomes, the rows of one outcome by its name; ``all`` marks
#: rows not about one outcome, the primary outcome's rows (as with one outcome) and, for
#: money, the total over outcomes (docs/model.md, "Several outcomes").
BREAKDOWN_COLUMNS: tuple[str, ...] = (
    "segment",
    "intervention",
    "channel",
    "adopter_category",
    "outcome",
)

#: Column of the neighbourhood a row is about, in the tables of a scenario with
#: neighbourhoods only (``all``: the whole municipality). Rows are totals over it unless a
#: selection names it, like the breakdown columns.
PLACE_COLUMN = "neighbourhood"

#: Labels of the ``channel`` column that are not a scenario's channels: first contact by
#: another parent, or by the programme a parent completed before.
PSEUDO_CHANNELS: tuple[str, ...] = ("word_of_mouth", "follow_up")


# --------------------------------------------------------------------------- rows
def breakdown_mask(df: pd.DataFrame, *, free: Iterable[str] = (), **where: str) -> pd.Series:
    """Rows that are totals, except where told otherwise.

    Args:
        df: a long table.
        free: breakdown columns (or :data:`PLACE_COLUMN`) that may hold any label.
        **where: breakdown columns (or :data:`PLACE_COLUMN`) that must hold the given
            label instead of ``all`` (other names are ignored).

    Returns:
        A boolean Series aligned with ``df``; breakdown columns ``df`` lacks are skipped.
    """
    sel = pd.Series(True, index=df.index)
    skip = set(free)
    for col in (*BREAKDOWN_COLUMNS, PLACE_COLUMN):
        if col in df.columns and col not in skip:
            sel &= df[col] == where.get(col, ALL)
    return sel


def select(
    df: pd.DataFrame, metric: str | None = None, *, free: Iterable[str] = (), **where: str
) -> pd.DataFrame:
    """The rows of one metric: totals unless ``free`` or ``where`` say otherwise.

    Example: ``select(result.summary, "reach_direct", intervention="online_course")``.

    Args:
        df: a long table with a ``metric`` column.
        metric: metric name; None keeps every metric.
        free: breakdown columns that may hold any label.
        **where: breakdown columns and the label they must hold (default ``all``).

    Returns:
        The selected rows, in their order in ``df``.
    """
    sel = breakdown_mask(df, free=free, **where)
    if metric is not None:
        sel &= df["metric"] == metric
    return df.loc[sel]


def replicate_values(df: pd.DataFrame, metric: str, **where: str) -> pd.Series:
    """Per-replicate values of one metric (totals unless ``where`` says otherwise).

    Args:
        df: a run's summary (long format, with a ``replicate`` column).
        metric: metric name.
        **where: breakdown columns and the label they must hold (default ``all``).

    Returns:
        The values indexed by replicate.
    """
    return select(df, metric, **where).set_index("replicate")["value"]


# --------------------------------------------------------------------------- intervals
def quantile_levels(level: float) -> tuple[float, float]:
    """Lower and upper quantile of a central interval (0.95 gives 0.025 and 0.975)."""
    return (1 - level) / 2, 1 - (1 - level) / 2


def interval(values: ArrayLike, level: float = 0.95) -> dict[str, float]:
    """Mean, SD and central percentile interval of values across replicates (NaN skipped).

    Args:
        values: the values.
        level: central interval (0.95 gives the 2.5 and 97.5 percentiles).

    Returns:
        ``mean``, ``sd`` (NaN for fewer than two values), ``lo``, ``hi`` and ``n``; NaN
        everywhere and ``n`` 0 when there is no value.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return {"mean": math.nan, "sd": math.nan, "lo": math.nan, "hi": math.nan, "n": 0}
    lo_q, hi_q = quantile_levels(level)
    return {
        "mean": float(v.mean()),
        "sd": float(v.std(ddof=1)) if v.size > 1 else math.nan,
        "lo": float(np.quantile(v, lo_q)),
        "hi": float(np.quantile(v, hi_q)),
        "n": int(v.size),
    }


def interval_table(
    df: pd.DataFrame, by: Sequence[str] | None = None, level: float = 0.95
) -> pd.DataFrame:
    """Mean, SD and percentile interval across replicates.

    Args:
        df: a long table with a ``replicate`` and a ``value`` column.
        by: grouping columns; default every column except replicate and value.
        level: central interval (0.95 gives the 2.5 and 97.5 percentiles).

    Returns:
        One row per group with ``mean``, ``sd``, ``lo``, ``hi`` and ``n`` (replicates).
    """
    if by is None:
        by = [c for c in df.columns if c not in ("replicate", "value")]
    lo_q, hi_q = quantile_levels(level)
    g = df.groupby(list(by), observed=True, sort=False)["value"]
    out = g.agg(mean="mean", sd="std", n="count")
    out["lo"] = g.quantile(lo_q)
    out["hi"] = g.quantile(hi_q)
    return out.reset_index()[[*by, "mean", "sd", "lo", "hi", "n"]]


# --------------------------------------------------------------------------- money
def eur(amount: float, *, millions: bool = False) -> str:
    """An amount of euros as text: ``€1,234``, ``−€1,234`` (a true minus sign), ``n/a``.

    Args:
        amount: euros; NaN gives ``n/a``.
        millions: write amounts of a million or more as ``€1.23 million``.

    Returns:
        The amount, rounded to whole euros (or to 10,000 euros in millions).
    """
    return money(amount, "en", millions=millions)
