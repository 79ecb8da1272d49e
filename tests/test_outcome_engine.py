"""Several outcomes in the engine (docs/model.md, "Several outcomes").

Per-outcome scores, effects and counts, checked against closed forms (the normal cut-off
shift, the bivariate normal orthant probability) and for common random numbers across
scenarios that differ in their outcomes.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scipy.stats import multivariate_normal, norm

from helpers import base_dict, build
from impactsim.engine.simulate import simulate_replicate
from impactsim.engine.spec import compile_scenario
from impactsim.rng import replicate_key

PREV = {"behaviour": 0.15, "emotional": 0.10, "parent_mental": 0.20}
#: Thongseiratch et al. 2020 (domain brief section 6), sign flipped: positive = fewer problems
D = {"behaviour": 0.32, "emotional": 0.22, "parent_mental": 0.30}


def three_outcomes(size: int = 20_000, months: int = 3, corr: dict | None = None) -> dict:
    """base_dict (everyone completes 'prog' in month 1) with three outcomes."""
    d = base_dict(size=size, months=months)
    d["outcomes"] = [
        {"name": n, "baseline_prevalence": {"all_parents": p}, "problem_cutoff": c}
        for (n, p), c in zip(PREV.items(), (0.0, 0.5, -0.3), strict=True)
    ]
    iv = d["interventions"][0]
    iv["effect_size"] = {"mean": D["behaviour"]}
    iv["effect_sizes"] = {n: {"mean": D[n]} for n in ("emotional", "parent_mental")}
    if corr is not None:
        d["outcome_correlation"] = corr
    return d


def run(d: dict, replicates: int = 4, state: dict | None = None) -> list:
    spec = compile_scenario(build(d))
    return [
        simulate_replicate(spec, replicate_key(7, r), state if r == 0 else None)
        for r in range(replicates)
    ]


def test_one_outcome_records_no_further_outcome():
    (rec,) = run(base_dict(size=500), replicates=1)
    assert rec.x_prev.shape == (13, 0, 1) and rec.x_effect_d.shape == (0, 1)


def test_the_normal_cutoff_shift_holds_per_outcome():
    # everyone completes at the end of month 1, so at month 3 each outcome's prevalence
    # is P(z - d > c) = Phi(Phi^-1(pi) - d) (docs/validation.md, normal cut-off shift)
    recs = run(three_outcomes())
    n = np.array([r.n[3, 0] for r in recs], float)
    shares = {"behaviour": np.array([r.prev[3, 0] for r in recs]) / n}
    for o, name in enumerate(("emotional", "parent_mental")):
        shares[name] = np.array([r.x_prev[3, o, 0] for r in recs]) / n
        cf = np.array([r.x_prev_cf[3, o, 0] for r in recs]) / n
        # binomial SE of 4 x 20,000 families: at most 0.0014; 4 SE
        assert cf.mean() == pytest.approx(PREV[name], abs=0.006)
    for name, share in shares.items():
        expected = norm.cdf(norm.ppf(PREV[name]) - D[name])
        assert share.mean() == pytest.approx(expected, abs=0.006), name


def test_correlated_scores_give_the_bivariate_orthant_probability():
    rho = 0.6
    state: dict = {}
    d = three_outcomes(size=60_000, months=1, corr={"behaviour": {"emotional": rho}})
    d["strategy"]["offers"] = []
    run(d, replicates=1, state=state)
    z0, z1 = state["score"].astype(float), state["x_score"][0].astype(float)
    c0, c1 = 0.0, 0.5
    both = np.mean((z0 > c0) & (z1 > c1))
    # P(Z0 > a, Z1 > b) = P(-Z0 < -a, -Z1 < -b): the CDF at (-a, -b) with the same rho
    a, b = norm.ppf(1 - PREV["behaviour"]), norm.ppf(1 - PREV["emotional"])
    expected = multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]]).cdf([-a, -b])
    se = np.sqrt(expected * (1 - expected) / z0.size)  # about 0.0011
    assert both == pytest.approx(expected, abs=4 * se)
    # independent outcomes: the product of the margins
    indep = np.mean((z0 > c0) & (state["x_score"][1].astype(float) > -0.3))
    assert indep == pytest.approx(PREV["behaviour"] * PREV["parent_mental"], abs=0.005)
    assert np.corrcoef(z0, z1)[0, 1] == pytest.approx(rho, abs=0.01)


def test_a_programme_moving_one_outcome_leaves_the_others_exactly_unchanged():
    d = three_outcomes(size=5_000, months=12, corr={"behaviour": {"emotional": 0.5}})
    d["interventions"][0]["effect_sizes"] = {"parent_mental": {"mean": 0.4, "sd": 0.1}}
    d["interventions"][0]["effect_size"] = {"mean": 0.0}
    d["population"]["turnover_rate_per_month"] = 0.02
    for rec in run(d, replicates=5):
        np.testing.assert_array_equal(rec.prev, rec.prev_cf)  # behaviour: not moved
        np.testing.assert_array_equal(rec.x_prev[:, 0], rec.x_prev_cf[:, 0])  # emotional
        assert (rec.x_prev_cf[-1, 1] - rec.x_prev[-1, 1]).sum() > 0  # parent_mental moved


def test_adding_or_changing_an_outcome_leaves_the_others_draws_unchanged():
    two = three_outcomes(size=3_000, months=12, corr={"behaviour": {"emotional": 0.4}})
    two["outcomes"].pop()
    two["interventions"][0]["effect_sizes"].pop("parent_mental")
    two["interventions"][0]["effect_size"]["sd"] = 0.1
    three = three_outcomes(size=3_000, months=12, corr={"behaviour": {"emotional": 0.4}})
    three["interventions"][0]["effect_size"]["sd"] = 0.1
    changed = copy.deepcopy(three)
    changed["outcomes"][2].update(problem_cutoff=1.0, minimal_important_change=0.5)
    changed["interventions"][0]["effect_sizes"]["parent_mental"] = {"mean": 0.9, "sd": 0.3}
    changed["outcome_correlation"]["parent_mental"] = {"emotional": -0.3}
    one = copy.deepcopy(two)
    one["outcomes"].pop()
    one.pop("outcome_correlation")
    one["interventions"][0]["effect_sizes"] = {}
    r1, r2, r3, rc = (run(x, replicates=2) for x in (one, two, three, changed))
    for a, b, c, e in zip(r1, r2, r3, rc, strict=True):
        for rec in (b, c, e):
            np.testing.assert_array_equal(rec.prev, a.prev)
            np.testing.assert_array_equal(rec.realized, a.realized)
            np.testing.assert_array_equal(rec.effect_d, a.effect_d)
        for rec in (c, e):
            np.testing.assert_array_equal(rec.x_prev[:, :1], b.x_prev)
            np.testing.assert_array_equal(rec.x_effect_d[:1], b.x_effect_d)
        assert not np.array_equal(e.x_prev[:, 1], c.x_prev[:, 1])


def test_tidy_tables_have_each_outcomes_rows_by_name():
    import impactsim
    from impactsim.tables import select

    result = impactsim.run(build(three_outcomes(size=4_000)), replicates=2, progress=False)
    summary, ts = result.summary, result.timeseries
    assert set(summary["outcome"].astype(str)) == {"all", *PREV}
    for metric in ("prevalence", "public_impact_pp", "realized_effect_share", "efficacy_d"):
        primary = select(summary, metric)["value"].to_numpy()
        by_name = select(summary, metric, outcome="behaviour")["value"].to_numpy()
        np.testing.assert_array_equal(primary, by_name)  # 'all' is the primary outcome
    # everyone completes: impact is Phi^-1 shift of each outcome (as above), 4,000 x 2
    for name in PREV:
        got = select(summary, "public_impact_pp", outcome=name)["value"].mean()
        expected = 100 * (PREV[name] - norm.cdf(norm.ppf(PREV[name]) - D[name]))
        assert got == pytest.approx(expected, abs=1.5), name
        assert (
            select(summary, "efficacy_d", outcome=name, intervention="prog")["value"]
            .eq(D[name])
            .all()
        )
    # reach is not about one outcome: one row per replicate, outcome 'all'
    assert len(select(summary, "reach_cumulative", free=("outcome",))) == 2
    months = select(ts, "prevalence", outcome="emotional")["month"]
    assert sorted(set(months)) == [0, 1, 2, 3]


def test_one_outcome_tables_only_have_outcome_all():
    import impactsim

    result = impactsim.run(build(base_dict(size=500, months=2)), replicates=1, progress=False)
    assert set(result.summary["outcome"].astype(str)) == {"all"}


def test_economics_sum_money_over_outcomes_and_report_each():
    import impactsim
    from impactsim.tables import select

    d = three_outcomes(size=4_000)
    d["economics"] = {
        "case_year_values": [{"stakeholder": "municipality", "eur_per_case_year": 12_000.0}]
    }
    d["outcomes"][1]["case_year_values"] = [
        {"stakeholder": "education", "eur_per_case_year": 3_000.0}
    ]
    d["outcomes"][2]["linked_outcomes"] = [
        {
            "name": "sick_leave",
            "stakeholder": "families",
            "cost_avoided_eur": 1_000.0,
            "probability_per_case_year": 0.5,
        }
    ]
    result = impactsim.run(build(d), replicates=2, progress=False)
    s = result.summary

    def val(metric: str, **where: str) -> np.ndarray:
        return select(s, metric, **where)["value"].to_numpy()

    per = {n: val("benefit_pv", outcome=n) for n in PREV}
    np.testing.assert_allclose(val("benefit_pv"), sum(per.values()), rtol=1e-12)
    np.testing.assert_allclose(val("benefit_pv_education"), per["emotional"], rtol=1e-12)
    np.testing.assert_allclose(val("benefit_pv_families"), per["parent_mental"], rtol=1e-12)
    # the case-years of the totals are the primary outcome's; each outcome has its own
    np.testing.assert_array_equal(
        val("case_years_prevented"), val("case_years_prevented", outcome="behaviour")
    )
    # a value per case-year: 3,000 euros times the emotional outcome's discounted case-years
    np.testing.assert_allclose(
        per["emotional"], 3_000.0 * val("case_years_prevented_pv", outcome="emotional"), rtol=1e-12
    )


def test_only_further_outcomes_take_their_own_values():
    from test_outcomes import problems

    d = three_outcomes()
    d["outcomes"][0]["case_year_values"] = [
        {"stakeholder": "municipality", "eur_per_case_year": 1.0}
    ]
    d["outcomes"][1]["linked_outcomes"] = [
        {
            "name": "x",
            "stakeholder": "nobody",
            "cost_avoided_eur": 1.0,
            "probability_per_case_year": 0.1,
        }
    ]
    text = problems(d)
    assert "outcomes[0:behaviour].case_year_values: the first outcome's are economics" in text
    assert (
        "outcomes[1:emotional].linked_outcomes[0].stakeholder: unknown stakeholder 'nobody'" in text
    )
