"""A calibrated posterior as the source of parameter uncertainty of a run.

A posterior is a weighted sample of parameter values: the ``posterior.parquet`` that
``impactsim calibrate`` writes (one column per parameter, ``weight``, ``generation``), or
any Parquet or CSV table with a ``weight`` column and one column per parameter. A
column is named by the calibration's parameter name (read from the calibration
directory's ``inputs/parameters.yaml``) or is itself a dotted scenario path
(``channels.online.referral_strength``).

Replicate ``r`` of a run with base seed ``seed`` uses the posterior row drawn with
probability proportional to its weight from the named stream ``posterior/draw`` of the
replicate key (:func:`impactsim.rng.replicate_key`): the draw depends on the seed and
the replicate number only, so it is reproducible and identical for every strategy of a
comparison, and every other random number of the replicate is what it would be without
a posterior (common random numbers).

Typical use::

    from impactsim.posterior import load_posterior, apply_posterior

    post = load_posterior("outputs/calibration")           # or .../posterior.parquet
    result = impactsim.run(scenario, posterior=post)       # replicate r: post.row(seed, r)
    scenario_r = apply_posterior(scenario, post, replicate=3, seed=1)   # e.g. an optimiser
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError

from impactsim.inputs import (
    Problem,
    ScenarioError,
    StrictModel,
    bare_location,
    plain_message,
    problems_from_validation,
    short,
)
from impactsim.loading import parse_yaml_text
from impactsim.rng import replicate_key, stream_generator
from impactsim.scenario import Scenario
from impactsim.sweep.paths import Location, PathError, format_location, get_value, resolve_all
from impactsim.sweep.paths import with_values as _with_values

#: Column of the weights; ``generation`` (written by ``impactsim calibrate``) is ignored.
WEIGHT = "weight"
IGNORED = ("generation",)
#: Largest posterior file read (a posterior of 100,000 draws of 50 parameters is ~40 MB).
MAX_POSTERIOR_BYTES = 200_000_000
#: Name of the posterior in a calibration directory, and of its parameters file.
POSTERIOR_FILE = "posterior.parquet"
PARAMETERS_FILE = Path("inputs") / "parameters.yaml"
#: Most replicates whose drawn rows run.json lists (run.json stays well below 1 MB).
MAX_RECORDED_DRAWS = 10_000

NonNegative = Annotated[float, Field(ge=0.0)]


class PosteriorTable(StrictModel):
    """The columns of a posterior file, as validated: weights and parameter values."""

    weight: list[NonNegative] = Field(min_length=1, description="weight of each row (>= 0)")
    parameters: dict[str, list[float]] = Field(
        min_length=1, description="values of each parameter, one per row (finite numbers)"
    )


@dataclass(frozen=True)
class Posterior:
    """A weighted posterior sample, read and checked (:func:`load_posterior`).

    Attributes:
        file: the file it was read from (for messages and provenance).
        sha256: SHA-256 of the file's bytes.
        paths: dotted scenario path of each parameter, by column label (``*`` stands for
            every item of a list: one value for all the fields it matches).
        values: ``[rows, parameters]``, in the order of ``paths``.
        weights: the weights, normalised to sum to 1.
        relative: labels whose value multiplies the scenario's values instead of
            replacing them (``relative: true`` in the calibration's parameters file).
    """

    file: str
    sha256: str
    paths: dict[str, str]
    values: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)
    relative: frozenset[str] = frozenset()

    @property
    def labels(self) -> list[str]:
        """Column labels of the parameters, in order."""
        return list(self.paths)

    @property
    def rows(self) -> int:
        """Number of rows (particles)."""
        return int(self.weights.shape[0])

    @property
    def ess(self) -> float:
        """Kish effective sample size of the weights."""
        return float(1.0 / np.sum(self.weights**2))

    def row(self, seed: int, replicate: int) -> int:
        """The posterior row replicate ``replicate`` of a run with base seed ``seed`` uses.

        A weighted draw (probability = weight) from the named stream ``posterior/draw`` of
        the replicate's key: the same for every scenario run with that seed.
        """
        u = stream_generator(replicate_key(int(seed), int(replicate)), "posterior", "draw").random()
        cum = np.cumsum(self.weights)
        return min(int(np.searchsorted(cum, u * cum[-1], side="right")), self.rows - 1)

    def draw(self, seed: int, replicate: int) -> dict[str, float]:
        """Parameter values of replicate ``replicate``, by label."""
        i = self.row(seed, replicate)
        return {label: float(v) for label, v in zip(self.paths, self.values[i], strict=True)}

    def bind(self, scenario: Scenario | Mapping[str, Any], name: str = "") -> BoundPosterior:
        """Check the posterior against a scenario and prepare per-replicate scenarios.

        Raises:
            ScenarioError: a parameter path the scenario does not have, a field that is not
                a decimal number, or values the scenario schema refuses.
        """
        base = (
            scenario.model_dump(mode="json") if isinstance(scenario, Scenario) else dict(scenario)
        )
        shown = name or str(base.get("name", "scenario"))
        locs, problems = {}, []
        for j, (label, path) in enumerate(self.paths.items()):
            found = self._locate(base, label, path, shown)
            if isinstance(found, Problem):
                problems.append(found)
                continue
            locs[label] = found
            problems += self._range_problems(base, label, found, self.values[:, j], shown)
        if problems:
            raise ScenarioError(problems)
        return BoundPosterior(self, base, locs)

    def _column(self, label: str) -> str:
        path = self.paths[label]
        return f"column '{label}'" + ("" if path == label else f" ({path})")

    def _locate(
        self, base: dict[str, Any], label: str, path: str, name: str
    ) -> list[tuple[Location, float | None]] | Problem:
        """The fields a parameter sets, with the scenario's values there."""
        try:
            locs = resolve_all(base, path)
        except PathError as err:
            return Problem(self.file, self._column(label), "", f"not in scenario '{name}': {err}")
        out = []
        for loc in locs:
            current = get_value(base, loc)
            bad = isinstance(current, dict | list | bool | str | int)
            if bad or (current is None and label in self.relative):
                kind = "a section" if isinstance(current, dict | list) else repr(current)
                return Problem(
                    self.file,
                    self._column(label),
                    "",
                    f"'{format_location(loc, base)}' of scenario '{name}' holds {kind}; only "
                    "fields holding a decimal number take posterior values",
                )
            out.append((loc, current))
        return out

    def _range_problems(
        self,
        base: dict[str, Any],
        label: str,
        fields: list[tuple[Location, float | None]],
        values: np.ndarray,
        name: str,
    ) -> list[Problem]:
        """The column's lowest and highest value, each tried in the scenario alone."""
        out: list[Problem] = []
        for value in sorted({float(values.min()), float(values.max())}):
            try:
                Scenario.model_validate(
                    _with_values(base, _changes(fields, value, label in self.relative))
                )
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    where = bare_location(err.get("loc", ()))
                    hit = [
                        x for x, _ in fields if where[: len(x)] == x and len(where) <= len(x) + 1
                    ]
                    if hit:
                        msg = plain_message(str(err.get("msg", "invalid value")))
                        row = int(np.flatnonzero(values == value)[0])
                        times = ", times the field's value," if label in self.relative else ""
                        out.append(
                            Problem(
                                self.file,
                                f"{self._column(label)}[row {row}]",
                                short(value),
                                f"not allowed{times} for '{format_location(hit[0], base)}' of "
                                f"scenario '{name}': {msg}",
                            )
                        )
                        break
        return out

    def provenance(self, seed: int, replicates: Sequence[int]) -> dict[str, Any]:
        """What run.json records of the posterior: file, SHA-256, parameters, rows drawn.

        ``drawn_rows`` lists the row of each replicate in ``replicates`` order (left out
        above :data:`MAX_RECORDED_DRAWS` replicates; :meth:`row` recomputes them).
        """
        out: dict[str, Any] = {
            "path": str(Path(self.file).resolve()),
            "sha256": self.sha256,
            "rows": self.rows,
            "effective_sample_size": round(self.ess, 3),
            "parameters": dict(self.paths),
            "relative": sorted(self.relative),
            "draw": "weighted, keyed by (seed, replicate): stream posterior/draw",
        }
        if len(replicates) <= MAX_RECORDED_DRAWS:
            out["replicates"] = [int(r) for r in replicates]
            out["drawn_rows"] = [self.row(seed, r) for r in replicates]
        return out


@dataclass(frozen=True)
class BoundPosterior:
    """A posterior checked against one scenario: per-replicate scenarios."""

    posterior: Posterior
    base: dict[str, Any] = field(repr=False)
    locations: dict[str, list[tuple[Location, float | None]]] = field(repr=False)

    def scenario(self, seed: int, replicate: int) -> Scenario:
        """The scenario of one replicate: the base with the replicate's posterior draw.

        Raises:
            ScenarioError: the draw's values together make an invalid scenario (a check
                across fields); names the file, the row and the values.
        """
        post = self.posterior
        i = post.row(seed, replicate)
        changes = [
            change
            for label, v in zip(post.paths, post.values[i], strict=True)
            for change in _changes(self.locations[label], float(v), label in post.relative)
        ]
        try:
            return Scenario.model_validate(_with_values(self.base, changes))
        except ValidationError as exc:
            msgs = "; ".join(
                plain_message(str(e.get("msg", ""))) for e in exc.errors(include_url=False)[:3]
            )
            values = {label: float(v) for label, v in zip(post.paths, post.values[i], strict=True)}
            raise ScenarioError(
                [
                    Problem(
                        post.file,
                        f"row {i}",
                        short(values),
                        f"these values make scenario '{self.base.get('name')}' invalid "
                        f"(drawn for replicate {replicate}): {msgs}",
                    )
                ]
            ) from None


def _changes(
    fields: list[tuple[Location, float | None]], value: float, relative: bool
) -> list[tuple[Location, float]]:
    """The scenario fields a parameter value sets: the value, or the value times the base."""
    if relative:
        return [(loc, float(base) * value) for loc, base in fields if base is not None]
    return [(loc, value) for loc, _ in fields]


def apply_posterior(
    scenario: Scenario | Mapping[str, Any], posterior: Posterior, replicate: int, seed: int
) -> Scenario:
    """The scenario of replicate ``replicate`` of a run with base seed ``seed``.

    The values are those :func:`impactsim.run` uses for that replicate (weighted draw keyed
    by seed and replicate), so an optimiser or any other caller reproduces the run's
    parameter uncertainty replicate by replicate.

    Args:
        scenario: the base scenario (validated, or as a dict of its fields).
        posterior: from :func:`load_posterior`.
        replicate: replicate number.
        seed: the run's base seed.

    Returns:
        The validated scenario with the posterior draw's values at the parameters' paths.

    Raises:
        ScenarioError: the posterior does not fit the scenario (see :meth:`Posterior.bind`).
    """
    return posterior.bind(scenario).scenario(seed, replicate)


# --------------------------------------------------------------------------- loading
def _fail(file: str, message: str, where: str = "", value: str = "") -> ScenarioError:
    return ScenarioError([Problem(file, where, value, message)])


def _read_table(path: Path) -> tuple[pd.DataFrame, str]:
    """The table and the SHA-256 of a posterior file (Parquet, or CSV by its suffix)."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_POSTERIOR_BYTES:
            raise _fail(
                name,
                f"file is {size:,} bytes; a posterior may be at most {MAX_POSTERIOR_BYTES:,} bytes",
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _fail(
            name, "file not found; expected a posterior.parquet or a calibration directory"
        ) from None
    except OSError as exc:
        raise _fail(name, f"cannot read the file: {exc.strerror or exc}") from None
    digest = hashlib.sha256(raw).hexdigest()
    try:
        if path.suffix.lower() == ".csv":
            table = pd.read_csv(io.BytesIO(raw))
        else:
            table = pd.read_parquet(io.BytesIO(raw))
    except Exception as exc:  # pyarrow and pandas raise many kinds for a damaged file
        kind = "CSV" if path.suffix.lower() == ".csv" else "Parquet"
        text = str(exc) if len(str(exc)) <= 160 else str(exc)[:157] + "..."
        raise _fail(name, f"cannot be read as {kind}: {text}") from None
    return table, digest


def _calibration_paths(directory: Path) -> tuple[dict[str, str], frozenset[str]]:
    """Column label -> path, and the relative labels, from ``inputs/parameters.yaml``."""
    file = directory / PARAMETERS_FILE
    if not file.is_file():
        return {}, frozenset()
    data = parse_yaml_text(file.read_bytes(), str(file))
    items = data.get("parameters") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise _fail(str(file), "expected a calibration parameters file with a 'parameters' list")
    out: dict[str, str] = {}
    relative: set[str] = set()
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("path"), str):
            label = str(item.get("name") or item["path"])
            out[label] = item["path"]
            if item.get("relative") is True:
                relative.add(label)
    return out, frozenset(relative)


def _validated(table: pd.DataFrame, file: str) -> PosteriorTable:
    """The table's weight and parameter columns, validated (every problem at once)."""
    problems: list[Problem] = []
    if WEIGHT not in table.columns:
        problems.append(
            Problem(
                file,
                WEIGHT,
                "",
                "required column is missing; columns: " + ", ".join(map(str, table.columns)),
            )
        )
    params = [c for c in table.columns if c != WEIGHT and c not in IGNORED]
    data: dict[str, Any] = {"parameters": {}}
    for col in [WEIGHT, *params] if WEIGHT in table.columns else params:
        series = table[col]
        if not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
            problems.append(
                Problem(
                    file,
                    f"column '{col}'",
                    short(series.iloc[0]) if len(series) else "",
                    "holds text or true/false; a posterior holds numbers only",
                )
            )
            continue
        values = [float(v) for v in series.to_numpy(dtype=np.float64)]
        if col == WEIGHT:
            data[WEIGHT] = values
        else:
            data["parameters"][str(col)] = values
    if problems:
        raise ScenarioError(problems)
    try:
        checked = PosteriorTable.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(problems_from_validation(exc, file, data, PosteriorTable)) from None
    if not math.fsum(checked.weight) > 0:
        raise _fail(file, "the weights sum to 0; at least one row needs a positive weight", WEIGHT)
    return checked


def load_posterior(path: str | os.PathLike[str]) -> Posterior:
    """Read and check a posterior: a calibration directory, its posterior.parquet, or a table.

    Columns: ``weight`` (non-negative, not all 0) and one per parameter (finite numbers),
    named by the calibration's parameter name (mapped to its path by the calibration
    directory's ``inputs/parameters.yaml``) or by the dotted path itself. ``generation``
    is ignored. Whether the paths fit a scenario is checked when the posterior is used
    (:meth:`Posterior.bind`).

    Args:
        path: a calibration directory, a ``.parquet`` file or a ``.csv`` file.

    Returns:
        The :class:`Posterior`.

    Raises:
        ScenarioError: every problem, as ``file: field: message (got value)``.
    """
    p = Path(path)
    if p.is_dir():
        p = p / POSTERIOR_FILE
    file = str(p)
    table, digest = _read_table(p)
    checked = _validated(table, file)
    names, relative = _calibration_paths(p.parent)
    paths = {label: names.get(label, label) for label in checked.parameters}
    values = np.column_stack([np.asarray(v, dtype=np.float64) for v in checked.parameters.values()])
    weights = np.asarray(checked.weight, dtype=np.float64)
    if values.shape[0] != weights.shape[0]:  # pragma: no cover - one table, one length
        raise _fail(file, "columns of different lengths")
    return Posterior(file, digest, paths, values, weights / weights.sum(), relative & set(paths))
