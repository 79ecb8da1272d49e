"""Normal cut-off shift: prevalence after an effect on the latent score, and its scenario."""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from impactsim.scenario import Scenario
from impactsim.validation.common import (
    ArrayLike,
    base_scenario_dict,
    build_scenario,
)


def shifted_prevalence(pi0: ArrayLike, d: ArrayLike) -> np.ndarray:
    """Prevalence after an effect ``d`` in everyone: the normal cut-off shift.

    Normal-threshold (liability) model: the problem score is ``z ~ N(mu, 1)`` with the cut-off
    placed so that ``P(z > c) = pi0``; an effect of ``d`` SD lowers every score by ``d``,
    so ``pi1 = 1 - Phi(Phi^{-1}(1 - pi0) + d)``. This is the threshold model of
    Falconer (1965) used to turn a standardised mean difference into a change in the
    share above a clinical cut-off (cf. Kraemer & Kupfer 2006; Furukawa & Leucht 2011).

    Args:
        pi0: baseline prevalence (fraction, 0-1).
        d: effect size (Cohen's d, SD units; positive = fewer problems).

    Returns:
        ``pi1`` (fraction).
    """
    return norm.sf(norm.ppf(1.0 - np.asarray(pi0, float)) + np.asarray(d, float))


def diluted_prevalence(pi0: ArrayLike, d: ArrayLike, reach: ArrayLike) -> np.ndarray:
    """Population prevalence when a random share ``reach`` receives the effect ``d``.

    ``pi = r pi1 + (1 - r) pi0`` with ``pi1`` from :func:`shifted_prevalence`: an effect
    in participants is diluted by reach.

    Args:
        pi0: baseline prevalence (fraction).
        d: effect size in participants (Cohen's d).
        reach: share of the population reached, at random (fraction).

    Returns:
        ``pi`` (fraction).
    """
    r = np.asarray(reach, float)
    return r * shifted_prevalence(pi0, d) + (1.0 - r) * np.asarray(pi0, float)


def public_impact_pp(pi0: ArrayLike, d: ArrayLike, reach: ArrayLike) -> np.ndarray:
    """Public impact of the diluted shift in percentage points.

    ``100 (pi0 - pi) = 100 r (pi0 - pi1)``, the metric ``public_impact_pp``.

    Args:
        pi0: baseline prevalence (fraction).
        d: effect size in participants (Cohen's d).
        reach: share reached (fraction).

    Returns:
        Public impact (percentage points).
    """
    return 100.0 * (np.asarray(pi0, float) - diluted_prevalence(pi0, d, reach))


def cutoff_scenario(
    prevalence: float = 0.15,
    effect: float = 0.4,
    reach: float = 1.0,
    size: int = 50_000,
    months: int = 4,
) -> Scenario:
    """Everyone in a random share ``reach`` completes a programme with effect ``effect``.

    Two segments with the same baseline prevalence: ``reached`` (share ``reach``, eligible)
    and ``not_reached`` (not eligible). Everyone eligible is aware in step 0, enrols in
    step 1 and completes in step 2 (1-month course, no dropout, no decay), so from month 3
    on the prevalence is :func:`diluted_prevalence`.

    Args:
        prevalence: baseline prevalence (fraction).
        effect: effect size (Cohen's d).
        reach: share of parents in the eligible segment (fraction, 0 < reach <= 1).
        size: population size.
        months: horizon (months, >= 3).

    Returns:
        The scenario.
    """
    if not 0.0 < reach <= 1.0:
        raise ValueError(f"reach must be in (0, 1] (got {reach})")
    d = base_scenario_dict(size=size, months=months, prevalence=prevalence)
    seg = d["population"]["segments"][0]
    segments = [{**seg, "name": "reached", "share": reach}]
    if reach < 1.0:
        segments.append({**seg, "name": "not_reached", "share": 1.0 - reach})
    d["population"]["segments"] = segments
    d["interventions"][0]["effect_size"] = {"mean": effect}
    d["interventions"][0]["eligibility"] = {"segments": ["reached"]}
    return build_scenario(d, "validation-cutoff")
