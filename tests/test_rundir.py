"""Damaged run directories: each damage is refused by name (exit 2), never a traceback.

One small real run directory is written once (the library's ``package`` scenario at 300
families, 6 months, 2 replicates); each test copies it, damages one file and runs
``impactsim plot`` on it in-process. Every damage here used to end in a traceback or in
figures drawn silently from the damaged numbers.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import impactsim
from impactsim.cli import app
from impactsim.loading import load_scenario, parse_scenario
from impactsim.rundir import RunDirError, load_run_dir

LIBRARY = Path(__file__).parents[1] / "scenarios"


def tiny(path: Path, size: int = 300, months: int = 6):
    """A library scenario made small: ``size`` families, ``months`` months."""
    data = load_scenario(path).model_dump()
    data["population"]["size"] = size
    data["simulation"]["months"] = months
    return parse_scenario(data, str(path))


def write_run(out: Path, scenario, replicates: int = 2, seed: int = 1, **kw) -> Path:
    with warnings.catch_warnings():  # the tiny horizon makes some linked outcomes void
        warnings.simplefilter("ignore")
        result = impactsim.run(scenario, replicates=replicates, seed=seed, progress=False, **kw)
    result.to_dir(out)
    return out


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    return write_run(tmp_path_factory.mktemp("clean") / "run", tiny(LIBRARY / "package.yaml"))


def _table(d: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(d / f"{name}.parquet")


def _put(d: Path, name: str, table: pd.DataFrame) -> None:
    table.to_parquet(d / f"{name}.parquet", index=False)


def _edit(name: str, change: Callable[[pd.DataFrame], pd.DataFrame | None]):
    def damage(d: Path) -> None:
        table = _table(d, name)
        out = change(table)
        _put(d, name, table if out is None else out)

    return damage


def _info(change: Callable[[dict], None]):
    def damage(d: Path) -> None:
        info = json.loads((d / "run.json").read_text())
        change(info)
        (d / "run.json").write_text(json.dumps(info))

    return damage


def _set(table: pd.DataFrame, metric: str, column: str, value) -> None:
    table.loc[table["metric"] == metric, column] = value


def _ceac(d: Path) -> None:
    table = pd.read_csv(d / "ceac.csv")
    table.loc[3, "p_cost_effective"] = 0.5
    table.to_csv(d / "ceac.csv", index=False)


def _outside_link(d: Path) -> None:
    outside = d.parent / "elsewhere.parquet"
    shutil.copy(d / "summary.parquet", outside)
    (d / "summary.parquet").unlink()
    (d / "summary.parquet").symlink_to(outside)


def _replace_by_dir(name: str):
    def damage(d: Path) -> None:
        (d / name).unlink()
        (d / name).mkdir()

    return damage


def _fifo(d: Path) -> None:
    (d / "run.json").unlink()
    os.mkfifo(d / "run.json")


DAMAGES = {
    # damage: (what it does, a fragment of the message)
    "run.json nested 100,000 deep": (
        lambda d: (d / "run.json").write_text("[" * 100_000 + "]" * 100_000),
        "run.json: unreadable",
    ),
    "run.json with NaN": (
        lambda d: (d / "run.json").write_text('{"seed": NaN}'),
        "run.json: unreadable (NaN is not a JSON value)",
    ),
    "run.json seed as text": (
        _info(lambda i: i.update(seed="one")),
        "run.json: seed should be a whole number from 0 (got 'one')",
    ),
    "run.json without replicates": (
        _info(lambda i: i.pop("replicates")),
        "run.json: replicates should be a whole number from 1 (missing)",
    ),
    "run.json of another scenario": (
        _info(lambda i: i.update(scenario="free-market")),
        "run.json: scenario is 'free-market' but scenario.resolved.yaml says 'package'",
    ),
    "run.json a named pipe": (_fifo, "run.json: is not a regular file (a pipe or device)"),
    "summary with gaps in a label column": (
        _edit(
            "summary",
            lambda t: t.assign(segment=t["segment"].astype(object).where(t.index % 3 > 0)),
        ),
        "summary.parquet: column segment should hold text labels without gaps",
    ),
    "summary values true/false": (
        _edit("summary", lambda t: t.assign(value=t["value"] > 0)),
        "summary.parquet: column value should hold numbers, not bool",
    ),
    "summary rows repeated": (
        _edit("summary", lambda t: pd.concat([t, t[t["metric"] == "public_impact_pp"]])),
        "repeats an earlier row; each row is written once",
    ),
    "summary rows of one replicate lost": (
        _edit(
            "summary", lambda t: t[~((t["metric"] == "public_impact_pp") & (t["replicate"] == 1))]
        ),
        "the rows of metric public_impact_pp are there for 1 of the 2 replicates",
    ),
    "summary of another scenario": (
        _edit("summary", lambda t: t.assign(scenario="civil-society")),
        "summary.parquet: column scenario holds civil-society, which scenario.resolved.yaml",
    ),
    "summary of a third replicate": (
        _edit("summary", lambda t: pd.concat([t, t[t["replicate"] == 1].assign(replicate=2)])),
        "summary.parquet: holds 3 replicate(s) (0 to 2), but the run had 2",
    ),
    "summary negative enrolments": (
        _edit("summary", lambda t: _set(t, "enrolments", "value", -3.0)),
        "value -3 should be a count or amount of 0 or more",
    ),
    "summary reach above 1": (
        _edit("summary", lambda t: _set(t, "reach_cumulative", "value", 1.7)),
        "(replicate 0, metric reach_cumulative): value 1.7 should be a share from 0 to 1",
    ),
    "summary infinite cost": (
        _edit("summary", lambda t: _set(t, "cost_pv", "value", np.inf)),
        "value should be a finite number (or NaN), not inf",
    ),
    "summary replaced by the time series": (
        lambda d: shutil.copy(d / "timeseries.parquet", d / "summary.parquet"),
        "summary.parquet: not the summary table impactsim writes; unexpected columns month",
    ),
    "summary a directory": (
        _replace_by_dir("summary.parquet"),
        "summary.parquet: is a directory, expected the file impactsim writes",
    ),
    "summary a link out of the run directory": (
        _outside_link,
        "summary.parquet: is a symbolic link to",
    ),
    "time series past the horizon": (
        _edit("timeseries", lambda t: t.assign(month=t["month"].replace(6, 9))),
        "timeseries.parquet: holds month(s) 9 past the run's months 0 to 6",
    ),
    "time series months as fractions": (
        _edit("timeseries", lambda t: t.assign(month=t["month"] / 2)),
        "timeseries.parquet: column month should hold whole numbers, not float64",
    ),
    "time series of other replicates": (
        _edit("timeseries", lambda t: t.assign(replicate=t["replicate"] + 5)),
        "timeseries.parquet: holds replicates 5, 6, summary.parquet 0, 1",
    ),
    "ceac.csv a number changed": (
        _ceac,
        "ceac.csv: row 4: p_cost_effective is 0.5, but the run's summary gives 0.0",
    ),
    "ceac.csv a directory": (_replace_by_dir("ceac.csv"), "ceac.csv: is a directory"),
    "scenario of another horizon": (
        lambda d: (d / "scenario.resolved.yaml").write_text(
            (d / "scenario.resolved.yaml").read_text().replace("months: 6", "months: 5")
        ),
        "run.json: months is 6 but scenario.resolved.yaml says 5",
    ),
}


def copy_run(clean: Path, to: Path) -> Path:
    shutil.copytree(clean, to, ignore=shutil.ignore_patterns("figures"))
    return to


def without_checksums(d: Path) -> Path:
    """Make ``d`` a run directory as written before run.json recorded checksums."""
    info = json.loads((d / "run.json").read_text())
    del info["format"], info["sha256"]
    (d / "run.json").write_text(json.dumps(info, indent=2))
    return d


def plot(d: Path, *args: str):
    return CliRunner().invoke(app, ["plot", str(d), *args])


@pytest.mark.parametrize("name", list(DAMAGES))
def test_plot_refuses_a_damaged_run_directory_by_name(clean, tmp_path, name):
    # without checksums (an older run directory), so that the checks of form are reached
    damage, says = DAMAGES[name]
    d = without_checksums(copy_run(clean, tmp_path / "run"))
    damage(d)
    res = plot(d)
    assert res.exit_code == 2, res.output
    assert says in res.output, res.output
    assert "rerun `impactsim run`" in res.output or "is a symbolic link" in res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert not (d / "figures").exists()
    with pytest.raises(RunDirError):
        load_run_dir(d).ceac()


def test_a_link_inside_the_run_directory_is_read(clean, tmp_path):
    d = copy_run(clean, tmp_path / "run")
    (d / "tables").mkdir()
    (d / "summary.parquet").rename(d / "tables" / "summary.parquet")
    (d / "summary.parquet").symlink_to(Path("tables") / "summary.parquet")
    pd.testing.assert_frame_equal(load_run_dir(d).summary, load_run_dir(clean).summary)


@pytest.mark.parametrize("path", sorted(LIBRARY.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_run_directories_of_every_library_scenario_pass_the_checks(tmp_path, path):
    # 60 families and a late start make empty segments and undefined shares (NaN); replicates
    # 3 to 5 are numbered from 3 (a run split with first_replicate)
    d = write_run(tmp_path / "run", tiny(path, size=60, months=30), replicates=3, first_replicate=3)
    run = load_run_dir(d)
    assert sorted(run.summary["replicate"].unique()) == [3, 4, 5]
    run.ceac()


@pytest.mark.parametrize("name", list(DAMAGES))
def test_with_checksums_every_damage_is_refused_too(clean, tmp_path, name):
    d = copy_run(clean, tmp_path / "run")
    DAMAGES[name][0](d)
    res = plot(d)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and not (d / "figures").exists()


def _perturb(d: Path) -> None:
    table = _table(d, "summary")
    table.loc[table["metric"] == "public_impact_pp", "value"] *= 1.5
    _put(d, "summary", table)


def _crlf(d: Path) -> None:
    for name in ("ceac.csv", "scenario.resolved.yaml", "run.json"):
        text = (d / name).read_bytes()
        (d / name).write_bytes(text.replace(b"\n", b"\r\n"))


CHANGES = {
    "a number in the summary, the table otherwise valid": (
        _perturb,
        "summary.parquet: changed after impactsim wrote it",
    ),
    "the scenario's description edited": (
        lambda d: (d / "scenario.resolved.yaml").write_text(
            (d / "scenario.resolved.yaml")
            .read_text()
            .replace("name: package", "name: package\n# edited")
        ),
        "scenario.resolved.yaml: changed after impactsim wrote it",
    ),
    "ceac.csv written again with other rounding": (
        lambda d: pd.read_csv(d / "ceac.csv").round(2).to_csv(d / "ceac.csv", index=False),
        "ceac.csv: changed after impactsim wrote it",
    ),
    "the time series of another run": (
        lambda d: shutil.copy(d.parent / "other" / "timeseries.parquet", d / "timeseries.parquet"),
        "timeseries.parquet: changed after impactsim wrote it",
    ),
    "no checksum for the summary": (
        _info(lambda i: i["sha256"].pop("summary.parquet")),
        "summary.parquet: run.json records no checksum for it",
    ),
    "a format from the future": (
        _info(lambda i: i.update(format=2)),
        "run.json: written in run directory format 2 by a newer impactsim",
    ),
    "a format as text": (
        _info(lambda i: i.update(format="1")),
        "run.json: format should be a whole number from 1 (got '1')",
    ),
    "checksums removed, the format kept": (
        _info(lambda i: i.pop("sha256")),
        "run.json: sha256 should map each file",
    ),
}


@pytest.fixture(scope="module")
def other(clean) -> Path:
    """A run of another seed, next to ``clean``'s copies."""
    return write_run(clean.parent / "other", tiny(LIBRARY / "package.yaml"), seed=2)


