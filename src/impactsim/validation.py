"""Analytic validation cases and the baseline-regression helpers.

Each case pairs an exact expected value with a ready scenario in which the engine should
reproduce it, so that the tests (``tests/test_validation.py``), the figures
(``scripts/validation_figures.py``) and the documentation (``docs/validation.md``) use the
same cases:

========================  ==========================================  =======================
case                      expected value                              scenario builder
========================  ==========================================  =======================
Bass diffusion            :func:`bass_cdf`, :func:`bass_peak_time`    :func:`bass_scenario`
normal cut-off shift      :func:`shifted_prevalence`,                 :func:`cutoff_scenario`
                          :func:`diluted_prevalence`,
                          :func:`public_impact_pp`
capacity-limited uptake   :func:`capacity_completions`                :func:`capacity_scenario`
effect decay              :func:`decayed_effect`                      :func:`decay_scenario`
Rogers categories         :func:`rogers_shares`                       :func:`rogers_scenario`
========================  ==========================================  =======================

The formulas need only numpy and scipy; the builders return validated
:class:`~impactsim.scenario.Scenario` objects (they import the schema, not the engine).
Tolerances are built from Monte Carlo standard errors (:func:`share_se`,
:func:`bass_sd`) plus, where the engine's time step makes the expected value differ from
the continuous-time formula, the exactly computed discretisation difference
(:func:`bass_discrete`, :func:`rogers_adoption_pmf`).

The second part of the module (``BASELINE_*``, :func:`compute_baseline`) computes the
headline numbers that ``tests/baseline.yaml`` pins down (see ``docs/validation.md``).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.integrate import solve_ivp
from scipy.stats import norm

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


# --------------------------------------------------------------------------- helpers
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


# --------------------------------------------------------------------------- Bass diffusion
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


# --------------------------------------------------------------------------- normal cut-off
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


# --------------------------------------------------------------------------- capacity
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


# --------------------------------------------------------------------------- decay
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


# --------------------------------------------------------------------------- Rogers categories
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


# --------------------------------------------------------------------------- baseline
#: Overrides applied to every scenario for the baseline regression (recorded in the file).
BASELINE_SETTINGS: dict[str, int] = {
    "seed": 20240601,
    "replicates": 2,
    "population_size": 2000,
    "max_months": 36,
}

#: Summary metrics pinned by the baseline: (metric, level). Level ``all`` is the total
#: row (segment, intervention, channel and adopter category ``all``); ``intervention``
#: stores one value per offered intervention. Listed explicitly so that metrics added to
#: the summary later do not change the baseline.
BASELINE_METRICS: tuple[tuple[str, str], ...] = (
    ("reach_cumulative", "all"),
    ("reach_direct", "intervention"),
    ("reach_indirect", "all"),
    ("enrolments", "intervention"),
    ("completions", "intervention"),
    ("prevalence", "all"),
    ("prevalence_counterfactual", "all"),
    ("public_impact_pp", "all"),
    ("cases_prevented", "all"),
    ("realized_effect_share", "all"),
    ("mean_gain_sd", "all"),
    ("differential_impact_gap_pp", "all"),
    ("efficacy_d", "all"),
    ("effectiveness_d", "all"),
    ("use_provider_share", "all"),
)

#: Key of the built-in default scenario in the baseline file.
BUILTIN_DEFAULT_KEY = "builtin/default.yaml"


def baseline_sources(scenarios_dir: str | Path) -> dict[str, Path]:
    """Scenario files covered by the baseline: the built-in default and ``scenarios/*.yaml``.

    Args:
        scenarios_dir: the repository's ``scenarios`` directory (may be missing or empty).

    Returns:
        ``{key: path}`` sorted by key; keys are ``builtin/default.yaml`` and
        ``scenarios/<file name>``.
    """
    from impactsim.loading import default_scenario_path

    out = {BUILTIN_DEFAULT_KEY: default_scenario_path()}
    directory = Path(scenarios_dir)
    for path in sorted(directory.glob("*.yaml")) if directory.is_dir() else []:
        out[f"scenarios/{path.name}"] = path
    return dict(sorted(out.items()))


def baseline_scenario(path: str | Path, settings: Mapping[str, int]) -> Scenario:
    """Load a scenario file and apply the baseline overrides (size, horizon).

    Args:
        path: scenario YAML file.
        settings: ``population_size`` and ``max_months`` (see :data:`BASELINE_SETTINGS`).

    Returns:
        The reduced scenario, validated again.
    """
    from impactsim.loading import load_scenario

    data = load_scenario(path).model_dump(mode="json")
    data["population"]["size"] = int(settings["population_size"])
    data["simulation"]["months"] = min(data["simulation"]["months"], int(settings["max_months"]))
    return parse_scenario(data, str(path))


def _mean(values: Any) -> float:
    arr = np.asarray(values, dtype=float)
    return float(arr.mean()) if arr.size else math.nan


def baseline_values(result: RunResult) -> dict[str, Any]:
    """Headline numbers of a run: the mean over replicates of :data:`BASELINE_METRICS`.

    Args:
        result: a run result.

    Returns:
        ``{metric: value}`` for level ``all`` and ``{metric: {intervention: value}}`` for
        level ``intervention``; metrics absent from the summary are left out.
    """
    out: dict[str, Any] = {}
    interventions = [o.intervention for o in result.scenario.strategy.offers]
    for metric, level in BASELINE_METRICS:
        if level == "intervention":
            per = {}
            for iv in interventions:
                values = result.metric(metric, intervention=iv)
                if len(values):
                    per[iv] = _mean(values)
            if per:
                out[metric] = per
        else:
            values = result.metric(metric)
            if len(values):
                out[metric] = _mean(values)
    return out


def compute_baseline(
    sources: Mapping[str, Path], settings: Mapping[str, int] = BASELINE_SETTINGS
) -> dict[str, dict[str, Any]]:
    """Run every scenario with the baseline overrides and collect its headline numbers.

    Args:
        sources: ``{key: scenario file}``, e.g. from :func:`baseline_sources`.
        settings: seed, replicates, population size and maximum horizon.

    Returns:
        ``{key: {"name": scenario name, "values": baseline_values(...)}}``.
    """
    from impactsim.runner import run

    out: dict[str, dict[str, Any]] = {}
    for key, path in sources.items():
        sc = baseline_scenario(path, settings)
        res = run(sc, replicates=settings["replicates"], seed=settings["seed"], progress=False)
        out[key] = {"name": sc.name, "values": baseline_values(res)}
    return out


def compare_values(
    expected: Mapping[str, Any], actual: Mapping[str, Any], rel: float = 1e-9, abs_: float = 1e-12
) -> list[str]:
    """Differences between two :func:`baseline_values` mappings.

    Args:
        expected: values from the baseline file.
        actual: values computed now.
        rel: relative tolerance.
        abs_: absolute tolerance.

    Returns:
        One line per metric that drifted, appeared or disappeared (empty if none).
    """

    def flat(values: Mapping[str, Any]) -> dict[str, float]:
        items: dict[str, float] = {}
        for metric, value in values.items():
            if isinstance(value, Mapping):
                items.update({f"{metric}[{iv}]": float(v) for iv, v in value.items()})
            else:
                items[metric] = float(value)
        return items

    exp, act = flat(expected), flat(actual)
    lines = []
    for key in sorted(exp.keys() | act.keys()):
        if key not in act:
            lines.append(f"{key}: in the baseline ({exp[key]!r}) but no longer computed")
        elif key not in exp:
            lines.append(f"{key}: computed now ({act[key]!r}) but not in the baseline")
        else:
            a, b = exp[key], act[key]
            same = (math.isnan(a) and math.isnan(b)) or math.isclose(
                a, b, rel_tol=rel, abs_tol=abs_
            )
            if not same:
                lines.append(f"{key}: baseline {a!r}, now {b!r} (difference {b - a:+.3g})")
    return lines
