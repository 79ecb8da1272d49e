"""Scenario schema: pydantic v2 models for impactsim scenario files.

A scenario describes one municipality (population, channels, providers), the
interventions available, the strategy that offers them, the simulation settings
and the outcome definition. Every field carries its unit in its description;
``docs/scenario.md`` is generated from these models (``python -m impactsim.docgen``)
and a test keeps the two in step.

The sections live in modules of this package, every public name is importable from
``impactsim.scenario``: :mod:`~impactsim.scenario.fields` (field types),
:mod:`~impactsim.scenario.costs`, :mod:`~impactsim.scenario.population`,
:mod:`~impactsim.scenario.channels`, :mod:`~impactsim.scenario.providers`,
:mod:`~impactsim.scenario.interventions`, :mod:`~impactsim.scenario.strategy`,
:mod:`~impactsim.scenario.settings` (simulation and outcome),
:mod:`~impactsim.scenario.economics`, :mod:`~impactsim.scenario.model` (the
:class:`Scenario` itself) and :mod:`~impactsim.scenario.references` (names that refer
to other sections).

Loading goes through :func:`impactsim.loading.load_scenario`, which uses
``yaml.safe_load`` semantics and turns validation errors into messages that
name the file, the field path, the value and what is allowed.
"""

from __future__ import annotations

from impactsim.inputs import StrictModel
from impactsim.scenario.channels import Channel, ChannelKind
from impactsim.scenario.costs import ChannelCosts, InterventionCosts, StrategyCosts
from impactsim.scenario.economics import (
    DEFAULT_STAKEHOLDERS,
    DEFAULT_VALUE_PER_CASE_YEAR_EUR,
    DUTCH_DISCOUNT_RATE_COSTS,
    DUTCH_DISCOUNT_RATE_EFFECTS,
    MAX_LAG_YEARS,
    CaseYearValue,
    DiscountRate,
    Economics,
    Extrapolation,
    LinkedOutcome,
)
from impactsim.scenario.fields import (
    ADOPTER_CATEGORIES,
    CoefficientOfVariation,
    Euro,
    Month,
    Name,
    NonNegative,
    Probability,
    RatePerMonth,
)
from impactsim.scenario.interventions import EffectSize, Eligibility, FollowUp, Intervention
from impactsim.scenario.model import Scenario
from impactsim.scenario.neighbourhoods import Neighbourhood
from impactsim.scenario.outcomes import NamedOutcome
from impactsim.scenario.population import (
    AdopterCategories,
    AdopterCategory,
    AdopterShares,
    Network,
    Population,
    Segment,
)
from impactsim.scenario.providers import Provider
from impactsim.scenario.references import cross_reference_problems
from impactsim.scenario.settings import Outcome, Simulation
from impactsim.scenario.sources import Source
from impactsim.scenario.strategy import Interaction, Offer, Strategy

__all__ = [
    "ADOPTER_CATEGORIES",
    "DEFAULT_STAKEHOLDERS",
    "DEFAULT_VALUE_PER_CASE_YEAR_EUR",
    "DUTCH_DISCOUNT_RATE_COSTS",
    "DUTCH_DISCOUNT_RATE_EFFECTS",
    "MAX_LAG_YEARS",
    "AdopterCategories",
    "AdopterCategory",
    "AdopterShares",
    "CaseYearValue",
    "Channel",
    "ChannelCosts",
    "ChannelKind",
    "CoefficientOfVariation",
    "DiscountRate",
    "Economics",
    "EffectSize",
    "Eligibility",
    "Euro",
    "Extrapolation",
    "FollowUp",
    "Interaction",
    "Intervention",
    "InterventionCosts",
    "LinkedOutcome",
    "Month",
    "Name",
    "NamedOutcome",
    "Neighbourhood",
    "Network",
    "NonNegative",
    "Offer",
    "Outcome",
    "Population",
    "Probability",
    "Provider",
    "RatePerMonth",
    "Scenario",
    "Segment",
    "Simulation",
    "Source",
    "Strategy",
    "StrategyCosts",
    "StrictModel",
    "cross_reference_problems",
]
