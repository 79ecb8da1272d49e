"""Calibration: input validation, observation models, parameter recovery, outputs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats
from typer.testing import CliRunner

from helpers import base_dict, build
from impactsim.calibrate.checks import weighted_quantiles
from impactsim.calibrate.observation import (
    log_likelihood,
    max_log_likelihood,
    replicate_log_likelihood,
)
from impactsim.calibrate.priors import parse_parameters, support
from impactsim.calibrate.schema import Binomial, NegativeBinomial, NormalObservation, Poisson
from impactsim.calibrate.targets import load_targets, parse_targets
from impactsim.loading import ScenarioError

CONTACT = "population.segments.all_parents.contact_rates.campaign"
TRUE_CONTACT = 0.03


def scenario_dict(size: int = 200, months: int = 12) -> dict:
    d = base_dict(size=size, months=months)
    d["population"]["segments"][0]["contact_rates"]["campaign"] = TRUE_CONTACT
    return d


@pytest.fixture(scope="module")
def scenario():
    return build(scenario_dict())


def target(**over) -> dict:
    t = {
        "name": "reach",
        "metric": "reach_cumulative",
        "month": 12,
        "observed": {"model": "binomial", "count": 27, "n": 100},
    }
    t.update(over)
    return t


def param(**over) -> dict:
    p = {
        "path": CONTACT,
        "name": "contact",
        "prior": {"kind": "uniform", "low": 0.005, "high": 0.1},
    }
    p.update(over)
    return p


def target_problems(scenario, *targets) -> list:
    with pytest.raises(ScenarioError) as info:
        parse_targets({"targets": list(targets)}, scenario, file="targets.yaml")
    return info.value.problems


def param_problems(scenario, *params) -> list:
    with pytest.raises(ScenarioError) as info:
        parse_parameters({"parameters": list(params)}, scenario, file="params.yaml")
    return info.value.problems


# --------------------------------------------------------------------------- validation
def test_valid_targets_and_parameters(scenario):
    t = parse_targets({"targets": [target()]}, scenario, file="targets.yaml")
    assert [x.name for x in t.items] == ["reach"]
    p = parse_parameters({"parameters": [param()]}, scenario, file="params.yaml")
    assert p.labels == ["contact"]
    assert p.items[0].loc == ("population", "segments", 0, "contact_rates", "campaign")


def test_unknown_metric_names_file_field_value_and_allowed(scenario):
    (p,) = target_problems(scenario, target(metric="reach_cumulativ"))
    text = str(p)
    assert text.startswith("targets.yaml: targets[0:reach].metric:")
    assert "unknown metric" in text and "(got 'reach_cumulativ')" in text
    assert "reach_cumulative" in p.message  # the allowed names are listed


def test_summary_only_metric_with_a_month(scenario):
    (p,) = target_problems(scenario, target(metric="completion_rate"))
    assert p.path == "targets[0:reach].metric" and "horizon only" in p.message


def test_month_beyond_horizon(scenario):
    (p,) = target_problems(scenario, target(month=30))
    assert (p.file, p.path, p.value) == ("targets.yaml", "targets[0:reach].month", "30")
    assert "horizon of 12 months" in p.message
    (p,) = target_problems(scenario, target(month=None, months=[3, 13]))
    assert p.path == "targets[0:reach].months" and p.value == "13"


def test_count_larger_than_n(scenario):
    (p,) = target_problems(scenario, target(observed={"model": "binomial", "count": 120, "n": 100}))
    assert p.file == "targets.yaml" and p.path.startswith("targets[0:reach].observed")
    assert "count must not exceed n" in p.message and "120 of 100" in p.message


def test_unknown_segment_and_wrong_model_for_metric(scenario):
    problems = target_problems(
        scenario,
        target(segment="rich"),
        target(name="pp", metric="public_impact_pp", month=None),
    )
    seg, model = problems
    assert seg.path == "targets[0:reach].segment" and "all_parents" in seg.message
    assert model.path == "targets[1:pp].observed.model" and "normal model" in model.message


def test_unknown_observation_model_and_duplicate_name(scenario):
    problems = target_problems(scenario, target(observed={"model": "binomal", "count": 1, "n": 2}))
    assert any("binomial" in p.message and "poisson" in p.message for p in problems)
    problems = target_problems(scenario, target(), target())
    assert [p.path for p in problems] == ["targets[1:reach].name"]


def test_targets_csv_reads_like_yaml(scenario, tmp_path):
    f = tmp_path / "targets.csv"
    f.write_text(
        "name,metric,month,first_month,last_month,intervention,model,count,n\n"
        "reach,reach_cumulative,12,,,all,binomial,27,100\n"
        "enrol,enrolments,,1,12,prog,poisson,80,\n"
    )
    t = load_targets(f, scenario)
    assert [x.months for x in t.items] == [None, (1, 12)]
    f.write_text("name,metric,month,model,count,n\nreach,reach_cumulative,12,binomial,x,100\n")
    with pytest.raises(ScenarioError) as info:
        load_targets(f, scenario)
    assert "targets[0:reach].observed.count" in str(info.value)


def test_unknown_parameter_path(scenario):
    (p,) = param_problems(scenario, param(path="population.segments.all_parents.contact_rate"))
    assert p.file == "params.yaml" and p.path.startswith("parameters[0:")
    assert p.path.endswith(".path") and "contact_rate" in p.value


def test_prior_outside_the_fields_allowed_range(scenario):
    path = "population.segments.all_parents.baseline_prevalence"
    (p,) = param_problems(
        scenario, param(path=path, prior={"kind": "uniform", "low": 0.1, "high": 1.5})
    )
    assert p.path == f"parameters[0:{path}].prior"
    assert "highest value (1.5)" in p.message and "baseline_prevalence" in p.message
    # an unbounded normal reaches below 0 and above 1000: refused unless truncated
    low, high = param_problems(scenario, param(prior={"kind": "normal", "mean": 0.03, "sd": 0.01}))
    assert "lowest value (unbounded)" in low.message and "greater than or equal to 0" in low.message
    assert "highest value (unbounded)" in high.message
    truncated = {"kind": "normal", "mean": 0.03, "sd": 0.01, "low": 0.0, "high": 1.0}
    parse_parameters({"parameters": [param(prior=truncated)]}, scenario)


@pytest.mark.parametrize(
    ("prior", "field", "words"),
    [
        ({"kind": "uniform", "low": 0.2, "high": 0.1}, "prior", "low must be below high"),
        ({"kind": "beta", "alpha": 0.0, "beta": 2.0}, "prior.alpha", "greater than 0"),
        ({"kind": "loguniform", "low": 0.0, "high": 1.0}, "prior.low", "greater than 0"),
        ({"kind": "gamma", "shape": 2.0}, "prior.scale", "missing"),
        ({"kind": "cauchy", "low": 0.0}, "prior", "uniform"),
    ],
)
def test_bad_prior_parameters(scenario, prior, field, words):
    problems = param_problems(scenario, param(prior=prior))
    assert any(field in p.path and words in p.message for p in problems), problems
    assert all(p.file == "params.yaml" for p in problems)


def test_whole_number_and_section_paths_are_refused(scenario):
    (p,) = param_problems(scenario, param(path="providers.platform.count"))
    assert "whole number" in p.message
    (p,) = param_problems(scenario, param(path="population.segments.all_parents.contact_rates"))
    assert "section" in p.message


def test_prior_support():
    from impactsim.calibrate.schema import GammaPrior, NormalPrior

    assert support(NormalPrior(kind="normal", mean=0, sd=1, low=-1)) == (-1.0, math.inf)
    assert support(GammaPrior(kind="gamma", shape=2, scale=1, low=0.5)) == (0.5, math.inf)


# --------------------------------------------------------------------------- observation models
def test_binomial_log_likelihood_by_hand():
    obs = Binomial(model="binomial", count=19, n=1000)
    p = np.array([0.01, 0.019, 0.05])
    by_hand = [math.log(math.comb(1000, 19)) + 19 * math.log(q) + 981 * math.log(1 - q) for q in p]
    np.testing.assert_allclose(log_likelihood(obs, p), by_hand, rtol=1e-10)
    assert max_log_likelihood(obs) == pytest.approx(by_hand[1])
    assert log_likelihood(obs, np.array([np.nan, 0.0]))[0] == -np.inf
    assert log_likelihood(obs, np.array([0.0]))[0] == -np.inf  # 19 of 1000 cannot come from p=0


def test_count_and_normal_log_likelihoods_by_hand():
    lam = np.array([50.0, 80.0])
    obs = Poisson(model="poisson", count=80, scale=2.0)
    by_hand = [80 * math.log(2 * x) - 2 * x - math.lgamma(81) for x in lam]
    np.testing.assert_allclose(log_likelihood(obs, lam), by_hand, rtol=1e-10)

    nb = NegativeBinomial(model="negative_binomial", count=80, dispersion=5.0)
    r = 5.0
    by_hand = [
        math.lgamma(80 + r)
        - math.lgamma(r)
        - math.lgamma(81)
        + r * math.log(r / (r + m))
        + 80 * math.log(m / (r + m))
        for m in lam
    ]
    np.testing.assert_allclose(log_likelihood(nb, lam), by_hand, rtol=1e-10)
    assert max_log_likelihood(nb) == pytest.approx(float(stats.nbinom.logpmf(80, r, r / 85)))

    normal = NormalObservation(model="normal", value=0.607, se=0.02)
    x = np.array([0.6, 0.65])
    by_hand = [-0.5 * math.log(2 * math.pi * 0.02**2) - (0.607 - v) ** 2 / (2 * 0.02**2) for v in x]
    np.testing.assert_allclose(log_likelihood(normal, x), by_hand, rtol=1e-10)


def test_replicate_spread_widens_the_observation_model():
    obs = Binomial(model="binomial", count=19, n=1000)
    same = np.full(4, 0.02)
    assert replicate_log_likelihood(obs, same) == pytest.approx(float(log_likelihood(obs, same)[0]))
    x = np.array([0.01, 0.02, 0.03, 0.02])
    m, v = x.mean(), x.var(ddof=1)
    kappa = m * (1 - m) / v - 1  # beta with the replicates' mean and variance
    a, b = m * kappa, (1 - m) * kappa
    by_hand = (
        math.log(math.comb(1000, 19))
        + math.lgamma(19 + a)
        + math.lgamma(981 + b)
        - math.lgamma(1000 + a + b)
        - (math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))
    )
    assert replicate_log_likelihood(obs, x) == pytest.approx(by_hand, rel=1e-10)

    pois = Poisson(model="poisson", count=80, scale=2.0)
    y = np.array([30.0, 40.0, 50.0])
    mean, extra = 2 * y.mean(), 4 * y.var(ddof=1)
    r = mean**2 / extra  # gamma-Poisson: negative binomial with variance mean + extra
    by_hand = (
        math.lgamma(80 + r)
        - math.lgamma(r)
        - math.lgamma(81)
        + r * math.log(r / (r + mean))
        + 80 * math.log(mean / (r + mean))
    )
    assert replicate_log_likelihood(pois, y) == pytest.approx(by_hand, rel=1e-10)

    normal = NormalObservation(model="normal", value=0.6, se=0.02)
    z = np.array([0.55, 0.65])
    sd = math.sqrt(0.02**2 + z.var(ddof=1))
    assert replicate_log_likelihood(normal, z) == pytest.approx(stats.norm.logpdf(0.6, 0.6, sd))
    assert replicate_log_likelihood(obs, np.array([0.02, np.nan])) == -math.inf


def test_weighted_quantiles():
    x = np.array([3.0, 1.0, 2.0, 4.0])
    w = np.array([1.0, 1.0, 0.0, 2.0])
    np.testing.assert_allclose(weighted_quantiles(x, w, [0.1, 0.5, 0.9]), [1.0, 3.0, 4.0])


# --------------------------------------------------------------------------- recovery
def reach_at(contact: float, seed: int, replicates: int, size: int = 200) -> float:
    """The model's reach at month 12 for a contact rate: mean over ``replicates``."""
    from impactsim.calibrate.simulator import Simulator

    sc = build(scenario_dict(size=size))
    targets = parse_targets({"targets": [target()]}, sc).items
    loc = ("population", "segments", 0, "contact_rates", "campaign")
    sim = Simulator(sc.model_dump(mode="json"), {"contact": loc}, targets, replicates, seed)
    return float(np.mean(sim.values({"contact": contact})[:, 0]))


