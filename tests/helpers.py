"""Small scenario builders for the tests."""

from __future__ import annotations

import copy
from typing import Any

from impactsim.loading import parse_scenario
from impactsim.scenario import Scenario

#: Adopter categories that all behave alike (multipliers 1, no thresholds).
NEUTRAL_CATEGORIES = {
    c: {"channel_multiplier": 1.0, "imitation_multiplier": 1.0, "social_threshold": 0.0}
    for c in ("innovators", "early_adopters", "early_majority", "late_majority", "laggards")
}


def base_dict(size: int = 2000, months: int = 12, prevalence: float = 0.15) -> dict[str, Any]:
    """One segment, one 'campaign' channel that reaches everyone at once, one unlimited provider,
    and one intervention 'prog' (d=0.4, 1 month, no dropout, no decay) that everyone enrols in."""
    return {
        "name": "test",
        "population": {
            "size": size,
            "segments": [
                {
                    "name": "all_parents",
                    "share": 1.0,
                    "baseline_prevalence": prevalence,
                    "contact_rates": {"campaign": 1000.0},
                }
            ],
            "adopter_categories": copy.deepcopy(NEUTRAL_CATEGORIES),
            "network": {"kind": "fully_mixed", "homophily": 0.0},
        },
        "channels": [{"name": "campaign", "referral_strength": 1000.0}],
        "providers": [
            {
                "name": "platform",
                "count": 1,
                "capacity_per_month": None,
                "fidelity": 1.0,
                "initial_offer_share": 1.0,
            }
        ],
        "interventions": [{"name": "prog", "duration_months": 1, "effect_size": {"mean": 0.4}}],
        "strategy": {
            "offers": [
                {"intervention": "prog", "channels": ["campaign"], "providers": ["platform"]}
            ]
        },
        "simulation": {"months": months, "replicates": 2, "seed": 7},
    }


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
