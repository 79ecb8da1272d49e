"""A calibrated posterior as the source of parameter uncertainty of run and compare.

Expected values: the effect size a replicate runs with is reported as ``efficacy_d`` and
equals ``effect_size.mean`` exactly when ``effect_size.sd`` is 0 (``d = mean + sd * z``,
engine/spec.py ``draw_replicate``); reach at month 12 of the test scenario with contact
rate c is about ``1 - exp(-12 c)`` (everyone contacted enrols at once, helpers.base_dict).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from helpers import base_dict, build
from impactsim.cli import app
from impactsim.compare import compare
from impactsim.loading import ScenarioError
from impactsim.posterior import apply_posterior, load_posterior
from impactsim.rundir import load_run_dir
from impactsim.runner import run

EFFECT = "interventions.prog.effect_size.mean"
CONTACT = "population.segments.all_parents.contact_rates.campaign"
#: Row 1 holds the scenario's own values (0.4, 0.03).
ROWS = {EFFECT: [0.2, 0.4, 0.6], CONTACT: [0.01, 0.03, 0.1]}
WEIGHTS = [0.25, 0.5, 0.25]
SEED = 11

cli = CliRunner()


def scenario_dict(name: str = "test") -> dict:
    d = base_dict(size=300, months=12)
    d["name"] = name
    d["population"]["segments"][0]["contact_rates"]["campaign"] = 0.03
    return d


@pytest.fixture(scope="module")
def scenario():
    return build(scenario_dict())


@pytest.fixture(scope="module")
def posterior_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("posterior") / "posterior.parquet"
    pd.DataFrame({**ROWS, "weight": WEIGHTS, "generation": 4}).to_parquet(path)
    return path


@pytest.fixture(scope="module")
def runs(scenario, posterior_file):
    post = load_posterior(posterior_file)
    fixed = run(scenario, replicates=16, seed=SEED, progress=False)
    drawn = run(scenario, replicates=16, seed=SEED, progress=False, posterior=post)
    return post, fixed, drawn


def test_each_replicate_runs_the_posterior_row_drawn_for_it(runs):
    post, _, drawn = runs
    draws = drawn.parameter_draws()
    assert draws["replicate"].tolist() == list(range(16))
    assert draws["row"].tolist() == [post.row(SEED, r) for r in range(16)]
    assert set(draws["row"]) == {0, 1, 2}  # all three rows are used by 16 replicates
    for _, d in draws.iterrows():
        assert d[EFFECT] == ROWS[EFFECT][int(d["row"])]
        assert d[CONTACT] == ROWS[CONTACT][int(d["row"])]
    # the engine ran with them: efficacy_d is the effect size itself (sd 0)
    efficacy = drawn.metric("efficacy_d", intervention="prog")
    assert efficacy.to_numpy() == pytest.approx(draws[EFFECT].to_numpy(), abs=1e-15)


def test_everything_else_keeps_its_random_numbers(runs):
    """A replicate that drew the scenario's own values is the run without a posterior, bit
    for bit: the posterior draw uses its own named stream."""
    _, fixed, drawn = runs
    rows = drawn.parameter_draws().set_index("replicate")["row"]
    own = [r for r in range(16) if rows[r] == 1]
    assert len(own) >= 3
    for r in own:
        a = fixed.summary.loc[fixed.summary["replicate"] == r, "value"].to_numpy()
        b = drawn.summary.loc[drawn.summary["replicate"] == r, "value"].to_numpy()
        assert np.array_equal(a, b, equal_nan=True)
    assert len(fixed.summary) == len(drawn.summary)
    assert len(fixed.timeseries) == len(drawn.timeseries)


def test_the_spread_of_an_output_grows_with_parameter_uncertainty(runs):
    """Fixed: binomial spread of reach among 300 parents, sqrt(.3 x .7 / 300) = 0.026.
    Posterior: the mixture of reach 0.11, 0.30 and 0.70 (1 - exp(-12 c)) with weights
    1/4, 1/2, 1/4 has SD 0.21."""
    _, fixed, drawn = runs
    sd_fixed = fixed.metric("reach_cumulative").std()
    sd_drawn = drawn.metric("reach_cumulative").std()
    assert sd_fixed == pytest.approx(0.026, abs=0.015)
    assert 0.10 < sd_drawn < 0.35
    assert sd_drawn > 4 * sd_fixed


def test_draws_follow_the_weights_and_depend_only_on_seed_and_replicate(posterior_file):
    post = load_posterior(posterior_file)
    rows = np.array([post.row(SEED, r) for r in range(4000)])
    freq = np.bincount(rows, minlength=3) / rows.size
    se = np.sqrt(np.array(WEIGHTS) * (1 - np.array(WEIGHTS)) / rows.size)  # about 0.008
    assert np.all(np.abs(freq - WEIGHTS) < 4 * se)
    again = load_posterior(posterior_file)
    assert [again.row(SEED, r) for r in range(50)] == rows[:50].tolist()
    assert [post.row(SEED + 1, r) for r in range(50)] != rows[:50].tolist()


def test_zero_weight_rows_are_never_drawn(tmp_path):
    path = tmp_path / "p.csv"
    pd.DataFrame({EFFECT: [0.1, 0.5, 0.9], "weight": [0.0, 1.0, 0.0]}).to_csv(path, index=False)
    post = load_posterior(path)
    assert {post.row(SEED, r) for r in range(300)} == {1}


def test_apply_posterior_gives_the_replicates_scenario(scenario, posterior_file):
    post = load_posterior(posterior_file)
    for r in range(5):
        sc = apply_posterior(scenario, post, replicate=r, seed=SEED)
        i = post.row(SEED, r)
        assert sc.interventions[0].effect_size.mean == ROWS[EFFECT][i]
        assert sc.population.segments[0].contact_rates["campaign"] == ROWS[CONTACT][i]
    as_dict = apply_posterior(scenario.model_dump(mode="json"), post, replicate=3, seed=SEED)
    assert as_dict == apply_posterior(scenario, post, replicate=3, seed=SEED)


def test_compared_strategies_use_the_same_draws(posterior_file):
    post = load_posterior(posterior_file)
    b = scenario_dict("test-b")
    b["channels"][0]["referral_strength"] = 0.5
    res = compare([build(scenario_dict()), build(b)], replicates=8, seed=SEED, posterior=post)
    da, db = (res.runs[n].parameter_draws() for n in ("test", "test-b"))
    pd.testing.assert_frame_equal(da, db)
    ea = res.runs["test"].metric("efficacy_d", intervention="prog")
    eb = res.runs["test-b"].metric("efficacy_d", intervention="prog")
    assert ea.to_numpy() == pytest.approx(eb.to_numpy(), abs=0)
    assert len(set(da["row"])) > 1


# --------------------------------------------------------------------------- files
def calibration_dir(tmp_path: Path, table: pd.DataFrame) -> Path:
    d = tmp_path / "calibration"
    (d / "inputs").mkdir(parents=True)
    params = {
        "parameters": [
            {"path": EFFECT, "name": "effect", "prior": {"kind": "uniform", "low": 0, "high": 1}},
            {"path": CONTACT, "prior": {"kind": "uniform", "low": 0.001, "high": 0.2}},
        ]
    }
    (d / "inputs" / "parameters.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    table.to_parquet(d / "posterior.parquet")
    return d


def test_a_calibration_directory_maps_names_to_paths(tmp_path, scenario):
    table = pd.DataFrame({"effect": ROWS[EFFECT], CONTACT: ROWS[CONTACT], "weight": WEIGHTS})
    post = load_posterior(calibration_dir(tmp_path, table))
    assert post.paths == {"effect": EFFECT, CONTACT: CONTACT}
    assert post.file.endswith("posterior.parquet")
    assert post.bind(scenario).scenario(SEED, 0).interventions[0].effect_size.mean in ROWS[EFFECT]


def problems_of(path, scenario=None) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        post = load_posterior(path)
        post.bind(scenario)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("columns", "words"),
    [
        ({EFFECT: [0.2, 0.4]}, ["weight: required column is missing; columns:", EFFECT]),
        (
            {EFFECT: [0.2, 0.4], "weight": [0.5, -0.1]},
            ["weight[1]: Input should be greater than or equal to 0 (got -0.1)"],
        ),
        ({EFFECT: [0.2, 0.4], "weight": [0.0, 0.0]}, ["weight: the weights sum to 0"]),
        (
            {EFFECT: [0.2, math.nan], "weight": [1.0, 1.0]},
            [f"parameters.{EFFECT}[1]: Input should be a finite number (got nan)"],
        ),
        (
            {EFFECT: ["a", "b"], "weight": [1.0, 1.0]},
            [f"column '{EFFECT}': holds text or true/false; a posterior holds numbers only"],
        ),
        ({"weight": [1.0]}, ["parameters: Dictionary should have at least 1 item"]),
    ],
)
def test_bad_posterior_tables_name_file_field_and_value(tmp_path, columns, words):
    path = tmp_path / "posterior.csv"
    pd.DataFrame(columns).to_csv(path, index=False)
    text = "\n".join(problems_of(path))
    assert text.startswith(str(path))
    for w in words:
        assert w in text


def test_posterior_that_does_not_fit_the_scenario(tmp_path, scenario):
    path = tmp_path / "posterior.csv"
    pd.DataFrame(
        {
            "channels.campaign.referral_strengh": [0.1],
            "interventions.prog.duration_months": [2.0],
            "population.size": [100.0],
            "interventions.prog.effect_size.sd": [-0.5],
            "weight": [1.0],
        }
    ).to_csv(path, index=False)
    problems = problems_of(path, scenario)
    assert len(problems) == 3, problems
    text = "\n".join(problems)
    assert "column 'channels.campaign.referral_strengh': not in scenario 'test'" in text
    assert "referral_strength" in text  # the path error lists what exists
    assert "'population.size' of scenario 'test' holds 300; only fields holding a decimal" in text
    assert (
        "column 'interventions.prog.effect_size.sd'[row 0]: not allowed for "
        "'interventions.prog.effect_size.sd' of scenario 'test': Input should be greater than "
        "or equal to 0 (got -0.5)"
    ) in text


def test_unreadable_and_missing_files(tmp_path):
    bad = tmp_path / "posterior.parquet"
    bad.write_text("not parquet", encoding="utf-8")
    assert "cannot be read as Parquet" in problems_of(bad)[0]
    assert "file not found" in problems_of(tmp_path / "nothing")[0]


# --------------------------------------------------------------------------- command line
def test_cli_run_records_the_posterior_in_run_json(tmp_path, posterior_file):
    sc = tmp_path / "sc.yaml"
    sc.write_text(yaml.safe_dump(scenario_dict()), encoding="utf-8")
    out = tmp_path / "out"
    args = ["run", str(sc), "-r", "4", "-s", str(SEED), "-q", "--out", str(out)]
    res = cli.invoke(app, [*args, "--posterior", str(posterior_file.parent)])
    assert res.exit_code == 0, res.output
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))["posterior"]
    assert info["path"] == str(posterior_file.resolve())
    assert info["sha256"] == hashlib.sha256(posterior_file.read_bytes()).hexdigest()
    post = load_posterior(posterior_file)
    assert info["drawn_rows"] == [post.row(SEED, r) for r in range(4)]
    assert info["parameters"] == {EFFECT: EFFECT, CONTACT: CONTACT}
    assert load_run_dir(out).summary["replicate"].nunique() == 4  # readers accept it
    res = cli.invoke(app, [*args, "--out", str(tmp_path / "plain")])
    assert "posterior" not in json.loads((tmp_path / "plain" / "run.json").read_text())


def test_cli_refuses_a_bad_posterior_with_exit_2(tmp_path):
    sc = tmp_path / "sc.yaml"
    sc.write_text(yaml.safe_dump(scenario_dict()), encoding="utf-8")
    path = tmp_path / "posterior.csv"
    pd.DataFrame({"channels.nope.referral_strength": [0.1], "weight": [-1.0]}).to_csv(
        path, index=False
    )
    for command in (["run", str(sc)], ["compare", str(sc), str(sc)]):
        res = cli.invoke(app, [*command, "--posterior", str(path), "--out", str(tmp_path / "o")])
        assert res.exit_code == 2, res.output
        assert f"{path}: weight[0]: Input should be greater than or equal to 0" in res.output
        assert "Traceback" not in res.output
    pd.DataFrame({"channels.nope.referral_strength": [0.1], "weight": [1.0]}).to_csv(
        path, index=False
    )
    res = cli.invoke(app, ["run", str(sc), "--posterior", str(path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert "column 'channels.nope.referral_strength': not in scenario 'test'" in res.output
