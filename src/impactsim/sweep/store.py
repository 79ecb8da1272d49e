"""The sweep directory: definition, points, manifest and one Parquet file per task.

Layout of ``DIR``::

    sweep.json            what determines the results (definition + fingerprint); written last
                          when a directory is set up, so its presence marks a usable directory
    sweep.yaml            the sweep file as given (for reference)
    base.resolved.yaml    the base scenario with overrides and every default filled in
    points.json           the design: every point's parameter values and unit coordinates
    points.csv            the same, for reading
    manifest.json         every task: pending, done or failed (with its error)
    tasks/<task>.parquet  the kept summary rows of one task, written atomically
    .lock                 held (flock) by the driver writing to DIR

A task's Parquet file is the authority on "done": it is written atomically before the
manifest says so, so a driver killed at any moment leaves a directory that resumes
correctly.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from impactsim._version import __version__
from impactsim.io import write_csv, write_parquet, write_text
from impactsim.sweep.sampling import UNIT_PREFIX, design
from impactsim.sweep.schema import SWEEP_FORMAT, Sweep

PENDING, DONE, FAILED = "pending", "done", "failed"
STATUSES = (PENDING, DONE, FAILED)

_OWN_NAMES = {
    "sweep.json",
    "sweep.yaml",
    "base.resolved.yaml",
    "points.json",
    "points.csv",
    "manifest.json",
    "tasks",
    ".lock",
    "analysis",
}


class SweepError(RuntimeError):
    """The sweep cannot go on (directory in use or holding another sweep, lost scheduler)."""


@dataclass(frozen=True)
class Task:
    """One unit of work: a point and a block of its replicates."""

    task_id: str
    point: int
    first_replicate: int
    replicates: int


def task_id(point: int, first: int, count: int) -> str:
    """Deterministic task id, e.g. ``p000012-r000010-000019`` (replicates 10..19)."""
    return f"p{point:06d}-r{first:06d}-{first + count - 1:06d}"


def plan_tasks(n_points: int, replicates: int, per_task: int) -> list[Task]:
    """Every (point, replicate block) of a sweep, point-major."""
    out: list[Task] = []
    for point in range(n_points):
        for first in range(0, replicates, per_task):
            count = min(per_task, replicates - first)
            out.append(Task(task_id(point, first, count), point, first, count))
    return out


@dataclass
class TaskRecord:
    """A task's entry in the manifest."""

    task: str
    point: int
    first_replicate: int
    replicates: int
    status: str = PENDING
    attempts: int = 0
    rows: int | None = None
    seconds: float | None = None
    worker: str | None = None
    finished: str | None = None
    error: str | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _json_value(v: Any) -> Any:
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


