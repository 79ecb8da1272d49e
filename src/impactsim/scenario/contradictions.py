"""Settings that are each allowed but together leave a programme or a target void.

Field limits are checked one field at a time; these checks read several fields at once and
refuse a scenario in which something the planner asked for can never happen: an empty
target population, a segment too small to hold a family, a programme offered to nobody,
after the horizon, by no organisation, or following a programme that is never offered, an
interaction given twice, and effects that add up beyond the scale of the problem score.
Like the cross-references, they work on the raw document and tolerate malformed parts.
Each message is a :class:`~impactsim.i18n.Message`: English as the command line prints it,
translated where a planner reads it in the app.
"""

from __future__ import annotations

from impactsim.i18n import Message
from impactsim.scenario.effect_bound import effect_bound_problems
from impactsim.scenario.raw import items, number, section, text


def contradiction_problems(data: object) -> list[tuple[str, str]]:
    """``(field path, message)`` for each combination of settings that voids the scenario.

    Args:
        data: the parsed scenario document (or ``Scenario.model_dump()``).
    """
    if not isinstance(data, dict):
        return []
    return (
        _empty_lists(data)
        + _segments_without_families(data)
        + _offers_that_reach_nobody(data)
        + _repeated_interactions(data)
        + _place_costs_without_places(data)
        + effect_bound_problems(data)
    )


def _empty_lists(data: dict) -> list[tuple[str, str]]:
    out = []
    if section(data, "outcome").get("target_segments") == []:
        out.append(
            (
                "outcome.target_segments",
                Message(
                    "an empty list leaves no target population, so every headline would be "
                    "n/a; leave the key out to target every segment, or name at least one"
                ),
            )
        )
    for i, iv in items(data, "interventions"):
        if section(iv, "eligibility").get("segments") == []:
            out.append(
                (
                    f"interventions[{i}:{iv.get('name')}].eligibility.segments",
                    Message(
                        "an empty list makes nobody eligible, so the programme would silently "
                        "reach nobody; leave the key out for every segment, or name at least one"
                    ),
                )
            )
    return out


def _segments_without_families(data: dict) -> list[tuple[str, str]]:
    """Segments expected to hold less than one family: empty in most replicates.

    Every share of such a segment (reach, prevalence, impact) would be 0/0 in the replicates
    in which it holds no family, so the tables would carry "not defined" rows for a group
    the planner named.
    """
    population = section(data, "population")
    size = population.get("size", 20_000)
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        return []
    out = []
    for i, seg in items(population, "segments"):
        share = number(seg.get("share"))
        if share is None or share * size >= 1.0:
            continue
        out.append(
            (
                f"population.segments[{i}:{seg.get('name')}].share",
                Message(
                    "{share:g} of population.size {size} is {families:.3g} families: the "
                    "segment would be empty in most replicates and its shares (reach, "
                    "prevalence, impact) not defined; give it a share of at least "
                    "1/{size} = {least:.3g}, simulate more families, or merge it into "
                    "another segment",
                    share=share,
                    size=size,
                    families=share * size,
                    least=1 / size,
                ),
            )
        )
    return out


def _offers_that_reach_nobody(data: dict) -> list[tuple[str, str]]:
    out = []
    months = section(data, "simulation").get("months")
    offers = items(section(data, "strategy"), "offers")
    offered = {text(o.get("intervention")) for _, o in offers}
    follows = {
        text(iv.get("name")): text(section(iv, "follow_up").get("after"))
        for _, iv in items(data, "interventions")
    }
    counts = {
        text(p.get("name")): p.get("count", 1)
        for _, p in items(data, "providers")
        if isinstance(p.get("count", 1), int)
    }
    for i, o in offers:
        base, name = f"strategy.offers[{i}]", text(o.get("intervention"))
        start = o.get("start_month", 0)
        valid_months = isinstance(months, int) and not isinstance(months, bool) and months > 0
        if isinstance(start, int | float) and valid_months and start >= months:
            out.append(
                (
                    f"{base}.start_month",
                    Message(
                        "month {start} is at or after the horizon (simulation.months = "
                        "{months}), so the programme would silently reach nobody",
                        start=start,
                        months=months,
                    ),
                )
            )
        after = follows.get(name) if name is not None else None
        if after is not None and after != name and after not in offered:
            out.append(
                (
                    f"{base}.intervention",
                    Message(
                        "'{name}' follows '{after}' (follow_up.after), which is not offered: "
                        "nobody can complete it, so the programme would silently reach nobody; "
                        "offer '{after}' too or drop the follow-up",
                        name=name,
                        after=after,
                    ),
                )
            )
        listed = o.get("providers", [])
        providers = (
            [p for p in listed if isinstance(p, str) and p in counts]
            if isinstance(listed, list)
            else []
        )
        if providers and all(counts[p] == 0 for p in providers):
            out.append(
                (
                    f"{base}.providers",
                    Message(
                        "every provider that may offer it has count 0 ({providers}), so the "
                        "programme would silently reach nobody",
                        providers=", ".join(providers),
                    ),
                )
            )
    return out


def _repeated_interactions(data: dict) -> list[tuple[str, str]]:
    out, seen = [], {}
    for i, inter in items(section(data, "strategy"), "interactions"):
        pair = inter.get("interventions")
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(x, str) for x in pair)
        ):
            continue
        key = frozenset(pair)
        if key in seen:
            out.append(
                (
                    f"strategy.interactions[{i}].interventions",
                    Message(
                        "the pair {first}, {second} is already given at "
                        "strategy.interactions[{at}]; give each pair once (only one gamma can "
                        "apply)",
                        first=pair[0],
                        second=pair[1],
                        at=seen[key],
                    ),
                )
            )
        else:
            seen[key] = i
    return out


def _place_costs_without_places(data: dict) -> list[tuple[str, str]]:
    """A cost per funded place for a programme delivered with unlimited places."""
    unlimited = {
        text(p.get("name"))
        for _, p in items(data, "providers")
        if "capacity_per_month" in p and p["capacity_per_month"] is None  # default: 10
    }
    out = []
    for i, iv in items(data, "interventions"):
        cost = number(section(iv, "costs").get("per_place_month_eur"))
        if not cost:
            continue
        name = text(iv.get("name"))
        offered_by = {
            text(p)
            for _, o in items(section(data, "strategy"), "offers")
            if text(o.get("intervention")) == name and isinstance(o.get("providers"), list)
            for p in o["providers"]
        }
        without = sorted(p for p in offered_by & unlimited if p is not None)
        if without:
            out.append(
                (
                    f"interventions[{i}:{name}].costs.per_place_month_eur",
                    Message(
                        "a cost per place needs a number of places, but {providers} offer(s) "
                        "it with unlimited places (capacity_per_month: null); give their "
                        "capacity_per_month or use per_provider_year_eur",
                        providers=", ".join(without),
                    ),
                )
            )
    return out