@pytest.mark.parametrize("name", list(CHANGES))
def test_a_file_changed_after_the_run_is_refused(clean, other, tmp_path, name):
    damage, says = CHANGES[name]
    d = copy_run(clean, tmp_path / "run")
    shutil.copytree(other, tmp_path / "other")
    damage(d)
    res = plot(d)
    assert res.exit_code == 2, res.output
    assert says in res.output, res.output
    assert "Traceback" not in res.output and not (d / "figures").exists()


def test_checksums_read_text_files_with_crlf_line_ends_as_written(clean, tmp_path):
    d = copy_run(clean, tmp_path / "run")
    _crlf(d)
    run = load_run_dir(d)
    assert run.notes == []
    pd.testing.assert_frame_equal(run.ceac(), load_run_dir(clean).ceac())


def figures(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.glob("*.png"))}


def test_a_run_directory_without_checksums_is_read_with_a_note(clean, tmp_path):
    d = without_checksums(copy_run(clean, tmp_path / "run"))
    res = plot(d, "--out", str(tmp_path / "old"))
    assert res.exit_code == 0, res.output
    assert "note: " in res.output and "run.json records no checksums" in res.output
    assert plot(clean, "--out", str(tmp_path / "new")).exit_code == 0
    assert figures(tmp_path / "old") == figures(tmp_path / "new")
    # package.yaml has three outcomes: the breadth figure too (issue 34)
    assert len(figures(tmp_path / "new")) == 10


