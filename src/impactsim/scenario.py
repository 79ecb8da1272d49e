"""Scenario schema: pydantic v2 models for impactsim scenario files.

A scenario describes one municipality (population, channels, providers), the
interventions available, the strategy that offers them, the simulation settings
and the outcome definition. Every field carries its unit in its description;
``docs/scenario.md`` is generated from this module (``python -m impactsim.docgen``)
and a test keeps the two in step.

Loading goes through :func:`impactsim.io_yaml.load_scenario`, which uses
``yaml.safe_load`` semantics and turns validation errors into messages that
name the file, the field path, the value and what is allowed.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from impactsim.inputs import StrictModel

#: The five adopter categories of Rogers' diffusion of innovations, in order.
ADOPTER_CATEGORIES: tuple[str, ...] = (
    "innovators",
    "early_adopters",
    "early_majority",
    "late_majority",
    "laggards",
)

Name = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$",
        description="identifier: a letter, then letters, digits, '_' or '-' (at most 64)",
    ),
]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
#: Monthly hazards are capped: a rate of 1000 per month is already 'at once' for any step.
RatePerMonth = Annotated[float, Field(ge=0.0, le=1000.0)]
Month = Annotated[float, Field(ge=0.0, le=1200.0)]


# --------------------------------------------------------------------------- costs
#: Stakeholders every scenario knows; ``economics.stakeholders`` adds user-defined ones.
DEFAULT_STAKEHOLDERS: tuple[str, ...] = (
    "municipality",
    "health_insurer",
    "education",
    "justice",
    "families",
)

#: Euro amounts: non-negative, at most ten billion (a typo guard).
Euro = Annotated[float, Field(ge=0.0, le=1e10)]
#: Coefficient of variation of a gamma-distributed amount (SD / mean).
CoefficientOfVariation = Annotated[float, Field(ge=0.0, le=5.0)]

_CV_DESCRIPTION = (
    "coefficient of variation (SD / mean) of the gamma distribution from which these amounts "
    "are drawn once per replicate (dimensionless); null = economics.cost_cv"
)


class InterventionCosts(StrictModel):
    """Costs of delivering one intervention (euros at the price level of economics.price_year).

    Each amount is the *mean*; per replicate it is multiplied by a gamma draw with mean 1
    and coefficient of variation ``cv`` (see docs/economics.md).
    """

    per_participant_month_eur: Euro = Field(
        0.0,
        description="variable cost per parent-month enrolled (euros per participant-month)",
    )
    per_enrolment_eur: Euro = Field(
        0.0, description="one-off cost per enrolment, e.g. intake (euros per enrolment)"
    )
    per_completer_eur: Euro = Field(
        0.0, description="cost per parent who completes, e.g. certificate (euros per completer)"
    )
    per_provider_adoption_eur: Euro = Field(
        0.0,
        description=(
            "one-off cost per provider organisation when it starts offering, e.g. training "
            "and licence (euros per adopting organisation)"
        ),
    )
    per_provider_year_eur: Euro = Field(
        0.0,
        description=(
            "fixed cost per provider organisation per year while it offers the intervention, "
            "e.g. supervision, licence renewal (euros per organisation-year)"
        ),
    )
    cv: CoefficientOfVariation | None = Field(None, description=_CV_DESCRIPTION)


class ChannelCosts(StrictModel):
    """Costs of running a channel (campaign, referral route) while it promotes an offer."""

    per_month_active_eur: Euro = Field(
        0.0,
        description=(
            "cost per month in which the channel is active and promotes at least one offered "
            "intervention (euros per month)"
        ),
    )
    per_contact_eur: Euro = Field(
        0.0,
        description=(
            "cost per contact while active; contacts = contact rate x parents present "
            "(euros per contact)"
        ),
    )
    cv: CoefficientOfVariation | None = Field(None, description=_CV_DESCRIPTION)


class StrategyCosts(StrictModel):
    """Costs of running the strategy as a whole (the collective-impact overhead)."""

    coordination_per_year_eur: Euro = Field(
        0.0,
        description=(
            "coordination cost per year while at least one intervention is offered, e.g. a "
            "programme coordinator and partner meetings (euros per year)"
        ),
    )
    cv: CoefficientOfVariation | None = Field(None, description=_CV_DESCRIPTION)


# --------------------------------------------------------------------------- population
class AdopterShares(StrictModel):
    """Shares of a segment's parents in each Rogers adopter category (must sum to 1)."""

    innovators: Probability = Field(0.025, description="share of innovators (fraction, 0-1)")
    early_adopters: Probability = Field(
        0.135, description="share of early adopters (fraction, 0-1)"
    )
    early_majority: Probability = Field(
        0.34, description="share of the early majority (fraction, 0-1)"
    )
    late_majority: Probability = Field(
        0.34, description="share of the late majority (fraction, 0-1)"
    )
    laggards: Probability = Field(0.16, description="share of laggards (fraction, 0-1)")

    @model_validator(mode="after")
    def _sum_to_one(self) -> AdopterShares:
        total = sum(getattr(self, c) for c in ADOPTER_CATEGORIES)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"adopter shares must sum to 1 (they sum to {total:.6g})")
        return self

    def as_tuple(self) -> tuple[float, ...]:
        """Return the shares in the order of :data:`ADOPTER_CATEGORIES`."""
        return tuple(getattr(self, c) for c in ADOPTER_CATEGORIES)


