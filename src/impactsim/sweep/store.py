"""The sweep directory: definition, points, manifest and one Parquet file per task.

Layout of ``DIR``::

    sweep.json            what determines the results (definition + fingerprint, and the
                          checksum of points.json); written last when a directory is set up,
                          so its presence marks a usable directory
    sweep.yaml            the sweep file as given (for reference)
    base.resolved.yaml    the base scenario with overrides and every default filled in
    points.json           the design: every point's parameter values and unit coordinates
    points.csv            the same, for reading
    manifest.json         every task: pending, done (with its rows and file checksum) or
                          failed (with its error)
    tasks/<task>.parquet  the kept summary rows of one task and their record, written
                          atomically (:mod:`impactsim.sweep.taskfile`)
    damaged/              files found damaged or foreign, moved aside when a sweep resumed
    .lock                 held (flock) by the driver writing to DIR

A task's Parquet file is the authority on "done" once it has been checked: it is written
atomically before the manifest says so, so a driver killed at any moment leaves a
directory that resumes correctly. Nothing here is trusted unchecked: sweep.json, points.json
and manifest.json are checked when read (:class:`DamagedFile` says what is wrong), and task
files by :mod:`impactsim.sweep.integrity`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from impactsim._version import __version__
from impactsim.io import atomic_write, write_csv, write_text
from impactsim.sweep import taskfile
from impactsim.sweep.sampling import UNIT_PREFIX, design
from impactsim.sweep.schema import SWEEP_FORMAT, Outputs, Sweep, fingerprint_of
from impactsim.sweep.taskfile import Block, Expect

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
    "damaged",
}

#: Largest sweep.json, points.json or manifest.json read (a million points fit easily).
MAX_RECORD_BYTES = 2_000_000_000


class SweepError(RuntimeError):
    """The sweep cannot go on (directory in use or holding another sweep, lost scheduler)."""


class SweepFormatError(SweepError):
    """The directory holds a sweep of another format than this impactsim's; nothing was read."""


