"""Clocks and next-event sampling (docs/model.md, "Time and events").

A parent is visited only at its scheduled steps: ``t_exit`` (turnover), ``t_next[i, k]``
(the next step at which something may happen for intervention k) and ``t_due[i]``, the
earliest of them. Waiting times of per-step Bernoulli processes are geometric, drawn by
inversion from one keyed uniform (:func:`next_time`); candidates for awareness and
enrolment come at a bounding rate and are thinned (:mod:`impactsim.engine.uptake`).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from impactsim.engine.layout import NEVER, NONE
from impactsim.rng import uniform


@nb.njit(cache=True, inline="always")
def next_time(key: np.uint64, who: int, t0: int, rate_step: float) -> int:
    """The first step after ``t0`` at which a per-step Bernoulli process fires.

    The process fires in each step with probability ``1 - exp(-rate_step)``; the number
    of steps to its first firing is geometric, drawn here by inversion from one keyed
    uniform ``(key, who, t0)``: ``t0 + 1 + floor(-log(1 - u) / rate_step)``. Returns
    :data:`NEVER` if the rate is zero or the time is beyond the int16 clocks.
    """
    if rate_step <= 0.0:
        return NEVER
    gap = -math.log1p(-uniform(key, who, t0)) / rate_step
    if gap >= NEVER - 1 - t0:
        return NEVER
    return t0 + 1 + np.int64(gap)


@nb.njit(cache=True, inline="always")
def schedule_uptake(
    i: int,
    k: int,
    t0: int,
    s: int,
    a: int,
    st: int,
    ref: int,
    key: np.uint64,
    cand_none: np.ndarray,
    cand_aware: np.ndarray,
    t_next: np.ndarray,
) -> None:
    """Draw the next candidate step of parent i for intervention k after step ``t0``.

    Candidates come at the bounding rate of the parent's state (not aware, or aware
    through channel ``ref``), per step; see :func:`step_parents`.
    """
    rate = cand_none[s, a, k] if st == NONE else cand_aware[a, ref, k]
    t_next[i, k] = next_time(key, np.int64(i), np.int64(t0), rate)


@nb.njit(cache=True, inline="always")
def set_clocks(
    i: int,
    t0: int,
    s: int,
    a: int,
    z: float,
    t_exit: np.ndarray,
    t_next: np.ndarray,
    t_due: np.ndarray,
    turn_rate: float,
    turn_key: np.uint64,
    follow_after: np.ndarray,
    score_gate: np.ndarray,
    cand_none: np.ndarray,
    cand_aware: np.ndarray,
    iv_keys: np.ndarray,
) -> None:
    """The exit step and first candidate steps, after ``t0``, of a family entering slot i.

    A follow-up intervention gets no candidates: it opens when its programme is completed.
    Nor does an indicated programme whose score threshold the family's problem score
    ``z`` can never pass (``z <= score_gate[k]``, see ``simulate.score_gate``): every one
    of its candidates would be rejected, so leaving them out changes nothing.
    """
    t_exit[i] = next_time(turn_key, np.int64(i), np.int64(t0), turn_rate)
    for k in range(t_next.shape[1]):
        t_next[i, k] = NEVER
        if follow_after[k] == -1 and z > score_gate[k]:
            schedule_uptake(
                np.int64(i),
                np.int64(k),
                np.int64(t0),
                np.int64(s),
                np.int64(a),
                np.int64(NONE),
                np.int64(-1),
                iv_keys[k, 5],
                cand_none,
                cand_aware,
                t_next,
            )
    t_due[i] = first_due(i, t_exit, t_next)


@nb.njit(cache=True, inline="always")
def first_due(i: int, t_exit: np.ndarray, t_next: np.ndarray) -> int:
    """The earliest scheduled step of parent i: its exit or any intervention's next step."""
    first = t_exit[i]
    for k in range(t_next.shape[1]):
        first = min(first, t_next[i, k])
    return first


@nb.njit(cache=True, parallel=True, nogil=True)
def start_clocks(
    segment: np.ndarray,
    category: np.ndarray,
    score: np.ndarray,
    t_exit: np.ndarray,
    t_next: np.ndarray,
    t_due: np.ndarray,
    turn_rate: float,
    turn_key: np.uint64,
    follow_after: np.ndarray,
    score_gate: np.ndarray,
    cand_none: np.ndarray,
    cand_aware: np.ndarray,
    iv_keys: np.ndarray,
) -> None:
    """The first exit step and the first candidate steps of every parent (from step -1)."""
    for i in nb.prange(segment.shape[0]):
        set_clocks(
            np.int64(i),
            np.int64(-1),
            np.int64(segment[i]),
            np.int64(category[i]),
            np.float64(score[i]),
            t_exit,
            t_next,
            t_due,
            turn_rate,
            turn_key,
            follow_after,
            score_gate,
            cand_none,
            cand_aware,
            iv_keys,
        )


def step_probabilities(hz: np.ndarray, dt: float) -> np.ndarray:
    """Elementwise ``1 - exp(-hz * dt)``, computed exactly as in :func:`step_parents`.

    The kernel takes the values as one flat float64 array, so it is compiled once for
    the arrays of every shape it is given.
    """
    flat = np.ascontiguousarray(hz, dtype=np.float64).ravel()
    return _step_probabilities_flat(flat, float(dt)).reshape(np.shape(hz))


@nb.njit(cache=True, nogil=True)
def _step_probabilities_flat(flat: np.ndarray, dt: float) -> np.ndarray:
    """:func:`step_probabilities` of a flat array."""
    out = np.empty(flat.shape[0], np.float64)
    for j in range(flat.shape[0]):
        out[j] = -math.expm1(-flat[j] * dt)
    return out
