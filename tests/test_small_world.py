"""The small-world network (``impactsim.small_world``) and its statistics (``network_stats``).

Expected values: the ring lattice and the statistics are checked against networkx on the
same ties; the clustering of the rewired lattice against Barrat and Weigt's result for
the Watts-Strogatz model, ``C(p) ~ C(0) (1 - p)^3`` with ``C(0) = 3 (k - 2) / (4 (k - 1))``
(Physica A 2000; Newman, *Networks*, 2nd ed., eq. 12.3); the tie shares against the
probabilities the generator draws with (module docstring of ``impactsim.small_world``).
"""

from __future__ import annotations

import networkx as nx
import numba
import numpy as np
import pytest

from impactsim.network_stats import network_stats
from impactsim.population import neighbourhood_slots
from impactsim.small_world import SmallWorld, build_small_world

KEY = np.uint64(20201)


def _graph(off: np.ndarray, nbrs: np.ndarray) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(off.shape[0] - 1))
    for i in range(off.shape[0] - 1):
        g.add_edges_from((i, int(j)) for j in nbrs[off[i] : off[i + 1]])
    return g


def _one_place(n: int, n_seg: int = 1) -> tuple[np.ndarray, np.ndarray]:
    seg = (np.arange(n) % n_seg).astype(np.int8)
    return seg, neighbourhood_slots(np.ones(1), n)


def test_neighbourhood_slots_are_contiguous_blocks_of_the_rounded_shares():
    # 0.5/0.3/0.2 of 11 = 5.5/3.3/2.2: floors 5/3/2, the one slot left goes to the largest
    # remainder (0.5, the first neighbourhood)
    slots = neighbourhood_slots(np.array([0.5, 0.3, 0.2]), 11)
    assert slots.tolist() == [0] * 6 + [1] * 3 + [2] * 2
    assert np.bincount(neighbourhood_slots(np.array([0.25] * 4), 1000)).tolist() == [250] * 4


@pytest.mark.parametrize("k", [2, 4, 6, 10])
def test_without_rewiring_it_is_networkx_ring_lattice(k):
    """rewiring 0: each family tied to its k/2 nearest places on each side (WS at p = 0)."""
    n = 200
    seg, nbh = _one_place(n)
    off, nbrs = build_small_world(seg, nbh, SmallWorld(k, 0.0, 0.0, 0.6), KEY)
    lattice = nx.watts_strogatz_graph(n, k, 0.0)
    assert set(map(frozenset, _graph(off, nbrs).edges)) == set(map(frozenset, lattice.edges))
    stats = network_stats(off, nbrs, seg, nbh)
    assert stats["mean_degree"] == k
    assert stats["clustering"] == pytest.approx(3 * (k - 2) / (4 * (k - 1)), abs=1e-12)


@pytest.mark.parametrize("p", [0.02, 0.1, 0.2, 0.4])
def test_clustering_falls_as_watts_strogatz_predicts(p):
    """C(p) ~ C(0) (1 - p)^3 (Barrat and Weigt 2000), k = 10, 20,000 families.

    The formula is the large-network limit for the ratio of triangles to connected
    triples (an approximation: it neglects triangles closed by rewired ties and the
    difference between mean local clustering and that ratio); measured at seed 20201 the
    mean local clustering the generator reports is within 0.0003, 0.006, 0.006 and 0.002
    of it at p = 0.02, 0.1, 0.2, 0.4, hence the tolerance 0.012; networkx's transitivity
    of a 2,000-family network within 0.008 (tolerance 0.01).
    """
    k = 10
    c0 = 3 * (k - 2) / (4 * (k - 1))
    seg, nbh = _one_place(20_000)
    off, nbrs = build_small_world(seg, nbh, SmallWorld(k, p, 0.0, 0.0), KEY)
    stats = network_stats(off, nbrs, seg, nbh)
    assert stats["clustering"] == pytest.approx(c0 * (1 - p) ** 3, abs=0.012)
    # rewiring drops a tie only when it repeats one (about k/n of rewired ties)
    assert stats["mean_degree"] == pytest.approx(k, abs=0.01)
    seg2, nbh2 = _one_place(2000)
    g = _graph(*build_small_world(seg2, nbh2, SmallWorld(k, p, 0.0, 0.0), KEY))
    assert nx.transitivity(g) == pytest.approx(c0 * (1 - p) ** 3, abs=0.01)


