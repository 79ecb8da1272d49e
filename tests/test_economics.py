"""Economics: discounting, present values, ratios, cost flows, benefits, extrapolation, CLI.

Expected values are hand calculations written out in each test. Timing convention
(docs/economics.md): amounts of month m (1-based) fall at t = (m - 1/2) / 12 years and are
discounted with (1 + r) ** -t.
"""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import impactsim
from helpers import base_dict, build
from impactsim.cli import app
from impactsim.economics import (
    benefit_cost_ratios,
    discount_factor,
    economics_rows,
    extrapolation_half_life_years,
    gamma_multiplier,
    present_value,
    replicate_economics,
)
from impactsim.engine.simulate import Recording
from impactsim.engine.spec import compile_scenario
from impactsim.loading import ScenarioError, parse_scenario
from impactsim.rng import replicate_key
from impactsim.tables import eur


# --------------------------------------------------------------------------- helpers
def blank_recording(spec) -> Recording:
    """A Recording of zeros with the shapes of ``spec`` (filled in by hand in the tests)."""
    m1, s, k, c = spec.n_months + 1, spec.n_segments, spec.n_interventions, spec.n_channels
    n_prov = spec.prov_type.shape[0]
    shapes = {
        "ever": (m1, k, s),
        "completed": (m1, k, s),
        "dropped": (m1, k, s),
        "enrolled": (m1, k, s),
        "waiting": (m1, k, s),
        "gave_up": (m1, k, s),
        "any_ever_cat": (m1, 5, s),
        "any_ever_channel": (m1, c + 2, s),
        "n_cat": (m1, 5, s),
        "enrol_new": (m1, k, s),
        "complete_new": (m1, k, s),
        "dropout_new": (m1, k, s),
        "gaveup_new": (m1, k, s),
        "participant_months": (m1, k, s),
        "providers_offering": (m1, k),
        "provider_adopt_new": (m1, k),
        "provider_offer_months": (m1, n_prov, k),
        "provider_enrol": (n_prov, k),
        "fidelity": (n_prov,),
        "effect_d": (k,),
        "exits": (m1,),
        "adoption_realized": (5, 5),
    }
    kwargs = {f.name: np.zeros(shapes.get(f.name, (m1, s))) for f in dataclasses.fields(Recording)}
    return Recording(**kwargs)


def costed_dict(months: int = 12) -> dict:
    """base_dict with every kind of cost, no cost uncertainty and no discounting."""
    d = base_dict(size=2000, months=months)
    d["interventions"][0]["costs"] = {
        "per_participant_month_eur": 100,
        "per_enrolment_eur": 20,
        "per_completer_eur": 50,
        "per_provider_adoption_eur": 1000,
        "per_provider_year_eur": 1200,
    }
    d["channels"][0]["costs"] = {"per_month_active_eur": 500, "per_contact_eur": 0.01}
    d["strategy"]["costs"] = {"coordination_per_year_eur": 12000}
    d["strategy"]["offers"][0].update(start_month=3, end_month=9)
    d["economics"] = {
        "discount_rate_costs_per_year": 0.0,
        "discount_rate_effects_per_year": 0.0,
        "cost_cv": 0.0,
        "value_cv": 0.0,
    }
    return d


def synthetic(d: dict):
    """Scenario, spec and a hand-filled recording (see test_cost_flows_hand_calculation)."""
    sc = build(d)
    spec = compile_scenario(sc)
    rec = blank_recording(spec)
    rec.n[:, 0] = 2000
    rec.n_cat[:, 2, 0] = 2000  # all in one adopter category (the channel contacts every category)
    rec.participant_months[4, 0, 0] = 30
    rec.participant_months[5, 0, 0] = 20
    rec.enrol_new[4, 0, 0] = 40
    rec.complete_new[5, 0, 0] = 25
    rec.provider_adopt_new[4, 0] = 1
    rec.provider_offer_months[4:10, 0, 0] = 1.0  # months 4..9: the offer runs steps 3..8
    rec.prev_cf[1:, 0] = 300
    rec.prev[1:, 0] = 288  # 12 cases prevented every month = 1 case-year a month
    return sc, spec, rec


