"""Sweep files: loading and validation.

A sweep file (YAML) names a base scenario, the parameters to vary (each a dotted path into
the scenario with a range, a distribution or a list of values), a sampler, the number of
replicates per point and the outputs to keep. It is validated like a scenario file: every
problem is reported as ``file: field.path: message (got value)`` through
:class:`~impactsim.inputs.ScenarioError` (the translator of :mod:`impactsim.inputs`).

The schema (:class:`SweepFile` and its sections) and the validated :class:`Sweep` are
defined in :mod:`impactsim.sweep.schema` and importable from here too.
"""

from __future__ import annotations

import copy
import math
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from impactsim.inputs import (
    Problem,
    ScenarioError,
    bare_location,
    plain_message,
    problems_from_validation,
    short,
)
from impactsim.loading import (
    default_scenario_path,
    load_scenario,
    parse_scenario,
    parse_yaml_text,
    read_input_bytes,
    require_mapping,
)
from impactsim.scenario import Scenario
from impactsim.sweep.paths import (
    Location,
    PathError,
    format_location,
    get_value,
    resolve,
    with_values,
)
from impactsim.sweep.schema import (
    DEFAULT_METRICS,
    DISTRIBUTIONS,
    MAX_POINTS,
    MAX_TASKS,
    RESERVED_NAMES,
    SAMPLERS,
    SWEEP_BREAKDOWNS,
    SWEEP_FORMAT,
    Beta,
    Distribution,
    GridSampler,
    Identifier,
    LatinHypercubeSampler,
    LogNormal,
    LogUniform,
    MetricName,
    MorrisSampler,
    Normal,
    OneWaySampler,
    Outputs,
    Parameter,
    ResolvedParameter,
    Sampler,
    Scalar,
    SobolSampler,
    Sweep,
    SweepFile,
    Triangular,
    Uniform,
)
from impactsim.tables import BREAKDOWN_COLUMNS

__all__ = [
    "BREAKDOWN_COLUMNS",
    "DEFAULT_METRICS",
    "DISTRIBUTIONS",
    "MAX_POINTS",
    "MAX_TASKS",
    "RESERVED_NAMES",
    "ROOT_MARKERS",
    "SAMPLERS",
    "SWEEP_BREAKDOWNS",
    "SWEEP_FORMAT",
    "Beta",
    "Distribution",
    "GridSampler",
    "Identifier",
    "LatinHypercubeSampler",
    "LogNormal",
    "LogUniform",
    "MetricName",
    "MorrisSampler",
    "Normal",
    "OneWaySampler",
    "Outputs",
    "Parameter",
    "ResolvedParameter",
    "Sampler",
    "Scalar",
    "SobolSampler",
    "Sweep",
    "SweepFile",
    "Triangular",
    "Uniform",
    "allowed_root",
    "load_sweep",
    "parse_sweep",
    "resolve_base_path",
]

#: Files marking the root of a project or scenario library: a sweep's ``base`` path must
#: stay inside the nearest directory holding one (see :func:`allowed_root`).
ROOT_MARKERS: tuple[str, ...] = (".impactsim-root", "pyproject.toml", ".git")


# --------------------------------------------------------------------------- loading
def load_sweep(path: str | os.PathLike[str], *, allow_external_paths: bool = False) -> Sweep:
    """Load and validate a sweep YAML file.

    Args:
        path: sweep file.
        allow_external_paths: let ``base`` name a file outside the sweep's directory tree
            (see :func:`allowed_root`); off by default, so a sweep file from elsewhere
            cannot make impactsim read arbitrary files.

    Returns:
        The validated :class:`Sweep`.

    Raises:
        ScenarioError: every problem in the sweep file, its base scenario or its overrides,
            as ``file: field.path: message (got value)``.
    """
    p = Path(path)
    raw = read_input_bytes(p)
    data = parse_yaml_text(raw, str(path))
    return parse_sweep(
        data,
        file=str(path),
        base_dir=p.parent,
        source_text=raw.decode("utf-8"),
        allow_external_paths=allow_external_paths,
    )


