"""The reference model's places: neighbourhoods and the social network (§1, §4).

Plain Python, one family at a time, with the model's own seeded generators
(``model.random``, ``model.rng``); it shares no code with :mod:`impactsim.small_world`
or :func:`impactsim.population.build_network`.
"""

from __future__ import annotations

import math
from typing import Any


def neighbourhoods(pop: Any, segment_shares: list[float]) -> tuple[list[int], list[list[float]]]:
    """§1 each place's neighbourhood (blocks of the rounded shares) and each one's mix."""
    hoods = pop.neighbourhoods
    if not hoods:
        return [0] * pop.size, [segment_shares]
    exact = [h.share * pop.size for h in hoods]
    sizes = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(hoods)), key=lambda j: -(exact[j] - sizes[j]))
    for j in by_remainder[: pop.size - sum(sizes)]:
        sizes[j] += 1
    places = [j for j, size in enumerate(sizes) for _ in range(size)]
    mixes = [
        [h.segment_mix.get(s.name, 0.0) for s in pop.segments] if h.segment_mix else segment_shares
        for h in hoods
    ]
    return places, mixes


def small_world_network(model: Any) -> list[list[int]]:
    """§4 small world: a ring of places per neighbourhood, ties rewired or sent elsewhere.

    Family ``i`` ties to the ``k/2`` next places on its neighbourhood's ring; each tie goes
    to another neighbourhood with probability ``b``, else is rewired within with
    probability ``p``; a tie drawn at random goes to the family's own segment there with
    probability ``homophily`` (when anyone of it is there), else to anyone there.
    """
    net = model.scenario.population.network
    n = len(model.occupant)
    hood = model.place_neighbourhood
    ring: dict[int, list[int]] = {}
    for place in range(n):
        ring.setdefault(hood[place], []).append(place)
    ties: set[tuple[int, int]] = set()
    for parent in model.occupant:
        i, here = parent.place, ring[hood[parent.place]]
        for t in range(int(net.mean_degree) // 2):
            u = model.random.random()
            other = here[(i - here[0] + t + 1) % len(here)]
            if u < net.between_neighbourhoods and len(here) < n:
                other = _random_partner(model, parent, [x for x in range(n) if hood[x] != hood[i]])
            elif (
                u < net.between_neighbourhoods + (1 - net.between_neighbourhoods) * net.rewiring
                and len(here) > 1
            ):
                other = _random_partner(model, parent, [x for x in here if x != i])
            if other != i:
                ties.add((min(i, other), max(i, other)))
    return _adjacency(ties, n)


def _random_partner(model: Any, parent: Any, pool: list[int]) -> int:
    """A place of ``pool``: of the parent's segment with probability ``homophily``."""
    own = [x for x in pool if model.occupant[x].segment == parent.segment]
    if model.random.random() < model.homophily and own:
        return model.random.choice(own)
    return model.random.choice(pool)


def _adjacency(ties: set[tuple[int, int]], n: int) -> list[list[int]]:
    """Neighbour lists of undirected ties."""
    neighbours: list[list[int]] = [[] for _ in range(n)]
    for a, b in sorted(ties):
        neighbours[a].append(b)
        neighbours[b].append(a)
    return neighbours


def random_network(model: Any) -> list[list[int]]:
    """§4 random network with homophily, built once on the initial families' segments.

    Each family initiates ``Poisson(k r_s / 2)`` ties; a tie goes to a uniformly chosen
    member of its own segment with probability ``homophily``, otherwise to anyone;
    self-ties and duplicates are dropped; ties are undirected.
    """
    net = model.scenario.population.network
    n = len(model.occupant)
    members: dict[str, list[int]] = {s.name: [] for s in model.segments}
    for parent in model.occupant:
        members[parent.segment].append(parent.place)
    rel = {s.name: s.relative_degree for s in model.segments}
    mean_rel = sum(rel[p.segment] for p in model.occupant) / n
    ties: set[tuple[int, int]] = set()
    for parent in model.occupant:
        r = rel[parent.segment] / mean_rel if mean_rel > 0 else 0.0
        for _ in range(int(model.rng.poisson(net.mean_degree * r / 2.0))):
            if model.random.random() < net.homophily:
                other = model.random.choice(members[parent.segment])
            else:
                other = model.random.randrange(n)
            if other != parent.place:
                ties.add((min(parent.place, other), max(parent.place, other)))
    neighbours: list[list[int]] = [[] for _ in range(n)]
    for a, b in sorted(ties):
        neighbours[a].append(b)
        neighbours[b].append(a)
    return neighbours