class AdopterCategory(StrictModel):
    """How one adopter category responds to channels and to word of mouth."""

    channel_multiplier: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        1.0,
        description="multiplier on the channel referral hazard (dimensionless, >= 0)",
    )
    imitation_multiplier: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        1.0,
        description="multiplier on the word-of-mouth imitation hazard (dimensionless, >= 0)",
    )
    social_threshold: Probability = Field(
        0.0,
        description=(
            "social-proof threshold: share of network neighbours taking or having taken part "
            "below which this category ignores word of mouth (fraction, 0-1)"
        ),
    )


def _category(ch: float, im: float, th: float) -> AdopterCategory:
    return AdopterCategory(channel_multiplier=ch, imitation_multiplier=im, social_threshold=th)


class AdopterCategories(StrictModel):
    """Behaviour of each Rogers category.

    Defaults are assumptions (the source report gives no numbers): innovators
    respond most to channels and need no social proof; the majority follows
    neighbours; laggards respond least and only once a tenth of their
    neighbours took part.
    """

    innovators: AdopterCategory = Field(
        default_factory=lambda: _category(3.0, 0.5, 0.0),
        description="innovators (first 2.5 % in Rogers' scheme)",
    )
    early_adopters: AdopterCategory = Field(
        default_factory=lambda: _category(2.0, 1.0, 0.0),
        description="early adopters (next 13.5 %)",
    )
    early_majority: AdopterCategory = Field(
        default_factory=lambda: _category(1.0, 1.0, 0.0),
        description="early majority (next 34 %)",
    )
    late_majority: AdopterCategory = Field(
        default_factory=lambda: _category(0.6, 1.2, 0.05),
        description="late majority (next 34 %)",
    )
    laggards: AdopterCategory = Field(
        default_factory=lambda: _category(0.3, 0.8, 0.10),
        description="laggards (last 16 %)",
    )

    def ordered(self) -> list[AdopterCategory]:
        """Return the categories in the order of :data:`ADOPTER_CATEGORIES`."""
        return [getattr(self, c) for c in ADOPTER_CATEGORIES]


class Segment(StrictModel):
    """A group of parents sharing risk level, education/income and cultural background."""

    name: Name = Field(description="segment identifier")
    label: str = Field("", max_length=200, description="human-readable label for reports")
    share: Probability = Field(description="share of all families in this segment (fraction)")
    baseline_prevalence: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        description=(
            "share of parents in this segment above the problem cut-off without any programme "
            "(fraction, strictly between 0 and 1)"
        )
    )
    advantage_rank: Annotated[int, Field(ge=1, le=1000)] = Field(
        1,
        description=(
            "socio-economic advantage rank, 1 = most advantaged; differential impact compares "
            "the lowest and the highest rank (integer)"
        ),
    )
    adopter_shares: AdopterShares = Field(
        default_factory=AdopterShares,
        description="shares of adopter categories (default Rogers 2.5/13.5/34/34/16 %)",
    )
    contact_rates: dict[Name, RatePerMonth] = Field(
        default_factory=dict,
        description=(
            "per channel name: rate at which a parent of this segment is contacted by that "
            "channel (contacts per parent per month); channels not listed never reach the segment"
        ),
    )
    relative_degree: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        1.0,
        description="network degree of this segment relative to the population mean (dimensionless)",
    )