def test_run_json_records_the_format_and_every_file_checksum(clean):
    from impactsim.runfiles import RUN_FORMAT, file_digest

    info = json.loads((clean / "run.json").read_text())
    assert info["format"] == RUN_FORMAT
    files = sorted(p.name for p in clean.iterdir() if p.name != "run.json" and p.is_file())
    assert sorted(info["sha256"]) == files
    assert all(info["sha256"][n] == file_digest(clean / n) for n in files)


@pytest.mark.parametrize(
    ("where", "says"),
    [
        ("figures is a file", "figures: is a file, not a folder for the figures"),
        ("a figure's name is a folder", "error: cannot write the figures: [Errno 21]"),
        ("--out is a file", "out.png: is a file, not a folder for the figures"),
    ],
)
def test_plot_refuses_a_folder_it_cannot_write_figures_to(clean, tmp_path, where, says):
    # the first two ended in a traceback (FileExistsError, IsADirectoryError)
    d = copy_run(clean, tmp_path / "run")
    args: list[str] = []
    if where == "figures is a file":
        (d / "figures").write_text("notes")
    elif where == "a figure's name is a folder":
        (d / "figures" / "ceac.png").mkdir(parents=True)
    else:
        (tmp_path / "out.png").write_text("x")
        args = ["--out", str(tmp_path / "out.png")]
    res = plot(d, *args)
    assert res.exit_code == 2, res.output
    assert says in res.output and "Traceback" not in res.output


