"""Sweeps of a scenario with neighbourhoods keep each neighbourhood's rows when asked.

A sweep of 2 points x 2 replicates of a scenario of 1,000 families in three neighbourhoods
over 12 months (the three places of tests/test_neighbourhoods.py's ``scenario()``), with
``outputs.breakdowns: [neighbourhood]`` and a seed per point
(``common_random_numbers: false``, :func:`impactsim.sweep.sampling.point_seed`): each
neighbourhood's rows are exactly those of ``impactsim.run`` at the point's values and
seed. Without ``neighbourhood`` in the breakdowns only the municipality's rows are kept;
the integrity check refuses neighbourhood rows the sweep does not keep, and a sweep
directory of format 1 (before the column) is refused with the remedy.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import typer
import yaml
from typer.testing import CliRunner

import impactsim
from helpers import base_dict, build, three_places_dict
from impactsim.loading import ScenarioError
from impactsim.sweep import SweepError, SweepFormatError, load_results, parse_sweep, run_sweep
from impactsim.sweep.cli import register
from impactsim.sweep.integrity import expectations
from impactsim.sweep.sampling import point_seed
from impactsim.sweep.schema import fingerprint_of
from impactsim.sweep.store import SweepDir
from impactsim.sweep.taskfile import Block, Expect, encode
from impactsim.tables import BREAKDOWN_COLUMNS

PLACES = ["north", "centre", "south"]
EFFECTS = [0.2, 0.5]
METRICS = ["public_impact_pp", "reach_cumulative", "neighbourhood_impact_gap_pp"]
SEED = 11


def scenario() -> dict:
    """1,000 families, two segments (low, high) in three neighbourhoods, 12 months."""
    return three_places_dict(1000, months=12)


def sweep_dict(breakdowns: list[str] | str = "none", base: dict | None = None) -> dict:
    return {
        "name": "nbh",
        "base": scenario() if base is None else base,
        "parameters": [
            {"path": "interventions.prog.effect_size.mean", "name": "effect", "values": EFFECTS}
        ],
        "sampler": {"method": "grid"},
        "replicates": 2,
        "replicates_per_task": 2,
        "seed": SEED,
        "common_random_numbers": False,
        "outputs": {"metrics": METRICS, "breakdowns": breakdowns},
    }


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("nbh") / "by-place"
    report = run_sweep(parse_sweep(sweep_dict(["neighbourhood"])), out, workers=0, progress=False)
    assert (report.points, report.tasks, report.done, report.failed) == (2, 2, 2, 0)
    return out


@pytest.fixture(scope="module")
def totals(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("nbh") / "totals"
    report = run_sweep(parse_sweep(sweep_dict()), out, workers=0, progress=False)
    assert report.done == 2
    return out


def direct_rows(point: int) -> pd.DataFrame:
    """The kept rows of ``impactsim.run`` at a point's values and seed."""
    d = scenario()
    d["interventions"][0]["effect_size"]["mean"] = EFFECTS[point]
    seed = point_seed(SEED, point, common=False)
    summary = impactsim.run(build(d), replicates=2, seed=seed, progress=False).summary
    totals = (summary[list(BREAKDOWN_COLUMNS)] == "all").all(axis=1)
    rows = summary[totals & summary["metric"].isin(METRICS)]
    return rows.astype({"neighbourhood": str, "metric": str})


def test_each_neighbourhood_has_the_rows_of_the_direct_run(swept):
    res = load_results(swept)
    data = res.data
    assert list(data.columns) == [
        "point",
        "effect",
        "replicate",
        "metric",
        *BREAKDOWN_COLUMNS,
        "neighbourhood",
        "value",
    ]
    assert set(data["neighbourhood"].astype(str)) == {"all", *PLACES}
    for point in (0, 1):
        want = direct_rows(point)
        got = data[data["point"] == point].astype({"neighbourhood": str, "metric": str})
        assert (got["effect"] == EFFECTS[point]).all()
        for place in ["all", *PLACES]:
            w = want[want["neighbourhood"] == place].sort_values(["metric", "replicate"])
            g = got[got["neighbourhood"] == place].sort_values(["metric", "replicate"])
            # the between-neighbourhood gap is a municipality row only
            assert sorted(set(g["metric"])) == sorted(METRICS if place == "all" else METRICS[:2])
            assert g["replicate"].tolist() == w["replicate"].tolist()
            assert g["value"].tolist() == w["value"].tolist()  # exactly the same numbers
        # the neighbourhoods differ (south: most 'low' families), so the rows are their own
        south = got[(got["neighbourhood"] == "south") & (got["metric"] == "public_impact_pp")]
        north = got[(got["neighbourhood"] == "north") & (got["metric"] == "public_impact_pp")]
        assert south["value"].tolist() != north["value"].tolist()