class Network(StrictModel):
    """Social network among parents, the carrier of word of mouth and spillover."""

    kind: Literal["random", "fully_mixed"] = Field(
        "random",
        description=(
            "'random': a random graph with homophily by segment; 'fully_mixed': mean-field "
            "mixing (every parent sees population shares), used for validation"
        ),
    )
    mean_degree: Annotated[float, Field(ge=0.0, le=200.0)] = Field(
        10.0, description="mean number of network neighbours per parent (ties)"
    )
    homophily: Probability = Field(
        0.6,
        description=(
            "probability that a tie is drawn within the parent's own segment rather than from "
            "the whole population (fraction, 0 = random mixing, 1 = segments isolated)"
        ),
    )


class Population(StrictModel):
    """The families with children in the municipality."""

    size: Annotated[int, Field(ge=1, le=50_000_000)] = Field(
        20_000, description="number of families (parents) simulated (count)"
    )
    segments: list[Segment] = Field(min_length=1, max_length=64, description="population segments")
    adopter_categories: AdopterCategories = Field(
        default_factory=AdopterCategories,
        description="response of each Rogers adopter category to channels and word of mouth",
    )
    network: Network = Field(default_factory=Network, description="social network settings")
    turnover_rate_per_month: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.0,
        description=(
            "hazard per month that a family leaves (children ageing out) and is replaced by an "
            "entrant drawn from the same segment mix (per month); e.g. 1/96 for children 0-7"
        ),
    )

    @model_validator(mode="after")
    def _check_segments(self) -> Population:
        names = [s.name for s in self.segments]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"segment names must be unique; repeated: {', '.join(dupes)}")
        total = sum(s.share for s in self.segments)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"segment shares must sum to 1 (they sum to {total:.6g})")
        return self


# --------------------------------------------------------------------------- channels
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
    costs: ChannelCosts = Field(
        default_factory=ChannelCosts, description="costs of running the channel (euros)"
    )


# --------------------------------------------------------------------------- providers
class Provider(StrictModel):
    """A type of provider organisation (e.g. youth health care teams) that delivers programmes."""

    name: Name = Field(description="provider type identifier")
    count: Annotated[int, Field(ge=0, le=100_000)] = Field(
        description="number of organisations of this type (count)"
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
                f"fidelity_sd {self.fidelity_sd} is too large for a Beta distribution with mean "
                f"{self.fidelity}: it must be below {math.sqrt(var_max):.4g}"
            )
        return self


# --------------------------------------------------------------------------- interventions
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
    effect_size: EffectSize = Field(description="effect in completers (Cohen's d)")
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


# --------------------------------------------------------------------------- strategy
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


# --------------------------------------------------------------------------- simulation, outcome
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
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = Field(
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
                f"dt_months={self.dt_months} must divide one month into a whole number of steps "
                "(e.g. 1, 0.5, 0.25, 0.1)"
            )
        if round(steps) > 30_000:
            raise ValueError(f"months/dt_months = {steps:.0f} steps; at most 30000 are supported")
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


# --------------------------------------------------------------------------- economics
#: Longest lag of a linked outcome accepted (years): a child's outcomes into adulthood.
MAX_LAG_YEARS = 50.0

#: Annual discount rates of the Dutch guideline for economic evaluation in health care
#: (Zorginstituut Nederland, 2016): costs 4 %, effects 1.5 %.
DUTCH_DISCOUNT_RATE_COSTS = 0.04
DUTCH_DISCOUNT_RATE_EFFECTS = 0.015

#: Dutch youth-care spending per client per year, about EUR 12,000 in 2019 (docs/economics.md).
DEFAULT_VALUE_PER_CASE_YEAR_EUR = 12_000.0

