"""Baseline regression: the headline numbers that ``tests/baseline.yaml`` pins down.

See ``docs/validation.md``: :func:`compute_baseline` runs every scenario of
:func:`baseline_sources` with :data:`BASELINE_SETTINGS` and :func:`compare_values` lists
what drifted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from impactsim.loading import default_scenario_path, load_scenario, parse_scenario
from impactsim.scenario import Scenario

if TYPE_CHECKING:
    from impactsim.runner import RunResult


#: Overrides applied to every scenario for the baseline regression (recorded in the file).
BASELINE_SETTINGS: dict[str, int] = {
    "seed": 20240601,
    "replicates": 2,
    "population_size": 2000,
    "max_months": 36,
}

#: Summary metrics pinned by the baseline: (metric, level). Level ``all`` is the total
#: row (segment, intervention, channel, adopter category and outcome ``all``);
#: ``intervention`` stores one value per offered intervention, ``outcome`` one per outcome
#: of a scenario with several. Listed explicitly so that metrics added to
#: the summary later do not change the baseline.
BASELINE_METRICS: tuple[tuple[str, str], ...] = (
    ("reach_cumulative", "all"),
    ("reach_direct", "intervention"),
    ("reach_indirect", "all"),
    ("enrolments", "intervention"),
    ("completions", "intervention"),
    ("prevalence", "all"),
    ("prevalence_counterfactual", "all"),
    ("public_impact_pp", "all"),
    ("cases_prevented", "all"),
    ("realized_effect_share", "all"),
    ("mean_gain_sd", "all"),
    ("differential_impact_gap_pp", "all"),
    ("efficacy_d", "all"),
    ("effectiveness_d", "all"),
    ("use_provider_share", "all"),
    ("prevalence", "outcome"),
    ("public_impact_pp", "outcome"),
    ("realized_effect_share", "outcome"),
)


def metric_label(metric: str, level: str) -> str:
    """How the baseline file lists a pinned metric: ``metric``, ``metric (per intervention)``.

    Also the key of its values; a metric pinned per outcome is kept only for scenarios with
    several outcomes (``metric (per outcome)``, values by outcome name).
    """
    return metric if level == "all" else f"{metric} (per {level})"


#: Key of the built-in default scenario in the baseline file.
BUILTIN_DEFAULT_KEY = "builtin/default.yaml"


def baseline_sources(scenarios_dir: str | Path) -> dict[str, Path]:
    """Scenario files covered by the baseline: the built-in default and ``scenarios/*.yaml``.

    Args:
        scenarios_dir: the repository's ``scenarios`` directory (may be missing or empty).

    Returns:
        ``{key: path}`` sorted by key; keys are ``builtin/default.yaml`` and
        ``scenarios/<file name>``.
    """
    out = {BUILTIN_DEFAULT_KEY: default_scenario_path()}
    directory = Path(scenarios_dir)
    for path in sorted(directory.glob("*.yaml")) if directory.is_dir() else []:
        out[f"scenarios/{path.name}"] = path
    return dict(sorted(out.items()))


def baseline_scenario(path: str | Path, settings: Mapping[str, int]) -> Scenario:
    """Load a scenario file and apply the baseline overrides (size, horizon).

    Args:
        path: scenario YAML file.
        settings: ``population_size`` and ``max_months`` (see :data:`BASELINE_SETTINGS`).

    Returns:
        The reduced scenario, validated again.
    """
    data = load_scenario(path).model_dump(mode="json")
    data["population"]["size"] = int(settings["population_size"])
    data["simulation"]["months"] = min(data["simulation"]["months"], int(settings["max_months"]))
    return parse_scenario(data, str(path))


def _mean(values: Any) -> float:
    arr = np.asarray(values, dtype=float)
    return float(arr.mean()) if arr.size else math.nan


def baseline_values(result: RunResult) -> dict[str, Any]:
    """Headline numbers of a run: the mean over replicates of :data:`BASELINE_METRICS`.

    Args:
        result: a run result.

    Returns:
        ``{metric: value}`` for level ``all``, ``{metric: {intervention: value}}`` for
        level ``intervention`` and ``{"metric (per outcome)": {outcome: value}}`` for
        level ``outcome``; metrics absent from the summary are left out.
    """
    out: dict[str, Any] = {}
    interventions = [o.intervention for o in result.scenario.strategy.offers]
    outcomes = [o.name for o in result.scenario.outcomes]
    for metric, level in BASELINE_METRICS:
        if level == "outcome":
            per = {o: _mean(result.metric(metric, outcome=o)) for o in outcomes}
            if per:
                out[metric_label(metric, level)] = per
        elif level == "intervention":
            per = {}
            for iv in interventions:
                values = result.metric(metric, intervention=iv)
                if len(values):
                    per[iv] = _mean(values)
            if per:
                out[metric] = per
        else:
            values = result.metric(metric)
            if len(values):
                out[metric] = _mean(values)
    return out


def compute_baseline(
    sources: Mapping[str, Path], settings: Mapping[str, int] = BASELINE_SETTINGS
) -> dict[str, dict[str, Any]]:
    """Run every scenario with the baseline overrides and collect its headline numbers.

    Args:
        sources: ``{key: scenario file}``, e.g. from :func:`baseline_sources`.
        settings: seed, replicates, population size and maximum horizon.

    Returns:
        ``{key: {"name": scenario name, "values": baseline_values(...)}}``.
    """
    from impactsim.runner import run

    out: dict[str, dict[str, Any]] = {}
    for key, path in sources.items():
        sc = baseline_scenario(path, settings)
        res = run(sc, replicates=settings["replicates"], seed=settings["seed"], progress=False)
        out[key] = {"name": sc.name, "values": baseline_values(res)}
    return out


def compare_values(
    expected: Mapping[str, Any], actual: Mapping[str, Any], rel: float = 1e-9, abs_: float = 1e-12
) -> list[str]:
    """Differences between two :func:`baseline_values` mappings.

    Args:
        expected: values from the baseline file.
        actual: values computed now.
        rel: relative tolerance.
        abs_: absolute tolerance.

    Returns:
        One line per metric that drifted, appeared or disappeared (empty if none).
    """

    def flat(values: Mapping[str, Any]) -> dict[str, float]:
        items: dict[str, float] = {}
        for metric, value in values.items():
            if isinstance(value, Mapping):
                items.update({f"{metric}[{iv}]": float(v) for iv, v in value.items()})
            else:
                items[metric] = float(value)
        return items

    exp, act = flat(expected), flat(actual)
    lines = []
    for key in sorted(exp.keys() | act.keys()):
        if key not in act:
            lines.append(f"{key}: in the baseline ({exp[key]!r}) but no longer computed")
        elif key not in exp:
            lines.append(f"{key}: computed now ({act[key]!r}) but not in the baseline")
        else:
            a, b = exp[key], act[key]
            same = (math.isnan(a) and math.isnan(b)) or math.isclose(
                a, b, rel_tol=rel, abs_tol=abs_
            )
            if not same:
                lines.append(f"{key}: baseline {a!r}, now {b!r} (difference {b - a:+.3g})")
    return lines
