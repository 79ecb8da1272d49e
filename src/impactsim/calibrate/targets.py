"""Targets files: loading and validation against the base scenario.

A targets file is YAML (``targets: [...]``, see :class:`~impactsim.calibrate.schema.Target`)
or, for long tables, CSV with one target per row and the columns ``name, metric, month,
first_month, last_month, segment, intervention, channel, model, count, n, scale,
dispersion, value, se, description, source`` (empty cells are omitted).

Besides the schema, a target is checked against impactsim's outputs and the scenario: the
metric must be one of the summary's (no month) or time series' (``month`` or ``months``),
the months within the horizon, the segment, intervention and channel names of the
scenario, and the observation model must fit the metric's unit (binomial: a share;
Poisson and negative binomial: a count; normal: anything).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from impactsim.calibrate.exposure import CONTACT_SHARE
from impactsim.calibrate.schema import Target, TargetsFile
from impactsim.economics import ECONOMICS_METRICS
from impactsim.inputs import Problem, ScenarioError, short
from impactsim.loading import parse_yaml_text, read_input_bytes, validate_document
from impactsim.metrics import FAMILIES, METRICS, PSEUDO_CHANNELS
from impactsim.scenario import Scenario
from impactsim.tables import ALL

#: Metrics of a run's horizon summary (targets without a month).
SUMMARY_METRICS: tuple[str, ...] = (*METRICS, *ECONOMICS_METRICS)

#: Metrics of a run's monthly time series (targets with ``month`` or ``months``).
TIMESERIES_METRICS: tuple[str, ...] = (
    "reach_direct",
    "reach_cumulative",
    "reach_by_channel",
    "reach_indirect",
    "enrolled",
    "waiting",
    "enrolments",
    "providers_offering",
    "use_provider_share",
    FAMILIES,
    "prevalence",
    "prevalence_counterfactual",
    "public_impact_pp",
    "realized_effect_share",
)

#: Monthly counts of events: a month window sums them (everything else is averaged).
FLOW_METRICS = frozenset({"enrolments"})

#: Metrics that are shares (fractions 0-1): the binomial model's probability.
SHARE_METRICS = frozenset(
    {
        "reach_direct",
        "reach_cumulative",
        "reach_by_channel",
        "reach_indirect",
        "prevalence",
        "prevalence_counterfactual",
        "realized_effect_share",
        "completion_rate",
        "use_provider_share",
        "adopter_category_realized_share",
        "p_benefit_exceeds_cost",
        "p_cost_effective",
        CONTACT_SHARE,
    }
)

#: Metrics that are counts: the Poisson and negative binomial models' mean (times scale).
COUNT_METRICS = frozenset(
    {
        "enrolments",
        "completions",
        "dropouts",
        "gave_up_waiting",
        "waiting",
        "enrolled",
        "providers_offering",
        "participant_months",
        "cases_prevented",
        "participants",
        FAMILIES,
    }
)

#: CSV columns that belong to the observation model, and those holding whole numbers.
_OBSERVATION_COLUMNS = ("model", "count", "n", "scale", "dispersion", "value", "se")
_INT_COLUMNS = frozenset({"month", "first_month", "last_month", "count", "n"})


@dataclass(frozen=True)
class Targets:
    """A validated targets file.

    Attributes:
        spec: the file as validated.
        file: where it came from (for messages).
        source_text: the file's text (copied into the calibration directory).
    """

    spec: TargetsFile
    file: str
    source_text: str = ""

    @property
    def items(self) -> list[Target]:
        """The targets in file order."""
        return list(self.spec.targets)


# --------------------------------------------------------------------------- loading
def load_targets(path: str | os.PathLike[str], scenario: Scenario) -> Targets:
    """Load and validate a targets file (YAML, or CSV when the name ends in ``.csv``).

    Args:
        path: the targets file.
        scenario: the base scenario the targets refer to.

    Returns:
        The validated :class:`Targets`.

    Raises:
        ScenarioError: every problem, as ``file: field.path: message (got value)``.
    """
    p = Path(path)
    raw = read_input_bytes(p)
    if p.suffix.lower() == ".csv":
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ScenarioError(
                [Problem(str(path), "", "", f"not UTF-8 text (byte {exc.start})")]
            ) from None
        data: Any = {"targets": _csv_rows(text, str(path))}
    else:
        data = parse_yaml_text(raw, str(path))
        text = raw.decode("utf-8")
    return parse_targets(data, scenario, file=str(path), source_text=text)


def _csv_cell(column: str, text: str) -> Any:
    """A CSV cell as a number where it reads as one (validation reports the rest)."""
    try:
        return int(text) if column in _INT_COLUMNS else float(text)
    except ValueError:
        return text


def _csv_rows(text: str, file: str) -> list[dict[str, Any]]:
    """Targets from a CSV table: one row each, empty cells omitted."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "metric" not in reader.fieldnames:
        raise ScenarioError(
            [Problem(file, "", "", "a targets CSV needs a header row with at least 'metric'")]
        )
    rows: list[dict[str, Any]] = []
    numeric = {"month", "first_month", "last_month", *_OBSERVATION_COLUMNS[1:]}
    for row in reader:
        item: dict[str, Any] = {}
        obs: dict[str, Any] = {}
        first = last = None
        for key, cell in row.items():
            if key is None or cell is None or not str(cell).strip():
                continue
            value = _csv_cell(key, cell.strip()) if key in numeric else cell.strip()
            if key == "first_month":
                first = value
            elif key == "last_month":
                last = value
            elif key in _OBSERVATION_COLUMNS:
                obs[key] = value
            else:
                item[key] = value
        if first is not None or last is not None:
            item["months"] = [first, last]
        item["observed"] = obs
        rows.append(item)
    return rows