def test_a_refused_ceac_file_leaves_no_figure_open(clean, tmp_path):
    import matplotlib.pyplot as plt

    d = copy_run(clean, tmp_path / "run")
    _ceac(d)
    before = plt.get_fignums()
    assert plot(d).exit_code == 2
    assert plt.get_fignums() == before


# --------------------------------------------------------------------------- report
def report(*args: str):
    return CliRunner().invoke(app, ["report", *args])


def test_report_reads_a_run_directory_without_simulating_again(clean, tmp_path):
    from impactsim.report import headline_table

    res = report(str(clean), "--out", str(tmp_path / "r.html"))
    assert res.exit_code == 0, res.output
    page = (tmp_path / "r.html").read_text()
    assert "impactsim report: package" in page and "300 families, 6 months, 2 replicates" in page
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = impactsim.run(tiny(LIBRARY / "package.yaml"), replicates=2, seed=1, progress=False)
    run = load_run_dir(clean)
    assert headline_table({"package": run}) == headline_table({"package": again})


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("compare")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = impactsim.compare(
            [tiny(LIBRARY / "free-market.yaml"), tiny(LIBRARY / "package.yaml")],
            replicates=3,
            progress=False,
        )
    cmp.to_dir(out)
    cmp.comparison.to_csv(out / "expected.csv", index=False)
    return out


def test_report_compares_the_run_directories_compare_wrote(compared, tmp_path):
    from impactsim.compare import compare_runs

    runs = [compared / "runs" / "free-market", compared / "runs" / "package"]
    res = report(*map(str, runs), "--out", str(tmp_path / "r.html"))
    assert res.exit_code == 0, res.output
    assert "Difference from the baseline (" in (tmp_path / "r.html").read_text()
    read = {r.scenario.name: r for r in map(load_run_dir, runs)}
    pd.testing.assert_frame_equal(
        compare_runs(read).comparison, pd.read_csv(compared / "expected.csv"), check_dtype=False
    )


@pytest.mark.parametrize(
    ("inputs", "says"),
    [
        ("unpaired", "runs 'free-market' and 'package' are not paired (seed"),
        ("mixed", "give scenario files or run directories, not both"),
        ("replicates", "--replicates and --seed apply to scenario files"),
        ("damaged", "ceac.csv: changed after impactsim wrote it"),
        ("out is a folder", "error: cannot write the report: [Errno 21]"),
    ],
)
def test_report_refuses_run_directories_it_cannot_use(compared, other, tmp_path, inputs, says):
    free = str(compared / "runs" / "free-market")
    args = {
        "unpaired": [free, str(other)],
        "mixed": [free, str(LIBRARY / "package.yaml")],
        "replicates": [free, "-r", "4"],
        "damaged": [str(tmp_path / "run")],
        "out is a folder": [free],
    }[inputs]
    _ceac(copy_run(compared / "runs" / "package", tmp_path / "run"))
    out = tmp_path if inputs == "out is a folder" else tmp_path / "r.html"
    res = report(*args, "--out", str(out))
    assert res.exit_code == 2, res.output
    assert says in res.output, res.output
    assert "Traceback" not in res.output and not (tmp_path / "r.html").exists()


def test_a_link_in_a_loop_is_refused(clean, tmp_path):
    # found by tests/test_rundir_fuzz.py: summary.parquet -> summary.parquet was a
    # RuntimeError ("Symlink loop") from Path.resolve
    d = copy_run(clean, tmp_path / "run")
    (d / "summary.parquet").unlink()
    (d / "summary.parquet").symlink_to("summary.parquet")
    res = plot(d)
    assert res.exit_code == 2, res.output
    assert "summary.parquet: is a symbolic link that leads in a loop" in res.output
