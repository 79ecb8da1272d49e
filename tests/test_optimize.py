"""impactsim optimize: recovery of known optima, limits, determinism, resume, bad files.

The constructed case: two programmes for two halves of the town (no interaction: each
is eligible in its own segment), funded places costing EUR 300 (A) and EUR 100 (B) per
place-month with no cost uncertainty and no discounting, and enough demand to fill every
place. Cost is then exactly 12 x (300 x_A + 100 x_B) over 12 months, and prevented
case-years grow in proportion to the places (measured: 0.39 case-years per monthly place
of A and 0.28 of B, so B prevents a case-year for about half the cost of A). The analytic
optimum of a budget is therefore the corner that spends it all on B; when B's places are
capped, B at its cap and the rest on A.
"""

from __future__ import annotations

import copy
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import norm

from helpers import base_dict
from impactsim.inputs import ScenarioError
from impactsim.optimize import load_optimization, optimize, parse_optimization
from impactsim.optimize.evaluate import Evaluation
from impactsim.optimize.finalists import p_best, pareto_mask
from impactsim.optimize.search import Limits, run_search

BUDGET = 48_000.0  # = 12 months x EUR 100 x 40 places of B


def two_programmes(size: int = 4000, months: int = 12) -> dict[str, Any]:
    """Two segments, one programme each, places costing 300 (A) and 100 (B) a month."""
    d = base_dict(size=size, months=months, prevalence=0.2)
    seg = d["population"]["segments"][0]
    d["population"]["segments"] = [dict(seg, name="a", share=0.5), dict(seg, name="b", share=0.5)]
    d["providers"] = [
        {"name": f"prov_{x}", "count": 1, "capacity_per_month": 10.0, "fidelity": 1.0,
         "initial_offer_share": 1.0}
        for x in ("a", "b")
    ]  # fmt: skip
    d["interventions"] = [
        {"name": f"prog_{x}", "duration_months": 1, "effect_size": {"mean": es},
         "eligibility": {"segments": [x]}, "max_wait_months": 100,
         "costs": {"per_place_month_eur": eur}}
        for x, es, eur in (("a", 0.4, 300.0), ("b", 0.3, 100.0))
    ]  # fmt: skip
    d["strategy"] = {
        "offers": [
            {"intervention": f"prog_{x}", "channels": ["campaign"], "providers": [f"prov_{x}"]}
            for x in ("a", "b")
        ]
    }
    d["economics"] = {
        "discount_rate_costs_per_year": 0.0,
        "discount_rate_effects_per_year": 0.0,
        "cost_cv": 0.0,
    }
    return d


def optimisation(**over: Any) -> dict[str, Any]:
    doc = {
        "name": "two-programmes",
        "base": two_programmes(),
        "decisions": [
            {"path": "providers.prov_a.capacity_per_month", "name": "places_a", "range": [0, 30]},
            {"path": "providers.prov_b.capacity_per_month", "name": "places_b", "range": [0, 60]},
        ],
        "objective": "case_years_prevented",
        "budget": {"total_eur": BUDGET},
        "replicates": 8,
        "seed": 11,
        "search": {"trials": 40, "batch": 4},
        "finalists": {"count": 4, "replicates": 16},
    }
    doc.update(over)
    return doc


def best_values(result) -> dict[str, Any]:
    assert result.main.best is not None
    return result.main.best.values


# --------------------------------------------------------------------------- validation
#: Candidates of the recovery searches: with 96, seeds 11-13 put 87-95 % of the budget on B
#: (no cap) and find B's cap within 0.4 places and A within 0.7 places of the corner.
RECOVERY = {"trials": 96, "batch": 4}


def test_recovers_the_analytic_optimum_spend_all_on_the_cheaper_programme(tmp_path):
    result = optimize(parse_optimization(optimisation(search=RECOVERY)), tmp_path, workers=0)
    best = best_values(result)
    # analytic optimum: x_B = 48,000 / (12 x 100) = 40, x_A = 0; tolerance: 15 % of the
    # budget may go elsewhere (the search sees case-years with Monte Carlo noise)
    spent_on_b = 12 * 100 * best["places_b"] / BUDGET
    assert spent_on_b >= 0.85, best
    cost = result.main.best.evaluation.mean("cost_pv")
    assert cost <= BUDGET * (1 + 1e-9)
    # cost is exact: 12 x (300 x_A + 100 x_B), no uncertainty, no discounting
    assert cost == pytest.approx(12 * (300 * best["places_a"] + 100 * best["places_b"]), rel=1e-9)


