"""Small-world network: a ring of places per neighbourhood, with ties rewired at random.

Within each neighbourhood the family slots sit on a ring in slot order (neighbourhoods
are contiguous blocks of slots, :func:`impactsim.population.neighbourhood_slots`). Each
family initiates ``m = mean_degree / 2`` ties, tie ``t`` to the place ``t + 1`` steps
clockwise, so with nothing rewired every family is tied to its ``m`` nearest places on
each side (a ring lattice, Watts and Strogatz 1998). Tie ``t`` of family ``i`` draws
``u = uniform(key, i, 2t)`` and ``v = uniform(key, i, 2t + 1)``:

* ``u < b`` (``between_neighbourhoods``): the tie goes to a family in another
  neighbourhood;
* ``b <= u < b + (1 - b) p`` (``rewiring``): it goes to a family elsewhere in the
  family's own neighbourhood;
* otherwise it keeps its lattice place.

A tie drawn at random keeps the meaning of ``homophily`` ``h``: with ``v < h`` the
partner is drawn among the family's own segment (in its neighbourhood, or in the other
neighbourhoods), member ``floor(v / h * n)``; otherwise among everyone there,
``floor((v - h) / (1 - h) * n)`` (one draw decides both, as in
:func:`impactsim.population._random_ties`). When the own segment has nobody else there,
the partner is drawn among everyone there; when nobody is there at all (one
neighbourhood), the tie keeps its lattice place. Self-ties and repeated ties are
dropped, as in the random network.

Every draw is keyed by (small-world stream, slot, counter), so the network is the same
for any number of threads, and two scenarios that differ only in ``rewiring`` or
``between_neighbourhoods`` share the draws of every tie.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from impactsim.population import _csr_from_ties
from impactsim.rng import uniform


class SmallWorld(NamedTuple):
    """Settings of a small-world network (scenario ``population.network``)."""

    mean_degree: float  # even whole number: places tied to, both sides together
    rewiring: float  # probability a lattice tie is rewired within the neighbourhood
    between: float  # share of ties to another neighbourhood
    homophily: float  # probability a random tie stays within the segment


def build_small_world(
    segment: np.ndarray, nbh: np.ndarray, settings: SmallWorld, key: np.uint64
) -> tuple[np.ndarray, np.ndarray]:
    """The small-world network of the families (module docstring), as CSR arrays.

    Args:
        segment: segment index per family slot.
        nbh: neighbourhood index per slot, ascending (contiguous blocks).
        settings: degree, rewiring, share between neighbourhoods, homophily.
        key: key of the small-world stream (:func:`impactsim.rng.stream_key`).

    Returns:
        ``(offsets, neighbours)`` as :func:`impactsim.population.build_network` returns them.
    """
    n = segment.shape[0]
    m = int(settings.mean_degree) // 2
    if n < 2 or m <= 0:
        return np.zeros(n + 1, np.int64), np.zeros(0, np.int32)
    pools = _pools(segment.astype(np.int32), nbh.astype(np.int32))
    dst = np.empty(n * m, np.int32)
    probs = np.array([settings.between, settings.rewiring, settings.homophily])
    _small_world_ties(np.uint64(key), segment, nbh, m, probs, *pools, dst)
    del pools  # the CSR build's peak comes next
    tie_off = np.arange(0, n * m + 1, m, dtype=np.int64)
    return _csr_from_ties(tie_off, dst, n)


def _pools(
    segment: np.ndarray, nbh: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Slots ordered by (neighbourhood, segment) and by (segment, neighbourhood), with starts.

    Returns:
        ``(by_hs, hs_start, by_sh, sh_start)``: the slots of neighbourhood ``h`` and segment
        ``s`` are ``by_hs[hs_start[h * S + s]:hs_start[h * S + s + 1]]`` and
        ``by_sh[sh_start[s * H + h]:sh_start[s * H + h + 1]]`` (ascending); neighbourhood
        ``h``'s slots are ``hs_start[h * S]:hs_start[(h + 1) * S]`` (they are contiguous).
    """
    n_seg = int(segment.max()) + 1
    n_nbh = int(nbh.max()) + 1
    hs = nbh * n_seg + segment
    sh = segment * n_nbh + nbh
    by_hs = np.argsort(hs, kind="stable").astype(np.int32)
    by_sh = np.argsort(sh, kind="stable").astype(np.int32)
    hs_start = np.zeros(n_nbh * n_seg + 1, np.int64)
    sh_start = np.zeros(n_nbh * n_seg + 1, np.int64)
    np.cumsum(np.bincount(hs, minlength=n_nbh * n_seg), out=hs_start[1:])
    np.cumsum(np.bincount(sh, minlength=n_nbh * n_seg), out=sh_start[1:])
    return by_hs, hs_start, by_sh, sh_start


