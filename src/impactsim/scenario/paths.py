"""Dotted paths into a scenario: ``interventions.group_course.effect_size.mean``.

A path addresses the *validated* scenario's dictionary (every default filled in). Mapping
keys are written as they are; list items by their ``name`` (``segments.lower_ses``), by
what identifies an item without a name (an offer by its programme,
``strategy.offers.group_course``; a value per case-year by its stakeholder; an interaction
by its pair, ``strategy.interactions.online_course+group_course``) or by their position
(``segments.2`` or ``segments[2]``). A resolved path is a *location*: a
tuple of keys and list positions, the same form pydantic uses in its error locations.

Sweep, optimisation and calibration files name parameters this way, and a scenario's
``sources`` name the numbers they document. This module walks the data only; which
mappings take new keys is the schema's business (:mod:`impactsim.sweep.paths`).
"""

from __future__ import annotations

import copy
import difflib
import re
import types
from collections.abc import Callable
from typing import Annotated, Any, Union, get_args, get_origin

from impactsim.i18n import N_, Message

Location = tuple[str | int, ...]

_PART = re.compile(r"^(?P<key>[^\[\]]*)(?P<idx>(\[\d+\])*)$")


#: The closest allowed spelling of a name that was not found.
DID_YOU_MEAN = N_("; did you mean '{name}'?")


class PathError(ValueError):
    """A dotted path does not address a field of the scenario."""


def split_path(path: str) -> list[str | int]:
    """Split a dotted path into keys (str) and list positions (int).

    ``"segments[2].share"`` and ``"segments.2.share"`` both give ``["segments", 2, "share"]``.

    Raises:
        PathError: empty path or empty part.
    """
    if not isinstance(path, str) or not path.strip():
        raise PathError(Message("path is empty; expected a dotted path such as 'population.size'"))
    parts: list[str | int] = []
    for raw in path.strip().split("."):
        m = _PART.match(raw)
        if m is None or (not m.group("key") and not m.group("idx")):
            raise PathError(
                Message("empty or malformed part {part!r} in path {path!r}", part=raw, path=path)
            )
        key = m.group("key")
        if key:
            parts.append(int(key) if key.isdigit() else key)
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group("idx")))
    return parts


def item_name(item: Any) -> str | None:
    """The name a list item is addressed by: its ``name``, else what identifies it.

    Offers are named by their ``intervention``, values per case-year by their
    ``stakeholder`` and interactions by their pair (``online_course+group_course``).
    """
    if not isinstance(item, dict):
        return None
    for key in ("name", "intervention", "stakeholder"):
        if isinstance(item.get(key), str):
            return item[key]
    pair = item.get("interventions")
    if isinstance(pair, list) and all(isinstance(x, str) for x in pair):
        return "+".join(pair)
    return None


def format_location(loc: Location, data: Any = None) -> str:
    """Dotted form of a location; list items are shown by name when they have one."""
    out: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            name = item_name(item)
            out.append(f"{'.' if out else ''}{name}" if name is not None else f"[{part}]")
            node = item
        else:
            out.append(f"{'.' if out else ''}{part}")
            node = node.get(part) if isinstance(node, dict) else None
    return "".join(out)


def list_item(node: list[Any], part: str | int, shown: str) -> int:
    """Position of the item ``part`` (a name or a position) in the list ``node``.

    Raises:
        PathError: no such item, or several of that name; the message lists the names.
    """
    if isinstance(part, int):
        if 0 <= part < len(node):
            return part
        raise PathError(
            Message(
                "position {part} is out of range at '{shown}' (it has {count} items)",
                part=part,
                shown=shown,
                count=len(node),
            )
        )
    names = [item_name(item) for item in node]
    found = [i for i, n in enumerate(names) if n == part]
    if len(found) == 1:
        return found[0]
    if found:
        raise PathError(
            Message(
                "several items are called '{part}' in '{shown}' (positions {positions}); "
                "address one by its position",
                part=part,
                shown=shown,
                positions=", ".join(map(str, found)),
            )
        )
    allowed = [n for n in names if n is not None]
    close = difflib.get_close_matches(part, allowed, n=1)
    hint = Message(DID_YOU_MEAN, name=close[0]) if close else ""
    listed = ", ".join(allowed) if allowed else Message("(none)")
    raise PathError(
        Message(
            "no item named '{part}' in '{shown}'{hint} Allowed: {listed}, or a position 0-{last}",
            part=part,
            shown=shown,
            hint=hint,
            listed=listed,
            last=len(node) - 1,
        )
    )


