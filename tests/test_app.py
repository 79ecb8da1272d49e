"""The planners' app without a browser: knobs, edits, problems, strategies, runs, results."""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest
import yaml

import impactsim
from impactsim import report
from impactsim.app import jobs, knobs, results
from impactsim.compare import comparability_problems
from impactsim.i18n import gettext_for
from impactsim.library import entries
from impactsim.loading import default_scenario, dump_scenario, load_scenario, parse_scenario
from impactsim.scenario.settings import MAX_SEED
from impactsim.stakeholders import stakeholder_flows
from impactsim.tables import replicate_values


def small(size: int = 600, months: int = 24, replicates: int = 2):
    """The default municipality, smaller and shorter (fast in tests)."""
    d = default_scenario().model_dump(mode="json")
    d["name"] = "small-town"
    d["population"]["size"] = size
    d["simulation"].update(months=months, replicates=replicates, seed=5)
    return parse_scenario(d, "<small>")


def by_key(scenario):
    return {k.key: k for k in knobs.knobs_for(scenario)}


def test_knobs_carry_units_and_ranges_from_the_schema():
    ks = by_key(default_scenario())
    places = ks["providers.community_centres.capacity_per_month"]
    assert (places.lo, places.hi, places.nullable, places.kind) == (0.0, 1e7, True, "number")
    assert places.unit == "participants per month" and places.value == 6
    count = ks["providers.community_centres.count"]
    assert (count.lo, count.hi, count.kind, count.value) == (0, 100_000, "integer", 6)
    assert ks["start.home_visits"].unit == "months" and ks["start.home_visits"].value == 6
    assert (ks["simulation.replicates"].lo, ks["simulation.replicates"].hi) == (1, 1_000_000)
    assert ks["simulation.seed"].hi == MAX_SEED
    assert ks["offered.group_course"].kind == "toggle" and ks["channel.media"].value is True
    assert {k.group for k in ks.values()} == set(knobs.GROUPS)


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        ("providers.community_centres.count", "-1", "at least 0"),
        ("providers.community_centres.count", "2.5", "use a whole number"),
        ("providers.community_centres.count", "six", "'six' is not a number"),
        ("providers.community_centres.count", "", "a value is needed"),
        ("simulation.replicates", "0", "at least 1"),
        ("providers.community_centres.capacity_per_month", "2e7", "at most 10,000,000"),
    ],
)
def test_a_value_outside_its_knob_is_refused_in_words(key, text, message):
    with pytest.raises(knobs.KnobError) as err:
        knobs.check_value(by_key(default_scenario())[key], text)
    assert str(err.value) == message


def test_values_are_read_as_planners_write_them():
    ks = by_key(default_scenario())
    assert knobs.check_value(ks["providers.community_centres.capacity_per_month"], "2,5") == 2.5
    assert knobs.check_value(ks["providers.community_centres.capacity_per_month"], "") is None
    assert knobs.check_value(ks["providers.community_centres.count"], "3") == 3


def test_edits_change_the_scenario_as_asked():
    sc = default_scenario()
    edits = {
        "providers.community_centres.count": 2,
        "providers.online_platform.capacity_per_month": None,
        "offered.home_visits": False,
        "channel.media": False,
        "start.group_course": 12,
        "simulation.replicates": 7,
        knobs.BUDGET: 1e6,
    }
    edited, problems = knobs.edited_scenario(sc, edits)
    assert problems == [] and edited is not None
    assert {p.name: p.count for p in edited.providers}["community_centres"] == 2
    offers = {o.intervention: o for o in edited.strategy.offers}
    assert "home_visits" not in offers and offers["group_course"].start_month == 12
    assert all("media" not in o.channels for o in offers.values())
    assert edited.simulation.replicates == 7
    assert not any(p.startswith("strategy.offers.home_visits") for p in edited.sources)
    assert sc.simulation.replicates == 30  # the original is untouched


def test_problems_of_an_edit_are_shown_at_their_knob():
    sc = default_scenario()
    edits = {"offered.group_course": False, "start.home_visits": 80}
    edited, problems = knobs.edited_scenario(sc, edits)
    assert edited is None
    mine, rest = knobs.problems_by_knob(sc, edits, problems)
    assert rest == []
    assert "horizon" in mine["start.home_visits"][0].message
    # the booster follows the group course, which is switched off
    assert "group_course" in mine["offered.group_booster"][0].message