@nb.njit(cache=True, inline="always")
def _split(v: float, h: float, n_own: int, n_all: int) -> tuple[bool, int]:
    """Whether a random tie stays in the segment, and the member index among ``n_own``/``n_all``."""
    if v < h and n_own > 0:
        return True, min(np.int64(v / h * n_own), n_own - 1)
    w = (v - h) / (1.0 - h) if v >= h else v / h  # uniform on [0, 1) given the choice
    return False, min(np.int64(w * n_all), n_all - 1)


@nb.njit(cache=True, parallel=True, nogil=True)
def _small_world_ties(
    key: np.uint64,
    segment: np.ndarray,
    nbh: np.ndarray,
    m: int,
    probs: np.ndarray,
    by_hs: np.ndarray,
    hs_start: np.ndarray,
    by_sh: np.ndarray,
    sh_start: np.ndarray,
    dst: np.ndarray,
) -> None:
    """The partner of each family's ``m`` initiated ties, into ``dst[i * m + t]``."""
    between, rewiring, homophily = probs[0], probs[1], probs[2]
    n = segment.shape[0]
    n_seg = (hs_start.shape[0] - 1) // (nbh[n - 1] + 1)
    n_nbh = nbh[n - 1] + 1
    for i in nb.prange(n):
        h, s = nbh[i], segment[i]
        lo, hi = hs_start[h * n_seg], hs_start[(h + 1) * n_seg]
        for t in range(m):
            u = uniform(key, i, 2 * t)
            j = lo + (i - lo + t + 1) % (hi - lo)  # the lattice place
            if u < between and hi - lo < n:
                j = _elsewhere(
                    uniform(key, i, 2 * t + 1), homophily, h, s, lo, hi, n, n_nbh, by_sh, sh_start
                )
            elif u >= between and u < between + (1.0 - between) * rewiring and hi - lo > 1:
                j = _here(
                    uniform(key, i, 2 * t + 1),
                    homophily,
                    i,
                    lo,
                    hi,
                    hs_start[h * n_seg + s],
                    hs_start[h * n_seg + s + 1],
                    by_hs,
                )
            dst[i * m + t] = j


@nb.njit(cache=True, inline="always")
def _here(
    v: float, homophily: float, i: int, lo: int, hi: int, a: int, b: int, by_hs: np.ndarray
) -> int:
    """Another family of ``i``'s neighbourhood (slots ``lo:hi``), of its segment when ``v < h``.

    The segment's members there are ``by_hs[a:b]`` (ascending, ``i`` among them).
    """
    own, pick = _split(v, homophily, b - a - 1, hi - lo - 1)
    if own:
        j = by_hs[a + pick]
        return by_hs[a + pick + 1] if j >= i else j
    return lo + pick + 1 if lo + pick >= i else lo + pick


@nb.njit(cache=True, inline="always")
def _elsewhere(
    v: float,
    homophily: float,
    h: int,
    s: int,
    lo: int,
    hi: int,
    n: int,
    n_nbh: int,
    by_sh: np.ndarray,
    sh_start: np.ndarray,
) -> int:
    """A family outside neighbourhood ``h`` (slots ``lo:hi``), of segment ``s`` when ``v < h``."""
    seg_lo, seg_hi = sh_start[s * n_nbh], sh_start[(s + 1) * n_nbh]
    here_lo, here_hi = sh_start[s * n_nbh + h], sh_start[s * n_nbh + h + 1]
    n_own = (seg_hi - seg_lo) - (here_hi - here_lo)
    own, pick = _split(v, homophily, n_own, n - (hi - lo))
    if own:
        k = seg_lo + pick
        return by_sh[k + (here_hi - here_lo) if k >= here_lo else k]
    return pick + (hi - lo) if pick >= lo else pick
