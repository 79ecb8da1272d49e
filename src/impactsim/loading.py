"""Load and validate scenario files with messages a planner can act on.

YAML is parsed by PyYAML's ``SafeLoader`` (the loader behind ``yaml.safe_load``),
extended only to reject duplicate keys, which plain ``safe_load`` would silently
collapse to the last value. Nothing in a file is ever evaluated as code.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from impactsim.scenario import Scenario, cross_reference_problems

#: Largest scenario file accepted (bytes); scenario files are a few kilobytes.
MAX_FILE_BYTES = 5_000_000


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
    """A scenario file could not be read or is not valid; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
        except TypeError:  # unhashable key: let the base constructor report it
            duplicate = False
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_yaml(path: str | os.PathLike[str]) -> Any:
    """Read a YAML file safely.

    Args:
        path: file to read.

    Returns:
        The parsed document (plain dicts, lists, strings and numbers).

    Raises:
        ScenarioError: the file is missing, not a regular file, too large, not UTF-8
            or not valid YAML.
    """
    p = Path(path)
    name = str(path)

    def fail(msg: str) -> ScenarioError:
        return ScenarioError([Problem(name, "", "", msg)])

    if not p.exists():
        raise fail("file not found")
    if p.is_dir():
        raise fail("is a directory; expected a YAML scenario file")
    if not p.is_file():
        raise fail("is not a regular file")
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        raise fail(f"file is {size} bytes; scenario files may be at most {MAX_FILE_BYTES} bytes")
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    if "\x00" in text:
        raise fail("contains NUL bytes; expected a YAML text file")
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise fail(f"invalid YAML: {where}{problem}") from None
    except RecursionError:
        raise fail("YAML nesting is too deep") from None


def _model_at(loc: Iterable[Any]) -> type[BaseModel] | None:
    """Walk the Scenario schema along an error location; return the model reached."""
    model: Any = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = _unwrap(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """Find the BaseModel inside Optional[...] / list[...] annotations."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is not None or get_args(annotation):
        for arg in get_args(annotation):
            found = _unwrap(arg)
            if isinstance(found, type) and issubclass(found, BaseModel):
                return found
    return annotation


def _format_loc(loc: tuple[Any, ...], data: Any) -> str:
    """Dotted path; list items are named by their `name` when they have one."""
    parts: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int):
            label = f"[{part}]"
            if isinstance(node, list) and 0 <= part < len(node):
                node = node[part]
                if isinstance(node, dict) and isinstance(node.get("name"), str):
                    label = f"[{part}:{node['name']}]"
            else:
                node = None
            parts.append(label)
        else:
            node = node.get(part) if isinstance(node, dict) else None
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


def problems_from_validation(exc: ValidationError, file: str, data: Any) -> list[Problem]:
    """Turn a pydantic ValidationError into one Problem per error.

    Unknown keys get the list of allowed keys and the closest spelling.
    """
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        # drop pydantic's internal tags for function validators
        loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
        msg = err.get("msg", "invalid value")
        etype = err.get("type", "")
        value = err.get("input")
        if etype == "extra_forbidden":
            model = _model_at(loc[:-1])
            key = str(loc[-1])
            allowed = sorted(model.model_fields) if model else []
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            msg = f"unknown key '{key}'{hint} Allowed keys: {', '.join(allowed)}"
            value = None
        elif etype == "missing":
            msg = "required field is missing"
            value = None
        elif etype == "value_error":
            msg = msg.removeprefix("Value error, ")
            value = None if isinstance(value, dict | list) else value
        elif etype in ("model_type", "model_attributes_type"):
            msg = f"expected a mapping of keys to values, not {type(value).__name__}"
        shown = "" if value is None else _short(value)
        out.append(Problem(file, _format_loc(loc, data), shown, msg))
    return out


# messages of the model-level cross-reference validator, re-reported per path instead
_CROSS_PREFIXES = (
    "population.",
    "interventions",
    "strategy.",
    "channels",
    "providers",
    "outcome.",
    "economics",
)


def parse_scenario(data: Any, file: str = "<scenario>") -> Scenario:
    """Validate already-parsed scenario data.

    Args:
        data: the parsed YAML document.
        file: name used in error messages.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: with every problem found.
    """
    if data is None:
        raise ScenarioError([Problem(file, "", "", "file is empty; expected a scenario mapping")])
    if not isinstance(data, dict):
        raise ScenarioError(
            [Problem(file, "", _short(data), "expected a mapping of sections at the top level")]
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        found = [
            p
            for p in problems_from_validation(exc, file, data)
            if not (p.path == "" and p.message.startswith(_CROSS_PREFIXES))
        ]
        found += [Problem(file, path, "", msg) for path, msg in cross_reference_problems(data)]
        raise ScenarioError(found) from None
    except RecursionError:
        raise ScenarioError([Problem(file, "", "", "nesting is too deep")]) from None


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Load and validate a scenario YAML file.

    Args:
        path: scenario file.

    Returns:
        The validated :class:`~impactsim.scenario.Scenario`.

    Raises:
        ScenarioError: the file cannot be read or is invalid; ``str(err)`` lists every problem
            as ``file: field.path: message (got value)``.
    """
    data = read_yaml(path)
    return parse_scenario(data, str(path))


def default_scenario_path() -> Path:
    """Path of the built-in default scenario shipped with the package."""
    return Path(str(resources.files("impactsim") / "data" / "default.yaml"))


def default_scenario() -> Scenario:
    """Load the built-in default scenario (a synthetic municipality of 20,000 families)."""
    return load_scenario(default_scenario_path())


def dump_scenario(scenario: Scenario) -> str:
    """Return the fully resolved scenario (every default filled in) as YAML text."""
    return yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
