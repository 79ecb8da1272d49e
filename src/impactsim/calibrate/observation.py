"""Observation models: how a simulated value becomes the number that was observed.

Each model gives the log-likelihood of the observation given the simulated value ``x``
(a share for the binomial, a count for Poisson and negative binomial, any value for the
normal), its largest possible value over ``x`` (the acceptor's normalisation), and draws
of replicated observations for posterior predictive checks:

* binomial: ``k ~ Binomial(n, x)``
* Poisson: ``k ~ Poisson(scale * x)``
* negative binomial: ``k ~ NB(mean = scale * x, size = r)``, variance ``mu + mu^2 / r``
* normal: ``y ~ Normal(x, se)``

Observed and replicated values are reported on the observation's scale: ``k / n`` for the
binomial, the count for the count models, the value for the normal.

The inference scores a candidate with :func:`replicate_log_likelihood`, which also
accounts for the spread of the target between replicates (between possible
municipalities).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from impactsim.calibrate.schema import Binomial, NegativeBinomial, NormalObservation, Observation


def _nb(obs: NegativeBinomial, mean: np.ndarray) -> tuple[float, np.ndarray]:
    r = obs.dispersion
    return r, r / (r + mean)


def log_likelihood(obs: Observation, simulated: np.ndarray) -> np.ndarray:
    """Log-likelihood of an observation for each simulated value.

    Args:
        obs: the observation model with its data.
        simulated: simulated values of the target's metric (any shape).

    Returns:
        The log-likelihoods, same shape; ``-inf`` where the value is impossible or NaN.
    """
    x = np.asarray(simulated, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if isinstance(obs, Binomial):
            out = stats.binom.logpmf(obs.count, obs.n, np.clip(x, 0.0, 1.0))
        elif isinstance(obs, NormalObservation):
            out = stats.norm.logpdf(obs.value, loc=x, scale=obs.se)
        elif isinstance(obs, NegativeBinomial):
            mean = obs.scale * np.maximum(x, 0.0)
            r, p = _nb(obs, mean)
            out = stats.nbinom.logpmf(obs.count, r, p)
        else:
            out = stats.poisson.logpmf(obs.count, obs.scale * np.maximum(x, 0.0))
    out = np.asarray(out, dtype=np.float64)
    return np.where(np.isfinite(x) & ~np.isnan(out), out, -np.inf)


def max_log_likelihood(obs: Observation) -> float:
    """The largest log-likelihood any simulated value can give (at the observed value)."""
    if isinstance(obs, Binomial):
        return float(stats.binom.logpmf(obs.count, obs.n, obs.count / obs.n))
    if isinstance(obs, NormalObservation):
        return float(-0.5 * math.log(2.0 * math.pi * obs.se**2))
    if isinstance(obs, NegativeBinomial):
        r, p = _nb(obs, np.asarray(float(obs.count)))
        return float(stats.nbinom.logpmf(obs.count, r, p))
    return float(stats.poisson.logpmf(obs.count, float(obs.count))) if obs.count else 0.0


def observed_value(obs: Observation) -> float:
    """The observation on its reporting scale (``k / n``, the count or the value)."""
    return float(obs.observed)


def replicate_observations(
    obs: Observation, simulated: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw replicated observations, one per simulated value, on the reporting scale.

    Args:
        obs: the observation model (its sample size, scale, dispersion or SE).
        simulated: simulated values of the metric.
        rng: random generator.

    Returns:
        Replicated observations (NaN where the simulated value is NaN).
    """
    x = np.asarray(simulated, dtype=np.float64)
    ok = np.isfinite(x)
    xs = np.where(ok, x, 0.0)
    if isinstance(obs, Binomial):
        out = rng.binomial(obs.n, np.clip(xs, 0.0, 1.0)) / obs.n
    elif isinstance(obs, NormalObservation):
        out = rng.normal(xs, obs.se)
    elif isinstance(obs, NegativeBinomial):
        mean = obs.scale * np.maximum(xs, 0.0)
        r, p = _nb(obs, mean)
        out = rng.negative_binomial(r, p).astype(np.float64)
    else:
        out = rng.poisson(obs.scale * np.maximum(xs, 0.0)).astype(np.float64)
    return np.where(ok, out, np.nan)


def replicate_log_likelihood(obs: Observation, replicates: np.ndarray) -> float:
    """Log-likelihood of an observation of one municipality, given the model's replicates.

    Each replicate is one possible municipality; the observed municipality is another
    draw. The replicates' mean ``m`` and variance ``s^2`` (between municipalities) are
    matched by a beta distribution of the share (binomial: a beta-binomial), a gamma
    distribution of the mean count (Poisson and negative binomial: a negative binomial
    whose variance adds ``(scale s)^2``) or a normal (normal: variance ``s^2 + se^2``),
    so a few replicates suffice. With one replicate, or identical ones, it is the plain
    observation model at ``m``.

    Args:
        obs: the observation model with its data.
        replicates: the target's simulated value in each replicate.

    Returns:
        The log-likelihood; ``-inf`` when a replicate's value is undefined (NaN) or the
        data are impossible.
    """
    x = np.asarray(replicates, dtype=np.float64).ravel()
    if x.size == 0 or not np.all(np.isfinite(x)):
        return -math.inf
    m = float(x.mean())
    var = float(x.var(ddof=1)) if x.size > 1 else 0.0
    if isinstance(obs, Binomial):
        m = min(max(m, 0.0), 1.0)
        room = m * (1.0 - m)
        if var <= 0.0 or room <= 0.0:
            return float(log_likelihood(obs, np.array([m]))[0])
        kappa = max(room / min(var, 0.999 * room) - 1.0, 1e-9)
        out = stats.betabinom.logpmf(obs.count, obs.n, m * kappa, (1.0 - m) * kappa)
    elif isinstance(obs, NormalObservation):
        out = stats.norm.logpdf(obs.value, loc=m, scale=math.sqrt(obs.se**2 + var))
    else:
        mean = obs.scale * max(m, 0.0)
        extra = obs.scale**2 * var + (
            mean**2 / obs.dispersion if isinstance(obs, NegativeBinomial) else 0.0
        )
        if extra <= 0.0 or mean <= 0.0:
            return float(log_likelihood(obs, np.array([m]))[0])
        r = mean**2 / extra
        out = stats.nbinom.logpmf(obs.count, r, r / (r + mean))
    out = float(out)
    return out if not math.isnan(out) else -math.inf
