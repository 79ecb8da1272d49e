"""Load and validate scenario files with messages a planner can act on.

YAML is parsed by PyYAML's safe loader (``SafeLoader``, the loader behind
``yaml.safe_load``; its libyaml version ``CSafeLoader`` when available), extended only to
reject duplicate keys, which plain ``safe_load`` would silently collapse to the last value,
to read ``1e3`` as a number as YAML 1.2 does, and to keep as text the numbers YAML 1.1
reads otherwise than a person (``02000`` octal, ``1:30`` base 60, ``0x1F``, ``0b101``),
which number fields then refuse by name. Nothing in a file is ever evaluated as
code: tags such as ``!!python/object`` are refused.

Before a document is built, a pass over the parser's events refuses documents nested
deeper than :data:`MAX_DEPTH` or expanding (through anchors and aliases) to more than
:data:`MAX_NODES` values, so a hostile file cannot exhaust the stack or the memory; files
larger than :data:`MAX_FILE_BYTES` are refused before they are read.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from impactsim.i18n import N_, Message
from impactsim.inputs import (
    Problem,
    ScenarioError,
    UnclearNumber,
    problems_from_validation,
    short,
)
from impactsim.scenario import Scenario, cross_reference_problems
from impactsim.scenario.sources import source_path_problems

#: Largest scenario file accepted (bytes); scenario files are a few kilobytes.
MAX_FILE_BYTES = 5_000_000

#: Deepest nesting of mappings and lists accepted; scenarios and sweeps need fewer than 10.
MAX_DEPTH = 32

#: Most values (mapping keys and values, list items) a document may hold once anchors and
#: aliases are expanded; the largest shipped scenario has 520.
MAX_NODES = 50_000

#: Top-level keys that only a sweep file has (see :mod:`impactsim.sweep.spec`).
SWEEP_KEYS = frozenset({"base", "parameters", "sampler", "overrides", "replicates_per_task"})


_SafeBase: type = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _UniqueKeyLoader(_SafeBase):  # type: ignore[misc,valid-type]
    """Safe loader that refuses duplicate mapping keys and reads ``1e3`` as a float."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG:  # '<<: *anchor' merges; its keys may be overridden
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found a key that is a {type(key).__name__}; keys must be text or numbers",
                key_node.start_mark,
            ) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)
# YAML 1.1 (PyYAML) reads 1e3 and 2.5e-4 as text; YAML 1.2 and every planner read numbers.
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


#: Whole numbers as a person reads them: decimal digits (which ``_`` may group), no
#: leading zero, an optional sign.
_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)")


def _construct_int(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> int | UnclearNumber:
    """A YAML 1.1 integer: decimal digits as a number, any other form as its text.

    YAML 1.1 reads ``02000`` as octal 1024, ``1:30`` as base-60 90, and ``0x1F`` and
    ``0b101`` as numbers too; a planner reads none of these so. They stay text
    (:class:`~impactsim.inputs.UnclearNumber`): a number field refuses them by name.
    ``1_000`` is 1000, as YAML and Python read it.
    """
    text = loader.construct_scalar(node)
    if _PLAIN_INT.fullmatch(text):
        return int(text.replace("_", ""))
    return UnclearNumber(text)


def _construct_float(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> float | UnclearNumber:
    """A YAML 1.1 float, except a base-60 one (``1:30.5``), which stays text."""
    text = loader.construct_scalar(node)
    if ":" in text:
        return UnclearNumber(text)
    return loader.construct_yaml_float(node)


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)  # type: ignore[arg-type]
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)  # type: ignore[arg-type]


#: PyYAML's most frequent problems, as catalogue messages: the English is PyYAML's own
#: text, so the command line says what it always said; the app translates it.
_YAML_PROBLEMS = frozenset(
    (
        N_("mapping values are not allowed here"),
        N_("could not find expected ':'"),
        N_("did not find expected key"),
        N_("did not find expected '-' indicator"),
        N_("found unexpected end of stream"),
        N_("found unexpected ':'"),
        # libyaml's wording (the C loader)
        N_("mapping values are not allowed in this context"),
        N_("block sequence entries are not allowed in this context"),
        N_("found character that cannot start any token"),
        N_("found a tab character that violates indentation"),
        N_("found a tab character where an indentation space is expected"),
        N_("did not find expected node content"),
    )
)
_YAML_PATTERNS = (
    (
        re.compile(r"found character '(.*)' that cannot start any token$"),
        N_("found character '{found}' that cannot start any token"),
    ),
    (re.compile(r"expected (.*), but found (.*)$"), N_("expected {expected}, but found {found}")),
)


