"""Simulation settings (horizon, time step, replicates, seed) and the outcome definition."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from impactsim.i18n import Message
from impactsim.inputs import StrictModel
from impactsim.scenario.fields import Name

#: Largest base seed (numpy's SeedSequence takes any non-negative integer; the resolved
#: scenario is validated again, so the run and the file it writes agree).
MAX_SEED = 2**63 - 1


class Simulation(StrictModel):
    """Monte Carlo and time settings."""

    months: Annotated[int, Field(ge=1, le=1200)] = Field(
        120, description="simulated horizon (months)"
    )
    dt_months: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        1.0,
        description=(
            "time step (months); rates are hazards per month turned into per-step "
            "probabilities 1 - exp(-rate·dt); months must be a whole number of steps"
        ),
    )
    replicates: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        50, description="Monte Carlo replicates (count)"
    )
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = Field(
        20201, description="base random seed (non-negative integer)"
    )

    @model_validator(mode="after")
    def _whole_steps(self) -> Simulation:
        steps = self.months / self.dt_months
        if (
            abs(steps - round(steps)) > 1e-6
            or abs(1.0 / self.dt_months - round(1.0 / self.dt_months)) > 1e-6
        ):
            raise ValueError(
                Message(
                    "dt_months={dt} must divide one month into a whole number of steps "
                    "(e.g. 1, 0.5, 0.25, 0.1)",
                    dt=self.dt_months,
                )
            )
        if round(steps) > 30_000:
            raise ValueError(
                Message(
                    "months/dt_months = {steps:.0f} steps; at most 30000 are supported",
                    steps=steps,
                )
            )
        return self

    @property
    def steps_per_month(self) -> int:
        """Number of time steps per month."""
        return round(1.0 / self.dt_months)


class Outcome(StrictModel):
    """The problem outcome whose prevalence defines public impact."""

    name: str = Field(
        "child behaviour problems (clinical/borderline range)",
        max_length=200,
        description="outcome label",
    )
    problem_cutoff: Annotated[float, Field(ge=-10.0, le=10.0)] = Field(
        0.0,
        description=(
            "cut-off on the latent problem score z above which a parent counts as a case "
            "(SD units); segment means are set so that P(z > cut-off) = baseline prevalence"
        ),
    )
    minimal_important_change: Annotated[float, Field(gt=0.0, le=5.0)] = Field(
        0.2,
        description="improvement counted as a realized effect (SD units on the problem score)",
    )
    target_segments: list[Name] | None = Field(
        None,
        description="segments forming the target population of reach and impact; null = all",
    )
    baseline_prevalence: dict[Name, Annotated[float, Field(gt=0.0, lt=1.0)]] | None = Field(
        None,
        description=(
            "per segment: share of parents above the cut-off without programmes (fraction); "
            "null = the segments' baseline_prevalence (the first outcome only: each outcome "
            "after it names every segment)"
        ),
    )
