"""Sweep files: schema, loading and validation.

A sweep file (YAML) names a base scenario, the parameters to vary (each a dotted path into
the scenario with a range, a distribution or a list of values), a sampler, the number of
replicates per point and the outputs to keep. It is validated like a scenario file: every
problem is reported as ``file: field.path: message (got value)`` through
:class:`~impactsim.inputs.ScenarioError` (the translator of :mod:`impactsim.inputs`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, Strict, ValidationError, field_validator, model_validator

from impactsim.inputs import (
    Problem,
    ScenarioError,
    StrictModel,
    bare_location,
    plain_message,
    problems_from_validation,
    short,
)
from impactsim.loading import (
    default_scenario_path,
    parse_scenario,
    parse_yaml_text,
    read_input_bytes,
    require_mapping,
)
from impactsim.scenario import Scenario
from impactsim.sweep.paths import (
    Location,
    PathError,
    format_location,
    get_value,
    resolve,
    with_values,
)
from impactsim.tables import BREAKDOWN_COLUMNS

#: Version of the sweep directory layout and of the fingerprint recipe.
SWEEP_FORMAT = 1

#: Outputs kept when a sweep file does not say.
DEFAULT_METRICS: tuple[str, ...] = (
    "public_impact_pp",
    "reach_cumulative",
    "prevalence",
    "prevalence_counterfactual",
    "cases_prevented",
)

#: Names a parameter may not take (they are columns of the tidy results table).
RESERVED_NAMES = frozenset(
    {"point", "replicate", "metric", "value", "task", "scenario", "status", *BREAKDOWN_COLUMNS}
)

#: Largest number of points and of tasks a sweep may have (typo guards).
MAX_POINTS = 1_000_000
MAX_TASKS = 5_000_000

#: Samplers and what each needs.
SAMPLERS = ("grid", "latin_hypercube", "sobol", "morris", "one_way")

#: Files marking the root of a project or scenario library: a sweep's ``base`` path must
#: stay inside the nearest directory holding one (see :func:`allowed_root`).
ROOT_MARKERS: tuple[str, ...] = (".impactsim-root", "pyproject.toml", ".git")

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")]
MetricName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,99}$")]
Scalar = float | int | str | bool | None


#: A number inside a pair written as a YAML list (the pair itself may be a list).
_Num = Annotated[float, Strict()]


# --------------------------------------------------------------------------- distributions
class Uniform(StrictModel):
    """Uniform between ``low`` and ``high``."""

    kind: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError(f"low must be below high (got low={self.low}, high={self.high})")
        return self


class LogUniform(StrictModel):
    """Log-uniform between ``low`` > 0 and ``high``."""

    kind: Literal["loguniform"]
    low: Annotated[float, Field(gt=0.0)]
    high: Annotated[float, Field(gt=0.0)]

    @model_validator(mode="after")
    def _order(self) -> LogUniform:
        if not self.low < self.high:
            raise ValueError(f"low must be below high (got low={self.low}, high={self.high})")
        return self


class Normal(StrictModel):
    """Normal with ``mean`` and ``sd``; optionally truncated to ``[low, high]``."""

    kind: Literal["normal"]
    mean: float
    sd: Annotated[float, Field(gt=0.0)]
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _order(self) -> Normal:
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low must be below high (got low={self.low}, high={self.high})")
        return self


class LogNormal(StrictModel):
    """Log-normal with ``median`` > 0 and ``sigma`` (SD of the logarithm)."""

    kind: Literal["lognormal"]
    median: Annotated[float, Field(gt=0.0)]
    sigma: Annotated[float, Field(gt=0.0)]


class Triangular(StrictModel):
    """Triangular on ``[low, high]`` with peak at ``mode``."""

    kind: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(
                "need low <= mode <= high and low < high "
                f"(got low={self.low}, mode={self.mode}, high={self.high})"
            )
        return self


class Beta(StrictModel):
    """Beta(``alpha``, ``beta``) scaled to ``[low, high]`` (default 0-1)."""

    kind: Literal["beta"]
    alpha: Annotated[float, Field(gt=0.0)]
    beta: Annotated[float, Field(gt=0.0)]
    low: float = 0.0
    high: float = 1.0

    @model_validator(mode="after")
    def _order(self) -> Beta:
        if not self.low < self.high:
            raise ValueError(f"low must be below high (got low={self.low}, high={self.high})")
        return self


Distribution = Annotated[
    Uniform | LogUniform | Normal | LogNormal | Triangular | Beta, Field(discriminator="kind")
]
DISTRIBUTIONS = ("uniform", "loguniform", "normal", "lognormal", "triangular", "beta")


class Parameter(StrictModel):
    """One varied input: a dotted path and exactly one of range, distribution or values."""

    path: str = Field(
        description=(
            "dotted path into the scenario, e.g. interventions.group_course.effect_size.mean; "
            "list items by name or position"
        )
    )
    name: Identifier | None = Field(
        None, description="short column name in results and plots (default: the path)"
    )
    range: tuple[_Num, _Num] | None = Field(
        None, strict=False, description="[low, high]: uniform (or log-uniform with scale: log)"
    )
    scale: Literal["linear", "log"] = Field("linear", description="scale of range")
    distribution: Distribution | None = Field(None, description="a probability distribution")
    values: list[Scalar] | None = Field(
        None, min_length=1, description="discrete values (numbers, text, true/false, null)"
    )
    levels: Annotated[int, Field(ge=2, le=1000)] | None = Field(
        None, description="grid levels for a range or distribution (default: sampler.levels)"
    )
    integer: bool | None = Field(
        None, description="round to whole numbers (default: when the scenario field is an integer)"
    )
    base: Scalar = Field(
        None, description="centre value for one_way (default: the base scenario's value)"
    )

    @field_validator("range")
    @classmethod
    def _range_order(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not v[0] < v[1]:
            raise ValueError(f"range must be [low, high] with low < high (got [{v[0]}, {v[1]}])")
        return v

    @model_validator(mode="after")
    def _one_source(self) -> Parameter:
        given = [k for k in ("range", "distribution", "values") if getattr(self, k) is not None]
        if len(given) != 1:
            got = ", ".join(given) if given else "none"
            raise ValueError(f"give exactly one of range, distribution or values (got {got})")
        if self.range is not None:
            if self.scale == "log" and self.range[0] <= 0:
                raise ValueError(f"a log-scale range needs low > 0 (got low={self.range[0]})")
        elif self.scale == "log":
            raise ValueError("scale: log applies to range only; use distribution: loguniform")
        if self.values is not None and self.levels is not None:
            raise ValueError("levels applies to a range or distribution, not to values")
        return self

    @property
    def label(self) -> str:
        """Column name of this parameter."""
        return self.name or self.path


# --------------------------------------------------------------------------- samplers
class GridSampler(StrictModel):
    """Every combination of every parameter's levels (full factorial)."""

    method: Literal["grid"]
    levels: Annotated[int, Field(ge=2, le=1000)] = Field(
        3, description="levels of a range or distribution without its own levels"
    )


