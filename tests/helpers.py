"""Small scenario builders for the tests."""

from __future__ import annotations

import copy
from typing import Any

from impactsim.loading import parse_scenario
from impactsim.scenario import Scenario
from impactsim.validation import NEUTRAL_CATEGORIES, base_scenario_dict  # noqa: F401 - re-exported


def base_dict(size: int = 2000, months: int = 12, prevalence: float = 0.15) -> dict[str, Any]:
    """One segment, one 'campaign' channel that reaches everyone at once, one unlimited provider,
    and one intervention 'prog' (d=0.4, 1 month, no dropout, no decay) that everyone enrols in.

    The analytic validation cases use the same scenario (impactsim.validation).
    """
    d = base_scenario_dict(size=size, months=months, prevalence=prevalence)
    d["name"] = "test"
    d["simulation"].update(replicates=2, seed=7)
    return d


def build(d: dict[str, Any]) -> Scenario:
    return parse_scenario(copy.deepcopy(d), "<test>")


def metric(result, name: str, **where: str) -> float:
    """Mean over replicates of one summary metric."""
    return float(result.metric(name, **where).mean())


def ts(result, name: str, month: int, **where: str) -> float:
    """Mean over replicates of one time-series metric at a month."""
    df = result.timeseries
    sel = (df["metric"] == name) & (df["month"] == month)
    for col in ("segment", "intervention", "channel", "adopter_category"):
        sel &= df[col] == where.get(col, "all")
    return float(df.loc[sel, "value"].mean())