def parse_targets(
    data: Any, scenario: Scenario, file: str = "<targets>", source_text: str = ""
) -> Targets:
    """Validate already-parsed targets data against a scenario.

    Args:
        data: the parsed document.
        scenario: the base scenario.
        file: name used in messages.
        source_text: the file's text.

    Returns:
        The validated :class:`Targets`.

    Raises:
        ScenarioError: with every problem found.
    """
    spec = validate_document(TargetsFile, data, file, "targets")
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, t in enumerate(spec.targets):
        where = f"targets[{i}:{t.name}]"
        if t.name in seen:
            problems.append(
                Problem(
                    file,
                    f"{where}.name",
                    short(t.name),
                    f"name already used by targets[{seen[t.name]}]; names must be unique",
                )
            )
        seen.setdefault(t.name, i)
        problems += target_problems(t, scenario, file, where)
    if problems:
        raise ScenarioError(problems)
    return Targets(spec=spec, file=file, source_text=source_text)


# --------------------------------------------------------------------------- checks
def _names(values: list[str]) -> str:
    return ", ".join(values)


def _contact_problem(t: Target, scenario: Scenario, file: str, where: str) -> Problem | None:
    """A channel-use target must name one of the scenario's channels (calibrate.exposure)."""
    channels = [c.name for c in scenario.channels]
    if t.channel in channels:
        return None
    return Problem(
        file,
        f"{where}.channel",
        short(t.channel),
        f"{CONTACT_SHARE} is the share of parents one channel contacts; name one of the "
        f"scenario's channels: {_names(channels)}",
    )


def _metric_problem(t: Target, file: str, where: str) -> Problem | None:
    timed = t.month is not None or t.months is not None
    allowed = (*(TIMESERIES_METRICS if timed else SUMMARY_METRICS), CONTACT_SHARE)
    if t.metric in allowed:
        return None
    if timed and t.metric in SUMMARY_METRICS:
        msg = (
            f"'{t.metric}' is reported at the horizon only; drop month/months "
            f"(monthly metrics: {_names(list(TIMESERIES_METRICS))})"
        )
    elif not timed and t.metric in TIMESERIES_METRICS:
        msg = f"'{t.metric}' is a monthly metric; give month or months"
    else:
        kind = "time series" if timed else "summary"
        msg = f"unknown metric of the {kind}; allowed: {_names(list(allowed))}"
    return Problem(file, f"{where}.metric", short(t.metric), msg)


def _month_problems(t: Target, horizon: int, file: str, where: str) -> list[Problem]:
    out = []
    checks = [("month", t.month)] if t.month is not None else []
    if t.months is not None:
        checks = [("months", m) for m in t.months]
    for field, month in checks:
        if month > horizon:
            out.append(
                Problem(
                    file,
                    f"{where}.{field}",
                    str(month),
                    f"month beyond the scenario's horizon of {horizon} months "
                    f"(allowed: 0 to {horizon})",
                )
            )
    return out


def _label_problems(t: Target, scenario: Scenario, file: str, where: str) -> list[Problem]:
    known = {
        "segment": [s.name for s in scenario.population.segments],
        "intervention": [iv.name for iv in scenario.interventions],
        "channel": [c.name for c in scenario.channels] + list(PSEUDO_CHANNELS),
    }
    out = []
    for field, names in known.items():
        label = getattr(t, field)
        if label != ALL and label not in names:
            out.append(
                Problem(
                    file,
                    f"{where}.{field}",
                    short(label),
                    f"no {field} of that name in the scenario; allowed: {_names([ALL, *names])}",
                )
            )
    return out


def _model_problem(t: Target, file: str, where: str) -> Problem | None:
    model = t.observed.model
    if model == "binomial" and t.metric not in SHARE_METRICS:
        need = "a share (fraction 0-1)"
    elif model in ("poisson", "negative_binomial") and t.metric not in COUNT_METRICS:
        need = "a count"
    else:
        return None
    return Problem(
        file,
        f"{where}.observed.model",
        model,
        f"the {model} model needs {need}, and '{t.metric}' is not one; use the normal model "
        "with a standard error, or a metric that is",
    )


def target_problems(t: Target, scenario: Scenario, file: str, where: str) -> list[Problem]:
    """The problems of one schema-valid target against the scenario and impactsim's outputs.

    Args:
        t: the target.
        scenario: the base scenario.
        file: name used in messages.
        where: the target's location in the file (``targets[0:name]``).

    Returns:
        The problems (empty when the target is usable).
    """
    out: list[Problem] = []
    metric = _metric_problem(t, file, where)
    if metric is not None:
        out.append(metric)
    out += _month_problems(t, scenario.simulation.months, file, where)
    out += _label_problems(t, scenario, file, where)
    if t.metric == CONTACT_SHARE and not any(p.path == f"{where}.channel" for p in out):
        out += [p for p in [_contact_problem(t, scenario, file, where)] if p is not None]
    model = _model_problem(t, file, where) if metric is None else None
    if model is not None:
        out.append(model)
    return out
