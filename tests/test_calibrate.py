"""Calibration: input validation, observation models, parameter recovery, outputs."""

from __future__ import annotations

import math

import pytest

from helpers import base_dict, build
from impactsim.calibrate.priors import parse_parameters, support
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
    (p,) = target_problems(scenario, target(metric="use_provider_share"))
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
