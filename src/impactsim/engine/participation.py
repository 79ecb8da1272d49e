"""Participation (docs/model.md, "Participation").

A joiner is enrolled at once when a single organisation with unlimited places is open and
nobody waits, else put on the programme's waiting list (:func:`join`). Enrolment
(:func:`enrol`) schedules the dropout step (geometric) or else the step of completion;
at that step the participation ends (:func:`end_participation`): a dropout keeps the dose
it attended, a completer the full effect, and the follow-ups of the programme open.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from impactsim.engine.clocks import next_time, schedule_uptake
from impactsim.engine.counts import count_first_enrolment, move_status, took_part
from impactsim.engine.layout import (
    AWARE,
    COMPLETED,
    DROPPED,
    ENROLLED,
    EV_JOIN,
    EV_SPILL,
    NEVER,
    WAITING,
    count_rows,
    join_code,
    note_event,
)
from impactsim.engine.state import ChunkScratch, Interventions, Parents, Providers, Step


@nb.njit(cache=True, inline="always")
def enrol(
    i: int,
    k: int,
    t: int,
    c: int,
    s: int,
    old: int,
    p: int,
    parents: Parents,
    providers: Providers,
    interventions: Interventions,
    s_cnt: np.ndarray,
) -> None:
    """Parent i (segment s, status ``old``) takes a place in programme k at organisation p.

    Counted in slot c of the stock counts (the first enrolment in any programme also
    among those who took part); the effect is ``d_k * multiplier_ks * fidelity_p`` (and,
    with further outcomes, the unit effect ``multiplier_ks * fidelity_p``); the
    next step is the dropout step (geometric) or else the step of completion.
    """
    category = parents.category
    first_channel = parents.first_channel
    adopt_step = parents.adopt_step
    status = parents.status
    t_event = parents.t_event
    effect = parents.effect
    t_next = parents.t_next
    t_due = parents.t_due
    dur_steps = interventions.dur_steps
    drop_rate = interventions.drop_rate
    iv_keys = interventions.iv_keys
    effect_d = interventions.effect_d
    eff_mult = interventions.eff_mult
    fidelity = providers.fidelity
    n_iv = status.shape[1]
    if not took_part(i, status):
        n_pseudo = s_cnt.shape[1] - count_rows(n_iv, 5, 0)[-1]
        count_first_enrolment(i, c, 1, s, category[i], first_channel, n_iv, n_pseudo, s_cnt)
    move_status(s_cnt, c, k, n_iv, s, old, ENROLLED)
    status[i, k] = ENROLLED
    t_event[i, k] = t
    effect[i, k] = effect_d[k] * eff_mult[k, s] * fidelity[p]
    if parents.unit_effect.shape[0] > 0:  # further outcomes: the effect per unit of d
        parents.unit_effect[i, k] = eff_mult[k, s] * fidelity[p]
    t_next[i, k] = min(
        next_time(iv_keys[k, 2], np.int64(i), np.int64(t), drop_rate[k, s]), t + dur_steps[k]
    )
    t_due[i] = min(t_due[i], t_next[i, k])
    if adopt_step[i] < 0:
        adopt_step[i] = t


@nb.njit(cache=True, nogil=True, inline="always")
def end_participation(
    i: int,
    k: int,
    c: int,
    t: int,
    s: int,
    a: int,
    fully_mixed: bool,
    parents: Parents,
    interventions: Interventions,
    scratch: ChunkScratch,
    s_cnt: np.ndarray,
) -> None:
    """Parent i (segment s, category a), enrolled in k, drops out or completes in step t.

    Enrolled in step e, steps e+1 .. e+D are the D steps of attendance; each can end in
    dropout (dose = steps attended / D), the last in completion. The dropout step was
    drawn at enrolment (geometric) and is drawn again, from the same key, to tell the two
    apart. A completer of a programme with spillover is listed for the pushes, and the
    follow-ups of k open for the parent: their candidates start after the delay.
    """
    status, t_event, effect = parents.status, parents.t_event, parents.effect
    iv = interventions
    n_iv = status.shape[1]
    e = np.int64(t_event[i, k])
    parents.t_next[i, k] = NEVER
    if next_time(iv.iv_keys[k, 2], np.int64(i), e, iv.drop_rate[k, s]) == t:
        effect[i, k] *= (t - 1 - e) / iv.dur_steps[k]
        if parents.unit_effect.shape[0] > 0:
            parents.unit_effect[i, k] *= (t - 1 - e) / iv.dur_steps[k]
        move_status(s_cnt, c, k, n_iv, s, ENROLLED, DROPPED)
        parents.has_gain[i] = 1
        parents.eff_on[i] |= 1 << k
        status[i, k] = DROPPED
        t_event[i, k] = t
        scratch.drop[c, k, s] += 1
        return
    move_status(s_cnt, c, k, n_iv, s, ENROLLED, COMPLETED)
    parents.has_gain[i] = 1
    parents.eff_on[i] |= 1 << k
    status[i, k] = COMPLETED
    t_event[i, k] = t
    scratch.complete[c, k, s] += 1
    if iv.spill_on[k] and not fully_mixed:
        note_event(scratch.events, scratch.flags, c, EV_SPILL, i * n_iv + k)
    # follow-ups of k open for this parent (completed before the step, at least the delay ago)
    for kb in range(n_iv):
        if (
            iv.follow_after[kb] == k
            and status[i, kb] <= AWARE
            and parents.score[i] > iv.score_gate[kb]
        ):
            t0 = t + max(1, iv.follow_delay_steps[kb]) - 1
            schedule_uptake(
                np.int64(i),
                np.int64(kb),
                np.int64(t0),
                np.int64(s),
                np.int64(a),
                np.int64(status[i, kb]),
                np.int64(parents.ref_channel[i, kb]),
                iv.iv_keys[kb, 5],
                iv.cand_none,
                iv.cand_aware,
                parents.t_next,
            )


@nb.njit(cache=True, nogil=True, inline="always")
def join(
    i: int,
    k: int,
    c: int,
    t: int,
    s: int,
    st: int,
    via: int,
    step: Step,
    parents: Parents,
    interventions: Interventions,
    providers: Providers,
    scratch: ChunkScratch,
    s_cnt: np.ndarray,
) -> int:
    """Parent i (segment s, status ``st``) decides in step t to enrol in k, referred by ``via``.

    The joiner is listed (``EV_JOIN``) for the sequential phase. With
    ``step.direct_prov[k] = p >= 0`` (nobody waiting, and a single organisation p with
    unlimited places open: the waiting list would enrol every joiner with p) the parent is
    enrolled at once, exactly as the waiting list would; otherwise it joins the waiting
    list.

    Returns:
        The parent's new status for k (``ENROLLED`` or ``WAITING``).
    """
    status = parents.status
    n_iv = status.shape[1]
    if parents.first_channel[i] < 0:
        parents.first_channel[i] = via
    parents.t_event[i, k] = t
    p = step.direct_prov[k]
    note_event(scratch.events, scratch.flags, c, EV_JOIN, join_code(i, k, n_iv, p >= 0))
    if p >= 0:
        enrol(i, k, t, c, s, st, p, parents, providers, interventions, s_cnt)
        scratch.direct[c, k, s] += 1
        return ENROLLED
    move_status(s_cnt, c, k, n_iv, s, st, WAITING)
    status[i, k] = WAITING
    scratch.wait[c, k] += 1
    return WAITING
