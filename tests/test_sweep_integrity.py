"""Damaged sweep directories: nothing damaged is trusted (issue 30, class 4).

For each kind of damage to a finished sweep's directory:

* ``sweep-results`` and ``sweep-analyze`` refuse it: exit status 2, a message naming the
  damaged file and the command that repairs it, no traceback;
* re-running the sweep into it says what it found (on stderr) and gives exactly the table
  of the clean run (``assert_frame_equal``), recomputing only what was damaged.

The sweep is tiny (3 points x 2 replicates, one replicate per task: 6 tasks of ~0.05 s).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import typer
import yaml
from typer.testing import CliRunner

from helpers import tiny_sweep_dict
from impactsim.sweep import SweepError, load_results, parse_sweep, run_sweep
from impactsim.sweep.cli import register
from impactsim.sweep.execute import SerialExecutor
from impactsim.sweep.schema import SWEEP_FORMAT
from impactsim.sweep.taskfile import META_KEY, content_digest

T0, T1 = "p000000-r000000-000000", "p000000-r000001-000001"
T2, T3 = "p000001-r000000-000000", "p000001-r000001-000001"
TASKS = [f"p{p:06d}-r{r:06d}-{r:06d}" for p in range(3) for r in range(2)]


@dataclass
class Clean:
    dir: Path
    data: pd.DataFrame
    file: Path  # the sweep file


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Clean:
    root = tmp_path_factory.mktemp("clean")
    file = root / "tiny.yaml"
    file.write_text(yaml.safe_dump(tiny_sweep_dict()))
    report = run_sweep(file, root / "sweep", workers=0, progress=False)
    assert (report.done, report.repairs) == (6, [])
    return Clean(root / "sweep", load_results(root / "sweep").data, file)


@pytest.fixture
def d(clean, tmp_path) -> Path:
    """A copy of the clean sweep directory, to damage."""
    out = tmp_path / "s"
    shutil.copytree(clean.dir, out)
    return out


def task(d: Path, tid: str) -> Path:
    return d / "tasks" / f"{tid}.parquet"


def manifest(d: Path) -> dict:
    return json.loads((d / "manifest.json").read_text())


def set_manifest(d: Path, doc: dict) -> None:
    (d / "manifest.json").write_text(json.dumps(doc))


def record_sha(d: Path, tid: str) -> None:
    """Record a task file's present checksum in the manifest (as a forger would)."""
    doc = manifest(d)
    entry = next(t for t in doc["tasks"] if t["task"] == tid)
    entry["sha256"] = hashlib.sha256(task(d, tid).read_bytes()).hexdigest()
    set_manifest(d, doc)


def app() -> typer.Typer:
    a = typer.Typer()
    a.command("noop")(lambda: None)
    register(a)
    return a


def refused(d: Path, *expected: str) -> str:
    """sweep-results and sweep-analyze refuse: exit 2, the message, no traceback."""
    for command in ("sweep-results", "sweep-analyze"):
        res = CliRunner().invoke(app(), [command, str(d)])
        out = res.output
        assert res.exit_code == 2, out
        assert "Traceback" not in out and not isinstance(res.exception, SweepError), out
        assert out.startswith(f"error: {d} holds "), out
        last = out.rstrip().splitlines()[-1]  # the command that repairs the directory
        assert last.startswith("  impactsim sweep ") and last.endswith(f" --out {d}"), out
        for text in expected:
            assert text in out, out
    with pytest.raises(SweepError):
        load_results(d)
    return out


def resumed(clean: Clean, d: Path, *expected: str, ran: int) -> list[str]:
    """Re-running the sweep says what it found and gives exactly the clean table."""
    notes: list[str] = []
    report = run_sweep(clean.file, d, workers=0, progress=False, log=notes.append)
    text = "\n".join(notes)
    for part in expected:
        assert part in text, text
    assert (report.done, report.failed, report.ran) == (6, 0, ran), text
    assert report.repairs == notes
    pd.testing.assert_frame_equal(load_results(d).data, clean.data)
    res = CliRunner().invoke(app(), ["sweep-results", str(d)])
    assert res.exit_code == 0 and "6 done, 0 failed, 0 pending" in res.output, res.output
    return notes


# --------------------------------------------------------------------------- clean
def test_a_clean_directory_reads_and_resumes_without_a_word(clean, d):
    assert resumed(clean, d, ran=0) == []
    m = manifest(d)
    for entry in m["tasks"]:
        digest = hashlib.sha256(task(d, entry["task"]).read_bytes()).hexdigest()
        assert (entry["sha256"], entry["rows"]) == (digest, 2)  # 2 metrics x 1 replicate
    record = json.loads(pq.read_schema(task(d, T2)).metadata[META_KEY])
    assert record["task"] == T2 and record["point"] == 1 and record["values"] == [0.4]
    assert record["sweep"] == json.loads((d / "sweep.json").read_text())["fingerprint"]


