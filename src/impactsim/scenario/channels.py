"""Channels: the routes by which parents learn about and are referred to programmes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from impactsim.inputs import StrictModel
from impactsim.scenario.costs import ChannelCosts
from impactsim.scenario.fields import CoefficientOfVariation, Month, Name, RatePerMonth

ChannelKind = Literal[
    "online",
    "youth_health_care",
    "school",
    "community_centre",
    "media",
    "social_media",
    "primary_care",
    "youth_care",
    "street_work",
    "other",
]


class Channel(StrictModel):
    """A route by which parents learn about and are referred to programmes."""

    name: Name = Field(description="channel identifier")
    kind: ChannelKind = Field("other", description="kind of channel (descriptive)")
    referral_strength: RatePerMonth = Field(
        description=(
            "hazard per month that a parent made aware through this channel enrols (per month); "
            "scaled by the adopter category's channel multiplier"
        )
    )
    referral_strength_cv: CoefficientOfVariation = Field(
        0.0,
        description=(
            "uncertainty of the referral strength between replicates: each replicate "
            "multiplies it by a gamma draw with mean 1 and this coefficient of variation "
            "(fraction); 0 = known"
        ),
    )
    start_month: Month = Field(0.0, description="month from which the channel is active (months)")
    end_month: Month | None = Field(
        None, description="month at which the channel stops (months); null = never"
    )
    target_adopter_categories: (
        list[Literal["innovators", "early_adopters", "early_majority", "late_majority", "laggards"]]
        | None
    ) = Field(
        None,
        description=(
            "adopter categories this channel contacts (e.g. recruiting innovators and early "
            "adopters first, to test Rogers' critical mass); null = all parents"
        ),
    )
    neighbourhoods: list[Name] | None = Field(
        None,
        description=(
            "neighbourhoods whose families this channel contacts (a community centre its own "
            "neighbourhood, a school its catchment); null = all"
        ),
    )
    costs: ChannelCosts = Field(
        default_factory=ChannelCosts, description="costs of running the channel (euros)"
    )