class DamagedFile(SweepError):
    """A file of a sweep directory is missing or cannot be trusted.

    Attributes:
        path: the file.
        problem: what is wrong with it.
        missing: True when the file does not exist.
    """

    def __init__(self, path: Path, problem: str, *, missing: bool = False):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem
        self.missing = missing


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
    sha256: str | None = None


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
        """True when the directory holds a sweep's record (sweep.json), damaged or not."""
        return (self.path / "sweep.json").exists()

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

    # ------------------------------------------------------------------ sweep.json
    def read_info(self) -> dict[str, Any]:
        """Contents of sweep.json, checked (see :func:`info_problem`).

        Raises:
            SweepFormatError: sweep.json records another directory format (an older or
                newer impactsim); the message says what to do (:func:`format_refusal`).
            DamagedFile: sweep.json is missing, unreadable or not a sweep's record.
        """
        path = self.path / "sweep.json"
        doc = _read_json(path)
        refusal = format_refusal(doc, self.path)
        if refusal is not None:
            raise SweepFormatError(refusal)
        problem = info_problem(doc)
        if problem is not None:
            raise DamagedFile(path, problem)
        return doc

    def plan(self, info: dict[str, Any]) -> list[Task]:
        """The tasks of the sweep that ``info`` (a checked sweep.json) describes."""
        definition = info["definition"]
        return plan_tasks(
            info["points"], definition["replicates"], definition["replicates_per_task"]
        )

    # ------------------------------------------------------------------ set-up
    def prepare(self, sweep: Sweep) -> list[str]:
        """Set the directory up for ``sweep``, check that it holds it, or repair its record.

        A sweep.json that is missing or damaged is written again from ``sweep`` (points.json
        too, from the design) unless the directory holds only another sweep's manifest or
        task files (each carries its sweep's fingerprint); a damaged points.json is written
        again from the design (see :meth:`_check_points`). The task files and the manifest
        are checked afterwards (:mod:`impactsim.sweep.integrity`).

        Returns:
            What was repaired, one sentence each (empty for a clean directory).

        Raises:
            SweepError: the directory holds a different sweep or files that are not a
                sweep's.
        """
        try:
            info = self.read_info()
        except DamagedFile as err:
            return self._set_up_again(sweep, err)
        if info["fingerprint"] != sweep.fingerprint():
            old = info["definition"]
            new = sweep.definition()
            changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            raise SweepError(
                f"{self.path} holds a different sweep ('{info.get('name')}'; changed: "
                f"{', '.join(changed) or 'library version'}). Use a new --out directory, "
                "or delete this one to start again"
            )
        notes = self._check_points(sweep, info)  # points.json is now the recorded one
        try:
            self.points_doc(info)
        except DamagedFile:  # the number of points, which its fingerprint does not cover
            problem = "its number of points is not that of points.json"
            return notes + self._set_up_again(sweep, DamagedFile(self.path / "sweep.json", problem))
        return notes

    def _set_up_again(self, sweep: Sweep, err: DamagedFile) -> list[str]:
        """Set up a new directory, or write a lost or damaged sweep.json again."""
        if self.path.exists():
            if not self.path.is_dir():
                raise SweepError(f"{self.path} is not a directory")
            foreign = sorted(p.name for p in self.path.iterdir() if p.name not in _OWN_NAMES)
            if foreign:
                raise SweepError(
                    f"{self.path} is not empty and not a sweep directory "
                    f"(found {', '.join(foreign[:5])}); choose a new or empty directory"
                )
        found = self.fingerprints_found()
        what = "is missing" if err.missing else f"is damaged: {err.problem}"
        if found and sweep.fingerprint() not in found:
            raise SweepError(
                f"{err.path} {what}, and {self.path} holds the manifest or task files of "
                "another sweep. Use a new --out directory, or delete this one to start again"
            )
        has_tasks = self.tasks_dir.is_dir() and any(self.tasks_dir.glob("*.parquet"))
        if not err.missing:
            self.move_aside(err.path)
        self._set_up(sweep, manifest=not found)
        if err.missing and not has_tasks:
            return []  # a new directory (or a set-up that was interrupted)
        moved = "" if err.missing else f" (the damaged file is in {self.damaged_dir})"
        why = (
            "its manifest or task files carry this sweep's fingerprint"
            if found
            else "nothing else in it names another sweep"
        )
        return [f"{err.path} {what}; wrote it again from {sweep.file}, as {why}{moved}"]

    def _set_up(self, sweep: Sweep, *, manifest: bool) -> None:
        """Write the sweep's record files; sweep.json last, so it marks a usable directory."""
        self.path.mkdir(parents=True, exist_ok=True)
        if self.tasks_dir.is_symlink() or (self.tasks_dir.exists() and not self.tasks_dir.is_dir()):
            self.move_aside(self.tasks_dir)
        self.tasks_dir.mkdir(exist_ok=True)
        points = design(sweep)
        points_text = _points_text(sweep, points)
        self._write_points(points_text, points)
        write_text(
            self.path / "base.resolved.yaml",
            yaml.safe_dump(sweep.base, sort_keys=False, allow_unicode=True),
        )
        if sweep.source_text:
            write_text(self.path / "sweep.yaml", sweep.source_text)
        tasks = plan_tasks(len(points), sweep.replicates, sweep.replicates_per_task)
        if manifest:
            records = [
                TaskRecord(t.task_id, t.point, t.first_replicate, t.replicates) for t in tasks
            ]
            self.write_manifest(records, sweep.name, sweep.fingerprint())
        info = {
            "format": SWEEP_FORMAT,
            "name": sweep.name,
            "description": sweep.spec.description,
            "file": sweep.file,
            "fingerprint": sweep.fingerprint(),
            "created": _now(),
            "impactsim_version": __version__,
            "method": sweep.method,
            "points": len(points),
            "tasks": len(tasks),
            "points_sha256": _sha256(points_text.encode()),
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

    def _write_points(self, text: str, points: pd.DataFrame) -> None:
        write_text(self.path / "points.json", text)
        write_csv(self.path / "points.csv", points)

    def _check_points(self, sweep: Sweep, info: dict[str, Any]) -> list[str]:
        """Check points.json against sweep.json's checksum; restore it from the design.

        points.json is authoritative: while its checksum is the recorded one it is kept,
        even if this version of impactsim would make another design. Otherwise the design
        is made again and written; when it is not the recorded one (another version of
        impactsim, or a damaged checksum), sweep.json records the new checksum, and task
        files computed at other parameter values fail their checks and run again.
        """
        path = self.path / "points.json"
        try:
            current: bytes | None = path.read_bytes() if path.is_file() else None
        except OSError:
            current = None
        recorded = info["points_sha256"]
        if current is not None and _sha256(current) == recorded:
            return []
        points = design(sweep)
        text = _points_text(sweep, points)
        made = _sha256(text.encode())
        notes = []
        if current != text.encode():
            if path.exists() or path.is_symlink():
                self.move_aside(path)
            self._write_points(text, points)
            state = "missing" if current is None else "damaged"
            notes.append(
                f"{path} was {state}; wrote it again from the sweep's design"
                + (
                    ""
                    if made == recorded
                    else " (not the design sweep.json recorded: task files computed at other "
                    "parameter values will be computed again)"
                )
            )
        if made != recorded:
            info["points_sha256"] = made
            write_text(self.path / "sweep.json", json.dumps(info, indent=1) + "\n")
            if current == text.encode():
                notes.append(
                    f"{self.path / 'sweep.json'} had a wrong checksum of points.json; "
                    "corrected it (points.json is the design of this sweep)"
                )
        return notes

    def points_doc(self, info: dict[str, Any]) -> dict[str, Any]:
        """points.json, checked against the checksum in sweep.json.

        Raises:
            DamagedFile: points.json is missing, damaged or not the recorded design.
        """
        path = self.path / "points.json"
        try:
            data = path.read_bytes()
        except OSError as err:
            raise DamagedFile(path, _os_problem(err)) from None
        if _sha256(data) != info["points_sha256"]:
            raise DamagedFile(path, "its checksum differs from the one sweep.json recorded")
        doc = json.loads(data)
        labels = [p["name"] for p in info["parameters"]]
        ok = (
            isinstance(doc, dict)
            and doc.get("parameters") == labels
            and isinstance(doc.get("values"), list)
            and isinstance(doc.get("unit"), list)
            and len(doc["values"]) == len(doc["unit"]) == info["points"]
            and all(isinstance(r, list) and len(r) == len(labels) for r in doc["values"])
            and all(isinstance(r, list) and len(r) == len(labels) for r in doc["unit"])
        )
        if not ok:
            values = doc.get("values") if isinstance(doc, dict) else None
            n = len(values) if isinstance(values, list) else "?"
            raise DamagedFile(
                path, f"does not match sweep.json ({n} points; sweep.json says {info['points']})"
            )
        return doc

    def read_points(self, info: dict[str, Any]) -> pd.DataFrame:
        """The design: point, parameter columns, ``unit:`` columns (one_way: varied, level)."""
        doc = self.points_doc(info)
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

    def point_rows(self, info: dict[str, Any]) -> list[dict[str, Any]]:
        """Every point's parameter values, exactly as stored (label -> value)."""
        doc = self.points_doc(info)
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

    def read_manifest(self, fingerprint: str, plan: list[Task]) -> list[TaskRecord]:
        """The manifest's records, one per task of ``plan`` in its order, checked.

        Raises:
            DamagedFile: manifest.json is missing, unreadable, of another sweep, or not a
                consistent record of the plan's tasks (see :func:`manifest_problem`).
        """
        path = self.path / "manifest.json"
        doc = _read_json(path)
        problem = manifest_problem(doc, fingerprint, plan)
        if problem is not None:
            raise DamagedFile(path, problem)
        return [TaskRecord(**entry) for entry in doc["tasks"]]

    def clean_temporary(self) -> int:
        """Remove temporary files a killed driver may have left; returns how many."""
        n = 0
        for d in (self.path, self.tasks_dir):
            if d.is_dir():
                for p in d.glob(".*.tmp"):
                    p.unlink(missing_ok=True)
                    n += 1
        return n

    # ------------------------------------------------------------------ damaged files
    @property
    def damaged_dir(self) -> Path:
        """Where files that cannot be trusted are moved (``DIR/damaged``)."""
        return self.path / "damaged"

    def move_aside(self, path: Path) -> Path:
        """Move a file that cannot be trusted to ``DIR/damaged/`` (replacing an older one).

        Raises:
            SweepError: the file can neither be moved nor removed.
        """
        target = self.damaged_dir / path.name
        try:
            self.damaged_dir.mkdir(exist_ok=True)
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            os.replace(path, target)
        except OSError as err:
            raise SweepError(
                f"{path} cannot be trusted and cannot be moved to {self.damaged_dir} "
                f"({_os_problem(err)}); remove it and re-run"
            ) from None
        return target

    def fingerprints_found(self) -> set[str]:
        """The sweep fingerprints that the manifest and the task files carry."""
        found: set[str] = set()
        try:
            doc = _read_json(self.path / "manifest.json")
        except DamagedFile:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("fingerprint"), str):
            found.add(doc["fingerprint"])
        if self.tasks_dir.is_dir() and not self.tasks_dir.is_symlink():
            for p in self.tasks_dir.glob("*.parquet"):
                if taskfile.file_problem(p) is None:
                    record = taskfile.read_record(p)
                    if record is not None and isinstance(record.get("sweep"), str):
                        found.add(record["sweep"])
        return found

    # ------------------------------------------------------------------ task files
    def write_task(self, rec: TaskRecord, table: pd.DataFrame, expect: Expect) -> tuple[int, str]:
        """Atomically write one task's rows with their record (see :mod:`.taskfile`).

        Returns:
            The number of rows and the SHA-256 of the file's bytes (for the manifest).

        Raises:
            TaskFileError: the rows are not exactly the task's.
        """
        block = Block(rec.task, rec.point, rec.first_replicate, rec.replicates)
        data = taskfile.encode(table, block, expect)
        atomic_write(self.task_file(rec.task), lambda p: p.write_bytes(data))
        return len(table), _sha256(data)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _os_problem(err: OSError) -> str:
    if isinstance(err, FileNotFoundError):
        return "missing"
    return f"cannot be read: {err.strerror or err}"