def _yaml_problem(problem: str) -> str:
    """PyYAML's problem text, as a translatable message where it is a known one."""
    if problem in _YAML_PROBLEMS:
        return Message(problem)
    for pattern, template in _YAML_PATTERNS:
        m = pattern.match(problem)
        if m:
            names = ("found",) if m.re.groups == 1 else ("expected", "found")
            return Message(template, **dict(zip(names, m.groups(), strict=True)))
    return problem


def _yaml_error_text(exc: yaml.YAMLError, text: str) -> str:
    """One line saying where and what the YAML error is (a translatable message)."""
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow
        before = text[: max(0, exc.position)]
        line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
        char = (
            exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or " ")
        )
        code = "#x" + format(char, "04x")
        return Message(
            "line {line}, column {column}: character {char} is not allowed ({reason})",
            line=line,
            column=column,
            char=code,
            reason=exc.reason,
        )
    mark = getattr(exc, "problem_mark", None)
    problem = _yaml_problem(getattr(exc, "problem", None) or str(exc).splitlines()[0])
    if mark is None:
        return problem
    return Message(
        "line {line}, column {column}: {problem}",
        line=mark.line + 1,
        column=mark.column + 1,
        problem=problem,
    )


def _check_structure(text: str) -> str | None:
    """Walk the parser's events; say what is wrong if the document is too deep or too big.

    Counts every scalar and collection once and every alias as the size of what it
    refers to, so a "billion laughs" document is refused before anything is built.
    Stops at the first limit exceeded.

    Returns:
        None when the document is within :data:`MAX_DEPTH` and :data:`MAX_NODES`, otherwise
        the message to report.

    Raises:
        yaml.YAMLError: the text is not valid YAML.
    """
    total = 0
    starts: list[tuple[int, str | None]] = []  # running total at each open collection
    sizes: dict[str, int] = {}
    for event in yaml.parse(text, Loader=_UniqueKeyLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            if len(starts) >= MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else "?"
                return (
                    f"nesting is too deep: more than {MAX_DEPTH} levels of mappings and lists "
                    f"(at line {line}); scenario and sweep files need fewer than 10"
                )
            starts.append((total, event.anchor))
            total += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            start, anchor = starts.pop()
            if anchor is not None:
                sizes[anchor] = total - start
        elif isinstance(event, yaml.ScalarEvent):
            total += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            total += sizes.get(event.anchor, 1)
        if total > MAX_NODES:
            return (
                f"document is too large: it expands to more than {MAX_NODES:,} values "
                "(counting what every alias *name refers to); scenario and sweep files hold "
                "a few hundred"
            )
    return None


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
    return parse_yaml_text(read_input_bytes(path), str(path))


def read_input_bytes(path: str | os.PathLike[str]) -> bytes:
    """Read the bytes of a scenario or sweep file, refusing what cannot be one.

    Args:
        path: file to read.

    Returns:
        The file's bytes (at most :data:`MAX_FILE_BYTES`).

    Raises:
        ScenarioError: the file is missing, a directory or not a regular file (a device,
            a pipe), larger than :data:`MAX_FILE_BYTES`, or cannot be read.
    """
    p = Path(path)
    name = str(path)

    def fail(msg: str) -> ScenarioError:
        return ScenarioError([Problem(name, "", "", msg)])

    try:
        if not p.exists():
            raise fail("file not found")
        if p.is_dir():
            raise fail("is a directory; expected a YAML scenario or sweep file")
        if not p.is_file():
            raise fail("is not a regular file; expected a YAML scenario or sweep file")
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise fail(
                f"file is {size:,} bytes; scenario and sweep files may be at most "
                f"{MAX_FILE_BYTES:,} bytes"
            )
        with open(p, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise fail(f"cannot read the file: {exc.strerror or exc}") from None
    except ValueError as exc:  # e.g. a NUL character in the path
        if isinstance(exc, ScenarioError):
            raise
        raise fail(f"not a usable file path: {exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise fail(f"file is larger than {MAX_FILE_BYTES:,} bytes")
    return raw


def parse_yaml_text(raw: bytes | str, name: str = "<yaml>") -> Any:
    """Parse the text of a scenario or sweep file safely (see :func:`read_yaml`).

    Args:
        raw: the file's bytes (must be UTF-8) or text.
        name: file name used in messages.

    Returns:
        The parsed document.

    Raises:
        ScenarioError: the text is not UTF-8, holds NUL bytes, is nested too deeply or
            expands to too many values, or is not valid YAML.
    """

    def fail(msg: str) -> ScenarioError:
        return ScenarioError([Problem(name, "", "", msg)])

    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise fail(
                Message("not UTF-8 text (byte {at}); save the file as UTF-8", at=exc.start)
            ) from None
    else:
        text = raw
    if "\x00" in text:
        raise fail(Message("contains NUL bytes; expected a YAML text file"))
    try:
        too_big = _check_structure(text)
        data = None if too_big is not None else yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        if "nesting depth" in str(getattr(exc, "problem", "") or exc):
            # PyYAML >= 6.0.4 stops very deep documents in its parser, before our own check
            raise fail(
                Message(
                    "nesting is too deep: more than {most} levels of mappings and lists; "
                    "scenario and sweep files need fewer than 10",
                    most=MAX_DEPTH,
                )
            ) from None
        raise fail(Message("invalid YAML: {why}", why=_yaml_error_text(exc, text))) from None
    except RecursionError:
        raise fail("YAML nesting is too deep") from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a 5000-digit number, a bad date
        detail = str(exc) if len(str(exc)) <= 160 else str(exc)[:157] + "..."
        raise fail(f"invalid YAML value: {detail}") from None
    if too_big is not None:
        raise fail(too_big)
    return data


# messages of the model-level cross-reference validator, re-reported per path instead
_CROSS_PREFIXES = (
    "population.",
    "interventions",
    "strategy.",
    "channels",
    "providers",
    "outcome",
    "economics",
    "sources[",
)


def require_mapping(data: Any, file: str, kind: str) -> None:
    """Raise a clear ScenarioError unless a parsed document is a non-empty mapping.

    Args:
        data: the parsed YAML document.
        file: name used in messages.
        kind: what the file should be (``"scenario"``, ``"sweep"``).
    """
    if data is None:
        empty = {
            "scenario": N_("file is empty; expected a scenario mapping"),
            "sweep": N_("file is empty; expected a sweep mapping"),
        }
        message = Message(empty.get(kind, "file is empty; expected a {kind} mapping"), kind=kind)
        raise ScenarioError([Problem(file, "", "", message)])
    if not isinstance(data, dict):
        top = Message("expected a mapping of sections at the top level")
        raise ScenarioError([Problem(file, "", short(data), top)])


def validate_document(schema: Any, data: Any, file: str, kind: str, label_key: str = "name") -> Any:
    """A parsed input document validated by ``schema``, every problem in one error.

    Args:
        schema: the pydantic model of the file.
        data: the parsed document.
        file: its name (for messages).
        kind: what the file is, for the message when it is not a mapping.
        label_key: field that names a list item in problem paths.

    Raises:
        ScenarioError: the document is not a mapping, or the schema refuses it.
    """
    require_mapping(data, file, kind)
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation(exc, file, data, schema, label_key=label_key)
        raise ScenarioError(problems) from None


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
    require_mapping(data, file, "scenario")
    if is_sweep_document(data):
        raise ScenarioError(
            [
                Problem(
                    file,
                    "",
                    "",
                    Message(
                        "this is a sweep file (it has {keys}), not a scenario: run it with "
                        "`impactsim sweep FILE --out DIR`, check it with `impactsim validate "
                        "FILE`",
                        keys=", ".join(sorted(SWEEP_KEYS & set(data))),
                    ),
                )
            ]
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        found = [
            p
            for p in problems_from_validation(exc, file, data, Scenario)
            if not (p.path == "" and p.message.startswith(_CROSS_PREFIXES))
        ]
        crossed = cross_reference_problems(data) + source_path_problems(data, Scenario)
        found += [Problem(file, path, "", msg) for path, msg in crossed]
        raise ScenarioError(found) from None
    except RecursionError:
        raise ScenarioError([Problem(file, "", "", "nesting is too deep")]) from None


def is_sweep_document(data: Any) -> bool:
    """True when parsed YAML looks like a sweep file rather than a scenario.

    A sweep file has keys a scenario never has (``base``, ``parameters``, ``sampler``,
    ``overrides``, ``replicates_per_task``) and no ``population``.
    """
    return isinstance(data, dict) and "population" not in data and bool(SWEEP_KEYS & set(data))


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
