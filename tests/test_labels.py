"""Plain labels of scenario values, built from the schema's field descriptions."""

from __future__ import annotations

import pytest

from impactsim.loading import load_scenario
from impactsim.scenario.labels import format_value, shown_name, split_description, value_label


@pytest.mark.parametrize(
    ("description", "what", "unit"),
    [
        (
            "share of all families in this segment (fraction)",
            "share of all families in this segment",
            "fraction",
        ),
        (
            "number of families (parents) simulated (count)",
            "number of families (parents) simulated",
            "count",
        ),
        (
            "mean fidelity of delivery; scales the effect delivered (fraction, 0-1)",
            "mean fidelity of delivery",
            "fraction",
        ),
        (
            "per channel name: rate at which a parent is contacted (contacts per parent per month); more",
            "rate at which a parent is contacted",
            "contacts per parent per month",
        ),
        (
            "interaction γ: d_A + γ·min(d_A, d_B) (dimensionless; negative = overlap)",
            "interaction γ: d_A + γ·min(d_A, d_B)",
            "",
        ),
        ("scenario identifier", "scenario identifier", ""),
    ],
)
def test_split_description(description, what, unit):
    assert split_description(description) == (what, unit)


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (0.45, "fraction", "45 %"),
        (20000, "count", "20,000"),
        (50000.0, "euros per year", "€50,000 per year"),
        (0.004, "per month", "0.004 per month"),
        (True, "", "yes"),
        (None, "months", "none"),
        (1.5, "fraction", "1.5 fraction"),  # not a share: shown as written
    ],
)
def test_format_value(value, unit, shown):
    assert format_value(value, unit) == shown


def test_values_of_a_library_scenario_read_as_words():
    sc = load_scenario("scenarios/package.yaml")
    seg = value_label(sc, "population.segments.lower_ses_migration.contact_rates.community_centre")
    assert seg.label == (
        "lower income, often migration background › community centre › rate at which a parent "
        "of this segment is contacted by that channel"
    )
    assert seg.value == "0.08 contacts per parent per month"
    offer = value_label(sc, "strategy.offers.0.start_month")
    assert offer.label.startswith("offer of online parenting course › ")
    pair = value_label(sc, "strategy.interactions.0.gamma")
    assert pair.label.startswith("combination of online parenting course and group parenting")
    assert value_label(sc, "economics.discount_rate_costs_per_year").value == "4 %"


def test_an_item_is_shown_by_its_label_else_its_name_in_words():
    from impactsim.loading import default_scenario

    sc = default_scenario()
    online = next(iv for iv in sc.interventions if iv.name == "online_course")
    assert shown_name(online) == "online parenting course"  # its label
    assert shown_name(online.model_copy(update={"label": ""})) == "online course"
