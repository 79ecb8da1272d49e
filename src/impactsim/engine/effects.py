"""Effects of the programmes on a parent (docs/model.md, "Effects").

A parent's gain from the programmes it completed or dropped out of, with decay, sleeper
effects and interactions, plus spillover.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from impactsim.engine.layout import COMPLETED, DROPPED


@nb.njit(cache=True, inline="always")
def effect_now(
    i: int,
    k: int,
    now: int,
    status: np.ndarray,
    t_event: np.ndarray,
    effect: np.ndarray,
    decay_tab: np.ndarray,
    sleeper_steps: np.ndarray,
) -> float:
    """Effect of intervention k on parent i at the end of step ``now - 1`` (SD units).

    A completer (or dropout, with a dose-scaled effect) stamped at step ``t_e`` has
    effect ``e * decay(now - 1 - t_e - sleeper)`` once that lag is >= 0, else 0.
    Computed without data-dependent branches (statuses vary from parent to parent, so
    branches on them mispredict): the product is multiplied by 1 or 0, which leaves its
    value exactly as it is or makes it zero.
    """
    st = status[i, k]
    lag = now - 1 - np.int64(t_event[i, k]) - sleeper_steps[k]
    on = (st == COMPLETED) | (st == DROPPED)
    on &= lag >= 0
    lag_c = max(lag, 0)
    return effect[i, k] * decay_tab[k, lag_c] * on


@nb.njit(cache=True, nogil=True)
def parent_gain(
    i: int,
    now: int,
    n_iv: int,
    status: np.ndarray,
    t_event: np.ndarray,
    effect: np.ndarray,
    spill: np.ndarray,
    decay_tab: np.ndarray,
    sleeper_steps: np.ndarray,
    gamma: np.ndarray,
    has_gamma: bool,
) -> float:
    """Total reduction of parent i's problem score (SD units).

    ``sum_k g_k + sum_{k<l} gamma_kl * min(g_k, g_l) + sum_k spill_k``, where the
    interaction term applies only when both effects are positive (added as the term
    times 1 or 0, the same sum as skipping it).
    """
    total = 0.0
    for k in range(n_iv):
        gk = effect_now(i, k, now, status, t_event, effect, decay_tab, sleeper_steps)
        total += gk + spill[i, k]
        if has_gamma:
            for m in range(k + 1, n_iv):
                g_km = gamma[k, m]
                if g_km != 0.0:  # the same for every parent: predictable
                    gm = effect_now(i, m, now, status, t_event, effect, decay_tab, sleeper_steps)
                    both = (gk > 0.0) & (gm > 0.0)
                    total += g_km * min(gk, gm) * both
    return total


@nb.njit(cache=True, inline="always")
def decay_spill_range(lo: int, hi: int, spill: np.ndarray, spill_decay_step: np.ndarray) -> None:
    """One step's decay of the spillover gains of parents ``lo .. hi - 1`` (in place).

    Every value is multiplied by its programme's factor per step (a loop LLVM
    vectorizes); a parent without spillover keeps 0 (``0 * f = 0``). Nothing is counted
    here: the spillover-only parents are counted at month ends (:func:`measure_chunk`).
    """
    n_iv = spill.shape[1]
    for i in range(lo, hi):
        for k in range(n_iv):
            spill[i, k] *= spill_decay_step[k]
