"""Metrics: a value is NaN only where docs/model.md says it is not defined (0/0).

docs/model.md section 9, "When a value is not defined", lists each value that can be NaN
and the condition, visible in the same replicate's table, under which it is. A package
strategy run on 40 families leaves small adopter categories (2.5 % innovators: about one
family) empty in some replicates and some programmes without participants, so the
conditions occur; every NaN must be explained by its condition and every other value must
be finite.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impactsim
from impactsim.loading import parse_scenario, read_yaml
from impactsim.metrics import FAMILIES
from impactsim.tables import ALL

SHARES = {
    "reach_direct",
    "reach_cumulative",
    "reach_indirect",
    "prevalence",
    "prevalence_counterfactual",
    "public_impact_pp",
    "realized_effect_share",
    "mean_gain_sd",
}
PER_PARTICIPANT = "_per_participant"
PER_EFFECT = {
    "cost_per_case_prevented": "cases_prevented",
    "cost_per_case_year_prevented": "case_years_prevented_pv",
    "cost_per_pp_impact": "public_impact_pp",
}


@pytest.fixture(scope="module")
def small_run() -> impactsim.RunResult:
    data = read_yaml("scenarios/package.yaml")
    data["population"]["size"] = 40
    data["simulation"].update(months=24, replicates=16)
    return impactsim.run(parse_scenario(data, "package (40 families)"), progress=False)


def _value(rep: pd.DataFrame, metric: str, **where: str) -> float:
    sel = rep["metric"] == metric
    for col in ("segment", "intervention", "channel", "adopter_category", "outcome"):
        sel &= rep[col] == where.get(col, ALL)
    values = rep.loc[sel, "value"].to_numpy()
    assert values.size == 1, (metric, where, values)
    return float(values[0])


def _extremes(result: impactsim.RunResult) -> tuple[str, str]:
    """Most and least advantaged target segments (advantage_rank 1 = most)."""
    segments = sorted(result.scenario.population.segments, key=lambda s: s.advantage_rank)
    return segments[0].name, segments[-1].name


def _why_undefined(rep: pd.DataFrame, row: pd.Series, extremes: tuple[str, str]) -> str | None:
    """The documented condition that makes ``row`` undefined, if it holds in ``rep``."""
    m, seg, iv, cat = row["metric"], row["segment"], row["intervention"], row["adopter_category"]
    nobody_enrolled = _value(rep, "participants") == 0
    if m in SHARES and (seg != ALL or cat != ALL):
        where = {"segment": seg} if seg != ALL else {"adopter_category": cat}
        return "empty group" if _value(rep, FAMILIES, **where) == 0 else None
    if m == "completion_rate":
        ended = _value(rep, "completions", intervention=iv) + _value(
            rep, "dropouts", intervention=iv
        )
        return "nobody ended" if ended == 0 else None
    if m in ("adopter_category_realized_share", "efficacy_d", "effectiveness_d") and iv == ALL:
        return "nobody enrolled" if nobody_enrolled else None
    if m.endswith(PER_PARTICIPANT):
        return "no participants" if nobody_enrolled else None
    if m in PER_EFFECT:
        return "no positive effect" if _value(rep, PER_EFFECT[m]) <= 0 else None
    if m.startswith("differential_impact_"):
        if any(_value(rep, FAMILIES, segment=x) == 0 for x in extremes):
            return "an extreme segment is empty"
        out = row.get("outcome", ALL)  # an outcome's own impact (several outcomes)
        if (
            m.endswith("ratio")
            and _value(rep, "public_impact_pp", segment=extremes[0], outcome=out) == 0
        ):
            return "no impact in the most advantaged segment"
        return None
    if m in ("bcr", "roi"):
        return "no cost" if _value(rep, "cost_pv") <= 0 else None
    return None


def test_nan_only_where_documented(small_run: impactsim.RunResult) -> None:
    summary, extremes = small_run.summary, _extremes(small_run)
    undefined = summary[summary["value"].isna()]
    assert len(undefined) > 0, "the run should leave some group empty (test exercises nothing)"
    unexplained = [
        (int(r["replicate"]), r["metric"], r["segment"], r["intervention"], r["adopter_category"])
        for _, r in undefined.iterrows()
        if _why_undefined(summary[summary["replicate"] == r["replicate"]], r, extremes) is None
    ]
    assert unexplained == []
    assert np.isfinite(summary["value"].dropna()).all()


def test_families_are_the_denominators(small_run: impactsim.RunResult) -> None:
    # families per segment and per adopter category add up to the total in every replicate
    s = small_run.summary
    fam = s[s["metric"] == FAMILIES]
    for _, rep in fam.groupby("replicate"):
        total = _value(rep, FAMILIES)
        assert total == 40  # no turnover in package.yaml: every family stays
        by_seg = rep[(rep["segment"] != ALL)]["value"].sum()
        by_cat = rep[(rep["adopter_category"] != ALL)]["value"].sum()
        assert (by_seg, by_cat) == (total, total)
    # reach = ever enrolled / families, exactly, where defined (hand calculation per row)
    reach = s[(s["metric"] == "reach_cumulative") & (s["adopter_category"] != ALL)]
    empty = fam.merge(reach, on=["replicate", "adopter_category"], suffixes=("_n", "_r"))
    assert (empty["value_r"].isna() == (empty["value_n"] == 0)).all()
    assert (empty["value_n"] == 0).any()


def test_summary_stats_average_where_defined(small_run: impactsim.RunResult) -> None:
    stats = small_run.summary_stats()
    row = stats[
        (stats["metric"] == "reach_cumulative") & (stats["adopter_category"] == "innovators")
    ].iloc[0]
    values = small_run.metric("reach_cumulative", adopter_category="innovators")
    assert row["n"] == values.notna().sum() < len(values)
    assert row["mean"] == pytest.approx(values.dropna().mean(), rel=1e-12)
