"""Strategies compared by neighbourhood: paired differences of impact, reach and money.

For a comparison of scenarios with neighbourhoods (:mod:`impactsim.place_metrics`,
:mod:`impactsim.place_economics`), each strategy's public impact, reach, costs and net
present value in each neighbourhood minus the baseline's, replicate by replicate (common
random numbers), with the mean and the central interval; and the same paired difference
of the gap in public impact between the neighbourhoods (:func:`gap_differences`):
negative when the strategy narrows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from impactsim.place_metrics import GAP_METRIC
from impactsim.tables import ALL, PLACE_COLUMN, interval, replicate_values

#: The outcomes compared per neighbourhood, with their label and unit in the text report.
PLACE_OUTCOMES = (
    ("public_impact_pp", "public impact (pp)", "pp"),
    ("reach_cumulative", "reach (any programme)", "pct"),
    ("cost_pv", "cost PV (€)", "eur"),
    ("npv", "NPV (€)", "eur"),
)


def neighbourhood_differences(
    runs: Mapping[str, Any], baseline: str, level: float = 0.95
) -> pd.DataFrame:
    """Paired differences per neighbourhood of every strategy against ``baseline``.

    Args:
        runs: run results (with a ``summary``) by scenario name.
        baseline: the baseline's name.
        level: central interval.

    Returns:
        Columns ``scenario, versus, neighbourhood, metric, mean, sd, lo, hi, n``; empty
        when the baseline's summary has no neighbourhoods.
    """
    base = runs[baseline].summary
    rows: list[dict[str, Any]] = []
    if PLACE_COLUMN not in base.columns:
        return pd.DataFrame(rows)
    places = [str(p) for p in pd.unique(base[PLACE_COLUMN].astype(str)) if p != ALL]
    for name, res in runs.items():
        if name == baseline or PLACE_COLUMN not in res.summary.columns:
            continue
        for place in places:
            for metric, _label, _unit in PLACE_OUTCOMES:
                rows.append(_paired(res.summary, base, name, baseline, place, metric, level))
    return pd.DataFrame(rows)


def gap_differences(runs: Mapping[str, Any], baseline: str, level: float = 0.95) -> pd.DataFrame:
    """Paired differences of the impact gap between neighbourhoods against ``baseline``.

    The gap is :data:`impactsim.place_metrics.GAP_METRIC` (highest minus lowest public
    impact of the neighbourhoods, percentage points); a negative difference means the
    strategy leaves the neighbourhoods closer together than the baseline does.

    Args:
        runs: run results (with a ``summary``) by scenario name.
        baseline: the baseline's name.
        level: central interval.

    Returns:
        The columns of :func:`neighbourhood_differences`, ``neighbourhood`` ``all`` and
        ``metric`` the gap; empty when the baseline's summary has no neighbourhoods.
    """
    base = runs[baseline].summary
    rows = [
        _paired(res.summary, base, name, baseline, ALL, GAP_METRIC, level)
        for name, res in runs.items()
        if name != baseline and PLACE_COLUMN in base.columns and PLACE_COLUMN in res.summary.columns
    ]
    return pd.DataFrame(rows)


def _paired(
    mine: pd.DataFrame,
    base: pd.DataFrame,
    name: str,
    baseline: str,
    place: str,
    metric: str,
    level: float,
) -> dict[str, Any]:
    """One row: a metric in one neighbourhood minus the baseline's, replicate by replicate."""
    a = replicate_values(mine, metric, neighbourhood=place)
    b = replicate_values(base, metric, neighbourhood=place).reindex(a.index)
    stats = interval((a - b).to_numpy(), level)
    return {"scenario": name, "versus": baseline, PLACE_COLUMN: place, "metric": metric} | stats


def place_lines(diffs: pd.DataFrame, name: str, fmt: Any) -> list[str]:
    """Text lines of one strategy's differences per neighbourhood (none without)."""
    if diffs.empty:
        return []
    sub = diffs[diffs["scenario"] == name]
    lines = []
    for place, rows in sub.groupby(PLACE_COLUMN, sort=False):
        for metric, label, kind in PLACE_OUTCOMES:
            r = rows[rows["metric"] == metric].iloc[0]
            text = f"{label} in {place}"
            lines.append(
                f"  {text:<34} {fmt(r['mean'], kind):>14}  [{fmt(r['lo'], kind)}, {fmt(r['hi'], kind)}]"
            )
    return lines