def test_problem_paths_become_locations():
    assert knobs.problem_location("providers[2:community_centres].count") == (
        "providers",
        2,
        "count",
    )
    assert knobs.problem_location("strategy.offers[3].start_month") == (
        "strategy",
        "offers",
        3,
        "start_month",
    )


def _by_neighbourhood(entry) -> bool:
    """A strategy that names neighbourhoods: it needs a municipality that has them."""
    return bool(
        yaml.safe_load(entry.path.read_text(encoding="utf-8"))["population"].get("neighbourhoods")
    )


LIBRARY_STRATEGIES = [e for e in entries() if e.kind == "scenario"]


@pytest.mark.parametrize(
    "entry", [e for e in LIBRARY_STRATEGIES if not _by_neighbourhood(e)], ids=str
)
def test_every_library_strategy_fits_the_default_municipality(entry):
    home = default_scenario()
    sc = jobs.strategy_in(home, entry.path)
    assert sc.population.size == home.population.size
    assert not jobs.plans_by_neighbourhood(entry.path)
    assert comparability_problems({home.name: home, sc.name: sc}) == []


@pytest.mark.parametrize("entry", [e for e in LIBRARY_STRATEGIES if _by_neighbourhood(e)], ids=str)
def test_a_strategy_by_neighbourhood_needs_the_neighbourhoods(entry):
    # the default municipality has none: the app shows the strategy as not fitting it
    with pytest.raises(impactsim.ScenarioError, match="unknown neighbourhood south"):
        jobs.strategy_in(default_scenario(), entry.path)
    # ... and says how to open it as the municipality (the upload)
    assert jobs.plans_by_neighbourhood(entry.path)


def test_a_strategy_for_other_families_is_refused_with_its_problems(tmp_path):
    d = small().model_dump(mode="json")
    for seg, name in zip(d["population"]["segments"], "abc", strict=True):
        seg["name"] = name
    online = d["interventions"][0]
    online["dropout_multiplier"] = online["effect_multiplier"] = {}
    d["interventions"] = [online]
    d["strategy"]["offers"] = d["strategy"]["offers"][:1]
    d["strategy"]["interactions"] = []
    d["sources"] = {}
    other = parse_scenario(d, "<other>")
    with pytest.raises(impactsim.ScenarioError) as err:
        jobs.strategy_in(other, jobs.library_strategies()["package"])
    assert err.value.problems


def test_an_uploaded_file_gives_the_scenario_or_its_problems():
    good = dump_scenario(small()).encode()
    sc, problems, _ = jobs.read_upload(good, "good.yaml")
    assert problems == [] and sc == small()
    d = yaml.safe_load(good)
    d["providers"][2]["count"] = -1
    sc, problems, data = jobs.read_upload(yaml.safe_dump(d).encode(), "bad.yaml")
    assert sc is None and data == d
    assert [p.path for p in problems] == ["providers[2:community_centres].count"]
    sc, problems, data = jobs.read_upload(b"population: [", "broken.yaml")
    assert sc is None and problems and data is None


def test_the_page_says_an_upload_problem_in_words_in_both_languages():
    from impactsim.app.pages import plain_problem

    d = yaml.safe_load(dump_scenario(small()))
    d["providers"][2]["count"] = -1
    _, problems, _ = jobs.read_upload(yaml.safe_dump(d).encode(), "bad.yaml")
    en = plain_problem(problems[0], d, "en")
    assert (
        en
        == "community centres › number of organisations of this type: must be at least 0 (given: -1)"
    )
    nl = plain_problem(problems[0], d, "nl")
    assert "moet minstens 0 zijn" in nl and "community centres" in nl


