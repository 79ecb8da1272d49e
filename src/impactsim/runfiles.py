"""The files of a run directory: what each must hold, their checksums, and their checks.

A run directory (``impactsim run``, ``impactsim compare`` under ``runs/``,
``RunResult.to_dir``) holds the run's tables, the resolved scenario and ``run.json``.
Since run directory format 1, ``run.json`` records ``"format": 1`` and the SHA-256 of
every other file (:func:`file_digest`), so a change made to a file after the run is
detected when it is read. A directory written before (``run.json`` without ``format``)
is read with a note (:data:`NO_CHECKSUMS`): its tables are checked for form only.

Reading one (:func:`impactsim.rundir.load_run_dir`) passes every file through these
checks, and a failure is a :class:`RunDirError` that names the file, the column or row,
what was expected, and says to rerun ``impactsim run``:

* :func:`check_file`: a regular file (not a directory or pipe), not a symbolic link
  that leads out of the run directory;
* :func:`check_info`: ``run.json`` is a JSON object of a known format with the keys
  and types impactsim writes;
* :func:`check_digest`: the file is the one impactsim wrote (format 1 on);
* :func:`check_table`: the table has exactly impactsim's columns and types, no missing
  labels or numbers, no infinities, no repeated rows, every row in every replicate, and
  shares and counts in range;
* :func:`check_run`: tables, ``run.json`` and the resolved scenario describe the same
  run (name, seed, replicates, months, population, the scenario's labels).

A low layer: it imports the scenario model and the table helpers only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from impactsim._version import __version__
from impactsim.scenario import ADOPTER_CATEGORIES, Scenario
from impactsim.scenario.settings import MAX_SEED
from impactsim.tables import ALL, BREAKDOWN_COLUMNS, PLACE_COLUMN, PSEUDO_CHANNELS

#: Version of the run directory layout; run.json says ``"format": RUN_FORMAT``.
RUN_FORMAT = 1
#: Files every reader needs.
REQUIRED = ("summary.parquet", "timeseries.parquet", "scenario.resolved.yaml", "run.json")
#: Text files: their checksum is taken with line ends as ``\n`` (a checkout with CRLF
#: line ends, as git may make on Windows, is the same file).
TEXT_SUFFIXES = (".csv", ".yaml", ".json")
#: run.json is a few hundred bytes; a larger one is not impactsim's.
MAX_INFO_BYTES = 1_000_000
#: What to do about a damaged run directory.
RERUN = "rerun `impactsim run` to write the run directory again"
#: Said when reading a run directory whose run.json records no checksums.
NO_CHECKSUMS = (
    "{path}: run.json records no checksums (written before impactsim recorded them): the "
    "tables were checked for form, but a number changed after the run cannot be detected; "
    "rerun `impactsim run` for a run directory that can be verified"
)

#: Metrics that are shares (in [0, 1]) and counts or amounts that are never negative.
FRACTIONS = frozenset(
    {
        "reach_direct",
        "reach_cumulative",
        "reach_by_channel",
        "reach_indirect",
        "completion_rate",
        "prevalence",
        "prevalence_counterfactual",
        "realized_effect_share",
        "use_provider_share",
        "adopter_category_realized_share",
        "population_share",
        "p_benefit_exceeds_cost",
        "p_cost_effective",
    }
)
NON_NEGATIVE = frozenset(
    {
        "enrolments",
        "enrolled",
        "completions",
        "dropouts",
        "gave_up_waiting",
        "waiting",
        "participants",
        "participant_months",
        "providers_offering",
        "cost_pv",
        "cost_nominal",
    }
)


class RunDirError(ValueError):
    """A run directory cannot be used; the message says what is missing or wrong."""


@dataclass(frozen=True)
class TableForm:
    """The columns of one table impactsim writes, by what they hold.

    Attributes:
        text: labels (text, never missing).
        whole: whole numbers >= 0 (integer columns, never missing).
        numbers: real numbers (NaN where a value is undefined, never infinite).
        keys: columns that together identify a row; ``replicate`` among them means each
            row is there once for every replicate.
    """

    text: tuple[str, ...]
    whole: tuple[str, ...]
    numbers: tuple[str, ...]
    keys: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column, in no particular order."""
        return (*self.text, *self.whole, *self.numbers)


