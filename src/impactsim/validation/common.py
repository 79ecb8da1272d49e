"""Shared pieces of the validation cases: tolerances, standard errors, scenario builders."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from impactsim.loading import parse_scenario
from impactsim.scenario import ADOPTER_CATEGORIES, Scenario
from impactsim.tables import select

if TYPE_CHECKING:
    from impactsim.runner import RunResult


ArrayLike = float | Sequence[float] | np.ndarray

#: Adopter categories that all behave alike (channel and imitation multipliers 1, no
#: social-proof threshold): the validation cases need a homogeneous population.
NEUTRAL_CATEGORIES: dict[str, dict[str, float]] = {
    c: {"channel_multiplier": 1.0, "imitation_multiplier": 1.0, "social_threshold": 0.0}
    for c in ADOPTER_CATEGORIES
}

#: Rate that makes an event happen within one step of any length (the schema's maximum).
AT_ONCE_PER_MONTH = 1000.0

#: Number of standard errors allowed in the engine tests. A deviation beyond 4 SE has a
#: two-sided probability of 6e-5 under a normal approximation when the engine is right.
Z_TOLERANCE = 4.0


def share_se(p: ArrayLike, n: float) -> np.ndarray:
    """Standard error of a share estimated from ``n`` independent parents.

    Args:
        p: expected share (fraction).
        n: number of parents (summed over replicates when their mean is compared).

    Returns:
        ``sqrt(p (1 - p) / n)``, the binomial standard error.
    """
    p = np.asarray(p, dtype=float)
    return np.sqrt(p * (1.0 - p) / n)


def base_scenario_dict(
    size: int = 2000, months: int = 12, prevalence: float = 0.15, dt: float = 1.0
) -> dict[str, Any]:
    """Smallest useful scenario: everyone is aware at once and enrols at once.

    One segment with baseline prevalence ``prevalence``; one channel ``campaign`` with
    contact rate and referral strength of 1000 per month (awareness in step 0, enrolment
    in step 1); one provider ``platform`` with unlimited places and fidelity 1; one
    intervention ``prog`` (d = 0.4, 1 month, no dropout, no decay); fully mixed population
    and neutral adopter categories.

    Args:
        size: number of parents.
        months: horizon (months).
        prevalence: baseline prevalence of the single segment (fraction).
        dt: time step (months).

    Returns:
        A scenario document (plain dict) to modify and pass to :func:`build_scenario`.
    """
    return {
        "name": "validation",
        "population": {
            "size": size,
            "segments": [
                {
                    "name": "all_parents",
                    "share": 1.0,
                    "baseline_prevalence": prevalence,
                    "contact_rates": {"campaign": AT_ONCE_PER_MONTH},
                }
            ],
            "adopter_categories": copy.deepcopy(NEUTRAL_CATEGORIES),
            "network": {"kind": "fully_mixed", "homophily": 0.0},
        },
        "channels": [{"name": "campaign", "referral_strength": AT_ONCE_PER_MONTH}],
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
        "simulation": {"months": months, "dt_months": dt, "replicates": 1, "seed": 1},
    }


def build_scenario(data: Mapping[str, Any], name: str = "validation") -> Scenario:
    """Validate a scenario document (a deep copy of it) and name it.

    Args:
        data: scenario document, e.g. from :func:`base_scenario_dict`.
        name: scenario name.

    Returns:
        The validated scenario.
    """
    doc = copy.deepcopy(dict(data))
    doc["name"] = name
    return parse_scenario(doc, f"<validation:{name}>")


def mean_series(result: RunResult, metric: str, **where: str) -> np.ndarray:
    """Monthly time series of one metric, averaged over replicates.

    Args:
        result: a run result.
        metric: time-series metric name, e.g. ``"reach_direct"``.
        **where: labels other than ``all`` (``segment``, ``intervention``, ``channel``,
            ``adopter_category``).

    Returns:
        Array indexed by month ``0..months``.
    """
    rows = select(result.timeseries, metric, **where)
    return rows.groupby("month")["value"].mean().sort_index().to_numpy()