# --------------------------------------------------------------------------- task files
def _truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _zero(p: Path) -> None:
    p.write_bytes(b"")


def _random(p: Path) -> None:
    p.write_bytes(os.urandom(p.stat().st_size))


def _flip_a_byte(p: Path) -> None:
    data = bytearray(p.read_bytes())
    data[len(data) // 3] ^= 0xFF
    p.write_bytes(bytes(data))


def _symlink(p: Path) -> None:
    target = p.with_name("elsewhere.bin")
    p.rename(target)
    p.symlink_to(target.name)


def _directory(p: Path) -> None:
    p.unlink()
    p.mkdir()


@pytest.mark.parametrize(
    "damage, problem",
    [
        (_truncate, "not a readable Parquet file"),
        (_zero, "is empty (0 bytes)"),
        (_random, "not a readable Parquet file"),
        (_flip_a_byte, ""),  # where the byte lands decides which check fails first
        (_symlink, "is a symbolic link"),
        (_directory, "is not a regular file"),
    ],
    ids=["truncated", "zero-bytes", "random-bytes", "flipped-byte", "symlink", "directory"],
)
def test_a_damaged_task_file_is_refused_then_recomputed(clean, d, damage, problem):
    damage(task(d, T3))
    refused(d, f"{task(d, T3)}: {problem}", "holds 1 damaged file(s)")
    notes = resumed(clean, d, "1 task file(s) were damaged", f"{T3}: {problem}", ran=1)
    assert str(d / "damaged") in notes[0]
    assert os.path.lexists(d / "damaged" / f"{T3}.parquet")


def test_another_points_file_is_foreign_even_with_its_checksum_recorded(clean, d):
    # the reported defect: the re-run said all done, one point missing and another twice
    shutil.copy(task(d, T0), task(d, T2))
    out = refused(d, f"{task(d, T2)}: holds the rows of task {T0}, not of {T2}")
    assert out.endswith(f"\n  impactsim sweep {clean.file} --out {d}\n")  # the file it ran
    record_sha(d, T2)  # the manifest now "agrees" with the file
    refused(d, f"{task(d, T2)}: holds the rows of task {T0}, not of {T2}")
    resumed(clean, d, f"{T2}: holds the rows of task {T0}", ran=1)


def test_swapped_files_are_both_recomputed(clean, d):
    a, b = task(d, T1).read_bytes(), task(d, T2).read_bytes()
    task(d, T1).write_bytes(b)
    task(d, T2).write_bytes(a)
    refused(d, "holds 2 damaged file(s)")
    resumed(clean, d, "2 task file(s) were damaged", T1, T2, ran=2)


def test_another_sweeps_file_is_foreign(clean, d, tmp_path):
    other = tmp_path / "other"
    run_sweep(parse_sweep(tiny_sweep_dict(seed=2)), other, workers=0, progress=False)
    shutil.copy(task(other, T2), task(d, T2))  # same task id, same rows, another sweep
    record_sha(d, T2)
    refused(d, f"{task(d, T2)}: belongs to another sweep")
    resumed(clean, d, f"{T2}: belongs to another sweep", ran=1)


def test_a_file_rewritten_with_the_same_rows_has_another_checksum(clean, d):
    table = pq.read_table(task(d, T2))
    pq.write_table(table, task(d, T2), compression="gzip")  # same rows and record
    refused(d, f"{task(d, T2)}: changed since it was written (its checksum differs")
    resumed(clean, d, f"{T2}: changed since it was written", ran=1)


def test_altered_numbers_are_found_even_with_the_checksum_recorded(clean, d):
    table = pq.read_table(task(d, T2))
    df = table.to_pandas()
    df.loc[0, "value"] += 1.0
    altered = table.from_pandas(df, preserve_index=False).replace_schema_metadata(
        table.schema.metadata
    )
    pq.write_table(altered, task(d, T2))
    record_sha(d, T2)
    refused(d, f"{task(d, T2)}: its numbers were altered")
    resumed(clean, d, f"{T2}: its numbers were altered", ran=1)


def test_a_file_without_its_record_is_not_trusted(clean, d):
    table = pq.read_table(task(d, T2))
    meta = {k: v for k, v in table.schema.metadata.items() if k != META_KEY}
    pq.write_table(table.replace_schema_metadata(meta), task(d, T2))
    record_sha(d, T2)
    refused(d, f"{task(d, T2)}: carries no record of its sweep and task")
    resumed(clean, d, f"{T2}: carries no record", ran=1)


@pytest.mark.parametrize(
    "fmt, problem",
    [
        (1, "was written in sweep format 1, not 2"),
        (2, "columns ['point', 'replicate', 'metric', 'segment'"),
    ],
    ids=["format-1-record", "format-2-record"],
)
def test_a_task_file_without_the_neighbourhood_column_is_not_trusted(clean, d, fmt, problem):
    """A file as sweep format 1 wrote it (no neighbourhood column), its checksums consistent."""
    table = pq.read_table(task(d, T2))
    old = table.drop_columns(["neighbourhood"])
    record = json.loads(table.schema.metadata[META_KEY])
    record.update(format=fmt, content_sha256=content_digest(old))
    meta = {**table.schema.metadata, META_KEY: json.dumps(record).encode()}
    pq.write_table(old.replace_schema_metadata(meta), task(d, T2))
    record_sha(d, T2)
    refused(d, f"{task(d, T2)}: {problem}")
    resumed(clean, d, f"{T2}: {problem}", ran=1)


def test_a_deleted_task_file_the_manifest_records_as_done(clean, d):
    task(d, T2).unlink()
    refused(d, f"{task(d, T2)}: missing, though the manifest records its task as done")
    resumed(clean, d, "1 task(s) recorded as done have no file", T2, ran=1)


def test_the_tasks_directory_replaced_by_a_file(clean, d):
    shutil.rmtree(d / "tasks")
    (d / "tasks").write_text("not a directory")
    refused(d, f"{d / 'tasks'}: is not a directory", "holds 1 damaged file(s)")
    notes = resumed(clean, d, f"{d / 'tasks'} is not a directory; moved to", ran=6)
    assert len(notes) == 1 and (d / "damaged" / "tasks").read_text() == "not a directory"


def test_a_symlinked_tasks_directory_is_not_followed(clean, d, tmp_path):
    (d / "tasks").rename(tmp_path / "elsewhere")
    (d / "tasks").symlink_to(tmp_path / "elsewhere")
    refused(d, f"{d / 'tasks'}: is a symbolic link")
    resumed(clean, d, f"{d / 'tasks'} is a symbolic link", ran=6)
    assert len(list((tmp_path / "elsewhere").iterdir())) == 6  # left as it was


def test_a_worker_sending_another_tasks_rows_fails_that_task(tmp_path):
    from impactsim.sweep.worker import run_task

    class Misdirect(SerialExecutor):
        """Runs every task but hands back point 0's rows for point 1."""

        def submit(self, fn, payload):
            fut = super().submit(fn, payload)
            if payload.point == 1:
                other = run_task(payload.__class__(**{**payload.__dict__, "point": 0}))
                fut.result().table = other.table
            return fut

    sweep = parse_sweep(tiny_sweep_dict())
    report = run_sweep(sweep, tmp_path / "w", executor=Misdirect(), progress=False)
    assert (report.done, report.failed) == (4, 2)
    err = report.failures[0]["error"]
    assert err.startswith("the worker returned rows that are not this task's: holds rows of")
    assert not task(tmp_path / "w", T2).exists()


# --------------------------------------------------------------------------- manifest
@pytest.mark.parametrize(
    "text, problem",
    [
        ("garbage{", "not valid JSON (line 1, column 1: Expecting value)"),
        ("[]", "not a JSON object"),
        ("{}", f"format None, expected {SWEEP_FORMAT}"),
        ("[" * 100_000, "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8 text"),
    ],
    ids=["garbage", "list", "empty-object", "deep-nesting", "not-utf8"],
)
def test_a_garbage_manifest_is_refused_then_rebuilt_from_the_task_files(clean, d, text, problem):
    path = d / "manifest.json"
    data = text if isinstance(text, bytes) else text.encode()
    path.write_bytes(data)
    refused(d, f"{path}: {problem}")
    notes = resumed(clean, d, f"{path}: {problem}", "; rebuilt it from the task files", ran=0)
    assert "(6 done, 0 to run; the damaged one was moved to" in notes[0]
    assert (d / "damaged" / "manifest.json").read_bytes() == data


def test_a_missing_manifest_is_rebuilt(clean, d):
    (d / "manifest.json").unlink()
    refused(d, f"{d / 'manifest.json'}: missing")
    resumed(clean, d, "manifest.json: missing; rebuilt it from the task files (6 done", ran=0)


@pytest.mark.parametrize(
    "edit, problem",
    [
        (lambda m: m["tasks"][2].update(status="failed"), "is inconsistent"),
        (lambda m: m["tasks"][2].update(status="finished"), "unknown status 'finished'"),
        (lambda m: m["tasks"][2].update(rows=None), "is inconsistent"),
        (lambda m: m["tasks"][2].update(task=T3), "is of another task or in another place"),
        (lambda m: m["tasks"].pop(), "does not list the sweep's 6 tasks"),
        (lambda m: m["counts"].update(done=5), "its counts of done, failed and pending"),
        (lambda m: m.update(fingerprint="0" * 64), "the manifest of another sweep"),
        (lambda m: m["tasks"][2].update(extra=1), "is not a task record"),
        (lambda m: m["tasks"][2].update(attempts=True), "is inconsistent"),
    ],
    ids=[
        "failed-with-rows",
        "unknown-status",
        "done-without-rows",
        "another-task",
        "task-missing",
        "counts",
        "other-sweep",
        "extra-field",
        "bool-attempts",
    ],
)
def test_a_manifest_with_wrong_entries_is_refused_then_rebuilt(clean, d, edit, problem):
    doc = manifest(d)
    edit(doc)
    set_manifest(d, doc)
    refused(d, problem)
    resumed(clean, d, problem, "rebuilt it from the task files (6 done, 0 to run", ran=0)


def test_a_wrong_rows_count_in_the_manifest_makes_the_file_untrusted(clean, d):
    doc = manifest(d)
    doc["tasks"][2]["rows"] = 3
    set_manifest(d, doc)
    refused(d, f"{task(d, T2)}: holds 2 rows, the manifest says 3")
    resumed(clean, d, f"{T2}: holds 2 rows, the manifest says 3", ran=1)


def test_tasks_the_manifest_does_not_record_yet_are_no_damage(clean, d):
    # the driver was killed after writing these files, before its next manifest update
    doc = manifest(d)
    for entry in doc["tasks"][3:]:
        entry.update(status="pending", rows=None, sha256=None)
    doc["counts"] = {"pending": 3, "done": 3, "failed": 0}
    set_manifest(d, doc)
    pd.testing.assert_frame_equal(load_results(d).data, clean.data)
    assert resumed(clean, d, ran=0) == []


# --------------------------------------------------------------------------- sweep.json
def _edit_info(d: Path, edit) -> None:
    info = json.loads((d / "sweep.json").read_text())
    edit(info)
    (d / "sweep.json").write_text(json.dumps(info))


@pytest.mark.parametrize(
    "damage, problem",
    [
        (lambda d: (d / "sweep.json").write_text("garbage"), "not valid JSON"),
        (lambda d: (d / "sweep.json").write_text("{}"), f"format None, expected {SWEEP_FORMAT}"),
        (
            lambda d: _edit_info(d, lambda i: i["definition"].update(replicates=3)),
            "its fingerprint is not that of its definition",
        ),
        (
            lambda d: _edit_info(d, lambda i: i.update(points=4, tasks=8)),
            "points.json: does not match sweep.json (3 points; sweep.json says 4)",
        ),
        (
            lambda d: _edit_info(d, lambda i: i["parameters"][0].update(name="x")),
            "its parameters are not its definition's",
        ),
        (lambda d: _edit_info(d, lambda i: i.pop("points_sha256")), "no checksum of points"),
    ],
    ids=["garbage", "empty", "definition-edited", "points-edited", "name-edited", "old"],
)
def test_a_damaged_sweep_record_is_refused_then_written_again(clean, d, damage, problem):
    damage(d)
    out = refused(d, problem)
    if "points.json" not in problem:
        assert "sweep.json records what the sweep is" in out
        assert out.rstrip().endswith(f"\n  impactsim sweep SWEEP.yaml --out {d}")
        assert "(SWEEP.yaml: the sweep file that made this directory; a copy of it is " in out
    notes = resumed(clean, d, ran=0)
    assert len(notes) == 1
    assert f"{d / 'sweep.json'} is damaged: " in notes[0]
    assert f"; wrote it again from {clean.file}" in notes[0]


def test_a_missing_sweep_record_is_refused_then_written_again(clean, d):
    (d / "sweep.json").unlink()
    refused(d, f"{d / 'sweep.json'}: missing")
    resumed(clean, d, f"{d / 'sweep.json'} is missing; wrote it again from {clean.file}", ran=0)


def test_another_sweeps_record_is_a_different_sweep(clean, d, tmp_path):
    other = tmp_path / "other"
    run_sweep(parse_sweep(tiny_sweep_dict(seed=2)), other, workers=0, progress=False)
    shutil.copy(other / "sweep.json", d / "sweep.json")
    shutil.copy(other / "points.json", d / "points.json")
    out = refused(d, "belongs to another sweep", "holds 7 damaged file(s)")  # manifest + 6
    assert "the manifest of another sweep" in out
    res = CliRunner().invoke(app(), ["sweep", str(clean.file), "--out", str(d), "-w", "0"])
    assert res.exit_code == 2 and "holds a different sweep ('tiny'; changed: seed)" in res.output


def test_a_damaged_record_in_a_directory_of_another_sweep_is_refused(clean, tmp_path):
    other = tmp_path / "other"
    run_sweep(parse_sweep(tiny_sweep_dict(seed=2)), other, workers=0, progress=False)
    (other / "sweep.json").write_text("garbage")
    res = CliRunner().invoke(app(), ["sweep", str(clean.file), "--out", str(other), "-w", "0"])
    assert res.exit_code == 2, res.output
    assert "sweep.json is damaged: not valid JSON" in res.output
    assert "holds the manifest or task files of another sweep" in res.output
    assert "Traceback" not in res.output
    assert len(list((other / "tasks").iterdir())) == 6  # nothing was touched


# --------------------------------------------------------------------------- points.json
@pytest.mark.parametrize(
    "damage, state",
    [
        (lambda p: p.unlink(), "missing"),
        (lambda p: p.write_text("garbage"), "damaged"),
        (lambda p: p.write_text(p.read_text().replace("0.4", "0.5")), "damaged"),
    ],
    ids=["missing", "garbage", "value-edited"],
)
def test_damaged_points_are_refused_then_written_again(clean, d, damage, state):
    damage(d / "points.json")
    refused(d, f"{d / 'points.json'}: ")
    resumed(clean, d, f"{d / 'points.json'} was {state}; wrote it again", ran=0)


def test_a_wrong_points_checksum_in_the_record_is_corrected(clean, d):
    _edit_info(d, lambda i: i.update(points_sha256="0" * 64))
    refused(d, "its checksum differs from the one sweep.json recorded")
    resumed(clean, d, "had a wrong checksum of points.json; corrected it", ran=0)


# --------------------------------------------------------------------------- command line
def test_the_sweep_command_says_what_it_repaired_on_stderr(clean, d):
    _truncate(task(d, T2))
    (d / "manifest.json").write_text("garbage")
    res = CliRunner().invoke(app(), ["sweep", str(clean.file), "--out", str(d), "-w", "0", "-q"])
    assert res.exit_code == 0, res.output
    assert res.stdout == ""  # --quiet
    assert "warning: " in res.stderr and "manifest.json: not valid JSON" in res.stderr
    assert "1 task file(s) were damaged or belonged to other tasks; recomputing them" in (
        res.stderr
    )
    assert f"  {T2}: not a readable Parquet file" in res.stderr
    pd.testing.assert_frame_equal(load_results(d).data, clean.data)


def test_damaged_points_and_a_damaged_checksum_of_them(clean, d):
    (d / "points.json").write_text("garbage")
    _edit_info(d, lambda i: i.update(points_sha256="0" * 64))
    refused(d, f"{d / 'points.json'}: its checksum differs from the one sweep.json recorded")
    notes = resumed(clean, d, f"{d / 'points.json'} was damaged; wrote it again", ran=0)
    assert "not the design sweep.json recorded" in notes[0]


def test_points_json_is_authoritative_and_the_task_files_follow_it(clean, d, tmp_path):
    # a directory whose recorded design is not the one this version makes (as after an
    # upgrade of scipy): its points are kept, and tasks computed elsewhere run again
    points = d / "points.json"
    doc = json.loads(points.read_text())
    doc["values"][1] = [0.5]
    points.write_text(json.dumps(doc) + "\n")
    _edit_info(d, lambda i: i.update(points_sha256=hashlib.sha256(points.read_bytes()).hexdigest()))
    problem = "was computed at other parameter values than point 1 of points.json"
    refused(d, f"{task(d, T2)}: {problem}", f"{task(d, T3)}: {problem}")
    notes: list[str] = []
    report = run_sweep(clean.file, d, workers=0, progress=False, log=notes.append)
    assert report.ran == 2 and f"{T2}: {problem}" in notes[0] and f"{T3}: {problem}" in notes[0]
    other = tmp_path / "other"
    d2 = tiny_sweep_dict()
    d2["parameters"][0]["values"] = [0.2, 0.5, 0.6]
    run_sweep(parse_sweep(d2), other, workers=0, progress=False)
    pd.testing.assert_frame_equal(load_results(d).data, load_results(other).data)