def test_a_yaml_syntax_error_is_said_in_dutch_and_unchanged_in_english():
    from impactsim.app.pages import plain_problem

    broken = b"population:\n  size: 500\n    segments: x\n"  # a key too deeply indented
    _, problems, data = jobs.read_upload(broken, "broken.yaml")
    (problem,) = problems
    # the command line's English is PyYAML's own text, as it always was
    assert "invalid YAML: line 3, column 13: mapping values are not allowed" in str(problem)
    nl = plain_problem(problem, data, "nl")
    assert "ongeldige YAML: regel 3, kolom 13: hier mag geen dubbele punt" in nl
    tab = b"population:\n\tsize: 500\n"
    _, problems, data = jobs.read_upload(tab, "tab.yaml")
    assert "(een tab? gebruik spaties)" in plain_problem(problems[0], data, "nl")


def test_numbers_follow_the_language():
    # the page writes its numbers with the report's fmt
    assert report.fmt(0.4391, "pct", "en") == "43.9 %"
    assert report.fmt(0.4391, "pct", "nl") == "43,9 %"
    assert report.fmt(1.5, "pp", "nl") == "1,50 procentpunt"
    assert report.fmt(-6260.4, "eur", "nl") == "−€ 6.260"
    assert report.fmt(float("nan"), "eur", "nl") == gettext_for("nl")("n/a")


def test_analysis_equals_the_api_and_reports_progress():
    sc = small()
    seen: list[float] = []
    plan = jobs.Plan({sc.name: sc}, replicates=2, seed=5)
    analysis = jobs.analyse(plan, on_progress=seen.append)
    assert seen == [0.5, 1.0]
    api = impactsim.run(sc, replicates=2, seed=5, progress=False)
    page = analysis.runs[sc.name]
    assert page.summary.equals(api.summary)
    assert {f[0] for f in analysis.figures} == {"plane", "funnel", "adoption", "differential"}
    assert all(png.startswith(b"\x89PNG") for *_, png in analysis.figures)
    dutch = jobs.figures_in(analysis, "nl")
    assert [f[:3] for f in dutch] == [f[:3] for f in analysis.figures]
    assert dutch[0][3] != analysis.figures[0][3] and jobs.figures_in(analysis, "nl") is dutch
    html = results.headline_table(analysis, {sc.name: "package"}, "nl")
    mean, lo, hi = report.headline_stats(api, "reach_cumulative")
    pct = [report.fmt(x, "pct", "nl") for x in (mean, lo, hi)]
    assert f'data-strategy="{sc.name}">{pct[0]}<br><small>[{pct[1]}; {pct[2]}]</small>' in html


def test_a_cancelled_run_stops_and_frees_the_slot():
    sc = small()
    plan = jobs.Plan({sc.name: sc}, replicates=4, seed=5)

    def cancel_after_first(share: float) -> None:
        plan.cancel.set()

    with pytest.raises(jobs.Cancelled):
        jobs.analyse(plan, on_progress=cancel_after_first)
    assert jobs.SLOTS.acquire(blocking=False)  # released for the next run
    jobs.SLOTS.release()


def test_a_run_waits_for_the_slot_and_may_be_cancelled_while_waiting():
    sc = small()
    plan = jobs.Plan({sc.name: sc}, replicates=2, seed=5)
    waited = threading.Event()

    def on_wait() -> None:
        waited.set()
        plan.cancel.set()

    with jobs.SLOTS:
        with pytest.raises(jobs.Cancelled):
            jobs.analyse(plan, on_wait=on_wait)
    assert waited.is_set()


def test_the_report_download_reproduces_the_run(tmp_path):
    sc = small()
    plan = jobs.Plan({sc.name: sc}, replicates=2, seed=5)
    html = jobs.report_html(plan).decode()
    assert "package" in html and "<!DOCTYPE html>" in html
    path = tmp_path / "edited.yaml"
    path.write_text(dump_scenario(sc), encoding="utf-8")
    assert load_scenario(path) == sc


def test_the_app_command_refuses_bad_input_before_serving(tmp_path):
    from typer.testing import CliRunner

    from impactsim.cli import app

    bad = tmp_path / "bad.yaml"
    d = default_scenario().model_dump(mode="json")
    d["providers"][2]["count"] = -1
    bad.write_text(yaml.safe_dump(d), encoding="utf-8")
    res = CliRunner().invoke(app, ["app", str(bad), "--port", "1"])
    assert res.exit_code == 2 and "providers[2:community_centres].count" in res.output
    res = CliRunner().invoke(app, ["app", "--lang", "fr"])
    assert res.exit_code == 2 and "--lang must be one of en, nl" in res.output


