"""Sources as data: every cited path must address a value of the scenario (issue 33)."""

from __future__ import annotations

import pytest

from helpers import base_dict
from impactsim.inputs import ScenarioError
from impactsim.loading import parse_scenario


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
