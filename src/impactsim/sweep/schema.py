"""Sweep files: the schema of the file and the validated sweep.

The pydantic models of a sweep file (:class:`SweepFile`: parameters, distributions,
samplers, outputs) and the result of validating one (:class:`Sweep`, with its
:class:`ResolvedParameter` s). Loading and the checks that need the base scenario are in
:mod:`impactsim.sweep.spec`; the designs built from a sweep in
:mod:`impactsim.sweep.sampling`.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import Field, Strict, field_validator, model_validator

from impactsim.inputs import StrictModel
from impactsim.sweep.paths import Location
from impactsim.tables import BREAKDOWN_COLUMNS, PLACE_COLUMN

#: The kind of item a :class:`Resolved` holds (a sweep parameter, an optimisation decision).
Item = TypeVar("Item")

#: Most worker processes of a local pool (each holds a replicate: about 0.35 GB).
MAX_WORKERS = 1024

#: Version of the sweep directory layout and of the fingerprint recipe. Format 2: task
#: files have a ``neighbourhood`` column, and ``breakdowns: all`` keeps neighbourhood rows.
SWEEP_FORMAT = 2

#: Columns a sweep may keep rows broken down by: the breakdown columns and the
#: neighbourhood (:data:`impactsim.tables.PLACE_COLUMN`), in the order of the tables.
SWEEP_BREAKDOWNS: tuple[str, ...] = (*BREAKDOWN_COLUMNS, PLACE_COLUMN)

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
    {"point", "replicate", "metric", "value", "task", "scenario", "status", *SWEEP_BREAKDOWNS}
)

#: Largest number of points and of tasks a sweep may have (typo guards).
MAX_POINTS = 1_000_000
MAX_TASKS = 5_000_000

#: Samplers and what each needs.
SAMPLERS = ("grid", "latin_hypercube", "sobol", "morris", "one_way")

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
    breakdowns: Literal["none", "all"] | list[str] = Field(
        "none",
        description=(
            "none: totals only; all: every breakdown row; or a list of the breakdown columns "
            "to keep (segment, intervention, channel, adopter_category, outcome, "
            "neighbourhood)"
        ),
    )

    @field_validator("breakdowns")
    @classmethod
    def _known_columns(cls, v: str | list[str]) -> str | list[str]:
        if isinstance(v, list):
            for name in v:
                if name not in SWEEP_BREAKDOWNS:
                    close = difflib.get_close_matches(name, SWEEP_BREAKDOWNS, n=1)
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    raise ValueError(
                        f"unknown breakdown column '{name}'{hint} Allowed: "
                        f"{', '.join(SWEEP_BREAKDOWNS)}"
                    )
        return v

    def kept_breakdowns(self) -> tuple[str, ...]:
        """Columns (of :data:`SWEEP_BREAKDOWNS`) that may differ from 'all' in kept rows."""
        if self.breakdowns == "none":
            return ()
        if self.breakdowns == "all":
            return SWEEP_BREAKDOWNS
        return tuple(c for c in SWEEP_BREAKDOWNS if c in self.breakdowns)


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
class Resolved(Generic[Item]):
    """An input item with its location in the base scenario and its kind of value.

    A sweep's parameters (:data:`ResolvedParameter`) and an optimisation's decisions
    (``impactsim.optimize.spec.ResolvedDecision``).

    Attributes:
        spec: the item as written (it has a ``label``).
        loc: where it sits in the base scenario.
        integer: whole numbers only.
        base_value: the base scenario's value there.
    """

    spec: Item
    loc: Location
    integer: bool
    base_value: Any

    @property
    def label(self) -> str:
        """Column name of this item."""
        return str(self.spec.label)  # type: ignore[attr-defined]


#: A sweep parameter with its location.
ResolvedParameter = Resolved[Parameter]


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
        return fingerprint_of(self.definition())


def fingerprint_of(definition: dict[str, Any]) -> str:
    """A sweep's fingerprint: SHA-256 of its definition as canonical JSON (sorted keys).

    ``sweep.json`` holds both, so a definition altered after it was written is recognised.
    """
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
