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
