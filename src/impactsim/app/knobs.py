"""The values a planner may change in the app, with their units and ranges from the schema.

A knob is one editable value of the municipality's scenario: a provider type's places per
month and number of organisations, whether a programme is offered and from which month,
whether a channel is used, and the run's replicates and seed. Its label and unit come
from the schema's field description (:func:`impactsim.scenario.labels.split_description`)
and its allowed range from the field's constraints (``ge``/``le``), so the app offers
exactly what a scenario file may hold.

Edits are kept as ``{knob key: value}`` and applied to the scenario's data
(:func:`apply_edits`); the result is validated like a file (:func:`edited_scenario`), and
each problem is shown at the knob it concerns (:func:`problems_by_knob`). Nothing here
imports the user interface: the tests use it directly.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from impactsim.i18n import N_
from impactsim.inputs import Problem, ScenarioError
from impactsim.loading import parse_scenario
from impactsim.scenario import Scenario
from impactsim.scenario.labels import field_constraints, shown_name, split_description, words
from impactsim.scenario.providers import Provider
from impactsim.scenario.settings import Simulation
from impactsim.scenario.sources import Source, without_dangling_sources
from impactsim.scenario.strategy import Offer

Kind = Literal["integer", "number", "toggle"]

#: The knob groups, in the order the app shows them, with their titles.
GROUPS: dict[str, str] = {
    "providers": N_("Providers"),
    "programmes": N_("Programmes"),
    "channels": N_("Channels"),
    "run": N_("Run"),
}

#: The groups of a library strategy's knobs: its run settings are the municipality's.
STRATEGY_GROUPS = ("providers", "programmes", "channels")

#: App-only knob: the budget the costs are held against (euros, present value).
BUDGET = "budget"


@dataclass(frozen=True)
class Knob:
    """One editable value.

    Attributes:
        key: identifies the knob; for a scenario field its dotted path with item names
            (``providers.community_centres.capacity_per_month``), ``offered.NAME`` for a
            programme switch, ``channel.NAME`` for a channel switch, ``budget``.
        group: one of :data:`GROUPS`.
        kind: ``"integer"``, ``"number"`` or ``"toggle"``.
        item: the item it belongs to, as the planner knows it (label or name in words).
        what: the quantity, in English (a catalogue message).
        unit: its unit, in English (a catalogue message; may be empty).
        lo: smallest allowed value (None: no lower limit).
        hi: largest allowed value (None: no upper limit).
        value: the scenario's value (None: unlimited, where ``nullable``).
        nullable: None is allowed (unlimited places).
        source: where the value comes from, as the scenario's ``sources`` states it.
    """

    key: str
    group: str
    kind: Kind
    item: str
    what: str
    unit: str
    lo: float | None
    hi: float | None
    value: Any
    nullable: bool = False
    source: Source | None = None


def _limits(field: FieldInfo) -> tuple[float | None, float | None]:
    """``(ge, le)`` of a field, also of an ``Annotated`` type inside ``X | None``."""
    lo = hi = None
    for meta in field_constraints(field):
        lo = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else lo
        hi = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else hi
    return lo, hi


def field_knob(
    key: str, group: str, item: str, model: type[BaseModel], name: str, value: Any
) -> Knob:
    """A knob for the field ``name`` of ``model``, its unit and range from the schema."""
    field = model.model_fields[name]
    what, unit = split_description(field.description or name)
    lo, hi = _limits(field)
    args = get_args(field.annotation)
    union = get_origin(field.annotation) in (typing.Union, types.UnionType)
    nullable = union and type(None) in args
    base = next(a for a in args if a is not type(None)) if union else field.annotation
    if get_origin(base) is typing.Annotated:
        base = get_args(base)[0]
    kind: Kind = "toggle" if base is bool else "integer" if base is int else "number"
    return Knob(key, group, kind, item, what, unit, lo, hi, value, nullable)


def _item(entry: Any) -> str:
    return shown_name(entry)


def knobs_for(scenario: Scenario) -> list[Knob]:
    """Every knob of a scenario, grouped as in :data:`GROUPS`."""
    out: list[Knob] = []
    for p in scenario.providers:
        base = f"providers.{p.name}"
        places = field_knob(
            f"{base}.capacity_per_month",
            "providers",
            _item(p),
            Provider,
            "capacity_per_month",
            p.capacity_per_month,
        )
        # the schema's description ends in an example; say it as a planner would
        out.append(
            dataclasses.replace(
                places,
                what=N_("new places per organisation per month (empty: unlimited)"),
                unit=N_("participants per month"),
            )
        )
        out.append(field_knob(f"{base}.count", "providers", _item(p), Provider, "count", p.count))
    offers = {o.intervention: o for o in scenario.strategy.offers}
    labels = {iv.name: _item(iv) for iv in scenario.interventions}
    for name, offer in offers.items():
        out.append(
            Knob(
                f"offered.{name}",
                "programmes",
                "toggle",
                labels.get(name, words(name)),
                N_("offered"),
                "",
                None,
                None,
                True,
            )
        )
        out.append(
            field_knob(
                f"start.{name}",
                "programmes",
                labels.get(name, words(name)),
                Offer,
                "start_month",
                offer.start_month,
            )
        )
    used = dict.fromkeys(c for o in scenario.strategy.offers for c in o.channels)
    for ch in scenario.channels:
        if ch.name in used:
            out.append(
                Knob(
                    f"channel.{ch.name}",
                    "channels",
                    "toggle",
                    words(ch.name),
                    N_("used to reach parents"),
                    "",
                    None,
                    None,
                    True,
                )
            )
    sim = scenario.simulation
    for name in ("replicates", "seed"):
        out.append(
            field_knob(f"simulation.{name}", "run", "", Simulation, name, getattr(sim, name))
        )
    out.append(
        Knob(
            BUDGET,
            "run",
            "number",
            "",
            N_("budget for the whole period, present value"),
            N_("euros"),
            0.0,
            1e12,
            None,
            nullable=True,
        )
    )
    return [_with_source(k, scenario) for k in out]


#: The scenario path that a knob edits, where its key is not that path itself.
_SOURCE_PATH = {"start": "strategy.offers.{name}.start_month"}


def _with_source(knob: Knob, scenario: Scenario) -> Knob:
    """The knob with the source the scenario states for its value, if any."""
    head, _sep, rest = knob.key.partition(".")
    path = _SOURCE_PATH[head].format(name=rest) if head in _SOURCE_PATH else knob.key
    found = scenario.sources.get(path)
    return dataclasses.replace(knob, source=found) if found is not None else knob


class KnobError(ValueError):
    """A value outside what its knob allows; the message is a catalogue message."""

    def __init__(self, message: str, **values: Any):
        self.message = message
        self.values = values
        super().__init__(message.format(**values))


def check_value(knob: Knob, value: Any) -> Any:
    """The value converted to the knob's type if the knob allows it.

    Raises:
        KnobError: not a number, not a whole number, or outside the range.
    """
    if knob.kind == "toggle":
        return bool(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        if knob.nullable:
            return None
        raise KnobError(N_("a value is needed"))
    try:
        number = float(str(value).replace(",", ".")) if isinstance(value, str) else float(value)
    except ValueError:
        raise KnobError(N_("'{value}' is not a number"), value=value) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise KnobError(N_("'{value}' is not a number"), value=value)
    if knob.kind == "integer":
        if number != int(number):
            raise KnobError(N_("use a whole number"))
        number = int(number)
    if knob.lo is not None and number < knob.lo:
        raise KnobError(N_("at least {lo}"), lo=_plain(knob.lo))
    if knob.hi is not None and number > knob.hi:
        raise KnobError(N_("at most {hi}"), hi=_plain(knob.hi))
    return number


def _plain(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:g}"


def apply_edits(scenario: Scenario, edits: Mapping[str, Any]) -> dict[str, Any]:
    """The scenario's data with the edits applied (not yet validated).

    A programme switched off loses its offer; a channel switched off is removed from every
    offer. The budget is the app's, not the scenario's, and is ignored here.
    """
    data = copy.deepcopy(scenario.model_dump(mode="json"))
    providers = {p["name"]: p for p in data["providers"]}
    offers = data["strategy"]["offers"]
    for key, value in edits.items():
        head, _, rest = key.partition(".")
        if head == "providers":
            name, field = rest.rsplit(".", 1)
            providers[name][field] = value
        elif head == "start":
            for offer in offers:
                if offer["intervention"] == rest:
                    offer["start_month"] = value
        elif head == "simulation":
            data["simulation"][rest] = value
    off = {k.split(".", 1)[1] for k, v in edits.items() if k.startswith("offered.") and not v}
    data["strategy"]["offers"] = [o for o in offers if o["intervention"] not in off]
    dropped = {k.split(".", 1)[1] for k, v in edits.items() if k.startswith("channel.") and not v}
    for offer in data["strategy"]["offers"]:
        offer["channels"] = [c for c in offer["channels"] if c not in dropped]
    if off:  # the source of a value that is gone goes with it
        without_dangling_sources(data, Scenario)
    return data


def edited_scenario(
    scenario: Scenario, edits: Mapping[str, Any]
) -> tuple[Scenario | None, list[Problem]]:
    """The scenario with the edits, validated: ``(scenario, [])`` or ``(None, problems)``."""
    try:
        return parse_scenario(apply_edits(scenario, edits), scenario.name), []
    except ScenarioError as err:
        return None, list(err.problems)


_INDEX = re.compile(r"\[(\d+)(?::[^\]]*)?\]")


def problem_location(path: str) -> tuple[str | int, ...]:
    """A problem's path as keys and positions: ``providers[2:x].count`` -> ``(providers, 2, count)``."""
    parts: list[str | int] = []
    for piece in _INDEX.sub(r".\1", path).split("."):
        if piece:
            parts.append(int(piece) if piece.isdigit() else piece)
    return tuple(parts)