def recover(scenario, k: int, n: int, tmp: Path, seed: int, population: int = 30, reps: int = 4):
    """Posterior 5 %, 50 % and 95 % quantiles of the contact rate from k of n."""
    from impactsim.calibrate.inference import Settings, posterior_table, run_abc
    from impactsim.calibrate.simulator import Simulator

    targets = parse_targets(
        {"targets": [target(observed={"model": "binomial", "count": k, "n": n})]}, scenario
    )
    prior = {"kind": "loguniform", "low": 0.005, "high": 0.1}
    params = parse_parameters({"parameters": [param(prior=prior)]}, scenario)
    sim = Simulator(
        scenario.model_dump(mode="json"), {"contact": params.items[0].loc}, targets.items, reps, 11
    )
    settings = Settings(population=population, generations=6, seed=seed)
    history = run_abc(sim, params, tmp / f"abc_{n}_{seed}.db", settings)
    post = posterior_table(history, ["contact"])
    w = post["weight"].to_numpy()
    return weighted_quantiles(post["contact"].to_numpy(), w, (0.05, 0.5, 0.95))


def test_parameter_recovery_and_narrowing_with_sample_size(scenario, tmp_path):
    """Survey data from the model's expected reach at a known contact rate (other seeds)."""
    reach = reach_at(TRUE_CONTACT, seed=5, replicates=16)
    widths = {}
    for n in (100, 10_000):
        k = int(np.random.default_rng(n).binomial(n, reach))
        lo, _, hi = recover(scenario, k, n, tmp_path, seed=3)
        assert lo <= TRUE_CONTACT <= hi, (n, k, lo, hi)
        widths[n] = hi - lo
    assert widths[10_000] < 0.8 * widths[100], widths


