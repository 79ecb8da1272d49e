"""Finalists: the best candidates re-evaluated on fresh replicates, and P(best).

The best of many noisy candidates looks better than it is (the optimiser's curse: its
estimate was selected for being high). So the search's best distinct candidates are run
again with more replicates and another seed, all with the same random numbers (common
random numbers), and the recommendation is made on these numbers only. The probability
that each finalist is the best is the share of bootstrap resamples of the replicates
(paired across finalists) in which its mean objective is the best; ``best_share`` is the
share of single replicates in which it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from impactsim.optimize.evaluate import Evaluation
from impactsim.optimize.mix import mix_key
from impactsim.optimize.schema import OBJECTIVES
from impactsim.optimize.search import Limits, TrialRecord

#: Bootstrap resamples for P(best) and the intervals of the mean.
BOOTSTRAP = 2000


def finalist_seed(seed: int) -> int:
    """The seed of the re-evaluation: independent of the search's, fixed by it."""
    digest = hashlib.sha256(f"impactsim-finalists:{seed}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def pareto_mask(points: np.ndarray, maximise: Sequence[bool]) -> np.ndarray:
    """Rows of ``points`` [n, k] that no other row dominates.

    Args:
        points: objective values, one row per candidate.
        maximise: per column, whether more is better.

    Returns:
        Boolean mask of the non-dominated rows.
    """
    signed = points * np.where(np.asarray(maximise), 1.0, -1.0)  # larger is better
    n = len(signed)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        better_eq = (signed >= signed[i]).all(axis=1)
        strictly = (signed > signed[i]).any(axis=1)
        keep[i] = not (better_eq & strictly).any()
    return keep


def choose(
    records: Sequence[TrialRecord], objectives: Sequence[str], count: int
) -> list[TrialRecord]:
    """The distinct feasible candidates to re-evaluate, best first.

    One objective: the ``count`` best means. Several: the Pareto set's members, best on
    the first objective first, at most ``count``.
    """
    feasible = [r for r in records if r.feasible]
    unique: dict[str, TrialRecord] = {}
    for r in feasible:
        unique.setdefault(mix_key(r.values), r)
    pool = list(unique.values())
    if not pool:
        return []
    sign = 1.0 if OBJECTIVES[objectives[0]] else -1.0
    if len(objectives) > 1:
        pts = np.array([r.objectives for r in pool])
        mask = pareto_mask(pts, [OBJECTIVES[m] for m in objectives])
        pool = [r for r, keep in zip(pool, mask, strict=True) if keep]
    pool.sort(key=lambda r: (-sign * r.objectives[0], r.number))
    return pool[:count]


@dataclass(frozen=True)
class Finalist:
    """A re-evaluated candidate."""

    values: dict[str, Any]
    screening: float
    evaluation: Evaluation
    feasible: bool
    p_within_budget: float
    p_best: float = float("nan")
    best_share: float = float("nan")


def _interval(rng: np.random.Generator, x: np.ndarray) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return float("nan"), float("nan")
    idx = rng.integers(0, len(x), size=(BOOTSTRAP, len(x)))
    means = x[idx].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def p_best(
    values: np.ndarray, maximise: bool, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Probability each option is the best, and its share of replicates won.

    Args:
        values: objective per option and replicate ``[options, replicates]`` (paired).
        maximise: whether more is better.
        rng: random generator of the bootstrap.

    Returns:
        ``(p_best, best_share)`` per option.
    """
    signed = np.nan_to_num(values if maximise else -values, nan=-np.inf)
    k, n = signed.shape
    idx = rng.integers(0, n, size=(BOOTSTRAP, n))
    means = signed[:, idx].mean(axis=2)  # [k, BOOTSTRAP]
    wins = np.bincount(means.argmax(axis=0), minlength=k) / BOOTSTRAP
    share = np.bincount(signed.argmax(axis=0), minlength=k) / n
    return wins, share


def reevaluate(
    chosen: Sequence[TrialRecord],
    evaluate: Callable[[Sequence[Mapping[str, Any]]], list[Evaluation]],
    objective: str,
    limits: Limits,
    seed: int,
) -> list[Finalist]:
    """Re-evaluate the chosen candidates and estimate each one's chance to be the best.

    Args:
        chosen: the candidates, best first by their search estimate.
        evaluate: candidates to evaluations on the finalists' seed and replicates.
        objective: the objective the recommendation is made on.
        limits: budget and equity limits (checked again on the new replicates).
        seed: seed of the bootstrap.

    Returns:
        One finalist per candidate, in the order given; P(best) among the feasible ones.
    """
    evs = evaluate([r.values for r in chosen])
    out = []
    for r, ev in zip(chosen, evs, strict=True):
        cost = ev.metrics[limits.metric]
        within = float(np.mean(cost <= limits.budget)) if ev.ok else float("nan")
        out.append(Finalist(r.values, r.objectives[0], ev, limits.met(ev), within))
    ok = [i for i, f in enumerate(out) if f.feasible]
    if ok:
        table = np.array([out[i].evaluation.metrics[objective] for i in ok])
        rng = np.random.default_rng(seed)
        wins, share = p_best(table, OBJECTIVES[objective], rng)
        for j, i in enumerate(ok):
            f = out[i]
            out[i] = Finalist(
                f.values,
                f.screening,
                f.evaluation,
                True,
                f.p_within_budget,
                float(wins[j]),
                float(share[j]),
            )
    return out


def recommended(finalists: Sequence[Finalist], objective: str) -> Finalist | None:
    """The feasible finalist with the best mean objective on the re-evaluation (None if none)."""
    ok = [f for f in finalists if f.feasible]
    if not ok:
        return None
    sign = 1.0 if OBJECTIVES[objective] else -1.0
    return max(ok, key=lambda f: sign * f.evaluation.mean(objective))


def summary_row(f: Finalist, objective: str, seed: int) -> dict[str, Any]:
    """Mean, 95 % interval of the mean and 90 % range over replicates of a finalist."""
    x = f.evaluation.metrics[objective]
    lo, hi = _interval(np.random.default_rng(seed), x)
    finite = x[np.isfinite(x)]
    return {
        "mean": f.evaluation.mean(objective),
        "ci_low": lo,
        "ci_high": hi,
        "p05": float(np.quantile(finite, 0.05)) if len(finite) else float("nan"),
        "p95": float(np.quantile(finite, 0.95)) if len(finite) else float("nan"),
    }
