"""The population section: segments, adopter categories and the social network."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from impactsim.i18n import Message
from impactsim.inputs import StrictModel
from impactsim.scenario.fields import ADOPTER_CATEGORIES, Name, Probability, RatePerMonth
from impactsim.scenario.neighbourhoods import Neighbourhood, neighbourhood_problems


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
            raise ValueError(
                Message("adopter shares must sum to 1 (they sum to {total:.6g})", total=total)
            )
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

    kind: Literal["random", "fully_mixed", "small_world"] = Field(
        "random",
        description=(
            "'random': a random graph with homophily by segment; 'fully_mixed': mean-field "
            "mixing (every parent sees population shares), used for validation; "
            "'small_world': a ring of places per neighbourhood, each family tied to its "
            "mean_degree / 2 nearest places on each side, ties rewired at random "
            "(Watts-Strogatz; clustered like real parents' networks)"
        ),
    )
    mean_degree: Annotated[float, Field(ge=0.0, le=200.0)] = Field(
        10.0, description="mean number of network neighbours per parent (ties)"
    )
    homophily: Probability = Field(
        0.6,
        description=(
            "probability that a tie is drawn within the parent's own segment rather than from "
            "the whole population (fraction, 0 = random mixing, 1 = segments isolated); "
            "in a small-world network, of each tie drawn at random (rewired or between "
            "neighbourhoods)"
        ),
    )
    rewiring: Probability = Field(
        0.1,
        description=(
            "small_world only: probability that a tie of the ring lattice is rewired to a "
            "family drawn at random in the same neighbourhood (fraction; 0 = ring lattice)"
        ),
    )
    between_neighbourhoods: Probability = Field(
        0.0,
        description=(
            "small_world only: share of ties that go to a family drawn at random in another "
            "neighbourhood (fraction)"
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
    neighbourhoods: list[Neighbourhood] = Field(
        default_factory=list,
        max_length=100,
        description=(
            "neighbourhoods (wijken) the families live in, each with its share and segment "
            "mix; empty: one place"
        ),
    )
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
            raise ValueError(
                Message("segment names must be unique; repeated: {names}", names=", ".join(dupes))
            )
        total = sum(s.share for s in self.segments)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(
                Message("segment shares must sum to 1 (they sum to {total:.6g})", total=total)
            )
        problems = neighbourhood_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self
