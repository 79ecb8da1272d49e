"""Rogers adopter categories: shares of normal adoption times, and their scenario."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from impactsim.scenario import Scenario
from impactsim.validation.common import (
    AT_ONCE_PER_MONTH,
    ArrayLike,
    base_scenario_dict,
    build_scenario,
)

#: Rogers' category boundaries on standardised adoption time: mean - 2 SD, mean - SD,
#: mean, mean + SD.
ROGERS_EDGES_SD: tuple[float, ...] = (-2.0, -1.0, 0.0, 1.0)


def rogers_shares() -> np.ndarray:
    """Shares of Rogers' five adopter categories when adoption times are normal.

    Rogers (1962; Diffusion of Innovations, 5th ed. 2003, ch. 7) partitions a normal
    distribution of adoption times at the mean minus two SD, minus one SD, the mean and
    plus one SD: ``Phi(-2)``, ``Phi(-1) - Phi(-2)``, ``Phi(0) - Phi(-1)``,
    ``Phi(1) - Phi(0)``, ``1 - Phi(1)`` = 2.28 / 13.59 / 34.13 / 34.13 / 15.87 %
    (Rogers rounds to 2.5 / 13.5 / 34 / 34 / 16 %).

    Returns:
        Shares in the order of :data:`impactsim.scenario.ADOPTER_CATEGORIES`.
    """
    cdf = norm.cdf(ROGERS_EDGES_SD)
    return np.diff(np.concatenate([[0.0], cdf, [1.0]]))


def adopter_category_shares(times: ArrayLike, weights: ArrayLike | None = None) -> np.ndarray:
    """Classify a (weighted) set of adoption times into Rogers categories.

    Same rule as the engine's ``adopter_category_realized_share``: the cut-offs are the
    mean minus two SD, minus one SD, the mean and plus one SD of the times themselves
    (population SD); a time equal to a cut-off goes to the later category.

    Args:
        times: adoption times (any unit).
        weights: probability or count of each time; default equal weights.

    Returns:
        Shares of the five categories (fractions summing to 1).
    """
    t = np.asarray(times, dtype=float)
    w = np.ones_like(t) if weights is None else np.asarray(weights, dtype=float)
    w = w / w.sum()
    mu = float((w * t).sum())
    sd = math.sqrt(float((w * (t - mu) ** 2).sum()))
    edges = mu + sd * np.asarray(ROGERS_EDGES_SD)
    cat = np.searchsorted(edges, t, side="right")
    return np.bincount(cat, weights=w, minlength=5)


def normal_adoption_windows(
    mean_months: float, sd_months: float, window_months: float
) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-constant hazards that make first-contact times normal at window edges.

    Windows ``[b_j, b_{j+1})`` of length ``w`` cover ``mean ± 4 SD``. With the normal
    survival function ``S``, the hazard ``h_j = ln(S(b_j) / S(b_{j+1})) / w`` makes the
    probability of first contact in window ``j`` exactly the normal mass of the window
    (the first window also takes the 0.003 % below ``mean - 4 SD``; the 0.003 % above
    ``mean + 4 SD`` are never contacted).

    Args:
        mean_months: mean adoption time (months); ``mean - 4 SD >= 0``.
        sd_months: SD of adoption times (months).
        window_months: window length (months).

    Returns:
        ``(edges, hazards)``: window edges (months, length J + 1) and hazards per month
        (length J).
    """
    start = mean_months - 4.0 * sd_months
    if start < 0:
        raise ValueError("mean_months - 4 sd_months must be >= 0")
    n_win = round(8.0 * sd_months / window_months)
    edges = start + window_months * np.arange(n_win + 1)
    surv = norm.sf((edges - mean_months) / sd_months)
    surv[0] = 1.0
    hazards = np.log(surv[:-1] / surv[1:]) / window_months
    return edges, hazards


def rogers_adoption_pmf(
    mean_months: float = 24.0, sd_months: float = 6.0, window_months: float = 1.0, dt: float = 0.25
) -> tuple[np.ndarray, np.ndarray]:
    """Exact distribution of adoption times in :func:`rogers_scenario` (many parents).

    A parent is first contacted in step ``s`` with probability
    ``S(s) (1 - exp(-h(s) dt))`` (hazard of the window containing step ``s``) and enrols
    in step ``s + 1``; the engine records the adoption time ``(s + 1) dt``.

    Args:
        mean_months: mean adoption time (months).
        sd_months: SD of adoption times (months).
        window_months: window length (months, a whole number of steps).
        dt: time step (months).

    Returns:
        ``(times, probabilities)``; the probabilities sum to ``1 - Phi(-4)``.
    """
    edges, hazards = normal_adoption_windows(mean_months, sd_months, window_months)
    per_month = round(1.0 / dt)
    bounds = np.round(edges * per_month).astype(int)
    hz = np.zeros(bounds[-1])
    for j, h in enumerate(hazards):
        hz[bounds[j] : bounds[j + 1]] = h
    surv = np.concatenate([[1.0], np.cumprod(np.exp(-hz * dt))])
    prob = surv[:-1] - surv[1:]
    times = (np.arange(hz.size) + 1) * dt
    return times, prob


def rogers_scenario(
    mean_months: float = 24.0,
    sd_months: float = 6.0,
    window_months: float = 1.0,
    size: int = 50_000,
    dt: float = 0.25,
) -> Scenario:
    """Normally distributed adoption times, to check the Rogers classification.

    One channel per window of :func:`normal_adoption_windows` is active only in its window
    with contact rate ``h_j``; every channel refers at once (1000 per month) and places are
    unlimited, so a parent enrols the step after first contact. The realized adopter
    categories should then be :func:`rogers_shares` (exactly:
    ``adopter_category_shares(*rogers_adoption_pmf(...))``).

    Args:
        mean_months: mean adoption time (months).
        sd_months: SD of adoption times (months); at most 7.5 windows per SD (60 channels).
        window_months: window length (months).
        size: population size.
        dt: time step (months).

    Returns:
        The scenario; the horizon is one month after the last window.
    """
    edges, hazards = normal_adoption_windows(mean_months, sd_months, window_months)
    d = base_scenario_dict(size=size, months=math.ceil(edges[-1]) + 1, dt=dt)
    names = [f"w{j:02d}" for j in range(hazards.size)]
    d["channels"] = [
        {
            "name": name,
            "referral_strength": AT_ONCE_PER_MONTH,
            "start_month": float(edges[j]),
            "end_month": float(edges[j + 1]),
        }
        for j, name in enumerate(names)
    ]
    d["population"]["segments"][0]["contact_rates"] = {
        name: float(h) for name, h in zip(names, hazards, strict=True)
    }
    d["strategy"]["offers"][0]["channels"] = names
    return build_scenario(d, "validation-rogers")