class SweepDir:
    """A sweep output directory (see the module docstring for its layout)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._lock_fh: Any = None

    # ------------------------------------------------------------------ paths
    @property
    def tasks_dir(self) -> Path:
        """Directory of the per-task Parquet files."""
        return self.path / "tasks"

    def task_file(self, tid: str) -> Path:
        """Parquet file of one task."""
        return self.tasks_dir / f"{tid}.parquet"

    def is_sweep(self) -> bool:
        """True when the directory holds a set-up sweep."""
        return (self.path / "sweep.json").is_file()

    # ------------------------------------------------------------------ lock
    def lock(self) -> None:
        """Take the driver lock (released when the process ends, even if killed).

        Raises:
            SweepError: another process holds it.
        """
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on Linux/macOS: no locking
            return
        self.path.mkdir(parents=True, exist_ok=True)
        fh = open(self.path / ".lock", "a+")  # held while the sweep runs
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise SweepError(
                f"{self.path} is in use by {holder}; wait for it to finish or stop it first"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}\n")
        fh.flush()
        self._lock_fh = fh

    def unlock(self) -> None:
        """Release the driver lock."""
        if self._lock_fh is not None:
            with contextlib.suppress(OSError):
                self._lock_fh.close()
            self._lock_fh = None

    # ------------------------------------------------------------------ set-up
    def read_info(self) -> dict[str, Any]:
        """Contents of sweep.json."""
        return json.loads((self.path / "sweep.json").read_text(encoding="utf-8"))

    def prepare(self, sweep: Sweep) -> bool:
        """Set the directory up for ``sweep``, or check that it already holds it.

        Returns:
            True when an existing sweep is resumed, False when the directory was set up.

        Raises:
            SweepError: the directory holds a different sweep or files that are not a
                sweep's.
        """
        fingerprint = sweep.fingerprint()
        if self.is_sweep():
            info = self.read_info()
            if info.get("fingerprint") != fingerprint:
                old = info.get("definition", {})
                new = sweep.definition()
                changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
                raise SweepError(
                    f"{self.path} holds a different sweep ('{info.get('name')}'; changed: "
                    f"{', '.join(changed) or 'library version'}). Use a new --out directory, "
                    "or delete this one to start again"
                )
            return True
        if self.path.exists():
            if not self.path.is_dir():
                raise SweepError(f"{self.path} is not a directory")
            foreign = sorted(p.name for p in self.path.iterdir() if p.name not in _OWN_NAMES)
            if foreign:
                raise SweepError(
                    f"{self.path} is not empty and not a sweep directory "
                    f"(found {', '.join(foreign[:5])}); choose a new or empty directory"
                )
        self.path.mkdir(parents=True, exist_ok=True)
        self.tasks_dir.mkdir(exist_ok=True)
        for stale in self.tasks_dir.glob("*.parquet"):  # from an unfinished set-up
            stale.unlink()
        points = design(sweep)
        self._write_points(sweep, points)
        write_text(
            self.path / "base.resolved.yaml",
            yaml.safe_dump(sweep.base, sort_keys=False, allow_unicode=True),
        )
        if sweep.source_text:
            write_text(self.path / "sweep.yaml", sweep.source_text)
        tasks = plan_tasks(len(points), sweep.replicates, sweep.replicates_per_task)
        records = [TaskRecord(t.task_id, t.point, t.first_replicate, t.replicates) for t in tasks]
        self.write_manifest(records, sweep.name, fingerprint)
        info = {
            "format": SWEEP_FORMAT,
            "name": sweep.name,
            "description": sweep.spec.description,
            "file": sweep.file,
            "fingerprint": fingerprint,
            "created": _now(),
            "impactsim_version": __version__,
            "method": sweep.method,
            "points": len(points),
            "tasks": len(tasks),
            "parameters": [
                {
                    "name": rp.label,
                    "path": rp.spec.path,
                    "location": list(rp.loc),
                    "integer": rp.integer,
                }
                for rp in sweep.parameters
            ],
            "definition": sweep.definition(),
        }
        write_text(self.path / "sweep.json", json.dumps(info, indent=1) + "\n")
        return False

    def _write_points(self, sweep: Sweep, points: pd.DataFrame) -> None:
        labels = [rp.label for rp in sweep.parameters]
        doc: dict[str, Any] = {
            "parameters": labels,
            "values": [[_json_value(v) for v in row] for row in points[labels].itertuples(False)],
            "unit": [
                [_json_value(v) for v in row]
                for row in points[[UNIT_PREFIX + c for c in labels]].itertuples(False)
            ],
        }
        for extra in ("varied", "level"):
            if extra in points.columns:
                doc[extra] = points[extra].tolist()
        write_text(self.path / "points.json", json.dumps(doc) + "\n")
        write_csv(self.path / "points.csv", points)

    def read_points(self) -> pd.DataFrame:
        """The design: point, parameter columns, ``unit:`` columns (one_way: varied, level)."""
        doc = json.loads((self.path / "points.json").read_text(encoding="utf-8"))
        labels: list[str] = doc["parameters"]
        n = len(doc["values"])
        cols: dict[str, Any] = {"point": pd.Series(range(n), dtype="int64")}
        for j, name in enumerate(labels):
            vals = [row[j] for row in doc["values"]]
            kinds = {type(v) for v in vals}
            if kinds <= {int}:
                cols[name] = pd.Series(vals, dtype="int64")
            elif kinds <= {int, float}:
                cols[name] = pd.Series(vals, dtype="float64")
            else:
                cols[name] = pd.Series(vals, dtype="object")
        for j, name in enumerate(labels):
            cols[UNIT_PREFIX + name] = pd.Series(
                [math.nan if row[j] is None else row[j] for row in doc["unit"]], dtype="float64"
            )
        for extra in ("varied", "level"):
            if extra in doc:
                cols[extra] = pd.Series(doc[extra], dtype="object")
        return pd.DataFrame(cols)

    def point_rows(self) -> list[dict[str, Any]]:
        """Every point's parameter values, exactly as stored (label -> value)."""
        doc = json.loads((self.path / "points.json").read_text(encoding="utf-8"))
        labels = doc["parameters"]
        return [dict(zip(labels, row, strict=True)) for row in doc["values"]]

    # ------------------------------------------------------------------ manifest
    def write_manifest(self, records: list[TaskRecord], name: str, fingerprint: str) -> None:
        """Atomically write manifest.json."""
        counts = {s: 0 for s in STATUSES}
        for r in records:
            counts[r.status] += 1
        doc = {
            "format": SWEEP_FORMAT,
            "sweep": name,
            "fingerprint": fingerprint,
            "updated": _now(),
            "counts": counts,
            "tasks": [asdict(r) for r in records],
        }
        write_text(self.path / "manifest.json", json.dumps(doc, indent=1) + "\n")

    def read_manifest(self) -> list[TaskRecord]:
        """The manifest's task records, reconciled with the task files.

        A task whose Parquet file exists is done; one marked done without its file is
        pending.
        """
        path = self.path / "manifest.json"
        info = self.read_info()
        if path.is_file():
            doc = json.loads(path.read_text(encoding="utf-8"))
            records = [TaskRecord(**r) for r in doc.get("tasks", [])]
        else:
            records = []
        if not records:  # manifest lost: rebuild the plan from the definition
            definition = info["definition"]
            tasks = plan_tasks(
                int(info["points"]),
                int(definition["replicates"]),
                int(definition["replicates_per_task"]),
            )
            records = [
                TaskRecord(t.task_id, t.point, t.first_replicate, t.replicates) for t in tasks
            ]
        present = self.present_task_files()
        for r in records:
            if r.task in present:
                if r.status != DONE:
                    r.status, r.error = DONE, None
            elif r.status == DONE:
                r.status = PENDING
        return records

    def present_task_files(self) -> set[str]:
        """Ids of the tasks whose Parquet file exists."""
        if not self.tasks_dir.is_dir():
            return set()
        return {p.stem for p in self.tasks_dir.glob("*.parquet")}

    def clean_temporary(self) -> int:
        """Remove temporary files a killed driver may have left; returns how many."""
        n = 0
        for d in (self.path, self.tasks_dir):
            if d.is_dir():
                for p in d.glob(".*.tmp"):
                    p.unlink(missing_ok=True)
                    n += 1
        return n

    # ------------------------------------------------------------------ task files
    def write_task(self, tid: str, table: pd.DataFrame) -> Path:
        """Atomically write one task's rows."""
        return write_parquet(self.task_file(tid), table)

    def read_tasks(self, ids: list[str]) -> pd.DataFrame:
        """Concatenate the given tasks' tables, in the given order."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        tables = [pq.read_table(self.task_file(t)) for t in ids]
        if not tables:
            return pd.DataFrame(
                {
                    "point": pd.Series(dtype="int64"),
                    "replicate": pd.Series(dtype="int64"),
                    "metric": pd.Series(dtype="object"),
                    "segment": pd.Series(dtype="object"),
                    "intervention": pd.Series(dtype="object"),
                    "channel": pd.Series(dtype="object"),
                    "adopter_category": pd.Series(dtype="object"),
                    "value": pd.Series(dtype="float64"),
                }
            )
        return pa.concat_tables(tables).to_pandas()