def _three_places(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Three neighbourhoods (50/30/20 %), three segments whose mix differs by place."""
    nbh = neighbourhood_slots(np.array([0.5, 0.3, 0.2]), n)
    rng = np.random.default_rng(3)
    mix = np.array([[0.6, 0.3, 0.1], [0.3, 0.4, 0.3], [0.1, 0.3, 0.6]])
    seg = np.array([rng.choice(3, p=mix[h]) for h in nbh], np.int8)
    return seg, nbh


def test_statistics_agree_with_networkx():
    seg, nbh = _three_places(1500)
    off, nbrs = build_small_world(seg, nbh, SmallWorld(8, 0.2, 0.1, 0.6), KEY)
    g = _graph(off, nbrs)
    stats = network_stats(off, nbrs, seg, nbh)
    assert stats["mean_degree"] == pytest.approx(2 * g.number_of_edges() / 1500, abs=1e-12)
    assert stats["clustering"] == pytest.approx(nx.average_clustering(g), abs=1e-12)
    edges = np.array(g.edges)
    assert stats["within_neighbourhood_share"] == pytest.approx(
        np.mean(nbh[edges[:, 0]] == nbh[edges[:, 1]]), abs=1e-12
    )
    assert stats["within_segment_share"] == pytest.approx(
        np.mean(seg[edges[:, 0]] == seg[edges[:, 1]]), abs=1e-12
    )


def test_tie_shares_hit_their_targets():
    """Shares of ties within neighbourhoods and segments, from the drawing probabilities.

    A tie goes to another neighbourhood with probability b = 0.1, else is rewired within
    with probability p = 0.2. Lattice ties (probability (1 - b)(1 - p) = 0.72) join random
    members of the neighbourhood's mix; random ties stay in the segment with probability
    h = 0.6 and otherwise join a random member of the pool (neighbourhood, or elsewhere).
    The expected within-segment share is computed from the realised mixes below. Ties:
    about 400,000, so the binomial SD of a share is below 0.001; tolerance 0.005.
    """
    n, k, p, b, h = 100_000, 8, 0.2, 0.1, 0.6
    seg, nbh = _three_places(n)
    off, nbrs = build_small_world(seg, nbh, SmallWorld(k, p, b, h), KEY)
    stats = network_stats(off, nbrs, seg, nbh)
    assert stats["within_neighbourhood_share"] == pytest.approx(1 - b, abs=0.005)
    mix = np.array([np.bincount(seg[nbh == j], minlength=3) / np.sum(nbh == j) for j in range(3)])
    size = np.bincount(nbh) / n
    same_here = (size * (mix**2).sum(axis=1)).sum()  # two random members of one place
    elsewhere = sum(  # a member of h and a random family of another neighbourhood
        size[j] * (mix[j] * (np.delete(size, j) @ np.delete(mix, j, 0)) / (1 - size[j])).sum()
        for j in range(3)
    )
    lattice = (1 - b) * (1 - p)
    expected = (
        lattice * same_here
        + (1 - b) * p * (h + (1 - h) * same_here)
        + b * (h + (1 - h) * elsewhere)
    )
    assert stats["within_segment_share"] == pytest.approx(expected, abs=0.005)


def test_same_network_on_any_number_of_threads():
    seg, nbh = _three_places(20_000)
    settings = SmallWorld(10, 0.1, 0.05, 0.6)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = build_small_world(seg, nbh, settings, KEY)
        numba.set_num_threads(before)
        many = build_small_world(seg, nbh, settings, KEY)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one[0], many[0]) and np.array_equal(one[1], many[1])


def test_more_rewiring_keeps_the_ties_rewired_before():
    """Common random numbers: a tie rewired at p = 0.1 is rewired to the same family at 0.3."""
    seg, nbh = _three_places(5000)
    low = _graph(*build_small_world(seg, nbh, SmallWorld(6, 0.1, 0.0, 0.6), KEY))
    high = _graph(*build_small_world(seg, nbh, SmallWorld(6, 0.3, 0.0, 0.6), KEY))
    lattice = _graph(*build_small_world(seg, nbh, SmallWorld(6, 0.0, 0.0, 0.6), KEY))
    rewired_low = set(map(frozenset, low.edges)) - set(map(frozenset, lattice.edges))
    assert len(rewired_low) > 1000
    assert rewired_low <= set(map(frozenset, high.edges))


def test_ties_between_neighbourhoods_need_another_neighbourhood():
    """With one neighbourhood there is nowhere else to go: every tie keeps its place."""
    seg, nbh = _one_place(500, 2)
    nbrs = build_small_world(seg, nbh, SmallWorld(4, 0.0, 1.0, 0.6), KEY)[1]
    lattice = build_small_world(seg, nbh, SmallWorld(4, 0.0, 0.0, 0.6), KEY)
    assert np.array_equal(nbrs, lattice[1])
