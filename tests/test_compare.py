"""Comparing strategies: paired differences, interaction of combinations, frontier, CLI.

Expected interaction values come from the latent-score model: with baseline prevalence 0.5
the cut-off is at the mean, so an effect d leaves prevalence Phi(-d). Two programmes of
d = 0.2 each reached by everyone, with interaction gamma, give a combined gain
0.2 + 0.2 + gamma x 0.2.
"""

import math

import pandas as pd
import pytest
import yaml
from scipy.stats import norm
from typer.testing import CliRunner

import impactsim
from helpers import base_dict, build
from impactsim.cli import app
from impactsim.compare import (
    NO_PROGRAMME,
    CompareError,
    comparability_problems,
    efficient_frontier,
    find_combinations,
)


def strategy(name: str, offered: list[str], gamma: float = 0.0, months: int = 3) -> dict:
    """Two interventions a, b (d = 0.2, everyone enrols at once); ``offered`` picks which."""
    d = base_dict(size=2000, months=months, prevalence=0.5)
    d["name"] = name
    d["interventions"] = [
        {
            "name": "a",
            "duration_months": 1,
            "effect_size": {"mean": 0.2},
            "costs": {"per_enrolment_eur": 100},
        },
        {
            "name": "b",
            "duration_months": 1,
            "effect_size": {"mean": 0.2},
            "costs": {"per_enrolment_eur": 150},
        },
    ]
    d["strategy"]["offers"] = [
        {"intervention": k, "channels": ["campaign"], "providers": ["platform"]} for k in offered
    ]
    if len(offered) == 2:
        d["strategy"]["interactions"] = [{"interventions": ["a", "b"], "gamma": gamma}]
    d["economics"] = {"cost_cv": 0.0}
    return d


def drop(d: float) -> float:
    """Prevalence fall (fraction) for a gain d at baseline prevalence 0.5: 0.5 - Phi(-d)."""
    return 0.5 - float(norm.cdf(-d))


@pytest.mark.parametrize(
    ("gamma", "sign"),
    [(1.0, +1), (-0.5, -1)],
)
def test_interaction_contribution_follows_gamma(gamma, sign):
    scen = [
        build(strategy("A", ["a"])),
        build(strategy("B", ["b"])),
        build(strategy("AB", ["a", "b"], gamma)),
    ]
    res = impactsim.compare(scen, replicates=20, seed=3, progress=False)
    assert res.combinations == {"AB": [("A", "B")]}  # detected from the offered programmes
    # hand calculation, in percentage points:
    #   gamma = 1:    100 x [drop(0.6) - 2 drop(0.2)] = 100 x (0.2257 - 2 x 0.0793) = +6.72
    #   gamma = -0.5: 100 x [drop(0.3) - 2 drop(0.2)] = 100 x (0.1179 - 2 x 0.0793) = -4.06
    expected = 100 * (drop(0.4 + gamma * 0.2) - 2 * drop(0.2))
    assert expected == pytest.approx(6.72 if gamma > 0 else -4.06, abs=0.01)
    impact = res.value("AB", "interaction_public_impact_pp")
    npv = res.value("AB", "interaction_npv")
    se = impact["sd"] / math.sqrt(impact["n"])
    # the sign is beyond Monte Carlo error (4 standard errors) and the size as calculated;
    # the tolerance (0.6 pp) covers 4 SE of this sampling (SE about 0.15 pp)
    assert sign * impact["mean"] > 4 * se
    assert impact["mean"] == pytest.approx(expected, abs=0.6)
    # costs add up exactly (no shared costs), so the NPV interaction is the benefit interaction
    assert res.value("AB", "interaction_cost_pv")["mean"] == pytest.approx(0.0, abs=1e-6)
    npv_se = npv["sd"] / math.sqrt(npv["n"])
    assert sign * npv["mean"] > 4 * npv_se
    assert npv["mean"] == pytest.approx(res.value("AB", "interaction_benefit_pv")["mean"])
    assert res.value("AB", "p_interaction_positive_impact")["mean"] == (1.0 if sign > 0 else 0.0)