DiscountRate = Annotated[float, Field(ge=0.0, le=0.5)]


class CaseYearValue(StrictModel):
    """Money one stakeholder saves per prevented problem-case-year."""

    stakeholder: Name = Field(
        description="who saves the money: a default stakeholder or one in economics.stakeholders"
    )
    eur_per_case_year: Euro = Field(
        description="value of one prevented problem-case-year to this stakeholder (euros per case-year)"
    )
    cv: CoefficientOfVariation | None = Field(
        None,
        description=(
            "coefficient of variation of the gamma distribution of this value, drawn once per "
            "replicate (dimensionless); null = economics.value_cv"
        ),
    )


class LinkedOutcome(StrictModel):
    """An effect chain: each prevented case-year avoids a later cost with some probability."""

    name: Name = Field(description="linked outcome identifier, e.g. out_of_home_placement")
    stakeholder: Name = Field(
        description="who saves the money: a default stakeholder or one in economics.stakeholders"
    )
    cost_avoided_eur: Euro = Field(
        description="cost of one occurrence of the linked outcome (euros per occurrence)"
    )
    probability_per_case_year: Probability = Field(
        description=(
            "occurrences of the linked outcome avoided per prevented problem-case-year "
            "(probability, 0-1)"
        )
    )
    lag_years: Annotated[float, Field(ge=0.0)] = Field(
        0.0,
        description=(
            "time from the prevented case-year to the avoided cost (years, at most "
            f"{MAX_LAG_YEARS:g}); amounts falling after the last counted year are not counted"
        ),
    )
    cv: CoefficientOfVariation | None = Field(
        None,
        description=(
            "coefficient of variation of the gamma distribution of the avoided cost, drawn once "
            "per replicate (dimensionless); null = economics.value_cv"
        ),
    )

    @field_validator("lag_years")
    @classmethod
    def _sensible_lag(cls, value: float) -> float:
        if value > MAX_LAG_YEARS:
            raise ValueError(
                f"lag of {value:g} years is beyond any sensible horizon (at most "
                f"{MAX_LAG_YEARS:g} years: a child's outcomes into adulthood)"
            )
        return value


class Extrapolation(StrictModel):
    """Rule for benefits after the simulated horizon (off by default).

    When enabled, the programme is assumed to stop at the horizon (no further costs or
    participants) and the prevented cases present at the horizon fade at the half-life
    for ``years`` more years; linked outcomes falling in that window count too.
    """

    enabled: bool = Field(
        False, description="count benefits after the simulated horizon (true/false)"
    )
    years: Annotated[float, Field(gt=0.0, le=MAX_LAG_YEARS)] = Field(
        5.0, description="years after the horizon that are counted when enabled (years)"
    )
    half_life_years: Annotated[float, Field(gt=0.0, le=1000.0)] | None = Field(
        None,
        description=(
            "half-life of the prevented cases after the horizon (years); null = the "
            "enrolment-weighted decay rate of the offered interventions' effect half-lives"
        ),
    )


def _default_case_year_values() -> list[dict[str, object]]:
    return [{"stakeholder": "municipality", "eur_per_case_year": DEFAULT_VALUE_PER_CASE_YEAR_EUR}]


def _default_wtp_grid() -> list[float]:
    return [5000.0 * i for i in range(21)]