def knob_location(scenario: Scenario, knob: Knob) -> tuple[str | int, ...] | None:
    """Where a knob's value sits in the scenario's data (None for app-only knobs)."""
    head, _, rest = knob.key.partition(".")
    if head == "providers":
        name, field = rest.rsplit(".", 1)
        names = [p.name for p in scenario.providers]
        return ("providers", names.index(name), field) if name in names else None
    if head in ("start", "offered"):
        names = [o.intervention for o in scenario.strategy.offers]
        if rest not in names:
            return None
        loc: tuple[str | int, ...] = ("strategy", "offers", names.index(rest))
        return (*loc, "start_month") if head == "start" else loc
    if head == "simulation":
        return ("simulation", rest)
    return None


def problems_by_knob(
    scenario: Scenario, edits: Mapping[str, Any], problems: list[Problem]
) -> tuple[dict[str, list[Problem]], list[Problem]]:
    """Each problem at the knob whose value it concerns; the rest apart.

    Positions in the problems refer to the edited data, in which switched-off offers are
    gone; they are mapped back to the knobs of the unedited scenario.

    Returns:
        ``({knob key: problems}, problems that concern no single knob)``.
    """
    edited = apply_edits(scenario, edits)
    kept = [o["intervention"] for o in edited["strategy"]["offers"]]
    at: dict[tuple[str | int, ...], str] = {}
    for knob in knobs_for(scenario):
        loc = knob_location(scenario, knob)
        if loc is None:
            continue
        if loc[:2] == ("strategy", "offers"):
            name = scenario.strategy.offers[int(loc[2])].intervention
            if name not in kept:
                continue
            loc = (*loc[:2], kept.index(name), *loc[3:])
        at[loc] = knob.key
    mine: dict[str, list[Problem]] = {}
    rest: list[Problem] = []
    for problem in problems:
        loc = problem_location(problem.path)
        key = next((at[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in at), None)
        if key is None:
            rest.append(problem)
        else:
            mine.setdefault(key, []).append(problem)
    return mine, rest