def test_who_pays_and_who_benefits_adds_up():
    sc = small()
    analysis = jobs.analyse(jobs.Plan({sc.name: sc}, replicates=2, seed=5))
    res = analysis.runs[sc.name]
    flows = {h: stakeholder_flows(res, h) for h in sc.economics.all_stakeholders}
    paid = sum(f["pays"] for f in flows.values())
    received = sum(f["receives"] for f in flows.values())
    assert paid.to_numpy() == pytest.approx(res.metric("cost_pv").to_numpy())
    assert received.to_numpy() == pytest.approx(res.metric("benefit_pv").to_numpy())
    html = results.stakeholder_table(analysis, {sc.name: "package"}, "nl")
    assert "gemeente betaalt" in html and "gemeente, netto" in html


def test_knobs_carry_the_source_of_their_value():
    # the app's help texts read the scenario's sources: a cited value, an assumption
    from impactsim.app.knobs import knobs_for
    from impactsim.loading import load_scenario

    knobs = {k.key: k for k in knobs_for(load_scenario("scenarios/package.yaml"))}
    teams = knobs["providers.youth_health_care_teams.count"]
    assert teams.source is not None and teams.source.assumption
    assert "youth health care" in teams.source.note
    # an offer's start month is documented as strategy.offers.<programme>.start_month
    bench = {k.key: k for k in knobs_for(load_scenario("scenarios/standard-benchmark.yaml"))}
    assert bench["start.home_visits"].source is not None
    assert knobs["start.online_course"].source is None  # not written in package.yaml
    assert knobs["simulation.seed"].source is None  # run settings state no source


def test_a_contradiction_in_an_upload_is_said_in_dutch_at_the_field_by_its_label():
    # the cross-field checks word their findings as catalogue messages: English for the
    # command line, Dutch in the Dutch app, at the field named by its label
    from impactsim.app.pages import plain_problem

    d = yaml.safe_load(dump_scenario(small()))
    d["strategy"]["offers"][1]["start_month"] = 30  # after the 24 months simulated
    d["strategy"]["offers"][0]["channels"].append("tv")
    _, problems, data = jobs.read_upload(yaml.safe_dump(d).encode(), "bad.yaml")
    by_path = {p.path: p for p in problems}
    late = by_path["strategy.offers[1].start_month"]
    assert str(late.message) == (
        "month 30 is at or after the horizon (simulation.months = 24), so the programme "
        "would silently reach nobody"
    )
    nl = plain_problem(late, data, "nl")
    assert nl.startswith("aanbod van group parenting course")
    assert "maand vanaf wanneer de interventie wordt aangeboden: maand 30 valt op of na" in nl
    unknown = plain_problem(by_path["strategy.offers[0].channels"], data, "nl")
    assert "onbekend kanaal 'tv' (toegestaan: " in unknown
    assert plain_problem(late, data, "en").startswith("offer of group parenting course")


def test_a_reserved_name_is_said_in_dutch():
    from impactsim.app.pages import plain_problem

    d = yaml.safe_load(dump_scenario(small()))
    d["channels"][0]["name"] = "All"
    _, problems, data = jobs.read_upload(yaml.safe_dump(d).encode(), "bad.yaml")
    said = [plain_problem(p, data, "nl") for p in problems]
    assert any("'All' is gereserveerd: 'all' markeert de totalen" in s for s in said), said