class Economics(StrictModel):
    """Discounting, monetised benefits, stakeholders and cost-effectiveness settings.

    Defaults: discount rates of the Dutch guideline for economic evaluation in health care
    (2016), costs 4 % and effects/benefits 1.5 % a year; a prevented problem-case-year saves
    the municipality about EUR 12,000 (Dutch youth-care spending per client per year, 2019).
    See docs/economics.md for every formula and source.
    """

    discount_rate_costs_per_year: DiscountRate = Field(
        DUTCH_DISCOUNT_RATE_COSTS,
        description="annual discount rate of costs (fraction per year; Dutch guideline 2016: 0.04)",
    )
    discount_rate_effects_per_year: DiscountRate = Field(
        DUTCH_DISCOUNT_RATE_EFFECTS,
        description=(
            "annual discount rate of effects and monetised benefits (fraction per year; Dutch "
            "guideline 2016: 0.015)"
        ),
    )
    price_year: Annotated[int, Field(ge=1900, le=2200)] = Field(
        2019, description="price level of every euro amount in the scenario (calendar year)"
    )
    stakeholders: list[Name] = Field(
        default_factory=list,
        max_length=32,
        description=(
            "user-defined stakeholders in addition to municipality, health_insurer, education, "
            "justice and families"
        ),
    )
    case_year_values: list[CaseYearValue] = Field(
        default_factory=_default_case_year_values,
        max_length=64,
        description=(
            "value of a prevented problem-case-year per stakeholder (euros per case-year); "
            "default: municipality 12000 (youth-care spending per client-year, 2019)"
        ),
    )
    linked_outcomes: list[LinkedOutcome] = Field(
        default_factory=list,
        max_length=64,
        description="effect chains: later costs avoided per prevented case-year",
    )
    extrapolation: Extrapolation = Field(
        default_factory=Extrapolation,
        description="switchable rule for benefits after the simulated horizon (default off)",
    )
    cost_cv: CoefficientOfVariation = Field(
        0.2,
        description=(
            "default coefficient of variation of every cost amount, gamma distributed and "
            "drawn once per replicate (dimensionless; 0 = no cost uncertainty)"
        ),
    )
    value_cv: CoefficientOfVariation = Field(
        0.0,
        description=(
            "default coefficient of variation of every monetised benefit amount, gamma "
            "distributed and drawn once per replicate (dimensionless; 0 = fixed values)"
        ),
    )
    willingness_to_pay_eur_per_case_year: Euro = Field(
        20_000.0,
        description=(
            "willingness to pay for one prevented problem-case-year, used for the net monetary "
            "benefit and p_cost_effective (euros per case-year)"
        ),
    )
    wtp_grid_eur_per_case_year: list[Euro] = Field(
        default_factory=_default_wtp_grid,
        min_length=1,
        max_length=1000,
        description=(
            "willingness-to-pay values of the cost-effectiveness acceptability curve "
            "(euros per case-year); default 0 to 100000 in steps of 5000"
        ),
    )

    @property
    def all_stakeholders(self) -> list[str]:
        """Default stakeholders followed by the user-defined ones (no repeats)."""
        extra = [s for s in self.stakeholders if s not in DEFAULT_STAKEHOLDERS]
        return [*DEFAULT_STAKEHOLDERS, *dict.fromkeys(extra)]


# --------------------------------------------------------------------------- scenario
class Scenario(StrictModel):
    """A complete impactsim scenario."""

    name: Name = Field(description="scenario identifier")
    description: str = Field("", max_length=5000, description="what the scenario represents")
    population: Population = Field(description="the families with children")
    channels: list[Channel] = Field(default_factory=list, description="awareness/referral channels")
    providers: list[Provider] = Field(
        default_factory=list, description="provider organisation types"
    )
    interventions: list[Intervention] = Field(
        default_factory=list, description="programmes that can be offered"
    )
    strategy: Strategy = Field(default_factory=Strategy, description="what is offered, how, when")
    simulation: Simulation = Field(default_factory=Simulation, description="time and Monte Carlo")
    outcome: Outcome = Field(default_factory=Outcome, description="problem outcome definition")
    economics: Economics = Field(
        default_factory=Economics,
        description="costs and benefits: discounting, monetised outcomes, stakeholders",
    )

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        found = cross_reference_problems(self.model_dump())
        if found:
            raise ValueError("; ".join(f"{path}: {msg}" for path, msg in found))
        return self

    @property
    def offered_interventions(self) -> list[Intervention]:
        """Interventions in the order of the strategy's offers."""
        by_name = {iv.name: iv for iv in self.interventions}
        return [by_name[o.intervention] for o in self.strategy.offers]

    def without_programme(self) -> Scenario:
        """Return a copy of this scenario with nothing offered (the counterfactual world)."""
        data = self.model_dump()
        data["strategy"]["offers"] = []
        data["strategy"]["interactions"] = []
        return Scenario.model_validate(data)


