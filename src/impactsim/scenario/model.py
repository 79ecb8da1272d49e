"""The whole scenario: one municipality, its programmes, the strategy and the settings."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, model_validator

from impactsim.inputs import StrictModel
from impactsim.scenario.channels import Channel
from impactsim.scenario.economics import Economics
from impactsim.scenario.fields import Name
from impactsim.scenario.interventions import Intervention
from impactsim.scenario.outcomes import LIST_ONLY_FIELDS, Correlation, NamedOutcome
from impactsim.scenario.population import Population
from impactsim.scenario.providers import Provider
from impactsim.scenario.references import cross_reference_problems
from impactsim.scenario.settings import Outcome, Simulation
from impactsim.scenario.sources import Source, source_path_problems, without_dangling_sources
from impactsim.scenario.strategy import Strategy

#: Validation context key: the ``sources`` paths were checked against this scenario's
#: structure already (a copy whose values alone changed, such as a calibration candidate),
#: so the check is skipped: ``Scenario.model_validate(data, context={SOURCES_CHECKED: True})``.
SOURCES_CHECKED = "sources_checked"


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
    outcome: Outcome = Field(
        default_factory=Outcome,
        description=(
            "problem outcome definition (one outcome); with `outcomes`, the first of them "
            "(the primary outcome)"
        ),
    )
    outcomes: list[NamedOutcome] = Field(
        default_factory=list,
        description=(
            "several outcomes, the primary first (instead of `outcome`; empty = the one `outcome`)"
        ),
    )
    outcome_correlation: Correlation = Field(
        default_factory=dict,
        description=(
            "correlation of the outcomes' latent scores within a family, by outcome name "
            "(a.b = b.a; entries not given are 0); must be a correlation matrix"
        ),
    )
    economics: Economics = Field(
        default_factory=Economics,
        description="costs and benefits: discounting, monetised outcomes, stakeholders",
    )
    sources: dict[str, Source] = Field(
        default_factory=dict,
        description=(
            "where each value comes from: a dotted path as in sweep files, such as "
            "interventions.online_course.effect_size.mean, mapped to a citation, a note and "
            "whether the value is an assumption"
        ),
    )

    @model_validator(mode="after")
    def _cross_references(self, info: ValidationInfo) -> Scenario:
        data = self.model_dump()
        found = cross_reference_problems(data)
        if not (info.context or {}).get(SOURCES_CHECKED):
            found += source_path_problems(data, type(self))
        if found:
            raise ValueError("; ".join(f"{path}: {msg}" for path, msg in found))
        if self.outcomes:
            primary = self.outcomes[0].model_dump(exclude=LIST_ONLY_FIELDS - {"name"})
            object.__setattr__(self, "outcome", Outcome.model_validate(primary))
        return self

    @property
    def outcome_list(self) -> list[NamedOutcome]:
        """The outcomes in order, the primary first (one named ``outcome`` for the single form)."""
        if self.outcomes:
            return list(self.outcomes)
        single = self.outcome.model_dump() | {"name": "outcome", "label": self.outcome.name}
        return [NamedOutcome.model_validate(single)]

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
        return Scenario.model_validate(without_dangling_sources(data, Scenario))