# --------------------------------------------------------------------------- arithmetic
def test_discounting_and_present_value_hand_calculation():
    # 1.04 ** -1 = 0.9615385; 1.015 ** -2 = 0.9706617
    assert discount_factor(1.0, 0.04) == pytest.approx(0.9615385, abs=1e-7)
    assert discount_factor(2.0, 0.015) == pytest.approx(0.9706617, abs=1e-7)
    assert discount_factor(0.0, 0.04) == 1.0
    # 100 in month 1 (t = 0.5/12) and month 2 (t = 1.5/12) at 4 %:
    # 100 * exp(-ln(1.04)/24) + 100 * exp(-ln(1.04)/8) = 99.83671 + 99.51094 = 199.34765
    assert present_value(np.array([100.0, 100.0]), 0.04) == pytest.approx(199.34765, abs=1e-4)
    # the same two payments starting in month 13: a further factor 1.04 ** -1
    assert present_value(np.array([100.0, 100.0]), 0.04, first_month=13) == pytest.approx(
        199.34765 / 1.04, abs=1e-4
    )
    # 12 x 1000 undiscounted = 12000; at 1.5 % close to the mid-year value
    # 12000 * 1.015 ** -0.5 = 11911.00 (the monthly sum is 11911.11)
    assert present_value(np.full(12, 1000.0), 0.0) == 12000.0
    assert present_value(np.full(12, 1000.0), 0.015) == pytest.approx(11911.0, abs=0.2)
    with pytest.raises(ValueError, match="non-negative"):
        discount_factor(1.0, -0.01)


def test_benefit_cost_ratio_arithmetic():
    # B = 150, C = 100: NPV 50, BCR 1.5, ROI (150 - 100) / 100 = 0.5
    r = benefit_cost_ratios(150.0, 100.0)
    assert r == {"npv": 50.0, "bcr": 1.5, "roi": 0.5, "p_benefit_exceeds_cost": 1.0}
    # B = 60, C = 80: NPV -20, BCR 0.75, ROI -0.25
    r = benefit_cost_ratios(60.0, 80.0)
    assert (r["npv"], r["bcr"], r["roi"], r["p_benefit_exceeds_cost"]) == (-20.0, 0.75, -0.25, 0.0)
    r = benefit_cost_ratios(10.0, 0.0)  # no costs: ratios undefined, not infinite
    assert math.isnan(r["bcr"]) and math.isnan(r["roi"]) and r["npv"] == 10.0


def test_gamma_multiplier_mean_cv_and_common_random_numbers():
    keys = [replicate_key(11, r) for r in range(4000)]
    draws = np.array([gamma_multiplier(k, 0.2, "cost", "x") for k in keys])
    # mean 1 and SD 0.2 by construction; SE of the mean 0.2 / sqrt(4000) = 0.003
    assert draws.mean() == pytest.approx(1.0, abs=0.012)
    assert draws.std() == pytest.approx(0.2, abs=0.012)
    assert (draws > 0).all()
    # same replicate and stream name: the same draw (what compared strategies share)
    assert gamma_multiplier(keys[0], 0.2, "cost", "x") == draws[0]
    assert gamma_multiplier(keys[0], 0.2, "cost", "y") != draws[0]
    assert gamma_multiplier(keys[0], 0.0, "cost", "x") == 1.0