def test_with_a_binding_capacity_it_finds_the_corner(tmp_path):
    doc = optimisation(search=RECOVERY)
    doc["decisions"][1]["range"] = [0, 20]  # B capped at 20 places: EUR 24,000
    result = optimize(parse_optimization(doc), tmp_path, workers=0)
    best = best_values(result)
    # corner: x_B = 20, and the other EUR 24,000 on A: x_A = 24,000 / 3,600 = 6.67;
    # tolerance: 10 % of the cap, 1.2 places of A
    assert best["places_b"] >= 18.0, best
    assert best["places_a"] == pytest.approx(24_000 / 3_600, abs=1.2), best


def test_a_budget_below_every_fixed_cost_fits_nothing(tmp_path):
    base = two_programmes()
    for iv in base["interventions"]:
        iv["costs"]["per_provider_adoption_eur"] = 5000.0
    doc = optimisation(base=base, budget={"total_eur": 1000.0})
    doc["search"] = {"trials": 8, "batch": 4}
    result = optimize(parse_optimization(doc), tmp_path, workers=0)
    assert result.status == "nothing_fits"
    assert result.main.best is None
    assert not (tmp_path / "recommended.yaml").exists()
    text = (tmp_path / "summary.md").read_text()
    assert "No mix that was searched fits within €1,000" in text
    assert all(not r.feasible for r in result.main.trials)


def test_the_search_recovers_a_closed_form_optimum():
    """The search alone, on a noiseless linear model: 2 x_A + 3 x_B with cost 5 x_A + 4 x_B."""
    opt = parse_optimization(optimisation())

    def evaluate(mixes):
        out = []
        for m in mixes:
            a, b = m["places_a"], m["places_b"]
            value = np.full(8, 2.0 * a + 3.0 * b)
            metrics = {k: np.zeros(8) for k in opt.metrics}
            metrics.update(case_years_prevented=value, cost_pv=np.full(8, 5.0 * a + 4.0 * b))
            out.append(Evaluation(dict(m), 0, 0, metrics))
        return out

    limits = Limits(budget=100.0, metric="cost_pv")
    records = run_search(opt, evaluate, limits, trials=100, seed=1)
    best = max((r for r in records if r.feasible), key=lambda r: r.objectives[0])
    # analytic: value per euro 0.4 (A) < 0.75 (B): x_B = 100 / 4 = 25, value 75; with 100
    # candidates seeds 1-3 reach 73.0-73.3 (TPE closes in on a constraint slowly)
    assert best.objectives[0] == pytest.approx(75.0, rel=0.03)
    assert best.values["places_b"] == pytest.approx(25.0, rel=0.05)
    assert all(r.evaluation.mean("cost_pv") <= 100.0 for r in records if r.feasible)


def test_p_best_matches_the_normal_approximation():
    # two options, paired difference ~ N(0.1, 1) per replicate, n = 400: the mean
    # difference is N(0.1, 1/20), so P(first is best) = Phi(0.1 / 0.05) = 0.977
    rng = np.random.default_rng(5)
    base = rng.normal(size=400)
    diff = rng.normal(0.1, 1.0, size=400)
    diff += 0.1 - diff.mean()  # the sample mean equals the expected mean difference
    wins, share = p_best(np.vstack([base + diff, base]), True, np.random.default_rng(1))
    assert wins[0] == pytest.approx(norm.cdf(0.1 / (diff.std(ddof=1) / 20)), abs=0.02)
    assert wins.sum() == pytest.approx(1.0)
    assert share[0] == pytest.approx(np.mean(diff > 0), abs=1e-12)


def test_pareto_mask_by_hand():
    # maximise the first, minimise the second: (2, 6) is dominated by (2, 4), the rest not
    pts = np.array([[1.0, 3.0], [2.0, 6.0], [3.0, 9.0], [2.0, 4.0]])
    assert pareto_mask(pts, [True, False]).tolist() == [True, False, True, True]


def test_two_objectives_give_the_pareto_set(tmp_path):
    doc = optimisation(
        objective=["case_years_prevented", "cost_pv"],
        search={"trials": 16, "batch": 4},
        finalists={"count": 3, "replicates": 8},
    )
    result = optimize(parse_optimization(doc), tmp_path, workers=0)
    pareto = pd.read_csv(tmp_path / "pareto.csv")
    pts = pareto[["case_years_prevented_mean", "cost_pv_mean"]].to_numpy()
    assert len(pareto) >= 2
    assert pareto_mask(pts, [True, False]).all()  # no member dominates another
    # the finalists are the Pareto set's members, best on the first objective first
    firsts = [f.screening for f in result.main.finalists]
    assert firsts == sorted(firsts, reverse=True)


