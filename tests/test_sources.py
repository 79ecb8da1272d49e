"""Sources as data: every cited path must address a value of the scenario (issue 33)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from helpers import base_dict
from impactsim import library
from impactsim.inputs import ScenarioError
from impactsim.loading import default_scenario_path, load_scenario, parse_scenario, read_yaml
from impactsim.scenario.paths import item_name

ROOT = Path(__file__).resolve().parents[1]


def _with_sources(sources: dict, **population: object) -> dict:
    d = base_dict()
    d["sources"] = sources
    d["population"].update(population)
    return d


def test_sources_may_document_any_value_also_a_default():
    sc = parse_scenario(
        _with_sources(
            {
                "population.size": {"assumption": True, "note": "a village"},
                "population.segments.all_parents.baseline_prevalence": {"citation": "CBS"},
                "population.segments[0].contact_rates.campaign": {"citation": "survey"},
                "interventions.prog.effect_size.mean": {"citation": "trial", "note": "d"},
                # left at its default in the file, still a value of the scenario
                "economics.discount_rate_costs_per_year": {"citation": "Zorginstituut 2016"},
                "strategy.offers.0": {"assumption": True},
            }
        ),
        "t.yaml",
    )
    assert sc.sources["population.size"].assumption is True
    assert sc.sources["economics.discount_rate_costs_per_year"].citation == "Zorginstituut 2016"


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("population.sise", "unknown key 'sise' in 'population'; did you mean 'size'?"),
        ("population.segments.everyone.share", "no item named 'everyone' in 'population.segm"),
        ("population.segments[3].share", "position 3 is out of range"),
        ("population.size.value", "'population.size' is a single value"),
        ("population.segments.0.contact_rates.school", "has no key 'school' (allowed: campaign)"),
        ("interventions.prog.effect_multiplier.x", "effect_multiplier' holds no items"),
        ("sources.population.size", "a source cannot document another source"),
        ("population..size", "empty or malformed part"),
    ],
)
def test_a_path_that_addresses_nothing_is_refused(path, says):
    with pytest.raises(ScenarioError) as err:
        parse_scenario(_with_sources({path: {"citation": "x"}}), "t.yaml")
    (problem,) = err.value.problems
    assert problem.path == f"sources[{path!r}]"
    assert "not a value of this scenario" in problem.message and says in problem.message


def test_every_problem_at_once_with_field_errors():
    # a field error elsewhere and an uncited, unassumed entry do not hide a bad path
    d = _with_sources({"population.sise": {"citation": "x"}, "population.size": {"note": "?"}})
    d["population"]["turnover_rate_per_month"] = -1
    with pytest.raises(ScenarioError) as err:
        parse_scenario(d, "t.yaml")
    paths = sorted(p.path for p in err.value.problems)
    assert paths == [
        "population.turnover_rate_per_month",
        "sources.population.size",
        "sources['population.sise']",
    ]
    cite = next(p for p in err.value.problems if p.path == "sources.population.size")
    assert "give a citation, or mark the value as an assumption" in cite.message


# --- the library states the source of every number (issue 33) -------------------------------


def _library_scenarios() -> list[Path]:
    found = [e.path for e in library.entries() if e.kind == "scenario"]
    return [*found, default_scenario_path()]


def _numeric_leaves(node: object, path: tuple[str, ...] = ()) -> Iterator[str]:
    """Dotted path of every number in a raw YAML document; list items by name, else position.

    Items without a ``name`` go by what identifies them (paths.item_name): an offer by its
    programme, so a reordered list keeps its sources.
    """
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _numeric_leaves(value, (*path, str(key)))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            name = item_name(item)
            yield from _numeric_leaves(item, (*path, name if name is not None else str(i)))
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield ".".join(path)


def test_the_library_has_the_built_in_default_and_the_strategies():
    names = {p.name for p in _library_scenarios()}
    assert {"default.yaml", "package.yaml", "free-market.yaml"} <= names


@pytest.mark.parametrize("path", _library_scenarios(), ids=lambda p: p.name)
def test_every_number_of_a_library_scenario_states_its_source(path):
    # the run settings (horizon, time step, replicates, seed) are choices of the run, not
    # facts about the municipality or the programmes, so `simulation` needs no source
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    leaves = [p for p in _numeric_leaves(doc) if p.split(".")[0] not in ("simulation", "sources")]
    sources = doc.get("sources") or {}
    missing = [p for p in leaves if p not in sources]
    assert not missing, f"{path.name}: no source for {missing}"
    sc = load_scenario(path)  # every key addresses a value, every entry is cited or assumed
    for key, source in sc.sources.items():
        assert source.note.strip() and len(source.note) <= 300, (path.name, key)


@pytest.mark.parametrize("path", _library_scenarios(), ids=lambda p: p.name)
def test_no_source_is_kept_in_a_comment_any_more(path):
    comments = [
        m.group(1)
        for line in path.read_text(encoding="utf-8").splitlines()
        if (m := re.search(r"(?:^|\s)#(.*)$", line))
    ]
    stale = [c for c in comments if "ASSUMPTION" in c or "[brief §" in c]
    assert not stale, f"{path.name}: sources still in comments: {stale}"


def test_items_without_a_name_go_by_what_identifies_them():
    # an offer by its programme, an interaction by its pair: reordering keeps the meaning
    from impactsim.scenario.paths import format_location, locate

    d = base_dict()
    d["interventions"].append({**d["interventions"][0], "name": "other"})
    offer = d["strategy"]["offers"][0]
    d["strategy"]["offers"] = [{**offer, "intervention": "other"}, offer]
    d["strategy"]["interactions"] = [{"interventions": ["prog", "other"], "gamma": 0.5}]
    d["sources"] = {
        "strategy.offers.prog.start_month": {"citation": "plan"},
        "strategy.interactions.prog+other.gamma": {"assumption": True},
    }
    data = parse_scenario(d, "t.yaml").model_dump()
    assert locate(data, "strategy.offers.prog.start_month") == (
        "strategy",
        "offers",
        1,
        "start_month",
    )
    assert (
        format_location(("strategy", "interactions", 0), data) == "strategy.interactions.prog+other"
    )
    d["strategy"]["offers"].append(offer)  # the same programme offered twice: ambiguous
    with pytest.raises(ScenarioError, match=r"several items are called 'prog' in 'strategy.offers"):
        parse_scenario(d, "t.yaml")


#: Strategies for the same synthetic municipality: their results compare directly and share
#: random numbers for the population only if these sections are identical.
MUNICIPALITY = [
    "civil-society",
    "embedding",
    "free-market",
    "multilevel-triple-p",
    "online-upscaling",
    "package",
    "stepped-care",
]
CRITICAL_MASS = ["critical-mass-broad", "critical-mass-seeded"]


@pytest.mark.parametrize("group", [MUNICIPALITY, CRITICAL_MASS], ids=["municipality", "critical"])
def test_strategies_of_one_municipality_share_it_and_its_sources(group):
    # the library's files are edited by hand; this keeps the shared municipality shared
    docs = [read_yaml(ROOT / "scenarios" / f"{name}.yaml") for name in group]
    every = [read_yaml(p) for p in _library_scenarios() if p.parent.name == "scenarios"]
    for section in ("population", "economics"):
        kept = docs if section == "population" else every
        assert all(d[section] == kept[0][section] for d in kept), section
        cited = [
            {k: v for k, v in d["sources"].items() if k.split(".")[0] == section} for d in kept
        ]
        assert all(c == cited[0] for c in cited), f"sources of {section}"
    # one outcome, or the same several outcomes (issue 34), whose first is that one outcome
    one = [d for d in every if "outcome" in d]
    several = [d for d in every if "outcomes" in d]
    assert all(d["outcome"] == one[0]["outcome"] for d in one)
    first = dict(several[0]["outcomes"][0]) if several else {}
    assert {k: v for k, v in first.items() if k not in ("name", "label")} == {
        k: v for k, v in one[0]["outcome"].items() if k != "name"
    }
    for section in ("outcome", "outcomes", "outcome_correlation"):
        kept = one if section == "outcome" else several
        assert all(d[section] == kept[0][section] for d in kept), section
        cited = [
            {k: v for k, v in d["sources"].items() if k.split(".")[0] == section} for d in kept
        ]
        assert all(c == cited[0] for c in cited), f"sources of {section}"


def test_a_copy_whose_sources_were_checked_skips_only_that_check():
    """``SOURCES_CHECKED`` in the validation context (a calibration candidate: values alone
    changed) skips the source-path check; every other check still runs."""
    from pydantic import ValidationError

    from impactsim.scenario import Scenario
    from impactsim.scenario.model import SOURCES_CHECKED

    data = _with_sources({"population.sise": {"citation": "x"}})
    with pytest.raises(ValidationError, match="not a value of this scenario"):
        Scenario.model_validate(data)
    checked = Scenario.model_validate(data, context={SOURCES_CHECKED: True})
    assert "population.sise" in checked.sources
    data["population"]["segments"][0]["share"] = 0.5  # shares no longer add up to 1
    with pytest.raises(ValidationError):
        Scenario.model_validate(data, context={SOURCES_CHECKED: True})