def test_the_page_shows_the_reports_cells_and_summary():
    # one place for each: the page's cells and summary are the report's
    sc = small()
    other = sc.model_copy(update={"name": "other-town"})
    analysis = jobs.analyse(jobs.Plan({sc.name: sc, other.name: other}, replicates=2, seed=5))
    labels = {sc.name: "own", other.name: "other"}
    table = results.headline_table(analysis, labels, "en")
    for metric, label, kind in report.HEADLINE:
        stats = report.headline_stats(analysis.runs[sc.name], metric)
        mine = report.cell(*stats, kind, "en").removeprefix("<td>").replace(", ", "; ")
        assert f'data-metric="{metric}" data-strategy="{sc.name}">{mine}' in table
        assert label in table
    cmp = results.comparison_table(analysis.comparison, labels, "nl")
    assert "extra kosten per voorkomen probleemjaar" in cmp or "ICER" in cmp
    for metric, _label, kind in report.differences(analysis.comparison):
        stats = report.difference_stats(analysis.comparison, other.name, metric)
        assert stats is not None
        mine = report.cell(*stats, kind, "nl", between="; ").removeprefix("<td>")
        assert f'data-metric="{metric}" data-strategy="{other.name}">{mine}' in cmp
    words = results.frontier_text(analysis.comparison, labels, "en")
    assert words and all(":" in w for w in words)
    # without neighbourhoods there is no section by neighbourhood
    assert results.neighbourhood_table(analysis, labels, "en") == ""
    assert results.neighbourhood_comparison_table(analysis.comparison, analysis, labels, "en") == ""


def test_a_library_strategy_can_be_edited_like_the_municipalitys_own():
    from impactsim.app.pages import build_plan, library_in

    home = small()
    lib, misfit = library_in(home, "free-market")
    assert misfit == [] and lib is not None
    ks = {k.key: k for k in knobs.knobs_for(lib) if k.group in knobs.STRATEGY_GROUPS}
    places = ks["providers.community_centres.capacity_per_month"]
    assert (places.value, places.unit, places.lo) == (6, "participants per month", 0.0)
    assert {"offered.home_visits", "start.group_course", "channel.community_centre"} <= set(ks)
    assert not any(k.startswith("simulation.") or k == knobs.BUDGET for k in ks)

    changes = {"providers.community_centres.capacity_per_month": 2, "start.group_course": 3}
    plan, misfits, refused = build_plan(
        home, ("free-market",), (), {}, "en", {"free-market": changes}
    )
    assert plan is not None and (misfits, refused) == ([], [])
    run_lib = plan.scenarios["free-market"]
    assert {p.name: p.capacity_per_month for p in run_lib.providers}["community_centres"] == 2
    assert {o.intervention: o.start_month for o in run_lib.strategy.offers}["group_course"] == 3
    assert run_lib.population.size == home.population.size  # the municipality's families
    assert run_lib.simulation == home.simulation
    assert plan.replicates == home.simulation.replicates

    late = {"start.group_course": 30}  # after the 24 months simulated
    plan, misfits, refused = build_plan(home, ("free-market",), (), {}, "en", {"free-market": late})
    assert plan is None and refused == ["free-market"]
    _, problems = knobs.edited_scenario(lib, late)
    mine, rest = knobs.problems_by_knob(lib, late, problems)
    assert rest == [] and "horizon" in mine["start.group_course"][0].message


def test_edits_are_kept_per_strategy():
    from impactsim.app import state

    state.reset_for(state.DEFAULT)
    state.set_edit(state.OWN, "providers.community_centres.count", 2)
    state.set_edit("free-market", "providers.community_centres.count", 5)
    assert state.edits_of(state.OWN) == {"providers.community_centres.count": 2}
    assert state.edits_of("free-market") == {"providers.community_centres.count": 5}
    assert state.edits_of("package") == {}
    state.reset_for(state.DEFAULT)  # another municipality: every edit starts afresh
    assert state.edits_of("free-market") == {} and state.edits_of(state.OWN) == {}


def test_the_best_mix_panel_sits_under_run_and_gets_the_budget(monkeypatch):
    import solara

    from impactsim.app import pages, state
    from impactsim.app.bestmix import BestMixPanel

    assert pages.PANELS == [BestMixPanel]
    state.reset_for(state.DEFAULT)
    _box, rc = solara.render(pages.Page(), handle_error=False)
    rc.find(
        children=["Set a budget under Run to search for the best mix within it."]
    ).assert_single()
    state.set_edit(state.OWN, knobs.BUDGET, 250_000.0)
    seen = []

    @solara.component
    def Spy(plan):
        seen.append(plan)
        solara.Text("spy")

    monkeypatch.setattr(pages, "PANELS", [BestMixPanel, Spy])
    _box, rc = solara.render(pages.Page(), handle_error=False)
    rc.find(children=["Find the best mix"]).assert_single()
    assert seen and seen[-1] is not None and seen[-1].budget == 250_000.0
    state.reset_for(state.DEFAULT)