class LatinHypercubeSampler(StrictModel):
    """Latin hypercube (scipy.stats.qmc.LatinHypercube)."""

    method: Literal["latin_hypercube"]
    samples: Annotated[int, Field(ge=2, le=MAX_POINTS)] = Field(description="number of points")
    scramble: bool = Field(True, description="random positions inside the cells")
    optimization: Literal["random-cd", "lloyd"] | None = Field(
        None, description="scipy optimisation of the design"
    )
    seed: Annotated[int, Field(ge=0)] | None = Field(
        None, description="seed of the design (default: the sweep's seed)"
    )


class SobolSampler(StrictModel):
    """Saltelli/Sobol design for Sobol indices (SALib.sample.sobol)."""

    method: Literal["sobol"]
    samples: Annotated[int, Field(ge=2, le=MAX_POINTS)] = Field(
        description="base sample size N, a power of 2; points = N(D+2), or N(2D+2) with second_order"
    )
    second_order: bool = Field(False, description="also estimate second-order indices")
    scramble: bool = Field(True, description="scrambled Sobol sequence")
    seed: Annotated[int, Field(ge=0)] | None = Field(
        None, description="seed of the design (default: the sweep's seed)"
    )

    @field_validator("samples")
    @classmethod
    def _power_of_two(cls, n: int) -> int:
        if n & (n - 1):
            lower = 1 << (n.bit_length() - 1)
            raise ValueError(
                f"samples must be a power of 2 for a Sobol design (nearest: {lower} or {lower * 2})"
            )
        return n