def test_paired_differences_use_common_random_numbers():
    a = strategy("A", ["a"], months=4)
    a2 = strategy("A_plus_radio", ["a"], months=4)
    a2["channels"].append(
        {"name": "radio", "referral_strength": 0.0, "costs": {"per_month_active_eur": 1000}}
    )
    a2["strategy"]["offers"][0]["channels"].append("radio")
    res = impactsim.compare([build(a), build(a2)], baseline="A", replicates=6, seed=5)
    # the same families and uptake draws: impact identical in every replicate (SD 0), and the
    # radio channel (reaches nobody) adds exactly 4 months x 1000 = 4000 undiscounted;
    # at 4 %: 1000 x (0.998367 + 0.995109 + 0.991862 + 0.988626) = 3973.96
    diff_impact = res.value("A_plus_radio", "diff_public_impact_pp")
    assert diff_impact["mean"] == 0.0 and diff_impact["sd"] == 0.0
    expected_cost = sum(1000 * 1.04 ** (-(m - 0.5) / 12) for m in range(1, 5))
    assert expected_cost == pytest.approx(3973.96, abs=0.01)
    diff_cost = res.value("A_plus_radio", "diff_cost_pv")
    assert diff_cost["mean"] == pytest.approx(expected_cost)
    assert diff_cost["lo"] == pytest.approx(expected_cost)  # no spread: paired
    assert res.value("A_plus_radio", "diff_npv")["mean"] == pytest.approx(-expected_cost)
    assert res.value("A_plus_radio", "p_better_npv")["mean"] == 0.0
    assert res.value("A_plus_radio", "p_better_impact")["mean"] == 0.0
    assert res.value("A_plus_radio", "dominated_by_baseline")["mean"] == 1.0
    assert math.isnan(res.value("A_plus_radio", "icer_eur_per_case_year")["mean"])
    status = res.frontier.set_index("scenario")["status"]
    assert status["A_plus_radio"] == "dominated" and status["A"] == "efficient"


def test_icer_and_probabilities_against_baseline():
    scen = [build(strategy("A", ["a"])), build(strategy("AB", ["a", "b"], 0.0))]
    res = impactsim.compare(scen, baseline="A", replicates=5, seed=9, progress=False)
    out = res.outcomes.set_index(["scenario", "replicate"])
    d_cost = out.loc["AB", "cost_pv"] - out.loc["A", "cost_pv"]
    d_eff = out.loc["AB", "case_years_prevented_pv"] - out.loc["A", "case_years_prevented_pv"]
    # ICER = mean paired cost difference / mean paired effect difference
    assert res.value("AB", "icer_eur_per_case_year")["mean"] == pytest.approx(
        d_cost.mean() / d_eff.mean()
    )
    # b is offered on top of a: every parent becomes aware in month 1 and enrols in month 2,
    # so 2000 extra enrolments x 150 at t = 1.5 / 12 years: 300000 x 0.995109 = 298532.8
    rec = res.runs["AB"].recordings[0]
    assert rec.enrol_new[2, 1].sum() == 2000 and rec.enrol_new[:, 1].sum() == 2000
    assert d_cost.mean() == pytest.approx(298532.8, abs=0.1)
    assert res.value("AB", "p_better_impact")["mean"] == 1.0
    # the CEAC at WTP 0: doing nothing has the highest net monetary benefit in every replicate
    ceac = res.ceac[res.ceac["wtp_eur_per_case_year"] == 0].set_index("scenario")
    assert ceac.loc[NO_PROGRAMME, "p_highest_nmb"] == 1.0
    top = res.ceac[res.ceac["wtp_eur_per_case_year"] == res.ceac["wtp_eur_per_case_year"].max()]
    assert top.set_index("scenario").loc["AB", "p_highest_nmb"] == 1.0


def test_efficient_frontier_hand_example():
    points = {
        "none": (0.0, 0.0),
        "A": (100.0, 10.0),
        "D": (200.0, 5.0),  # dearer and worse than A: dominated
        "C": (250.0, 30.0),
        "B": (300.0, 12.0),  # dearer and worse than C: dominated
    }
    f = efficient_frontier(points).set_index("scenario")
    # ICER none -> A = 100 / 10 = 10 per unit; A -> C = 150 / 20 = 7.5 < 10: A is extendedly
    # dominated; the frontier is none -> C with ICER 250 / 30 = 8.33
    assert f.loc["D", "status"] == "dominated" and f.loc["B", "status"] == "dominated"
    assert f.loc["A", "status"] == "extendedly dominated"
    assert f.loc["C", "status"] == "efficient" and f.loc["none", "status"] == "efficient"
    assert f.loc["C", "previous"] == "none"
    assert f.loc["C", "icer_vs_previous"] == pytest.approx(250 / 30)


def test_find_combinations_by_offered_interventions():
    scen = {
        "A": build(strategy("A", ["a"])),
        "B": build(strategy("B", ["b"])),
        "AB": build(strategy("AB", ["a", "b"])),
    }
    assert find_combinations(scen) == {"AB": [("A", "B")]}
    assert find_combinations({"A": scen["A"], "AB": scen["AB"]}) == {}