def test_outcome_by_neighbourhood_is_the_mean_of_its_rows(swept):
    res = load_results(swept)
    for place in PLACES:
        out = res.outcome("reach_cumulative", neighbourhood=place)
        assert out["point"].tolist() == [0, 1] and out["n"].tolist() == [2, 2]
        for point in (0, 1):
            w = direct_rows(point)
            rows = w[(w["neighbourhood"] == place) & (w["metric"] == "reach_cumulative")]
            assert len(rows) == 2
            assert out.loc[point, "mean"] == pytest.approx(rows["value"].mean(), rel=1e-12)
    # default: the municipality
    total = res.outcome("reach_cumulative")
    by_all = res.outcome("reach_cumulative", neighbourhood="all")
    pd.testing.assert_frame_equal(total, by_all)
    with pytest.raises(ValueError, match=r"'west' is not in .*present: centre, north, south"):
        res.outcome("reach_cumulative", neighbourhood="west")


def test_sensitivity_and_summary_use_the_totals(swept, tmp_path):
    res = load_results(swept)
    app = typer.Typer()
    register(app)
    out = CliRunner().invoke(app, ["sweep-results", str(swept), "--out", str(tmp_path / "r.csv")])
    assert out.exit_code == 0, out.output
    table = pd.read_csv(tmp_path / "r.csv")
    assert len(table) == len(res.data) and "neighbourhood" in table.columns
    # the CLI's means are those of the totals only
    total = res.outcome("public_impact_pp")["mean"].mean()
    assert f"{total:.4g}" in out.output


def test_without_the_breakdown_only_the_municipality_is_kept(totals, swept):
    data = load_results(totals).data
    assert set(data["neighbourhood"].astype(str)) == {"all"}
    assert len(data) == 2 * 2 * len(METRICS)
    full = load_results(swept).data
    full = full[full["neighbourhood"] == "all"].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        data.astype({"neighbourhood": str}), full.astype({"neighbourhood": str})
    )
    with pytest.raises(ValueError, match=r"present: none .*breakdowns: \[neighbourhood\]"):
        load_results(totals).outcome("reach_cumulative", neighbourhood="south")


def test_a_scenario_without_neighbourhoods_has_the_column_all(tmp_path):
    d = sweep_dict(["neighbourhood"], base=base_dict(size=200, months=3))
    d["outputs"]["metrics"] = METRICS[:2]
    run_sweep(parse_sweep(d), tmp_path / "s", workers=0, progress=False)
    data = load_results(tmp_path / "s").data
    assert set(data["neighbourhood"].astype(str)) == {"all"} and len(data) == 2 * 2 * 2


def test_integrity_refuses_neighbourhood_rows_the_sweep_does_not_keep(totals, swept, tmp_path):
    d = tmp_path / "s"
    shutil.copytree(totals, d)
    store = SweepDir(d)
    info = store.read_info()
    expect = expectations(store, info)
    task = "p000000-r000000-000001"
    # the rows of point 0 with the neighbourhoods, written with a record of this sweep
    rows = pq.read_table(swept / "tasks" / f"{task}.parquet").to_pandas()
    lax = Expect(expect.fingerprint, expect.metrics, ("neighbourhood",), expect.point_values)
    (d / "tasks" / f"{task}.parquet").write_bytes(encode(rows, Block(task, 0, 0, 2), lax))
    with pytest.raises(SweepError, match="has 'neighbourhood' breakdown rows, which the sweep"):
        load_results(d)
    # resuming moves the file aside and computes the task again: the clean table
    report = run_sweep(parse_sweep(sweep_dict()), d, workers=0, progress=False)
    assert report.ran == 1 and "neighbourhood" in " ".join(report.repairs)
    pd.testing.assert_frame_equal(load_results(d).data, load_results(totals).data)


def as_format_1(d: Path) -> None:
    """Make a sweep directory look as impactsim wrote it before the neighbourhood column."""
    doc = json.loads((d / "sweep.json").read_text())
    doc["format"] = doc["definition"]["format"] = 1
    doc["fingerprint"] = fingerprint_of(doc["definition"])
    (d / "sweep.json").write_text(json.dumps(doc))
    for f in (d / "tasks").glob("*.parquet"):
        table = pq.read_table(f)
        pq.write_table(table.drop_columns(["neighbourhood"]), f)


