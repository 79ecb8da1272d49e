"""One task's Parquet file: write it with what it is, and check a file before trusting it.

A task file carries, in its Parquet key-value metadata (key :data:`META_KEY`), a JSON
record of what it holds: the sweep's fingerprint, the task id, point and replicate block,
the point's parameter values, the number of rows and a SHA-256 of its decoded content.
So a file can be checked on its own — a file of another sweep, of another task or point,
or with altered numbers is recognised even when the manifest is lost — and the manifest
adds the SHA-256 of the file's bytes, which any change to the file breaks.

:func:`check_rows` also checks the rows themselves: the columns and types of
:data:`~impactsim.sweep.worker.RESULT_COLUMNS`, the task's point in every row, exactly the
task's replicates, each with the same rows (no duplicates), exactly the sweep's metrics and
no breakdown or neighbourhood rows the sweep does not keep.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from impactsim.sweep.schema import SWEEP_BREAKDOWNS, SWEEP_FORMAT, Outputs
from impactsim.sweep.worker import RESULT_COLUMNS

#: Key of a task file's own record in its Parquet metadata.
META_KEY = b"impactsim.sweep.task"

_INTEGER_COLUMNS = ("point", "replicate")
_TEXT_COLUMNS = ("metric", *SWEEP_BREAKDOWNS)


class TaskFileError(ValueError):
    """A task file (or a table about to become one) is not what its task should hold."""


@dataclass(frozen=True)
class Expect:
    """What every task file of one sweep must hold.

    Attributes:
        fingerprint: the sweep's fingerprint.
        metrics: the metrics every replicate must have (None: any, for ``metrics: all``).
        free: breakdown columns (or ``neighbourhood``) whose values may differ from 'all'.
        point_values: each point's parameter values, as in points.json.
    """

    fingerprint: str
    metrics: frozenset[str] | None
    free: tuple[str, ...]
    point_values: tuple[tuple[Any, ...], ...]

    @classmethod
    def of(
        cls, fingerprint: str, definition: dict[str, Any], point_values: Sequence[Sequence[Any]]
    ) -> Expect:
        """From a sweep's fingerprint, definition and points (``sweep.json``, ``points.json``).

        Raises:
            ValueError: the definition's ``outputs`` is not valid.
        """
        outputs = Outputs.model_validate(definition["outputs"])
        metrics = None if outputs.metrics == "all" else frozenset(outputs.metrics)
        values = tuple(tuple(v) for v in point_values)
        return cls(fingerprint, metrics, outputs.kept_breakdowns(), values)


@dataclass(frozen=True)
class Block:
    """The rows a task holds: a point and a block of replicates."""

    task: str
    point: int
    first_replicate: int
    replicates: int


def content_digest(table: pa.Table) -> str:
    """SHA-256 of a table's column names, types and values (independent of its chunks)."""
    h = hashlib.sha256()
    for name, column in zip(table.column_names, table.columns, strict=True):
        h.update(json.dumps([name, str(column.type), column.null_count]).encode())
        if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            h.update(column.to_numpy().tobytes())
        else:
            h.update(json.dumps(column.to_pylist(), ensure_ascii=False).encode())
    return h.hexdigest()


def _first_line(err: BaseException, limit: int = 160) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_rows(table: pa.Table, block: Block, expect: Expect) -> str | None:
    """What is wrong with a task's table, or None when it holds exactly the task's rows."""
    if table.column_names != list(RESULT_COLUMNS):
        return f"columns {table.column_names}, expected {list(RESULT_COLUMNS)}"
    for name in _INTEGER_COLUMNS:
        if table.schema.field(name).type != pa.int64():
            return f"column '{name}' is {table.schema.field(name).type}, expected int64"
    for name in _TEXT_COLUMNS:
        t = table.schema.field(name).type
        if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
            return f"column '{name}' is {t}, expected text"
    if table.schema.field("value").type != pa.float64():
        return f"column 'value' is {table.schema.field('value').type}, expected double"
    for name in (*_INTEGER_COLUMNS, *_TEXT_COLUMNS):
        if table.column(name).null_count:
            return f"column '{name}' has missing values"
    if table.num_rows == 0:
        return "no rows"
    points = set(pc.unique(table.column("point")).to_pylist())
    if points != {block.point}:
        return f"holds rows of point(s) {_span(points)}, not of point {block.point}"
    wanted = set(range(block.first_replicate, block.first_replicate + block.replicates))
    got = set(pc.unique(table.column("replicate")).to_pylist())
    if got != wanted:
        return f"holds replicate(s) {_span(got)}, not {_span(wanted)}"
    keys = list(_TEXT_COLUMNS)
    per_replicate = table.select(keys).group_by(keys).aggregate([]).num_rows
    distinct = table.select(["replicate", *keys]).group_by(["replicate", *keys]).aggregate([])
    if distinct.num_rows != table.num_rows:
        return f"{table.num_rows - distinct.num_rows} duplicated row(s)"
    if table.num_rows != per_replicate * block.replicates:
        return "its replicates do not all have the same rows"
    metrics = set(pc.unique(table.column("metric")).to_pylist())
    if expect.metrics is not None and metrics != expect.metrics:
        missing, extra = sorted(expect.metrics - metrics), sorted(metrics - expect.metrics)
        return f"metrics differ from the sweep's (missing: {missing}, not asked for: {extra})"
    for name in SWEEP_BREAKDOWNS:
        if name not in expect.free:
            values = set(pc.unique(table.column(name)).to_pylist())
            if values != {"all"}:
                return f"has '{name}' breakdown rows, which the sweep does not keep"
    return None


