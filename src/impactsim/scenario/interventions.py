"""Interventions: the programmes for parents, their effects, eligibility and sequencing."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from impactsim.inputs import StrictModel
from impactsim.scenario.costs import InterventionCosts
from impactsim.scenario.fields import Month, Name, Probability, RatePerMonth


class EffectSize(StrictModel):
    """Effect size of a programme as Cohen's d on the latent problem score."""

    mean: Annotated[float, Field(ge=-5.0, le=5.0)] = Field(
        description="mean effect size in completers (Cohen's d, SD units; positive = fewer problems)"
    )
    sd: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        0.0,
        description=(
            "uncertainty of the effect size: SD of the normal distribution from which d is drawn "
            "once per replicate (SD units)"
        ),
    )


class Eligibility(StrictModel):
    """Who may take part."""

    segments: list[Name] | None = Field(
        None, description="segments that may take part (selective offer); null = all segments"
    )
    min_problem_score: Annotated[float, Field(ge=-10.0, le=10.0)] | None = Field(
        None,
        description=(
            "indicated offer: only parents whose current latent problem score exceeds this value "
            "(SD units, same scale as outcome.problem_cutoff); null = no score condition"
        ),
    )


class FollowUp(StrictModel):
    """Sequencing: a programme offered only after completing another one (booster, step)."""

    after: Name = Field(description="intervention that must be completed first")
    delay_months: Month = Field(
        0.0, description="months after completing `after` before this one can start (months)"
    )
    referral_rate_per_month: RatePerMonth = Field(
        0.0,
        description=(
            "hazard per month that an eligible completer is referred by the first programme's "
            "provider and enrols (per month), on top of channels and word of mouth"
        ),
    )


class Intervention(StrictModel):
    """A prevention programme for parents."""

    name: Name = Field(description="intervention identifier")
    label: str = Field("", max_length=200, description="human-readable label")
    level: Literal["universal", "selective", "indicated"] = Field(
        "universal", description="prevention level (descriptive; eligibility sets who may join)"
    )
    eligibility: Eligibility = Field(default_factory=Eligibility, description="who may take part")
    duration_months: Annotated[float, Field(gt=0.0, le=120.0)] = Field(
        description="time from enrolment to completion (months)"
    )
    dropout_rate_per_month: RatePerMonth = Field(
        0.0, description="hazard per month that an enrolled parent drops out (per month)"
    )
    dropout_multiplier: dict[Name, Annotated[float, Field(ge=0.0, le=100.0)]] = Field(
        default_factory=dict,
        description="per segment: multiplier on the dropout hazard (dimensionless; default 1)",
    )
    effect_size: EffectSize = Field(
        description="effect in completers (Cohen's d) on the outcome, or the first of `outcomes`"
    )
    effect_sizes: dict[Name, EffectSize] = Field(
        default_factory=dict,
        description=(
            "effects in completers (Cohen's d) on the other outcomes of `outcomes`, by "
            "outcome name; an outcome not named is not moved"
        ),
    )
    effect_multiplier: dict[Name, Annotated[float, Field(ge=0.0, le=10.0)]] = Field(
        default_factory=dict,
        description="per segment: multiplier on the effect, the differential effect (default 1)",
    )
    effect_half_life_months: Annotated[float, Field(gt=0.0, le=10_000.0)] | None = Field(
        None, description="half-life of the effect after onset (months); null = no decay"
    )
    sleeper_delay_months: Month = Field(
        0.0, description="delay between completion (or dropout) and effect onset (months)"
    )
    imitation_rate_per_month: RatePerMonth = Field(
        0.0,
        description=(
            "word of mouth: hazard per month of enrolling per unit share of network neighbours "
            "who take or took part (per month; Bass q)"
        ),
    )
    spillover_fraction: Probability = Field(
        0.0,
        description=(
            "fraction of a completer's effect passed to each network neighbour (fraction); "
            "the gain decays at the effect half-life"
        ),
    )
    max_wait_months: Annotated[float, Field(ge=0.0, le=120.0)] = Field(
        3.0,
        description="maximum time on the waiting list before a parent gives up (months)",
    )
    follow_up: FollowUp | None = Field(
        None, description="offer only after completing another intervention (booster, stepped care)"
    )
    costs: InterventionCosts = Field(
        default_factory=InterventionCosts,
        description="delivery costs: per participant, per completer, per provider (euros)",
    )