# --------------------------------------------------------------------------- flows
def test_cost_flows_hand_calculation():
    sc, spec, rec = synthetic(costed_dict())
    e = replicate_economics(rec, spec, sc, rep_key=1)
    # intervention: 100 x 50 participant-months + 20 x 40 enrolments + 50 x 25 completers
    #   + 1000 x 1 adoption + 1200 / 12 x 6 organisation-months = 5000+800+1250+1000+600 = 8650
    assert e.cost_pv_intervention == {"prog": pytest.approx(8650.0)}
    # channel: the offer runs months 4..9 (start 3, end 9) = 6 months: 500 x 6 = 3000, plus
    #   contacts 1000 per parent-month x 2000 parents x 6 months x 0.01 = 120000
    assert e.cost_pv_channel == {"campaign": pytest.approx(123000.0)}
    # coordination: 12000 / 12 x 6 months = 6000
    assert e.cost_pv_coordination == pytest.approx(6000.0)
    assert e.cost_pv == pytest.approx(137650.0)
    assert e.cost_nominal == pytest.approx(137650.0)
    # benefits: 12 prevented cases each month = 12 case-years x 12000 (default value) = 144000
    assert e.case_years_prevented == pytest.approx(12.0)
    assert e.benefit_pv == pytest.approx(144000.0)
    assert e.benefit_pv_stakeholder["municipality"] == pytest.approx(144000.0)
    assert e.benefit_pv_stakeholder["justice"] == 0.0
    assert e.benefit_pv_beyond_horizon == 0.0
    m = e.metrics(wtp_eur_per_case_year=20000.0)
    assert m["npv"] == pytest.approx(144000.0 - 137650.0)
    assert m["bcr"] == pytest.approx(144000.0 / 137650.0)
    assert m["roi"] == pytest.approx(6350.0 / 137650.0)
    assert m["p_benefit_exceeds_cost"] == 1.0
    # per participant (40 enrolments) and per unit of effect
    assert m["participants"] == 40.0
    assert m["cost_per_participant"] == pytest.approx(137650.0 / 40)
    assert m["benefit_per_participant_municipality"] == pytest.approx(144000.0 / 40)
    assert m["net_benefit_per_participant"] == pytest.approx(6350.0 / 40)
    assert m["cost_per_case_prevented"] == pytest.approx(137650.0 / 12)  # 12 cases at month 12
    assert m["cost_per_case_year_prevented"] == pytest.approx(137650.0 / 12)
    assert m["cost_per_pp_impact"] == pytest.approx(137650.0 / (100 * 12 / 2000))  # 0.6 pp
    # NMB at 20000 per case-year: 20000 x 12 - 137650 = 102350
    assert m["nmb"] == pytest.approx(102350.0)
    assert m["p_cost_effective"] == 1.0


def test_costs_by_payer_and_each_stakeholders_net_position():
    # the costs of test_cost_flows_hand_calculation: the intervention (8650) paid by the
    # health insurer, the channel (123000) by the municipality by default, coordination
    # (6000) by the families (a user-chosen payer for the test)
    d = costed_dict()
    d["interventions"][0]["costs"]["payer"] = "health_insurer"
    d["strategy"]["costs"]["payer"] = "families"
    sc, spec, rec = synthetic(d)
    e = replicate_economics(rec, spec, sc, rep_key=1)
    assert e.cost_pv_payer == {
        "municipality": pytest.approx(123000.0),
        "health_insurer": pytest.approx(8650.0),
        "education": 0.0,
        "justice": 0.0,
        "families": pytest.approx(6000.0),
    }
    m = e.metrics(wtp_eur_per_case_year=20000.0)
    assert sum(m[f"cost_pv_paid_by_{h}"] for h in e.cost_pv_payer) == pytest.approx(m["cost_pv"])
    # net = receives - pays: the municipality receives the 144000 of the default value
    assert m["net_pv_municipality"] == pytest.approx(144000.0 - 123000.0)
    assert m["net_pv_health_insurer"] == pytest.approx(-8650.0)
    assert m["net_pv_justice"] == 0.0


def test_a_funded_place_costs_money_used_or_not():
    # 2 organisations x 5 places a month x EUR 10 a place-month, offering in months 4..9
    # (synthetic: provider_offer_months of organisation 0 only) -> organisation 0 offers 6
    # months: 5 x 10 x 6 = 300, with no participant at all needed
    d = costed_dict()
    d["interventions"][0]["costs"] = {"per_place_month_eur": 10.0}
    d["providers"][0].update(count=2, capacity_per_month=5.0)
    sc, spec, rec = synthetic(d)
    rec.participant_months[:] = 0
    rec.enrol_new[:] = 0
    e = replicate_economics(rec, spec, sc, rep_key=1)
    assert e.cost_pv_intervention["prog"] == pytest.approx(300.0)
    rec.provider_offer_months[4:10, 1, 0] = 1.0  # the second organisation offers too
    e = replicate_economics(rec, spec, sc, rep_key=1)
    assert e.cost_pv_intervention["prog"] == pytest.approx(600.0)


