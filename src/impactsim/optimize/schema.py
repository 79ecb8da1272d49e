"""Optimisation files: decisions, budget, objectives, search settings.

The pydantic models of an optimisation file (:class:`OptimizationFile`), validated like a
sweep file (strict types, unknown keys refused, every problem reported with its field
path). Loading and the checks that need the base scenario are in
:mod:`impactsim.optimize.spec`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, Strict, field_validator, model_validator

from impactsim.inputs import StrictModel
from impactsim.sweep.schema import Identifier

#: Metrics a mix may be optimised for, and whether more is better (True) or less.
OBJECTIVES: dict[str, bool] = {
    "public_impact_pp": True,
    "case_years_prevented": True,
    "case_years_prevented_pv": True,
    "cases_prevented": True,
    "reach_cumulative": True,
    "npv": True,
    "nmb": True,
    "cost_pv": False,
    "differential_impact_gap_pp": False,
}

#: Cost metrics a budget may bound (present value of costs over the horizon, euros).
BUDGET_METRICS = (
    "cost_pv",
    "cost_pv_paid_by_municipality",
    "cost_pv_paid_by_health_insurer",
    "cost_pv_paid_by_education",
    "cost_pv_paid_by_justice",
    "cost_pv_paid_by_families",
)

#: Search algorithms (Optuna samplers).
SAMPLERS = ("tpe", "nsga2", "random")

_Num = Annotated[float, Strict()]
Euros = Annotated[float, Field(gt=0.0, le=1e12)]


class Decision(StrictModel):
    """One decision: a field set by the search, or whether an offer or channel is used."""

    path: str = Field(
        description=(
            "dotted path into the scenario, e.g. providers.community_centres.capacity_per_month; "
            "for kind: offered, an offer (strategy.offers.home_visits) or a channel "
            "(channels.media)"
        )
    )
    name: Identifier | None = Field(
        None, description="short column name in results (default: the path)"
    )
    kind: Literal["value", "offered"] = Field(
        "value",
        description=(
            "value: the field takes a number from range or one of values; offered: true/false, "
            "whether the programme is offered or the channel promotes the offers"
        ),
    )
    range: tuple[_Num, _Num] | None = Field(
        None, strict=False, description="[low, high] for a number (continuous or whole)"
    )
    scale: Literal["linear", "log"] = Field("linear", description="scale of range")
    step: Annotated[float, Field(gt=0.0)] | None = Field(
        None, description="grid step of range (e.g. 0.5 places); default continuous"
    )
    integer: bool | None = Field(
        None, description="whole numbers only (default: when the scenario field is whole)"
    )
    values: list[Any] | None = Field(
        None, min_length=2, description="the options of a categorical decision"
    )

    @field_validator("range")
    @classmethod
    def _range_order(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not v[0] < v[1]:
            raise ValueError(
                f"range is empty: it must be [low, high] with low < high (got [{v[0]}, {v[1]}])"
            )
        return v

    @model_validator(mode="after")
    def _one_source(self) -> Decision:
        given = [k for k in ("range", "values") if getattr(self, k) is not None]
        if self.kind == "offered":
            if given:
                raise ValueError(
                    f"kind: offered takes no range or values (got {', '.join(given)}); "
                    "the decision is true or false"
                )
        elif len(given) != 1:
            raise ValueError(
                f"give exactly one of range or values (got {', '.join(given) or 'none'})"
            )
        if self.scale == "log" and (self.range is None or self.range[0] <= 0):
            raise ValueError("scale: log needs a range with low > 0")
        if self.step is not None and self.range is None:
            raise ValueError("step applies to a range")
        return self

    @property
    def label(self) -> str:
        """Column name of this decision."""
        return self.name or self.path


class Budget(StrictModel):
    """What the mix may cost: a total or a yearly amount, as a mean or a chance constraint."""

    total_eur: Euros | None = Field(
        None, description="present value of costs over the whole horizon at most this (euros)"
    )
    per_year_eur: Euros | None = Field(
        None, description="at most this per year: per_year_eur x horizon in years (euros/year)"
    )
    metric: Literal[BUDGET_METRICS] = Field(  # type: ignore[valid-type]
        "cost_pv", description="the cost that counts: all costs, or one payer's (cost_pv_paid_by_*)"
    )
    chance: Annotated[float, Field(gt=0.0, lt=1.0)] | None = Field(
        None,
        description=(
            "chance constraint: the cost stays within the budget in at least this share of "
            "replicates (default: the mean cost stays within the budget)"
        ),
    )

    @model_validator(mode="after")
    def _one_amount(self) -> Budget:
        given = [k for k in ("total_eur", "per_year_eur") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of total_eur or per_year_eur "
                f"(got {', '.join(given) if given else 'none'})"
            )
        return self


class Search(StrictModel):
    """How candidates are searched (Optuna)."""

    sampler: Literal[SAMPLERS] | None = Field(  # type: ignore[valid-type]
        None,
        description=(
            "tpe (default with one objective), nsga2 (default with several objectives) or random"
        ),
    )
    trials: Annotated[int, Field(ge=2, le=100_000)] = Field(
        60, description="candidates evaluated in the search"
    )
    batch: Annotated[int, Field(ge=1, le=1000)] = Field(
        4,
        description=(
            "candidates proposed together and evaluated in parallel; the result depends on "
            "batch, never on the number of workers"
        ),
    )
    startup_trials: Annotated[int, Field(ge=1, le=100_000)] | None = Field(
        None, description="random candidates before the sampler models the results (default 10)"
    )
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = Field(
        None, description="seed of the search (default: the optimisation's seed)"
    )


class Finalists(StrictModel):
    """Re-evaluation of the best candidates with fresh, more numerous replicates."""

    count: Annotated[int, Field(ge=1, le=100)] = Field(
        5, description="distinct best candidates re-evaluated"
    )
    replicates: Annotated[int, Field(ge=2, le=100_000)] = Field(
        40, description="replicates of each finalist (common random numbers across finalists)"
    )


class Curve(StrictModel):
    """The budget–impact curve: the best mix found at each of several budgets."""

    levels: list[Euros] = Field(
        min_length=2, max_length=50, description="budgets, in the unit of the budget (euros)"
    )
    trials: Annotated[int, Field(ge=2, le=100_000)] = Field(
        30, description="candidates searched at each level"
    )
    finalists: Annotated[int, Field(ge=1, le=50)] = Field(
        3, description="best candidates re-evaluated at each level"
    )

    @field_validator("levels")
    @classmethod
    def _distinct(cls, v: list[float]) -> list[float]:
        if len(set(v)) != len(v):
            raise ValueError("budget levels must differ from one another")
        return sorted(v)


class Information(StrictModel):
    """Value of information about the finalists: which uncertainty is worth resolving first."""

    replicates: Annotated[int, Field(ge=10, le=100_000)] = Field(
        200, description="replicates of the finalists' comparison (200 or more advised)"
    )


Objective = Literal[tuple(OBJECTIVES)]  # type: ignore[valid-type]


class OptimizationFile(StrictModel):
    """Top level of an optimisation file."""

    name: Identifier = Field(description="optimisation identifier")
    description: str = Field("", max_length=5000)
    base: str | dict[str, Any] = Field(
        description="base scenario: a file path (relative to this file), 'default', or inline"
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="fixed changes to the base scenario, dotted path: value"
    )
    decisions: list[Decision] = Field(min_length=1, max_length=50)
    objective: Objective | list[Objective] = Field(
        "public_impact_pp",
        description="metric to maximise (or minimise: cost_pv, differential_impact_gap_pp); "
        "a list of two or three gives the Pareto set",
    )
    budget: Budget
    equity: Literal["none", "no_wider_than_base"] = Field(
        "none",
        description="no_wider_than_base: the impact gap between the least and most advantaged "
        "segment may not be wider than in the base scenario",
    )
    replicates: Annotated[int, Field(ge=1, le=10_000)] = Field(
        8, description="replicates of every candidate in the search (common random numbers)"
    )
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = Field(
        None, description="base seed (default: the base scenario's simulation.seed)"
    )
    search: Search = Field(default_factory=Search)
    finalists: Finalists = Field(default_factory=Finalists)
    curve: Curve | None = Field(None, description="budget–impact curve (optional)")
    posterior: str | None = Field(
        None,
        description="a calibrated posterior (calibration directory or posterior.parquet, "
        "relative to this file): each replicate of every candidate draws its parameters "
        "from it, the same draw for every candidate",
    )
    value_of_information: Information | None = Field(
        None,
        description="EVPI and EVPPI of choosing among the feasible finalists (optional; "
        "runs the finalists again with these replicates)",
    )

    @property
    def objectives(self) -> list[str]:
        """The objective metrics, in order."""
        return [self.objective] if isinstance(self.objective, str) else list(self.objective)

    @model_validator(mode="after")
    def _consistent(self) -> OptimizationFile:
        objs = self.objectives
        if len(set(objs)) != len(objs):
            raise ValueError(f"objective lists a metric twice ({', '.join(objs)})")
        if len(objs) > 3:
            raise ValueError("at most three objectives (impact, cost, equity gap)")
        if self.budget.chance is not None and self.replicates < 10:
            raise ValueError(
                "a chance constraint needs at least 10 replicates per candidate "
                f"(got replicates: {self.replicates})"
            )
        sampler = self.search.sampler
        if len(objs) > 1 and sampler == "tpe":
            raise ValueError(
                f"search.sampler {sampler} optimises one objective; use nsga2 or random for "
                f"{len(objs)} objectives"
            )
        if len(objs) == 1 and sampler == "nsga2":
            raise ValueError("search.sampler nsga2 needs two or three objectives")
        if "cost_pv" in objs and len(objs) == 1:
            raise ValueError(
                "minimising cost alone under a budget recommends offering nothing; "
                "give an impact objective (or a list with cost_pv)"
            )
        return self
