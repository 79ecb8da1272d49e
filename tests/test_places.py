"""Places: channels, providers and offers restricted to neighbourhoods, and results by neighbourhood.

The rules (docs/model.md §1 "Neighbourhoods", §9 "By neighbourhood"): the engine works on
cells (neighbourhood, segment); a channel restricted to neighbourhoods contacts nobody
elsewhere, an offer restricted to neighbourhoods (or delivered by providers that serve
only some) is open to nobody elsewhere; the summary of a scenario with neighbourhoods has
a ``neighbourhood`` column whose ``all`` rows add the neighbourhoods up.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from helpers import base_dict, build
from impactsim.compare import compare
from impactsim.compare_places import neighbourhood_differences
from impactsim.engine.spec import compile_scenario
from impactsim.loading import ScenarioError
from impactsim.rundir import figures_for, load_run_dir
from impactsim.runner import run
from impactsim.tables import replicate_values, select


def towns(size: int = 3000) -> dict:
    """Two segments in two neighbourhoods (north 60 %, south 40 %); everyone aware at once."""
    d = base_dict(size=size, months=4)
    seg = d["population"]["segments"][0]
    d["population"]["segments"] = [
        seg | {"name": "low", "share": 0.34, "baseline_prevalence": 0.25},
        seg | {"name": "high", "share": 0.66, "baseline_prevalence": 0.10},
    ]
    d["population"]["neighbourhoods"] = [
        {"name": "north", "share": 0.6, "segment_mix": {"low": 0.1, "high": 0.9}},
        {"name": "south", "share": 0.4, "segment_mix": {"low": 0.7, "high": 0.3}},
    ]
    return d


def test_cells_repeat_the_segments_and_apply_the_places():
    d = towns()
    d["channels"][0]["neighbourhoods"] = ["south"]
    spec = compile_scenario(build(d))
    # cells: north-low, north-high, south-low, south-high
    assert spec.cell_segment.tolist() == [0, 1, 0, 1]
    assert spec.cell_nbh.tolist() == [0, 0, 1, 1]
    assert spec.contact_hz[:, 0].tolist() == [0.0, 0.0, 1000.0, 1000.0]
    assert spec.seg_cum.tolist() == [[0.1, 1.0, 1.0, 1.0], [0.0, 0.0, 0.7, 1.0]]
    assert spec.seg_mu[:2].tolist() == spec.seg_mu[2:].tolist()


def _reach(result, place: str) -> float:
    return float(replicate_values(result.summary, "reach_cumulative", neighbourhood=place).mean())


@pytest.mark.parametrize(
    ("where", "key"),
    [
        (["channels", 0], "neighbourhoods"),
        (["strategy", "offers", 0], "neighbourhoods"),
        (["providers", 0], "neighbourhoods"),
    ],
)
def test_a_restriction_to_south_reaches_nobody_in_north(where, key):
    """The campaign reaches everyone at once (contact and referral 1000 a month): reach 1
    where it may go, exactly 0 elsewhere."""
    d = towns()
    node = d
    for k in where:
        node = node[k]
    node[key] = ["south"]
    result = run(build(d), replicates=2, seed=4, progress=False)
    assert _reach(result, "north") == 0.0
    assert _reach(result, "south") == pytest.approx(1.0, abs=1e-12)
    assert _reach(result, "all") == pytest.approx(0.4, abs=1e-12)  # south's 1200 of 3000


def test_municipality_rows_add_up_the_neighbourhoods():
    d = towns()
    d["population"]["network"] = {"kind": "small_world", "mean_degree": 4, "homophily": 0.5}
    d["population"]["turnover_rate_per_month"] = 0.05
    d["interventions"][0]["effect_size"]["sd"] = 0.1
    result = run(build(d), replicates=3, seed=5, progress=False)
    s = result.summary
    assert set(s["neighbourhood"].unique()) == {"all", "north", "south"}

    def by_place(metric: str, **where: str) -> pd.DataFrame:
        rows = select(s, metric, free=("neighbourhood",), **where)
        return rows.pivot_table(index="replicate", columns="neighbourhood", values="value")

    for metric, where in (
        ("families", {}),
        ("cases_prevented", {}),
        ("enrolments", {"intervention": "prog"}),
    ):
        t = by_place(metric, **where)
        np.testing.assert_allclose(t["all"], t["north"] + t["south"], rtol=0, atol=1e-9)
    fam, reach = by_place("families"), by_place("reach_cumulative")
    weighted = (reach["north"] * fam["north"] + reach["south"] * fam["south"]) / fam["all"]
    np.testing.assert_allclose(reach["all"], weighted, rtol=1e-12)
    impact = by_place("public_impact_pp")
    gap = replicate_values(s, "neighbourhood_impact_gap_pp")
    np.testing.assert_allclose(gap, (impact["north"] - impact["south"]).abs(), rtol=1e-12)
    # per neighbourhood: its segments too (differential impact within it)
    assert len(select(s, "public_impact_pp", segment="low", neighbourhood="south")) == 3
    # organisations: for the municipality only; the economics per neighbourhood too
    # (their sums: tests/test_place_economics.py)
    assert select(s, "use_provider_share", free=("neighbourhood",))["neighbourhood"].eq("all").all()
    assert len(select(s, "cost_pv", free=("neighbourhood",))) == 9  # 3 places x 3 replicates


def test_contact_costs_follow_the_restricted_channel():
    """Contacts = contact rate x families present: restricted to south, the cost is south's
    share of the families (the same families in both runs: 1200 of 3000)."""
    d = towns()
    d["channels"][0]["costs"] = {"per_contact_eur": 1.0}
    city = run(build(d), replicates=1, seed=6, progress=False)
    d["channels"][0]["neighbourhoods"] = ["south"]
    south = run(build(d), replicates=1, seed=6, progress=False)

    def contact_cost(result) -> float:
        return float(replicate_values(result.summary, "cost_pv", channel="campaign").iloc[0])

    assert contact_cost(south) / contact_cost(city) == pytest.approx(0.4, rel=1e-9)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["channels"][0].update(neighbourhoods=["west"]), "unknown neighbourhood west"),
        (lambda d: d["channels"][0].update(neighbourhoods=[]), "an empty list reaches nobody"),
        (
            lambda d: (
                d["providers"].append(
                    d["providers"][0] | {"name": "centre", "neighbourhoods": ["south"]}
                ),
                d["strategy"]["offers"][0]["providers"].append("centre"),
            ),
            "must serve the same neighbourhoods",
        ),
        (
            lambda d: (
                d["providers"][0].update(neighbourhoods=["south"]),
                d["strategy"]["offers"][0].update(neighbourhoods=["north"]),
            ),
            "none of them is served by its providers",
        ),
    ],
)
def test_places_that_cannot_work_are_refused(edit, message):
    d = towns()
    edit(d)
    with pytest.raises(ScenarioError, match=message):
        build(d)


def test_run_directory_and_figures_carry_the_neighbourhoods(tmp_path):
    result = run(build(towns()), replicates=2, seed=7, progress=False)
    back = load_run_dir(result.to_dir(tmp_path / "run"))
    assert "neighbourhood" in back.summary.columns
    figs = figures_for(back)
    assert "by_neighbourhood" in figs
    import matplotlib.pyplot as plt

    for fig in figs.values():
        plt.close(fig)


def test_comparison_by_neighbourhood():
    """The campaign concentrated in south: the same reach there (1), none left in north."""
    city = build(towns())
    d = towns()
    d["name"] = "south_only"
    d["channels"][0]["neighbourhoods"] = ["south"]
    res = compare([city, build(d)], replicates=2, seed=8, progress=False)
    diffs = neighbourhood_differences(res.runs, res.baseline).set_index(["neighbourhood", "metric"])
    assert diffs.loc[("south", "reach_cumulative"), "mean"] == pytest.approx(0.0, abs=1e-12)
    assert diffs.loc[("north", "reach_cumulative"), "mean"] == pytest.approx(-1.0, abs=1e-12)
    assert "reach (any programme) in north" in res.table()


def test_without_neighbourhoods_the_tables_have_no_neighbourhood_column():
    result = run(build(copy.deepcopy(base_dict(size=500))), replicates=1, seed=9, progress=False)
    assert "neighbourhood" not in result.summary.columns
    assert "neighbourhood" not in result.timeseries.columns
