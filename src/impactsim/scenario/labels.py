"""Plain labels for a scenario's values, read from the schema's field descriptions.

Every field's description reads "what it is (unit)"; a value addressed by a dotted path
is shown to a reader as the labels of the items on the way (a segment's or programme's
``label``, else its name in words) and the field's description, with the value and its
unit: ``higher education / income › share of all families in this segment`` = ``45 %``.
The report's assumptions table and the app's help texts use these.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from impactsim.i18n import DEFAULT_LANGUAGE, Message, gettext_for, money, number, percent
from impactsim.scenario.paths import Location, get_value, locate, strip_optional

_UNIT = re.compile(r"\(([^()]*)\)")
_PER_KEY = re.compile(r"^per [\w ]+?: ")
#: The first words of the units the schema's descriptions give in their last parentheses.
_UNIT_WORDS = re.compile(
    r"^(fraction|probability|months?|years?|calendar year|per |euros|count|SD units|"
    r"Cohen's d|true/false|ties|participants|contacts|non-negative integer|dimensionless)"
)
SEPARATOR = " › "


@dataclass(frozen=True)
class ValueLabel:
    """How one value of a scenario is shown to a reader."""

    label: str
    value: str
    unit: str


def words(name: str) -> str:
    """An identifier in words: ``lower_ses_migration`` -> ``lower ses migration``."""
    return name.replace("_", " ").replace("-", " ")


def shown_name(item: Any) -> str:
    """A scenario item's label, else its name in words (a programme, neighbourhood, outcome).

    Example::

        shown_name(intervention)  # 'Triple P online' (its label), else 'online course'
    """
    return str(getattr(item, "label", "") or words(str(item.name)))


def split_description(description: str) -> tuple[str, str]:
    """``(what, unit)`` of a field description "what it is (unit); more".

    The unit is the last parenthesised group that names a unit (its part before a ``;``
    or ``,``); other parentheses are asides that belong to the text. The label is the
    text before the unit or the first semicolon outside parentheses, whichever comes
    first, without a leading "per channel name:".
    """
    units = [
        (m.start(), unit)
        for m in _UNIT.finditer(description)
        if _UNIT_WORDS.match(unit := m.group(1).split(";")[0].split(",")[0].strip())
    ]
    start, unit = units[-1] if units else (len(description), "")
    what = description[: min(start, len(_head(description)))]
    return _PER_KEY.sub("", what.strip().rstrip(":;,")), "" if unit == "dimensionless" else unit


def _head(description: str) -> str:
    """The description up to its first semicolon outside parentheses."""
    depth = 0
    for i, char in enumerate(description):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ";" and depth == 0:
            return description[:i]
    return description


def format_value(value: Any, unit: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A value with its unit: fractions as percentages, euros with a sign, others as written.

    Args:
        value: the value.
        unit: its unit in English (as the schema gives it); shown translated.
        lang: language of the text and the number format.
    """
    _ = gettext_for(lang)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float):
        if unit.startswith(("fraction", "probability", "share")) and 0 <= value <= 1:
            return percent(value, lang, _digits(100 * value))
        if unit.startswith("euros"):
            per = unit.removeprefix("euros").strip()
            return f"{money(value, lang)} {_(per) if per else ''}".rstrip()
        shown = number(value, lang, 0 if isinstance(value, int) else _digits(value))
        return shown if unit in ("count", "integer", "") else f"{shown} {_(unit)}"
    if value is None:
        return _("none")
    if isinstance(value, str):
        return value
    return _("{n} entries").format(n=len(value)) if isinstance(value, list | dict) else str(value)


def _digits(value: float) -> int:
    """Decimals that show a value as written (up to 4 significant digits, at most 6)."""
    text = f"{value:.4g}"
    if "e" in text:
        return 6
    return len(text.split(".")[1]) if "." in text else 0