@pytest.mark.slow_calibration
def test_coverage_of_90_percent_intervals_over_synthetic_data_sets(scenario, tmp_path):
    """>= 80 % of 12 synthetic data sets are covered by their 90 % credible interval.

    Each data set: a contact rate drawn from the prior's middle, one simulated municipality
    (its own seed) and a survey of 1000 parents; 8 replicates per candidate give the
    municipality-to-municipality spread.
    """
    rng = np.random.default_rng(2024)
    truths = np.exp(rng.uniform(math.log(0.01), math.log(0.08), size=12))
    covered = []
    for i, truth in enumerate(truths):
        reach = reach_at(float(truth), seed=100 + i, replicates=1)
        k = int(rng.binomial(1000, reach))
        lo, _, hi = recover(scenario, k, 1000, tmp_path, seed=200 + i, population=60, reps=8)
        covered.append(bool(lo <= truth <= hi))
    assert np.mean(covered) >= 0.8, list(zip(truths, covered, strict=True))


# --------------------------------------------------------------------------- outputs and CLI
def write_inputs(tmp_path: Path, count: int, n: int) -> list[str]:
    files = {
        "scenario.yaml": scenario_dict(),
        "targets.yaml": {
            "targets": [
                target(observed={"model": "binomial", "count": count, "n": n}),
                target(
                    name="enrol",
                    metric="enrolments",
                    month=None,
                    months=[1, 12],
                    intervention="prog",
                    observed={"model": "poisson", "count": 60},
                ),
            ]
        },
        "params.yaml": {"parameters": [param()]},
    }
    for name, doc in files.items():
        (tmp_path / name).write_text(yaml.safe_dump(doc))
    return [str(tmp_path / name) for name in files]


