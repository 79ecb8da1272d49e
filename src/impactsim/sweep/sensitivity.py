"""Sensitivity analysis of a sweep's outputs (SALib).

* Sobol first- and total-order indices with bootstrap confidence intervals
  (``SALib.analyze.sobol``) for a ``sobol`` sweep;
* Morris μ, μ*, σ with a confidence interval for μ* (``SALib.analyze.morris``) for a
  ``morris`` sweep;
* a one-way tornado table for a ``one_way`` sweep.

The output analysed per point is the mean over its replicates of one summary metric
(totals unless breakdown filters are given), e.g. ``public_impact_pp``,
``reach_cumulative`` or, when the scenario has economics, ``npv``. With common random
numbers (the default) the replicate noise is shared by all points, so it hardly disturbs
the indices.

Morris elementary effects are changes of the output divided by the step Δ = p / (2(p − 1))
on the unit scale of the design (p levels), so μ* is in output units per whole range of a
parameter (for a linear effect: the change of the output from its low to its high value).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from impactsim.sweep.results import SweepResults, unit_matrix

#: Fewer Sobol base samples than this give unreliable indices (a warning is attached).
MIN_SOBOL_SAMPLES = 64


class SensitivityError(ValueError):
    """The sweep cannot give the requested analysis."""


def _problem(results: SweepResults) -> dict[str, Any]:
    names = results.parameters
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def _y(results: SweepResults, output: str, where: dict[str, str]) -> np.ndarray:
    return results.outcome(output, **where)["mean"].to_numpy(dtype=float)


def _require(results: SweepResults, method: str, analysis: str) -> None:
    if results.method != method:
        raise SensitivityError(
            f"{analysis} needs a sweep with sampler '{method}'; '{results.name}' used "
            f"'{results.method}'"
        )


def _seed(results: SweepResults, seed: int | None) -> int:
    if seed is not None:
        return int(seed)
    return int(results.definition.get("seed", 0)) % (2**32)


def sobol_indices(
    results: SweepResults,
    output: str,
    *,
    num_resamples: int = 1000,
    conf_level: float = 0.95,
    seed: int | None = None,
    **where: str,
) -> pd.DataFrame:
    """Sobol first-order (S1) and total-order (ST) indices of one output.

    Args:
        results: a finished ``sobol`` sweep.
        output: summary metric (per-point mean over replicates).
        num_resamples: bootstrap resamples for the confidence intervals.
        conf_level: confidence level of the intervals.
        seed: seed of the bootstrap (default: the sweep's seed).
        **where: breakdown filters (default: totals).

    Returns:
        One row per parameter: ``output, parameter, S1, S1_conf, S1_lo, S1_hi, ST,
        ST_conf, ST_lo, ST_hi`` (``_conf`` is the half-width of the interval). Second-order
        indices, when the design has them, are in ``.attrs["S2"]``. An output with the same
        value at every point gives NaN indices and ``.attrs["note"]``; fewer than
        :data:`MIN_SOBOL_SAMPLES` base samples add ``.attrs["warning"]``.

    Raises:
        SensitivityError: not a sobol sweep, or points without a value.
    """
    from SALib.analyze import sobol

    _require(results, "sobol", "Sobol indices")
    y = _y(results, output, where)
    missing = np.flatnonzero(~np.isfinite(y))
    if missing.size:
        shown = ", ".join(str(i) for i in missing[:10])
        raise SensitivityError(
            f"Sobol indices need every point of the design; {missing.size} point(s) have no "
            f"finite value of '{output}' (points {shown}{'...' if missing.size > 10 else ''}). "
            "Re-run the sweep to retry failed tasks, or check the failed points' errors"
        )
    second = bool(results.definition["sampler"].get("second_order", False))
    if np.ptp(y) == 0.0:
        return _no_variance_sobol(results, output, second, conf_level)
    si = sobol.analyze(
        _problem(results),
        y,
        calc_second_order=second,
        num_resamples=num_resamples,
        conf_level=conf_level,
        seed=_seed(results, seed),
    )
    df = pd.DataFrame(
        {
            "output": output,
            "parameter": results.parameters,
            "S1": si["S1"],
            "S1_conf": si["S1_conf"],
            "ST": si["ST"],
            "ST_conf": si["ST_conf"],
        }
    )
    df["S1_lo"], df["S1_hi"] = df["S1"] - df["S1_conf"], df["S1"] + df["S1_conf"]
    df["ST_lo"], df["ST_hi"] = df["ST"] - df["ST_conf"], df["ST"] + df["ST_conf"]
    df = df[
        [
            "output",
            "parameter",
            "S1",
            "S1_conf",
            "S1_lo",
            "S1_hi",
            "ST",
            "ST_conf",
            "ST_lo",
            "ST_hi",
        ]
    ]
    if second:
        names = results.parameters
        df.attrs["S2"] = pd.DataFrame(si["S2"], index=names, columns=names)
        df.attrs["S2_conf"] = pd.DataFrame(si["S2_conf"], index=names, columns=names)
    df.attrs["conf_level"] = conf_level
    n_base = int(results.definition["sampler"].get("samples", 0))
    if n_base < MIN_SOBOL_SAMPLES:
        df.attrs["warning"] = (
            f"only N={n_base} base samples: Sobol estimates from fewer than "
            f"{MIN_SOBOL_SAMPLES} are unreliable; use samples: {MIN_SOBOL_SAMPLES} or more"
        )
    return df


def _no_variance_sobol(
    results: SweepResults, output: str, second: bool, conf_level: float
) -> pd.DataFrame:
    """Indices of an output that is the same at every point: undefined (NaN), with a note."""
    nan = np.full(len(results.parameters), np.nan)
    df = pd.DataFrame({"output": output, "parameter": results.parameters})
    for col in ("S1", "S1_conf", "S1_lo", "S1_hi", "ST", "ST_conf", "ST_lo", "ST_hi"):
        df[col] = nan
    df.attrs["note"] = f"'{output}' has the same value at every point: no variance to attribute"
    df.attrs["conf_level"] = conf_level
    return df


def morris_indices(
    results: SweepResults,
    output: str,
    *,
    num_resamples: int = 1000,
    conf_level: float = 0.95,
    seed: int | None = None,
    **where: str,
) -> pd.DataFrame:
    """Morris elementary-effects statistics of one output.

    Trajectories with a point without a value (a failed task) are left out; at least two
    complete trajectories are needed.

    Args:
        results: a finished ``morris`` sweep.
        output: summary metric (per-point mean over replicates).
        num_resamples: bootstrap resamples for the interval of μ*.
        conf_level: confidence level.
        seed: seed of the bootstrap (default: the sweep's seed).
        **where: breakdown filters (default: totals).

    Returns:
        One row per parameter: ``output, parameter, mu, mu_star, mu_star_conf, sigma``,
        sorted as in the sweep file; ``.attrs["trajectories"]`` is the number used.

    Raises:
        SensitivityError: not a morris sweep, or fewer than two complete trajectories.
    """
    from SALib.analyze import morris

    _require(results, "morris", "Morris screening")
    y = _y(results, output, where)
    x = unit_matrix(results).to_numpy(dtype=float)
    d = len(results.parameters)
    steps = d + 1
    if y.size % steps:
        raise SensitivityError(f"the design has {y.size} points, not a multiple of D+1={steps}")
    ok = np.isfinite(y).reshape(-1, steps).all(axis=1)
    if ok.sum() < 2:
        raise SensitivityError(
            f"Morris screening needs at least 2 complete trajectories; {int(ok.sum())} of "
            f"{ok.size} have a value of '{output}' at every point"
        )
    keep = np.repeat(ok, steps)
    levels = int(results.definition["sampler"].get("levels", 4))
    si = morris.analyze(
        _problem(results),
        x[keep],
        y[keep],
        num_resamples=num_resamples,
        conf_level=conf_level,
        num_levels=levels,
        seed=_seed(results, seed),
    )
    df = pd.DataFrame(
        {
            "output": output,
            "parameter": results.parameters,
            "mu": np.asarray(si["mu"], dtype=float),
            "mu_star": np.asarray(si["mu_star"], dtype=float),
            "mu_star_conf": np.asarray(si["mu_star_conf"], dtype=float),
            "sigma": np.asarray(si["sigma"], dtype=float),
        }
    )
    df.attrs["trajectories"] = int(ok.sum())
    df.attrs["conf_level"] = conf_level
    return df


def tornado_table(results: SweepResults, output: str, **where: str) -> pd.DataFrame:
    """One-way sensitivity: the output with one parameter at a time at its low and high value.

    Every other parameter stays at its base value.

    Args:
        results: a finished ``one_way`` sweep.
        output: summary metric (per-point mean over replicates).
        **where: breakdown filters (default: totals).

    Returns:
        One row per parameter, largest swing first: ``output, parameter, low_value,
        high_value, base_value, base_output, low_output, high_output, swing``
        (``|high_output - low_output|``).

    Raises:
        SensitivityError: not a one_way sweep, or the base point has no value.
    """
    _require(results, "one_way", "A tornado diagram")
    means = results.outcome(output, **where)["mean"].to_numpy(dtype=float)
    pts = results.points
    base_output = means[0]
    if not np.isfinite(base_output):
        raise SensitivityError(
            f"the base point (point 0) has no value of '{output}'; see the failed tasks"
        )
    rows = []
    for name in results.parameters:
        lo = pts.index[(pts["varied"] == name) & (pts["level"] == "low")][0]
        hi = pts.index[(pts["varied"] == name) & (pts["level"] == "high")][0]
        rows.append(
            {
                "output": output,
                "parameter": name,
                "low_value": pts.at[lo, name],
                "high_value": pts.at[hi, name],
                "base_value": pts.at[0, name],
                "base_output": base_output,
                "low_output": means[lo],
                "high_output": means[hi],
            }
        )
    df = pd.DataFrame(rows)
    df["swing"] = (df["high_output"] - df["low_output"]).abs()
    return df.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


def analyze(
    results: SweepResults,
    outputs: Sequence[str],
    *,
    num_resamples: int = 1000,
    conf_level: float = 0.95,
    **where: str,
) -> dict[str, pd.DataFrame]:
    """The analysis that fits the sweep's sampler, for several outputs.

    Args:
        results: a finished sweep (sobol, morris or one_way).
        outputs: metric names.
        num_resamples: bootstrap resamples (Sobol, Morris).
        conf_level: confidence level (Sobol, Morris).
        **where: breakdown filters (default: totals).

    Returns:
        Output name -> table (see :func:`sobol_indices`, :func:`morris_indices`,
        :func:`tornado_table`).

    Raises:
        SensitivityError: the sampler has no sensitivity analysis (grid, latin_hypercube).
    """
    out: dict[str, pd.DataFrame] = {}
    for name in outputs:
        if results.method == "sobol":
            out[name] = sobol_indices(
                results, name, num_resamples=num_resamples, conf_level=conf_level, **where
            )
        elif results.method == "morris":
            out[name] = morris_indices(
                results, name, num_resamples=num_resamples, conf_level=conf_level, **where
            )
        elif results.method == "one_way":
            out[name] = tornado_table(results, name, **where)
        else:
            raise SensitivityError(
                f"sampler '{results.method}' has no sensitivity analysis; use sobol (Sobol "
                "indices), morris (screening) or one_way (tornado)"
            )
    return out
