"""Calibration parameters files: loading, and validation of the priors against the scenario.

Each parameter is a dotted path into the base scenario (resolved like a sweep parameter,
:func:`impactsim.sweep.paths.resolve`) with a prior. The prior's whole support must lie
in the range the scenario schema allows for that field: the base scenario is validated
with the field at each end of the support (an unbounded end is tried at
:data:`FAR`), so a prior that could propose an impossible value is refused before any
simulation runs.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from scipy import stats

from impactsim.calibrate.schema import (
    CalibratedParameter,
    NormalPrior,
    ParametersFile,
    Prior,
)
from impactsim.inputs import (
    Problem,
    ScenarioError,
    bare_location,
    plain_message,
    short,
)
from impactsim.loading import parse_yaml_text, read_input_bytes, validate_document
from impactsim.scenario import Scenario
from impactsim.sweep.paths import (
    Location,
    PathError,
    format_location,
    get_value,
    resolve_all,
    with_values,
)

#: Where an unbounded end of a prior's support is tried against the schema.
FAR = 1e12


@dataclass(frozen=True)
class ResolvedPrior:
    """A calibrated parameter with its locations in the scenario.

    Attributes:
        spec: the parameter as validated.
        locs: every field it sets (several for a path with ``*``).
        bases: the scenario's values there (None for a key the path adds).
    """

    spec: CalibratedParameter
    locs: tuple[Location, ...]
    bases: tuple[float | None, ...]

    @property
    def label(self) -> str:
        """Column name of this parameter."""
        return self.spec.label

    @property
    def loc(self) -> Location:
        """The first (for most parameters the only) location."""
        return self.locs[0]

    @property
    def base_value(self) -> Any:
        """The parameter's value in the base scenario (1 for a relative parameter)."""
        return 1.0 if self.spec.relative else self.bases[0]

    def changes(self, value: float) -> list[tuple[Location, float]]:
        """The scenario fields and their values for the parameter value ``value``."""
        if self.spec.relative:
            return [(loc, float(b) * value) for loc, b in zip(self.locs, self.bases, strict=True)]
        return [(loc, value) for loc in self.locs]


@dataclass(frozen=True)
class Parameters:
    """A validated parameters file.

    Attributes:
        spec: the file as validated.
        file: where it came from (for messages).
        items: the parameters with their scenario locations.
        source_text: the file's text (copied into the calibration directory).
    """

    spec: ParametersFile
    file: str
    items: list[ResolvedPrior]
    source_text: str = ""

    @property
    def labels(self) -> list[str]:
        """Column names, in file order."""
        return [p.label for p in self.items]


def scipy_args(prior: Prior) -> tuple[str, tuple[float, ...], dict[str, float]]:
    """The scipy.stats distribution of a prior: name, positional and keyword arguments.

    The same triple builds a ``scipy.stats`` frozen distribution and a ``pyabc.RV``.

    Args:
        prior: the prior as validated.

    Returns:
        ``(name, args, kwargs)`` for ``getattr(scipy.stats, name)(*args, **kwargs)``.
    """
    if prior.kind == "uniform":
        return "uniform", (), {"loc": prior.low, "scale": prior.high - prior.low}
    if prior.kind == "loguniform":
        return "loguniform", (prior.low, prior.high), {}
    if prior.kind == "beta":
        return (
            "beta",
            (prior.alpha, prior.beta),
            {"loc": prior.low, "scale": prior.high - prior.low},
        )
    if prior.kind == "gamma":
        return "gamma", (prior.shape,), {"loc": prior.low, "scale": prior.scale}
    assert isinstance(prior, NormalPrior)
    if prior.low is None and prior.high is None:
        return "norm", (), {"loc": prior.mean, "scale": prior.sd}
    a = -math.inf if prior.low is None else (prior.low - prior.mean) / prior.sd
    b = math.inf if prior.high is None else (prior.high - prior.mean) / prior.sd
    return "truncnorm", (a, b), {"loc": prior.mean, "scale": prior.sd}


def frozen(prior: Prior) -> Any:
    """The prior as a frozen ``scipy.stats`` distribution."""
    name, args, kwargs = scipy_args(prior)
    return getattr(stats, name)(*args, **kwargs)


def support(prior: Prior) -> tuple[float, float]:
    """Lowest and highest value the prior can propose (possibly infinite)."""
    lo, hi = frozen(prior).support()
    return float(lo), float(hi)


