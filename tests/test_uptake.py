"""Awareness and uptake (``engine.uptake``): the hazards, and thinning in one step.

The hazards (per month) of a parent i of segment s and adopter category a for programme
k (docs/model.md §3, §4, §6), with the hand values of the scenario below:

- awareness, only when not aware: ``h_aware = sum of lambda_s,c`` over the channels that
  promote k now and contact category a;
- channel referral, only when aware through c: ``h_channel = m_ch[a] rho_c``;
- word of mouth: ``h_wom = m_im[a] q_k f`` when ``f >= theta[a]`` and ``f > 0``, else 0,
  with f the share of neighbours who took part (network: ``wom_count / degree``; fully
  mixed: the segment's mean-field share);
- follow-up referral, only for a follow-up programme.

k is open to the parent when it is not waiting, enrolled or done with k, its segment is
eligible and, for a follow-up, it completed the prerequisite before this step and at
least the delay ago. In a step, the hazards' sum H fires with probability
``1 - exp(-H dt)`` and hazard j is the one with probability ``h_j / H`` (§2).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from helpers import base_dict, engine_bundles
from impactsim.engine.layout import (
    AWARE,
    COMPLETED,
    DROPPED,
    ENROLLED,
    EV_BOUND,
    GAVE_UP,
    NONE,
    WAITING,
)
from impactsim.engine.uptake import candidate_step, gain_before, uptake_hazards

INNOVATOR, LATE_MAJORITY = 0, 3  # adopter category indices (scenario.ADOPTER_CATEGORIES)
CAMPAIGN, SCHOOL = 0, 1  # channel indices
PROG, BOOSTER = 0, 1
SCHOOL_START = 2  # the school channel starts in month (= step) 2
DELAY = 2  # the booster opens 2 months after prog is completed


def category(channel: float, imitation: float, threshold: float) -> dict:
    return {
        "channel_multiplier": channel,
        "imitation_multiplier": imitation,
        "social_threshold": threshold,
    }


def scenario(kind: str = "random") -> dict:
    """Segment a (campaign 0.3, school 0.2 contacts a month) may take prog, b (0.1, 0.4)
    may not; the school channel (referral 0.5) contacts innovators and early adopters from
    month 2, the campaign (referral 0.8) everyone; prog has q = 0.6, its follow-up booster
    q = 0.3 and a referral of 0.9 a month. Innovators: m_ch 2, m_im 1.5, theta 0; late
    majority: m_ch 0.5, m_im 1, theta 0.25."""
    d = base_dict(size=2000, months=12)
    seg = d["population"]["segments"][0]
    d["population"]["segments"] = [
        {**seg, "name": "a", "share": 0.6, "contact_rates": {"campaign": 0.3, "school": 0.2}},
        {**seg, "name": "b", "share": 0.4, "contact_rates": {"campaign": 0.1, "school": 0.4}},
    ]
    d["population"]["adopter_categories"] = {
        "innovators": category(2.0, 1.5, 0.0),
        "early_adopters": category(1.5, 1.2, 0.0),
        "early_majority": category(1.0, 1.0, 0.1),
        "late_majority": category(0.5, 1.0, 0.25),
        "laggards": category(0.25, 0.5, 0.5),
    }
    d["population"]["network"] = {"kind": kind, "mean_degree": 8, "homophily": 0.5}
    d["channels"] = [
        {"name": "campaign", "referral_strength": 0.8},
        {
            "name": "school",
            "referral_strength": 0.5,
            "start_month": SCHOOL_START,
            "target_adopter_categories": ["innovators", "early_adopters"],
        },
    ]
    d["interventions"][0].update(imitation_rate_per_month=0.6, eligibility={"segments": ["a"]})
    d["interventions"].append(
        {
            "name": "booster",
            "duration_months": 1,
            "effect_size": {"mean": 0.2},
            "imitation_rate_per_month": 0.3,
            "follow_up": {"after": "prog", "delay_months": DELAY, "referral_rate_per_month": 0.9},
        }
    )
    d["strategy"]["offers"] = [
        {"intervention": "prog", "channels": ["campaign", "school"], "providers": ["platform"]},
        {"intervention": "booster", "channels": ["campaign"], "providers": ["platform"]},
    ]
    return d


@pytest.fixture(scope="module")
def built():
    return engine_bundles(scenario())


@pytest.fixture
def eng(built):
    """The module's bundles with a fresh copy of the parents' state (which tests change)."""
    parents = type(built.parents)(*(a.copy() for a in built.parents))
    return dataclasses.replace(built, parents=parents)


def parent(eng, s: int, a: int, degree: int | None = None) -> int:
    """The first parent of segment s and category a (with that many neighbours)."""
    p, off = eng.parents, eng.network.nbr_off
    deg = np.diff(off)
    ok = (p.segment == s) & (p.category == a)
    if degree is not None:
        ok &= deg == degree
    return int(np.flatnonzero(ok)[0])


def hazards(eng, i: int, k: int, t: int, st: int, step=None) -> tuple:
    """uptake_hazards of parent i for k at step t in status st (int8, as the engine reads)."""
    p = eng.parents
    step = eng.step(t) if step is None else step
    return uptake_hazards(
        i,
        k,
        t,
        np.int8(st),
        p.segment[i],
        p.category[i],
        step,
        p,
        eng.population,
        eng.network,
        eng.channels,
        eng.interventions,
    )


@pytest.mark.parametrize(
    ("s", "a", "k", "before_school", "after_school"),
    [
        (0, INNOVATOR, PROG, 0.3, 0.3 + 0.2),  # the school contacts innovators
        (0, LATE_MAJORITY, PROG, 0.3, 0.3),  # ... not the late majority
        (1, INNOVATOR, PROG, 0.1, 0.1 + 0.4),
        (0, INNOVATOR, BOOSTER, 0.3, 0.3),  # the school does not promote the booster
        (1, LATE_MAJORITY, BOOSTER, 0.1, 0.1),
    ],
)
def test_awareness_hazard_only_when_not_aware(eng, s, a, k, before_school, after_school):
    i = parent(eng, s, a)
    assert hazards(eng, i, k, 0, NONE)[1] == pytest.approx(before_school, rel=1e-12)
    assert hazards(eng, i, k, SCHOOL_START, NONE)[1] == pytest.approx(after_school, rel=1e-12)
    for st in (AWARE, WAITING, ENROLLED, COMPLETED):
        assert hazards(eng, i, k, SCHOOL_START, st)[1] == 0.0


@pytest.mark.parametrize(
    ("a", "ref", "want"),
    [
        (INNOVATOR, SCHOOL, 2.0 * 0.5),  # m_ch[a] * rho_c
        (INNOVATOR, CAMPAIGN, 2.0 * 0.8),
        (LATE_MAJORITY, CAMPAIGN, 0.5 * 0.8),
    ],
)
def test_channel_referral_hazard_only_when_aware(eng, a, ref, want):
    i = parent(eng, 0, a)
    eng.parents.ref_channel[i, PROG] = ref
    assert hazards(eng, i, PROG, SCHOOL_START, AWARE)[2] == pytest.approx(want, rel=1e-12)
    for st in (NONE, WAITING, ENROLLED, DROPPED):
        assert hazards(eng, i, PROG, SCHOOL_START, st)[2] == 0.0


@pytest.mark.parametrize(
    ("a", "m_im", "theta"), [(INNOVATOR, 1.5, 0.0), (LATE_MAJORITY, 1.0, 0.25)]
)
@pytest.mark.parametrize(("k", "q"), [(PROG, 0.6), (BOOSTER, 0.3)])
def test_word_of_mouth_hazard_in_a_network(eng, a, m_im, theta, k, q):
    i = parent(eng, 0, a, degree=8)
    p = eng.parents
    seen = set()
    for n in range(9):  # 0 .. 8 of the 8 neighbours took part: f = n / 8
        p.wom_count[i, k] = n
        f = n / 8
        want = m_im * q * f if (f >= theta and f > 0) else 0.0
        seen.add(want > 0)
        for st in (NONE, AWARE):  # word of mouth needs no awareness
            assert hazards(eng, i, k, 3, st)[3] == pytest.approx(want, rel=1e-12, abs=0), n
    assert seen == {True, False}
    # at the threshold exactly (late majority: 2 of 8 = 0.25) it counts
    if theta > 0:
        p.wom_count[i, k] = 2
        assert hazards(eng, i, k, 3, NONE)[3] == pytest.approx(m_im * q * 0.25, rel=1e-12)
        p.wom_count[i, k] = 1  # 0.125 < 0.25: ignored
        assert hazards(eng, i, k, 3, NONE)[3] == 0.0


def test_word_of_mouth_hazard_without_neighbours_is_zero(eng):
    # f = 0 for a parent without neighbours (no division by its degree 0)
    i = parent(eng, 0, INNOVATOR, degree=8)
    nbr_off = eng.network.nbr_off.copy()
    nbr_off[i + 1] = nbr_off[i]  # parent i's neighbour list made empty
    eng = dataclasses.replace(eng, network=eng.network._replace(nbr_off=nbr_off))
    assert hazards(eng, i, PROG, 3, NONE)[3] == 0.0


@pytest.mark.parametrize(
    ("a", "m_im", "theta"), [(INNOVATOR, 1.5, 0.0), (LATE_MAJORITY, 1.0, 0.25)]
)
def test_word_of_mouth_hazard_fully_mixed_uses_the_segment_share(a, m_im, theta):
    eng = engine_bundles(scenario("fully_mixed"))
    i = parent(eng, 1, a)  # segment b
    for f in (0.0, 0.1, 0.2499, 0.25, 0.6, 1.0):
        share = np.zeros((2, 2))
        share[1, PROG] = f  # the share seen in segment b
        share[0, PROG] = 0.9  # (another segment's share does not matter)
        want = 1.0 * m_im * 0.6 * f if (f >= theta and f > 0) else 0.0
        got = hazards(eng, i, PROG, 3, NONE, eng.step(3, mf_share=share))[3]
        assert got == pytest.approx(want, rel=1e-12, abs=0), f


def test_follow_up_referral_only_for_follow_ups(eng):
    i = parent(eng, 0, INNOVATOR)
    assert hazards(eng, i, BOOSTER, 3, NONE)[4] == 0.9  # referral_rate_per_month
    assert hazards(eng, i, PROG, 3, NONE)[4] == 0.0


@pytest.mark.parametrize("st", [NONE, AWARE, WAITING, ENROLLED, COMPLETED, DROPPED, GAVE_UP])
def test_open_in_an_eligible_segment_until_the_parent_asks(eng, st):
    a = parent(eng, 0, INNOVATOR)
    b = parent(eng, 1, INNOVATOR)  # prog is selective: segment a only
    assert bool(hazards(eng, a, PROG, 3, st)[0]) == (st in (NONE, AWARE))
    assert not hazards(eng, b, PROG, 3, st)[0]


@pytest.mark.parametrize(
    ("prog_status", "t_done", "t", "want"),
    [
        (NONE, 0, 5, False),  # prog not taken
        (ENROLLED, 0, 5, False),
        (DROPPED, 1, 5, False),  # a dropout does not open it
        (COMPLETED, 5, 5, False),  # completed in this step: not yet
        (COMPLETED, 4, 5, False),  # 1 step ago, the delay is 2
        (COMPLETED, 3, 5, True),  # the delay ago
        (COMPLETED, 0, 5, True),
    ],
)
def test_follow_up_open_only_the_delay_after_completion(eng, prog_status, t_done, t, want):
    i = parent(eng, 1, LATE_MAJORITY)  # the booster has no segment restriction
    p = eng.parents
    p.status[i, PROG], p.t_event[i, PROG] = prog_status, t_done
    for st in (NONE, AWARE):
        assert bool(hazards(eng, i, BOOSTER, t, st)[0]) == want


def test_gain_before_leaves_out_this_step(eng):
    # an effect stamped in step t counts from step t + 1 (synchronous update, §2)
    i = parent(eng, 0, LATE_MAJORITY)
    p = eng.parents
    assert gain_before(i, 6, p, eng.interventions) == 0.0  # no gain yet
    p.status[i, PROG], p.t_event[i, PROG], p.effect[i, PROG] = COMPLETED, 5, 0.4
    p.has_gain[i] = 1
    assert gain_before(i, 5, p, eng.interventions) == 0.0
    assert gain_before(i, 6, p, eng.interventions) == pytest.approx(0.4, rel=1e-6)
    assert gain_before(i, 11, p, eng.interventions) == pytest.approx(0.4, rel=1e-6)  # no decay


# --- thinning: one step of many parents with the same hazards ---------------------------

N_THIN = 20_000


def thinning_scenario() -> dict:
    """One segment, neutral categories, fully mixed: awareness 0.3 (campaign) + 0.1
    (school) a month, q = 0.4; the candidates' bound is 0.3 + 0.1 + 0.4 = 0.8, rounded up
    to 1 a step."""
    d = base_dict(size=N_THIN, months=3)
    d["population"]["segments"][0]["contact_rates"] = {"campaign": 0.3, "school": 0.1}
    d["channels"] = [
        {"name": "campaign", "referral_strength": 0.8},
        {"name": "school", "referral_strength": 0.5},
    ]
    d["interventions"][0]["imitation_rate_per_month"] = 0.4
    d["strategy"]["offers"][0]["channels"] = ["campaign", "school"]
    return d


@pytest.mark.parametrize("f", [0.0, 0.5])
def test_candidate_step_fires_with_the_step_probability_of_the_hazards(f: float):
    eng = engine_bundles(thinning_scenario(), seed=11)
    p, iv = eng.parents, eng.interventions
    assert iv.cand_none[0, 0, PROG] == 1.0  # the bound, per step
    share = np.full((1, 1), f)
    step = eng.step(0, mf_share=share)
    due = np.flatnonzero(p.t_next[:, PROG] == 0)  # the parents with a candidate in step 0
    bundles = (p, eng.population, eng.network, eng.channels, iv, eng.providers)
    for i in due:
        s, a = p.segment[i], p.category[i]
        st = p.status[i, PROG]
        candidate_step(
            i, PROG, eng.chunk_of(i), 0, st, s, a, step, *bundles, eng.scratch, eng.records.s_cnt
        )

    h_aw, h_wom = 0.3 + 0.1, 1.0 * 0.4 * f  # per month; dt = 1
    h = h_aw + h_wom
    p_step = 1 - math.exp(-h)  # §2: the step probability of the hazards' sum
    aware = p.status[:, PROG] == AWARE
    waiting = p.status[:, PROG] == WAITING  # word of mouth: a join, on the waiting list
    # over all parents, candidates or not: binomial, 4 standard errors
    for got, want in [
        (aware.mean(), p_step * h_aw / h),
        (waiting.mean(), p_step * h_wom / h),
        ((aware | waiting).mean(), p_step),
    ]:
        assert abs(got - want) <= 4 * math.sqrt(want * (1 - want) / N_THIN) + 1e-12
    # (candidates alone fire more often: the bound's step probability 1 - e^-1 = 0.63)
    assert len(due) / N_THIN == pytest.approx(1 - math.exp(-1.0), abs=0.015)
    # §3: the channel that made a parent aware, in proportion to its contacts (0.3 : 0.1)
    n_aware = aware.sum()
    via_campaign = (p.ref_channel[aware, PROG] == CAMPAIGN).mean()
    assert abs(via_campaign - 0.75) <= 4 * math.sqrt(0.75 * 0.25 / n_aware)
    assert (p.first_channel[aware] == p.ref_channel[aware, PROG]).all()
    assert (p.first_channel[waiting] == 2).all()  # word of mouth: pseudo-channel C
    # a new candidate after every candidate, unless the parent now waits
    rest = np.setdiff1d(due, np.flatnonzero(waiting))
    assert (p.t_next[rest, PROG] > 0).all()
    assert eng.scratch.flags[:, EV_BOUND].sum() == 0  # no hazard above its bound
    np.testing.assert_array_equal(eng.counts(), eng.recount())
