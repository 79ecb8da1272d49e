"""Participation (docs/model.md, "Participation").

Enrolment in a place, after which the dropout step (geometric) or the step of completion
is scheduled.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from impactsim.engine.clocks import next_time
from impactsim.engine.counts import count_first_enrolment, move_status, took_part
from impactsim.engine.layout import ENROLLED, count_rows


@nb.njit(cache=True)
def enrol(
    i: int,
    k: int,
    t: int,
    c: int,
    s: int,
    old: int,
    p: int,
    category: np.ndarray,
    first_channel: np.ndarray,
    adopt_step: np.ndarray,
    status: np.ndarray,
    t_event: np.ndarray,
    effect: np.ndarray,
    t_next: np.ndarray,
    t_due: np.ndarray,
    fidelity: np.ndarray,
    effect_d: np.ndarray,
    eff_mult: np.ndarray,
    drop_rate: np.ndarray,
    dur_steps: np.ndarray,
    iv_keys: np.ndarray,
    s_cnt: np.ndarray,
) -> None:
    """Parent i (segment s, status ``old``) takes a place in programme k at organisation p.

    Counted in slot c of the stock counts (the first enrolment in any programme also
    among those who took part); the effect is ``d_k * multiplier_ks * fidelity_p``; the
    next step is the dropout step (geometric) or else the step of completion.
    """
    n_iv = status.shape[1]
    if not took_part(i, status):
        n_pseudo = s_cnt.shape[1] - count_rows(n_iv, 5, 0)[-1]
        count_first_enrolment(i, c, 1, s, category[i], first_channel, n_iv, n_pseudo, s_cnt)
    move_status(s_cnt, c, k, n_iv, s, old, ENROLLED)
    status[i, k] = ENROLLED
    t_event[i, k] = t
    effect[i, k] = effect_d[k] * eff_mult[k, s] * fidelity[p]
    t_next[i, k] = min(
        next_time(iv_keys[k, 2], np.int64(i), np.int64(t), drop_rate[k, s]), t + dur_steps[k]
    )
    t_due[i] = min(t_due[i], t_next[i, k])
    if adopt_step[i] < 0:
        adopt_step[i] = t