# --------------------------------------------------------------------------- loading
def load_parameters(path: str | os.PathLike[str], scenario: Scenario) -> Parameters:
    """Load and validate a calibration parameters file.

    Args:
        path: the parameters (priors) YAML file.
        scenario: the base scenario the paths point into.

    Returns:
        The validated :class:`Parameters`.

    Raises:
        ScenarioError: every problem, as ``file: field.path: message (got value)``.
    """
    raw = read_input_bytes(Path(path))
    data = parse_yaml_text(raw, str(path))
    return parse_parameters(data, scenario, file=str(path), source_text=raw.decode("utf-8"))


def parse_parameters(
    data: Any, scenario: Scenario, file: str = "<parameters>", source_text: str = ""
) -> Parameters:
    """Validate already-parsed parameters data against a scenario.

    Args:
        data: the parsed document.
        scenario: the base scenario.
        file: name used in messages.
        source_text: the file's text.

    Returns:
        The validated :class:`Parameters`.

    Raises:
        ScenarioError: with every problem found.
    """
    spec = validate_document(ParametersFile, data, file, "calibration parameters", "path")
    base = scenario.model_dump(mode="json")
    problems: list[Problem] = []
    items: list[ResolvedPrior] = []
    seen: dict[Any, int] = {}
    for i, p in enumerate(spec.parameters):
        where = f"parameters[{i}:{p.path}]"
        found = _resolve_one(p, base, file, where)
        if isinstance(found, Problem):
            problems.append(found)
            continue
        for key, what in ((found.locs, "field"), (p.label, "name")):
            if key in seen:
                field = "path" if what == "field" else "name"
                problems.append(
                    Problem(
                        file,
                        f"{where}.{field}",
                        short(getattr(p, field) or p.path),
                        f"the same {what} is already used by parameters[{seen[key]}]",
                    )
                )
            seen.setdefault(key, i)
        problems += support_problems(found, base, file, where)
        items.append(found)
    if problems:
        raise ScenarioError(problems)
    return Parameters(spec=spec, file=file, items=items, source_text=source_text)


def field_problem(current: Any, shown: str, relative: bool = False) -> str | None:
    """Why a field cannot take a drawn decimal number (None when it can)."""
    if isinstance(current, dict | list):
        return f"'{shown}' is a section, not a single value; address one of its fields"
    if isinstance(current, bool | str):
        return f"'{shown}' holds {current!r}, not a number; only numbers can be calibrated"
    if isinstance(current, int):
        return f"'{shown}' is a whole number; calibration draws continuous values"
    if relative and current is None:
        return f"'{shown}' holds no value in the scenario, so a relative value has nothing to scale"
    return None


def _resolve_one(
    p: CalibratedParameter, base: dict[str, Any], file: str, where: str
) -> ResolvedPrior | Problem:
    try:
        locs = resolve_all(base, p.path)
    except PathError as err:
        return Problem(file, f"{where}.path", short(p.path), str(err))
    bases = []
    for loc in locs:
        current = get_value(base, loc)
        msg = field_problem(current, format_location(loc, base), p.relative)
        if msg is not None:
            return Problem(file, f"{where}.path", short(p.path), msg)
        bases.append(current)
    return ResolvedPrior(spec=p, locs=tuple(locs), bases=tuple(bases))


def support_problems(
    rp: ResolvedPrior, base: dict[str, Any], file: str, where: str
) -> list[Problem]:
    """Problems of a prior whose support reaches values the scenario schema refuses.

    Args:
        rp: the resolved parameter.
        base: the base scenario as a dict.
        file: name used in messages.
        where: the parameter's location in the file.

    Returns:
        At most one problem per end of the support.
    """
    out: list[Problem] = []
    lo, hi = support(rp.spec.prior)
    for end, value in (("lowest", lo), ("highest", hi)):
        tried = value if math.isfinite(value) else math.copysign(FAR, value)
        try:
            Scenario.model_validate(with_values(base, rp.changes(float(tried))))
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                loc = bare_location(err.get("loc", ()))
                hit = [x for x in rp.locs if loc[: len(x)] == x and len(loc) <= len(x) + 1]
                if hit:
                    shown = format_location(hit[0], base)
                    reach = "unbounded" if not math.isfinite(value) else f"{value:g}"
                    reach += ", times the field's value" if rp.spec.relative else ""
                    msg = plain_message(str(err.get("msg", "invalid value")))
                    out.append(
                        Problem(
                            file,
                            f"{where}.prior",
                            short(rp.spec.prior.model_dump()),
                            f"the prior's {end} value ({reach}) is not allowed for "
                            f"'{shown}': {msg}; narrow or truncate the prior (low/high)",
                        )
                    )
                    break
    return out
