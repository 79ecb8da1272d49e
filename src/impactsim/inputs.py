"""What scenario and sweep files share: the strict model base and the error messages.

Both kinds of input file are validated by pydantic models derived from
:class:`StrictModel`, and every :class:`~pydantic.ValidationError` is turned into
:class:`Problem` s by :func:`problems_from_validation`: one line per error naming the file,
the field path (list items by their name), the value and what is allowed, as
``file: field.path: message (got value)``. :class:`ScenarioError` carries them all.

This module is the lowest layer of input handling: it imports neither the scenario schema
nor the engine, so :mod:`impactsim.scenario`, :mod:`impactsim.loading` and
:mod:`impactsim.sweep.spec` can all build on it.
"""

from __future__ import annotations

import difflib
import reprlib
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo

from impactsim.i18n import N_, Message


class StrictModel(BaseModel):
    """Base of every section of scenario and sweep files: unknown keys, NaN, infinity are errors.

    Types are strict: a number written as text (``"0.5"``), true/false where a number is
    expected, or a number where true/false is expected are errors, not silently converted.
    """

    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False, validate_default=True, strict=True
    )


class UnclearNumber(str):
    """A YAML scalar that YAML 1.1 reads as a number no planner would read.

    PyYAML follows YAML 1.1: ``02000`` is octal (1024), ``1:30`` base 60 (90), ``0x1F``
    and ``0b101`` are numbers too. The loader (:mod:`impactsim.loading`) keeps such
    a scalar as its text, in this type: a field that wants text gets the text as written,
    and a field that wants a number refuses it with :data:`UNCLEAR_NUMBER_HINT`.
    """

    __slots__ = ()


#: What a numeric field says of an :class:`UnclearNumber`.
UNCLEAR_NUMBER_HINT = Message(
    "not read as a number: write a plain decimal number such as 2000 or 1.5 (YAML would "
    "read 02000 as octal 1024, 1:30 as base-60 90, and 0x1F or 0b101 as numbers too)"
)
#: A field that must be given is not.
MISSING = Message("required field is missing")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file."""

    file: str
    path: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        value = f" (got {self.value})" if self.value else ""
        return f"{where}: {self.message}{value}"


class ScenarioError(ValueError):
    """A scenario or sweep file could not be read or is not valid; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# --------------------------------------------------------------------------- values
class _ShortRepr(reprlib.Repr):
    """``repr`` bounded in length and depth, so huge or deeply nested values print briefly."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = 6
        self.maxdict = 4
        self.maxstring = 70
        self.maxlong = 40
        self.maxother = 70


_REPR = _ShortRepr()


def short(value: Any, limit: int = 80) -> str:
    """A value as shown in a message: ``repr``, bounded in length and nesting.

    Args:
        value: any value read from a file.
        limit: most characters returned.

    Returns:
        The bounded ``repr`` (``...`` marks a cut).
    """
    try:
        text = _REPR.repr(value)
    except Exception:  # a value whose repr fails must not hide the problem itself
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: Marks a value that a message should not show (a whole section, an absent field).
_HIDDEN = object()


def _shown(value: Any) -> str:
    """A value as a message shows it: nothing when hidden, ``null`` for YAML's null."""
    if value is _HIDDEN:
        return ""
    return "null" if value is None else short(value)


class _KeyShown:
    """A mapping key shown in a message (which may itself be None)."""

    def __init__(self, key: Any):
        self.key = key

    def __repr__(self) -> str:
        return f"key {self.key!r}"


# --------------------------------------------------------------------------- locations
def bare_location(loc: Iterable[Any]) -> tuple[Any, ...]:
    """An error location without pydantic's tags of function validators (``function-...``)."""
    return tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))


def plain_message(msg: str) -> str:
    """A pydantic error message without the ``Value error, `` prefix of custom validators."""
    return msg.removeprefix("Value error, ")


def format_loc(loc: tuple[Any, ...], data: Any, label_key: str = "name") -> str:
    """Dotted field path of an error location, as a message shows it.

    Args:
        loc: the location (field names, list positions, mapping keys).
        data: the document the location points into.
        label_key: field that names a list item: ``[2:label]`` when the item has it.

    Returns:
        The path, e.g. ``population.segments[0:all_parents].share``.
    """
    parts: list[str] = []
    node = data
    for part in loc:
        if part == "[key]":  # pydantic's marker of an error in a mapping key
            continue
        if isinstance(part, int) and isinstance(node, dict):  # a number used as a key
            node = node.get(part)
            parts.append(("." if parts else "") + str(part))
        elif isinstance(part, int):
            label = f"[{part}]"
            if isinstance(node, list) and 0 <= part < len(node):
                node = node[part]
                if isinstance(node, dict) and isinstance(node.get(label_key), str):
                    label = f"[{part}:{node[label_key]}]"
            else:
                node = None
            parts.append(label)
        else:
            node = node.get(part) if isinstance(node, dict) else None
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


