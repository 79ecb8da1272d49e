"""Channel-use targets and parameters that set several fields (``*``, ``relative``).

Expected values: the package's contact rates per month (scenarios/package.yaml: online
0.20, 0.15, 0.06 for segments with shares 0.45, 0.35, 0.20) and the formula of
``impactsim.calibrate.exposure``: the share contacted in a year is
``sum_s share_s (1 - exp(-12 rate_s))``, written out below by hand.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers import base_dict, build
from impactsim.calibrate.exposure import contact_share
from impactsim.calibrate.priors import parse_parameters
from impactsim.calibrate.simulator import Simulator
from impactsim.calibrate.targets import parse_targets
from impactsim.loading import ScenarioError, load_scenario
from impactsim.posterior import load_posterior

ROOT = Path(__file__).resolve().parents[1]
ONLINE = "population.segments.*.contact_rates.online"


@pytest.fixture(scope="module")
def package():
    return load_scenario(ROOT / "scenarios" / "package.yaml")


def by_hand(rates: list[float], months: float) -> float:
    shares = [0.45, 0.35, 0.20]
    return sum(w * (1 - math.exp(-r * months)) for w, r in zip(shares, rates, strict=True))


def test_contact_share_by_hand(package):
    assert contact_share(package, "online", "all", (1, 12)) == pytest.approx(
        by_hand([0.20, 0.15, 0.06], 12), rel=1e-12
    )
    assert by_hand([0.20, 0.15, 0.06], 12) == pytest.approx(0.8040, abs=5e-5)
    # one segment; one month; the whole horizon (60 months)
    assert contact_share(package, "online", "lower_ses_migration", (1, 12)) == pytest.approx(
        1 - math.exp(-0.72)
    )
    assert contact_share(package, "media", "all", (3, 3)) == pytest.approx(
        by_hand([0.10, 0.10, 0.06], 1)
    )
    assert contact_share(package, "online") == pytest.approx(by_hand([0.20, 0.15, 0.06], 60))


def test_contact_share_counts_active_months_and_targeted_categories():
    d = base_dict(size=100, months=24)
    d["population"]["segments"][0]["contact_rates"]["campaign"] = 0.1
    d["channels"][0].update(start_month=6, end_month=18, target_adopter_categories=["innovators"])
    sc = build(d)
    # months 1-12 = time 0-12, active from 6: 6 months; innovators are 2.5 % of parents
    assert contact_share(sc, "campaign", "all", (1, 12)) == pytest.approx(
        0.025 * (1 - math.exp(-0.6))
    )
    assert contact_share(sc, "campaign", "all", (19, 24)) == 0.0


def channel_target(**over) -> dict:
    t = {
        "name": "websites",
        "metric": "channel_contact_share",
        "channel": "online",
        "months": [1, 12],
        "observed": {"model": "binomial", "count": 458, "n": 754},
    }
    t.update(over)
    return t


def test_channel_targets_are_validated(package):
    ok = parse_targets({"targets": [channel_target()]}, package).items
    assert ok[0].channel == "online"
    bad = [
        channel_target(name="a", channel="all"),
        channel_target(name="b", channel="word_of_mouth"),
        channel_target(name="c", channel="websites"),
        channel_target(name="d", observed={"model": "poisson", "count": 3}),
    ]
    with pytest.raises(ScenarioError) as info:
        parse_targets({"targets": bad}, package, file="t.yaml")
    text = "\n".join(map(str, info.value.problems))
    assert "t.yaml: targets[0:a].channel: channel_contact_share is the share of parents one " in (
        text
    )
    assert "targets[1:b].channel" in text and "(got 'word_of_mouth')" in text
    assert "targets[2:c].channel: no channel of that name in the scenario" in text
    assert "targets[3:d].observed.model: the poisson model needs a count" in text


def test_a_relative_parameter_scales_every_matched_field(package):
    params = parse_parameters(
        {
            "parameters": [
                {
                    "path": ONLINE,
                    "name": "online_use",
                    "relative": True,
                    "prior": {"kind": "loguniform", "low": 0.1, "high": 3},
                },
                {"path": "population.segments.*.relative_degree", "prior": _uniform(0.5, 2)},
            ]
        },
        package,
    )
    rel, tied = params.items
    assert [loc[2] for loc in rel.locs] == [0, 1, 2]
    assert rel.bases == (0.20, 0.15, 0.06) and rel.base_value == 1.0
    sim = Simulator(package.model_dump(mode="json"), {p.label: p for p in params.items}, [], 1, 1)
    sc = sim.scenario({"online_use": 0.5, tied.label: 1.5})
    assert [s.contact_rates["online"] for s in sc.population.segments] == pytest.approx(
        [0.10, 0.075, 0.03]
    )
    assert [s.relative_degree for s in sc.population.segments] == [1.5, 1.5, 1.5]
    assert contact_share(sc, "online", "all", (1, 12)) == pytest.approx(
        by_hand([0.10, 0.075, 0.03], 12)
    )


def _uniform(low: float, high: float) -> dict:
    return {"kind": "uniform", "low": low, "high": high}


def test_bad_wildcard_and_relative_parameters(package):
    bad = [
        {"path": "population.*.share", "prior": _uniform(0, 1)},
        {
            "path": "population.segments.*.contact_rates.forum",
            "relative": True,
            "prior": _uniform(0, 1),
        },
        {
            "path": "population.segments.*.contact_rates.media",
            "relative": True,
            "prior": _uniform(1, 20000),
        },
    ]
    with pytest.raises(ScenarioError) as info:
        parse_parameters({"parameters": bad}, package, file="p.yaml")
    text = "\n".join(map(str, info.value.problems))
    assert "p.yaml: parameters[0:population.*.share].path: '*' stands for every item of a " in text
    assert "holds no value in the scenario, so a relative value has nothing to scale" in text
    assert "the prior's highest value (20000, times the field's value) is not allowed" in text


def test_a_posterior_of_relative_parameters_scales_the_scenario(tmp_path, package):
    d = tmp_path / "calibration"
    (d / "inputs").mkdir(parents=True)
    spec = {"parameters": [{"path": ONLINE, "name": "online_use", "relative": True}]}
    (d / "inputs" / "parameters.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    pd.DataFrame({"online_use": [0.5], "weight": [1.0]}).to_parquet(d / "posterior.parquet")
    post = load_posterior(d)
    assert post.relative == frozenset({"online_use"})
    sc = post.bind(package).scenario(seed=1, replicate=0)
    assert [s.contact_rates["online"] for s in sc.population.segments] == pytest.approx(
        [0.10, 0.075, 0.03]
    )