def parse_sweep(
    data: Any,
    file: str = "<sweep>",
    base_dir: str | os.PathLike[str] | None = None,
    source_text: str = "",
    *,
    allow_external_paths: bool = False,
) -> Sweep:
    """Validate already-parsed sweep data.

    Args:
        data: the parsed YAML document.
        file: name used in messages.
        base_dir: directory a relative ``base`` path is resolved against (default: cwd).
        source_text: the file's text, kept in the sweep directory for reference.
        allow_external_paths: let ``base`` name a file outside ``base_dir``'s tree (see
            :func:`allowed_root`).

    Returns:
        The validated :class:`Sweep`.

    Raises:
        ScenarioError: with every problem found.
    """
    require_mapping(data, file, "sweep")
    where = Path(base_dir) if base_dir is not None else Path.cwd()
    try:
        spec = SweepFile.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation(exc, file, data, SweepFile, label_key="path")
        problems += _more_problems(data, file, where, allow_external_paths)
        raise ScenarioError(problems) from None

    base = resolved_base(spec, file, where, allow_external_paths)
    seed = spec.seed if spec.seed is not None else int(base["simulation"]["seed"])
    params, problems = _resolve_parameters(list(spec.parameters), spec.sampler, base, file)
    if problems:
        raise ScenarioError(problems)
    per_task = spec.replicates_per_task or min(spec.replicates, 10)
    per_task = min(per_task, spec.replicates)
    sweep = Sweep(
        spec=spec,
        file=file,
        base=base,
        parameters=params,
        seed=seed,
        replicates_per_task=per_task,
        source_text=source_text,
    )
    _check_size(sweep, file)
    return sweep


def allowed_root(sweep_dir: str | os.PathLike[str]) -> Path:
    """The directory a sweep file's ``base`` path must stay inside.

    It is the nearest directory at or above the sweep file's directory that holds a
    project marker (:data:`ROOT_MARKERS`: ``.impactsim-root``, ``pyproject.toml`` or
    ``.git``), never the home directory or the filesystem root; without one, the sweep
    file's own directory. So ``scenarios/sweeps/x.yaml`` in a project may use
    ``base: ../package.yaml``, while a sweep file received from elsewhere cannot reach
    ``/etc`` or ``~/.ssh`` (:func:`resolve_base_path` also refuses hidden files and
    directories inside the root).

    Args:
        sweep_dir: the directory of the sweep file (symlinks are resolved).

    Returns:
        The resolved root directory.
    """
    start = Path(sweep_dir).resolve()
    try:
        home: Path | None = Path.home().resolve()
    except (RuntimeError, OSError):  # no home directory known
        home = None
    for d in (start, *start.parents):
        if d == home or d.parent == d:
            break
        if any((d / m).exists() for m in ROOT_MARKERS):
            return d
    return start


def resolve_base_path(base: str, base_dir: Path, allow_external: bool = False) -> Path:
    """Resolve a sweep's ``base`` file path, refusing one that escapes its directory tree.

    Refused unless ``allow_external``: an absolute path, a path that leads (through ``..``
    or a symbolic link) outside :func:`allowed_root`, and a path through a hidden file or
    directory (a name starting with ``.``) inside it.

    Args:
        base: the path as written in the sweep file (relative to the sweep file).
        base_dir: the sweep file's directory.
        allow_external: accept absolute paths and paths outside :func:`allowed_root`.

    Returns:
        The path to read (symlinks resolved).

    Raises:
        ValueError: with the reason the path is refused.
    """
    path = Path(base)
    if path.is_absolute() and not allow_external:
        raise ValueError(
            "an absolute path is not allowed; give a path relative to the sweep file, or "
            "pass --allow-external-paths (allow_external_paths=True) if you trust this file"
        )
    target = (base_dir / path).resolve()
    if not allow_external:
        root = allowed_root(base_dir)
        if not target.is_relative_to(root):
            raise ValueError(
                f"the path leads outside the sweep's directory tree {root} (to {target}); "
                "move the scenario inside it, or pass --allow-external-paths "
                "(allow_external_paths=True) if you trust this file"
            )
        hidden = [part for part in target.relative_to(root).parts if part.startswith(".")]
        if hidden:
            raise ValueError(
                f"the path leads into a hidden file or directory ('{hidden[0]}', e.g. .ssh or "
                ".git), which a scenario never needs; pass --allow-external-paths "
                "(allow_external_paths=True) if you trust this file"
            )
    return target