# --------------------------------------------------------------------------- the schema
def _without_none(annotation: Any) -> Any:
    """The annotation without ``Annotated[...]`` and without ``None`` in a union."""
    while get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _without_none(args[0])
    return annotation


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (typing.Union, types.UnionType)


def _discriminator(annotation: Any, field: FieldInfo | None) -> str | None:
    """The discriminator of a tagged union, from its field or its ``Annotated`` metadata."""
    if field is not None and isinstance(field.discriminator, str):
        return field.discriminator
    if get_origin(annotation) is typing.Annotated:
        for meta in get_args(annotation)[1:]:
            if isinstance(meta, FieldInfo) and isinstance(meta.discriminator, str):
                return meta.discriminator
        return _discriminator(get_args(annotation)[0], None)
    if _is_union(annotation):
        for arg in get_args(annotation):
            found = _discriminator(arg, None)
            if found is not None:
                return found
    return None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models of a union (through ``Annotated`` and ``Optional``), in order."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        out += [m for m in _models_in(arg) if m not in out]
    return out


def _tags(annotation: Any, field: FieldInfo | None) -> dict[str, type[BaseModel]]:
    """The members of a tagged union by tag (empty when it is none)."""
    key = _discriminator(annotation, field)
    if key is None:
        return {}
    return {
        tag: model
        for model in _models_in(annotation)
        if key in model.model_fields
        for tag in get_args(model.model_fields[key].annotation)
    }


def _item(annotation: Any) -> Any:
    """The annotation of an item of a list or tuple, or of a value of a mapping."""
    args = get_args(annotation)
    if get_origin(annotation) is dict and len(args) == 2:
        return args[1]
    return args[0] if args else Any


@dataclass
class _Place:
    """Where an error location leads in the schema.

    Attributes:
        loc: the location as shown (without union tags and validator tags).
        model: the model the last part belongs to (for the allowed keys of an unknown key).
        tags: the tags of the tagged union at the end of the location, in order.
        member: the alternative of a plain union the error is about, if any.
    """

    loc: tuple[Any, ...]
    model: type[BaseModel] | None = None
    tags: tuple[str, ...] = ()
    member: str | None = None


def _walk(loc: tuple[Any, ...], schema: type[BaseModel]) -> _Place:
    """Follow an error location through the schema of a file."""
    shown: list[Any] = []
    annotation: Any = schema
    field: FieldInfo | None = None
    for part in bare_location(loc):
        tags = _tags(annotation, field)
        plain = _without_none(annotation)
        model = plain if isinstance(plain, type) and issubclass(plain, BaseModel) else None
        if part == "[key]":
            shown.append(part)
        elif isinstance(part, int):
            shown.append(part)
            annotation, field = _item(plain), None
        elif part in tags:  # the member of a tagged union: not part of the path
            annotation, field = tags[part], None
        elif model is not None and part in model.model_fields:
            shown.append(part)
            field = model.model_fields[part]
            annotation = field.annotation
        elif get_origin(plain) is dict:
            shown.append(part)
            annotation, field = _item(plain), None
        elif _is_union(plain):
            return _Place(tuple(shown), member=str(part))
        else:  # an unknown key
            shown.append(part)
            return _Place(tuple(shown), model=model)
    return _Place(tuple(shown), tags=tuple(_tags(annotation, field)))


# --------------------------------------------------------------------------- messages
_TYPE_ERRORS = frozenset({"int_type", "float_type", "bool_type", "int_from_float"})


def _looks_numeric(text: str) -> bool:
    try:
        float(text.replace("_", ""))
    except ValueError:
        return text.strip().lower() in ("true", "false", "yes", "no")
    return True


def _member_text(member: str) -> str:
    """An alternative of a plain union in words (``float`` -> ``a number``)."""
    if member.startswith("literal["):
        return member.removeprefix("literal[").removesuffix("]")
    if member.startswith("list["):
        return "a list"
    if member.startswith("dict["):
        return "a mapping"
    return {"str": "text", "int": "a whole number", "float": "a number", "bool": "true/false"}.get(
        member, member
    )


def _unknown_key(loc: tuple[Any, ...], model: type[BaseModel] | None) -> str:
    allowed = sorted(model.model_fields) if model else []
    key = str(loc[-1])
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = Message(N_("; did you mean '{name}'?"), name=close[0]) if close else ""
    return Message(
        "unknown key '{key}'{hint} Allowed keys: {allowed}",
        key=key,
        hint=hint,
        allowed=", ".join(allowed),
    )