def test_discounted_costs_hand_calculation():
    d = costed_dict()
    d["economics"]["discount_rate_costs_per_year"] = 0.04
    d["economics"]["discount_rate_effects_per_year"] = 0.015
    sc, spec, rec = synthetic(d)
    e = replicate_economics(rec, spec, sc, rep_key=1)
    # intervention costs per month: month 4: 3000 + 800 + 1000 + 100 = 4900;
    # month 5: 2000 + 1250 + 100 = 3350; months 6..9: 100 (organisation-month)
    df = lambda m: 1.04 ** (-(m - 0.5) / 12)  # noqa: E731
    expected = 4900 * df(4) + 3350 * df(5) + sum(100 * df(m) for m in range(6, 10))
    assert e.cost_pv_intervention["prog"] == pytest.approx(expected, rel=1e-12)
    # 1.04 ** -(3.5/12) = 0.988626, ** -(4.5/12) = 0.985400, months 6..9: 0.982185, 0.978979,
    # 0.975785, 0.972601: 4900 x 0.988626 + 3350 x 0.985400 + 100 x 3.909550 = 8536.31
    assert expected == pytest.approx(8536.31, abs=0.01)
    # benefits: 1 case-year a month x 12000 at 1.5 %: 12 x the PV of 12 x 1000 above (11911.11)
    expected_b = sum(12000 * 1.015 ** (-(m - 0.5) / 12) for m in range(1, 13))
    assert e.benefit_pv == pytest.approx(expected_b, rel=1e-12)
    assert e.benefit_pv == pytest.approx(12 * 11911.11, abs=0.5)
    assert e.case_years_prevented_pv == pytest.approx(11911.11 / 1000, abs=1e-4)


def test_linked_outcomes_lag_horizon_and_extrapolation():
    d = costed_dict()
    d["economics"]["linked_outcomes"] = [
        {
            "name": "placement",
            "stakeholder": "justice",
            "cost_avoided_eur": 50000,
            "probability_per_case_year": 0.01,
            "lag_years": 0.5,
        }
    ]
    sc, spec, rec = synthetic(d)
    e = replicate_economics(rec, spec, sc, rep_key=1)
    # 1 case-year a month avoids 0.01 x 50000 = 500 half a year later; with a 1-year horizon
    # only months 1..6 (t + 0.5 <= 1) count: 6 x 500 = 3000
    assert e.benefit_pv_stakeholder["justice"] == pytest.approx(3000.0)
    assert e.benefit_pv == pytest.approx(144000.0 + 3000.0)

    d["economics"]["extrapolation"] = {"enabled": True, "years": 1, "half_life_years": 1}
    sc, spec, rec = synthetic(d)
    e = replicate_economics(rec, spec, sc, rep_key=1)
    # after the horizon the 12 prevented cases fade: 12 x 2 ** (-j / 12) in month 12 + j,
    # i.e. 2 ** (-j/12) case-years; sum over j = 1..12 = (1 - 2 ** -1) x 2 ** (-1/12) / (1 - 2 ** (-1/12)) = 8.40858
    geo12 = sum(2 ** (-j / 12) for j in range(1, 13))
    assert geo12 == pytest.approx(8.40858, abs=1e-4)
    # sum over j = 1..6 = 0.943874 + 0.890899 + 0.840896 + 0.793701 + 0.749154 + 0.707107
    geo6 = sum(2 ** (-j / 12) for j in range(1, 7))
    assert geo6 == pytest.approx(4.925631, abs=1e-6)
    assert e.case_years_prevented == pytest.approx(12.0)  # within the horizon only
    assert e.case_years_prevented_pv == pytest.approx(12.0 + geo12)
    # the linked outcome now counts until year 2: all 12 horizon months + extrapolated 1..6
    assert e.benefit_pv_stakeholder["justice"] == pytest.approx(12 * 500 + 500 * geo6)
    assert e.benefit_pv_stakeholder["municipality"] == pytest.approx(144000 + 12000 * geo12)
    # beyond the horizon: extrapolated case-years, plus linked amounts of months 7..12
    assert e.benefit_pv_beyond_horizon == pytest.approx(12000 * geo12 + 6 * 500 + 500 * geo6)
    # costs stop at the horizon
    assert e.cost_pv == pytest.approx(137650.0)

    d["economics"]["extrapolation"] = {"enabled": False, "years": 1, "half_life_years": 1}
    sc, spec, rec = synthetic(d)
    assert replicate_economics(rec, spec, sc, 1).benefit_pv == pytest.approx(147000.0)


