"""Cross references of a scenario: names that must refer to other sections.

Checked on the raw document (see :func:`cross_reference_problems`), so that a file with
both field errors and broken references reports all of them. Each message is a
:class:`~impactsim.i18n.Message`: English as the command line prints it, translated where
a planner reads it in the app.
"""

from __future__ import annotations

from impactsim.i18n import N_, Message
from impactsim.scenario.contradictions import contradiction_problems
from impactsim.scenario.economics import DEFAULT_STAKEHOLDERS
from impactsim.scenario.neighbourhoods import place_problems
from impactsim.scenario.outcomes import outcome_problems
from impactsim.scenario.raw import items, section

#: Per kind of name: a name that is not defined, and the allowed names when there are none.
UNKNOWN = {
    "channel": (N_("unknown channel '{name}' (allowed: {allowed})"), N_("no channels defined")),
    "segment": (N_("unknown segment '{name}' (allowed: {allowed})"), N_("no segments defined")),
    "provider": (
        N_("unknown provider '{name}' (allowed: {allowed})"),
        N_("no providers defined"),
    ),
    "intervention": (
        N_("unknown intervention '{name}' (allowed: {allowed})"),
        N_("no interventions defined"),
    ),
}
REPEATED_NAMES = N_("names must be unique; repeated: {names}")
AFTER_START = N_("must be after start_month ({start})")


def _names(items: list[tuple[int, dict]]) -> list[str]:
    return [x["name"] for _, x in items if isinstance(x.get("name"), str)]


def _strs(value: object) -> list[str]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    if isinstance(value, dict):
        return [v for v in value if isinstance(v, str)]
    return []


def _section_problems(data: dict) -> list[tuple[str, str]]:
    """The neighbourhoods' and the outcomes' own cross checks, and their combination."""
    return place_problems(data) + outcome_problems(data)


def cross_reference_problems(data: object) -> list[tuple[str, str]]:
    """Check names that refer to other sections (channels, segments, providers, interventions).

    Works on the raw document, tolerating malformed parts (those get their own field errors),
    so that a file with both field errors and broken references reports all of them.

    Args:
        data: the parsed scenario document (or ``Scenario.model_dump()``).

    Returns:
        ``(field path, message)`` pairs; empty when every reference resolves.
    """
    out: list[tuple[str, str]] = []
    if not isinstance(data, dict):
        return out
    pop = data.get("population") if isinstance(data.get("population"), dict) else {}
    seg_items = items(pop, "segments")
    ch_items, pr_items, iv_items = (
        items(data, k) for k in ("channels", "providers", "interventions")
    )
    segs, chans, provs, ivs = (set(_names(x)) for x in (seg_items, ch_items, pr_items, iv_items))

    def label(i: int, item: dict) -> str:
        return f"[{i}:{item['name']}]" if isinstance(item.get("name"), str) else f"[{i}]"

    def check(path: str, kind: str, used: list[str], allowed: set[str]) -> None:
        unknown, none = UNKNOWN[kind]
        for n in sorted(set(used) - allowed):
            allowed_txt = ", ".join(sorted(allowed)) or Message(none)
            out.append((path, Message(unknown, name=n, allowed=allowed_txt)))

    for key, listed in (
        ("channels", ch_items),
        ("providers", pr_items),
        ("interventions", iv_items),
    ):
        names = _names(listed)
        rep = sorted({n for n in names if names.count(n) > 1})
        if rep:
            out.append((key, Message(REPEATED_NAMES, names=", ".join(rep))))
    for i, s in seg_items:
        check(
            f"population.segments{label(i, s)}.contact_rates",
            "channel",
            _strs(s.get("contact_rates")),
            chans,
        )
    after: dict[str, str] = {}
    for i, iv in iv_items:
        base = f"interventions{label(i, iv)}"
        check(f"{base}.dropout_multiplier", "segment", _strs(iv.get("dropout_multiplier")), segs)
        check(f"{base}.effect_multiplier", "segment", _strs(iv.get("effect_multiplier")), segs)
        elig = iv.get("eligibility")
        if isinstance(elig, dict):
            check(f"{base}.eligibility.segments", "segment", _strs(elig.get("segments")), segs)
        fu = iv.get("follow_up")
        if isinstance(fu, dict) and isinstance(fu.get("after"), str):
            if fu["after"] == iv.get("name"):
                out.append(
                    (f"{base}.follow_up.after", Message("an intervention cannot follow itself"))
                )
            else:
                check(f"{base}.follow_up.after", "intervention", [fu["after"]], ivs)
            if isinstance(iv.get("name"), str):
                after[iv["name"]] = fu["after"]
        if (
            isinstance(pop.get("network"), dict)
            and pop["network"].get("kind") == "fully_mixed"
            and isinstance(iv.get("spillover_fraction"), int | float)
            and iv["spillover_fraction"] > 0
        ):
            out.append(
                (
                    f"{base}.spillover_fraction",
                    Message(
                        "spillover needs a network: set "
                        "population.network.kind to 'random' or spillover_fraction to 0"
                    ),
                )
            )
    for start in after:
        seen, node = {start}, after.get(start)
        while node is not None and node != start:
            if node in seen:
                break
            seen.add(node)
            node = after.get(node)
        if node == start:
            out.append(
                (f"interventions[{start}].follow_up", Message("follow-up chain is circular"))
            )
    strategy = data.get("strategy") if isinstance(data.get("strategy"), dict) else {}
    offer_items = items(strategy, "offers")
    offered = [o["intervention"] for _, o in offer_items if isinstance(o.get("intervention"), str)]
    rep = sorted({n for n in offered if offered.count(n) > 1})
    if rep:
        out.append(
            (
                "strategy.offers",
                Message(
                    "each intervention may be offered once; repeated: {names}",
                    names=", ".join(rep),
                ),
            )
        )
    for i, o in offer_items:
        base = f"strategy.offers[{i}]"
        if isinstance(o.get("intervention"), str):
            check(f"{base}.intervention", "intervention", [o["intervention"]], ivs)
        check(f"{base}.channels", "channel", _strs(o.get("channels")), chans)
        check(f"{base}.providers", "provider", _strs(o.get("providers")), provs)
        start_m, end_m = o.get("start_month", 0), o.get("end_month")
        if isinstance(end_m, int | float) and isinstance(start_m, int | float) and end_m <= start_m:
            out.append((f"{base}.end_month", Message(AFTER_START, start=start_m)))
    for i, c in ch_items:
        start_m, end_m = c.get("start_month", 0), c.get("end_month")
        if isinstance(end_m, int | float) and isinstance(start_m, int | float) and end_m <= start_m:
            out.append((f"channels{label(i, c)}.end_month", Message(AFTER_START, start=start_m)))
    for i, inter in items(strategy, "interactions"):
        pair = _strs(inter.get("interventions"))
        check(f"strategy.interactions[{i}].interventions", "intervention", pair, ivs)
        if len(pair) == 2 and pair[0] == pair[1]:
            out.append(
                (
                    f"strategy.interactions[{i}].interventions",
                    Message("needs two different interventions"),
                )
            )
    outcome = data.get("outcome") if isinstance(data.get("outcome"), dict) else {}
    check("outcome.target_segments", "segment", _strs(outcome.get("target_segments")), segs)
    out += _economics_problems(data)
    out += contradiction_problems(data)
    out += _section_problems(data)
    if len(iv_items) > 16:
        out.append(
            (
                "interventions",
                Message(
                    "at most 16 interventions are supported (got {count})", count=len(iv_items)
                ),
            )
        )
    if len(ch_items) > 60:
        out.append(
            (
                "channels",
                Message("at most 60 channels are supported (got {count})", count=len(ch_items)),
            )
        )
    return out