def _tag_problem(err: Any, place: _Place) -> tuple[tuple[Any, ...], str, Any]:
    """Location, message and value of an unknown or missing tag of a tagged union."""
    ctx = err.get("ctx", {}) or {}
    key = str(ctx.get("discriminator", "kind")).strip("'")
    what = str(place.loc[-1]) if place.loc else key
    allowed = place.tags
    if err.get("type") == "union_tag_invalid":
        tag = ctx.get("tag", "")
        close = difflib.get_close_matches(str(tag), allowed, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return (*place.loc, key), f"unknown {what} '{tag}'{hint} Allowed: {', '.join(allowed)}", tag
    msg = f"required field is missing; the {what}: one of {', '.join(allowed)}"
    return (*place.loc, key), msg, _HIDDEN


def _message(err: Any, place: _Place) -> tuple[tuple[Any, ...], str, Any]:
    """Location to show, message and value of one pydantic error."""
    loc, etype = place.loc, err.get("type", "")
    msg, value = err.get("msg", "invalid value"), err.get("input")
    if etype == "extra_forbidden":
        return loc, _unknown_key(loc, place.model), _HIDDEN
    if etype == "missing":
        return loc, MISSING, _HIDDEN
    if etype in ("union_tag_invalid", "union_tag_not_found"):
        return _tag_problem(err, place)
    if etype == "value_error":
        raised = (err.get("ctx") or {}).get("error")
        said = raised.args[0] if raised is not None and raised.args else None
        text = said if isinstance(said, Message) else plain_message(msg)  # kept translatable
        return loc, text, _HIDDEN if isinstance(value, dict | list) else value
    if etype in ("model_type", "model_attributes_type"):
        return (
            loc,
            Message("expected a mapping of keys to values, not {kind}", kind=type(value).__name__),
            value,
        )
    if etype == "tuple_type":  # the only tuples of the schemas are [low, high] pairs
        return loc, Message("expected a list of two numbers, [low, high]"), value
    if etype in _TYPE_ERRORS and isinstance(value, UnclearNumber):
        return loc, UNCLEAR_NUMBER_HINT, value
    if etype in _TYPE_ERRORS and isinstance(value, bool):
        return loc, f"{msg}; true/false is not accepted here", value
    if etype == "int_type" and isinstance(value, float):
        return loc, f"{msg}; write a whole number without a decimal point", value
    if etype in _TYPE_ERRORS and isinstance(value, str):
        return loc, f"{msg}; write it without quotes" if _looks_numeric(value) else msg, value
    if loc and loc[-1] == "[key]" and isinstance(value, str):  # text, but not a valid name
        if etype == "string_pattern_mismatch":
            msg = "names are a letter, then letters, digits, '_' or '-' (at most 64)"
        return loc, f"not a valid key: {plain_message(msg)}", _KeyShown(value)
    if etype == "invalid_key" or (loc and loc[-1] == "[key]"):
        return loc, f"keys must be text, not {type(value).__name__}", _KeyShown(value)
    return loc, msg, value


def problems_from_validation(
    exc: ValidationError,
    file: str,
    data: Any,
    schema: type[BaseModel],
    label_key: str = "name",
) -> list[Problem]:
    """Turn a pydantic ValidationError into one Problem per error.

    Unknown keys get the list of allowed keys and the closest spelling; an unknown tag of
    a tagged union (a sampler's ``method``, a distribution's ``kind``) the allowed tags;
    a value that fits none of a union's alternatives one problem listing them.

    Args:
        exc: the error raised by ``schema.model_validate(data)``.
        file: file name used in messages.
        data: the document that was validated.
        schema: the model the document was validated against.
        label_key: field that names a list item in paths (``[0:label]``).

    Returns:
        The problems, in pydantic's order; those about union alternatives last.
    """
    out: list[Problem] = []
    unions: dict[tuple[Any, ...], list[str]] = {}
    union_values: dict[tuple[Any, ...], Any] = {}
    for err in exc.errors(include_url=False):
        place = _walk(tuple(err.get("loc", ())), schema)
        if place.member is not None:
            unions.setdefault(place.loc, []).append(_member_text(place.member))
            union_values.setdefault(place.loc, err.get("input"))
            continue
        loc, msg, value = _message(err, place)
        out.append(Problem(file, format_loc(loc, data, label_key), _shown(value), msg))
    for loc, members in unions.items():
        expected = " or ".join(dict.fromkeys(members))
        out.append(
            Problem(
                file,
                format_loc(loc, data, label_key),
                _shown(union_values[loc]),
                f"expected {expected}",
            )
        )
    return out
