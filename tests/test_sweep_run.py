"""Running sweeps: results, failed points, resume, process pool, CLI, sensitivity, plots."""

import copy
import json
import os
import shutil
import signal
from pathlib import Path

import numba
import pandas as pd
import psutil
import pytest
import typer
import yaml
from matplotlib.figure import Figure
from typer.testing import CliRunner

import impactsim
from helpers import base_dict, build
from impactsim.sweep import (
    SweepError,
    analyze,
    load_results,
    morris_indices,
    parse_sweep,
    run_sweep,
    sobol_indices,
    tornado_table,
)
from impactsim.sweep.cli import register
from impactsim.sweep.plots import plot_morris, plot_sobol, plot_tornado
from impactsim.sweep.sensitivity import SensitivityError

METRICS = ["public_impact_pp", "reach_cumulative"]


def sweep_dict(size: int = 400, months: int = 6, **over) -> dict:
    d = {
        "name": "run-test",
        "base": base_dict(size=size, months=months),
        "parameters": [
            {"path": "interventions.prog.effect_size.mean", "name": "effect", "values": [0.2, 0.5]},
            {
                "path": "population.segments.all_parents.baseline_prevalence",
                "name": "prev",
                "values": [0.1, 0.2],
            },
        ],
        "sampler": {"method": "grid"},
        "replicates": 3,
        "replicates_per_task": 2,
        "seed": 5,
        "outputs": {"metrics": METRICS},
    }
    d.update(over)
    return d


def quiet(**kw):
    return {"progress": False, **kw}


def test_serial_sweep_gives_the_tidy_table_of_direct_runs(tmp_path):
    sweep = parse_sweep(sweep_dict())
    threads = numba.get_num_threads()
    report = run_sweep(sweep, tmp_path / "s", workers=0, **quiet())
    assert numba.get_num_threads() == threads  # serial tasks leave the caller's setting alone
    assert (report.points, report.tasks, report.done, report.failed) == (4, 8, 8, 0)
    res = load_results(tmp_path / "s")
    data = res.data
    # 4 points x 3 replicates x 2 metrics, totals only
    assert len(data) == 4 * 3 * 2
    assert list(data.columns) == [
        "point",
        "effect",
        "prev",
        "replicate",
        "metric",
        "segment",
        "intervention",
        "channel",
        "adopter_category",
        "outcome",
        "neighbourhood",
        "value",
    ]
    assert (data["neighbourhood"] == "all").all()  # a scenario without neighbourhoods
    assert not data.duplicated(["point", "replicate", "metric"]).any()
    assert (data["segment"] == "all").all()
    # point 3 = (effect 0.5, prevalence 0.2): same numbers as a direct run with seed 5
    d = base_dict(size=400, months=6)
    d["interventions"][0]["effect_size"]["mean"] = 0.5
    d["population"]["segments"][0]["baseline_prevalence"] = 0.2
    direct = impactsim.run(build(d), replicates=3, seed=5, progress=False)
    got = data[(data["point"] == 3) & (data["metric"] == "public_impact_pp")]
    assert got["effect"].unique().tolist() == [0.5] and got["prev"].unique().tolist() == [0.2]
    assert got["value"].tolist() == direct.metric("public_impact_pp").tolist()
    # common random numbers: the counterfactual prevalence depends on the prevalence only
    out = res.outcome("public_impact_pp")
    assert out["n"].tolist() == [3, 3, 3, 3]
    assert out.loc[out["effect"] == 0.5, "mean"].min() > out.loc[out["effect"] == 0.2, "mean"].max()