# --------------------------------------------------------------------------- cross references
def _items(data: object, key: str) -> list[tuple[int, dict]]:
    seq = data.get(key) if isinstance(data, dict) else None
    if not isinstance(seq, list):
        return []
    return [(i, x) for i, x in enumerate(seq) if isinstance(x, dict)]


def _names(items: list[tuple[int, dict]]) -> list[str]:
    return [x["name"] for _, x in items if isinstance(x.get("name"), str)]


def _strs(value: object) -> list[str]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    if isinstance(value, dict):
        return [v for v in value if isinstance(v, str)]
    return []


def cross_reference_problems(data: object) -> list[tuple[str, str]]:
    """Check names that refer to other sections (channels, segments, providers, interventions).

    Works on the raw document, tolerating malformed parts (those get their own field errors),
    so that a file with both field errors and broken references reports all of them.

    Args:
        data: the parsed scenario document (or ``Scenario.model_dump()``).

    Returns:
        ``(field path, message)`` pairs; empty when every reference resolves.
    """
    out: list[tuple[str, str]] = []
    if not isinstance(data, dict):
        return out
    pop = data.get("population") if isinstance(data.get("population"), dict) else {}
    seg_items = _items(pop, "segments")
    ch_items, pr_items, iv_items = (
        _items(data, k) for k in ("channels", "providers", "interventions")
    )
    segs, chans, provs, ivs = (set(_names(x)) for x in (seg_items, ch_items, pr_items, iv_items))

    def label(i: int, item: dict) -> str:
        return f"[{i}:{item['name']}]" if isinstance(item.get("name"), str) else f"[{i}]"

    def check(path: str, kind: str, used: list[str], allowed: set[str]) -> None:
        for n in sorted(set(used) - allowed):
            allowed_txt = ", ".join(sorted(allowed)) or f"no {kind}s defined"
            out.append((path, f"unknown {kind} '{n}' (allowed: {allowed_txt})"))

    for key, items in (
        ("channels", ch_items),
        ("providers", pr_items),
        ("interventions", iv_items),
    ):
        names = _names(items)
        rep = sorted({n for n in names if names.count(n) > 1})
        if rep:
            out.append((key, f"names must be unique; repeated: {', '.join(rep)}"))
    for i, s in seg_items:
        check(
            f"population.segments{label(i, s)}.contact_rates",
            "channel",
            _strs(s.get("contact_rates")),
            chans,
        )
    after: dict[str, str] = {}
    for i, iv in iv_items:
        base = f"interventions{label(i, iv)}"
        check(f"{base}.dropout_multiplier", "segment", _strs(iv.get("dropout_multiplier")), segs)
        check(f"{base}.effect_multiplier", "segment", _strs(iv.get("effect_multiplier")), segs)
        elig = iv.get("eligibility")
        if isinstance(elig, dict):
            check(f"{base}.eligibility.segments", "segment", _strs(elig.get("segments")), segs)
        fu = iv.get("follow_up")
        if isinstance(fu, dict) and isinstance(fu.get("after"), str):
            if fu["after"] == iv.get("name"):
                out.append((f"{base}.follow_up.after", "an intervention cannot follow itself"))
            else:
                check(f"{base}.follow_up.after", "intervention", [fu["after"]], ivs)
            if isinstance(iv.get("name"), str):
                after[iv["name"]] = fu["after"]
        if (
            isinstance(pop.get("network"), dict)
            and pop["network"].get("kind") == "fully_mixed"
            and isinstance(iv.get("spillover_fraction"), int | float)
            and iv["spillover_fraction"] > 0
        ):
            out.append(
                (
                    f"{base}.spillover_fraction",
                    "spillover needs a network: set "
                    "population.network.kind to 'random' or spillover_fraction to 0",
                )
            )
    for start in after:
        seen, node = {start}, after.get(start)
        while node is not None and node != start:
            if node in seen:
                break
            seen.add(node)
            node = after.get(node)
        if node == start:
            out.append((f"interventions[{start}].follow_up", "follow-up chain is circular"))
    strategy = data.get("strategy") if isinstance(data.get("strategy"), dict) else {}
    offer_items = _items(strategy, "offers")
    offered = [o["intervention"] for _, o in offer_items if isinstance(o.get("intervention"), str)]
    rep = sorted({n for n in offered if offered.count(n) > 1})
    if rep:
        out.append(
            (
                "strategy.offers",
                f"each intervention may be offered once; repeated: {', '.join(rep)}",
            )
        )
    for i, o in offer_items:
        base = f"strategy.offers[{i}]"
        if isinstance(o.get("intervention"), str):
            check(f"{base}.intervention", "intervention", [o["intervention"]], ivs)
        check(f"{base}.channels", "channel", _strs(o.get("channels")), chans)
        check(f"{base}.providers", "provider", _strs(o.get("providers")), provs)
        start_m, end_m = o.get("start_month", 0), o.get("end_month")
        if isinstance(end_m, int | float) and isinstance(start_m, int | float) and end_m <= start_m:
            out.append((f"{base}.end_month", f"must be after start_month ({start_m})"))
    for i, c in ch_items:
        start_m, end_m = c.get("start_month", 0), c.get("end_month")
        if isinstance(end_m, int | float) and isinstance(start_m, int | float) and end_m <= start_m:
            out.append(
                (f"channels{label(i, c)}.end_month", f"must be after start_month ({start_m})")
            )
    for i, inter in _items(strategy, "interactions"):
        pair = _strs(inter.get("interventions"))
        check(f"strategy.interactions[{i}].interventions", "intervention", pair, ivs)
        if len(pair) == 2 and pair[0] == pair[1]:
            out.append(
                (f"strategy.interactions[{i}].interventions", "needs two different interventions")
            )
    outcome = data.get("outcome") if isinstance(data.get("outcome"), dict) else {}
    check("outcome.target_segments", "segment", _strs(outcome.get("target_segments")), segs)
    out += _economics_problems(data)
    if len(iv_items) > 16:
        out.append(
            ("interventions", f"at most 16 interventions are supported (got {len(iv_items)})")
        )
    if len(ch_items) > 60:
        out.append(("channels", f"at most 60 channels are supported (got {len(ch_items)})"))
    return out