def test_default_extrapolation_half_life_is_enrolment_weighted():
    d = base_dict(months=12)
    d["interventions"] = [
        {"name": "a", "duration_months": 1, "effect_size": {"mean": 0.2}},
        {"name": "b", "duration_months": 1, "effect_size": {"mean": 0.2}},
    ]
    d["interventions"][0]["effect_half_life_months"] = 12
    d["interventions"][1]["effect_half_life_months"] = 24
    d["strategy"]["offers"] = [
        {"intervention": k, "channels": ["campaign"], "providers": ["platform"]} for k in "ab"
    ]
    sc = build(d)
    spec = compile_scenario(sc)
    rec = blank_recording(spec)
    rec.enrol_new[1, :, 0] = 50  # equal enrolment in a and b
    # decay rate 0.5 x ln2 / 1 year + 0.5 x ln2 / 2 years = 0.75 ln2: half-life 1 / 0.75 years
    assert extrapolation_half_life_years(rec, spec, sc) == pytest.approx(4 / 3)
    rec.enrol_new[1, 1, 0] = 0  # only a: half-life 1 year
    assert extrapolation_half_life_years(rec, spec, sc) == pytest.approx(1.0)
    d["interventions"][0]["effect_half_life_months"] = None  # a does not decay
    sc = build(d)
    assert extrapolation_half_life_years(rec, compile_scenario(sc), sc) is None


# --------------------------------------------------------------------------- runs
def test_run_adds_economics_that_add_up():
    d = base_dict(size=2000, months=6)
    d["interventions"][0]["costs"] = {"per_participant_month_eur": 100, "per_completer_eur": 50}
    d["channels"][0]["costs"] = {"per_month_active_eur": 1000}
    d["strategy"]["costs"] = {"coordination_per_year_eur": 24000}
    d["economics"] = {"cost_cv": 0.0}
    res = impactsim.run(build(d), replicates=3, seed=4, progress=False)
    # everyone enrols in month 1 and completes the 1-month programme in month 2:
    # 2000 participant-months x 100 + 2000 completers x 50 = 300000; the channel and the
    # coordination run all 6 months: 6 x 1000 + 24000 / 2 = 18000
    assert res.metric("cost_nominal").tolist() == pytest.approx([318000.0] * 3)
    total = res.metric("cost_pv")
    parts = res.metric("cost_pv", intervention="prog") + res.metric("cost_pv", channel="campaign")
    parts += res.metric("cost_pv_coordination")
    pd.testing.assert_series_equal(total, parts, check_names=False)
    # only the default value (12000 per case-year, municipality), no value uncertainty
    benefit = res.metric("benefit_pv")
    assert benefit.tolist() == pytest.approx(
        (12000 * res.metric("case_years_prevented_pv")).tolist()
    )
    assert benefit.tolist() == pytest.approx(res.metric("benefit_pv_municipality").tolist())
    npv = res.metric("npv")
    assert npv.tolist() == pytest.approx((benefit - total).tolist())
    assert set(res.metric("p_benefit_exceeds_cost")) <= {0.0, 1.0}
    stats = res.summary_stats()
    for name in ("cost_pv", "benefit_pv", "npv", "bcr", "roi", "cost_per_case_prevented"):
        assert name in set(stats["metric"]), name
    # the economics rows are a pure function of the recordings
    again = economics_rows(res.recordings, res.spec, res.scenario, res.seed, [0, 1, 2])
    mine = res.summary[res.summary["metric"] == "npv"]["value"].to_numpy()
    assert again[again["metric"] == "npv"]["value"].to_numpy() == pytest.approx(mine)


def test_ceac_and_wsipp_tables():
    d = base_dict(size=2000, months=6)
    d["interventions"][0]["costs"] = {"per_enrolment_eur": 500}
    d["economics"] = {"cost_cv": 0.3, "wtp_grid_eur_per_case_year": [0, 1000, 5000, 1e6]}
    res = impactsim.run(build(d), replicates=8, seed=2, progress=False)
    ceac = res.ceac()
    assert ceac["wtp_eur_per_case_year"].tolist() == [0, 1000, 5000, 1e6]
    # every replicate prevents cases, so P(NMB > 0) rises with WTP: 0 at 0, 1 at a million
    p = ceac["p_cost_effective"].to_numpy()
    assert p[0] == 0.0 and p[-1] == 1.0 and (np.diff(p) >= 0).all()
    wsipp = res.wsipp()
    assert set(wsipp["stakeholder"]) >= {"municipality", "health_insurer", "families", "all"}
    by_metric = wsipp.set_index("metric")
    # mean of a sum = sum of means: total benefits per participant = sum over stakeholders
    per_sh = wsipp[wsipp["item"] == "benefits"]["mean"].sum()
    assert by_metric.loc["benefit_per_participant", "mean"] == pytest.approx(per_sh)
    net = by_metric.loc["net_benefit_per_participant", "mean"]
    assert net == pytest.approx(
        by_metric.loc["benefit_per_participant", "mean"]
        - by_metric.loc["cost_per_participant", "mean"]
    )
    # cost per participant: 500 per enrolment x (gamma multiplier, mean 1, CV 0.3)
    assert by_metric.loc["cost_per_participant", "mean"] == pytest.approx(500, rel=0.35)