def test_a_sweep_directory_of_format_1_is_refused_with_the_remedy(tmp_path):
    file, d = tmp_path / "nbh.yaml", tmp_path / "old"
    file.write_text(yaml.safe_dump(sweep_dict()))
    run_sweep(file, d, workers=0, progress=False)
    as_format_1(d)
    before = {p.relative_to(d): p.read_bytes() for p in d.rglob("*") if p.is_file()}
    with pytest.raises(SweepFormatError) as err:
        load_results(d)
    msg = str(err.value)
    assert "holds a sweep of format 1" in msg and "sweep format 2 only" in msg
    assert "'neighbourhood' column" in msg and "nothing was changed" in msg
    assert f"impactsim sweep {file} --out NEW_DIR" in msg
    # resuming is refused the same way, and nothing is moved or rewritten
    with pytest.raises(SweepFormatError, match="holds a sweep of format 1"):
        run_sweep(file, d, workers=0, progress=False)
    assert {p.relative_to(d): p.read_bytes() for p in d.rglob("*") if p.is_file()} == before
    # without the sweep file, the message names the directory's copy of it
    file.unlink()
    with pytest.raises(SweepFormatError) as err:
        load_results(d)
    assert "impactsim sweep SWEEP.yaml --out NEW_DIR" in str(err.value)
    assert f"a copy of it is {d / 'sweep.yaml'}" in str(err.value)
    # the CLI says so without a traceback (exit status 2)
    app = typer.Typer()
    register(app)
    out = CliRunner().invoke(app, ["sweep-results", str(d)])
    assert out.exit_code == 2 and "format 1" in out.output and "Traceback" not in out.output


def test_breakdowns_all_keeps_each_neighbourhood_by_segment(tmp_path):
    d = sweep_dict("all")
    d["outputs"]["metrics"] = ["public_impact_pp"]
    run_sweep(parse_sweep(d), tmp_path / "s", workers=0, progress=False)
    res = load_results(tmp_path / "s")
    pairs = set(zip(res.data["neighbourhood"], res.data["segment"], strict=True))
    assert pairs == {(h, s) for h in ["all", *PLACES] for s in ("all", "low", "high")}
    low_south = res.outcome("public_impact_pp", neighbourhood="south", segment="low")
    assert low_south["n"].tolist() == [2, 2]


def test_an_unknown_breakdown_column_names_the_allowed_ones():
    with pytest.raises(ScenarioError) as info:
        parse_sweep(sweep_dict(["segment", "neighbourhod"]), "sweep.yaml")
    (p,) = info.value.problems
    assert (p.file, p.path) == ("sweep.yaml", "outputs.breakdowns")
    assert p.message == (
        "unknown breakdown column 'neighbourhod'; did you mean 'neighbourhood'? Allowed: "
        "segment, intervention, channel, adopter_category, outcome, neighbourhood"
    )


def test_sweep_analyze_by_neighbourhood(tmp_path):
    """``sweep-analyze --neighbourhood south``: the tornado of the south's own rows.

    Expected: the table's outputs are ``outcome(..., neighbourhood="south")``'s per-point
    means (tornado_table reads them), written to ``tornado_<metric>_south.csv``; a
    neighbourhood the sweep does not have is refused with exit 2 and the names present.
    """
    d = sweep_dict(["neighbourhood"])
    d["sampler"] = {"method": "one_way"}
    d["parameters"] = [
        {"path": "interventions.prog.effect_size.mean", "name": "effect", "range": [0.1, 0.6]}
    ]
    out = tmp_path / "tornado"
    run_sweep(parse_sweep(d), out, workers=0, progress=False)
    app = typer.Typer()
    register(app)
    args = ["sweep-analyze", str(out), "-m", "public_impact_pp", "--no-plots"]
    res = CliRunner().invoke(app, [*args, "--neighbourhood", "south"])
    assert res.exit_code == 0, res.output
    assert "tornado: public_impact_pp (neighbourhood south)" in res.output
    table = pd.read_csv(out / "analysis" / "tornado_public_impact_pp_south.csv")
    means = load_results(out).outcome("public_impact_pp", neighbourhood="south")["mean"]
    row = table.iloc[0]
    assert (row["low_value"], row["high_value"]) == (0.1, 0.6)
    got = [row["base_output"], row["low_output"], row["high_output"]]
    assert got == pytest.approx(means.tolist(), rel=1e-12)  # points: base, low, high
    assert means.tolist() != load_results(out).outcome("public_impact_pp")["mean"].tolist()
    bad = CliRunner().invoke(app, [*args, "--neighbourhood", "west"])
    assert bad.exit_code == 2 and "centre, north, south" in bad.output
