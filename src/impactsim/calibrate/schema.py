"""Calibration files: the schema of a targets file and of a parameters (priors) file.

A **targets file** lists observations of the municipality, each naming one tidy output of
impactsim (metric, month or month window, segment, intervention, channel) and the
observation model that links the simulated value to the observed number (binomial,
Poisson, negative binomial or normal). A **parameters file** lists the scenario fields
to calibrate, each a dotted path with a prior distribution.

Both are validated like scenario and sweep files: every problem is reported as
``file: field.path: message (got value)``; the checks that need the base scenario are in
:mod:`impactsim.calibrate.targets` and :mod:`impactsim.calibrate.priors`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from impactsim.inputs import StrictModel
from impactsim.sweep.schema import Beta, LogUniform, Normal, Uniform

#: Highest number of targets and of calibrated parameters (typo guards).
MAX_TARGETS = 200
MAX_PARAMETERS = 50

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")]
Label = Annotated[str, Field(min_length=1, max_length=100)]
Count = Annotated[int, Field(ge=0, le=10**12)]


# --------------------------------------------------------------------------- observations
class Binomial(StrictModel):
    """``count`` of ``n`` surveyed parents; the simulated value is the probability (a share)."""

    model: Literal["binomial"]
    count: Count = Field(description="number observed with the property (k)")
    n: Annotated[int, Field(ge=1, le=10**12)] = Field(description="number surveyed")

    @model_validator(mode="after")
    def _count_within_n(self) -> Binomial:
        if self.count > self.n:
            raise ValueError(
                f"count must not exceed n: {self.count} of {self.n} surveyed is impossible"
            )
        return self

    @property
    def observed(self) -> float:
        """The observed share ``count / n``."""
        return self.count / self.n


class Poisson(StrictModel):
    """An observed count whose mean is ``scale`` times the simulated count."""

    model: Literal["poisson"]
    count: Count = Field(description="observed count")
    scale: Annotated[float, Field(gt=0.0)] = Field(
        1.0, description="observed population / simulated population (the mean's multiplier)"
    )

    @property
    def observed(self) -> float:
        """The observed count."""
        return float(self.count)


class NegativeBinomial(StrictModel):
    """An over-dispersed count: mean ``scale`` x simulated, variance mean + mean^2 / dispersion."""

    model: Literal["negative_binomial"]
    count: Count = Field(description="observed count")
    dispersion: Annotated[float, Field(gt=0.0)] = Field(
        description="size parameter r: variance = mean + mean^2 / r (large r: Poisson)"
    )
    scale: Annotated[float, Field(gt=0.0)] = Field(
        1.0, description="observed population / simulated population (the mean's multiplier)"
    )

    @property
    def observed(self) -> float:
        """The observed count."""
        return float(self.count)


class NormalObservation(StrictModel):
    """An observed value with a standard error, in the metric's own unit."""

    model: Literal["normal"]
    value: float = Field(description="observed value, in the metric's unit")
    se: Annotated[float, Field(gt=0.0)] = Field(description="standard error of the value")

    @property
    def observed(self) -> float:
        """The observed value."""
        return self.value


Observation = Annotated[
    Binomial | Poisson | NegativeBinomial | NormalObservation, Field(discriminator="model")
]
OBSERVATION_MODELS = ("binomial", "poisson", "negative_binomial", "normal")


# --------------------------------------------------------------------------- targets
class Target(StrictModel):
    """One observation: a tidy output of impactsim and how it was observed."""

    name: Identifier = Field(description="short name of the target (unique)")
    description: str = Field("", max_length=2000)
    source: str = Field("", max_length=2000, description="where the number comes from")
    metric: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,99}$")] = Field(
        description="metric name of impactsim's summary (no month) or time series (month)"
    )
    month: Annotated[int, Field(ge=0)] | None = Field(
        None, description="month of the time series (omitted: the horizon summary)"
    )
    months: tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(ge=0)]] | None = Field(
        None,
        strict=False,
        description="[first, last] month window of the time series: the sum of a monthly "
        "count (enrolments), the mean of anything else",
    )
    segment: Label = "all"
    intervention: Label = "all"
    channel: Label = "all"
    observed: Observation

    @model_validator(mode="after")
    def _one_time(self) -> Target:
        if self.month is not None and self.months is not None:
            raise ValueError("give month or months, not both")
        if self.months is not None and self.months[0] > self.months[1]:
            raise ValueError(
                f"months must be [first, last] with first <= last (got {list(self.months)})"
            )
        return self


class TargetsFile(StrictModel):
    """Top level of a targets file."""

    name: Identifier | None = None
    description: str = Field("", max_length=5000)
    targets: list[Target] = Field(min_length=1, max_length=MAX_TARGETS)


# --------------------------------------------------------------------------- priors
# uniform, log-uniform, normal and beta priors are the sweep file's distributions (the same
# fields, ranges and messages); calibration adds the gamma prior
UniformPrior = Uniform
LogUniformPrior = LogUniform
NormalPrior = Normal
BetaPrior = Beta


class GammaPrior(StrictModel):
    """Gamma with ``shape`` and ``scale`` (mean shape x scale), shifted by ``low`` (default 0)."""

    kind: Literal["gamma"]
    shape: Annotated[float, Field(gt=0.0)]
    scale: Annotated[float, Field(gt=0.0)]
    low: float = 0.0


Prior = Annotated[
    UniformPrior | LogUniformPrior | NormalPrior | BetaPrior | GammaPrior,
    Field(discriminator="kind"),
]
PRIORS = ("uniform", "loguniform", "normal", "beta", "gamma")


class CalibratedParameter(StrictModel):
    """One calibrated scenario field: a dotted path and its prior."""

    path: str = Field(
        min_length=1,
        max_length=500,
        description="dotted path into the scenario, e.g. channels.website.referral_strength; "
        "'*' stands for every item of a list (population.segments.*.contact_rates.online): "
        "one value for all the fields it matches",
    )
    name: Identifier | None = Field(None, description="short column name (default: the path)")
    relative: bool = Field(
        False,
        description="true: the value multiplies each matched field's value in the scenario "
        "(a common factor that keeps their ratios); false: it replaces them",
    )
    prior: Prior
    description: str = Field("", max_length=2000)
    source: str = Field("", max_length=2000, description="where the prior comes from")

    @property
    def label(self) -> str:
        """Column name of this parameter."""
        return self.name or self.path


class ParametersFile(StrictModel):
    """Top level of a calibration parameters file."""

    name: Identifier | None = None
    description: str = Field("", max_length=5000)
    parameters: list[CalibratedParameter] = Field(min_length=1, max_length=MAX_PARAMETERS)
