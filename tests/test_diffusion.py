"""Diffusion among parents: the Bass limit, time-step convergence, channels, adopter categories.

Bass (1969) closed form: F(t) = (1 - exp(-(p+q)t)) / (1 + (q/p) exp(-(p+q)t)).
"""

import math

import numpy as np
import pytest

import impactsim
from helpers import base_dict, build, metric, ts
from impactsim.engine.simulate import _classify_adoption


def bass(t_years: float, p: float = 0.03, q: float = 0.38) -> float:
    e = math.exp(-(p + q) * t_years)
    return (1 - e) / (1 + q / p * e)


def bass_scenario(dt: float, size: int = 100_000, months: int = 180) -> dict:
    d = base_dict(size=size, months=months)
    # awareness at once (contact 1000/month); then a constant external hazard p = 0.03/year
    d["channels"][0]["referral_strength"] = 0.03 / 12
    d["interventions"][0]["imitation_rate_per_month"] = 0.38 / 12
    d["simulation"]["dt_months"] = dt
    return d


def test_bass_limit_matches_closed_form():
    assert [round(bass(t), 3) for t in (5, 10, 15)] == [0.331, 0.813, 0.972]
    res = impactsim.run(build(bass_scenario(0.1)), replicates=1, seed=11, progress=False)
    for years, expected in ((5, 0.331), (10, 0.813), (15, 0.972)):
        got = ts(res, "reach_direct", 12 * years, intervention="prog")
        assert got == pytest.approx(expected, abs=0.005), years


def test_results_converge_as_dt_shrinks():
    errors = []
    for dt in (1.0, 0.5, 0.1):
        res = impactsim.run(
            build(bass_scenario(dt, size=50_000, months=120)), replicates=1, seed=12, progress=False
        )
        got = np.array([ts(res, "reach_direct", 12 * y, intervention="prog") for y in (4, 6, 8)])
        errors.append(np.abs(got - np.array([bass(y) for y in (4, 6, 8)])).max())
    # a month-long step delays uptake by about a step; the error shrinks with dt
    assert errors[0] > errors[2]
    assert errors[2] < 0.006


def two_channel_scenario(size: int = 40_000) -> dict:
    d = base_dict(size=size, months=12)
    d["population"]["segments"][0]["contact_rates"] = {"web": 0.02, "clinic": 0.06}
    d["channels"] = [
        {"name": "web", "referral_strength": 1000.0},
        {"name": "clinic", "referral_strength": 1000.0},
    ]
    d["strategy"]["offers"][0]["channels"] = ["web", "clinic"]
    return d


def test_channel_of_first_contact_in_proportion_to_contact_rates():
    res = impactsim.run(build(two_channel_scenario()), replicates=2, seed=13, progress=False)
    web = metric(res, "reach_by_channel", channel="web")
    clinic = metric(res, "reach_by_channel", channel="clinic")
    total = metric(res, "reach_cumulative")
    # first contact within 12 months: 1 - exp(-0.08 * 12) (enrolment follows at once);
    # the last month's contacts enrol a step later, so allow for that month
    assert total == pytest.approx(1 - math.exp(-0.08 * 11), abs=0.01)
    assert web + clinic == pytest.approx(total, abs=1e-12)
    assert web / total == pytest.approx(0.25, abs=0.01)


def test_channel_window_limits_awareness():
    d = two_channel_scenario(size=5000)
    d["channels"][1]["start_month"] = 6
    res = impactsim.run(build(d), replicates=1, seed=14, progress=False)
    assert ts(res, "reach_by_channel", 6, channel="clinic") == 0.0
    assert ts(res, "reach_by_channel", 8, channel="clinic") > 0.0


def test_adopter_category_channel_multiplier():
    # aware at once; enrolment hazard m_a * rho: P(enrolled by month T) = 1 - exp(-m_a rho (T-1))
    d = base_dict(size=60_000, months=13)
    d["channels"][0]["referral_strength"] = 0.05
    cats = d["population"]["adopter_categories"]
    cats["innovators"]["channel_multiplier"] = 4.0
    cats["laggards"]["channel_multiplier"] = 0.25
    res = impactsim.run(build(d), replicates=2, seed=15, progress=False)
    for cat, mult, tol in (
        ("innovators", 4.0, 0.03),
        ("early_majority", 1.0, 0.01),
        ("laggards", 0.25, 0.01),
    ):
        expected = 1 - math.exp(-mult * 0.05 * 12)
        assert metric(res, "reach_cumulative", adopter_category=cat) == pytest.approx(
            expected, abs=tol
        )


def wom_scenario(threshold: float, size: int = 20_000) -> dict:
    d = base_dict(size=size, months=36)
    d["population"]["network"] = {"kind": "random", "mean_degree": 10, "homophily": 0.0}
    # the campaign reaches 0.2 % a month and they enrol at once; the rest is imitation
    d["population"]["segments"][0]["contact_rates"] = {"campaign": 0.002}
    d["interventions"][0]["imitation_rate_per_month"] = 0.5
    for c in d["population"]["adopter_categories"].values():
        c["social_threshold"] = threshold
    return d


