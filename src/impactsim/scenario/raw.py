"""Reading a raw scenario document that may be malformed anywhere.

The cross-reference and contradiction checks run on the parsed YAML before (or beside)
validation, so that a file with field errors reports its broken references too; these
helpers return empty values where the document holds something other than expected.
"""

from __future__ import annotations

from typing import Any


def items(data: Any, key: str) -> list[tuple[int, dict]]:
    """``(index, item)`` of the mappings in the list ``data[key]`` (none if it is no list)."""
    seq = data.get(key) if isinstance(data, dict) else None
    if not isinstance(seq, list):
        return []
    return [(i, x) for i, x in enumerate(seq) if isinstance(x, dict)]


def section(data: Any, key: str) -> dict:
    """The mapping ``data[key]``, or an empty one."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str | None:
    """A name as written, or None where the document holds something else there."""
    return value if isinstance(value, str) else None


def number(value: Any) -> float | None:
    """A finite number as written (not a bool), or None where the document holds other."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value == value and abs(value) != float("inf") else None
