"""Costs of interventions, channels and the strategy as a whole (the scenario's cost inputs).

Every amount is a mean in euros at the price level of ``economics.price_year``; see
``docs/economics.md`` for how they are drawn and discounted.
"""

from __future__ import annotations

from pydantic import Field

from impactsim.inputs import StrictModel
from impactsim.scenario.fields import CoefficientOfVariation, Euro, Name

_CV_DESCRIPTION = (
    "coefficient of variation (SD / mean) of the gamma distribution from which these amounts "
    "are drawn once per replicate (dimensionless); null = economics.cost_cv"
)
_PAYER_DESCRIPTION = (
    "stakeholder who pays these costs: a default stakeholder or one in economics.stakeholders "
    "(default: the municipality)"
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
    per_place_month_eur: Euro = Field(
        0.0,
        description=(
            "cost of each funded place per month at every organisation offering the "
            "intervention, used or not: places = the provider's capacity_per_month "
            "(euros per place-month)"
        ),
    )
    cv: CoefficientOfVariation | None = Field(None, description=_CV_DESCRIPTION)
    payer: Name = Field("municipality", description=_PAYER_DESCRIPTION)


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
    payer: Name = Field("municipality", description=_PAYER_DESCRIPTION)


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
    payer: Name = Field("municipality", description=_PAYER_DESCRIPTION)
