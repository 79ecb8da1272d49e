"""The reference model's horizon metrics, with the definitions of :mod:`impactsim.metrics`.

Comments cite the sections of ``docs/model.md`` (``§9`` = section 9).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from impactsim.reference.rules import ALL, Programme, ratio
from impactsim.scenario import ADOPTER_CATEGORIES


def horizon_summary(
    last: Mapping[str, Any],
    segs: Sequence[str],
    target: Sequence[str],
    rank: Mapping[str, int],
    programmes: Sequence[Programme],
    organisations: Mapping[str, int],
    outcomes: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Horizon metrics with the definitions of :mod:`impactsim.metrics` (target population).

    Args:
        last: the model's measurements at the end of the last step (the data collector's
            last row: counts keyed ``"what|programme|segment"``).
        segs: every segment's name.
        target: the names of the target segments.
        rank: advantage rank per segment (1 = most advantaged).
        programmes: the offered programmes.
        organisations: number of organisations per provider type.
        outcomes: with several outcomes, their names (the primary first): each outcome's
            rows are added under its name, as :func:`impactsim.metrics.outcome_views` does.

    Returns:
        Rows with keys metric, segment, intervention, adopter_category, outcome and value.
    """
    rows: list[dict[str, Any]] = []

    def add(metric: str, value: float, **labels: str) -> None:
        rows.append(
            {
                "metric": metric,
                "segment": labels.get("segment", ALL),
                "intervention": labels.get("intervention", ALL),
                "adopter_category": labels.get("adopter_category", ALL),
                "outcome": labels.get("outcome", ALL),
                "value": float(value),
            }
        )

    def count(*key: str) -> float:
        return float(last["|".join(key)])

    def per_segment(metric: str, key: tuple[str, ...], scale: float = 1.0, **kw: str) -> None:
        """Share of the target population, then the share within every segment."""
        num = sum(count(*key, s) for s in target)
        den = sum(count("present", s) for s in target)
        add(metric, scale * ratio(num, den), **kw)
        for s in segs:
            add(metric, scale * ratio(count(*key, s), count("present", s)), segment=s, **kw)

    for p in programmes:
        per_segment("reach_direct", ("reach_direct", p.name), intervention=p.name)
        for flow in ("enrolments", "completions", "dropouts", "gave_up_waiting"):
            add(flow, sum(count(flow, p.name, s) for s in target), intervention=p.name)
        add("waiting", sum(count("waiting", p.name, s) for s in target), intervention=p.name)
        assigned = sum(organisations.get(k, 0) for k in p.provider_types)
        add("use_provider_share", ratio(count("offering", p.name), assigned), intervention=p.name)
    per_segment("reach_cumulative", ("reach_any",))
    for a in ADOPTER_CATEGORIES:
        add(
            "reach_cumulative",
            ratio(
                sum(count("reach_any_category", a, s) for s in target),
                sum(count("present_category", a, s) for s in target),
            ),
            adopter_category=a,
        )
    per_segment("reach_indirect", ("reach_indirect",))
    # the primary outcome as 'all'; with several, every outcome by name (the primary's keys
    # have no outcome part, the others' the outcome's name)
    views = [(ALL, ())] + [(o, () if i == 0 else (o,)) for i, o in enumerate(outcomes)]
    for label, part in views:

        def keyed(what: str, part: tuple[str, ...] = part) -> tuple[str, ...]:
            return (what, *part)

        per_segment("prevalence", keyed("cases"), outcome=label)
        per_segment("prevalence_counterfactual", keyed("cases_counterfactual"), outcome=label)
        # public impact: 100 (counterfactual cases - cases) / present; per segment = differential
        cf, cases = keyed("cases_counterfactual"), keyed("cases")
        impact = {
            s: 100.0 * ratio(count(*cf, s) - count(*cases, s), count("present", s)) for s in segs
        }
        avoided = sum(count(*cf, s) - count(*cases, s) for s in target)
        present = sum(count("present", s) for s in target)
        add("public_impact_pp", 100.0 * ratio(avoided, present), outcome=label)
        for s in segs:
            add("public_impact_pp", impact[s], segment=s, outcome=label)
        per_segment("realized_effect_share", keyed("realized"), outcome=label)
        per_segment("mean_gain_sd", keyed("gain"), outcome=label)
        # differential impact: least advantaged (highest rank) minus most advantaged segment
        ranks = [rank[s] for s in target]
        if len(target) >= 2 and min(ranks) != max(ranks):
            most = target[ranks.index(min(ranks))]
            least = target[ranks.index(max(ranks))]
            add("differential_impact_gap_pp", impact[least] - impact[most], outcome=label)
    return rows