def test_failed_points_are_recorded_and_the_sweep_goes_on(tmp_path):
    d = sweep_dict()
    d["parameters"] = [
        {
            "path": "population.segments.all_parents.adopter_shares.innovators",
            "name": "innovators",
            "values": [0.025, 0.05],  # 0.05 makes the shares sum to 1.025: invalid
        }
    ]
    report = run_sweep(parse_sweep(d), tmp_path / "f", workers=0, **quiet())
    assert (report.done, report.failed, report.pending) == (2, 2, 0)
    manifest = json.loads((tmp_path / "f" / "manifest.json").read_text())
    assert manifest["counts"] == {"pending": 0, "done": 2, "failed": 2}
    failed = [t for t in manifest["tasks"] if t["status"] == "failed"]
    assert {t["point"] for t in failed} == {1}
    assert "adopter shares must sum to 1" in failed[0]["error"]
    assert "point 1: population.segments" in failed[0]["error"]
    res = load_results(tmp_path / "f")
    assert res.points["status"].tolist() == ["done", "failed"]
    assert set(res.data["point"]) == {0}
    # resuming without retry keeps the failures; with retry they fail again, nothing else runs
    again = run_sweep(parse_sweep(d), tmp_path / "f", workers=0, retry_failed=False, **quiet())
    assert (again.skipped, again.ran, again.failed) == (2, 0, 2)
    again = run_sweep(parse_sweep(d), tmp_path / "f", workers=0, **quiet())
    assert (again.skipped, again.ran, again.failed) == (2, 2, 2)


def test_missing_metric_fails_with_the_available_names(tmp_path):
    d = sweep_dict(outputs={"metrics": ["public_impact_pp", "no_such_metric"]})
    d["parameters"] = d["parameters"][:1]
    report = run_sweep(parse_sweep(d), tmp_path / "m", workers=0, **quiet())
    assert (report.done, report.failed) == (0, 4)
    err = report.failures[0]["error"]
    assert "no_such_metric" in err and "Available:" in err and "reach_cumulative" in err


def test_breakdowns_keep_only_the_requested_rows(tmp_path):
    d = sweep_dict(outputs={"metrics": ["reach_cumulative"], "breakdowns": ["adopter_category"]})
    d["parameters"] = d["parameters"][:1]
    run_sweep(parse_sweep(d), tmp_path / "b", workers=0, **quiet())
    data = load_results(tmp_path / "b").data
    assert set(data["segment"]) == {"all"} and set(data["intervention"]) == {"all"}
    assert set(data["adopter_category"]) == {
        "all",
        "innovators",
        "early_adopters",
        "early_majority",
        "late_majority",
        "laggards",
    }


def test_interrupted_driver_resumes_to_the_clean_result(tmp_path):
    sweep = parse_sweep(sweep_dict())
    clean = run_sweep(sweep, tmp_path / "clean", workers=0, **quiet())
    assert clean.done == 8

    seen = []

    def stop_after_three(rec):
        seen.append(rec.task)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep, tmp_path / "r", workers=0, on_task_done=stop_after_three, **quiet())
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["counts"] == {"pending": 5, "done": 3, "failed": 0}
    resumed = run_sweep(sweep, tmp_path / "r", workers=0, **quiet())
    assert (resumed.skipped, resumed.ran, resumed.done) == (3, 5, 8)
    pd.testing.assert_frame_equal(
        load_results(tmp_path / "r").data, load_results(tmp_path / "clean").data
    )
    # a task file the manifest does not record yet (driver killed between the two) counts
    # as done once it passes its checks, and is no damage
    m = json.loads((tmp_path / "r" / "manifest.json").read_text())
    for t in m["tasks"]:
        t.update(status="pending", rows=None, sha256=None)
    m["counts"] = {"pending": 8, "done": 0, "failed": 0}
    (tmp_path / "r" / "manifest.json").write_text(json.dumps(m))
    again = run_sweep(sweep, tmp_path / "r", workers=0, **quiet())
    assert (again.skipped, again.ran, again.repairs) == (8, 0, [])


