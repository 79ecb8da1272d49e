"""Plots return a Figure, accept an Axes, label their axes, and draw the right numbers."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import impactsim
from helpers import build
from impactsim import plots
from impactsim.loading import default_scenario


@pytest.fixture(scope="module")
def result():
    data = default_scenario().model_dump()
    data["population"]["size"] = 2000
    data["simulation"]["months"] = 24
    return impactsim.run(build(data), replicates=6, seed=3, progress=False)


@pytest.mark.parametrize(
    "draw",
    [
        lambda r, ax: plots.adoption_curves(r, ax=ax),
        lambda r, ax: plots.adoption_curves(r, by="adopter_category", ax=ax),
        lambda r, ax: plots.adoption_curves(r, intervention="online_course", ax=ax),
        lambda r, ax: plots.reach_by_channel(r, ax=ax),
        lambda r, ax: plots.impact_funnel(r, ax=ax),
        lambda r, ax: plots.differential_impact(r, ax=ax),
        lambda r, ax: plots.public_impact_over_time(r, ax=ax),
        lambda r, ax: plots.public_impact_comparison({"a": r, "b": r}, ax=ax),
    ],
)
def test_plot_uses_given_axes_and_labels(result, draw):
    fig, ax = plt.subplots()
    out = draw(result, ax)
    assert out is fig
    assert ax.get_title()
    assert ax.get_xlabel() or ax.get_yticklabels()
    assert ax.get_ylabel() or ax.get_yticks().size
    plt.close(fig)


def test_plots_make_their_own_figure(result):
    fig = plots.adoption_curves(result.timeseries)
    assert isinstance(fig, Figure)
    plt.close(fig)


def test_adoption_curve_plots_the_mean_reach(result):
    fig = plots.adoption_curves(result)
    line = fig.axes[0].get_lines()[0]  # 'all', dashed
    _months, pct = line.get_data()
    expected = [
        100
        * result.timeseries[
            (result.timeseries.metric == "reach_cumulative")
            & (result.timeseries.segment == "all")
            & (result.timeseries.adopter_category == "all")
            & (result.timeseries.month == m)
        ]["value"].mean()
        for m in (0, 12, 24)
    ]
    np.testing.assert_allclose(pct[[0, 12, 24]], expected, rtol=1e-12)
    plt.close(fig)


def test_funnel_last_stage_is_the_simulated_public_impact(result):
    table = plots.funnel_values(result)
    assert list(table["stage"]) == ["efficacy", "effectiveness", "use", "reach", "public impact"]
    assert table["value_pp"].iloc[-1] == pytest.approx(result.metric("public_impact_pp").mean())
    # each potential stage is at most the one before it (fidelity, use, reach <= 1)
    v = table["value_pp"].to_numpy()
    assert v[0] >= v[1] >= v[2] and v[1] >= v[3]


def test_bad_input_is_a_clear_error():
    with pytest.raises(TypeError, match="expected a DataFrame or a result"):
        plots.adoption_curves(42)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, result):
    out = tmp_path_factory.mktemp("run")
    result.to_dir(out)
    return out


def test_economics_plots(result):
    for fig in (
        plots.cost_effectiveness_plane(result, wtp_eur=20_000),
        plots.ceac(result),
        plots.roi_distribution({"a": result, "b": result}),
    ):
        assert isinstance(fig, Figure)
        assert fig.axes[0].get_title()
        plt.close(fig)
    # the CEAC line is the share of replicates with positive net monetary benefit
    fig = plots.ceac(result)
    _x, y = fig.axes[0].get_lines()[0].get_data()
    table = result.ceac()
    np.testing.assert_allclose(y, 100 * table["p_cost_effective"].to_numpy())
    plt.close(fig)


def test_plot_command_writes_every_figure(run_dir):
    from typer.testing import CliRunner

    from impactsim.cli import app

    res = CliRunner().invoke(app, ["plot", str(run_dir)])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in (run_dir / "figures").glob("*.png"))
    assert "impact_funnel.png" in names and "ceac.png" in names and len(names) == 9


def test_plot_command_explains_missing_partial_and_foreign_run_dirs(run_dir, tmp_path):
    import json
    import shutil

    from typer.testing import CliRunner

    from impactsim.cli import app

    cli = CliRunner()
    res = cli.invoke(app, ["plot", str(tmp_path / "nowhere")])
    assert res.exit_code == 2 and "run directory not found" in res.output
    partial = tmp_path / "partial"
    shutil.copytree(run_dir, partial)
    (partial / "timeseries.parquet").unlink()
    res = cli.invoke(app, ["plot", str(partial)])
    assert res.exit_code == 2 and "missing timeseries.parquet" in res.output
    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    info = json.loads((old / "run.json").read_text())
    info["impactsim_version"] = "0.0.1"
    (old / "run.json").write_text(json.dumps(info))
    res = cli.invoke(app, ["plot", str(old)])
    assert res.exit_code == 2 and "written by impactsim 0.0.1" in res.output
    assert "Traceback" not in res.output


def _damage_run_json_list(d):
    (d / "run.json").write_text("[1, 2]")


def _damage_ceac_columns(d):
    (d / "ceac.csv").write_text("a,b\n1,2\n")


def _damage_value_text(d):
    table = pd.read_parquet(d / "summary.parquet")
    table["value"] = table["value"].astype(str) + " pp"
    table.to_parquet(d / "summary.parquet")


def _damage_swap_tables(d):
    summary, timeseries = d / "summary.parquet", d / "timeseries.parquet"
    tmp = d / "swap.tmp"
    summary.rename(tmp)
    timeseries.rename(summary)
    tmp.rename(timeseries)


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (_damage_run_json_list, "run.json: expected a JSON object"),
        (_damage_ceac_columns, "ceac.csv: not the ceac table impactsim writes"),
        (_damage_value_text, "summary.parquet: column value should hold numbers"),
        (_damage_swap_tables, "summary.parquet: not the summary table impactsim writes"),
    ],
)
def test_plot_refuses_damaged_run_dirs_by_name(run_dir, tmp_path, damage, says):
    # each of these ended in a traceback (AttributeError, TypeError, KeyError) before
    import json
    import shutil

    from typer.testing import CliRunner

    from impactsim.cli import app

    damaged = tmp_path / "damaged"
    shutil.copytree(run_dir, damaged, ignore=shutil.ignore_patterns("figures"))
    # as written before run.json recorded checksums (which now refuse any change first)
    info = json.loads((damaged / "run.json").read_text())
    del info["format"], info["sha256"]
    (damaged / "run.json").write_text(json.dumps(info))
    damage(damaged)
    res = CliRunner().invoke(app, ["plot", str(damaged)])
    assert res.exit_code == 2, res.output
    assert says in res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert not (damaged / "figures").exists()


def test_plot_does_not_follow_a_figures_link_planted_in_the_run_dir(run_dir, tmp_path):
    # a directory symlink in the run directory sent the figures elsewhere (issue 30)
    import shutil

    from typer.testing import CliRunner

    from impactsim.cli import app

    planted = tmp_path / "run"
    shutil.copytree(run_dir, planted, ignore=shutil.ignore_patterns("figures"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (planted / "figures").symlink_to(elsewhere, target_is_directory=True)
    res = CliRunner().invoke(app, ["plot", str(planted)])
    assert res.exit_code == 2
    assert "is a symbolic link" in res.output
    assert list(elsewhere.iterdir()) == []


def test_every_figure_speaks_dutch(result):
    # the report and the app draw in the reader's language: titles, axes, legends
    import matplotlib.pyplot as plt

    from impactsim import plots

    drawn = {
        "reach_by_channel": plots.reach_by_channel(result, lang="nl"),
        "public_impact_over_time": plots.public_impact_over_time(result, lang="nl"),
        "ceac": plots.ceac(result, lang="nl"),
        "roi_distribution": plots.roi_distribution(result, lang="nl"),
    }
    titles = {k: f.axes[0].get_title() for k, f in drawn.items()}
    assert titles == {
        "reach_by_channel": "Bereik per kanaal van eerste contact (gemiddelde)",
        "public_impact_over_time": "Publieke impact in de tijd",
        "ceac": "Aanvaardbaarheidscurve van de kosteneffectiviteit",
        "roi_distribution": "Rendement over de replicaties",
    }
    assert drawn["ceac"].axes[0].get_ylabel() == "kans op kosteneffectiviteit (%)"
    for fig in drawn.values():
        plt.close(fig)


def test_impact_breadth_shows_each_outcomes_impact_per_strategy():
    # issue 34: one bar per outcome and strategy, at the mean public impact of that outcome
    from impactsim.tables import select
    from test_outcome_engine import three_outcomes

    runs = {}
    for label, d in (("light", 0.1), ("strong", 0.4)):
        data = three_outcomes(size=2_000)
        data["interventions"][0]["effect_size"] = {"mean": d}
        runs[label] = impactsim.run(build(data), replicates=2, progress=False)
    fig = plots.impact_breadth(runs)
    bars = [p for p in fig.axes[0].patches]
    assert len(bars) == 2 * 3
    heights = [b.get_height() for b in bars]  # outcome by outcome, strategies in order
    expected = [
        select(runs[s].summary, "public_impact_pp", outcome=o)["value"].mean()
        for o in ("behaviour", "emotional", "parent_mental")
        for s in ("light", "strong")
    ]
    np.testing.assert_allclose(heights, expected)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "behaviour",
        "emotional",
        "parent mental",
    ]
    plt.close(fig)