def value_label(scenario: BaseModel, path: str, lang: str = DEFAULT_LANGUAGE) -> ValueLabel:
    """Label, value and unit of the value at a dotted path of a validated scenario.

    The field's label and unit are translated; item labels are the scenario's own.

    Raises:
        impactsim.scenario.paths.PathError: the path addresses nothing.
    """
    _ = gettext_for(lang)
    data = scenario.model_dump()
    loc = locate(data, path)
    names, what, unit = _walk(type(scenario), data, loc)
    label = SEPARATOR.join([*names, _(what)]) if what else SEPARATOR.join(names)
    return ValueLabel(
        label, format_value(get_value(data, loc), unit, lang), _(unit) if unit else ""
    )


def location_parts(
    root: type[BaseModel], data: dict[str, Any], loc: Location
) -> tuple[list[str], str, str]:
    """The parts of a place's label, for data that need not be valid (an uploaded file).

    Args:
        root: the schema of ``data`` (:class:`~impactsim.scenario.Scenario`).
        data: the parsed document.
        loc: keys and list positions of the place.

    Returns:
        ``(names, what, unit)``: the labels of the items on the way (user data, shown as
        written), the last field's description and its unit (schema text, which the
        catalogues translate).

    Raises:
        KeyError, IndexError, TypeError: ``loc`` leaves the schema or the data.
    """
    return _walk(root, data, loc)


def _walk(root: type[BaseModel], data: dict, loc: Location) -> tuple[list[str], str, str]:
    """The item labels on the way to ``loc`` and the last field's (what, unit)."""
    kind: Any = root
    node: Any = data
    names: list[str] = []
    what, unit = "", ""
    for depth, part in enumerate(loc):
        kind = strip_optional(kind)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            field = kind.model_fields[str(part)]
            what, unit = split_description(field.description or str(part))
            kind, node = field.annotation, node[part]
            inner = strip_optional(kind)
            if (
                0 < depth < len(loc) - 1
                and isinstance(inner, type)
                and issubclass(inner, BaseModel)
            ):
                names.append(words(str(part)))  # a section inside a section: its name
        elif get_origin(kind) is list:
            node = node[part]
            names.append(_item_label(data, node, int(part)))
            what, unit = "", ""
            kind = get_args(kind)[0]
        else:  # a mapping with chosen keys: the key names the thing, the field the quantity
            names.append(words(str(part)))
            node = node[part]
            kind = get_args(kind)[1]
    return names, what, unit


def _item_label(data: dict, item: Any, position: int) -> str:
    """A list item's label, else its name in words (an offer: its programme's label)."""
    if not isinstance(item, dict):
        return Message("item {number}", number=position + 1)
    if item.get("label"):
        return str(item["label"])
    if isinstance(item.get("name"), str):
        return words(item["name"])
    if isinstance(item.get("stakeholder"), str):
        return words(item["stakeholder"])
    pair = item.get("interventions")
    if isinstance(pair, list):
        names = [_programme(data, p) for p in pair]
        if len(names) == 2:
            return Message("combination of {first} and {second}", first=names[0], second=names[1])
        return "combination of " + " and ".join(names)
    programme = item.get("intervention")
    if isinstance(programme, str):
        return Message("offer of {programme}", programme=_programme(data, programme))
    return Message("item {number}", number=position + 1)


def _programme(data: dict, name: str) -> str:
    for iv in data.get("interventions", []):
        if iv.get("name") == name:
            return str(iv.get("label") or words(name))
    return words(name)


def field_constraints(field: Any) -> list[Any]:
    """A schema field's constraints (``ge``, ``le``, ...).

    Also those of an ``Annotated`` type inside ``X | None``; the reference and the app's
    ranges read them.
    """
    metadata = list(field.metadata)
    if get_origin(field.annotation) in (typing.Union, types.UnionType):
        for arg in get_args(field.annotation):
            if get_origin(arg) is typing.Annotated:
                for meta in get_args(arg)[1:]:
                    metadata += list(getattr(meta, "metadata", [])) or [meta]
    return metadata
