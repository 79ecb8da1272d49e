"""Capacity-limited uptake: completions when places are the bottleneck, and its scenario."""

from __future__ import annotations

import numpy as np

from impactsim.scenario import Scenario
from impactsim.validation.common import (
    ArrayLike,
    base_scenario_dict,
    build_scenario,
)


def capacity_completions(
    month: ArrayLike, places_per_month: float, duration_months: float, dt: float = 1.0
) -> np.ndarray:
    """Completions by the end of ``month`` when demand always exceeds capacity.

    Engine timing: parents become aware in step 0 and ask for a place from step 1, so the
    places of step 0 lapse; places are filled in every later step (``places_per_month * dt``
    per step) and a course of ``D`` months started in step ``e`` completes in step
    ``e + D/dt``. Completions by the end of month ``M`` are therefore
    ``places_per_month * max(0, M - D - dt)``; with ``dt = 1``, ``places * (M - 1 - D)``.
    Exact when ``places_per_month * dt`` is a whole number of places per organisation.

    Args:
        month: month(s) at whose end completions are counted.
        places_per_month: places per month summed over organisations.
        duration_months: course duration ``D`` (months, a whole number of steps).
        dt: time step (months).

    Returns:
        Cumulative completions (count).
    """
    m = np.asarray(month, dtype=float)
    return places_per_month * np.maximum(0.0, m - duration_months - dt)


def capacity_enrolments(month: ArrayLike, places_per_month: float, dt: float = 1.0) -> np.ndarray:
    """Enrolments by the end of ``month`` when demand always exceeds capacity.

    Places are filled from step 1 on (see :func:`capacity_completions`):
    ``places_per_month * max(0, M - dt)``.

    Args:
        month: month(s) at whose end enrolments are counted.
        places_per_month: places per month summed over organisations.
        dt: time step (months).

    Returns:
        Cumulative enrolments (count).
    """
    m = np.asarray(month, dtype=float)
    return places_per_month * np.maximum(0.0, m - dt)


def capacity_scenario(
    organisations: int = 3,
    places_per_organisation: float = 5.0,
    duration_months: float = 2.0,
    months: int = 24,
    size: int = 5000,
    dt: float = 1.0,
) -> Scenario:
    """Demand far above capacity: completions are capacity times months of delivery.

    Everyone wants a place at once and waits up to 120 months; ``organisations`` teams
    all offer from the start, each with ``places_per_organisation`` places per month.

    Args:
        organisations: number of provider organisations.
        places_per_organisation: places per organisation per month.
        duration_months: course duration (months).
        months: horizon (months).
        size: population size; must exceed the places available over the horizon.
        dt: time step (months).

    Returns:
        The scenario.
    """
    if size <= organisations * places_per_organisation * months:
        raise ValueError("size must exceed the places offered over the horizon")
    d = base_scenario_dict(size=size, months=months, dt=dt)
    d["providers"] = [
        {
            "name": "teams",
            "count": organisations,
            "capacity_per_month": places_per_organisation,
            "fidelity": 1.0,
            "initial_offer_share": 1.0,
            "innovation_rate_per_month": 0.0,
            "imitation_rate_per_month": 0.0,
        }
    ]
    d["strategy"]["offers"][0]["providers"] = ["teams"]
    d["interventions"][0]["duration_months"] = duration_months
    d["interventions"][0]["max_wait_months"] = 120
    return build_scenario(d, "validation-capacity")