def locate(
    data: dict[str, Any], path: str, may_add_key: Callable[[Location], bool] | None = None
) -> Location:
    """Resolve a dotted path against resolved scenario data.

    Args:
        data: the scenario as a dict (``Scenario.model_dump(mode="json")``).
        path: dotted path.
        may_add_key: called with the location of a mapping when the path's last part is a
            key it does not hold yet; True lets the path add it (``contact_rates.school``).
            None: every key must exist.

    Returns:
        The location (keys and list positions).

    Raises:
        PathError: with what exists at the point where the path stops matching.
    """
    parts = split_path(path)
    loc: list[str | int] = []
    node: Any = data
    for i, part in enumerate(parts):
        shown = format_location(tuple(loc), data) or "<scenario>"
        last = i == len(parts) - 1
        if isinstance(node, list):
            idx = list_item(node, part, shown)
            loc.append(idx)
            node = node[idx]
        elif isinstance(node, dict):
            key = str(part)
            if key in node:
                loc.append(key)
                node = node[key]
            elif last and may_add_key is not None and may_add_key(tuple(loc)):
                loc.append(key)
                node = None
            else:
                allowed = sorted(node)
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                listed = ", ".join(allowed) if allowed else "(none)"
                raise PathError(f"unknown key '{key}' in '{shown}'{hint} Allowed keys: {listed}")
        else:
            raise PathError(f"'{shown}' is a single value ({node!r}), so it has no part '{part}'")
    return tuple(loc)


#: A path part standing for every item of a list (``population.segments.*.contact_rates.online``).
WILDCARD = "*"


def locate_all(
    data: dict[str, Any], path: str, may_add_key: Callable[[Location], bool] | None = None
) -> list[Location]:
    """Resolve a dotted path whose parts may be ``*``, every item of a list.

    Args:
        data: the scenario as a dict.
        path: dotted path, e.g. ``population.segments.*.contact_rates.online``.
        may_add_key: as in :func:`locate`.

    Returns:
        The locations, in list order (one for a path without ``*``).

    Raises:
        PathError: a part does not match, or ``*`` stands where there is no list.
    """
    parts = split_path(path)
    if WILDCARD not in parts:
        return [locate(data, path, may_add_key)]
    k = parts.index(WILDCARD)
    head = ".".join(map(str, parts[:k]))
    prefix = locate(data, head) if head else ()
    node = get_value(data, prefix)
    shown = format_location(prefix, data) or "<scenario>"
    if not isinstance(node, list) or not node:
        what = "an empty list" if isinstance(node, list) else "not a list"
        raise PathError(f"'*' stands for every item of a list, and '{shown}' is {what}")
    out: list[Location] = []
    for i in range(len(node)):
        out += locate_all(data, ".".join(map(str, [*parts[:k], i, *parts[k + 1 :]])), may_add_key)
    return out


def get_value(data: Any, loc: Location) -> Any:
    """Value at a location (None for a key that does not exist yet)."""
    node = data
    for part in loc:
        if isinstance(node, dict):
            node = node.get(part)  # type: ignore[call-overload]
        elif isinstance(node, list) and isinstance(part, int):
            node = node[part]
        else:
            return None
    return node


def set_value(data: Any, loc: Location, value: Any) -> None:
    """Set the value at a location in place (the containers must exist)."""
    node = data
    for part in loc[:-1]:
        node = node[part]
    node[loc[-1]] = value


def with_values(data: dict[str, Any], changes: list[tuple[Location, Any]]) -> dict[str, Any]:
    """A deep copy of ``data`` with values set at the given locations."""
    out = copy.deepcopy(data)
    for loc, value in changes:
        set_value(out, loc, copy.deepcopy(value))
    return out


def strip_optional(annotation: Any) -> Any:
    """The type inside ``Annotated[...]`` and ``X | None`` wrappers."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation
