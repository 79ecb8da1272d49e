"""Loading an optimisation file: schema, base scenario, decisions checked against it.

Every problem is reported at once, in the same form as a scenario's or a sweep's
(``file: field.path: message (got value)``), through :class:`~impactsim.inputs.ScenarioError`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from impactsim.inputs import Problem, ScenarioError, short
from impactsim.loading import parse_yaml_text, read_input_bytes, validate_document
from impactsim.optimize.schema import Decision, OptimizationFile
from impactsim.sweep.paths import Location, PathError, format_location, get_value, resolve
from impactsim.sweep.schema import Resolved, fingerprint_of
from impactsim.sweep.spec import resolved_base, value_problems

#: Version of the optimisation directory layout and of the fingerprint recipe.
OPTIMIZATION_FORMAT = 1

#: Names a decision may not take (they are columns of the trials table).
RESERVED_NAMES = frozenset(
    {"trial", "study", "budget_eur", "feasible", "state", "rank", "p_best", "replicate", "value"}
)


#: The impact gap between the least and the most advantaged segment (percentage points).
GAP = "differential_impact_gap_pp"


def has_gap(base: dict[str, Any]) -> bool:
    """True when the base reports the impact gap: target segments of two advantage ranks."""
    segments = base["population"]["segments"]
    target = base.get("outcome", {}).get("target_segments")
    ranks = {s["advantage_rank"] for s in segments if target is None or s["name"] in target}
    return len(ranks) > 1


def _gap_problems(spec: OptimizationFile, base: dict[str, Any], file: str) -> list[Problem]:
    if has_gap(base):
        return []
    why = (
        "needs the impact gap between the least and most advantaged segment, which the base "
        "scenario does not report: give its target segments different advantage_rank values"
    )
    out = []
    if spec.equity != "none":
        out.append(Problem(file, "equity", spec.equity, why))
    if GAP in spec.objectives:
        out.append(Problem(file, "objective", GAP, why))
    return out


#: A decision with its location in the base scenario: the field (kind value), the offer
#: or the channel (kind offered); its base value is True for an offer or channel (used).
ResolvedDecision = Resolved[Decision]


@dataclass
class Optimization:
    """A validated optimisation: the file, the base scenario, the decisions, the budget."""

    spec: OptimizationFile
    file: str
    base: dict[str, Any]
    decisions: list[ResolvedDecision]
    seed: int
    source_text: str = ""
    posterior: Any = None  # impactsim.posterior.Posterior | None

    @property
    def name(self) -> str:
        """Optimisation name."""
        return self.spec.name

    @property
    def horizon_years(self) -> float:
        """Years simulated."""
        return float(self.base["simulation"]["months"]) / 12.0

    def budget_total(self, amount: float | None = None) -> float:
        """A budget as the total it bounds over the horizon (euros).

        Args:
            amount: an amount in the unit of the file's budget (default: the budget).
        """
        b = self.spec.budget
        value = amount if amount is not None else (b.total_eur or b.per_year_eur)
        return float(value) * (self.horizon_years if b.per_year_eur is not None else 1.0)

    @property
    def metrics(self) -> tuple[str, ...]:
        """Summary metrics every evaluation keeps."""
        names = [*self.spec.objectives, self.spec.budget.metric, "cost_pv", "public_impact_pp"]
        names += ["case_years_prevented", "npv", "reach_cumulative"]
        if self.spec.equity != "none":
            names.append(GAP)
        return tuple(dict.fromkeys(names))

    def definition(self) -> dict[str, Any]:
        """Everything that determines the numbers, as plain JSON data."""
        spec = self.spec.model_dump(mode="json", exclude={"base", "description", "overrides"})
        spec["base_scenario"] = self.base
        spec["seed"] = self.seed
        spec["decision_locations"] = [list(d.loc) for d in self.decisions]
        spec["decision_integer"] = [d.integer for d in self.decisions]
        spec["format"] = OPTIMIZATION_FORMAT
        spec["posterior_sha256"] = None if self.posterior is None else self.posterior.sha256
        return spec

    def fingerprint(self) -> str:
        """SHA-256 of :meth:`definition` (canonical JSON)."""
        return fingerprint_of(self.definition())

    def evaluation_fingerprint(self) -> str:
        """SHA-256 of what decides one candidate's numbers (base, decisions, metrics)."""
        keep = {
            "base_scenario": self.base,
            "decision_locations": [list(d.loc) for d in self.decisions],
            "decisions": [d.spec.model_dump(mode="json") for d in self.decisions],
            "metrics": list(self.metrics),
            "posterior": None if self.posterior is None else self.posterior.sha256,
            "format": OPTIMIZATION_FORMAT,
        }
        return fingerprint_of(keep)


def load_optimization(
    path: str | os.PathLike[str], *, allow_external_paths: bool = False
) -> Optimization:
    """Load and validate an optimisation YAML file.

    Args:
        path: the file.
        allow_external_paths: let ``base`` name a file outside the file's directory tree.

    Raises:
        ScenarioError: every problem of the file, its base scenario or its decisions.
    """
    p = Path(path)
    raw = read_input_bytes(p)
    data = parse_yaml_text(raw, str(path))
    return parse_optimization(
        data,
        file=str(path),
        base_dir=p.parent,
        source_text=raw.decode("utf-8"),
        allow_external_paths=allow_external_paths,
    )