def test_directory_guards(tmp_path):
    sweep = parse_sweep(sweep_dict())
    run_sweep(sweep, tmp_path / "s", workers=0, **quiet())
    with pytest.raises(SweepError, match=r"holds a different sweep .*changed: replicates"):
        run_sweep(parse_sweep(sweep_dict(replicates=4)), tmp_path / "s", workers=0, **quiet())
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(SweepError, match="not empty and not a sweep directory"):
        run_sweep(sweep, tmp_path / "other", workers=0, **quiet())
    from impactsim.sweep.store import SweepDir

    holder = SweepDir(tmp_path / "s")
    holder.lock()
    try:
        with pytest.raises(SweepError, match="in use by pid"):
            run_sweep(sweep, tmp_path / "s", workers=0, **quiet())
    finally:
        holder.unlock()


def test_process_pool_one_and_two_workers_identical(tmp_path):
    sweep = parse_sweep(sweep_dict(size=600))
    run_sweep(sweep, tmp_path / "serial", workers=0, **quiet())
    one = run_sweep(sweep, tmp_path / "one", workers=1, **quiet())
    two = run_sweep(sweep, tmp_path / "two", workers=2, **quiet())
    assert one.done == two.done == 8
    assert "2 worker" in two.backend
    ref = load_results(tmp_path / "serial").data
    pd.testing.assert_frame_equal(load_results(tmp_path / "one").data, ref)
    pd.testing.assert_frame_equal(load_results(tmp_path / "two").data, ref)


def test_process_pool_recovers_from_a_killed_worker(tmp_path):
    d = sweep_dict(size=1500, months=12, replicates=4)
    sweep = parse_sweep(d)
    killed = []
    before = {p.pid for p in psutil.Process().children()}

    def kill_a_worker(rec):
        if killed:
            return
        workers = [
            p
            for p in psutil.Process().children()
            if p.pid not in before and any("spawn_main" in part for part in p.cmdline())
        ]
        assert workers, "no pool worker process found"
        os.kill(workers[0].pid, signal.SIGKILL)
        killed.append(workers[0].pid)

    report = run_sweep(sweep, tmp_path / "k", workers=2, on_task_done=kill_a_worker, **quiet())
    assert killed
    assert report.retried >= 1  # tasks in flight went down with the pool and ran again
    assert (report.done, report.failed, report.pending) == (8, 0, 0)
    data = load_results(tmp_path / "k").data
    assert len(data) == 4 * 4 * 2  # 0 rows lost
    assert not data.duplicated(["point", "replicate", "metric"]).any()  # 0 duplicated
    run_sweep(sweep, tmp_path / "ref", workers=0, **quiet())
    pd.testing.assert_frame_equal(data, load_results(tmp_path / "ref").data)


# --------------------------------------------------------------------------- CLI
def cli_app() -> typer.Typer:
    app = typer.Typer()
    app.command("noop")(lambda: None)  # a second command keeps typer in sub-command mode
    register(app)
    return app


def test_cli_sweep_results_and_analyze(tmp_path):
    runner = CliRunner()
    app = cli_app()
    d = sweep_dict(sampler={"method": "one_way"}, replicates=2)
    d["parameters"] = [
        {"path": "interventions.prog.effect_size.mean", "name": "effect", "range": [0.1, 0.6]},
        {"path": "outcome.minimal_important_change", "name": "mic", "range": [0.1, 0.4]},
    ]
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(d.pop("base")))
    d["base"] = "base.yaml"
    file = tmp_path / "sweep.yaml"
    file.write_text(yaml.safe_dump(d))
    out = tmp_path / "out"
    res = runner.invoke(app, ["sweep", str(file), "--out", str(out), "--workers", "0"])
    assert res.exit_code == 0, res.output
    assert "5 points, 5 tasks" in res.output and "5 done" in res.output
    assert (out / "sweep.yaml").read_text() == file.read_text()
    res = runner.invoke(app, ["sweep-results", str(out), "--out", str(tmp_path / "t.csv")])
    assert res.exit_code == 0, res.output
    assert "5 done, 0 failed, 0 pending" in res.output
    table = pd.read_csv(tmp_path / "t.csv")
    assert len(table) == 5 * 2 * 2 and {"effect", "mic", "value"} <= set(table.columns)
    res = runner.invoke(app, ["sweep-analyze", str(out), "--output", "public_impact_pp"])
    assert res.exit_code == 0, res.output
    assert (out / "analysis" / "tornado_public_impact_pp.csv").is_file()
    assert (out / "analysis" / "tornado_public_impact_pp.png").stat().st_size > 1000
    # an analysis folder replaced by a link planted in the sweep directory is not followed
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(out / "analysis")
    (out / "analysis").symlink_to(elsewhere, target_is_directory=True)
    res = runner.invoke(app, ["sweep-analyze", str(out), "--output", "public_impact_pp"])
    assert res.exit_code == 2 and "analysis: is a symbolic link" in res.output
    assert list(elsewhere.iterdir()) == []
    # a sweep-file error: exit 2, file and field named, no traceback
    bad = copy.deepcopy(d)
    bad["sampler"] = {"method": "latin_hypercub", "samples": 4}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    res = runner.invoke(app, ["sweep", str(tmp_path / "bad.yaml"), "--out", str(tmp_path / "x")])
    assert res.exit_code == 2
    assert "bad.yaml: sampler.method: unknown sampler 'latin_hypercub'" in res.output
    assert "Traceback" not in res.output