def test_the_best_mix_search_fits_the_budget_and_reports_progress():
    from impactsim.app import bestmix
    from impactsim.loading import parse_scenario as parse

    sc = small()
    cost = impactsim.run(sc, replicates=2, seed=5, progress=False).metric("cost_pv").mean()
    plan = jobs.Plan({sc.name: sc}, replicates=2, seed=5, budget=0.8 * cost)
    seen: list[float] = []
    found = bestmix.find_best_mix(plan, seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0  # one stage, then two curve levels
    assert "the best mix found is" in " ".join(found.sentences["en"])
    assert "de beste gevonden mix" in " ".join(found.sentences["nl"])
    assert found.curve_png["nl"].startswith(b"\x89PNG")
    assert found.recommended_yaml is not None
    recommended = parse(yaml.safe_load(found.recommended_yaml), "<recommended>")
    again = impactsim.run(recommended, progress=False)
    assert again.metric("cost_pv").mean() <= 0.8 * cost * (1 + 1e-9)  # within the budget
    assert jobs.SLOTS.acquire(blocking=False)  # the slot is free again
    jobs.SLOTS.release()


def test_a_cancelled_search_stops_and_frees_the_slot():
    from impactsim.app import bestmix

    sc = small()
    plan = jobs.Plan({sc.name: sc}, replicates=2, seed=5, budget=1e6)
    plan.cancel.set()
    with pytest.raises(jobs.Cancelled):
        bestmix.find_best_mix(plan)
    assert jobs.SLOTS.acquire(blocking=False)
    jobs.SLOTS.release()


def test_the_library_strategies_are_the_librarys_scenarios():
    # read from the folder, not from each file: the page asks at every render
    want = {e.name: e.path for e in entries() if e.kind == "scenario"}
    assert jobs.library_strategies() == want and "free-market" in want


def test_pydantics_own_messages_are_reworded_in_dutch():
    from impactsim.app.pages import plain_problem

    d = yaml.safe_load(dump_scenario(small()))
    d["population"]["network"]["kind"] = "lattice"
    d["channels"][0]["name"] = 5
    _, problems, data = jobs.read_upload(yaml.safe_dump(d).encode(), "bad.yaml")
    said = " | ".join(plain_problem(p, data, "nl") for p in problems)
    assert "moet een van deze zijn: 'random', 'fully_mixed' of 'small_world'" in said
    assert "moet tekst zijn" in said


def _nl_number(text: str) -> float:
    """A number as the Dutch page writes it: ``−1.234,5 %`` is -1234.5."""
    bare = re.sub(r"[^0-9,.\u2212-]", "", text)
    return float(bare.replace(".", "").replace(",", ".").replace("\u2212", "-"))


def _page_cell(table: str, metric: str, strategy: str, place: str) -> tuple[float, float, float]:
    """Mean and interval ends of one cell of a page table (Dutch numbers)."""
    attrs = f'data-metric="{metric}" data-strategy="{strategy}" data-neighbourhood="{place}"'
    found = re.search(re.escape(attrs) + r">([^<]*)<br><small>\[([^;]*); ([^\]]*)\]", table)
    assert found, (metric, strategy, place)
    mean, lo, hi = (_nl_number(x) for x in found.groups())
    return mean, lo, hi


def test_the_results_by_neighbourhood_are_the_runs_summary_rows():
    from impactsim.app.pages import build_plan

    # the app's own way in: upload the library file, choose the other as a library strategy
    raw = jobs.library_strategies()["neighbourhoods"].read_bytes()
    town, problems, _ = jobs.read_upload(raw, "neighbourhoods.yaml")
    assert problems == [] and town is not None
    d = town.model_dump(mode="json")
    d["population"]["size"] = 800
    d["simulation"].update(months=24, replicates=3, seed=5)
    town = parse_scenario(d, "<small neighbourhoods>")
    plan, misfits, refused = build_plan(town, ("neighbourhoods-south",), (), {}, "nl")
    assert plan is not None and (misfits, refused) == ([], [])
    analysis = jobs.analyse(plan)
    labels = report.strategy_labels(plan.scenarios)
    table = results.neighbourhood_table(analysis, labels, "nl")
    places = ["all", "centre", "north", "east", "south"]
    # the page rounds a share to 0.1 % and percentage points to 0.01: at most half of that
    # apart (and a hair more, as 8.75 may be stored as 8.7500000001)
    half_pct, half_pp = 0.05 + 1e-9, 0.005 + 1e-9
    scale_tol = {"reach_cumulative": (100.0, half_pct), "public_impact_pp": (1.0, half_pp)}
    for name, res in analysis.runs.items():
        for place in places:
            for metric, (scale, tol) in scale_tol.items():
                rows = res.summary[
                    (res.summary["metric"] == metric)
                    & (res.summary["neighbourhood"] == place)
                    & (res.summary["segment"] == "all")
                    & (res.summary["intervention"] == "all")
                    & (res.summary["channel"] == "all")
                    & (res.summary["adopter_category"] == "all")
                    & (res.summary["outcome"] == "all")
                ]["value"].to_numpy()
                assert len(rows) == 3
                want = (rows.mean(), *np.quantile(rows, [0.025, 0.975]))
                got = _page_cell(table, metric, name, place)
                assert got == pytest.approx([scale * w for w in want], abs=tol)
        gaps = res.metric("neighbourhood_impact_gap_pp").to_numpy()
        got = _page_cell(table, "neighbourhood_impact_gap_pp", name, "all")
        assert got == pytest.approx((gaps.mean(), *np.quantile(gaps, [0.025, 0.975])), abs=half_pp)
    for dutch in ("wijk", "hele gemeente", "tussen de wijken", "bereik", "procentpunt"):
        assert dutch in table, dutch
    assert "south (most deprived)" in table  # the neighbourhood's label in the scenario

    # paired differences from the baseline, per neighbourhood and of the gap
    base, south = analysis.runs["neighbourhoods"], analysis.runs["neighbourhoods-south"]
    diffs = results.neighbourhood_comparison_table(analysis.comparison, analysis, labels, "nl")
    for place, metric in [("south", "public_impact_pp"), ("all", "neighbourhood_impact_gap_pp")]:
        paired = (
            replicate_values(south.summary, metric, neighbourhood=place)
            - replicate_values(base.summary, metric, neighbourhood=place)
        ).to_numpy()
        got = _page_cell(diffs, metric, "neighbourhoods-south", place)
        assert got == pytest.approx(
            (paired.mean(), *np.quantile(paired, [0.025, 0.975])), abs=half_pp
        )
    assert "verschil met" in diffs and "tussen de wijken" in diffs
    assert "dichter bij elkaar" in results.gap_note(analysis.comparison, labels, "nl")
    assert "Per wijk" in report.neighbourhood_table(analysis.runs, "nl")  # the report's too
    drawn = [f[1] for f in analysis.figures if f[0] == jobs.NEIGHBOURHOOD_FIGURE]
    assert drawn == ["neighbourhoods", "neighbourhoods-south"]

    # the page shows the section with these tables and the figures
    import solara

    from impactsim.app import pages, state

    state.lang.value = "nl"
    try:
        _box, rc = solara.render(pages.Results(analysis), handle_error=False)
        rc.find(unsafe_innerHTML="Per wijk").assert_single()
        rc.find(unsafe_innerHTML=table).assert_single()
        rc.find(unsafe_innerHTML=diffs).assert_single()
        caption = f"{labels['neighbourhoods-south']}: Bereik en publieke impact per wijk"
        rc.find(children=[caption]).wait_for(timeout=60)
    finally:
        state.lang.value = "en"


def test_a_strategy_by_neighbourhood_says_how_to_use_it():
    import solara

    from impactsim.app import pages, state

    state.reset_for(state.DEFAULT)
    state.chosen.value = ("neighbourhoods",)
    try:
        _box, rc = solara.render(pages.Page(), handle_error=False)
        rc.find(
            children=[
                "neighbourhoods plans by neighbourhood (wijk). To use it, upload its file as "
                "the municipality: `impactsim scenarios copy neighbourhoods .` gives you the file."
            ]
        ).assert_single()
    finally:
        state.chosen.value = ()