def test_word_of_mouth_spreads_and_thresholds_block_it():
    free = impactsim.run(build(wom_scenario(0.0)), replicates=1, seed=16, progress=False)
    blocked = impactsim.run(build(wom_scenario(1.0)), replicates=1, seed=16, progress=False)
    reach_free = metric(free, "reach_cumulative")
    reach_blocked = metric(blocked, "reach_cumulative")
    wom_free = metric(free, "reach_by_channel", channel="word_of_mouth")
    # external channel alone: 1 - exp(-0.002 * 36) = 6.9 % (SE 0.2 %)
    assert reach_blocked == pytest.approx(1 - math.exp(-0.002 * 36), abs=0.008)
    assert wom_free > 0.3
    assert reach_free > reach_blocked + 0.3
    # with threshold 1 only parents all of whose neighbours took part could imitate
    assert metric(blocked, "reach_by_channel", channel="word_of_mouth") < 0.002


def test_rogers_classification_of_normal_adoption_times():
    # normal adoption times give 2.28 / 13.59 / 34.13 / 34.13 / 15.87 % (Rogers 1962)
    class Rec:
        adoption_realized = np.zeros((5, 5), np.int64)

    rng = np.random.default_rng(0)
    steps = np.round(rng.normal(8000, 1500, 400_000)).astype(np.int16)
    _classify_adoption(Rec, steps, np.zeros(steps.size, np.int8), 1.0)
    shares = Rec.adoption_realized.sum(axis=0) / steps.size
    np.testing.assert_allclose(shares, [0.0228, 0.1359, 0.3413, 0.3413, 0.1587], atol=0.004)


def test_rogers_classification_at_the_cut_offs_and_without_spread():
    # hand calculation: times 0 and 2 months (steps of half a month: steps 0 and 4) have
    # mean 1 and SD 1, so the cut-offs are -1, 0, 1, 2; a time equal to a cut-off goes to
    # the later category: 0 -> early majority (2), 2 -> laggards (4). Parents who never
    # enrolled (step -1) are left out; the counts go to each parent's assigned category.
    class Rec:
        adoption_realized = np.zeros((5, 5), np.int64)

    steps = np.array([0, 4, -1, 0, 4, -1], np.int16)
    assigned = np.array([1, 3, 0, 1, 4, 2], np.int8)
    _classify_adoption(Rec, steps, assigned, 0.5)
    want = np.zeros((5, 5), np.int64)
    want[1, 2] = 2
    want[3, 4] = 1
    want[4, 4] = 1
    np.testing.assert_array_equal(Rec.adoption_realized, want)

    # all adopters at the same time (SD 0): all early majority
    class Same:
        adoption_realized = np.zeros((5, 5), np.int64)

    _classify_adoption(Same, np.full(7, 12, np.int16), np.arange(7, dtype=np.int8) % 5, 1.0)
    np.testing.assert_array_equal(Same.adoption_realized[:, 2], [2, 2, 1, 1, 1])
    assert Same.adoption_realized.sum() == 7


def test_channel_targeting_adopter_categories():
    # a channel that contacts only innovators and early adopters: the others are never reached
    # (no word of mouth); the targeted ones enrol at once after their first contact, so their
    # reach by month 12 is 1 - exp(-0.1 * 11) (the last month's contacts enrol a step later)
    d = base_dict(size=40_000, months=12)
    d["population"]["segments"][0]["contact_rates"] = {"campaign": 0.1}
    d["channels"][0]["target_adopter_categories"] = ["innovators", "early_adopters"]
    res = impactsim.run(build(d), replicates=2, seed=17, progress=False)
    for cat in ("early_majority", "late_majority", "laggards"):
        assert metric(res, "reach_cumulative", adopter_category=cat) == 0.0
    expected = 1 - math.exp(-0.1 * 11)
    assert metric(res, "reach_cumulative", adopter_category="early_adopters") == pytest.approx(
        expected, abs=0.015
    )
    assert metric(res, "reach_cumulative", adopter_category="innovators") == pytest.approx(
        expected, abs=0.04
    )
    # per-contact costs count only the targeted parents: 16 % of families
    d["channels"][0]["costs"] = {"per_contact_eur": 1.0}
    d["economics"] = {"cost_cv": 0.0, "discount_rate_costs_per_year": 0.0}
    res = impactsim.run(build(d), replicates=1, seed=17, progress=False)
    rec = res.recordings[0]
    targeted = rec.n_cat[1:, :2, :].sum()  # parent-months of innovators and early adopters
    assert metric(res, "cost_pv") == pytest.approx(0.1 * targeted, rel=1e-9)
