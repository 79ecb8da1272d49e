"""The largest mean gain a parent can carry, checked against the scale of the problem score.

Each effect field has its own limit (``effect_size.mean`` within ±5 SD, multipliers up to
10, ``gamma`` up to 5, ``spillover_fraction`` up to 1), but the gain of one parent adds them
up (``docs/model.md`` section 7)::

    G_s = Σ_k e_k,s + Σ_{k<l} γ_kl⁺ · min(e_k,s, e_l,s) + Σ_k σ_k · D_s · max_s' e_k,s'

with ``e_k,s = (|mean_k| + 2 sd_k) · μ_k,s`` the upper end of the effect a replicate may draw
for a completer of segment ``s`` at full fidelity and dose (over the programmes open to ``s``
in one neighbourhood, when the population has neighbourhoods), ``γ⁺`` the synergies
(overlaps only lower the gain), and ``D_s`` the segment's mean number of network neighbours, each of
whom may pass on ``σ_k`` of their own effect. The problem score is standard normal: 5 SD is
also the limit of a single effect, beyond which lies one parent in 3.5 million, so a larger
gain moves every parent below any cut-off and the results would show the end of the scale,
not the programmes. Like the other contradiction checks this reads the raw document.
"""

from __future__ import annotations

from impactsim.i18n import Message
from impactsim.scenario.neighbourhoods import neighbourhood_names, offered_where
from impactsim.scenario.raw import items, number, section, text

#: The largest mean gain (SD units of the problem score) a parent may carry.
MAX_COMBINED_GAIN_SD = 5.0


def effect_bound_problems(data: dict) -> list[tuple[str, str]]:
    """``(field path, message)`` when a segment's largest mean gain exceeds the bound.

    Args:
        data: the parsed scenario document.
    """
    (gain, terms), seg = _worst_segment(data)
    if gain <= MAX_COMBINED_GAIN_SD:
        return []
    return [
        (
            "interventions",
            Message(
                "a completer in segment {segment} could carry a mean gain of {gain:.3g} SD "
                "({terms}), above the bound of {bound:g} SD on the problem score (see "
                "docs/scenario.md, 'Checks across fields'); lower these effect sizes, "
                "multipliers, gamma or spillover_fraction",
                segment=seg,
                gain=gain,
                terms="; ".join(terms),
                bound=MAX_COMBINED_GAIN_SD,
            ),
        )
    ]


def largest_gain(data: dict) -> float:
    """The largest mean gain ``max_s G_s`` (SD units) of a scenario document."""
    return _worst_segment(data)[0][0]


def _worst_segment(data: dict) -> tuple[tuple[float, list[str]], str | None]:
    """``((G_s, terms), s)`` of the segment with the largest gain (0 if nothing is offered)."""
    offered = {text(o.get("intervention")) for _, o in items(section(data, "strategy"), "offers")}
    programmes = {
        name: (i, iv)
        for i, iv in items(data, "interventions")
        if (name := text(iv.get("name"))) is not None and name in offered
    }
    segments = [(text(s.get("name")), s) for _, s in items(section(data, "population"), "segments")]
    if not programmes or not segments:
        return (0.0, []), None
    where = offered_where(data)
    worst = []
    for place in neighbourhood_names(data) or [None]:
        here = {
            k: v
            for k, v in programmes.items()
            if place is None or where[k] is None or place in where[k]
        }
        effects = {
            name: {seg: _effect(iv, seg) for seg, _ in segments if _eligible(iv, seg)}
            for name, (_, iv) in here.items()
        }
        worst += [(_gain(data, effects, here, seg, s), seg) for seg, s in segments]
    return max(worst, key=lambda x: x[0][0])


def _effect(iv: dict, segment: str | None) -> float:
    size = section(iv, "effect_size")
    mean, sd = number(size.get("mean")) or 0.0, number(size.get("sd")) or 0.0
    multiplier = number(section(iv, "effect_multiplier").get(segment, 1.0))
    return (abs(mean) + 2.0 * max(sd, 0.0)) * (1.0 if multiplier is None else multiplier)


def _eligible(iv: dict, segment: str | None) -> bool:
    listed = section(iv, "eligibility").get("segments")
    return not isinstance(listed, list) or segment in listed


def _gain(
    data: dict,
    effects: dict[str, dict[str | None, float]],
    programmes: dict[str, tuple[int, dict]],
    seg: str | None,
    segment: dict,
) -> tuple[float, list[str]]:
    """The bound's gain for one segment and the terms that make it, as text."""
    own = {k: e[seg] for k, e in effects.items() if seg in e}
    terms = [f"interventions[{programmes[k][0]}:{k}] {e:.3g} SD" for k, e in own.items() if e > 0]
    gain = sum(own.values())
    for i, inter in items(section(data, "strategy"), "interactions"):
        pair, gamma = inter.get("interventions"), number(inter.get("gamma"))
        if not isinstance(pair, list) or len(pair) != 2 or gamma is None or gamma <= 0:
            continue
        if all(isinstance(k, str) and k in own for k in pair):
            extra = gamma * min(own[pair[0]], own[pair[1]])
            gain += extra
            terms.append(f"strategy.interactions[{i}].gamma {gamma:g}: +{extra:.3g} SD")
    degree = _degree(data, segment)
    for k, (i, iv) in programmes.items():
        sigma = number(iv.get("spillover_fraction")) or 0.0
        if sigma > 0 and degree > 0 and effects[k]:
            extra = sigma * degree * max(effects[k].values())
            gain += extra
            terms.append(
                f"interventions[{i}:{k}].spillover_fraction {sigma:g} x {degree:.3g} "
                f"neighbours: +{extra:.3g} SD"
            )
    return gain, terms


def _degree(data: dict, segment: dict) -> float:
    network = section(section(data, "population"), "network")
    if network.get("kind", "random") == "fully_mixed":
        return 0.0
    mean_degree = number(network.get("mean_degree", 10.0)) or 0.0
    relative = number(segment.get("relative_degree", 1.0))
    return mean_degree * (1.0 if relative is None else relative)
