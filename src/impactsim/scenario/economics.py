"""The economics section: discounting, monetised benefits, stakeholders, cost-effectiveness.

See ``docs/economics.md`` for every formula and source.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from impactsim.i18n import Message
from impactsim.inputs import StrictModel
from impactsim.scenario.fields import CoefficientOfVariation, Euro, Name, Probability

#: Stakeholders every scenario knows; ``economics.stakeholders`` adds user-defined ones.
DEFAULT_STAKEHOLDERS: tuple[str, ...] = (
    "municipality",
    "health_insurer",
    "education",
    "justice",
    "families",
)


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
                Message(
                    "lag of {lag:g} years is beyond any sensible horizon (at most {most:g} "
                    "years: a child's outcomes into adulthood)",
                    lag=value,
                    most=MAX_LAG_YEARS,
                )
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
