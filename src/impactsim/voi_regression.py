"""Regressions for the value of information: fitted values and posterior draws of them.

Two non-parametric regressions of a net benefit on a few parameters, as Strong, Oakley &
Brennan (2014, *Medical Decision Making* 34:311–326) use to estimate EVPPI: a Gaussian
process (:func:`fit_gp`, scikit-learn) and penalised regression splines, a generalised
additive model (:func:`fit_gam`). Each returns the fitted values at the replicates and
draws of them from the regression's posterior, from which :func:`impactsim.voi.evppi`
gets a standard error. Inputs are standardised, outputs in the units of ``y``.
"""

from __future__ import annotations

import warnings

import numpy as np

#: The GAM fits a full tensor product of splines up to this many parameters, else an
#: additive model (interactions ignored; use the Gaussian process).
GAM_MAX_TENSOR = 4


def _standardise(x: np.ndarray) -> np.ndarray:
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    return (x - x.mean(axis=0)) / sd


def _draw_normal(mean: np.ndarray, cov: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws of a normal vector; a covariance that is not quite positive is clipped."""
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2.0)
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    return mean + rng.standard_normal((n, mean.size)) @ root.T


#: Replicates used to choose the Gaussian process's hyperparameters (SAVI uses 30 per
#: parameter, at most 250); the fit then uses every replicate.
GP_HYPER_MAX = 500


def shortest_length_scale(xs: np.ndarray) -> float:
    """The median distance from a replicate to its nearest neighbour (standardised inputs).

    The Gaussian process's length scales may not fall below it: a kernel narrower than
    the spacing of the replicates correlates no two of them, and the marginal likelihood
    cannot tell such a kernel from noise — the fit then reproduces the data (EVPPI =
    EVPI). With many parameters and few replicates the bound keeps the fit smooth, which
    is all such data can support.
    """
    from scipy.spatial import cKDTree

    if len(xs) < 2:
        return 0.05
    dist, _ = cKDTree(xs).query(xs, k=2)
    return max(0.05, float(np.median(dist[:, 1])))


def fit_gp(
    x: np.ndarray, y: np.ndarray, draws: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian-process fit of ``y`` on ``x``: fitted values and posterior draws of them.

    Kernel: amplitude × squared exponential with one length scale per parameter
    (automatic relevance determination), each at least :func:`shortest_length_scale`,
    + white noise; hyperparameters by maximum marginal likelihood on at most
    :data:`GP_HYPER_MAX` replicates (scikit-learn). The draws are of the latent function,
    without the noise.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    xs = _standardise(x)
    centre, scale = float(y.mean()), float(y.std())
    if scale == 0:
        return np.full_like(y, centre), np.full((draws, y.size), centre)
    ys = (y - centre) / scale
    m = min(len(ys), GP_HYPER_MAX)
    shortest = shortest_length_scale(xs[:m])
    signal = ConstantKernel(1.0, (1e-4, 1e2)) * RBF(
        np.full(x.shape[1], max(2.0, shortest)), (shortest, max(1e3, 10 * shortest))
    )
    kernel = signal + WhiteKernel(0.5, (1e-8, 1e1))
    gp = GaussianProcessRegressor(
        kernel, n_restarts_optimizer=2, random_state=int(rng.integers(2**31))
    )
    with warnings.catch_warnings():
        # a parameter without influence drives its length scale to the bound: expected
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(xs[:m], ys[:m])
    if m < len(ys):
        gp = GaussianProcessRegressor(gp.kernel_, optimizer=None).fit(xs, ys)
    mean, cov = gp.predict(xs, return_cov=True)
    cov = cov - gp.kernel_.k2.noise_level * np.eye(y.size)  # latent function only
    sample = _draw_normal(mean, cov, draws, rng)
    return centre + scale * mean, centre + scale * sample


def _difference_penalty(k: int) -> np.ndarray:
    d = np.diff(np.eye(k), n=2, axis=0)
    return d.T @ d


def _spline_design(xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cubic B-spline basis and second-difference penalty (tensor product or additive)."""
    from sklearn.preprocessing import SplineTransformer

    n, p = xs.shape
    tensor = p <= GAM_MAX_TENSOR
    k = {1: 10, 2: 6, 3: 5, 4: 4}.get(p, 6) if tensor else 6
    k = max(4, min(k, n // 3 + 1)) if p == 1 else k
    bases = [
        SplineTransformer(n_knots=k - 2, degree=3, knots="quantile").fit_transform(xs[:, [j]])
        for j in range(p)
    ]
    pen = _difference_penalty(k)
    if not tensor:
        design = np.hstack(bases)
        penalty = np.zeros((p * k, p * k))
        for j in range(p):
            penalty[j * k : (j + 1) * k, j * k : (j + 1) * k] = pen
        return design, penalty
    design = bases[0]
    for b in bases[1:]:
        design = (design[:, :, None] * b[:, None, :]).reshape(n, -1)
    penalty = np.zeros((k**p, k**p))
    for j in range(p):
        term = np.ones((1, 1))
        for i in range(p):
            term = np.kron(term, pen if i == j else np.eye(k))
        penalty += term
    return design, penalty


def fit_gam(
    x: np.ndarray, y: np.ndarray, draws: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Penalised regression spline fit (a GAM): fitted values and posterior draws of them.

    Cubic B-splines at quantile knots per parameter, their full tensor product for up to
    :data:`GAM_MAX_TENSOR` parameters (an additive model beyond), a second-difference
    penalty (P-splines, Eilers & Marx 1996) whose weight is chosen by generalised
    cross-validation; the coefficients' Bayesian posterior ``N(β̂, σ² (BᵀB + λP)⁻¹)`` gives
    the draws (the Bayesian view of a penalised spline; Wood 2017, *Generalized Additive
    Models*, 2nd ed.).
    """
    xs = _standardise(x)
    centre, scale = float(y.mean()), float(y.std())
    if scale == 0:
        return np.full_like(y, centre), np.full((draws, y.size), centre)
    ys = (y - centre) / scale
    design, penalty = _spline_design(xs)
    n, m = design.shape
    btb, bty = design.T @ design, design.T @ ys
    ridge = 1e-8 * np.trace(btb) / m * np.eye(m)
    base = np.trace(btb) / max(np.trace(penalty), 1e-12)
    best: tuple[float, np.ndarray, float, np.ndarray] | None = None
    for lam in base * np.logspace(-6, 6, 49):
        inv = np.linalg.pinv(btb + lam * penalty + ridge, hermitian=True)
        beta = inv @ bty
        edf = float(np.trace(inv @ btb))
        rss = float(((ys - design @ beta) ** 2).sum())
        gcv = n * rss / max(n - edf, 1e-9) ** 2
        if best is None or gcv < best[0]:
            sigma2 = rss / max(n - edf, 1.0)
            best = (gcv, beta, sigma2, inv)
    assert best is not None
    _, beta, sigma2, inv = best
    coef = _draw_normal(beta, sigma2 * inv, draws, rng)
    return centre + scale * (design @ beta), centre + scale * (coef @ design.T)
