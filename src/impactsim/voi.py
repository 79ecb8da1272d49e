"""Value of information: EVPI and EVPPI by non-parametric regression.

The expected value of perfect information (EVPI) is what the municipality should at most
pay to remove all uncertainty before choosing among the options; the expected value of
partial perfect information (EVPPI) is the same for one group of uncertain parameters,
such as the effect sizes. With net benefit ``NB_d(θ)`` of option ``d``:

    EVPI     = E_θ[max_d NB_d(θ)] − max_d E_θ[NB_d(θ)]
    EVPPI(φ) = E_φ[max_d E[NB_d | φ]] − max_d E[NB_d]

The EVPPI's inner conditional expectations are estimated, as in Strong, Oakley & Brennan
(2014, *Medical Decision Making* 34:311–326), by regressing each option's incremental net
benefit (against a reference option) on the group's parameters over the Monte Carlo
replicates: the fitted values ``g_d`` give ``EVPPI = mean_r(max_d g_d) − max_d mean_r(g_d)``.
The regression is a Gaussian process (scikit-learn, the default) or a penalised regression
spline (GAM). The standard error follows Strong et al.: draws of the fitted values from
the regression's posterior, each over a bootstrap resample of the replicates, the EVPPI
recomputed for each draw.

:func:`evpi` and :func:`evppi` are pure: they work on per-replicate tables from any source
(a comparison, a sweep, another model).
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from impactsim.voi_regression import GAM_MAX_TENSOR, fit_gam, fit_gp

Method = Literal["gp", "gam"]
METHODS: tuple[str, ...] = ("gp", "gam")

#: Draws from the regression's posterior for the standard error (Strong et al. 2014).
POSTERIOR_DRAWS = 500


class VOIWarning(UserWarning):
    """An estimate of the value of information that should be read with care."""


# --------------------------------------------------------------------------- pure functions
def evpi(net_benefit: pd.DataFrame | np.ndarray) -> float:
    """Expected value of perfect information from per-replicate net benefits.

    ``EVPI = mean_r(max_d NB[r, d]) − max_d mean_r(NB[r, d])``: the expected gain of
    choosing the best option in every replicate rather than the best option on average.

    Args:
        net_benefit: one row per replicate, one column per option (euros).

    Returns:
        The EVPI (euros, >= 0).
    """
    nb = np.asarray(net_benefit, dtype=np.float64)
    if nb.ndim != 2 or nb.shape[0] == 0 or nb.shape[1] == 0:
        raise ValueError("net_benefit needs at least one replicate (row) and one option (column)")
    return max(float(nb.max(axis=1).mean() - nb.mean(axis=0).max()), 0.0)


def evpi_interval(
    net_benefit: pd.DataFrame | np.ndarray, draws: int = 1000, seed: int = 0
) -> tuple[float, float, float]:
    """Bootstrap standard error and 2.5–97.5 % interval of :func:`evpi` over replicates.

    Returns:
        ``(se, lo, hi)`` in euros.
    """
    nb = np.asarray(net_benefit, dtype=np.float64)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, nb.shape[0], size=(draws, nb.shape[0]))
    boot = nb[idx]  # [B, R, D]
    values = np.maximum(boot.max(axis=2).mean(axis=1) - boot.mean(axis=1).max(axis=1), 0.0)
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(values.std(ddof=1)), float(lo), float(hi)


def _evppi_from_fits(g: np.ndarray) -> np.ndarray:
    """EVPPI from fitted incremental net benefits ``g[..., r, d]`` (reference column 0).

    Never negative (the mean of a maximum is at least the maximum of the means): rounding
    is clipped at 0.
    """
    return np.maximum(g.max(axis=-1).mean(axis=-1) - g.mean(axis=-2).max(axis=-1), 0.0)


FITS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {"gp": fit_gp, "gam": fit_gam}


def _evppi_group(
    x: np.ndarray, inb: np.ndarray, method: str, draws: int, rng: np.random.Generator
) -> dict[str, float]:
    """EVPPI of parameters ``x`` [R, P] for incremental net benefits ``inb`` [R, D-1]."""
    n = inb.shape[0]
    if x.shape[1] == 0:
        return {"n_parameters": 0, "evppi": 0.0, "se": 0.0, "lo": 0.0, "hi": 0.0, "n_replicates": n}
    fitted = np.zeros((n, inb.shape[1] + 1))
    sample = np.zeros((draws, n, inb.shape[1] + 1))
    for d in range(inb.shape[1]):
        fitted[:, d + 1], sample[:, :, d + 1] = FITS[method](x, inb[:, d], draws, rng)
    # each draw: the regression's posterior and a bootstrap of the replicates together
    boot = rng.integers(0, n, size=(draws, n))
    values = _evppi_from_fits(sample[np.arange(draws)[:, None], boot])
    lo, hi = np.percentile(values, [2.5, 97.5])
    return {
        "n_parameters": x.shape[1],
        "evppi": float(_evppi_from_fits(fitted)),
        "se": float(values.std(ddof=1)),
        "lo": float(lo),
        "hi": float(hi),
        "n_replicates": n,
    }


def evppi(
    net_benefit: pd.DataFrame,
    parameters: pd.DataFrame,
    groups: Mapping[str, Sequence[str]],
    method: Method = "gp",
    *,
    reference: str | None = None,
    draws: int = POSTERIOR_DRAWS,
    seed: int = 0,
) -> pd.DataFrame:
    """EVPPI of groups of parameters by non-parametric regression (Strong et al. 2014).

    For each option ``d`` other than the reference, the incremental net benefit
    ``NB_d − NB_ref`` is regressed on the group's parameters; with fitted values ``g_d``
    (``g_ref = 0``), ``EVPPI = mean_r(max_d g_d) − max_d mean_r(g_d)``. The standard error
    and interval come from ``draws`` draws of the fitted values from the regression's
    posterior (Strong et al. 2014), each over a bootstrap resample of the replicates, so
    that they hold both the regression's error and the Monte Carlo error of a finite
    sample of parameter values.

    Args:
        net_benefit: one row per replicate, one column per option (euros).
        parameters: one row per replicate (same index), one column per parameter.
        groups: group name -> parameter columns.
        method: ``"gp"`` (Gaussian process, any number of parameters) or ``"gam"``
            (penalised regression splines; best for up to 4 parameters).
        reference: option the increments are taken against; default the first column.
        draws: posterior draws for the standard error.
        seed: seed of the optimiser restarts and the draws.

    Returns:
        One row per group: ``group, n_parameters, evppi, se, lo, hi, n_replicates, method``
        (euros). A group whose parameters do not vary gets 0 with no regression (nothing to learn).

    Raises:
        ValueError: unknown method or parameter, misaligned tables, fewer than 2 options.
    """
    if method not in FITS:
        raise ValueError(f"method must be one of {', '.join(METHODS)} (got {method!r})")
    if net_benefit.shape[1] < 2:
        raise ValueError("the value of information needs at least two options")
    if not net_benefit.index.equals(parameters.index):
        raise ValueError("net_benefit and parameters need the same replicates (index)")
    ref = net_benefit.columns[0] if reference is None else reference
    inb = net_benefit.sub(net_benefit[ref], axis=0).drop(columns=ref).to_numpy(np.float64)
    rows = []
    # small matrices: one BLAS thread is much faster than several competing for the cores
    with threadpool_limits(limits=1, user_api="blas"):
        for group, cols in groups.items():
            missing = [c for c in cols if c not in parameters.columns]
            if missing:
                raise ValueError(f"group {group!r}: unknown parameters {', '.join(missing)}")
            x = parameters[list(cols)].to_numpy(np.float64)
            x = x[:, x.std(axis=0) > 0] if x.size else x
            if method == "gam" and x.shape[1] > GAM_MAX_TENSOR:
                warnings.warn(
                    f"group {group!r} has {x.shape[1]} parameters: the GAM fits them additively "
                    f"(interactions ignored) above {GAM_MAX_TENSOR}; method 'gp' fits them "
                    "jointly",
                    VOIWarning,
                    stacklevel=2,
                )
            rng = np.random.default_rng([seed, zlib.crc32(str(group).encode())])
            rows.append(
                {"group": group, **_evppi_group(x, inb, method, draws, rng), "method": method}
            )
    return pd.DataFrame(
        rows, columns=["group", "n_parameters", "evppi", "se", "lo", "hi", "n_replicates", "method"]
    )
