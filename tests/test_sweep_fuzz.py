"""Random damage to a finished sweep directory (hypothesis): no traceback, no wrong result.

Each example copies a finished tiny sweep (3 points x 2 replicates, 6 task files), applies
one to three random damages to random files of it — truncate, overwrite bytes, flip a
byte, delete, swap two files, copy one over another, replace by garbage JSON, or change
one value inside a JSON file — and checks:

* ``sweep-results`` either refuses (exit status 2, a message saying how to repair, no
  traceback) or gives exactly the clean table;
* re-running the sweep into the directory always succeeds and gives exactly the clean
  table (what was damaged is recomputed or rebuilt), and ``sweep-results`` then reads it.

Deterministic (``derandomize=True``, no example database); ``pytest
--hypothesis-show-statistics`` shows how often each outcome occurred.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import typer
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from helpers import tiny_sweep_dict
from impactsim.sweep import load_results, run_sweep
from impactsim.sweep.cli import register

FILES = [
    "sweep.json",
    "points.json",
    "manifest.json",
    "points.csv",
    "sweep.yaml",
    "base.resolved.yaml",
    *(f"tasks/p{p:06d}-r{r:06d}-{r:06d}.parquet" for p in range(3) for r in range(2)),
]
JSON_FILES = ["sweep.json", "points.json", "manifest.json"]
GARBAGE_JSON = ["null", "[]", "{}", '{"format": 1}', "1e999", '"text"', "[" * 5000, "{,}"]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 10),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(["", "done", "failed", "pending", "0" * 64, "p000001-r000000-000000"]),
    st.just([]),
    st.just({}),
)

damage = st.one_of(
    st.tuples(st.just("truncate"), st.sampled_from(FILES), st.floats(0, 1)),
    st.tuples(
        st.just("overwrite"),
        st.sampled_from(FILES),
        st.floats(0, 1),
        st.binary(min_size=1, max_size=16),
    ),
    st.tuples(st.just("flip"), st.sampled_from(FILES), st.floats(0, 1)),
    st.tuples(st.just("delete"), st.sampled_from(FILES)),
    st.tuples(st.just("swap"), st.sampled_from(FILES), st.sampled_from(FILES)),
    st.tuples(st.just("copy"), st.sampled_from(FILES), st.sampled_from(FILES)),
    st.tuples(st.just("garbage"), st.sampled_from(JSON_FILES), st.sampled_from(GARBAGE_JSON)),
    st.tuples(st.just("edit"), st.sampled_from(JSON_FILES), st.integers(0, 10**6), VALUES),
)


def _leaves(doc, path=()):
    """Every place in a JSON document (containers too, so a whole entry can be replaced)."""
    yield path
    items = (
        doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    )
    for key, value in items:
        yield from _leaves(value, (*path, key))


def apply(d: Path, dmg: tuple) -> None:
    kind, name, *args = dmg
    path = d / name
    if not path.is_file():
        return
    data = path.read_bytes()
    if kind == "truncate":
        path.write_bytes(data[: int(args[0] * len(data))])
    elif kind == "overwrite":
        at = int(args[0] * len(data))
        path.write_bytes(data[:at] + args[1] + data[at + len(args[1]) :])
    elif kind == "flip" and data:
        at = min(int(args[0] * len(data)), len(data) - 1)
        path.write_bytes(data[:at] + bytes([data[at] ^ 0x5A]) + data[at + 1 :])
    elif kind == "delete":
        path.unlink()
    elif kind in ("swap", "copy"):
        other = d / args[0]
        if other.is_file():
            if kind == "swap":
                path.write_bytes(other.read_bytes())
            other.write_bytes(data)
    elif kind == "garbage":
        path.write_text(args[0])
    elif kind == "edit":
        try:
            doc = json.loads(data)
        except ValueError:
            return
        places = list(_leaves(doc))[1:]
        if not places:
            return
        *parents, last = places[args[0] % len(places)]
        target = doc
        for key in parents:
            target = target[key]
        target[last] = args[1]
        path.write_text(json.dumps(doc))


def app() -> typer.Typer:
    a = typer.Typer()
    a.command("noop")(lambda: None)
    register(a)
    return a


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    file = root / "tiny.yaml"
    file.write_text(yaml.safe_dump(tiny_sweep_dict()))
    run_sweep(file, root / "sweep", workers=0, progress=False)
    return root / "sweep", file, load_results(root / "sweep").data


def _clean_exit(res, code: int) -> None:
    out = res.output
    assert "Traceback" not in out, out
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code == code, out


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(damages=st.lists(damage, min_size=1, max_size=3))
def test_random_damage_is_refused_or_harmless_and_resuming_repairs_it(clean, damages):
    directory, file, reference = clean
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "s"
        shutil.copytree(directory, d)
        for dmg in damages:
            apply(d, dmg)
        runner = CliRunner()
        res = runner.invoke(app(), ["sweep-results", str(d)])
        event(f"sweep-results exit status {res.exit_code}")  # --hypothesis-show-statistics
        if res.exit_code == 0:  # nothing it reads was damaged
            _clean_exit(res, 0)
            assert "6 done, 0 failed, 0 pending" in res.output, res.output
            pd.testing.assert_frame_equal(load_results(d).data, reference)
        else:
            _clean_exit(res, 2)
            assert res.output.startswith("error: ") and "impactsim sweep " in res.output
        res = runner.invoke(app(), ["sweep", str(file), "--out", str(d), "-w", "0", "-q"])
        _clean_exit(res, 0)
        event(f"resuming repaired {res.stderr.count('warning: ')} kind(s) of damage")
        pd.testing.assert_frame_equal(load_results(d).data, reference)
        res = runner.invoke(app(), ["sweep-results", str(d)])
        _clean_exit(res, 0)
        assert "6 done, 0 failed, 0 pending" in res.output, res.output