def test_cli_exit_code_1_when_points_failed(tmp_path):
    d = sweep_dict(outputs={"metrics": ["no_such_metric"]}, replicates=1)
    d["parameters"] = d["parameters"][:1]
    file = tmp_path / "s.yaml"
    file.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(cli_app(), ["sweep", str(file), "-o", str(tmp_path / "o"), "-w", "0"])
    assert res.exit_code == 1
    assert "0 done" in res.output and "2 failed" in res.output
    assert "failed p000000-r000000-000000 (point 0): metric(s) not in the run summary" in res.output


# --------------------------------------------------------------------------- sensitivity
def sa_dict(sampler: dict) -> dict:
    # effect size drives public impact; the minimal important change does not enter it
    d = sweep_dict(sampler=sampler, replicates=2)
    d["parameters"] = [
        {"path": "interventions.prog.effect_size.mean", "name": "effect", "range": [0.1, 0.6]},
        {"path": "outcome.minimal_important_change", "name": "mic", "range": [0.1, 0.4]},
    ]
    return d


def test_sobol_indices_and_plot(tmp_path):
    run_sweep(
        parse_sweep(sa_dict({"method": "sobol", "samples": 8})),
        tmp_path / "s",
        workers=0,
        **quiet(),
    )
    res = load_results(tmp_path / "s")
    assert len(res.points) == 8 * (2 + 2)
    table = sobol_indices(res, "public_impact_pp", num_resamples=200)
    t = table.set_index("parameter")
    assert t.loc["effect", "ST"] == pytest.approx(1.0, abs=0.2)
    assert t.loc["effect", "S1"] == pytest.approx(1.0, abs=0.3)
    assert t.loc["effect", "S1_conf"] > 0
    assert "only N=8 base samples" in table.attrs["warning"]
    # with common random numbers an input that does not enter the output gets exactly 0
    assert abs(t.loc["mic", "S1"]) < 1e-12 and abs(t.loc["mic", "ST"]) < 1e-12
    assert (table["S1_hi"] - table["S1_lo"]).round(12).tolist() == (2 * table["S1_conf"]).round(
        12
    ).tolist()
    # everyone is reached at every point: no variance, so no indices (and a note)
    reach = analyze(res, ["reach_cumulative"], num_resamples=100)["reach_cumulative"]
    assert list(reach["parameter"]) == ["effect", "mic"]
    assert reach["S1"].isna().all() and "same value at every point" in reach.attrs["note"]
    fig = plot_sobol(table)
    assert isinstance(fig, Figure)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["mic", "effect"]
    with pytest.raises(SensitivityError, match="needs a sweep with sampler 'morris'"):
        morris_indices(res, "public_impact_pp")


