"""Effect decay: the effect at each time after onset for a half-life, and its scenario."""

from __future__ import annotations

import numpy as np

from impactsim.scenario import Scenario
from impactsim.validation.common import (
    ArrayLike,
    base_scenario_dict,
    build_scenario,
)


def decayed_effect(t: ArrayLike, d: float, half_life: float) -> np.ndarray:
    """Effect remaining ``t`` months after onset with exponential decay.

    ``e(t) = d 2^{-t/H}`` for ``t >= 0`` and 0 before onset (the engine's
    ``effect_half_life_months``; docs/model.md section 7).

    Args:
        t: time since onset (months).
        d: effect at onset (Cohen's d).
        half_life: half-life ``H`` (months).

    Returns:
        ``e(t)`` (SD units).
    """
    t = np.asarray(t, dtype=float)
    return np.where(t >= 0, d * np.exp2(-np.maximum(t, 0.0) / half_life), 0.0)


def effect_onset_month(duration_months: float, dt: float = 1.0) -> float:
    """Age-zero point of the effect in :func:`decay_scenario`, in months.

    Awareness takes step 0, enrolment happens in step 1 and completion in step
    ``1 + D/dt``; the effect measured at the end of month ``m`` has age
    ``m - D - 2 dt`` (``m - 3`` for a 1-month course with monthly steps).

    Args:
        duration_months: course duration ``D`` (months).
        dt: time step (months).

    Returns:
        ``D + 2 dt`` (months).
    """
    return duration_months + 2.0 * dt


def decay_scenario(
    effect: float = 0.5,
    half_life_months: float = 12.0,
    duration_months: float = 2.0,
    months: int = 48,
    size: int = 50_000,
    dt: float = 0.5,
    prevalence: float = 0.2,
) -> Scenario:
    """Everyone completes one course at the same time; the effect then decays.

    Args:
        effect: effect at completion (Cohen's d).
        half_life_months: half-life (months).
        duration_months: course duration (months).
        months: horizon (months).
        size: population size.
        dt: time step (months).
        prevalence: baseline prevalence (fraction).

    Returns:
        The scenario (mean gain at month ``m`` is
        ``decayed_effect(m - effect_onset_month(D, dt), effect, H)``).
    """
    d = base_scenario_dict(size=size, months=months, prevalence=prevalence, dt=dt)
    iv = d["interventions"][0]
    iv["effect_size"] = {"mean": effect}
    iv["effect_half_life_months"] = half_life_months
    iv["duration_months"] = duration_months
    return build_scenario(d, "validation-decay")