_LABELS = ("scenario", "metric", *BREAKDOWN_COLUMNS)
#: The forms of the tables a reader checks.
FORMS = {
    "summary": TableForm(_LABELS, ("replicate",), ("value",), (*_LABELS, "replicate")),
    "timeseries": TableForm(
        _LABELS, ("replicate", "month"), ("value",), (*_LABELS, "replicate", "month")
    ),
    "ceac": TableForm(
        ("scenario",),
        ("replicates",),
        ("wtp_eur_per_case_year", "p_cost_effective", "mean_nmb"),
        ("scenario", "wtp_eur_per_case_year"),
    ),
}


# --------------------------------------------------------------------------- files
def file_digest(path: Path) -> str:
    """SHA-256 of a file (hex); text files (:data:`TEXT_SUFFIXES`) with CRLF read as LF."""
    h = hashlib.sha256()
    text = path.suffix in TEXT_SUFFIXES
    carry = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            if text:
                chunk = carry + chunk
                carry = b"\r" if chunk.endswith(b"\r") else b""
                chunk = chunk[: len(chunk) - len(carry)].replace(b"\r\n", b"\n")
            h.update(chunk)
    h.update(carry)
    return h.hexdigest()


def check_file(run_dir: Path, name: str) -> Path:
    """The path of a file a reader needs, after checking that it can be read as one.

    Symbolic links are followed only within the run directory: one that leads out of it
    (planted, or left by a tool that stores files elsewhere) is refused, so a run
    directory never makes impactsim read, or quote in a message, a file outside it.

    Raises:
        RunDirError: the file is missing, is a directory, pipe or device, or is a link
            that leads out of the run directory or nowhere.
    """
    path = run_dir / name
    if not os.path.lexists(path):
        raise RunDirError(f"{path}: missing; every run directory has it ({RERUN})")
    if path.is_symlink():
        try:
            target = path.resolve()
        except (OSError, RuntimeError):  # a loop of links (RuntimeError before Python 3.13)
            raise RunDirError(
                f"{path}: is a symbolic link that leads in a loop, not a file ({RERUN})"
            ) from None
        if not target.is_relative_to(run_dir.resolve()):
            raise RunDirError(
                f"{path}: is a symbolic link to {target}, outside the run directory; "
                f"impactsim reads only files inside it (copy the file in with `cp -L`, or {RERUN})"
            )
        if not target.exists():
            raise RunDirError(f"{path}: is a symbolic link to {target}, which does not exist")
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file (a pipe or device)"
        raise RunDirError(f"{path}: is {kind}, expected the file impactsim writes ({RERUN})")
    return path


def check_digest(path: Path, info: dict[str, Any]) -> None:
    """Refuse a file that is not the one impactsim wrote (when run.json records checksums).

    Raises:
        RunDirError: run.json records no checksum for the file, or another one.
    """
    digests = info.get("sha256")
    if digests is None:  # written before run directories recorded checksums
        return
    expected = digests.get(path.name)
    if expected is None:
        raise RunDirError(
            f"{path}: run.json records no checksum for it, so it was not written with the "
            f"run ({RERUN})"
        )
    if file_digest(path) != expected:
        raise RunDirError(
            f"{path}: changed after impactsim wrote it (its SHA-256 is not the one in "
            f"run.json); its numbers cannot be trusted ({RERUN})"
        )


# --------------------------------------------------------------------------- run.json
def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split("+")[0].split(".")[:2])


