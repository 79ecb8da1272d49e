"""A ready optimisation for a scenario: the main knobs as decisions, for a budget.

The app's "find the best mix for my budget" builds its optimisation here, so that a
planner needs to give only the budget: every provider type with limited places gets its
places per organisation (half to twice today's) and its number of organisations (none to
twice today's) as decisions, every offer whether it is made, and every channel that
promotes an offer whether it is used. The same document can be written to a file and run
with ``impactsim optimize``.
"""

from __future__ import annotations

import math
from typing import Any

#: Most decisions a preset takes (the search needs more candidates for more decisions).
MAX_DECISIONS = 16


def _provider_decisions(scenario: dict[str, Any], used: set[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in scenario["providers"]:
        if p["name"] not in used:
            continue
        cap = p.get("capacity_per_month")
        if cap is not None and cap > 0:
            out.append(
                {
                    "path": f"providers.{p['name']}.capacity_per_month",
                    "name": f"{p['name']}_places"[:64],
                    "range": [round(cap / 2, 2), round(cap * 2, 2)],
                    "step": 0.5 if cap >= 1 else None,
                }
            )
        if p.get("count", 1) > 1:
            out.append(
                {
                    "path": f"providers.{p['name']}.count",
                    "name": f"{p['name']}_count"[:64],
                    "range": [0, 2 * int(p["count"])],
                }
            )
    return [{k: v for k, v in d.items() if v is not None} for d in out]


def main_decisions(scenario: dict[str, Any]) -> list[dict[str, Any]]:
    """The main knobs of a scenario as optimisation decisions (at most :data:`MAX_DECISIONS`).

    Args:
        scenario: the resolved scenario as a dict.
    """
    offers = scenario["strategy"]["offers"]
    used = {p for o in offers for p in o.get("providers", [])}
    out = _provider_decisions(scenario, used)
    for o in offers:
        name = o["intervention"]
        out.append(
            {"path": f"strategy.offers.{name}", "name": f"offer_{name}"[:64], "kind": "offered"}
        )
    promoting = sorted({c for o in offers for c in o.get("channels", [])})
    for c in promoting:
        out.append({"path": f"channels.{c}", "name": f"channel_{c}"[:64], "kind": "offered"})
    return out[:MAX_DECISIONS]


def budget_optimization(
    scenario: dict[str, Any],
    per_year_eur: float | None = None,
    *,
    total_eur: float | None = None,
    objective: str = "public_impact_pp",
    trials: int = 32,
    replicates: int = 4,
    curve: tuple[float, ...] = (0.5, 0.75, 1.5),
) -> dict[str, Any]:
    """An optimisation document for a scenario and a budget.

    Args:
        scenario: the resolved scenario as a dict (the base).
        per_year_eur: the budget in euros a year (or give ``total_eur``).
        total_eur: the budget as the present value of costs over the horizon (euros).
        objective: the metric to maximise.
        trials: candidates in the search.
        replicates: replicates per candidate.
        curve: budget–impact curve levels as multiples of the budget (empty: none).

    Returns:
        A document for :func:`impactsim.optimize.parse_optimization`.
    """
    if (per_year_eur is None) == (total_eur is None):
        raise ValueError("give exactly one of per_year_eur or total_eur")
    key, amount = ("per_year_eur", per_year_eur) if total_eur is None else ("total_eur", total_eur)
    doc: dict[str, Any] = {
        "name": "best-mix",
        "description": f"The best mix of {scenario.get('name', 'the scenario')} for a budget",
        "base": scenario,
        "decisions": main_decisions(scenario),
        "objective": objective,
        "budget": {key: float(amount)},
        "replicates": replicates,
        "search": {"trials": trials, "batch": 4},
        "finalists": {"count": 3, "replicates": max(8, 3 * replicates)},
    }
    if curve:
        doc["curve"] = {
            "levels": [float(math.floor(float(amount) * f)) for f in curve],
            "trials": max(6, trials // 3),
            "finalists": 2,
        }
    return doc