def test_calibration_writes_outputs_and_reports_a_missed_target(tmp_path):
    """Reach 95 % is out of reach (the prior's highest contact rate gives about 70 %)."""
    from impactsim.calibrate.inference import Settings
    from impactsim.calibrate.run import calibrate, load_inputs

    inputs = load_inputs(*write_inputs(tmp_path, 950, 1000))
    out = tmp_path / "out"
    res = calibrate(inputs, out, Settings(population=30, generations=3, seed=1), ppc_draws=20)
    for name in ("posterior.parquet", "diagnostics.csv", "ppc.csv", "summary.md", "parameters.csv"):
        assert (out / name).is_file(), name
    for name in ("marginals.png", "pairs.png", "ppc.png"):
        assert (out / "figures" / name).stat().st_size > 1000
    post = pd.read_parquet(out / "posterior.parquet")
    assert list(post.columns) == ["contact", "weight", "generation"]
    assert post["weight"].sum() == pytest.approx(1.0)
    diag = pd.read_csv(out / "diagnostics.csv")
    assert {"temperature", "acceptance_rate", "ess"} <= set(diag.columns)
    ppc = res.ppc.set_index("target")
    assert bool(ppc.loc["reach", "missed"]) and ppc.loc["reach", "missed_by"] > 0.1
    summary = (out / "summary.md").read_text()
    assert "**reach** (reach_cumulative): observed 0.95 lies" in summary
    info = json.loads((out / "calibration.json").read_text())
    assert info["status"] == "done" and "reach" in info["missed_targets"]
    assert (out / "inputs" / "scenario.resolved.yaml").is_file()

    # the same command again continues the stored run: nothing left to do
    again = calibrate(inputs, out, Settings(population=30, generations=3, seed=1), ppc_draws=20)
    assert again.info["resumed_from_generation"] == len(res.diagnostics)
    pd.testing.assert_frame_equal(again.posterior, res.posterior)
    # other inputs into the same directory are refused
    other = load_inputs(*write_inputs(tmp_path, 30, 100))
    with pytest.raises(ScenarioError, match="calibration of other inputs"):
        calibrate(other, out, Settings(population=30, generations=3, seed=1))