class MorrisSampler(StrictModel):
    """Morris elementary-effects trajectories (SALib.sample.morris)."""

    method: Literal["morris"]
    trajectories: Annotated[int, Field(ge=2, le=MAX_POINTS)] = Field(
        description="number of trajectories r; points = r(D+1)"
    )
    levels: Annotated[int, Field(ge=2, le=100)] = Field(4, description="grid levels p (even)")
    optimal_trajectories: Annotated[int, Field(ge=2, le=1000)] | None = Field(
        None, description="pick this many well-spread trajectories out of 'trajectories'"
    )
    seed: Annotated[int, Field(ge=0)] | None = Field(
        None, description="seed of the design (default: the sweep's seed)"
    )

    @field_validator("levels")
    @classmethod
    def _even(cls, n: int) -> int:
        if n % 2:
            raise ValueError("levels must be even for a Morris design (e.g. 4, 6 or 8)")
        return n

    @model_validator(mode="after")
    def _optimal(self) -> MorrisSampler:
        if self.optimal_trajectories is not None and not (
            self.optimal_trajectories < self.trajectories
        ):
            raise ValueError(
                "optimal_trajectories must be smaller than trajectories "
                f"(got {self.optimal_trajectories} of {self.trajectories})"
            )
        return self


class OneWaySampler(StrictModel):
    """One-at-a-time design for a tornado diagram.

    The base point, then each parameter at its low and its high value with all others at
    their base values.
    """

    method: Literal["one_way"]
    quantiles: tuple[_Num, _Num] = Field(
        (0.05, 0.95), strict=False, description="low and high quantile of a distribution"
    )

    @model_validator(mode="after")
    def _q(self) -> OneWaySampler:
        lo, hi = self.quantiles
        if not 0.0 < lo < hi < 1.0:
            raise ValueError(f"quantiles must satisfy 0 < low < high < 1 (got [{lo}, {hi}])")
        return self


Sampler = Annotated[
    GridSampler | LatinHypercubeSampler | SobolSampler | MorrisSampler | OneWaySampler,
    Field(discriminator="method"),
]


class Outputs(StrictModel):
    """Which rows of each run's summary to keep."""

    metrics: list[MetricName] | Literal["all"] = Field(
        default_factory=lambda: list(DEFAULT_METRICS),
        description="summary metrics to keep (any metric name of the run summary), or all",
    )
    breakdowns: (
        Literal["none", "all"]
        | list[Literal["segment", "intervention", "channel", "adopter_category"]]
    ) = Field(
        "none",
        description=(
            "none: totals only; all: every breakdown row; or a list of the breakdown columns "
            "to keep (segment, intervention, channel, adopter_category)"
        ),
    )

    def kept_breakdowns(self) -> tuple[str, ...]:
        """Breakdown columns that may differ from 'all' in kept rows."""
        if self.breakdowns == "none":
            return ()
        if self.breakdowns == "all":
            return BREAKDOWN_COLUMNS
        return tuple(c for c in BREAKDOWN_COLUMNS if c in self.breakdowns)