def test_morris_indices_and_plot(tmp_path):
    d = sa_dict({"method": "morris", "trajectories": 4, "levels": 4})
    run_sweep(parse_sweep(d), tmp_path / "m", workers=0, **quiet())
    res = load_results(tmp_path / "m")
    table = morris_indices(res, "public_impact_pp", num_resamples=100).set_index("parameter")
    assert table.loc["effect", "mu_star"] > 0.1  # pp per 2/3 of the effect-size range
    assert table.loc["mic", "mu_star"] == 0.0 and table.loc["mic", "sigma"] == 0.0
    assert table.attrs["trajectories"] == 4
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_morris(table.reset_index(), ax=ax) is fig


def test_tornado_table_and_plot(tmp_path):
    d = sa_dict({"method": "one_way"})
    run_sweep(parse_sweep(d), tmp_path / "o", workers=0, **quiet())
    res = load_results(tmp_path / "o")
    table = tornado_table(res, "public_impact_pp")
    assert table["parameter"].tolist() == ["effect", "mic"]  # largest swing first
    eff = table.iloc[0]
    assert (eff["low_value"], eff["high_value"], eff["base_value"]) == (0.1, 0.6, 0.4)
    assert eff["low_output"] < eff["base_output"] < eff["high_output"]
    base = impactsim.run(build(base_dict(size=400, months=6)), replicates=2, seed=5, progress=False)
    assert eff["base_output"] == pytest.approx(base.metric("public_impact_pp").mean(), abs=1e-12)
    assert table.iloc[1]["swing"] == 0.0
    fig = plot_tornado(table)
    assert len(fig.axes[0].patches) == 4  # a low and a high bar per parameter
    run_sweep(parse_sweep(sweep_dict()), tmp_path / "g", workers=0, **quiet())
    with pytest.raises(SensitivityError, match="sampler 'grid' has no sensitivity analysis"):
        analyze(load_results(tmp_path / "g"), ["public_impact_pp"])


def test_an_absurd_number_of_workers_is_refused_not_a_traceback(tmp_path):
    # --workers 99999999999999999999 ended in OverflowError inside multiprocessing
    from impactsim.cli import app
    from impactsim.sweep.execute import make_backend
    from impactsim.sweep.schema import MAX_WORKERS

    sweep = Path(__file__).parents[1] / "scenarios" / "sweeps" / "example.yaml"
    for workers in (str(MAX_WORKERS + 1), "99999999999999999999"):
        res = CliRunner().invoke(
            app, ["sweep", str(sweep), "--workers", workers, "--out", str(tmp_path / "s")]
        )
        assert res.exit_code == 2, res.output
        assert str(MAX_WORKERS) in res.output
    assert not (tmp_path / "s").exists()
    with pytest.raises(ValueError, match=f"at most {MAX_WORKERS} worker processes"):
        make_backend(workers=MAX_WORKERS + 1)


def test_a_sweep_keeps_each_outcomes_rows_when_asked(tmp_path):
    # issue 34: breakdowns [outcome] keep the rows of every outcome by name; a parameter
    # of one outcome's effect moves that outcome's impact only
    from test_outcome_engine import three_outcomes

    d = sweep_dict(base=three_outcomes(size=400, months=3))
    d["parameters"] = [
        {
            "path": "interventions.prog.effect_sizes.emotional.mean",
            "name": "emotional_d",
            "values": [0.0, 0.6],
        }
    ]
    d["outputs"] = {"metrics": ["public_impact_pp"], "breakdowns": ["outcome"]}
    sweep = parse_sweep(d, "s.yaml")
    report = run_sweep(sweep, tmp_path / "s", workers=0, **quiet())
    assert report.failed == 0
    data = load_results(tmp_path / "s").data
    assert set(data["outcome"]) == {"all", "behaviour", "emotional", "parent_mental"}
    by = data.groupby(["emotional_d", "outcome"])["value"].mean()
    assert by[(0.0, "emotional")] == 0.0  # not moved: exactly no impact
    assert by[(0.6, "emotional")] > 2.0  # 100 (0.10 - Phi(Phi^-1(0.1) - 0.6)) = 5.7 pp
    assert by[(0.0, "behaviour")] == by[(0.6, "behaviour")]  # common random numbers
