"""Where a scenario's numbers come from: a source or a stated assumption, per dotted path.

A scenario file may say, for any of its values, where the value comes from::

    sources:
      interventions.online_course.effect_size.mean:
        citation: Thongseiratch et al. 2020
        note: online parenting programmes, g = -0.32 on child behaviour problems
      population.size:
        assumption: true
        note: a mid-sized Dutch municipality; replace with the local number of families

The keys are dotted paths as in sweep files (:mod:`impactsim.scenario.paths`); a path that
does not address a value of the scenario is an error. The report's assumptions table and
the app's help texts read these entries.
"""

from __future__ import annotations

import difflib
from typing import Any, get_args, get_origin

from pydantic import BaseModel, Field, model_validator

from impactsim.i18n import Message
from impactsim.inputs import StrictModel
from impactsim.scenario.paths import (
    DID_YOU_MEAN,
    PathError,
    list_item,
    split_path,
    strip_optional,
)


class Source(StrictModel):
    """Where one value of the scenario comes from."""

    citation: str = Field(
        "",
        max_length=500,
        description=(
            "the source, e.g. 'Thongseiratch et al. 2020' or a report with its page; empty "
            "for an assumption"
        ),
    )
    note: str = Field(
        "",
        max_length=2000,
        description="what the value means or how it was derived, in plain words",
    )
    assumption: bool = Field(
        False,
        description=(
            "true when the value is not taken from a source: replace it with local data "
            "before drawing conclusions (true/false)"
        ),
    )

    @model_validator(mode="after")
    def _cited_or_assumed(self) -> Source:
        if not self.assumption and not self.citation.strip():
            raise ValueError(
                Message("give a citation, or mark the value as an assumption (assumption: true)")
            )
        return self


def source_path_problems(data: object, root: type[BaseModel]) -> list[tuple[str, str]]:
    """``(field path, message)`` for each source whose path addresses no value.

    The path is followed through the schema (so a field left at its default may be cited)
    and, for list items named or numbered, through the document. Works on the raw
    document, like the cross-reference checks, so a file with field errors reports these
    too.

    Args:
        data: the parsed scenario document (or ``Scenario.model_dump()``).
        root: the scenario model.
    """
    sources = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(sources, dict):
        return []
    out = []
    for path in sources:
        if not isinstance(path, str):
            continue  # a field error of its own
        problem = _path_problem(data, path, root)
        if problem is not None:
            message = Message("not a value of this scenario: {problem}", problem=problem)
            out.append((f"sources[{path!r}]", message))
    return out


def without_dangling_sources(data: dict[str, Any], root: type[BaseModel]) -> dict[str, Any]:
    """``data`` with only the sources whose paths still address a value.

    For code that removes parts of a scenario on purpose (the no-programme world, an offer
    switched off in the app): the source of a value that is gone goes with it. A file a
    person wrote is not pruned: there a path that addresses nothing is an error.
    """
    sources = data.get("sources")
    if isinstance(sources, dict):
        data["sources"] = {k: v for k, v in sources.items() if _path_problem(data, k, root) is None}
    return data


def _path_problem(data: dict, path: str, root: type[BaseModel]) -> str | None:
    try:
        parts = split_path(path)
    except PathError as err:
        return err.args[0]
    if parts[0] == "sources":
        return Message("a source cannot document another source")
    kind: Any = root
    node: Any = data
    for i, part in enumerate(parts):
        shown = ".".join(str(p) for p in parts[:i]) or "<scenario>"
        kind = strip_optional(kind)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            fields = kind.model_fields
            if not isinstance(part, str) or part not in fields:
                close = difflib.get_close_matches(str(part), fields, n=1)
                hint = Message(DID_YOU_MEAN, name=close[0]) if close else ""
                return Message(
                    "unknown key '{part}' in '{shown}'{hint}", part=part, shown=shown, hint=hint
                )
            kind, node = fields[part].annotation, _child(node, part)
        elif get_origin(kind) in (list, dict):
            if not isinstance(node, list | dict):
                return Message(
                    "'{shown}' holds no items, so it has no '{part}'", shown=shown, part=part
                )
            if isinstance(node, dict) and part not in node:
                allowed = ", ".join(map(str, node)) or Message("none")
                return Message(
                    "'{shown}' has no key '{part}' (allowed: {allowed})",
                    shown=shown,
                    part=part,
                    allowed=allowed,
                )
            try:
                node = node[list_item(node, part, shown)] if isinstance(node, list) else node[part]
            except PathError as err:
                return err.args[0]
            kind = get_args(kind)[0 if get_origin(kind) is list else 1]
        else:
            return Message(
                "'{shown}' is a single value, so it has no part '{part}'", shown=shown, part=part
            )
    return None


def _child(node: Any, key: str) -> Any:
    return node.get(key) if isinstance(node, dict) else None