def _span(values: set[int]) -> str:
    items = sorted(values)
    if len(items) > 4:
        return f"{items[0]}-{items[-1]} ({len(items)} values)"
    return ", ".join(str(v) for v in items) or "none"


def encode(table: pd.DataFrame, block: Block, expect: Expect) -> bytes:
    """A task file's bytes: the rows as Parquet, with the file's record in its metadata.

    Raises:
        TaskFileError: the rows are not exactly the task's (a worker sent wrong rows).
    """
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    problem = check_rows(arrow, block, expect)
    if problem is not None:
        raise TaskFileError(problem)
    record = {
        "format": SWEEP_FORMAT,
        "sweep": expect.fingerprint,
        "task": block.task,
        "point": block.point,
        "first_replicate": block.first_replicate,
        "replicates": block.replicates,
        "values": list(expect.point_values[block.point]),
        "rows": arrow.num_rows,
        "content_sha256": content_digest(arrow),
    }
    meta = dict(arrow.schema.metadata or {})
    meta[META_KEY] = json.dumps(record, separators=(",", ":")).encode()
    arrow = arrow.replace_schema_metadata(meta)
    sink = io.BytesIO()
    pq.write_table(arrow, sink)
    return sink.getvalue()


def read_record(path: Path) -> dict[str, Any] | None:
    """The record a task file carries (None when it has none or cannot be read)."""
    try:
        meta = pq.read_schema(path).metadata or {}
        record = json.loads(meta[META_KEY])
    except Exception:  # any unreadable file simply carries nothing
        return None
    return record if isinstance(record, dict) else None


def file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be a task file before it is opened (a link, a pipe...), or None."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "missing"
    except OSError as err:
        return f"cannot be examined ({_first_line(err)})"
    if stat.S_ISLNK(st.st_mode):
        return "is a symbolic link (impactsim writes task files as plain files)"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    if st.st_size == 0:
        return "is empty (0 bytes)"
    return None


def decode(data: bytes, block: Block, expect: Expect, *, sha256: str | None = None) -> pa.Table:
    """Check a task file's bytes and return its rows.

    Args:
        data: the file's bytes.
        block: the task the file should hold.
        expect: what the sweep's task files hold.
        sha256: the SHA-256 of the bytes the manifest recorded (None: not recorded);
            checked last, so that a file of another task or sweep is named as such.

    Raises:
        TaskFileError: the file is damaged, belongs to another sweep or task, or its rows
            are not exactly the task's.
    """
    try:
        table = pq.read_table(pa.BufferReader(data))
    except Exception as err:  # pyarrow raises several kinds for bad files
        why = _first_line(err).removeprefix("Could not open Parquet input source '<Buffer>': ")
        raise TaskFileError(f"not a readable Parquet file ({why})") from None
    try:
        record = json.loads((table.schema.metadata or {})[META_KEY])
    except (KeyError, ValueError):
        raise TaskFileError(
            "carries no record of its sweep and task (not written by this version of "
            "impactsim, or its metadata is damaged)"
        ) from None
    if not isinstance(record, dict):
        raise TaskFileError("its record of sweep and task is damaged")
    try:
        problem = _record_problem(record, block, expect) or check_rows(table, block, expect)
        if problem is None and record.get("rows") != table.num_rows:
            problem = f"holds {table.num_rows} rows, its record says {record.get('rows')}"
        if problem is None and record.get("content_sha256") != content_digest(table):
            problem = "its numbers were altered (their checksum differs from the file's record)"
    except Exception as err:  # a damaged file must never become a traceback
        problem = f"cannot be checked ({_first_line(err)})"
    if problem is None and sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        problem = "changed since it was written (its checksum differs from the manifest's)"
    if problem is not None:
        raise TaskFileError(problem)
    return table


def _record_problem(record: dict[str, Any], block: Block, expect: Expect) -> str | None:
    if record.get("sweep") != expect.fingerprint:
        return "belongs to another sweep (its fingerprint is not this sweep's)"
    if record.get("format") != SWEEP_FORMAT:
        fmt = str(record.get("format"))[:20]
        return f"was written in sweep format {fmt}, not {SWEEP_FORMAT} (another impactsim)"
    if record.get("task") != block.task:
        return f"holds the rows of task {str(record.get('task'))[:40]}, not of {block.task}"
    where = (record.get("point"), record.get("first_replicate"), record.get("replicates"))
    if where != (block.point, block.first_replicate, block.replicates):
        return "its record names another point or replicates than its task"
    if record.get("values") != list(expect.point_values[block.point]):
        return f"was computed at other parameter values than point {block.point} of points.json"
    return None


def read(
    path: Path, block: Block, expect: Expect, *, sha256: str | None = None
) -> tuple[pa.Table, str]:
    """Read and check one task file (see :func:`decode`); nothing is opened that is not a file.

    Returns:
        The rows and the SHA-256 of the file's bytes.

    Raises:
        TaskFileError: the file is missing, not a plain file, unreadable or not the task's.
    """
    problem = file_problem(path)
    if problem is not None:
        raise TaskFileError(problem)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise TaskFileError(f"cannot be read ({_first_line(err)})") from None
    return decode(data, block, expect, sha256=sha256), hashlib.sha256(data).hexdigest()