def resolved_base(
    spec: Any, file: str, base_dir: Path, allow_external: bool = False
) -> dict[str, Any]:
    """The base scenario of a sweep or optimisation file, overrides applied, as a dict.

    Args:
        spec: the validated file (its ``base`` and ``overrides``).
        file: its name (for messages).
        base_dir: directory a relative ``base`` path is resolved against.
        allow_external: accept a ``base`` outside the file's directory tree.

    Raises:
        ScenarioError: the base cannot be read, is invalid, or an override does not apply.
    """
    return _apply_overrides(spec, _load_base(spec, file, base_dir, allow_external), file)


def _load_base(
    spec: SweepFile, file: str, base_dir: Path, allow_external: bool = False
) -> dict[str, Any]:
    if isinstance(spec.base, dict):
        scenario = parse_scenario(copy.deepcopy(spec.base), f"{file} (base)")
    elif spec.base == "default":
        scenario = load_scenario(default_scenario_path())
    else:
        try:
            path = resolve_base_path(spec.base, base_dir, allow_external)
            found = path.is_file()
        except (ValueError, OSError) as err:
            why = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            raise ScenarioError(
                [Problem(file, "base", short(spec.base), f"not a usable file path: {why}")]
            ) from None
        if not found:
            raise ScenarioError(
                [
                    Problem(
                        file,
                        "base",
                        short(spec.base),
                        f"base scenario file not found (looked for {path}); give a path "
                        "relative to the sweep file, 'default' or an inline scenario",
                    )
                ]
            )
        scenario = load_scenario(path)
    return scenario.model_dump(mode="json")


def _apply_overrides(spec: SweepFile, base: dict[str, Any], file: str) -> dict[str, Any]:
    if not spec.overrides:
        return base
    problems: list[Problem] = []
    changes: list[tuple[Location, Any]] = []
    for key, value in spec.overrides.items():
        try:
            loc = resolve(base, key)
        except PathError as err:
            problems.append(Problem(file, f"overrides.{key}", "", str(err)))
            continue
        changes.append((loc, value))
    if problems:
        raise ScenarioError(problems)
    data = with_values(base, changes)
    try:
        scenario = parse_scenario(data, f"{file} (base with overrides)")
    except ScenarioError as err:
        raise ScenarioError(
            [Problem(file, f"overrides -> {p.path}", p.value, p.message) for p in err.problems]
        ) from None
    return scenario.model_dump(mode="json")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _more_problems(
    data: dict[str, Any], file: str, base_dir: Path, allow_external: bool = False
) -> list[Problem]:
    """Path problems of a sweep file whose schema validation failed elsewhere.

    So that one run of ``impactsim sweep`` reports every problem it can find.
    """
    base_spec = data.get("base")
    overrides = data.get("overrides") or {}
    if not isinstance(base_spec, str | dict) or not isinstance(overrides, dict):
        return []
    shadow = SweepFile.model_construct(base=base_spec, overrides=overrides)
    try:
        base = resolved_base(shadow, file, base_dir, allow_external)
    except ScenarioError as err:
        return list(err.problems)
    raw = data.get("parameters")
    if not isinstance(raw, list):
        return []
    params: list[Parameter | None] = []
    for item in raw:
        try:
            params.append(Parameter.model_validate(item))
        except ValidationError:
            params.append(None)  # already reported
    return _resolve_parameters(params, None, base, file)[1]


