"""Dotted paths into a scenario, with the schema's knowledge of which mappings take new keys.

The paths themselves are walked by :mod:`impactsim.scenario.paths` (re-exported here);
this module adds :func:`resolve`, which lets a sweep set a key that a mapping with
user-chosen keys (``contact_rates.school``) does not hold yet.
"""

from __future__ import annotations

from typing import Any, get_args, get_origin

from pydantic import BaseModel

from impactsim.scenario import Scenario
from impactsim.scenario.paths import (
    Location,
    PathError,
    format_location,
    get_value,
    locate,
    locate_all,
    set_value,
    split_path,
    strip_optional,
    with_values,
)

__all__ = [
    "Location",
    "PathError",
    "format_location",
    "get_value",
    "is_free_mapping",
    "resolve",
    "resolve_all",
    "set_value",
    "split_path",
    "with_values",
]


def _annotation_at(loc: Location) -> Any:
    """Schema type at a location of the Scenario model (None when unknown)."""
    node: Any = Scenario
    for part in loc:
        node = strip_optional(node)
        origin = get_origin(node)
        if isinstance(node, type) and issubclass(node, BaseModel) and isinstance(part, str):
            field = node.model_fields.get(part)
            if field is None:
                return None
            node = field.annotation
        elif origin is list and isinstance(part, int):
            node = get_args(node)[0]
        elif origin is dict and isinstance(part, str):
            node = get_args(node)[1]
        else:
            return None
    return strip_optional(node)


def is_free_mapping(loc: Location) -> bool:
    """True when the field at ``loc`` is a mapping with user-chosen keys (``contact_rates``).

    A new key may be added to such a mapping.
    """
    return get_origin(_annotation_at(loc)) is dict


def resolve(data: dict[str, Any], path: str, *, allow_new_key: bool = True) -> Location:
    """Resolve a dotted path against resolved scenario data.

    Args:
        data: the scenario as a dict (``Scenario.model_dump(mode="json")``).
        path: dotted path.
        allow_new_key: allow the last part to be a key that does not exist yet when the
            field is a mapping with user-chosen keys (``contact_rates.school``).

    Returns:
        The location (keys and list positions).

    Raises:
        PathError: with what exists at the point where the path stops matching.
    """
    return locate(data, path, is_free_mapping if allow_new_key else None)


def resolve_all(data: dict[str, Any], path: str, *, allow_new_key: bool = True) -> list[Location]:
    """Resolve a dotted path that may hold ``*`` (every item of a list), as :func:`resolve`.

    Raises:
        PathError: as :func:`resolve`, or ``*`` where there is no list.
    """
    return locate_all(data, path, is_free_mapping if allow_new_key else None)
