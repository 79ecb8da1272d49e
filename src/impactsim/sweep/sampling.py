"""Designs: which parameter values each point of a sweep gets.

Every sampler first produces *unit coordinates* ``u`` in ``[0, 1]`` per parameter, then
maps them to values:

* ``range: [lo, hi]``: uniform (``scale: log``: log-uniform), ``u = 0`` gives ``lo`` and
  ``u = 1`` gives ``hi``;
* ``distribution``: the quantile function (``scipy.stats``); on a side where the
  distribution is unbounded (normal, log-normal) ``u`` is clipped to
  ``[TAIL, 1 - TAIL]``, so designs that use the edges of the cube (Morris, one_way, grid)
  get the 0.5 % and 99.5 % quantiles instead of infinities;
* ``values: [...]``: item ``floor(u * k)`` of the ``k`` values.

Fields holding whole numbers (``population.size``, ``providers.x.count``) are rounded.

Samplers: ``grid`` (every combination), ``latin_hypercube`` (``scipy.stats.qmc``),
``sobol`` (Saltelli design, ``SALib.sample.sobol``), ``morris`` (``SALib.sample.morris``) and
``one_way`` (the base point and each parameter alone at its low and high value).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from impactsim.sweep.schema import (
    GridSampler,
    LatinHypercubeSampler,
    MorrisSampler,
    OneWaySampler,
    Parameter,
    ResolvedParameter,
    Sampler,
    SobolSampler,
    Sweep,
)

#: Tail probability cut off on an unbounded side of a distribution.
TAIL = 0.005

#: Prefix of the unit-coordinate columns in the points table.
UNIT_PREFIX = "unit:"


def _frozen(p: Parameter) -> Any:
    """The scipy.stats frozen distribution of a range or distribution parameter."""
    if p.range is not None:
        lo, hi = float(p.range[0]), float(p.range[1])
        if p.scale == "log":
            return stats.loguniform(lo, hi)
        return stats.uniform(loc=lo, scale=hi - lo)
    d = p.distribution
    assert d is not None
    if d.kind == "uniform":
        return stats.uniform(loc=d.low, scale=d.high - d.low)
    if d.kind == "loguniform":
        return stats.loguniform(d.low, d.high)
    if d.kind == "normal":
        if d.low is None and d.high is None:
            return stats.norm(loc=d.mean, scale=d.sd)
        a = -math.inf if d.low is None else (d.low - d.mean) / d.sd
        b = math.inf if d.high is None else (d.high - d.mean) / d.sd
        return stats.truncnorm(a, b, loc=d.mean, scale=d.sd)
    if d.kind == "lognormal":
        return stats.lognorm(s=d.sigma, scale=d.median)
    if d.kind == "triangular":
        width = d.high - d.low
        return stats.triang(c=(d.mode - d.low) / width, loc=d.low, scale=width)
    if d.kind == "beta":
        return stats.beta(d.alpha, d.beta, loc=d.low, scale=d.high - d.low)
    raise ValueError(f"unknown distribution {d.kind!r}")  # pragma: no cover


def _unit_bounds(dist: Any) -> tuple[float, float]:
    lo, hi = dist.support()
    return (0.0 if math.isfinite(lo) else TAIL, 1.0 if math.isfinite(hi) else 1.0 - TAIL)


def _native(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def unit_to_values(rp: ResolvedParameter, u: np.ndarray) -> list[Any]:
    """Map unit coordinates of one parameter to scenario values.

    Args:
        rp: the parameter.
        u: unit coordinates in [0, 1].

    Returns:
        One plain Python value per coordinate (float, int, str, bool or None).
    """
    u = np.asarray(u, dtype=float)
    p = rp.spec
    if p.values is not None:
        k = len(p.values)
        idx = np.minimum(np.floor(u * k).astype(np.int64), k - 1)
        idx = np.maximum(idx, 0)
        return [p.values[i] for i in idx]
    dist = _frozen(p)
    lo_u, hi_u = _unit_bounds(dist)
    x = dist.ppf(np.clip(u, lo_u, hi_u))
    s_lo, s_hi = dist.support()
    x = np.clip(x, s_lo, s_hi)  # guard against round-off outside the support
    if p.range is not None:  # exact end points
        x = np.where(u <= 0.0, float(p.range[0]), x)
        x = np.where(u >= 1.0, float(p.range[1]), x)
    if rp.integer:
        lo = math.ceil(s_lo) if math.isfinite(s_lo) else -math.inf
        hi = math.floor(s_hi) if math.isfinite(s_hi) else math.inf
        return [int(np.clip(np.rint(v), lo, hi)) for v in x]
    return [float(v) for v in x]


def extreme_values(rp: ResolvedParameter, sampler: Sampler) -> list[Any]:
    """The most extreme values any design can give a parameter (checked when loading)."""
    p = rp.spec
    out: list[Any] = (
        list(p.values) if p.values is not None else unit_to_values(rp, np.array([0.0, 1.0]))
    )
    if isinstance(sampler, OneWaySampler) and p.base is not None:
        out.append(p.base)
    unique: list[Any] = []
    for v in out:
        if not any(v is w or (type(v) is type(w) and v == w) for w in unique):
            unique.append(v)
    return unique


def point_count(sweep: Sweep) -> int:
    """Number of points the sweep's design has (without building it)."""
    s = sweep.spec.sampler
    d = len(sweep.parameters)
    if isinstance(s, GridSampler):
        return math.prod(_grid_levels(rp, s) for rp in sweep.parameters)
    if isinstance(s, LatinHypercubeSampler):
        return s.samples
    if isinstance(s, SobolSampler):
        return s.samples * (2 * d + 2 if s.second_order else d + 2)
    if isinstance(s, MorrisSampler):
        return (s.optimal_trajectories or s.trajectories) * (d + 1)
    if isinstance(s, OneWaySampler):
        return 1 + 2 * d
    raise ValueError(f"unknown sampler {s!r}")  # pragma: no cover


def _grid_levels(rp: ResolvedParameter, s: GridSampler) -> int:
    if rp.spec.values is not None:
        return len(rp.spec.values)
    return rp.spec.levels or s.levels


def _grid_units(rp: ResolvedParameter, s: GridSampler) -> np.ndarray:
    n = _grid_levels(rp, s)
    if rp.spec.range is not None:
        return np.linspace(0.0, 1.0, n)
    return (np.arange(n) + 0.5) / n  # values: each item once; distributions: mid-quantiles


def salib_problem(sweep: Sweep) -> dict[str, Any]:
    """The SALib problem on unit coordinates (bounds [0, 1] for every parameter)."""
    return {
        "num_vars": len(sweep.parameters),
        "names": [rp.label for rp in sweep.parameters],
        "bounds": [[0.0, 1.0]] * len(sweep.parameters),
    }


def _seed(sweep: Sweep, s: Any) -> int:
    return int(s.seed) if getattr(s, "seed", None) is not None else int(sweep.seed)


def unit_design(sweep: Sweep) -> np.ndarray:
    """Unit coordinates of every point (rows) and parameter (columns).

    For ``one_way`` the base point's coordinates are NaN where the base value does not come
    from the parameter's range or distribution.
    """
    s = sweep.spec.sampler
    d = len(sweep.parameters)
    if isinstance(s, GridSampler):
        axes = [_grid_units(rp, s) for rp in sweep.parameters]
        return np.array(list(itertools.product(*axes)), dtype=float).reshape(-1, d)
    if isinstance(s, LatinHypercubeSampler):
        from scipy.stats import qmc

        kwargs = {"d": d, "scramble": s.scramble, "optimization": s.optimization}
        try:  # scipy >= 1.15 names the seed 'rng'
            engine = qmc.LatinHypercube(**kwargs, rng=_seed(sweep, s))
        except TypeError:  # pragma: no cover - older scipy
            engine = qmc.LatinHypercube(**kwargs, seed=_seed(sweep, s))
        return engine.random(s.samples)
    if isinstance(s, SobolSampler):
        from SALib.sample import sobol as sobol_sample

        return sobol_sample.sample(
            salib_problem(sweep),
            s.samples,
            calc_second_order=s.second_order,
            scramble=s.scramble,
            seed=_seed(sweep, s),
        )
    if isinstance(s, MorrisSampler):
        from SALib.sample import morris as morris_sample

        return morris_sample.sample(
            salib_problem(sweep),
            s.trajectories,
            num_levels=s.levels,
            optimal_trajectories=s.optimal_trajectories,
            seed=_seed(sweep, s),
        )
    if isinstance(s, OneWaySampler):
        return _one_way_units(sweep, s)
    raise ValueError(f"unknown sampler {s!r}")  # pragma: no cover


def _low_high_units(rp: ResolvedParameter, s: OneWaySampler) -> tuple[float, float]:
    p = rp.spec
    if p.values is not None:
        k = len(p.values)
        return 0.5 / k, (k - 0.5) / k
    if p.range is not None:
        return 0.0, 1.0
    return float(s.quantiles[0]), float(s.quantiles[1])


def _base_unit(rp: ResolvedParameter) -> float:
    """Unit coordinate of the parameter's base value (NaN if it has none in the design)."""
    p = rp.spec
    value = base_value(rp)
    if p.values is not None:
        for i, v in enumerate(p.values):
            if v == value and type(v) is type(value):
                return (i + 0.5) / len(p.values)
        return math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(_frozen(p).cdf(float(value)))
    return math.nan


def base_value(rp: ResolvedParameter) -> Any:
    """Centre value of a parameter for one_way.

    ``base`` if given, else the base scenario's value, else the median of its range or
    distribution (the middle item of values).
    """
    p = rp.spec
    if p.base is not None:
        return p.base
    if rp.base_value is not None and (p.values is None or rp.base_value in p.values):
        return rp.base_value
    return unit_to_values(rp, np.array([0.5]))[0]


def _one_way_units(sweep: Sweep, s: OneWaySampler) -> np.ndarray:
    d = len(sweep.parameters)
    base = np.array([_base_unit(rp) for rp in sweep.parameters], dtype=float)
    rows = [base.copy()]
    for j, rp in enumerate(sweep.parameters):
        lo, hi = _low_high_units(rp, s)
        for u in (lo, hi):
            row = base.copy()
            row[j] = u
            rows.append(row)
    return np.array(rows, dtype=float).reshape(-1, d)


def design(sweep: Sweep) -> pd.DataFrame:
    """The points table: one row per point.

    Columns: ``point``; one column per parameter (its label) with the value put into the
    scenario; ``unit:<label>`` with the unit coordinate; for ``one_way`` also ``varied``
    (the parameter moved away from its base, '' for the base point) and ``level``
    (base, low, high).
    """
    units = unit_design(sweep)
    n = units.shape[0]
    s = sweep.spec.sampler
    cols: dict[str, Any] = {"point": np.arange(n, dtype=np.int64)}
    values: dict[str, list[Any]] = {}
    for j, rp in enumerate(sweep.parameters):
        vals = unit_to_values(rp, np.nan_to_num(units[:, j], nan=0.5))
        if isinstance(s, OneWaySampler):
            centre = base_value(rp)
            # every row but this parameter's own low/high rows holds the base value
            own = {1 + 2 * j, 2 + 2 * j}
            vals = [v if i in own else centre for i, v in enumerate(vals)]
        values[rp.label] = [_native(v) for v in vals]
    for rp in sweep.parameters:
        cols[rp.label] = pd.Series(values[rp.label], dtype=_dtype(values[rp.label]))
    for j, rp in enumerate(sweep.parameters):
        cols[UNIT_PREFIX + rp.label] = units[:, j]
    if isinstance(s, OneWaySampler):
        varied = [""] + [rp.label for rp in sweep.parameters for _ in (0, 1)]
        level = ["base"] + ["low", "high"] * len(sweep.parameters)
        cols["varied"] = varied
        cols["level"] = level
    return pd.DataFrame(cols)


def _dtype(vals: list[Any]) -> str:
    kinds = {type(v) for v in vals}
    if kinds <= {int}:
        return "int64"
    if kinds <= {int, float}:
        return "float64"
    if kinds <= {bool}:
        return "bool"
    return "object"


def point_changes(sweep: Sweep, row: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    """(location, value) pairs that turn the base scenario into one point's scenario.

    Args:
        sweep: the sweep.
        row: parameter label -> value of one point.
    """
    return [(rp.loc, _native(row[rp.label])) for rp in sweep.parameters]


def point_seed(seed: int, point: int, common: bool) -> int:
    """Base seed of a point.

    The sweep's seed (common random numbers), or one derived from
    ``SeedSequence(seed, spawn_key=(0x5357, point))``.
    """
    if common:
        return int(seed)
    state = np.random.SeedSequence(seed, spawn_key=(0x5357, point)).generate_state(1, np.uint64)
    return int(state[0]) >> 1