def _read_json(path: Path) -> Any:
    """A JSON file's contents (at most :data:`MAX_RECORD_BYTES`), or DamagedFile."""
    try:
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise DamagedFile(path, "is not a regular file")
        if path.stat().st_size > MAX_RECORD_BYTES:
            raise DamagedFile(path, f"is larger than {MAX_RECORD_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DamagedFile(path, "missing", missing=True) from None
    except OSError as err:
        raise DamagedFile(path, _os_problem(err)) from None
    except UnicodeDecodeError:
        raise DamagedFile(path, "not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        where = f"line {err.lineno}, column {err.colno}: {err.msg}"
        raise DamagedFile(path, f"not valid JSON ({where})") from None
    except (ValueError, RecursionError) as err:  # a number too long, nesting too deep
        raise DamagedFile(path, f"not valid JSON ({str(err)[:120]})") from None


def _points_text(sweep: Sweep, points: pd.DataFrame) -> str:
    """points.json of a design (deterministic: equal designs give equal text)."""
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
    return json.dumps(doc) + "\n"


# --------------------------------------------------------------------------- checks
def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_int(v: Any, low: int = 0) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


def _is_sha(v: Any) -> bool:
    return isinstance(v, str) and len(v) == 64 and all(c in "0123456789abcdef" for c in v)


def format_refusal(doc: Any, directory: Path) -> str | None:
    """Why a sweep.json of another directory format is refused, with the remedy, or None.

    Format 1 (impactsim before the ``neighbourhood`` column) is neither read nor resumed:
    its fingerprints stand for other task files (``breakdowns: all`` did not keep
    neighbourhood rows) and its task files lack the column, so mixing them with this
    format's would break the rule that one fingerprint means one table. Re-running the
    sweep file gives the same numbers (the seeds follow from the file alone).

    Args:
        doc: the contents of sweep.json.
        directory: the sweep directory (for the message).

    Returns:
        The message, or None when ``doc`` is not a record of a whole-number format other
        than :data:`SWEEP_FORMAT` (anything else is for :func:`info_problem`).
    """
    if not isinstance(doc, dict):
        return None
    fmt = doc.get("format")
    if not _is_int(fmt, 1) or fmt == SWEEP_FORMAT:
        return None
    version = doc.get("impactsim_version")
    by = f"impactsim {version}" if isinstance(version, str) and len(version) < 40 else "impactsim"
    head = (
        f"{directory} holds a sweep of format {fmt} (written by {by}); this impactsim reads "
        f"and writes sweep format {SWEEP_FORMAT} only."
    )
    if fmt > SWEEP_FORMAT:
        return f"{head} Read it with a newer impactsim."
    file = doc.get("file")
    if isinstance(file, str) and Path(file).is_file():
        command, which = f"impactsim sweep {file} --out NEW_DIR", ""
    else:
        copy = directory / "sweep.yaml"
        where = f"; a copy of it is {copy}" if copy.is_file() else ""
        command = "impactsim sweep SWEEP.yaml --out NEW_DIR"
        which = f" (SWEEP.yaml: the sweep file that made this directory{where})"
    return (
        f"{head} Format {SWEEP_FORMAT} keeps each task's rows with a 'neighbourhood' column "
        "and 'breakdowns: all' keeps the rows of each neighbourhood, so this directory's "
        "task files can be neither read nor resumed (nothing was changed in it). Run the "
        f"sweep again into a new directory{which}:\n  {command}\nor read this one with "
        f"an impactsim from before sweep format {SWEEP_FORMAT}."
    )


def info_problem(doc: Any) -> str | None:
    """What is wrong with the contents of a sweep.json, or None.

    The record must be of this directory format, its fingerprint must be the SHA-256 of
    its definition (so an edited definition is recognised), and its name, sampler,
    parameters, numbers of points and tasks and the points' checksum must agree with it.
    """
    if not isinstance(doc, dict):
        return "not a JSON object"
    if doc.get("format") != SWEEP_FORMAT:
        return f"format {_short(doc.get('format'))}, expected {SWEEP_FORMAT}"
    definition = doc.get("definition")
    if not isinstance(definition, dict):
        return "has no definition of the sweep"
    if doc.get("fingerprint") != fingerprint_of(definition):
        return "its fingerprint is not that of its definition (the file was altered)"
    try:
        reps, per_task = definition["replicates"], definition["replicates_per_task"]
        if not (_is_int(reps, 1) and _is_int(per_task, 1) and _is_int(doc.get("points"))):
            return "replicates, replicates_per_task or points are not whole numbers"
        if doc.get("tasks") != doc["points"] * math.ceil(reps / per_task):
            return "its number of tasks does not follow from its points and replicates"
        if doc.get("name") != definition["name"] or not isinstance(doc.get("name"), str):
            return "its name is not its definition's"
        if doc.get("method") != definition["sampler"]["method"]:
            return "its sampler method is not its definition's"
        params, defined = doc.get("parameters"), definition["parameters"]
        if not isinstance(params, list) or len(params) != len(defined):
            return "its parameters are not its definition's"
        for p, d, loc, integer in zip(
            params,
            defined,
            definition["parameter_locations"],
            definition["parameter_integer"],
            strict=True,
        ):
            label = d.get("name") or d["path"]
            if not isinstance(p, dict) or (p.get("name"), p.get("path")) != (label, d["path"]):
                return "its parameters are not its definition's"
            if (p.get("location"), p.get("integer")) != (loc, integer):
                return "its parameters are not its definition's"
        Outputs.model_validate(definition["outputs"])
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        return f"its definition is incomplete ({type(err).__name__}: {str(err)[:80]})"
    if not _is_sha(doc.get("points_sha256")):
        return "has no checksum of points.json (written by an older impactsim?)"
    return None


_RECORD_TYPES: dict[str, tuple[type, ...]] = {
    "attempts": (int,),
    "seconds": (int, float, type(None)),
    "worker": (str, type(None)),
    "finished": (str, type(None)),
    "error": (str, type(None)),
}


def manifest_problem(doc: Any, fingerprint: str, plan: list[Task]) -> str | None:
    """What is wrong with the contents of a manifest.json, or None.

    The manifest must be this sweep's (its fingerprint), list exactly the plan's tasks in
    order, give each a known status with fields of the right types (a done task its rows
    and checksum, another task neither) and count the statuses correctly.
    """
    if not isinstance(doc, dict):
        return "not a JSON object"
    if doc.get("format") != SWEEP_FORMAT:
        return f"format {_short(doc.get('format'))}, expected {SWEEP_FORMAT}"
    if doc.get("fingerprint") != fingerprint:
        return "it is the manifest of another sweep (its fingerprint is not this sweep's)"
    entries = doc.get("tasks")
    if not isinstance(entries, list) or len(entries) != len(plan):
        return f"does not list the sweep's {len(plan)} tasks"
    fields = set(TaskRecord.__dataclass_fields__)
    counts = {s: 0 for s in STATUSES}
    for entry, task in zip(entries, plan, strict=True):
        if not isinstance(entry, dict) or set(entry) != fields:
            return f"the entry of task {task.task_id} is not a task record"
        where = (entry["task"], entry["point"], entry["first_replicate"], entry["replicates"])
        if where != (task.task_id, task.point, task.first_replicate, task.replicates):
            return f"the entry of task {task.task_id} is of another task or in another place"
        status = entry["status"]
        if status not in STATUSES:
            return f"task {task.task_id} has an unknown status {_short(status)}"
        counts[status] += 1
        bad = [
            k
            for k, kinds in _RECORD_TYPES.items()
            if not isinstance(entry[k], kinds) or isinstance(entry[k], bool)
        ]
        if status == DONE:
            ok = _is_int(entry["rows"], 1) and _is_sha(entry["sha256"]) and entry["error"] is None
        else:
            ok = entry["rows"] is None and entry["sha256"] is None
        if bad or not ok or not _is_int(entry["attempts"]):
            return f"the entry of task {task.task_id} is inconsistent"
    if doc.get("counts") != counts:
        return "its counts of done, failed and pending tasks are not those of its entries"
    return None