def _cost_sections(data: dict) -> list[tuple[str, dict]]:
    """``(path, costs)`` of every cost section of a raw scenario document."""
    out = []
    for key in ("interventions", "channels"):
        for i, item in items(data, key):
            costs = section(item, "costs")
            name = f"[{i}:{item['name']}]" if isinstance(item.get("name"), str) else f"[{i}]"
            if costs:
                out.append((f"{key}{name}.costs", costs))
    strategy = section(section(data, "strategy"), "costs")
    if strategy:
        out.append(("strategy.costs", strategy))
    return out


def _economics_problems(data: dict) -> list[tuple[str, str]]:
    """Cross references of the economics section: stakeholders, payers and names."""
    out: list[tuple[str, str]] = []
    econ = section(data, "economics")
    extra = _strs(econ.get("stakeholders"))
    rep = sorted({n for n in extra if extra.count(n) > 1})
    if rep:
        out.append(("economics.stakeholders", Message(REPEATED_NAMES, names=", ".join(rep))))
    known = [*DEFAULT_STAKEHOLDERS, *(n for n in extra if n not in DEFAULT_STAKEHOLDERS)]
    allowed_txt = ", ".join(known)

    def stakeholder(path: str, item: dict, key: str = "stakeholder") -> None:
        name = item.get(key)
        if isinstance(name, str) and name not in known:
            out.append(
                (
                    f"{path}.{key}",
                    Message(
                        "unknown stakeholder '{name}' (allowed: {allowed}; add new ones to "
                        "economics.stakeholders)",
                        name=name,
                        allowed=allowed_txt,
                    ),
                )
            )

    for path, costs in _cost_sections(data):
        stakeholder(path, costs, "payer")

    cyv = items(econ, "case_year_values")
    for i, item in cyv:
        stakeholder(f"economics.case_year_values[{i}]", item)
    used = [x["stakeholder"] for _, x in cyv if isinstance(x.get("stakeholder"), str)]
    rep = sorted({n for n in used if used.count(n) > 1})
    if rep:
        out.append(
            (
                "economics.case_year_values",
                Message(
                    "each stakeholder may appear once; repeated: {names}", names=", ".join(rep)
                ),
            )
        )
    linked = items(econ, "linked_outcomes")
    names = _names(linked)
    rep = sorted({n for n in names if names.count(n) > 1})
    if rep:
        out.append(("economics.linked_outcomes", Message(REPEATED_NAMES, names=", ".join(rep))))
    for i, item in linked:
        label = f"[{i}:{item['name']}]" if isinstance(item.get("name"), str) else f"[{i}]"
        stakeholder(f"economics.linked_outcomes{label}", item)
    return out