def parse_optimization(
    data: Any,
    file: str = "<optimisation>",
    base_dir: str | os.PathLike[str] | None = None,
    source_text: str = "",
    *,
    allow_external_paths: bool = False,
) -> Optimization:
    """Validate an already-parsed optimisation document (see :func:`load_optimization`)."""
    spec = validate_document(OptimizationFile, data, file, "optimisation", "path")
    where = Path(base_dir) if base_dir is not None else Path.cwd()
    base = resolved_base(spec, file, where, allow_external_paths)
    decisions, problems = resolve_decisions(spec.decisions, base, file)
    problems += _gap_problems(spec, base, file)
    posterior = None
    if spec.posterior is not None and not problems:
        posterior = _load_posterior(spec.posterior, where, base, decisions, file)
    if problems:
        raise ScenarioError(problems)
    seed = spec.seed if spec.seed is not None else int(base["simulation"]["seed"])
    return Optimization(spec, file, base, decisions, seed, source_text, posterior)


def _load_posterior(
    path: str, where: Path, base: dict[str, Any], decisions: list[ResolvedDecision], file: str
) -> Any:
    """The posterior, checked against the base; refused where it sets a decided field."""
    from impactsim.posterior import load_posterior

    found = where / path
    if not found.exists():
        msg = f"no posterior at {found} (give a calibration directory or posterior.parquet)"
        raise ScenarioError([Problem(file, "posterior", short(path), msg)])
    posterior = load_posterior(found)
    posterior.bind(base)
    decided = {d.spec.path for d in decisions}
    both = sorted(decided & set(posterior.paths.values()))
    if both:
        msg = f"the posterior sets {', '.join(both)}, which a decision also sets"
        raise ScenarioError([Problem(file, "posterior", short(path), msg)])
    return posterior


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _offered_problem(loc: Location, base: dict[str, Any]) -> str | None:
    is_offer = len(loc) == 3 and loc[:2] == ("strategy", "offers")
    is_channel = len(loc) == 2 and loc[0] == "channels"
    if is_offer or is_channel:
        return None
    return (
        f"kind: offered needs an offer (strategy.offers.NAME) or a channel (channels.NAME); "
        f"'{format_location(loc, base)}' is neither"
    )


def _value_problems(d: Decision, loc: Location, base: dict[str, Any], file: str, where: str):
    current = get_value(base, loc) if _has(base, loc) else None
    if isinstance(current, dict | list):
        msg = f"'{format_location(loc, base)}' is a section, not a single value"
        return current, [Problem(file, f"{where}.path", short(d.path), msg)]
    if d.range is not None and isinstance(current, str | bool):
        msg = f"'{format_location(loc, base)}' holds {current!r}, not a number; give values: [...]"
        return current, [Problem(file, f"{where}.path", short(d.path), msg)]
    integer = d.integer if d.integer is not None else _is_int(current)
    problems: list[Problem] = []
    if d.range is not None:
        lo, hi = d.range
        if integer and math.floor(hi) < math.ceil(lo):
            msg = f"'{format_location(loc, base)}' is a whole number but none lies in [{lo}, {hi}]"
            problems.append(Problem(file, f"{where}.range", "", msg))
        extremes = [math.ceil(lo), math.floor(hi)] if integer else [lo, hi]
        problems += value_problems(base, loc, extremes, file, f"{where}.range")
    else:
        problems += value_problems(base, loc, list(d.values or []), file, f"{where}.values")
    return current, problems


def _has(base: dict[str, Any], loc: Location) -> bool:
    try:
        get_value(base, loc)
    except (KeyError, IndexError, TypeError):
        return False
    return True


def resolve_decisions(
    decisions: list[Decision], base: dict[str, Any], file: str
) -> tuple[list[ResolvedDecision], list[Problem]]:
    """Locate every decision in the base scenario and check what it may take.

    Returns:
        The resolved decisions and every problem found (names, paths, values).
    """
    out: list[ResolvedDecision] = []
    problems: list[Problem] = []
    labels: dict[str, int] = {}
    locs: dict[Location, int] = {}
    for i, d in enumerate(decisions):
        where = f"decisions[{i}:{d.path}]"
        try:
            loc = resolve(base, d.path, allow_new_key=d.kind == "value")
        except PathError as err:
            problems.append(Problem(file, f"{where}.path", short(d.path), str(err)))
            continue
        if d.kind == "offered":
            why = _offered_problem(loc, base)
            if why:
                problems.append(Problem(file, f"{where}.path", short(d.path), why))
                continue
            current, integer, found = True, False, []
        else:
            current, found = _value_problems(d, loc, base, file, where)
            integer = d.integer if d.integer is not None else _is_int(current)
        problems += found
        if d.label in RESERVED_NAMES:
            allowed = ", ".join(sorted(RESERVED_NAMES))
            msg = (
                f"'{d.label}' is a column of the results; choose another name (reserved: {allowed})"
            )
            problems.append(Problem(file, f"{where}.name", short(d.label), msg))
        if d.label in labels:
            msg = f"name already used by decisions[{labels[d.label]}]; names must be unique"
            problems.append(Problem(file, f"{where}.name", short(d.label), msg))
        if loc in locs:
            msg = f"the same field is already decided by decisions[{locs[loc]}]"
            problems.append(Problem(file, f"{where}.path", short(d.path), msg))
        labels.setdefault(d.label, i)
        locs.setdefault(loc, i)
        out.append(ResolvedDecision(d, loc, integer, current))
    return out, problems