def test_a_chance_constraint_holds_on_the_fresh_replicates(tmp_path):
    base = two_programmes()
    base["economics"]["cost_cv"] = 0.2  # uncertain costs: gamma multipliers per replicate
    doc = optimisation(
        base=base,
        budget={"total_eur": BUDGET, "chance": 0.8},
        replicates=10,
        search={"trials": 12, "batch": 4},
        finalists={"count": 3, "replicates": 20},
    )
    result = optimize(parse_optimization(doc), tmp_path, workers=0)
    for r in result.main.trials:
        if r.feasible:  # P(cost <= B) >= 0.8 over the candidate's 10 replicates
            assert np.mean(r.evaluation.metrics["cost_pv"] <= BUDGET) >= 0.8
    best = result.main.best
    assert best is not None and best.p_within_budget >= 0.8


def test_the_equity_limit_keeps_the_gap_no_wider_than_the_base(tmp_path):
    base = two_programmes()
    base["population"]["segments"][1]["advantage_rank"] = 2  # b: least advantaged
    doc = optimisation(base=base, equity="no_wider_than_base", search={"trials": 12, "batch": 4})
    result = optimize(parse_optimization(doc), tmp_path, workers=0)
    gap = result.base.mean("differential_impact_gap_pp")
    feasible = [r for r in result.main.trials if r.feasible]
    assert feasible
    assert all(r.evaluation.mean("differential_impact_gap_pp") <= gap + 1e-12 for r in feasible)
    infeasible_by_gap = [
        r for r in result.main.trials
        if r.evaluation.mean("cost_pv") <= BUDGET and not r.feasible
    ]  # fmt: skip
    assert all(r.evaluation.mean("differential_impact_gap_pp") > gap for r in infeasible_by_gap)


# --------------------------------------------------------------------------- results
@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    doc = optimisation(search={"trials": 8, "batch": 4}, finalists={"count": 2, "replicates": 8})
    doc["curve"] = {"levels": [24_000.0, 72_000.0], "trials": 6, "finalists": 2}
    for iv in doc["base"]["interventions"]:
        iv["effect_size"]["sd"] = 0.1  # uncertain effects, for the value of information
    doc["value_of_information"] = {"replicates": 40}
    out = tmp_path_factory.mktemp("opt")
    return doc, out, optimize(parse_optimization(doc), out, workers=0)


def test_the_directory_holds_every_output(small_run):
    _, out, _result = small_run
    for name in ("trials.parquet", "finalists.csv", "curve.csv", "recommended.yaml",
                 "report.html", "summary.md", "optimization.json", "inputs/base.yaml",
                 "figures/convergence.png", "figures/pareto.png", "figures/curve.png"):  # fmt: skip
        assert (out / name).stat().st_size > 0, name
    trials = pd.read_parquet(out / "trials.parquet")
    assert len(trials) == 8 + 6 + 6
    curve = pd.read_csv(out / "curve.csv")
    assert curve["budget_eur"].tolist() == [24_000.0, 72_000.0]
    found = curve.loc[curve["status"] == "found"]
    assert (found["cost_mean"] <= found["budget_total_eur"] + 1e-6).all()
    # more money buys at least as much (the curve's searches are warm-started)
    assert found["mean"].is_monotonic_increasing


def test_the_value_of_information_about_the_finalists(small_run):
    _, out, result = small_run
    voi = pd.read_csv(out / "voi.csv").set_index("group")
    evpi = voi.loc["evpi", "evppi_eur"]
    assert evpi >= 0.0
    # EVPPI of one group is at most the EVPI (4 SE of the regression as tolerance)
    effects = voi.loc["effect_sizes"]
    assert effects["evppi_eur"] <= evpi + 4 * effects["se_eur"] + 1e-6
    assert voi["n_replicates"].iloc[0] == 40
    assert set(result.comparison.runs) >= {"finalist-1-recommended"}
    assert "Value of information" in (out / "report.html").read_text()


def test_the_report_speaks_dutch_and_english(small_run):
    from impactsim.optimize.report import render, summary_markdown

    _, _out, result = small_run
    nl = render(result, "nl")
    assert "De beste mix voor het budget" in nl and "Met €" in nl
    assert "voorkomt" in summary_markdown(result, "nl")
    en = render(result, "en")
    assert "The best mix for the budget" in en and "prov b" in en  # labels, not paths


