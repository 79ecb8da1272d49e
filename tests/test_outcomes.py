"""Several outcomes: the schema (outcomes, correlation, effect sizes per outcome).

The engine's per-outcome results are tested in ``tests/test_outcome_engine.py``.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from helpers import base_dict
from impactsim.loading import ScenarioError, parse_scenario
from impactsim.scenario.outcomes import correlation_matrix, lower_factor


def three_outcomes(corr: dict | None = None) -> dict:
    """base_dict with outcomes behaviour (the primary), emotional and parent_mental."""
    d = base_dict()
    d["outcomes"] = [
        {"name": "behaviour", "baseline_prevalence": {"all_parents": 0.15}},
        {"name": "emotional", "baseline_prevalence": {"all_parents": 0.10}},
        {"name": "parent_mental", "baseline_prevalence": {"all_parents": 0.20}},
    ]
    d["interventions"][0]["effect_sizes"] = {"emotional": {"mean": 0.22}}
    if corr is not None:
        d["outcome_correlation"] = corr
    return d


def problems(d: dict) -> str:
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(copy.deepcopy(d), "<test>")
    return "\n".join(str(p) for p in exc.value.problems)


def test_a_single_outcome_is_a_list_of_one():
    sc = parse_scenario(base_dict(), "<test>")
    (only,) = sc.outcome_list
    assert only.name == "outcome"
    assert only.problem_cutoff == sc.outcome.problem_cutoff


def test_the_primary_outcome_stands_for_outcome_and_round_trips():
    sc = parse_scenario(three_outcomes({"behaviour": {"emotional": 0.5}}), "<test>")
    assert [o.name for o in sc.outcome_list] == ["behaviour", "emotional", "parent_mental"]
    assert sc.outcome.baseline_prevalence == {"all_parents": 0.15}
    again = parse_scenario(sc.model_dump(), "<dump>")
    assert again == sc


def test_outcome_and_outcomes_exclude_each_other():
    d = three_outcomes()
    d["outcome"] = {"problem_cutoff": 1.0}
    assert "give either `outcome` (one) or `outcomes`" in problems(d)


def test_several_outcomes_need_every_segment_and_known_names():
    d = three_outcomes()
    del d["outcomes"][1]["baseline_prevalence"]
    d["outcomes"][2]["baseline_prevalence"] = {"nobody": 0.2}
    d["interventions"][0]["effect_sizes"] = {"behaviour": {"mean": 0.1}, "school": {"mean": 0.1}}
    text = problems(d)
    assert (
        "outcomes[1:emotional].baseline_prevalence: required for an outcome after the first" in text
    )
    assert "unknown segment(s): nobody" in text
    assert "missing segment(s): all_parents" in text
    assert "effect_sizes.behaviour: 'behaviour' is the first outcome" in text
    assert "effect_sizes.school: unknown outcome 'school'" in text


def test_correlation_errors_name_the_entries():
    text = problems(
        three_outcomes(
            {
                "behaviour": {"behaviour": 0.9, "emotional": 0.3},
                "emotional": {"behaviour": 0.4},
                "school": {"behaviour": 0.1},
            }
        )
    )
    assert "outcome_correlation.behaviour.behaviour: an outcome's correlation with itself" in text
    assert "outcome_correlation.behaviour.emotional: not symmetric" in text
    assert "outcome_correlation.school: unknown outcome 'school'" in text


def test_a_matrix_that_is_not_semidefinite_is_refused_naming_its_entries():
    # rho_be = rho_bp = 0.9 forces rho_ep >= 2*0.81 - 1 = 0.62; -0.5 contradicts them
    corr = {
        "behaviour": {"emotional": 0.9, "parent_mental": 0.9},
        "emotional": {"parent_mental": -0.5},
    }
    text = problems(three_outcomes(corr))
    assert "not positive semidefinite" in text
    for entry in (
        "behaviour.emotional = 0.9",
        "behaviour.parent_mental = 0.9",
        "emotional.parent_mental = -0.5",
    ):
        assert entry in text
    ok = copy.deepcopy(corr)
    ok["emotional"]["parent_mental"] = 0.62
    parse_scenario(three_outcomes(ok), "<test>")


def test_lower_factor_keeps_earlier_rows_when_an_outcome_is_added():
    r2 = correlation_matrix(["a", "b"], {"a": {"b": 0.6}})
    r3 = correlation_matrix(["a", "b", "c"], {"a": {"b": 0.6, "c": 0.3}, "b": {"c": -0.2}})
    low2, low3 = lower_factor(r2), lower_factor(r3)
    np.testing.assert_array_equal(low3[:2, :2], low2)
    np.testing.assert_allclose(low3 @ low3.T, r3, atol=1e-15)
    # a singular but semidefinite matrix (two identical outcomes) still factors
    r = correlation_matrix(["a", "b"], {"a": {"b": 1.0}})
    np.testing.assert_allclose(lower_factor(r) @ lower_factor(r).T, r, atol=1e-15)