def _economics_problems(data: dict) -> list[tuple[str, str]]:
    """Cross references of the economics section: stakeholders and names."""
    out: list[tuple[str, str]] = []
    econ = data.get("economics")
    if not isinstance(econ, dict):
        return out
    extra = _strs(econ.get("stakeholders"))
    rep = sorted({n for n in extra if extra.count(n) > 1})
    if rep:
        out.append(("economics.stakeholders", f"names must be unique; repeated: {', '.join(rep)}"))
    known = [*DEFAULT_STAKEHOLDERS, *(n for n in extra if n not in DEFAULT_STAKEHOLDERS)]
    allowed_txt = ", ".join(known)

    def stakeholder(path: str, item: dict) -> None:
        name = item.get("stakeholder")
        if isinstance(name, str) and name not in known:
            out.append(
                (
                    f"{path}.stakeholder",
                    f"unknown stakeholder '{name}' (allowed: {allowed_txt}; add new ones to "
                    "economics.stakeholders)",
                )
            )

    cyv = _items(econ, "case_year_values")
    for i, item in cyv:
        stakeholder(f"economics.case_year_values[{i}]", item)
    used = [x["stakeholder"] for _, x in cyv if isinstance(x.get("stakeholder"), str)]
    rep = sorted({n for n in used if used.count(n) > 1})
    if rep:
        out.append(
            (
                "economics.case_year_values",
                f"each stakeholder may appear once; repeated: {', '.join(rep)}",
            )
        )
    linked = _items(econ, "linked_outcomes")
    names = _names(linked)
    rep = sorted({n for n in names if names.count(n) > 1})
    if rep:
        out.append(
            ("economics.linked_outcomes", f"names must be unique; repeated: {', '.join(rep)}")
        )
    for i, item in linked:
        label = f"[{i}:{item['name']}]" if isinstance(item.get("name"), str) else f"[{i}]"
        stakeholder(f"economics.linked_outcomes{label}", item)
    return out
