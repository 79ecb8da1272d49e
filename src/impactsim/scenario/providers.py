"""Providers: the organisations that adopt and deliver programmes."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import Field, model_validator

from impactsim.i18n import Message
from impactsim.inputs import StrictModel
from impactsim.scenario.fields import CoefficientOfVariation, Name, Probability, RatePerMonth


class Provider(StrictModel):
    """A type of provider organisation (e.g. youth health care teams) that delivers programmes."""

    name: Name = Field(description="provider type identifier")
    count: Annotated[int, Field(ge=0, le=100_000)] = Field(
        description="number of organisations of this type (count)"
    )
    neighbourhoods: list[Name] | None = Field(
        None,
        description=(
            "neighbourhoods whose families these organisations serve; null = all. The "
            "providers of one offer must serve the same neighbourhoods"
        ),
    )
    capacity_per_month: Annotated[float, Field(ge=0.0, le=1e7)] | None = Field(
        10.0,
        description=(
            "new places per organisation per month for each programme it offers "
            "(participants per month); null = unlimited (e.g. an online platform)"
        ),
    )
    fidelity: Probability = Field(
        0.8,
        description="mean fidelity of delivery; scales the effect delivered (fraction, 0-1)",
    )
    fidelity_sd: Annotated[float, Field(ge=0.0, le=0.5)] = Field(
        0.0,
        description="spread of fidelity between organisations, Beta distributed (fraction)",
    )
    innovation_rate_per_month: RatePerMonth = Field(
        0.05,
        description="hazard per month that an organisation adopts a programme on its own (per month)",
    )
    imitation_rate_per_month: RatePerMonth = Field(
        0.1,
        description=(
            "hazard per month of adoption per unit share of same-type organisations already "
            "offering the programme (per month)"
        ),
    )
    adoption_rate_cv: CoefficientOfVariation = Field(
        0.0,
        description=(
            "uncertainty of the innovation and imitation rates between replicates: each "
            "replicate multiplies both by one gamma draw with mean 1 and this coefficient of "
            "variation (fraction); 0 = known"
        ),
    )
    discontinuation_rate_per_month: RatePerMonth = Field(
        0.0,
        description="hazard per month that an offering organisation stops for good (per month)",
    )
    initial_offer_share: Probability = Field(
        0.0,
        description="share of organisations offering each assigned programme at its start (fraction)",
    )

    @model_validator(mode="after")
    def _fidelity_sd_feasible(self) -> Provider:
        var_max = self.fidelity * (1.0 - self.fidelity)
        if self.fidelity_sd > 0 and self.fidelity_sd**2 >= var_max:
            raise ValueError(
                Message(
                    "fidelity_sd {sd} is too large for a Beta distribution with mean "
                    "{mean}: it must be below {most:.4g}",
                    sd=self.fidelity_sd,
                    mean=self.fidelity,
                    most=math.sqrt(var_max),
                )
            )
        return self