#: The keys of run.json a reader uses, and the bounds of those that hold whole numbers.
INFO_KEYS: dict[str, tuple[int, int] | None] = {
    "impactsim_version": None,
    "scenario": None,
    "seed": (0, MAX_SEED),
    "replicates": (1, 2**31),
    "months": (1, 2**31),
    "population_size": (1, 2**63),
}


def read_info(path: Path) -> dict[str, Any]:
    """Read and check ``run.json`` (see :func:`check_info`)."""
    size = path.stat().st_size
    if size > MAX_INFO_BYTES:
        raise RunDirError(
            f"{path}: {size:,} bytes, far larger than the run.json impactsim writes ({RERUN})"
        )
    try:
        info = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RunDirError(f"{path}: unreadable ({_short(exc)}) ({RERUN})") from None
    return check_info(info, path)


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON value")


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def check_info(info: Any, path: Path) -> dict[str, Any]:
    """Check the provenance of a run (``run.json``): object, format, version, keys, types.

    Returns:
        ``info``.

    Raises:
        RunDirError: not an object; a newer or unknown format; another impactsim version
            (major.minor); a key missing or of another type; checksums missing (format 1
            on) or malformed.
    """
    if not isinstance(info, dict):
        raise RunDirError(
            f"{path}: expected a JSON object with the run's provenance, "
            f"not a {type(info).__name__} ({RERUN})"
        )
    fmt = info.get("format")
    if fmt is not None and (type(fmt) is not int or fmt < 1):
        raise RunDirError(f"{path}: format should be a whole number from 1 (got {fmt!r}) ({RERUN})")
    if fmt is not None and fmt > RUN_FORMAT:
        raise RunDirError(
            f"{path}: written in run directory format {fmt} by a newer impactsim; this "
            f"impactsim {__version__} reads format {RUN_FORMAT} (update impactsim, or {RERUN})"
        )
    made_by = info.get("impactsim_version", "unknown")
    if not isinstance(made_by, str) or _major_minor(made_by) != _major_minor(__version__):
        raise RunDirError(
            f"{path.parent}: written by impactsim {made_by}, this is impactsim {__version__}; "
            "rerun the scenario with this version (its tables may differ)"
        )
    for key, bounds in INFO_KEYS.items():
        value = info.get(key)
        if bounds is None:
            ok, want = isinstance(value, str) and value != "", "text"
        else:
            lo, hi = bounds
            ok, want = type(value) is int and lo <= value <= hi, f"a whole number from {lo}"
        if not ok:
            got = "missing" if key not in info else f"got {value!r}"[:80]
            raise RunDirError(f"{path}: {key} should be {want} ({got}) ({RERUN})")
    digests = info.get("sha256")
    if (fmt is not None or digests is not None) and not (
        isinstance(digests, dict)
        and all(isinstance(v, str) and len(v) == 64 for v in digests.values())
    ):
        raise RunDirError(
            f"{path}: sha256 should map each file of the run directory to its SHA-256 "
            f"checksum (64 hex digits) ({RERUN})"
        )
    return info


# --------------------------------------------------------------------------- tables
def _is_text(col: pd.Series) -> bool:
    """Text in every row (a label column read from Parquet: categorical, str or object)."""
    if col.isna().any():
        return False
    values = col.cat.categories if isinstance(col.dtype, pd.CategoricalDtype) else col
    return pd.api.types.infer_dtype(values, skipna=False) in ("string", "empty")


def _is_number(col: pd.Series, whole: bool) -> bool:
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_complex_dtype(col):
        return False
    if whole:
        return pd.api.types.is_integer_dtype(col)
    return pd.api.types.is_float_dtype(col) or pd.api.types.is_integer_dtype(col)


def _row(table: pd.DataFrame, i: int) -> str:
    """Row i (0-based position) as a reader finds it: its number from 1 and its labels."""
    row = table.iloc[i]
    parts = []
    labels = (PLACE_COLUMN, *BREAKDOWN_COLUMNS)
    for col in ("replicate", "month", "metric", *labels, "wtp_eur_per_case_year"):
        if col in table.columns and not (col in labels and row[col] == ALL):
            parts.append(f"{col} {row[col]}")
    return f"row {i + 1} ({', '.join(parts)})"