class SweepFile(StrictModel):
    """Top level of a sweep file."""

    name: Identifier = Field(description="sweep identifier")
    description: str = Field("", max_length=5000)
    base: str | dict[str, Any] = Field(
        description="base scenario: a file path (relative to the sweep file), 'default', "
        "or an inline scenario mapping"
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="fixed changes to the base scenario, dotted path: value",
    )
    parameters: list[Parameter] = Field(min_length=1, max_length=100)
    sampler: Sampler
    replicates: Annotated[int, Field(ge=1, le=100_000)] = Field(description="replicates per point")
    replicates_per_task: Annotated[int, Field(ge=1, le=100_000)] | None = Field(
        None, description="replicates run together in one task (default min(replicates, 10))"
    )
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = Field(
        None, description="base seed (default: the base scenario's simulation.seed)"
    )
    common_random_numbers: bool = Field(
        True,
        description="every point uses the same seed (true) or a seed derived from its number",
    )
    outputs: Outputs = Field(default_factory=Outputs)


# --------------------------------------------------------------------------- resolved sweep
@dataclass(frozen=True)
class ResolvedParameter:
    """A parameter with its location in the scenario and its kind of value."""

    spec: Parameter
    loc: Location
    integer: bool
    base_value: Any

    @property
    def label(self) -> str:
        """Column name of this parameter."""
        return self.spec.label


@dataclass
class Sweep:
    """A validated sweep: the file's settings, the base scenario and the parameters.

    Attributes:
        spec: the sweep file as validated.
        file: where it came from (for messages).
        base: the base scenario with overrides, every default filled in, as a dict.
        parameters: the parameters with their scenario locations.
        seed: base seed used for every point (and for the designs unless they say).
        replicates_per_task: replicates run together in one task.
        source_text: the sweep file's text (copied into the sweep directory).
    """

    spec: SweepFile
    file: str
    base: dict[str, Any]
    parameters: list[ResolvedParameter]
    seed: int
    replicates_per_task: int
    source_text: str = ""

    @property
    def name(self) -> str:
        """Sweep name."""
        return self.spec.name

    @property
    def replicates(self) -> int:
        """Replicates per point."""
        return self.spec.replicates

    @property
    def method(self) -> str:
        """Sampler method."""
        return self.spec.sampler.method

    def definition(self) -> dict[str, Any]:
        """Everything that determines the results, as plain JSON data."""
        spec = self.spec.model_dump(mode="json", exclude={"base", "description", "overrides"})
        spec["base_scenario"] = self.base
        spec["seed"] = self.seed
        spec["replicates_per_task"] = self.replicates_per_task
        spec["parameter_locations"] = [list(p.loc) for p in self.parameters]
        spec["parameter_integer"] = [p.integer for p in self.parameters]
        spec["format"] = SWEEP_FORMAT
        return spec

    def fingerprint(self) -> str:
        """SHA-256 of :meth:`definition`; equal fingerprints mean equal tasks and numbers."""
        text = json.dumps(self.definition(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- loading
def load_sweep(path: str | os.PathLike[str], *, allow_external_paths: bool = False) -> Sweep:
    """Load and validate a sweep YAML file.

    Args:
        path: sweep file.
        allow_external_paths: let ``base`` name a file outside the sweep's directory tree
            (see :func:`allowed_root`); off by default, so a sweep file from elsewhere
            cannot make impactsim read arbitrary files.

    Returns:
        The validated :class:`Sweep`.

    Raises:
        ScenarioError: every problem in the sweep file, its base scenario or its overrides,
            as ``file: field.path: message (got value)``.
    """
    p = Path(path)
    raw = read_input_bytes(p)
    data = parse_yaml_text(raw, str(path))
    return parse_sweep(
        data,
        file=str(path),
        base_dir=p.parent,
        source_text=raw.decode("utf-8"),
        allow_external_paths=allow_external_paths,
    )


def parse_sweep(
    data: Any,
    file: str = "<sweep>",
    base_dir: str | os.PathLike[str] | None = None,
    source_text: str = "",
    *,
    allow_external_paths: bool = False,
) -> Sweep:
    """Validate already-parsed sweep data.

    Args:
        data: the parsed YAML document.
        file: name used in messages.
        base_dir: directory a relative ``base`` path is resolved against (default: cwd).
        source_text: the file's text, kept in the sweep directory for reference.
        allow_external_paths: let ``base`` name a file outside ``base_dir``'s tree (see
            :func:`allowed_root`).

    Returns:
        The validated :class:`Sweep`.

    Raises:
        ScenarioError: with every problem found.
    """
    require_mapping(data, file, "sweep")
    where = Path(base_dir) if base_dir is not None else Path.cwd()
    try:
        spec = SweepFile.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation(exc, file, data, SweepFile, label_key="path")
        problems += _more_problems(data, file, where, allow_external_paths)
        raise ScenarioError(problems) from None

    base = _load_base(spec, file, where, allow_external_paths)
    base = _apply_overrides(spec, base, file)
    seed = spec.seed if spec.seed is not None else int(base["simulation"]["seed"])
    params, problems = _resolve_parameters(list(spec.parameters), spec.sampler, base, file)
    if problems:
        raise ScenarioError(problems)
    per_task = spec.replicates_per_task or min(spec.replicates, 10)
    per_task = min(per_task, spec.replicates)
    sweep = Sweep(
        spec=spec,
        file=file,
        base=base,
        parameters=params,
        seed=seed,
        replicates_per_task=per_task,
        source_text=source_text,
    )
    _check_size(sweep, file)
    return sweep


def allowed_root(sweep_dir: str | os.PathLike[str]) -> Path:
    """The directory a sweep file's ``base`` path must stay inside.

    It is the nearest directory at or above the sweep file's directory that holds a
    project marker (:data:`ROOT_MARKERS`: ``.impactsim-root``, ``pyproject.toml`` or
    ``.git``), never the home directory or the filesystem root; without one, the sweep
    file's own directory. So ``scenarios/sweeps/x.yaml`` in a project may use
    ``base: ../package.yaml``, while a sweep file received from elsewhere cannot reach
    ``/etc`` or ``~/.ssh`` (:func:`resolve_base_path` also refuses hidden files and
    directories inside the root).

    Args:
        sweep_dir: the directory of the sweep file (symlinks are resolved).

    Returns:
        The resolved root directory.
    """
    start = Path(sweep_dir).resolve()
    try:
        home: Path | None = Path.home().resolve()
    except (RuntimeError, OSError):  # no home directory known
        home = None
    for d in (start, *start.parents):
        if d == home or d.parent == d:
            break
        if any((d / m).exists() for m in ROOT_MARKERS):
            return d
    return start


def resolve_base_path(base: str, base_dir: Path, allow_external: bool = False) -> Path:
    """Resolve a sweep's ``base`` file path, refusing one that escapes its directory tree.

    Refused unless ``allow_external``: an absolute path, a path that leads (through ``..``
    or a symbolic link) outside :func:`allowed_root`, and a path through a hidden file or
    directory (a name starting with ``.``) inside it.

    Args:
        base: the path as written in the sweep file (relative to the sweep file).
        base_dir: the sweep file's directory.
        allow_external: accept absolute paths and paths outside :func:`allowed_root`.

    Returns:
        The path to read (symlinks resolved).

    Raises:
        ValueError: with the reason the path is refused.
    """
    path = Path(base)
    if path.is_absolute() and not allow_external:
        raise ValueError(
            "an absolute path is not allowed; give a path relative to the sweep file, or "
            "pass --allow-external-paths (allow_external_paths=True) if you trust this file"
        )
    target = (base_dir / path).resolve()
    if not allow_external:
        root = allowed_root(base_dir)
        if not target.is_relative_to(root):
            raise ValueError(
                f"the path leads outside the sweep's directory tree {root} (to {target}); "
                "move the scenario inside it, or pass --allow-external-paths "
                "(allow_external_paths=True) if you trust this file"
            )
        hidden = [part for part in target.relative_to(root).parts if part.startswith(".")]
        if hidden:
            raise ValueError(
                f"the path leads into a hidden file or directory ('{hidden[0]}', e.g. .ssh or "
                ".git), which a scenario never needs; pass --allow-external-paths "
                "(allow_external_paths=True) if you trust this file"
            )
    return target


def _load_base(
    spec: SweepFile, file: str, base_dir: Path, allow_external: bool = False
) -> dict[str, Any]:
    if isinstance(spec.base, dict):
        scenario = parse_scenario(copy.deepcopy(spec.base), f"{file} (base)")
    elif spec.base == "default":
        from impactsim.loading import load_scenario

        scenario = load_scenario(default_scenario_path())
    else:
        try:
            path = resolve_base_path(spec.base, base_dir, allow_external)
            found = path.is_file()
        except (ValueError, OSError) as err:
            why = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            raise ScenarioError(
                [Problem(file, "base", short(spec.base), f"not a usable file path: {why}")]
            ) from None
        if not found:
            raise ScenarioError(
                [
                    Problem(
                        file,
                        "base",
                        short(spec.base),
                        f"base scenario file not found (looked for {path}); give a path "
                        "relative to the sweep file, 'default' or an inline scenario",
                    )
                ]
            )
        from impactsim.loading import load_scenario

        scenario = load_scenario(path)
    return scenario.model_dump(mode="json")


def _apply_overrides(spec: SweepFile, base: dict[str, Any], file: str) -> dict[str, Any]:
    if not spec.overrides:
        return base
    problems: list[Problem] = []
    changes: list[tuple[Location, Any]] = []
    for key, value in spec.overrides.items():
        try:
            loc = resolve(base, key)
        except PathError as err:
            problems.append(Problem(file, f"overrides.{key}", "", str(err)))
            continue
        changes.append((loc, value))
    if problems:
        raise ScenarioError(problems)
    data = with_values(base, changes)
    try:
        scenario = parse_scenario(data, f"{file} (base with overrides)")
    except ScenarioError as err:
        raise ScenarioError(
            [Problem(file, f"overrides -> {p.path}", p.value, p.message) for p in err.problems]
        ) from None
    return scenario.model_dump(mode="json")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _more_problems(
    data: dict[str, Any], file: str, base_dir: Path, allow_external: bool = False
) -> list[Problem]:
    """Path problems of a sweep file whose schema validation failed elsewhere.

    So that one run of ``impactsim sweep`` reports every problem it can find.
    """
    base_spec = data.get("base")
    overrides = data.get("overrides") or {}
    if not isinstance(base_spec, str | dict) or not isinstance(overrides, dict):
        return []
    shadow = SweepFile.model_construct(base=base_spec, overrides=overrides)
    try:
        base = _apply_overrides(shadow, _load_base(shadow, file, base_dir, allow_external), file)
    except ScenarioError as err:
        return list(err.problems)
    raw = data.get("parameters")
    if not isinstance(raw, list):
        return []
    params: list[Parameter | None] = []
    for item in raw:
        try:
            params.append(Parameter.model_validate(item))
        except ValidationError:
            params.append(None)  # already reported
    return _resolve_parameters(params, None, base, file)[1]


def _resolve_parameters(
    parameters: list[Parameter | None],
    sampler: Any,
    base: dict[str, Any],
    file: str,
) -> tuple[list[ResolvedParameter], list[Problem]]:
    from impactsim.sweep.sampling import extreme_values

    problems: list[Problem] = []
    out: list[ResolvedParameter] = []
    seen_labels: dict[str, int] = {}
    seen_locs: dict[Location, int] = {}
    for i, p in enumerate(parameters):
        if p is None:
            continue
        where = f"parameters[{i}:{p.path}]"
        try:
            loc = resolve(base, p.path)
        except PathError as err:
            problems.append(Problem(file, f"{where}.path", short(p.path), str(err)))
            continue
        current = get_value(base, loc)
        if isinstance(current, dict | list):
            problems.append(
                Problem(
                    file,
                    f"{where}.path",
                    short(p.path),
                    f"'{format_location(loc, base)}' is a section, not a single value; "
                    "address one of its fields",
                )
            )
            continue
        if p.values is None and isinstance(current, str | bool):
            problems.append(
                Problem(
                    file,
                    f"{where}.path",
                    short(p.path),
                    f"'{format_location(loc, base)}' holds {current!r}, not a number; "
                    "vary it with values: [...]",
                )
            )
            continue
        label = p.label
        if label in RESERVED_NAMES:
            problems.append(
                Problem(
                    file,
                    f"{where}.name",
                    short(label),
                    f"'{label}' is a column of the results table; choose another name "
                    f"(reserved: {', '.join(sorted(RESERVED_NAMES))})",
                )
            )
        if label in seen_labels:
            problems.append(
                Problem(
                    file,
                    f"{where}.name",
                    short(label),
                    f"name already used by parameters[{seen_labels[label]}]; names must be unique",
                )
            )
        seen_labels.setdefault(label, i)
        if loc in seen_locs:
            problems.append(
                Problem(
                    file,
                    f"{where}.path",
                    short(p.path),
                    f"the same field is already varied by parameters[{seen_locs[loc]}]",
                )
            )
        seen_locs.setdefault(loc, i)
        integer = p.integer if p.integer is not None else _is_int(current)
        if integer and p.values is None:
            lo, hi = _numeric_bounds(p)
            if math.floor(hi) < math.ceil(lo) and math.isfinite(lo) and math.isfinite(hi):
                problems.append(
                    Problem(
                        file,
                        f"{where}.range",
                        "",
                        f"'{format_location(loc, base)}' is a whole number but no whole "
                        f"number lies between {lo} and {hi}",
                    )
                )
        rp = ResolvedParameter(spec=p, loc=loc, integer=integer, base_value=current)
        problems += _check_extremes(rp, base, file, where, extreme_values(rp, sampler))
        out.append(rp)
    return out, problems


def _numeric_bounds(p: Parameter) -> tuple[float, float]:
    if p.range is not None:
        return float(p.range[0]), float(p.range[1])
    d = p.distribution
    lo = getattr(d, "low", None)
    hi = getattr(d, "high", None)
    return (
        float(lo) if lo is not None else -math.inf,
        float(hi) if hi is not None else math.inf,
    )


def _check_extremes(
    rp: ResolvedParameter, base: dict[str, Any], file: str, where: str, values: list[Any]
) -> list[Problem]:
    """Validate the base scenario with the parameter at each extreme value.

    Only errors about this field itself are reported; combinations are checked per point.
    """
    problems: list[Problem] = []
    field_name = (
        "values"
        if rp.spec.values is not None
        else ("range" if rp.spec.range is not None else "distribution")
    )
    for value in values:
        trial = with_values(base, [(rp.loc, value)])
        try:
            Scenario.model_validate(trial)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                loc = bare_location(err.get("loc", ()))
                if loc[: len(rp.loc)] == rp.loc and len(loc) <= len(rp.loc) + 1:
                    msg = plain_message(str(err.get("msg", "invalid value")))
                    problems.append(
                        Problem(
                            file,
                            f"{where}.{field_name}",
                            short(value),
                            f"value not allowed for '{format_location(rp.loc, base)}': {msg}",
                        )
                    )
                    break
        except RecursionError:  # pragma: no cover - defensive
            pass
    return problems


def _check_size(sweep: Sweep, file: str) -> None:
    from impactsim.sweep.sampling import point_count

    n = point_count(sweep)
    if n > MAX_POINTS:
        raise ScenarioError(
            [
                Problem(
                    file,
                    "sampler",
                    str(n),
                    f"the design has too many points (at most {MAX_POINTS})",
                )
            ]
        )
    tasks = n * math.ceil(sweep.replicates / sweep.replicates_per_task)
    if tasks > MAX_TASKS:
        raise ScenarioError(
            [
                Problem(
                    file,
                    "replicates_per_task",
                    str(sweep.replicates_per_task),
                    f"the sweep would have {tasks} tasks (at most {MAX_TASKS}); "
                    "raise replicates_per_task",
                )
            ]
        )
