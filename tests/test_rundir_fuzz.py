"""Fuzzing: damaged run directories never give a traceback or a silent wrong result.

One small real run directory is written per module (the library's ``package`` scenario at
300 families, 6 months, 2 replicates), with the figures and the report drawn from it.
Each example copies it, applies one to three random damages (hypothesis) and runs
``impactsim plot`` and ``impactsim report`` on the copy, in-process. The damages: cut a
file at a random byte; overwrite a random byte range; delete a file; replace a file by
another file of the run directory or the same file of another run; put a directory, or a
symbolic link (within the directory or out of it), where a file was; drop, repeat,
shuffle, perturb or blank rows of a table, drop, add, rename or retype a column, and
write the table back validly; replace run.json by random JSON, or set or delete one of
its keys; delete the checksums from run.json (a run directory of an older impactsim, whose
tables are then checked for form only).

Each command must end in one of two ways:

* exit 2, a message starting with ``error:``, no traceback and no output file; or
* exit 0 with outputs (every PNG, the HTML report without its date) identical byte for
  byte to the clean run's.

A **silent wrong result** is exit 0 with outputs that differ from the clean run's and no
warning. The one warning that permits a difference is the note that run.json records no
checksums (a run directory written before they were recorded, made here by deleting
``format`` and ``sha256`` from run.json): its numbers cannot be verified, and it says so.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import impactsim
from impactsim.cli import app
from impactsim.loading import load_scenario, parse_scenario

LIBRARY = Path(__file__).parents[1] / "scenarios"
FILES = (
    "summary.parquet",
    "timeseries.parquet",
    "scenario.resolved.yaml",
    "run.json",
    "ceac.csv",
    "summary.csv",
    "summary_stats.csv",
    "wsipp.csv",
)
TABLES = ("summary.parquet", "timeseries.parquet", "ceac.csv", "summary.csv")
NOTE = "run.json records no checksums"
#: How the examples ended (printed with -s; docs/robustness.md quotes a run).
OUTCOMES: Counter[str] = Counter()


def _write_run(out: Path, seed: int) -> Path:
    data = load_scenario(LIBRARY / "package.yaml").model_dump()
    data["population"]["size"] = 300
    data["simulation"]["months"] = 6
    with warnings.catch_warnings():  # the short horizon makes some linked outcomes void
        warnings.simplefilter("ignore")
        result = impactsim.run(
            parse_scenario(data, "package"), replicates=2, seed=seed, progress=False
        )
    result.to_dir(out)
    return out


def plot_and_report(run_dir: Path, out: Path) -> dict[str, object]:
    """Run both commands on ``run_dir``; outputs under ``out``."""
    cli = CliRunner()
    results = {
        "plot": cli.invoke(app, ["plot", str(run_dir), "--out", str(out / "figs"), "--dpi", "40"]),
        "report": cli.invoke(app, ["report", str(run_dir), "--out", str(out / "report.html")]),
    }
    return results


def outputs(out: Path) -> dict[str, dict[str, bytes]]:
    figs = {p.name: p.read_bytes() for p in sorted((out / "figs").glob("*"))}
    html = out / "report.html"
    page = re.sub(rb"\d{4}-\d{2}-\d{2}", b"DATE", html.read_bytes()) if html.exists() else b""
    return {"plot": figs, "report": {"report.html": page} if page else {}}


@dataclass
class Runs:
    """The clean run directory, another run's, and the clean run's outputs."""

    clean: Path
    other: Path
    reference: dict[str, dict[str, bytes]] = field(repr=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    root = tmp_path_factory.mktemp("fuzz")
    clean = _write_run(root / "clean", seed=1)
    other = _write_run(root / "other", seed=2)
    res = plot_and_report(clean, root / "reference")
    assert all(r.exit_code == 0 for r in res.values()), res
    reference = outputs(root / "reference")
    # package.yaml has three outcomes: nine figures and the breadth figure (issue 34)
    assert len(reference["plot"]) == 10 and reference["report"]
    return Runs(clean, other, reference)


# --------------------------------------------------------------------------- damages
Damage = Callable[[Path, Path], None]  # (run directory, another run's directory)


def _cut(name: str, where: float) -> Damage:
    def damage(d: Path, _: Path) -> None:
        data = (d / name).read_bytes()
        (d / name).write_bytes(data[: int(where * len(data))])

    return damage


def _overwrite(name: str, where: float, junk: bytes) -> Damage:
    def damage(d: Path, _: Path) -> None:
        data = bytearray((d / name).read_bytes())
        at = int(where * len(data))
        data[at : at + len(junk)] = junk
        (d / name).write_bytes(bytes(data))

    return damage


def _delete(name: str) -> Damage:
    return lambda d, _: (d / name).unlink()


def _replace(name: str, by: str, from_other: bool) -> Damage:
    def damage(d: Path, other: Path) -> None:
        shutil.copy((other if from_other else d) / by, d / f".{name}.new")
        os.replace(d / f".{name}.new", d / name)

    return damage


def _directory(name: str) -> Damage:
    def damage(d: Path, _: Path) -> None:
        (d / name).unlink()
        (d / name).mkdir()

    return damage


def _link(name: str, to: str, outside: bool) -> Damage:
    def damage(d: Path, other: Path) -> None:
        (d / name).unlink()
        (d / name).symlink_to(other / to if outside else Path(to))

    return damage


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def _write(path: Path, table: pd.DataFrame) -> None:
    if path.suffix == ".parquet":
        table.to_parquet(path, index=False)
    else:
        table.to_csv(path, index=False)


def _edit_table(name: str, how: str, seed: int) -> Damage:
    def damage(d: Path, _: Path) -> None:
        path = d / name
        try:
            table = _read(path)
        except Exception:  # an earlier damage made it unreadable: nothing to edit
            return
        rng = np.random.default_rng(seed)
        rows = rng.choice(len(table), size=min(len(table), 1 + seed % 5), replace=False)
        col = table.columns[seed % len(table.columns)] if len(table.columns) else None
        numeric = [c for c in table.columns if pd.api.types.is_float_dtype(table[c])]
        if how == "drop rows":
            table = table.drop(table.index[rows])
        elif how == "repeat rows":
            table = pd.concat([table, table.iloc[rows]])
        elif how == "shuffle rows":
            table = table.iloc[rng.permutation(len(table))]
        elif how in ("perturb numbers", "blank numbers") and numeric:
            c = numeric[seed % len(numeric)]
            factor = np.nan if how == "blank numbers" else 1 + rng.uniform(-0.5, 0.5)
            table.loc[table.index[rows], c] = table[c].iloc[rows] * factor
        elif how == "drop a column" and col is not None:
            table = table.drop(columns=col)
        elif how == "add a column":
            table = table.assign(note="x")
        elif how == "rename a column" and col is not None:
            table = table.rename(columns={col: f"{col}_old"})
        elif how == "column as text" and col is not None:
            table[col] = table[col].astype(str)
        elif how == "column as numbers" and col is not None:
            table[col] = pd.factorize(table[col])[0].astype(np.float64)
        _write(path, table)

    return damage


def _json(text: str) -> Damage:
    return lambda d, _: (d / "run.json").write_text(text)


def _info_key(key: str, value: object, delete: bool) -> Damage:
    def damage(d: Path, _: Path) -> None:
        try:
            info = json.loads((d / "run.json").read_text())
        except (OSError, ValueError):
            return
        if not isinstance(info, dict):
            return
        if delete:
            info.pop(key, None)
        else:
            info[key] = value
        (d / "run.json").write_text(json.dumps(info))

    return damage


def _strip_checksums(d: Path, _: Path) -> None:
    """Make the copy a run directory as written before run.json recorded checksums."""
    _info_key("format", None, delete=True)(d, _)
    _info_key("sha256", None, delete=True)(d, _)


FILE = st.sampled_from(FILES)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
INFO_KEYS = st.sampled_from(
    [
        "format",
        "sha256",
        "impactsim_version",
        "scenario",
        "seed",
        "replicates",
        "months",
        "population_size",
        "timings_s",
        "versions",
    ]
)
FRACTION = st.floats(0.0, 1.0)
DAMAGES = st.one_of(
    st.builds(_cut, FILE, FRACTION),
    st.builds(_overwrite, FILE, FRACTION, st.binary(min_size=1, max_size=64)),
    st.builds(_delete, FILE),
    st.builds(_replace, FILE, FILE, st.booleans()),
    st.builds(_directory, FILE),
    st.builds(_link, FILE, FILE, st.booleans()),
    st.builds(
        _edit_table,
        st.sampled_from(TABLES),
        st.sampled_from(
            [
                "drop rows",
                "repeat rows",
                "shuffle rows",
                "perturb numbers",
                "blank numbers",
                "drop a column",
                "add a column",
                "rename a column",
                "column as text",
                "column as numbers",
            ]
        ),
        st.integers(0, 2**16),
    ),
    st.builds(_json, JSON.map(json.dumps) | st.text(max_size=40)),
    st.builds(_info_key, INFO_KEYS, JSON, st.booleans()),
    st.just(_strip_checksums),
)


# --------------------------------------------------------------------------- the test
def judge(name: str, result, got: dict[str, bytes], reference: dict[str, bytes]) -> str:
    """How one command ended: ``refused``, ``same`` or ``unverified``; else fail."""
    text = result.output
    assert "Traceback" not in text, text
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{name}: {result.exception!r}\n{text}"
    )
    if result.exit_code == 2:
        assert text.startswith(("error:", "note:")) and "error: " in text, text
        assert not got, f"{name} refused the run directory but wrote {sorted(got)}"
        return "refused"
    assert result.exit_code == 0, f"{name}: exit {result.exit_code}\n{text}"
    if got == reference:
        return "same"
    # the only exit 0 with other outputs allowed: a run directory without checksums,
    # which the command says it cannot verify
    assert NOTE in text, f"{name}: exit 0 with outputs that differ from the clean run's\n{text}"
    return "unverified"


@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(damages=st.lists(DAMAGES, min_size=1, max_size=3))
def test_damaged_run_directories_are_refused_or_read_exactly(runs, damages):
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "run"
        shutil.copytree(runs.clean, d)
        for damage in damages:
            if os.path.lexists(d):
                try:
                    damage(d, runs.other)
                except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                    pass  # an earlier damage removed or replaced the file
        results = plot_and_report(d, Path(tmp))
        got = outputs(Path(tmp))
        for name, result in results.items():
            OUTCOMES[f"{name} {judge(name, result, got[name], runs.reference[name])}"] += 1


def test_the_fuzzing_reached_both_outcomes():
    # runs after the fuzz test (file order): both refusals and exact reads happened
    print(dict(OUTCOMES))
    if not OUTCOMES:
        pytest.skip("run with the fuzz test")
    assert OUTCOMES["plot refused"] and OUTCOMES["plot same"], OUTCOMES
    assert OUTCOMES["report refused"] and OUTCOMES["report same"], OUTCOMES