def test_two_worker_processes_after_the_parent_simulated(tmp_path):
    """The parent always simulates before the inference (the targets check): pyabc forked
    its workers from it, and numba's GNU OpenMP pool killed them ("At least one worker is
    dead"). They are spawned now."""
    from impactsim.calibrate.inference import Settings
    from impactsim.calibrate.run import calibrate, load_inputs

    inputs = load_inputs(*write_inputs(tmp_path, 30, 100))
    settings = Settings(population=5, generations=1, seed=1, workers=2)
    res = calibrate(inputs, tmp_path / "out", settings, replicates=1, ppc_draws=10)
    assert res.info["status"] == "done"
    assert len(res.posterior) == 5
    assert res.posterior["weight"].sum() == pytest.approx(1.0)


def test_cli_invalid_inputs_exit_2_with_every_problem(tmp_path):
    from impactsim.cli import app

    scen, targets, params = write_inputs(tmp_path, 120, 100)
    Path(params).write_text(yaml.safe_dump({"parameters": [param(path="channels.campaign.nope")]}))
    result = CliRunner().invoke(
        app, ["calibrate", scen, targets, params, "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "targets.yaml: targets[0:reach].observed" in result.output
    assert "params.yaml: parameters[0:channels.campaign.nope].path" in result.output
    assert not (tmp_path / "o").exists()


def test_example_calibration_files_are_valid():
    from impactsim.calibrate.run import load_inputs

    root = Path(__file__).resolve().parents[1] / "scenarios"
    inputs = load_inputs(
        root / "package.yaml",
        root / "calibration" / "targets.yaml",
        root / "calibration" / "params.yaml",
    )
    assert [t.name for t in inputs.targets.items] == [
        "participation_past_year",
        "provider_offer",
        "websites_use",
        "magazines_use",
        "social_media_use",
    ]
    assert inputs.targets.items[0].observed.count == round(0.019 * 754)
    # channel use of the CIKEO cohort (n = 754): 60.7, 50.6 (nearest count: 50.7), 25.9 %
    assert [round(100 * t.observed.observed, 1) for t in inputs.targets.items[2:]] == [
        60.7,
        50.7,
        25.9,
    ]
    assert len(inputs.parameters.items) == 7
    # the innovation factor scales the 4 provider types' rates, the contact factors 3 segments
    assert [len(p.locs) for p in inputs.parameters.items] == [1, 1, 1, 4, 3, 3, 3]


def test_candidates_run_only_the_months_their_targets_read():
    """A candidate cut to its targets' last month gives the full horizon's values.

    The targets read months 1-6 and month 9 of a 36-month scenario: the candidate runs
    9 months (``months_needed``), and its values equal those read from the 36-month run's
    tables (bit for bit, ``tests/test_horizon_cut.py``); a horizon target needs all 36.
    """
    from impactsim.calibrate.simulator import Simulator, months_needed, target_values
    from impactsim.runner import run

    sc = build(scenario_dict(size=300, months=36))
    targets = parse_targets(
        {
            "targets": [
                target(
                    name="enrolled",
                    metric="enrolments",
                    intervention="prog",
                    months=[1, 6],
                    month=None,
                    observed={"model": "poisson", "count": 5},
                ),
                target(
                    name="offer",
                    metric="use_provider_share",
                    month=9,
                    observed={"model": "normal", "value": 0.5, "se": 0.1},
                ),
            ]
        },
        sc,
    ).items
    assert months_needed(targets, 36) == 9
    horizon = target(
        name="h",
        metric="completion_rate",
        month=None,
        observed={"model": "normal", "value": 0.5, "se": 0.1},
    )
    assert months_needed([*targets, *parse_targets({"targets": [horizon]}, sc).items], 36) == 36
    loc = ("population", "segments", 0, "contact_rates", "campaign")
    sim = Simulator(sc.model_dump(mode="json"), {"contact": loc}, targets, 3, 7)
    assert sim.scenario({"contact": 0.05}).simulation.months == 9
    got = sim.values({"contact": 0.05})
    full = run(
        sim.scenario({"contact": 0.05}).model_copy(
            update={"simulation": sc.simulation.model_copy(update={"months": 36})}
        ),
        replicates=3,
        seed=7,
        progress=False,
    )
    assert full.scenario.simulation.months == 36
    for j, t in enumerate(targets):
        want = target_values(full.summary, full.timeseries, t).sort_index().to_numpy()
        np.testing.assert_array_equal(got[:, j], want)
    assert got[:, 0].sum() > 0  # enrolments happened: the comparison is not of zeros