def check_table(table: pd.DataFrame, kind: str, path: Path) -> None:
    """Refuse a table that is not one impactsim writes as ``kind`` (see :data:`FORMS`).

    Raises:
        RunDirError: a column is missing or unexpected (a table swapped with another, or
            written by other software); a column holds the wrong type or missing values;
            a number is infinite; a row is repeated or missing from some replicates; a
            share lies outside [0, 1] or a count is negative. The message names the file,
            the column or row, and what impactsim writes there.
    """
    form = FORMS[kind]
    if PLACE_COLUMN in table.columns and "metric" in form.text:  # a scenario's neighbourhoods
        form = dataclasses.replace(
            form, text=(*form.text, PLACE_COLUMN), keys=(PLACE_COLUMN, *form.keys)
        )
    absent = [c for c in form.columns if c not in table.columns]
    if absent:
        raise RunDirError(
            f"{path}: not the {kind} table impactsim writes; missing columns "
            f"{', '.join(absent)} ({RERUN})"
        )
    extra = [str(c) for c in table.columns if c not in form.columns]
    if extra:
        raise RunDirError(
            f"{path}: not the {kind} table impactsim writes; unexpected columns "
            f"{', '.join(extra)} ({RERUN})"
        )
    _check_types(table, form, path)
    dup = table.duplicated(list(form.keys))
    if dup.any():
        raise RunDirError(
            f"{path}: {_row(table, int(np.flatnonzero(dup)[0]))} repeats an earlier row; "
            f"each row is written once ({RERUN})"
        )
    if "replicate" in form.keys:
        _check_grid(table, form, path)
    if "metric" in table.columns:
        _check_ranges(table, path)


def _check_types(table: pd.DataFrame, form: TableForm, path: Path) -> None:
    for col in form.text:
        if not _is_text(table[col]):
            raise RunDirError(
                f"{path}: column {col} should hold text labels without gaps, not "
                f"{table[col].dtype} ({RERUN})"
            )
    for col in (*form.whole, *form.numbers):
        whole = col in form.whole
        if not _is_number(table[col], whole):
            want = "whole numbers" if whole else "numbers"
            raise RunDirError(
                f"{path}: column {col} should hold {want}, not {table[col].dtype} ({RERUN})"
            )
        values = table[col].to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isnan(values) if whole else np.isinf(values)
        if whole:
            bad |= values < 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            want = "a whole number from 0" if whole else "a finite number (or NaN)"
            raise RunDirError(
                f"{path}: {_row(table, i)}: {col} should be {want}, not {values[i]} ({RERUN})"
            )


def _check_grid(table: pd.DataFrame, form: TableForm, path: Path) -> None:
    """Every row is there once for every replicate (no replicate lost part of its rows)."""
    n = table["replicate"].nunique()
    keys = [c for c in form.keys if c != "replicate"]
    counts = table.groupby(keys, observed=True, sort=False).size()
    short = counts[counts != n]
    if len(short):
        labels = dict(zip(keys, short.index[0], strict=True))
        where = ", ".join(
            f"{k} {v}"
            for k, v in labels.items()
            if k != "scenario" and not (k in (PLACE_COLUMN, *BREAKDOWN_COLUMNS) and v == ALL)
        )
        raise RunDirError(
            f"{path}: the rows of {where} are there for {short.iloc[0]} of the {n} "
            f"replicates; every replicate has every row ({RERUN})"
        )