def test_no_programme_costs_nothing_and_has_no_ratios():
    d = base_dict(size=500, months=3)
    d["strategy"]["offers"] = []
    d["strategy"]["costs"] = {"coordination_per_year_eur": 50000}
    d["channels"][0]["costs"] = {"per_month_active_eur": 1000}
    res = impactsim.run(build(d), replicates=2, seed=1, progress=False)
    assert res.metric("cost_pv").tolist() == [0.0, 0.0]
    assert res.metric("benefit_pv").tolist() == [0.0, 0.0]
    assert res.metric("bcr").isna().all() and res.metric("roi").isna().all()
    assert res.metric("p_benefit_exceeds_cost").tolist() == [0.0, 0.0]


def test_cost_draws_are_common_to_strategies_sharing_an_item():
    d = base_dict(size=1000, months=3)
    d["interventions"][0]["costs"] = {"per_enrolment_eur": 100}
    d["economics"] = {"cost_cv": 0.3}
    a = impactsim.run(build(d), replicates=4, seed=8, progress=False)
    d["channels"].append({"name": "radio", "referral_strength": 0.01})
    d["channels"][1]["costs"] = {"per_month_active_eur": 700}
    d["strategy"]["offers"][0]["channels"].append("radio")
    b = impactsim.run(build(d), replicates=4, seed=8, progress=False)
    ca = a.metric("cost_pv", intervention="prog")
    cb = b.metric("cost_pv", intervention="prog")
    # 1000 enrolments x 100 x the same gamma draw per replicate, different across replicates
    assert cb.tolist() == pytest.approx(ca.tolist(), rel=1e-12)
    assert ca.std() > 0
    # the added channel costs 700 a month for 3 months x its own multiplier (CV 0.3)
    assert b.metric("cost_pv", channel="radio").mean() == pytest.approx(2100, rel=0.5)


def test_linked_outcome_that_can_never_count_warns():
    d = base_dict(size=300, months=12)
    d["economics"] = {
        "linked_outcomes": [
            {
                "name": "crime",
                "stakeholder": "justice",
                "cost_avoided_eur": 1000,
                "probability_per_case_year": 0.1,
                "lag_years": 2,
            }
        ]
    }
    with pytest.warns(UserWarning, match="crime"):
        res = impactsim.run(build(d), replicates=1, seed=1, progress=False)
    assert res.metric("benefit_pv_justice").tolist() == [0.0]


# --------------------------------------------------------------------------- bad input
def _problems(d: dict) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(d, "s.yaml")
    return [str(p) for p in exc.value.problems]