def test_the_recommended_scenario_reproduces_the_reported_numbers(small_run):
    from impactsim.loading import load_scenario
    from impactsim.runner import run

    _, out, result = small_run
    sc = load_scenario(out / "recommended.yaml")
    res = run(sc, progress=False)
    got = res.metric("case_years_prevented").mean()
    assert got == pytest.approx(result.main.best.evaluation.mean("case_years_prevented"), rel=1e-12)
    fin = pd.read_csv(out / "finalists.csv")
    rec = fin.loc[fin["recommended"] & (fin["stage"] == "search")]
    assert rec["mean"].iloc[0] == pytest.approx(got, rel=1e-9)


def test_a_second_run_reads_every_evaluation_back(small_run, tmp_path):
    doc, out, first = small_run
    again = optimize(parse_optimization(doc), out, workers=0)
    assert again.info["evaluations_run"] == 0
    assert again.main.best.values == first.main.best.values


def test_an_interrupted_optimisation_continues_to_the_same_result(small_run, tmp_path, monkeypatch):
    from impactsim.optimize import evaluate as ev_mod

    doc, _, whole = small_run
    real = ev_mod.Evaluator._run
    calls = {"n": 0}

    def stop_after_three(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ev_mod.Evaluator, "_run", stop_after_three)
    with pytest.raises(KeyboardInterrupt):
        optimize(parse_optimization(doc), tmp_path, workers=0)
    monkeypatch.setattr(ev_mod.Evaluator, "_run", real)
    resumed = optimize(parse_optimization(doc), tmp_path, workers=0)
    assert resumed.info["evaluations_reused"] > 0
    a = pd.read_parquet(tmp_path / "trials.parquet")
    b = pd.read_parquet(small_run[1] / "trials.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert resumed.main.best.values == whole.main.best.values


def test_one_and_two_workers_give_the_same_result(tmp_path):
    doc = optimisation(search={"trials": 8, "batch": 4}, finalists={"count": 2, "replicates": 8})
    one = optimize(parse_optimization(doc), tmp_path / "one", workers=1)
    two = optimize(parse_optimization(doc), tmp_path / "two", workers=2)
    a = pd.read_parquet(tmp_path / "one" / "trials.parquet")
    b = pd.read_parquet(tmp_path / "two" / "trials.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert one.main.best.values == two.main.best.values


def test_another_optimisation_may_not_reuse_a_directory(small_run):
    from impactsim.optimize import OptimizationError

    doc, out, _ = small_run
    other = copy.deepcopy(doc)
    other["seed"] = 12
    with pytest.raises(OptimizationError, match="another optimisation"):
        optimize(parse_optimization(other), out, workers=0)


# --------------------------------------------------------------------------- bad files
BAD = [
    (lambda d: d["decisions"][0].update(path="providers.prov_x.capacity_per_month"),
     "decisions[0:providers.prov_x.capacity_per_month].path", "no item named 'prov_x'"),
    (lambda d: d["decisions"][0].update(range=[5, 5]), "decisions[0:providers.prov_a.capacity_per_month].range", "range is empty"),
    (lambda d: d["decisions"][0].update(range=[-5, 5]), "decisions[0:providers.prov_a.capacity_per_month].range", "value not allowed"),
    (lambda d: d.update(budget={"total_eur": 0}), "budget.total_eur", "greater than 0"),
    (lambda d: d.update(budget={"total_eur": -3}), "budget.total_eur", "greater than 0"),
    (lambda d: d.update(budget={"total_eur": 10, "per_year_eur": 5}), "budget", "exactly one of total_eur or per_year_eur"),
    (lambda d: d.update(budget={"total_eur": 10, "chance": 0.9}, replicates=4), "<optimisation>", "at least 10 replicates"),
    (lambda d: d.update(objective="happiness"), "objective", "public_impact_pp"),
    (lambda d: d.update(objective=["npv", "npv"]), "<optimisation>", "twice"),
    (lambda d: d.update(search={"sampler": "nsga2"}), "<optimisation>", "two or three objectives"),
    (lambda d: d["decisions"].append({"path": "providers.prov_a", "kind": "offered"}), "decisions[2:providers.prov_a].path", "kind: offered needs an offer"),
    (lambda d: d["decisions"].append({"path": "providers.prov_a.capacity_per_month", "range": [1, 2], "name": "again"}), "decisions[2:providers.prov_a.capacity_per_month].path", "already decided"),
    (lambda d: d["decisions"][0].update(name="trial"), "decisions[0:providers.prov_a.capacity_per_month].name", "column of the results"),
    (lambda d: d.update(budgets={"total_eur": 5}), "budgets", "budget"),
    (lambda d: d.update(equity="no_wider_than_base"), "equity", "advantage_rank"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "where", "what"), BAD)
def test_a_bad_optimisation_file_is_refused_with_its_field(change, where, what):
    doc = optimisation()
    change(doc)
    with pytest.raises(ScenarioError) as err:
        parse_optimization(doc)
    text = str(err.value)
    assert any(p.path == where or p.file == where for p in err.value.problems), text
    assert what in text


def test_the_command_line_refuses_a_bad_file_without_a_traceback(tmp_path):
    doc = optimisation()
    doc["budget"] = {"total_eur": -1}
    doc["objective"] = "happiness"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "impactsim.cli",
            "optimize",
            str(path),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{path}: budget.total_eur" in proc.stderr
    assert f"{path}: objective" in proc.stderr


def test_the_library_example_loads_with_six_decisions():
    opt = load_optimization(Path(__file__).parents[1] / "scenarios/optimize/library-town.yaml")
    assert len(opt.decisions) >= 6
    kinds = {d.spec.kind for d in opt.decisions} | {
        "integer" if d.integer else "" for d in opt.decisions
    }
    assert {"value", "offered", "integer"} <= kinds
    assert math.isclose(opt.budget_total(), opt.spec.budget.per_year_eur * 5.0)


def test_a_preset_turns_a_scenarios_main_knobs_into_decisions():
    from impactsim.loading import load_scenario
    from impactsim.optimize.presets import budget_optimization

    base = load_scenario(Path(__file__).parents[1] / "scenarios/package.yaml").model_dump(
        mode="json"
    )
    opt = parse_optimization(budget_optimization(base, 1_000_000.0))
    labels = {d.label for d in opt.decisions}
    # places and organisations of the three limited provider types, four offers, six channels
    assert {"youth_health_care_teams_places", "community_centres_count"} <= labels
    assert {"offer_home_visits", "channel_media"} <= labels
    assert len(opt.decisions) == 16  # capped at MAX_DECISIONS
    assert opt.budget_total() == pytest.approx(5_000_000.0)
    assert opt.spec.curve is not None and opt.spec.curve.levels == [
        500_000.0,
        750_000.0,
        1_500_000.0,
    ]


def test_candidates_draw_their_parameters_from_a_calibrated_posterior(tmp_path):
    from impactsim.loading import load_scenario
    from impactsim.posterior import load_posterior
    from impactsim.runner import run

    # a posterior over A's effect size: 0.2 or 0.8 with equal weight
    table = pd.DataFrame(
        {"interventions.prog_a.effect_size.mean": [0.2, 0.8], "weight": [0.5, 0.5]}
    )
    table.to_parquet(tmp_path / "posterior.parquet")
    doc = optimisation(search={"trials": 8, "batch": 4}, finalists={"count": 2, "replicates": 8})
    doc["posterior"] = "posterior.parquet"
    opt = parse_optimization(doc, base_dir=tmp_path)
    result = optimize(opt, tmp_path / "out", workers=0)
    assert result.info["posterior"]["sha256"] == opt.posterior.sha256
    # the recommended mix run with the same posterior reproduces the finalists' numbers
    best = result.main.best
    again = run(load_scenario(tmp_path / "out" / "recommended.yaml"), progress=False,
                posterior=load_posterior(tmp_path / "posterior.parquet"))  # fmt: skip
    got = again.metric("case_years_prevented").to_numpy()
    np.testing.assert_array_equal(got, best.evaluation.metrics["case_years_prevented"])
    # without the posterior the same mix gives other numbers (A's effect is 0.4 there)
    plain = run(load_scenario(tmp_path / "out" / "recommended.yaml"), progress=False)
    assert not np.array_equal(plain.metric("case_years_prevented").to_numpy(), got)
    # a decision on a field the posterior sets is refused
    doc["decisions"].append(
        {"path": "interventions.prog_a.effect_size.mean", "name": "d_a", "range": [0.1, 0.9]}
    )
    with pytest.raises(ScenarioError, match="which a decision also sets"):
        parse_optimization(doc, base_dir=tmp_path)
