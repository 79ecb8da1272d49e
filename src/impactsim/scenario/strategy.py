"""The strategy: which interventions are offered, through which channels and providers, when."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from impactsim.inputs import StrictModel
from impactsim.scenario.costs import StrategyCosts
from impactsim.scenario.fields import Month, Name


class Offer(StrictModel):
    """One intervention offered through channels and delivered by providers."""

    intervention: Name = Field(description="intervention offered")
    channels: list[Name] = Field(
        default_factory=list, description="channels that promote and refer to it"
    )
    providers: list[Name] = Field(
        min_length=1, description="provider types that may adopt and deliver it"
    )
    start_month: Month = Field(0.0, description="month from which it is offered (months)")
    end_month: Month | None = Field(None, description="month at which the offer ends; null = never")
    neighbourhoods: list[Name] | None = Field(
        None,
        description="neighbourhoods whose families the offer is open to; null = all",
    )


class Interaction(StrictModel):
    """Interaction of two interventions received by the same parent."""

    interventions: Annotated[list[Name], Field(min_length=2, max_length=2)] = Field(
        description="the two interventions"
    )
    gamma: Annotated[float, Field(ge=-1.0, le=5.0)] = Field(
        description=(
            "interaction γ: a parent with both gets d_A + d_B + γ·min(d_A, d_B) "
            "(dimensionless; negative = overlap, positive = synergy)"
        )
    )


class Strategy(StrictModel):
    """What the municipality offers: interventions, channels, providers, timing."""

    name: str = Field("strategy", max_length=200, description="strategy label")
    offers: list[Offer] = Field(
        default_factory=list,
        description="interventions offered; an empty list simulates the no-programme world",
    )
    interactions: list[Interaction] = Field(
        default_factory=list, description="pairwise interaction effects of combinations"
    )
    costs: StrategyCosts = Field(
        default_factory=StrategyCosts,
        description="costs of the strategy as a whole, e.g. coordination (euros)",
    )
