"""Bass diffusion: the expected share of adopters over time and its scenario."""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp

from impactsim.scenario import Scenario
from impactsim.validation.common import (
    Z_TOLERANCE,
    ArrayLike,
    base_scenario_dict,
    build_scenario,
)


def bass_cdf(t: ArrayLike, p: float, q: float) -> np.ndarray:
    """Share who adopted by time ``t`` in the Bass (1969) diffusion model.

    ``F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t})``, the solution of
    ``dF/dt = (1 - F)(p + qF)``, ``F(0) = 0``.

    Source: F. M. Bass (1969), "A new product growth for model consumer durables",
    Management Science 15(5): 215-227.

    Args:
        t: time (same unit as the rates).
        p: coefficient of innovation (external influence) per unit time, > 0.
        q: coefficient of imitation (internal influence) per unit time, >= 0.

    Returns:
        ``F(t)`` (fraction).
    """
    t = np.asarray(t, dtype=float)
    e = np.exp(-(p + q) * t)
    return (1.0 - e) / (1.0 + (q / p) * e)


def bass_pdf(t: ArrayLike, p: float, q: float) -> np.ndarray:
    """Adoption rate ``f(t) = dF/dt`` of the Bass (1969) model.

    ``f(t) = ((p+q)^2 / p) e^{-(p+q)t} / (1 + (q/p) e^{-(p+q)t})^2``
    (Bass 1969).

    Args:
        t: time (same unit as the rates).
        p: coefficient of innovation per unit time, > 0.
        q: coefficient of imitation per unit time, >= 0.

    Returns:
        ``f(t)``, share adopting per unit time.
    """
    t = np.asarray(t, dtype=float)
    e = np.exp(-(p + q) * t)
    return (p + q) ** 2 / p * e / (1.0 + (q / p) * e) ** 2


def bass_peak_time(p: float, q: float) -> float:
    """Time of the peak adoption rate of the Bass model.

    ``t* = ln(q/p) / (p + q)`` when ``q > p``; otherwise the rate is highest at 0
    (Bass 1969). At the peak ``F(t*) = 1/2 - p/(2q)``.

    Args:
        p: coefficient of innovation per unit time, > 0.
        q: coefficient of imitation per unit time, >= 0.

    Returns:
        ``t*`` in the unit of ``1/p``.
    """
    return math.log(q / p) / (p + q) if q > p else 0.0


def bass_discrete(months: int, p_per_month: float, q_per_month: float, dt: float) -> np.ndarray:
    """Mean-field Bass recursion with the engine's time step: the large-population limit.

    The engine makes everyone aware in step 0; from step 1 a parent who has not yet
    enrolled does so with probability ``1 - exp(-(p + q F) dt)``, ``F`` being the share
    enrolled at the start of the step (synchronous update). In the limit of many parents
    ``F`` follows ``F_{k} = F_{k-1} + (1 - F_{k-1})(1 - exp(-(p + q F_{k-1}) dt))``. Its
    difference from :func:`bass_cdf` is the engine's discretisation error, O(dt).

    Args:
        months: horizon (months).
        p_per_month: coefficient of innovation (per month).
        q_per_month: coefficient of imitation (per month).
        dt: time step (months; ``1/dt`` a whole number).

    Returns:
        ``F`` at the end of months ``0..months`` (index 0 = start, 0).
    """
    per_month = round(1.0 / dt)
    f = 0.0
    out = np.zeros(months + 1)
    for k in range(1, months * per_month):
        f += (1.0 - f) * -math.expm1(-(p_per_month + q_per_month * f) * dt)
        if (k + 1) % per_month == 0:
            out[(k + 1) // per_month] = f
    return out


def bass_sd(t: ArrayLike, p: float, q: float, n: float) -> np.ndarray:
    """Standard deviation of the simulated Bass share in a population of ``n``.

    Linear noise approximation (van Kampen 1992, ch. X) of the adoption process with
    rate ``n a(F)``, ``a(F) = (1 - F)(p + qF)``: the variance obeys
    ``dV/dt = 2 a'(F) V + a(F)/n``, ``V(0) = 0``, ``a'(F) = q - p - 2qF``. Early
    fluctuations are amplified by imitation, so around the peak the SD is about twice the
    binomial ``sqrt(F(1 - F)/n)``.

    Args:
        t: times (same unit as the rates), non-decreasing.
        p: coefficient of innovation per unit time.
        q: coefficient of imitation per unit time.
        n: population size.

    Returns:
        SD of ``F(t)`` (fraction) at each ``t``.
    """
    t = np.atleast_1d(np.asarray(t, dtype=float))

    def rhs(s: float, v: np.ndarray) -> np.ndarray:
        f = float(bass_cdf(s, p, q))
        return 2.0 * (q - p - 2.0 * q * f) * v + (1.0 - f) * (p + q * f) / n

    sol = solve_ivp(rhs, (0.0, float(t.max())), [0.0], t_eval=t, rtol=1e-8, atol=1e-14)
    return np.sqrt(np.maximum(sol.y[0], 0.0))


def bass_tolerance(
    p_per_year: float,
    q_per_year: float,
    size: int,
    dt: float,
    months: int,
    replicates: int = 1,
    z: float = Z_TOLERANCE,
) -> np.ndarray:
    """Allowed ``|F_sim(t) - F(t)|`` for :func:`bass_scenario`, per month.

    ``|bass_discrete - bass_cdf|`` (the exact time-step error) plus ``z`` Monte Carlo
    standard errors from :func:`bass_sd` for the mean of ``replicates`` runs.

    Args:
        p_per_year: coefficient of innovation (per year).
        q_per_year: coefficient of imitation (per year).
        size: population size.
        dt: time step (months).
        months: horizon (months).
        replicates: replicates averaged.
        z: number of standard errors.

    Returns:
        Tolerance at the end of months ``0..months``.
    """
    m = np.arange(months + 1)
    bias = np.abs(
        bass_discrete(months, p_per_year / 12, q_per_year / 12, dt)
        - bass_cdf(m / 12, p_per_year, q_per_year)
    )
    return bias + z * bass_sd(m / 12, p_per_year, q_per_year, size) / math.sqrt(replicates)


def bass_scenario(
    p_per_year: float = 0.03,
    q_per_year: float = 0.38,
    size: int = 100_000,
    dt: float = 0.1,
    months: int = 180,
) -> Scenario:
    """Bass limit of the engine: the share who enrolled should follow :func:`bass_cdf`.

    Everyone is aware at once (contact rate 1000 per month); an aware parent enrols with
    the channel referral hazard ``p`` and imitates enrolled parents with hazard ``q F``
    (fully mixed, neutral adopter categories, unlimited places). The external hazard
    starts in step 1 because awareness takes step 0.

    Args:
        p_per_year: coefficient of innovation (per year).
        q_per_year: coefficient of imitation (per year).
        size: population size.
        dt: time step (months).
        months: horizon (months).

    Returns:
        The scenario (``reach_direct`` of ``prog`` is ``F``).
    """
    d = base_scenario_dict(size=size, months=months, dt=dt)
    d["channels"][0]["referral_strength"] = p_per_year / 12
    d["interventions"][0]["imitation_rate_per_month"] = q_per_year / 12
    return build_scenario(d, "validation-bass")
