"""Neighbourhoods (wijken): where families live, each with its own segment mix.

A population may be divided into neighbourhoods; every family slot belongs to one for the
whole run (an entrant after turnover takes the slot's neighbourhood and is drawn from its
segment mix). Without neighbourhoods the population is one place, as before.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from impactsim.inputs import StrictModel
from impactsim.scenario.fields import Name, Probability
from impactsim.scenario.raw import items, section, text

#: Most (neighbourhood, segment) cells the engine supports: it keeps a family's cell in one
#: signed byte (``engine.places``).
MAX_CELLS = 127

#: How far the segment shares implied by the neighbourhoods may be from the segments'
#: own shares (absolute, fraction): two decimals, as planners round neighbourhood figures.
SEGMENT_SHARE_TOLERANCE = 0.01


class Neighbourhood(StrictModel):
    """A neighbourhood (wijk): a share of the families with their own segment mix."""

    name: Name = Field(description="neighbourhood identifier")
    label: str = Field("", max_length=200, description="human-readable label for reports")
    share: Probability = Field(description="share of all families living here (fraction)")
    segment_mix: dict[Name, Probability] = Field(
        default_factory=dict,
        description=(
            "per segment name: share of this neighbourhood's families in the segment "
            "(fractions summing to 1); empty: the population's segment shares"
        ),
    )

    @model_validator(mode="after")
    def _mix_sums_to_one(self) -> Neighbourhood:
        total = sum(self.segment_mix.values())
        if self.segment_mix and abs(total - 1.0) > 1e-6:
            raise ValueError(f"segment_mix must sum to 1 (it sums to {total:.6g})")
        return self


def neighbourhood_problems(population: Any) -> list[str]:
    """What is wrong with a population's neighbourhoods and its small-world network.

    Args:
        population: the :class:`~impactsim.scenario.population.Population` (which imports
            this module, so it is not named in the signature).

    Returns:
        Messages; empty when the neighbourhoods are consistent with the segments.
    """
    hoods = population.neighbourhoods
    out = []
    names = [h.name for h in hoods]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        out.append(f"neighbourhood names must be unique; repeated: {', '.join(dupes)}")
    if hoods and abs(sum(h.share for h in hoods) - 1.0) > 1e-6:
        out.append(
            f"neighbourhood shares must sum to 1 (they sum to {sum(h.share for h in hoods):.6g})"
        )
    out += _implied_segment_shares(population)
    cells = len(hoods) * len(population.segments)
    if cells > MAX_CELLS:
        out.append(
            f"{len(hoods)} neighbourhoods x {len(population.segments)} segments = {cells} "
            f"groups of families; at most {MAX_CELLS} are supported: merge neighbourhoods "
            "or segments"
        )
    out += [
        f"neighbourhood {h.name}: share {h.share:g} of size {population.size} is "
        f"{h.share * population.size:.3g} families; give it at least 1/{population.size}"
        for h in hoods
        if h.share * population.size < 1.0
    ]
    return out + _small_world_problems(population)


def _implied_segment_shares(population: Any) -> list[str]:
    """The neighbourhoods' mixes must add up to the segments' shares."""
    segs = {s.name: s.share for s in population.segments}
    out = []
    for h in population.neighbourhoods:
        unknown = sorted(set(h.segment_mix) - set(segs))
        if unknown:
            out.append(
                f"neighbourhood {h.name}: unknown segment {', '.join(unknown)} in segment_mix "
                f"(allowed: {', '.join(segs)})"
            )
    if out or not population.neighbourhoods:
        return out
    implied = {
        name: sum(
            h.share * (h.segment_mix.get(name, 0.0) if h.segment_mix else share)
            for h in population.neighbourhoods
        )
        for name, share in segs.items()
    }
    off = {n: v for n, v in implied.items() if abs(v - segs[n]) > SEGMENT_SHARE_TOLERANCE}
    if off:
        shown = ", ".join(f"{n} {implied[n]:.3f} (share {segs[n]:g})" for n in off)
        out.append(
            "the neighbourhoods' shares times their segment mixes must give each segment's "
            f"share within {SEGMENT_SHARE_TOLERANCE:g}; they give {shown}"
        )
    return out


def _small_world_problems(population: Any) -> list[str]:
    """Settings a small-world network cannot honour."""
    net = population.network
    if net.kind != "small_world":
        return []
    out = []
    k = net.mean_degree
    if k < 2 or k != int(k) or int(k) % 2:
        out.append(
            f"network.mean_degree {k:g}: a small-world network ties each family to its "
            "mean_degree / 2 nearest places on each side, so it must be an even whole number "
            "of at least 2"
        )
    uneven = [s.name for s in population.segments if s.relative_degree != 1.0]
    if uneven:
        out.append(
            f"segments {', '.join(uneven)}: relative_degree must be 1 with a small_world "
            "network (every family has mean_degree places); use kind: random for segments "
            "with more or fewer ties"
        )
    if net.between_neighbourhoods > 0 and len(population.neighbourhoods) < 2:
        out.append(
            "network.between_neighbourhoods needs at least two neighbourhoods; set it to 0 "
            "or define population.neighbourhoods"
        )
    return out


def place_problems(data: Any) -> list[tuple[str, str]]:
    """Channels, providers and offers restricted to neighbourhoods (on the raw document).

    The names must be the population's neighbourhoods; the providers of one offer must
    serve the same neighbourhoods (the engine then opens the offer only to the families
    there, which is exact only when every organisation of the offer serves them all); an
    offer must reach some neighbourhood its providers serve.

    Returns:
        ``(field path, message)`` pairs.
    """
    if not isinstance(data, dict):
        return []
    known = {
        n
        for _, h in items(section(data, "population"), "neighbourhoods")
        if (n := text(h.get("name")))
    }
    out: list[tuple[str, str]] = []
    served: dict[str, frozenset[str] | None] = {}
    for key in ("channels", "providers"):
        for i, x in items(data, key):
            out += _names_known(f"{key}[{i}:{x.get('name')}].neighbourhoods", x, known)
            if key == "providers" and text(x.get("name")):
                served[x["name"]] = _place_set(x)
    for i, o in items(section(data, "strategy"), "offers"):
        base = f"strategy.offers[{i}]"
        out += _names_known(f"{base}.neighbourhoods", o, known)
        listed = o.get("providers") if isinstance(o.get("providers"), list) else []
        sets = {served[p] for p in listed if isinstance(p, str) and p in served}
        if len(sets) > 1:
            out.append(
                (
                    f"{base}.providers",
                    "the providers of one offer must serve the same neighbourhoods (their "
                    "places are shared by one waiting list); offer a copy of the programme "
                    "per group of neighbourhoods instead",
                )
            )
        elif sets and (own := _place_set(o)) is not None and (prov := next(iter(sets))) is not None:
            if not own & prov:
                out.append(
                    (
                        f"{base}.neighbourhoods",
                        f"none of them is served by its providers ({', '.join(sorted(prov))}): "
                        "the offer would reach nobody",
                    )
                )
    return out


def _place_set(x: dict) -> frozenset[str] | None:
    value = x.get("neighbourhoods")
    return frozenset(v for v in value if isinstance(v, str)) if isinstance(value, list) else None


def _names_known(path: str, x: dict, known: set[str]) -> list[tuple[str, str]]:
    value = x.get("neighbourhoods")
    if not isinstance(value, list):
        return []
    if not value:
        return [
            (path, "an empty list reaches nobody; leave the key out to reach every neighbourhood")
        ]
    unknown = sorted({v for v in value if isinstance(v, str)} - known)
    if not unknown:
        return []
    allowed = ", ".join(sorted(known)) or "no neighbourhoods defined (population.neighbourhoods)"
    return [(path, f"unknown neighbourhood {', '.join(unknown)} (allowed: {allowed})")]


def neighbourhood_names(data: Any) -> list[str]:
    """The names of a raw document's neighbourhoods (empty without)."""
    hoods = items(section(data, "population"), "neighbourhoods")
    return [n for _, h in hoods if (n := text(h.get("name"))) is not None]


def offered_where(data: Any) -> dict[str, frozenset[str] | None]:
    """Per offered programme of a raw document: the neighbourhoods it is open to (None: all).

    Those of the offer among those its providers serve.
    """
    served = {
        name: _place_set(p) for _, p in items(data, "providers") if (name := text(p.get("name")))
    }
    out: dict[str, frozenset[str] | None] = {}
    for _, o in items(section(data, "strategy"), "offers"):
        if (name := text(o.get("intervention"))) is None:
            continue
        where = _place_set(o)
        listed = o.get("providers") if isinstance(o.get("providers"), list) else []
        for p in listed:
            if isinstance(p, str) and served.get(p) is not None:
                where = served[p] if where is None else where & served[p]
        out[name] = where
    return out
