"""Baseline regression: the headline numbers of every scenario must not drift unnoticed.

tests/baseline.yaml holds, for the built-in default scenario and every scenarios/*.yaml, the
mean over replicates of a fixed list of summary metrics, computed at a fixed seed and
replicate count with a reduced population and horizon (the overrides are in the file). The
engine is deterministic for a given seed (keyed random numbers, independent of threads), so
the numbers must be reproduced up to float noise: relative 1e-9, absolute 1e-12.

When a change to the numbers is intended, rewrite the file with ``make baseline``
(``.venv/bin/python scripts/update_baseline.py``) and explain in the commit message why the
numbers changed.
"""

from pathlib import Path

import pytest
import yaml

from impactsim import validation as v
from impactsim.validation.baseline import metric_label

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "tests" / "baseline.yaml"
UPDATE = (
    "If this change is intended, rewrite the baseline with `make baseline` "
    "(.venv/bin/python scripts/update_baseline.py) and explain in the commit message why "
    "the numbers changed."
)


def load_baseline() -> dict:
    if not BASELINE.exists():
        return {}
    return yaml.safe_load(BASELINE.read_text(encoding="utf-8")) or {}


BASE = load_baseline()
# scenarios are globbed when the tests are collected, so new files are picked up at once
SOURCES = v.baseline_sources(ROOT / "scenarios")
KEYS = sorted(set(SOURCES) | set(BASE.get("scenarios") or {}))


def test_baseline_file_is_current():
    assert BASE, f"{BASELINE} is missing or empty. {UPDATE}"
    # the overrides and metric list the file was made with are the ones the code uses now
    assert BASE["settings"] == v.BASELINE_SETTINGS, (
        f"baseline settings {BASE['settings']} differ from BASELINE_SETTINGS "
        f"{v.BASELINE_SETTINGS}. {UPDATE}"
    )
    metrics = [metric_label(m, lvl) for m, lvl in v.BASELINE_METRICS]
    assert BASE["metrics"] == metrics, f"the baseline's metric list is out of date. {UPDATE}"
    assert BASE["tolerance"] == {"rel": 1e-9, "abs": 1e-12}


@pytest.mark.parametrize("key", KEYS)
def test_scenario_matches_baseline(key):
    assert BASE, f"{BASELINE} is missing or empty. {UPDATE}"
    scenarios = BASE.get("scenarios") or {}
    if key not in SOURCES:
        pytest.fail(
            f"{BASELINE.name} lists {key}, but that scenario file no longer exists. {UPDATE}"
        )
    if key not in scenarios:
        pytest.fail(f"{key} has no entry in {BASELINE.name}. {UPDATE}")
    settings = BASE["settings"]
    got = v.compute_baseline({key: SOURCES[key]}, settings)[key]
    expected = scenarios[key]
    tol = BASE["tolerance"]
    drift = v.compare_values(expected["values"], got["values"], rel=tol["rel"], abs_=tol["abs"])
    if got["name"] != expected["name"]:
        drift.insert(0, f"scenario name: baseline {expected['name']!r}, now {got['name']!r}")
    assert not drift, (
        f"{key} drifted from {BASELINE.name} (seed {settings['seed']}, "
        f"{settings['replicates']} replicates, {settings['population_size']} parents, "
        f"at most {settings['max_months']} months):\n  " + "\n  ".join(drift) + f"\n{UPDATE}"
    )


def test_compare_values_detects_drift():
    # the comparison itself: float noise passes, anything larger or a changed metric set fails
    base = {"prevalence": 0.1, "reach_direct": {"a": 0.2}, "gap": float("nan")}
    assert (
        v.compare_values(
            base, {"prevalence": 0.1 * (1 + 1e-12), "reach_direct": {"a": 0.2}, "gap": float("nan")}
        )
        == []
    )
    assert len(v.compare_values(base, {**base, "prevalence": 0.1 + 1e-6})) == 1
    assert len(v.compare_values(base, {**base, "reach_direct": {"a": 0.2, "b": 0.1}})) == 1
    assert len(v.compare_values(base, {"prevalence": 0.1, "gap": 1.0})) == 2