def _check_ranges(table: pd.DataFrame, path: Path) -> None:
    metric = table["metric"].astype(str).to_numpy()
    value = table["value"].to_numpy(dtype=np.float64, na_value=np.nan)
    tol = 1e-9
    for names, lo, hi, what in (
        (FRACTIONS, 0.0, 1.0, "a share from 0 to 1"),
        (NON_NEGATIVE, 0.0, math.inf, "a count or amount of 0 or more"),
    ):
        sel = np.isin(metric, list(names))
        bad = sel & ((value < lo - tol) | (value > hi + tol))
        if hi == math.inf:  # counts and amounts are sums: never undefined
            bad |= sel & np.isnan(value)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise RunDirError(
                f"{path}: {_row(table, i)}: value {value[i]:g} should be {what} ({RERUN})"
            )


# --------------------------------------------------------------------------- a whole run
def check_run(
    run_dir: Path,
    info: dict[str, Any],
    scenario: Scenario,
    tables: dict[str, pd.DataFrame],
) -> None:
    """Refuse a run directory whose files describe different runs.

    ``run.json``, the resolved scenario and the tables must agree on the scenario's name,
    seed, replicates, months and population; the tables must hold that scenario's
    segments, interventions and channels, its replicates and its months 0 to the horizon.

    Raises:
        RunDirError: naming the two files that disagree and on what.
    """
    info_path, yaml_path = run_dir / "run.json", run_dir / "scenario.resolved.yaml"
    sim = scenario.simulation
    for key, value in (
        ("scenario", scenario.name),
        ("seed", sim.seed),
        ("replicates", sim.replicates),
        ("months", sim.months),
        ("population_size", scenario.population.size),
    ):
        if info[key] != value:
            raise RunDirError(
                f"{info_path}: {key} is {info[key]!r} but {yaml_path.name} says {value!r}: "
                f"the files come from different runs ({RERUN})"
            )
    allowed = {
        "scenario": {scenario.name},
        "segment": {s.name for s in scenario.population.segments} | {ALL},
        "intervention": {iv.name for iv in scenario.offered_interventions} | {ALL},
        "channel": {c.name for c in scenario.channels} | set(PSEUDO_CHANNELS) | {ALL},
        "adopter_category": set(ADOPTER_CATEGORIES) | {ALL},
        "outcome": {o.name for o in scenario.outcomes} | {ALL},
    }
    replicates = None
    for name, table in tables.items():
        path = run_dir / f"{name}.parquet"
        for col, labels in allowed.items():
            unknown = sorted({str(v) for v in pd.unique(table[col])} - labels)
            if unknown:
                raise RunDirError(
                    f"{path}: column {col} holds {', '.join(unknown[:5])}, which "
                    f"{yaml_path.name} does not have: the files come from different runs "
                    f"({RERUN})"
                )
        reps = sorted(int(r) for r in pd.unique(table["replicate"]))
        first = reps[0] if reps else 0
        if reps != list(range(first, first + sim.replicates)):
            raise RunDirError(
                f"{path}: holds {len(reps)} replicate(s) ({_numbers(reps)}), but the run had "
                f"{sim.replicates}, numbered one after another ({RERUN})"
            )
        if replicates is not None and reps != replicates:
            raise RunDirError(
                f"{path}: holds replicates {_numbers(reps)}, summary.parquet "
                f"{_numbers(replicates)}: the files come from different runs ({RERUN})"
            )
        replicates = reps
        if "month" in table.columns:
            months = set(int(m) for m in pd.unique(table["month"]))
            past = sorted(m for m in months if m > sim.months)
            lacking = sorted(set(range(sim.months + 1)) - months)
            if past or lacking:
                what = (
                    f"month(s) {_numbers(past)} past"
                    if past
                    else f"no month {_numbers(lacking)} of"
                )
                raise RunDirError(
                    f"{path}: holds {what} the run's months 0 to {sim.months} ({RERUN})"
                )


def _numbers(values: list[int]) -> str:
    if not values:
        return "none"
    if values == list(range(values[0], values[-1] + 1)) and len(values) > 2:
        return f"{values[0]} to {values[-1]}"
    shown = ", ".join(str(v) for v in values[:6])
    return shown + (", ..." if len(values) > 6 else "")