def _resolve_parameters(
    parameters: list[Parameter | None],
    sampler: Any,
    base: dict[str, Any],
    file: str,
) -> tuple[list[ResolvedParameter], list[Problem]]:
    from impactsim.sweep.sampling import extreme_values

    problems: list[Problem] = []
    out: list[ResolvedParameter] = []
    seen_labels: dict[str, int] = {}
    seen_locs: dict[Location, int] = {}
    for i, p in enumerate(parameters):
        if p is None:
            continue
        where = f"parameters[{i}:{p.path}]"
        try:
            loc = resolve(base, p.path)
        except PathError as err:
            problems.append(Problem(file, f"{where}.path", short(p.path), str(err)))
            continue
        current = get_value(base, loc)
        if isinstance(current, dict | list):
            problems.append(
                Problem(
                    file,
                    f"{where}.path",
                    short(p.path),
                    f"'{format_location(loc, base)}' is a section, not a single value; "
                    "address one of its fields",
                )
            )
            continue
        if p.values is None and isinstance(current, str | bool):
            problems.append(
                Problem(
                    file,
                    f"{where}.path",
                    short(p.path),
                    f"'{format_location(loc, base)}' holds {current!r}, not a number; "
                    "vary it with values: [...]",
                )
            )
            continue
        label = p.label
        if label in RESERVED_NAMES:
            problems.append(
                Problem(
                    file,
                    f"{where}.name",
                    short(label),
                    f"'{label}' is a column of the results table; choose another name "
                    f"(reserved: {', '.join(sorted(RESERVED_NAMES))})",
                )
            )
        if label in seen_labels:
            problems.append(
                Problem(
                    file,
                    f"{where}.name",
                    short(label),
                    f"name already used by parameters[{seen_labels[label]}]; names must be unique",
                )
            )
        seen_labels.setdefault(label, i)
        if loc in seen_locs:
            problems.append(
                Problem(
                    file,
                    f"{where}.path",
                    short(p.path),
                    f"the same field is already varied by parameters[{seen_locs[loc]}]",
                )
            )
        seen_locs.setdefault(loc, i)
        integer = p.integer if p.integer is not None else _is_int(current)
        if integer and p.values is None:
            lo, hi = _numeric_bounds(p)
            if math.floor(hi) < math.ceil(lo) and math.isfinite(lo) and math.isfinite(hi):
                problems.append(
                    Problem(
                        file,
                        f"{where}.range",
                        "",
                        f"'{format_location(loc, base)}' is a whole number but no whole "
                        f"number lies between {lo} and {hi}",
                    )
                )
        rp = ResolvedParameter(spec=p, loc=loc, integer=integer, base_value=current)
        problems += _check_extremes(rp, base, file, where, extreme_values(rp, sampler))
        out.append(rp)
    return out, problems


def _numeric_bounds(p: Parameter) -> tuple[float, float]:
    if p.range is not None:
        return float(p.range[0]), float(p.range[1])
    d = p.distribution
    lo = getattr(d, "low", None)
    hi = getattr(d, "high", None)
    return (
        float(lo) if lo is not None else -math.inf,
        float(hi) if hi is not None else math.inf,
    )


def _check_extremes(
    rp: ResolvedParameter, base: dict[str, Any], file: str, where: str, values: list[Any]
) -> list[Problem]:
    """Validate the base scenario with the parameter at each extreme value.

    Only errors about this field itself are reported; combinations are checked per point.
    """
    field_name = (
        "values"
        if rp.spec.values is not None
        else ("range" if rp.spec.range is not None else "distribution")
    )
    return value_problems(base, rp.loc, values, file, f"{where}.{field_name}")


def value_problems(
    base: dict[str, Any], loc: Location, values: list[Any], file: str, where: str
) -> list[Problem]:
    """Validate the base scenario with the field at ``loc`` set to each of ``values``.

    Only errors about this field itself are reported (combinations with other fields are
    checked when a point or candidate runs).

    Args:
        base: the resolved base scenario.
        loc: the field's location.
        values: the values to try.
        file: the file naming them (for messages).
        where: field path of the values in that file.

    Returns:
        One problem per value the field does not allow.
    """
    problems: list[Problem] = []
    for value in values:
        trial = with_values(base, [(loc, value)])
        try:
            Scenario.model_validate(trial)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                at = bare_location(err.get("loc", ()))
                if at[: len(loc)] == loc and len(at) <= len(loc) + 1:
                    msg = plain_message(str(err.get("msg", "invalid value")))
                    problems.append(
                        Problem(
                            file,
                            where,
                            short(value),
                            f"value not allowed for '{format_location(loc, base)}': {msg}",
                        )
                    )
                    break
        except RecursionError:  # pragma: no cover - defensive
            pass
    return problems


def _check_size(sweep: Sweep, file: str) -> None:
    from impactsim.sweep.sampling import point_count

    n = point_count(sweep)
    if n > MAX_POINTS:
        raise ScenarioError(
            [
                Problem(
                    file,
                    "sampler",
                    str(n),
                    f"the design has too many points (at most {MAX_POINTS})",
                )
            ]
        )
    tasks = n * math.ceil(sweep.replicates / sweep.replicates_per_task)
    if tasks > MAX_TASKS:
        raise ScenarioError(
            [
                Problem(
                    file,
                    "replicates_per_task",
                    str(sweep.replicates_per_task),
                    f"the sweep would have {tasks} tasks (at most {MAX_TASKS}); "
                    "raise replicates_per_task",
                )
            ]
        )
