"""Planner-facing words for an optimisation: objective labels with units, mixes in words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from impactsim.i18n import N_, gettext_for, money, number, percent
from impactsim.optimize.spec import Optimization, ResolvedDecision
from impactsim.scenario import Scenario
from impactsim.scenario.labels import value_label, words

#: Label of each objective or kept metric, and its kind of unit.
METRIC_WORDS: dict[str, tuple[str, str]] = {
    "public_impact_pp": (N_("public impact"), "pp"),
    "case_years_prevented": (N_("problem case-years prevented"), "case_years"),
    "case_years_prevented_pv": (N_("problem case-years prevented (discounted)"), "case_years"),
    "cases_prevented": (N_("problem cases prevented"), "cases"),
    "reach_cumulative": (N_("reach"), "share"),
    "npv": (N_("net present value"), "eur"),
    "nmb": (N_("net monetary benefit"), "eur"),
    "cost_pv": (N_("cost (present value)"), "eur"),
    "differential_impact_gap_pp": (N_("impact gap between least and most advantaged"), "pp"),
}


def metric_label(metric: str, lang: str) -> str:
    """A metric's label in words."""
    _ = gettext_for(lang)
    return _(METRIC_WORDS[metric][0]) if metric in METRIC_WORDS else words(metric)


def metric_value(metric: str, value: float, lang: str) -> str:
    """A metric's value with its unit."""
    _ = gettext_for(lang)
    kind = METRIC_WORDS.get(metric, ("", "eur" if "cost" in metric else ""))[1]
    if kind == "pp":
        return _("{x} percentage points").format(x=number(value, lang, 2))
    if kind == "case_years":
        return _("{x} case-years").format(x=number(value, lang, 0))
    if kind == "cases":
        return _("{x} cases").format(x=number(value, lang, 0))
    if kind == "share":
        return percent(value, lang)
    if kind == "eur":
        return money(value, lang, millions=True)
    return number(value, lang, 2)


def _decision_words(d: ResolvedDecision, value: Any, scenario: Scenario, lang: str) -> str:
    _ = gettext_for(lang)
    if d.spec.kind == "offered":
        data = scenario.model_dump()
        if d.loc[0] == "channels":
            name = data["channels"][d.loc[1]]["name"]
            return (_("channel {name}: used") if value else _("channel {name}: not used")).format(
                name=words(name)
            )
        offer = data["strategy"]["offers"][d.loc[2]]
        ivs = {iv["name"]: iv for iv in data["interventions"]}
        label = ivs[offer["intervention"]].get("label") or words(offer["intervention"])
        return (_("{name}: offered") if value else _("{name}: not offered")).format(name=label)
    try:
        shown = value_label(scenario, d.spec.path, lang)
    except Exception:  # a path through a dropped offer: its value still describes the mix
        return f"{words(d.label)}: {value}"
    return f"{shown.label}: {shown.value}"


def mix_words(opt: Optimization, values: Mapping[str, Any], lang: str) -> list[str]:
    """Each decision of a mix in words, with units (labels from the base scenario)."""
    from impactsim.optimize.mix import mix_scenario

    applied = mix_scenario(opt.base, [d for d in opt.decisions if d.spec.kind == "value"], values)
    try:
        scenario = Scenario.model_validate(applied)
    except ValueError:
        scenario = Scenario.model_validate(opt.base)
    return [_decision_words(d, values[d.label], scenario, lang) for d in opt.decisions]
