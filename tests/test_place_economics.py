"""Economics by neighbourhood (impactsim.place_economics; docs/economics.md "By neighbourhood").

The rules: participant costs where the participants live; provider costs over the offer's
neighbourhoods by participant-months; a channel's monthly cost by its contacts; its
contact costs by each neighbourhood's own contacts; coordination by families; benefits
from each neighbourhood's own prevented cases. Expected values are the equations of the
rules written out with the scenario's numbers, or the municipality's row (the
neighbourhoods add up to it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import build
from impactsim.runner import run
from impactsim.tables import select
from test_places import towns

ROOT = Path(__file__).resolve().parents[1]

NO_DISCOUNTING = {
    "discount_rate_costs_per_year": 0.0,
    "discount_rate_effects_per_year": 0.0,
    "cost_cv": 0.0,
    "value_cv": 0.0,
}


def by_place(summary: pd.DataFrame, metric: str, **where: str) -> pd.DataFrame:
    """Replicates x neighbourhoods of one metric (``all`` the municipality)."""
    rows = select(summary, metric, free=("neighbourhood",), **where)
    return rows.pivot_table(index="replicate", columns="neighbourhood", values="value")


def costed_towns() -> dict:
    """towns(): 3000 families, north 1800, south 1200, no turnover, 4 months; every cost kind."""
    d = towns()
    d["channels"][0]["costs"] = {"per_month_active_eur": 600, "per_contact_eur": 0.001}
    d["interventions"][0]["costs"] = {
        "per_participant_month_eur": 100,
        "per_enrolment_eur": 20,
        "per_provider_year_eur": 1200,
    }
    d["strategy"]["costs"] = {"coordination_per_year_eur": 12000}
    d["economics"] = dict(NO_DISCOUNTING)
    return d


def test_a_channel_restricted_to_south_charges_south_alone():
    """The campaign contacts only south's 1200 families; it reaches all of them at once and
    each takes the one-month programme once, north nobody (test_places)."""
    d = costed_towns()
    d["channels"][0]["neighbourhoods"] = ["south"]
    s = run(build(d), replicates=2, seed=3, progress=False).summary
    channel = by_place(s, "cost_pv", channel="campaign")
    # 600 €/month x 4 months active + 0.001 € x 1000 contacts/parent/month x 1200 x 4 months
    # = 2400 + 4800
    assert channel["south"].tolist() == pytest.approx([7200.0, 7200.0], abs=1e-9)
    assert channel["north"].tolist() == [0.0, 0.0]
    assert channel["all"].tolist() == pytest.approx([7200.0, 7200.0], abs=1e-9)
    pm = by_place(s, "participant_months", intervention="prog")
    assert pm["south"].tolist() == [1200.0, 1200.0]  # 1200 families x 1 month
    assert pm["north"].tolist() == [0.0, 0.0]
    # 100 €/pm x 1200 + 20 €/enrolment x 1200 + 1200 €/year x 4/12 year: the provider serves
    # both, but all participant-months are south's, so its yearly cost is south's too
    prog = by_place(s, "cost_pv", intervention="prog")
    assert prog["south"].tolist() == pytest.approx([144400.0, 144400.0], abs=1e-9)
    assert prog["north"].tolist() == [0.0, 0.0]
    # 12000 €/year x 4/12 year = 4000, by families: north 1800/3000, south 1200/3000
    coord = by_place(s, "cost_pv_coordination")
    assert coord["north"].tolist() == pytest.approx([2400.0, 2400.0], abs=1e-9)
    assert coord["south"].tolist() == pytest.approx([1600.0, 1600.0], abs=1e-9)
    cost = by_place(s, "cost_pv")
    assert cost["north"].tolist() == pytest.approx([2400.0, 2400.0], abs=1e-9)
    assert cost["south"].tolist() == pytest.approx([153200.0, 153200.0], abs=1e-9)
    # no prevented cases and no participants in north: nothing per participant there
    assert by_place(s, "benefit_pv")["north"].tolist() == [0.0, 0.0]
    per_participant = select(s, "cost_per_participant", neighbourhood="north")["value"]
    assert len(per_participant) == 2 and per_participant.isna().all()
    # the ratios are the neighbourhood's own: bcr = benefit_pv / cost_pv
    bcr, benefit = by_place(s, "bcr"), by_place(s, "benefit_pv")
    np.testing.assert_allclose(bcr["south"], benefit["south"] / cost["south"], rtol=1e-12)


@pytest.mark.parametrize("provider_where", [None, ["south"]])
def test_participant_costs_follow_participants_and_provider_costs_the_offer(provider_where):
    """Everyone reached in both neighbourhoods: per neighbourhood h,
    C_h = 100 x PM_h + 20 x E_h + 400 x w_h, with 400 = 1200 €/year x 4/12 year and
    w_h = PM_h / PM_all (provider for all) or 1 in south only (provider serving south)."""
    d = costed_towns()
    if provider_where is not None:
        d["providers"][0]["neighbourhoods"] = provider_where
    s = run(build(d), replicates=2, seed=4, progress=False).summary
    pm = by_place(s, "participant_months", intervention="prog")
    enrol = by_place(s, "enrolments", intervention="prog")
    prog = by_place(s, "cost_pv", intervention="prog")
    for h in ("north", "south"):
        if provider_where is None:
            share = pm[h] / pm["all"]
        else:
            share = float(h in provider_where)
        expected = 100.0 * pm[h] + 20.0 * enrol[h] + 400.0 * share
        np.testing.assert_allclose(prog[h], expected, rtol=1e-12)
    assert (pm["north"] > 0).all() == (provider_where is None)


def neighbourhoods_scenario() -> dict:
    """scenarios/neighbourhoods.yaml, small: 4 neighbourhoods, restricted channel, providers
    and offer, cost and value uncertainty, extrapolation on, costs paid by two payers."""
    d = yaml.safe_load((ROOT / "scenarios" / "neighbourhoods.yaml").read_text(encoding="utf-8"))
    d["population"]["size"] = 4000
    d["simulation"]["months"] = 24
    d["economics"]["extrapolation"]["enabled"] = True
    d["interventions"][4]["costs"]["payer"] = "health_insurer"  # home visits
    return d


def test_the_neighbourhoods_add_up_to_the_municipality():
    result = run(build(neighbourhoods_scenario()), replicates=3, seed=11, progress=False)
    s = result.summary
    places = ["centre", "north", "east", "south"]
    econ = result.scenario.economics
    additive = [
        ("cost_pv", {}),
        ("cost_nominal", {}),
        ("cost_pv_coordination", {}),
        ("benefit_pv", {}),
        ("benefit_pv_beyond_horizon", {}),
        ("case_years_prevented", {}),
        ("case_years_prevented_pv", {}),
        ("participants", {}),
        *((f"benefit_pv_{sh}", {}) for sh in econ.all_stakeholders),
        *((f"cost_pv_paid_by_{sh}", {}) for sh in econ.all_stakeholders),
        *(("cost_pv", {"intervention": iv.name}) for iv in result.scenario.interventions),
        *(("cost_pv", {"channel": c.name}) for c in result.scenario.channels),
    ]
    for metric, where in additive:
        t = by_place(s, metric, **where)
        assert sorted(t.columns) == sorted(["all", *places]), metric
        np.testing.assert_allclose(
            t[places].sum(axis=1), t["all"], rtol=1e-9, atol=1e-9, err_msg=f"{metric} {where}"
        )
    # something to add up: costs in every neighbourhood, two payers, benefits after the horizon
    assert (by_place(s, "cost_pv")[places] > 0).all().all()
    assert (by_place(s, "cost_pv_paid_by_health_insurer")["all"] > 0).all()
    assert (by_place(s, "benefit_pv_beyond_horizon")["all"] > 0).all()
    # the community centre contacts south's families only: its cost is south's
    centre = by_place(s, "cost_pv", channel="community_centre")
    assert (centre["south"] > 0).all()
    np.testing.assert_array_equal(centre[["centre", "north", "east"]].to_numpy(), 0.0)
    # the community group course (providers serving south) likewise
    course = by_place(s, "cost_pv", intervention="community_group_course")
    np.testing.assert_array_equal(course[["centre", "north", "east"]].to_numpy(), 0.0)
    # the group course is open in centre, north and east only: nothing of it in south
    np.testing.assert_array_equal(
        by_place(s, "cost_pv", intervention="group_course")["south"].to_numpy(), 0.0
    )
    # a ratio is the neighbourhood's own, not a share of the municipality's
    nmb, cy, cost = (
        by_place(s, "nmb"),
        by_place(s, "case_years_prevented_pv"),
        by_place(s, "cost_pv"),
    )
    wtp = econ.willingness_to_pay_eur_per_case_year
    np.testing.assert_allclose(nmb[places], wtp * cy[places] - cost[places], rtol=1e-12)


# --------------------------------------------------------------------------- shown
def test_run_summary_report_and_comparison_show_money_by_neighbourhood(tmp_path):
    """The restricted campaign above: south costs 153,200 € (7200 + 144,400 + 1600), north
    2400 € (its coordination share), in both replicates (no cost uncertainty).

    Compared with the campaign city-wide (every family reached, each in the programme for
    one month), south only saves north 224,880 € and costs south 1680 € more: city-wide,
    north pays 0.001 x 1000 x 1800 x 4 = 7200 € of contacts, 0.6 x 2400 € of the campaign's
    months (its share of the contacts), 100 x 1800 + 20 x 1800 + 0.6 x 400 € of the
    programme and 2400 € of coordination (227,280 €); south 4800 + 960 + 144,160 + 1600 =
    151,520 € against 153,200 €.
    """
    from typer.testing import CliRunner

    from impactsim.cli import app
    from impactsim.compare import compare
    from impactsim.report import neighbourhood_table

    d = costed_towns()
    d["name"] = "south_only"
    d["channels"][0]["neighbourhoods"] = ["south"]
    scen = tmp_path / "south.yaml"
    scen.write_text(yaml.safe_dump(d), encoding="utf-8")
    out = CliRunner().invoke(app, ["run", str(scen), "-r", "2", "--out", str(tmp_path / "run")])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    head = lines.index(next(x for x in lines if x.startswith("economics by neighbourhood")))
    assert "cost (present value, €)" in lines[head] and "benefit-cost ratio" in lines[head]
    assert lines[head + 1].split()[:4] == ["north", "€2,400", "[€2,400,", "€2,400]"]
    assert lines[head + 2].split()[:4] == ["south", "€153,200", "[€153,200,", "€153,200]"]

    city = costed_towns()
    city["name"] = "city"
    res = compare([build(city), build(d)], replicates=2, seed=8, progress=False)
    text = res.table()
    assert "cost PV (€) in south" in text and "NPV (€) in north" in text
    south = next(x for x in text.splitlines() if "cost PV (€) in south" in x)
    north = next(x for x in text.splitlines() if "cost PV (€) in north" in x)
    assert south.split()[-3:] == ["+1,680", "[+1,680,", "+1,680]"]
    assert north.split()[-3:] == ["-224,880", "[-224,880,", "-224,880]"]

    runs = {"city": res.runs["city"], "south only": res.runs["south_only"]}
    english, dutch = neighbourhood_table(runs, "en"), neighbourhood_table(runs, "nl")
    assert "south only: costs (present value)" in english and "€153,200" in english
    assert "city: net present value" in english
    assert "south only: kosten (contante waarde)" in dutch and "€ 153.200" in dutch

    import matplotlib.pyplot as plt

    from impactsim import plots

    fig = plots.by_neighbourhood(res.runs["south_only"], lang="nl")
    assert fig.get_suptitle() == "Bereik, publieke impact en kosten per wijk"
    cost_panel = fig.axes[2]
    assert cost_panel.get_ylabel() == "kosten (contante waarde, duizend euro)"
    # all, north, south in thousands of euros: 155.6 = 2.4 + 153.2
    heights = [bar.get_height() for bar in cost_panel.patches]
    assert heights == pytest.approx([155.6, 2.4, 153.2], abs=1e-9)
    plt.close(fig)