def test_different_populations_are_an_error():
    a = strategy("A", ["a"])
    b = strategy("B", ["b"])
    b["population"]["segments"][0]["baseline_prevalence"] = 0.3
    with pytest.raises(CompareError) as exc:
        impactsim.compare([build(a), build(b)], replicates=2)
    msg = str(exc.value)
    assert "define different populations" in msg
    assert "population.segments[0].baseline_prevalence (0.5 vs 0.3)" in msg
    # other settings that break the comparison
    c = strategy("C", ["b"])
    c["economics"]["discount_rate_costs_per_year"] = 0.03
    c["simulation"]["months"] = 6
    found = comparability_problems({"A": build(a), "C": build(c)})
    assert any("economics" in p and "discount_rate_costs_per_year" in p for p in found)
    assert any("simulation.months (3 vs 6)" in p for p in found)
    # contact rates must agree for channels both define
    e = strategy("E", ["b"])
    e["population"]["segments"][0]["contact_rates"]["campaign"] = 5.0
    found = comparability_problems({"A": build(a), "E": build(e)})
    assert any("contact_rates" in p and "define different populations" in p for p in found)
    with pytest.raises(CompareError, match="unknown baseline 'Z'"):
        impactsim.compare([build(a), build(strategy("B", ["b"]))], baseline="Z")
    with pytest.raises(CompareError, match="distinct scenario names"):
        impactsim.compare([build(a), build(a)])


def test_cli_compare_writes_long_table_and_prints_report(tmp_path):
    files = []
    for name, offered in (("A", ["a"]), ("B", ["b"]), ("AB", ["a", "b"])):
        p = tmp_path / f"{name}.yaml"
        p.write_text(yaml.safe_dump(strategy(name, offered, gamma=1.0)))
        files.append(str(p))
    out = tmp_path / "cmp"
    res = CliRunner().invoke(
        app, ["compare", *files, "--baseline", "B.yaml", "-r", "3", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "baseline 'B'" in res.output
    assert "Interaction contribution" in res.output and "AB vs A + B" in res.output
    table = pd.read_csv(out / "comparison.csv")
    assert list(table.columns) == ["scenario", "versus", "metric", "mean", "sd", "lo", "hi", "n"]
    assert {"diff_public_impact_pp", "diff_npv", "p_better_npv", "interaction_npv"} <= set(
        table["metric"]
    )
    for name in ("frontier.csv", "ceac.csv", "outcomes.csv", "runs/AB/summary.csv"):
        assert (out / name).is_file(), name

    bad = yaml.safe_load((tmp_path / "B.yaml").read_text())
    bad["population"]["size"] = 1000
    (tmp_path / "B.yaml").write_text(yaml.safe_dump(bad))
    res = CliRunner().invoke(app, ["compare", *files[:2], "--out", str(out)])
    assert res.exit_code == 2
    assert "define different populations" in res.output and "Traceback" not in res.output


def test_on_replicate_reports_progress_and_an_exception_stops_the_comparison():
    a, b = build(strategy("only_a", ["a"])), build(strategy("only_b", ["b"]))
    seen: list[tuple[str, int]] = []
    impactsim.compare([a, b], replicates=3, seed=1, on_replicate=lambda s, r: seen.append((s, r)))
    assert seen == [(s, r) for s in ("only_a", "only_b") for r in range(3)]

    class Stop(Exception):
        pass

    def stop(label: str, r: int) -> None:
        raise Stop

    with pytest.raises(Stop):
        impactsim.compare([a, b], replicates=3, seed=1, on_replicate=stop)


def test_compare_reports_each_outcomes_impact_and_refuses_other_outcomes():
    # issue 34: strategies of one municipality with the same three outcomes
    from test_outcome_engine import three_outcomes

    light, strong = three_outcomes(size=2_000), three_outcomes(size=2_000)
    light["name"], strong["name"] = "light", "strong"
    strong["interventions"][0]["effect_sizes"]["emotional"] = {"mean": 0.5}
    res = impactsim.compare([build(light), build(strong)], replicates=2, seed=3, progress=False)
    diff = res.value("strong", "diff_public_impact_pp[emotional]", versus="light")["mean"]
    # same families and draws: only emotional problems differ, by the normal cut-off shift
    # 100 (Phi(Phi^-1(0.1) - 0.22) - Phi(Phi^-1(0.1) - 0.5)) = 3.1 pp (within 1.5 pp)
    assert diff == pytest.approx(3.1, abs=1.5)
    same = res.value("strong", "diff_public_impact_pp[behaviour]", versus="light")["mean"]
    assert same == 0.0
    other = three_outcomes(size=2_000)
    other["name"] = "other"
    other["outcomes"][1]["problem_cutoff"] = 1.0
    with pytest.raises(CompareError, match="outcomes"):
        impactsim.compare([build(light), build(other)], replicates=1, seed=3)
