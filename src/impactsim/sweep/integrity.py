"""Check what a sweep directory holds before trusting it; repair it, or say what is wrong.

:func:`inspect` reads the manifest and every task file of the plan and checks each file
(:func:`impactsim.sweep.taskfile.read`): a plain file, readable Parquet, carrying this
sweep's fingerprint and its own task's id, point, replicates and parameter values, with
exactly the task's rows, numbers matching the checksum of its record and, when the
manifest recorded one, bytes matching the manifest's SHA-256. A task is done when its file
passes; a file that does not is *untrusted*, and a task the manifest records as done whose
file is gone is *lost*.

Resuming (:func:`repair`, used by :func:`~impactsim.sweep.execute.run_sweep`) moves
untrusted files and a damaged manifest to ``DIR/damaged/``, runs those tasks again and
says so. Reading results (:func:`~impactsim.sweep.results.load_results`) refuses any
damage with :class:`DamagedSweepError`, whose message names the files and says how to
repair the directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from impactsim.sweep import taskfile
from impactsim.sweep.store import (
    DONE,
    PENDING,
    DamagedFile,
    SweepDir,
    SweepError,
    TaskRecord,
)
from impactsim.sweep.taskfile import Block, Expect, TaskFileError

#: Files listed one by one in a message; the rest are counted.
MAX_LISTED = 10


class DamagedSweepError(SweepError):
    """A sweep directory holds files that cannot be trusted; nothing was read.

    Attributes:
        problems: ``(path, what is wrong)`` of each file.
    """

    def __init__(self, message: str, problems: list[tuple[Path, str]]):
        super().__init__(message)
        self.problems = problems


@dataclass
class Inventory:
    """A sweep directory's tasks, checked.

    Attributes:
        records: one per task of the plan, in order; done exactly when its file passed.
        tables: the rows of each done task (only when asked for).
        untrusted: ``(record, file, problem)`` of each task file that did not pass.
        lost: tasks the manifest recorded as done whose file is missing.
        manifest: what was wrong with manifest.json (None when it passed).
        tasks_dir: what was wrong with the tasks directory itself (None when nothing).
    """

    records: list[TaskRecord]
    tables: dict[str, pa.Table] = field(default_factory=dict)
    untrusted: list[tuple[TaskRecord, Path, str]] = field(default_factory=list)
    lost: list[TaskRecord] = field(default_factory=list)
    manifest: DamagedFile | None = None
    tasks_dir: str | None = None

    def problems(self, store: SweepDir) -> list[tuple[Path, str]]:
        """Every damaged or missing file, with what is wrong with it."""
        out: list[tuple[Path, str]] = []
        if self.manifest is not None:
            out.append((self.manifest.path, self.manifest.problem))
        if self.tasks_dir is not None:
            out.append((store.tasks_dir, self.tasks_dir))
        out.extend((path, problem) for _, path, problem in self.untrusted)
        out.extend(
            (store.task_file(r.task), "missing, though the manifest records its task as done")
            for r in self.lost
        )
        return out


def expectations(store: SweepDir, info: dict[str, Any]) -> Expect:
    """What every task file of the sweep in ``info`` (a checked sweep.json) must hold.

    Raises:
        DamagedFile: points.json is missing or damaged.
    """
    values = store.points_doc(info)["values"]
    return Expect.of(info["fingerprint"], info["definition"], values)


def inspect(store: SweepDir, info: dict[str, Any], *, keep_tables: bool = False) -> Inventory:
    """Check the manifest and every task file of a sweep directory.

    A damaged manifest is replaced by a plan of pending tasks, so the task files decide
    alone which tasks are done (failed tasks are then pending again).

    Args:
        store: the directory.
        info: its sweep.json, checked (:meth:`SweepDir.read_info`).
        keep_tables: keep the rows of every done task in :attr:`Inventory.tables`.

    Raises:
        DamagedFile: points.json is missing or damaged.
    """
    expect = expectations(store, info)
    plan = store.plan(info)
    inv = Inventory(records=[])
    try:
        inv.records = store.read_manifest(info["fingerprint"], plan)
    except DamagedFile as err:
        inv.manifest = err
        inv.records = [
            TaskRecord(t.task_id, t.point, t.first_replicate, t.replicates) for t in plan
        ]
    tasks = store.tasks_dir
    if tasks.is_symlink():
        inv.tasks_dir = "is a symbolic link (impactsim makes it as a plain directory)"
    elif tasks.exists() and not tasks.is_dir():
        inv.tasks_dir = "is not a directory"
    for rec in inv.records:
        path = store.task_file(rec.task)
        recorded = rec.sha256 if rec.status == DONE else None
        if inv.tasks_dir is not None or not (path.exists() or path.is_symlink()):
            if rec.status == DONE and inv.tasks_dir is None:
                inv.lost.append(rec)
            _not_done(rec)
            continue
        block = Block(rec.task, rec.point, rec.first_replicate, rec.replicates)
        try:
            table, sha256 = taskfile.read(path, block, expect, sha256=recorded)
            if rec.status == DONE and rec.rows != table.num_rows:
                raise TaskFileError(f"holds {table.num_rows} rows, the manifest says {rec.rows}")
        except TaskFileError as err:
            inv.untrusted.append((rec, path, str(err)))
            _not_done(rec)
            continue
        if rec.status != DONE:  # written before the manifest said so (driver stopped)
            rec.status, rec.error = DONE, None
            rec.rows, rec.sha256 = table.num_rows, sha256
        if keep_tables:
            inv.tables[rec.task] = table
    return inv


def _not_done(rec: TaskRecord) -> None:
    if rec.status == DONE:
        rec.status = PENDING
    rec.rows = rec.sha256 = None


def repair(store: SweepDir, inv: Inventory) -> list[str]:
    """Move what cannot be trusted to ``DIR/damaged/``; say what was found.

    The caller writes the manifest again from :attr:`Inventory.records` and runs the tasks
    that are not done.

    Returns:
        One message per kind of damage (empty when there was none).
    """
    notes: list[str] = []
    moved_to = f"moved to {store.damaged_dir}"
    if inv.manifest is not None:
        if inv.manifest.path.exists() or inv.manifest.path.is_symlink():
            store.move_aside(inv.manifest.path)
        done = sum(r.status == DONE for r in inv.records)
        notes.append(
            f"{inv.manifest.path}: {inv.manifest.problem}; rebuilt it from the task files "
            f"({done} done, {len(inv.records) - done} to run"
            + ("" if inv.manifest.missing else f"; the damaged one was {moved_to}")
            + ")"
        )
    if inv.tasks_dir is not None:
        store.move_aside(store.tasks_dir)
        store.tasks_dir.mkdir()
        notes.append(f"{store.tasks_dir} {inv.tasks_dir}; {moved_to} and made again")
    if inv.untrusted:
        for _, path, _ in inv.untrusted:
            store.move_aside(path)
        lines = [f"{rec.task}: {problem}" for rec, _, problem in inv.untrusted]
        notes.append(
            f"{len(inv.untrusted)} task file(s) were damaged or belonged to other tasks; "
            f"recomputing them ({moved_to}):" + _listing(lines)
        )
    if inv.lost:
        notes.append(
            f"{len(inv.lost)} task(s) recorded as done have no file in {store.tasks_dir}; "
            "recomputing them:" + _listing([r.task for r in inv.lost])
        )
    return notes


def _listing(lines: list[str]) -> str:
    shown = [f"\n  {line}" for line in lines[:MAX_LISTED]]
    if len(lines) > MAX_LISTED:
        shown.append(f"\n  ... and {len(lines) - MAX_LISTED} more")
    return "".join(shown)


def repair_command(store: SweepDir, info: dict[str, Any] | None) -> tuple[str, str]:
    """The command that repairs the directory, and a note on which sweep file to give it.

    The sweep file is the one sweep.json names when it still exists; otherwise SWEEP.yaml
    stands for it (the directory keeps a copy in ``sweep.yaml``, but its ``base:`` path is
    relative to where the original was).
    """
    file = info.get("file") if info is not None else None
    if isinstance(file, str) and Path(file).is_file():
        return f"impactsim sweep {file} --out {store.path}", ""
    copy = store.path / "sweep.yaml"
    where = f"; a copy of it is {copy}" if copy.is_file() else ""
    return (
        f"impactsim sweep SWEEP.yaml --out {store.path}",
        f" (SWEEP.yaml: the sweep file that made this directory{where})",
    )


def refusal(
    store: SweepDir, info: dict[str, Any] | None, problems: list[tuple[Path, str]]
) -> DamagedSweepError:
    """The error for a directory whose files cannot be trusted: which, and what to do."""
    lines = [f"{path}: {problem}" for path, problem in problems]
    head = f"{store.path} holds {len(problems)} damaged file(s); nothing was read:"
    command, which = repair_command(store, info)
    if info is None:
        action = (
            "sweep.json records what the sweep is, so nothing can be read without it. To "
            "repair it, re-run the sweep into the directory; sweep.json is written again "
            "when the manifest or task files carry that sweep's fingerprint, otherwise use "
            f"a new --out directory{which}:"
        )
    else:
        action = (
            "To repair it, re-run the sweep into the directory: files that are damaged or "
            f"belong to other tasks are moved to {store.damaged_dir} and their tasks "
            f"computed again{which}:"
        )
    return DamagedSweepError(f"{head}{_listing(lines)}\n{action}\n  {command}", problems)


def read_checked(store: SweepDir) -> tuple[dict[str, Any], Inventory]:
    """sweep.json and every task, checked; refuse any damage (for reading results).

    Raises:
        SweepError: the directory does not hold a sweep.
        DamagedSweepError: a file cannot be trusted (the message says which and what to do).
    """
    if not store.is_sweep():
        if (store.path / "manifest.json").exists() or store.tasks_dir.exists():
            raise refusal(store, None, [(store.path / "sweep.json", "missing")])
        raise SweepError(f"{store.path} is not a sweep directory (no sweep.json)")
    try:
        info = store.read_info()
    except DamagedFile as err:
        raise refusal(store, None, [(err.path, err.problem)]) from None
    try:
        inv = inspect(store, info, keep_tables=True)
    except DamagedFile as err:
        raise refusal(store, info, [(err.path, err.problem)]) from None
    problems = inv.problems(store)
    if problems:
        raise refusal(store, info, problems)
    return info, inv