@pytest.mark.parametrize(
    ("edit", "path", "text"),
    [
        (
            lambda d: d["interventions"][0].update(costs={"per_completer_eur": -5}),
            "interventions[0:prog].costs.per_completer_eur",
            "greater than or equal to 0",
        ),
        (
            lambda d: d["channels"][0].update(costs={"per_contact_eur": -1}),
            "channels[0:campaign].costs.per_contact_eur",
            "greater than or equal to 0",
        ),
        (
            lambda d: d.update(economics={"discount_rate_costs_per_year": -0.04}),
            "economics.discount_rate_costs_per_year",
            "greater than or equal to 0",
        ),
        (
            lambda d: d.update(economics={"cost_cv": -0.1}),
            "economics.cost_cv",
            "greater than or equal to 0",
        ),
        (
            lambda d: d.update(
                economics={"case_year_values": [{"stakeholder": "police", "eur_per_case_year": 1}]}
            ),
            "economics.case_year_values[0].stakeholder",
            "unknown stakeholder 'police' (allowed: municipality, health_insurer",
        ),
        (
            lambda d: d.update(
                economics={
                    "linked_outcomes": [
                        {
                            "name": "x",
                            "stakeholder": "justice",
                            "cost_avoided_eur": 1,
                            "probability_per_case_year": 0.1,
                            "lag_years": 80,
                        }
                    ]
                }
            ),
            "economics.linked_outcomes[0:x].lag_years",
            "beyond any sensible horizon",
        ),
        (
            lambda d: d.update(
                economics={
                    "case_year_values": [
                        {"stakeholder": "municipality", "eur_per_case_year": 1},
                        {"stakeholder": "municipality", "eur_per_case_year": 2},
                    ]
                }
            ),
            "economics.case_year_values",
            "repeated: municipality",
        ),
        (
            lambda d: d.update(economics={"discount_rate": 0.03}),
            "economics.discount_rate",
            "unknown key",
        ),
        (
            lambda d: d["channels"][0].update(costs={"per_contact_eur": 1, "payer": "police"}),
            "channels[0:campaign].costs.payer",
            "unknown stakeholder 'police' (allowed: municipality, health_insurer",
        ),
        (
            # base_dict's provider has unlimited places: a cost per place means nothing
            lambda d: d["interventions"][0].update(costs={"per_place_month_eur": 5}),
            "interventions[0:prog].costs.per_place_month_eur",
            "platform offer(s) it with unlimited places",
        ),
    ],
)
def test_bad_economic_input_is_a_clear_error(edit, path, text):
    d = base_dict()
    edit(d)
    found = _problems(d)
    assert len(found) == 1, found  # reported once, with its path
    assert f"s.yaml: {path}" in found[0] and text in found[0], found


def test_user_defined_stakeholders():
    d = base_dict(size=500, months=3)
    d["economics"] = {
        "stakeholders": ["housing_corporation"],
        "case_year_values": [
            {"stakeholder": "municipality", "eur_per_case_year": 1000},
            {"stakeholder": "housing_corporation", "eur_per_case_year": 500},
        ],
        "value_cv": 0.0,
    }
    sc = build(d)
    assert sc.economics.all_stakeholders[-1] == "housing_corporation"
    res = impactsim.run(sc, replicates=2, seed=1, progress=False)
    # 500 of the 1500 per case-year goes to the housing corporation
    assert res.metric("benefit_pv_housing_corporation").tolist() == pytest.approx(
        (res.metric("benefit_pv") / 3).tolist()
    )
    d["economics"]["stakeholders"] = ["x", "x"]
    assert "economics.stakeholders: names must be unique" in _problems(d)[0]


def test_default_scenario_has_costs_and_benefits():
    sc = impactsim.default_scenario()
    assert sc.economics.discount_rate_costs_per_year == 0.04
    assert sc.economics.discount_rate_effects_per_year == 0.015
    assert all(iv.costs.per_participant_month_eur > 0 for iv in sc.interventions), (
        "every default programme has a delivery cost"
    )
    assert sc.strategy.costs.coordination_per_year_eur > 0


def test_cli_run_prints_economics_and_writes_tables(tmp_path):
    d = base_dict(size=500, months=6)
    d["interventions"][0]["costs"] = {"per_enrolment_eur": 200}
    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump(d))
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", str(scen), "-r", "3", "--seed", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    for label in ("cost (present value)", "benefit (present value)", "P(benefits exceed costs)"):
        assert label in res.output
    assert "return on investment" in res.output
    summary = pd.read_csv(out / "summary.csv")
    for name in ("cost_pv", "benefit_pv", "npv", "bcr", "roi", "p_benefit_exceeds_cost"):
        assert name in set(summary["metric"]), name
    assert (out / "ceac.csv").is_file() and (out / "wsipp.csv").is_file()
    # who pays and who receives: the municipality pays every enrolment (default payer)
    # and receives the default value per case-year; its net is receives - pays
    totals = summary[(summary[["segment", "intervention", "channel"]] == "all").all(axis=1)]
    stats = totals.groupby("metric")["value"].mean()
    assert stats["cost_pv_paid_by_municipality"] == pytest.approx(stats["cost_pv"])
    assert stats["net_pv_municipality"] == pytest.approx(
        stats["benefit_pv_municipality"] - stats["cost_pv"]
    )
    line = next(x for x in res.output.splitlines() if x.strip().startswith("municipality"))
    assert line.split()[1:] == [
        eur(stats["cost_pv"]),
        eur(stats["benefit_pv_municipality"]),
        eur(stats["net_pv_municipality"]),
    ]
