"""Participation (``engine.participation``): the end of participation, and joining.

Rules (docs/model.md §6): a parent placed in step e attends steps e+1 .. e+D and drops
out in an attended step j with the step probability of the dropout hazard, keeping the
dose (j - 1)/D of the effect; otherwise it completes at e + D with the full effect
``d_k * mu_k,s * phi_p`` (§7). The dropout step is the geometric waiting time drawn at
placement (§2: ``clocks.next_time`` on the dropout key of (parent, e)); a dropout at
e + D is a dropout. A completer passes spillover to its network neighbours (§7, listed
as ``EV_SPILL``; none in a fully mixed population), and a follow-up of the programme
opens at least ``delay`` after completion (§6). A joiner is enrolled at once when a
single organisation p with unlimited places is open and nobody waits
(``step.direct_prov[k] = p``), else put on the waiting list (§5).
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import base_dict, engine_bundles
from impactsim.engine.clocks import next_time
from impactsim.engine.layout import (
    AWARE,
    COMPLETED,
    DROPPED,
    ENROLLED,
    EV_JOIN,
    EV_SPILL,
    NEVER,
    NONE,
    ROW_ANY,
    WAITING,
)
from impactsim.engine.participation import end_participation, join

D = 4  # prog lasts 4 steps of a month
E0 = 2  # the step in which the parents were placed
EFFECT_D, MULT, FIDELITY = 0.4, {"a": 1.5, "b": 0.5}, 0.7


def scenario(delay_months: float = 3.0, dt: float = 1.0, dropout: float = 0.4):
    """Two segments with effect multipliers; prog (d = 0.4, 4 months, dropout, spillover)
    and its follow-up booster; two teams of fidelity 0.9 with 10 places a month and one
    unlimited organisation (the platform, p = 2) of fidelity 0.7; 600 parents."""
    d = base_dict(size=600, months=24)
    d["simulation"]["dt_months"] = dt
    seg = d["population"]["segments"][0]
    d["population"]["segments"] = [
        {**seg, "name": "a", "share": 0.5},
        {**seg, "name": "b", "share": 0.5},
    ]
    d["population"]["network"] = {"kind": "random", "mean_degree": 6, "homophily": 0.5}
    d["providers"][0]["fidelity"] = FIDELITY  # organisation 2, after the two teams
    d["providers"].insert(0, {"name": "teams", "count": 2, "fidelity": 0.9})
    d["strategy"]["offers"][0]["providers"].append("teams")
    d["interventions"][0].update(
        duration_months=D * dt,
        dropout_rate_per_month=dropout,
        spillover_fraction=0.25,
        effect_size={"mean": EFFECT_D},
        effect_multiplier=MULT,
    )
    d["interventions"].append(
        {
            "name": "booster",
            "duration_months": 1,
            "effect_size": {"mean": 0.2},
            "follow_up": {"after": "prog", "delay_months": delay_months},
        }
    )
    d["strategy"]["offers"].append(
        {"intervention": "booster", "channels": ["campaign"], "providers": ["platform"]}
    )
    return d


def enrolled(eng, e0: int) -> np.ndarray:
    """Every parent enrolled in prog (k = 0) at step e0, with its effect, counted.

    Each one's next step is its dropout step or else its completion step (§2, §6).
    """
    p, iv = eng.parents, eng.interventions
    n = eng.spec.n_parents
    p.status[:, 0] = ENROLLED
    p.t_event[:, 0] = e0
    p.effect[:, 0] = [EFFECT_D * MULT["ab"[s]] * FIDELITY for s in p.segment]
    p.first_channel[:] = 0
    p.adopt_step[:] = e0
    p.eff_on[::2] = 0b10  # a bit of another programme, to be kept
    drop_step = np.array(
        [next_time(iv.iv_keys[0, 2], i, e0, iv.drop_rate[0, p.segment[i]]) for i in range(n)]
    )
    p.t_next[:, 0] = np.minimum(drop_step, e0 + iv.dur_steps[0])
    eng.restart_counts()
    return drop_step


@pytest.mark.parametrize("fully_mixed", [False, True], ids=["network", "fully-mixed"])
def test_end_participation_dropouts_keep_their_dose_completers_the_full_effect(fully_mixed):
    # a scenario with spillover needs a network (validation); a fully mixed population
    # is the kernel's flag fully_mixed, which is what its parents' pass passes
    eng = engine_bundles(scenario())
    p, iv, sc = eng.parents, eng.interventions, eng.scratch
    drop_step = enrolled(eng, E0)
    effect0, eff_on0 = p.effect[:, 0].copy(), p.eff_on.copy()
    t_end = p.t_next[:, 0].copy()
    for i in np.argsort(t_end, kind="stable"):  # in order of time, as in a run
        c, t = eng.chunk_of(i), int(t_end[i])
        s, a = p.segment[i], p.category[i]
        end_participation(i, 0, c, t, s, a, fully_mixed, p, iv, sc, eng.records.s_cnt)

    dropped = drop_step <= E0 + D  # the dropout step is an attended step
    j = t_end - E0  # the attended step in which participation ends
    assert set(j[dropped]) == {1, 2, 3, 4}  # every attended step has dropouts
    assert dropped.mean() == pytest.approx(1 - np.exp(-0.4 * D), abs=0.08)  # and completers
    # §6: a dropout in attended step j keeps the dose (j - 1)/D of its effect
    want = np.where(dropped, effect0 * (j - 1) / D, effect0)
    np.testing.assert_allclose(p.effect[:, 0], want, rtol=1e-6)
    assert (p.effect[dropped & (j == 1), 0] == 0).all()
    # §7: a completer keeps d * mu_s * phi: 0.4 * 1.5 * 0.7 = 0.42 in a, 0.14 in b
    np.testing.assert_allclose(
        p.effect[~dropped, 0], [(0.42, 0.14)[s] for s in p.segment[~dropped]], rtol=1e-6
    )
    np.testing.assert_array_equal(p.status[:, 0], np.where(dropped, DROPPED, COMPLETED))
    np.testing.assert_array_equal(p.t_event[:, 0], t_end)  # stamped with the step it ended
    assert (p.t_next[:, 0] == NEVER).all()  # nothing more is due for prog
    assert (p.has_gain == 1).all()  # both may carry a gain now
    np.testing.assert_array_equal(p.eff_on, eff_on0 | 0b01)  # bit k = 0 set, others kept
    # counted: per chunk and segment in the scratch, and moved in the stock counts
    for s in range(2):
        in_s = p.segment == s
        assert eng.scratch.drop[:, 0, s].sum() == (dropped & in_s).sum()
        assert eng.scratch.complete[:, 0, s].sum() == (~dropped & in_s).sum()
    np.testing.assert_array_equal(eng.counts(), eng.recount())
    # completers of prog (spillover 0.25) are listed for the pushes only with a network,
    # code i K + k (K = 2, k = 0), in the order they completed (a chunk lists up to 64)
    order = np.argsort(t_end, kind="stable")
    for c in range(2):
        completers = [i for i in order if not dropped[i] and eng.chunk_of(i) == c]
        n_listed = min(len(completers), sc.events.shape[2])
        if not fully_mixed:
            assert sc.flags[c, EV_SPILL] == len(completers) > 0
            np.testing.assert_array_equal(
                sc.events[c, EV_SPILL, :n_listed], 2 * np.array(completers[:n_listed])
            )
        else:
            assert sc.flags[c, EV_SPILL] == 0


@pytest.mark.parametrize(
    ("delay_months", "dt", "delay_steps"), [(3.0, 1.0, 3), (1.5, 0.5, 3), (0.0, 1.0, 0)]
)
def test_end_participation_opens_the_follow_up_after_the_delay(delay_months, dt, delay_steps):
    eng = engine_bundles(scenario(delay_months, dt, dropout=0.0))
    p, iv = eng.parents, eng.interventions
    assert iv.follow_delay_steps[1] == delay_steps  # delay_months / dt
    assert (p.t_next[:, 1] == NEVER).all()  # a follow-up gets no candidates at entry
    enrolled(eng, E0)
    p.status[:5, 1] = WAITING  # already asked for the booster: not scheduled again
    t = E0 + D
    for i in range(eng.spec.n_parents):
        c, s, a = eng.chunk_of(i), p.segment[i], p.category[i]
        end_participation(i, 0, c, t, s, a, False, p, iv, eng.scratch, eng.records.s_cnt)
    assert (p.status[:, 0] == COMPLETED).all()  # no dropout
    # §6: open at least the delay after completion, and not in the step of completion;
    # the campaign (1000 per month) bounds the candidate rate far above 1 per step, so
    # the first candidate is the first step allowed
    first_allowed = t + max(1, delay_steps)
    np.testing.assert_array_equal(p.t_next[5:, 1], first_allowed)
    assert (p.t_next[:5, 1] == NEVER).all()


def test_end_participation_never_opens_the_follow_up_before_the_delay():
    # a modest candidate rate: the booster's first candidates spread out, none too early
    d = scenario(3.0)
    d["population"]["segments"][0]["contact_rates"] = {"campaign": 0.05}
    d["population"]["segments"][1]["contact_rates"] = {"campaign": 0.05}
    eng = engine_bundles(d)
    p, iv = eng.parents, eng.interventions
    drop_step = enrolled(eng, E0)
    t_end = p.t_next[:, 0].copy()
    for i in range(eng.spec.n_parents):
        c, s, a = eng.chunk_of(i), p.segment[i], p.category[i]
        end_participation(
            i, 0, c, int(t_end[i]), s, a, False, p, iv, eng.scratch, eng.records.s_cnt
        )
    done = drop_step > E0 + D
    gap = p.t_next[done, 1].astype(np.int64) - t_end[done]
    assert done.sum() > 50 and gap.min() >= 3  # never before the delay of 3 steps
    assert gap.max() > 3  # (the candidates are spread: the check above is not trivial)
    assert (p.t_next[~done, 1] == NEVER).all()  # dropouts do not open the follow-up


@pytest.mark.parametrize("st", [NONE, AWARE])
@pytest.mark.parametrize("direct", [True, False], ids=["enrolled-at-once", "waiting-list"])
@pytest.mark.parametrize("returning", [False, True], ids=["first-programme", "took-part-before"])
def test_join(st: int, direct: bool, returning: bool):
    eng = engine_bundles(scenario(dropout=0.0))
    p, sc = eng.parents, eng.scratch
    n_iv, t, via = 2, 5, 1  # via: the pseudo-channel word of mouth (C = 1)
    joiners = range(300, 340)  # chunk 1, both segments
    for i in joiners:
        p.status[i, 0] = st
        if returning:  # took part in the booster before, brought in by the campaign
            p.status[i, 1] = COMPLETED
            p.first_channel[i] = 0
            p.adopt_step[i] = 1
    eng.restart_counts()
    before = eng.counts().copy()
    platform = 2
    assert eng.providers.fidelity[platform] == FIDELITY and eng.chunk_of(joiners[0]) == 1
    step = eng.step(t, direct_prov=np.array([platform if direct else -1, -1]))
    for i in joiners:
        s = p.segment[i]
        new = join(
            i,
            0,
            1,
            t,
            s,
            p.status[i, 0],
            via,
            step,
            p,
            eng.interventions,
            eng.providers,
            sc,
            eng.records.s_cnt,
        )
        assert new == (ENROLLED if direct else WAITING)

    ids = np.array(joiners)
    seg = p.segment[ids]
    assert set(seg) == {0, 1}
    assert (p.status[ids, 0] == (ENROLLED if direct else WAITING)).all()
    assert (p.t_event[ids, 0] == t).all()
    # the channel of first contact: the joiner's referral unless one was recorded before
    assert (p.first_channel[ids] == (0 if returning else via)).all()
    # a join event either way, code 2 (i K + k) + 1 if enrolled at once
    assert sc.flags[1, EV_JOIN] == len(ids)
    np.testing.assert_array_equal(sc.events[1, EV_JOIN, : len(ids)], 2 * (ids * n_iv) + direct)
    after = eng.counts()
    np.testing.assert_array_equal(after, eng.recount())
    if direct:
        # §7: the effect is d_k * mu_k,s * phi_p = 0.4 * (1.5 | 0.5) * 0.7 (the platform)
        want = [EFFECT_D * MULT["ab"[s]] * FIDELITY for s in seg]
        np.testing.assert_allclose(p.effect[ids, 0], want, rtol=1e-6)
        np.testing.assert_allclose(p.effect[ids[seg == 0], 0], 0.42, rtol=1e-6)
        # §6: no dropout: the next step is the completion at t + D
        assert (p.t_next[ids, 0] == t + D).all() and (p.t_due[ids] <= t + D).all()
        assert (p.adopt_step[ids] == (1 if returning else t)).all()  # first enrolment
        for s in range(2):
            assert sc.direct[1, 0, s] == (seg == s).sum()
        assert sc.wait.sum() == 0
        # counted among those who took part, unless they had before
        assert after[ROW_ANY].sum() - before[ROW_ANY].sum() == (0 if returning else len(ids))
    else:
        assert not p.effect[ids, 0].any()
        assert (p.adopt_step[ids] == (1 if returning else -1)).all()
        assert sc.wait[1, 0] == len(ids) and sc.direct.sum() == 0
        assert after[ROW_ANY].sum() == before[ROW_ANY].sum()
    assert sc.flags[0].sum() == 0  # chunk 0 untouched
