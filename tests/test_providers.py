"""Providers ('use'): adoption among organisations, capacity, waiting lists, discontinuation."""

import math

import pytest

import impactsim
from helpers import base_dict, build, metric, ts


def capacity_scenario(max_wait: float = 120) -> dict:
    d = base_dict(size=5000, months=24)
    d["providers"] = [
        {
            "name": "teams",
            "count": 3,
            "capacity_per_month": 5,
            "fidelity": 1.0,
            "initial_offer_share": 1.0,
            "innovation_rate_per_month": 0.0,
            "imitation_rate_per_month": 0.0,
        }
    ]
    d["strategy"]["offers"][0]["providers"] = ["teams"]
    d["interventions"][0]["duration_months"] = 2
    d["interventions"][0]["max_wait_months"] = max_wait
    return d


def test_capacity_binds_completions_equal_capacity_times_months():
    # 3 organisations x 5 places = 15 places a month. Parents become aware in month 0 and ask
    # for a place from month 1, so places are filled in months 1..23: 15 * 23 = 345
    # enrolments. A 2-month course started in month m completes in month m + 2 <= 23, so
    # completions = 15 * (24 - 1 - 2) = 315 exactly: capacity x months of delivery.
    res = impactsim.run(build(capacity_scenario()), replicates=2, seed=20, progress=False)
    assert res.metric("completions", intervention="prog").tolist() == [315.0, 315.0]
    assert res.metric("enrolments", intervention="prog").tolist() == [345.0, 345.0]
    # everyone else wants a place and is still waiting (max wait 120 months)
    assert metric(res, "waiting", intervention="prog") == 5000 - 345


def test_waiting_list_give_up_after_max_wait():
    res = impactsim.run(build(capacity_scenario(max_wait=0)), replicates=1, seed=21, progress=False)
    # with no patience, everyone not served in the month they asked gives up
    assert metric(res, "enrolments", intervention="prog") == 15
    assert metric(res, "gave_up_waiting", intervention="prog") == 5000 - 15
    assert metric(res, "waiting", intervention="prog") == 0


def test_fractional_capacity_carries_over():
    # 0.5 places a month per organisation, 3 organisations, dt 0.25: 1.5 places a month
    d = capacity_scenario()
    d["providers"][0]["capacity_per_month"] = 0.5
    d["simulation"]["dt_months"] = 0.25
    res = impactsim.run(build(d), replicates=1, seed=22, progress=False)
    # places accrue from month 0 but demand starts in month 1: 1.5 * 23 = 34.5 (+- rounding)
    assert metric(res, "enrolments", intervention="prog") == pytest.approx(1.5 * 23, abs=1.5)


def bass(t, p, q):
    e = math.exp(-(p + q) * t)
    return (1 - e) / (1 + q / p * e)


def test_provider_adoption_follows_bass_among_organisations():
    d = base_dict(size=200, months=36)
    d["providers"] = [
        {
            "name": "orgs",
            "count": 5000,
            "capacity_per_month": 1,
            "fidelity": 1.0,
            "innovation_rate_per_month": 0.01,
            "imitation_rate_per_month": 0.3,
        }
    ]
    d["strategy"]["offers"][0]["providers"] = ["orgs"]
    d["simulation"]["dt_months"] = 0.1
    res = impactsim.run(build(d), replicates=20, seed=23, progress=False)
    for month in (12, 24, 36):
        share = ts(res, "providers_offering", month, intervention="prog") / 5000
        # the take-off time varies between replicates: SD of one replicate's share at month
        # 12 is about 0.03 (measured), so the mean of 20 has SE ~0.007; tolerance 0.025
        assert share == pytest.approx(bass(month, 0.01, 0.3), abs=0.025), month
    assert metric(res, "use_provider_share", intervention="prog") == pytest.approx(
        bass(36, 0.01, 0.3), abs=0.025
    )


def test_provider_discontinuation():
    d = base_dict(size=200, months=24)
    d["providers"] = [
        {
            "name": "orgs",
            "count": 4000,
            "capacity_per_month": 1,
            "fidelity": 1.0,
            "initial_offer_share": 1.0,
            "innovation_rate_per_month": 0.0,
            "imitation_rate_per_month": 0.0,
            "discontinuation_rate_per_month": 0.05,
        }
    ]
    d["strategy"]["offers"][0]["providers"] = ["orgs"]
    res = impactsim.run(build(d), replicates=1, seed=24, progress=False)
    # offering at step 0, then 24 monthly chances to stop: exp(-0.05 * 24)
    assert metric(res, "use_provider_share", intervention="prog") == pytest.approx(
        math.exp(-0.05 * 24), abs=0.025
    )


def test_no_provider_offering_means_no_reach():
    d = capacity_scenario()
    d["providers"][0]["initial_offer_share"] = 0.0
    res = impactsim.run(build(d), replicates=1, seed=25, progress=False)
    assert metric(res, "reach_direct", intervention="prog") == 0.0
    assert metric(res, "public_impact_pp") == 0.0
