"""A mix: the decisions' values written into the base scenario.

A value decision sets its field. An ``offered`` decision that is false removes the offer
from ``strategy.offers`` (the programme is not offered, so it costs nothing), or removes
the channel from every offer's channel list (it promotes nothing and, as channel costs
are counted only while a channel promotes an offered programme, costs nothing).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from impactsim.optimize.spec import ResolvedDecision
from impactsim.sweep.paths import with_values


def mix_key(values: Mapping[str, Any]) -> str:
    """A candidate's identity: SHA-256 of its values as canonical JSON."""
    text = json.dumps(dict(values), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def mix_scenario(
    base: dict[str, Any], decisions: Sequence[ResolvedDecision], values: Mapping[str, Any]
) -> dict[str, Any]:
    """The base scenario with a mix's decisions applied (not validated).

    Args:
        base: the resolved base scenario.
        decisions: the decisions.
        values: each decision's value by label (true/false for ``offered``).

    Returns:
        A new scenario dict.
    """
    changes = [(d.loc, values[d.label]) for d in decisions if d.spec.kind == "value"]
    data = with_values(base, changes) if changes else copy.deepcopy(base)
    dropped = [d for d in decisions if d.spec.kind == "offered" and not values[d.label]]
    channels = {base["channels"][d.loc[1]]["name"] for d in dropped if d.loc[0] == "channels"}
    offers = {int(d.loc[2]) for d in dropped if d.loc[0] == "strategy"}
    strategy = data["strategy"]
    strategy["offers"] = [o for i, o in enumerate(strategy["offers"]) if i not in offers]
    for offer in strategy["offers"]:
        offer["channels"] = [c for c in offer.get("channels", []) if c not in channels]
    return data


def base_mix(decisions: Sequence[ResolvedDecision]) -> dict[str, Any]:
    """The base scenario's own values of the decisions (every offer and channel used)."""
    return {d.label: d.base_value for d in decisions}
