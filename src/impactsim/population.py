"""Population: parents as arrays (segment, adopter category, latent problem score) and their network.

Each parent ``i`` has a segment ``s`` (drawn by the segment shares), an adopter
category (drawn by the segment's adopter shares) and a latent problem score
``z ~ Normal(mu_s, 1)`` with ``mu_s = cutoff + Phi^-1(pi_s)``, so that
``P(z > cutoff) = pi_s``, the segment's baseline prevalence.

Draws are keyed by (stream, parent slot, entry step): the initial family in a
slot uses entry step 0, an entrant replacing a family at step ``t`` uses
``t + 1``. The engine's turnover kernel calls :func:`draw_family` with exactly
the same keys, so initial families and entrants follow one rule.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from impactsim.rng import uniform

#: Names of the population's random streams (see :mod:`impactsim.rng`).
STREAM_SEGMENT = ("population", "segment")
STREAM_CATEGORY = ("population", "adopter_category")
STREAM_SCORE_A = ("population", "problem_score", "a")
STREAM_SCORE_B = ("population", "problem_score", "b")
STREAM_TURNOVER = ("population", "turnover")
STREAM_NETWORK = ("population", "network")
STREAM_SMALL_WORLD = ("population", "network", "small_world")


def segment_means(baseline_prevalence: np.ndarray, cutoff: float) -> np.ndarray:
    """Mean latent score per segment so that P(z > cutoff) equals the baseline prevalence.

    Args:
        baseline_prevalence: prevalence per segment (fractions in (0, 1)).
        cutoff: problem cut-off on the latent score (SD units).

    Returns:
        ``cutoff + Phi^-1(prevalence)`` per segment (SD units).
    """
    # ndtri is the standard normal quantile (what scipy.stats.norm.ppf calls, identical
    # values); scipy.special imports in 0.2 s, scipy.stats in 0.6 s
    from scipy.special import ndtri

    return cutoff + ndtri(np.asarray(baseline_prevalence, dtype=np.float64))


@nb.njit(cache=True, inline="always")
def _pick(u: float, cum: np.ndarray) -> int:
    """Index of the first cumulative share exceeding u (the last one if rounding leaves a gap)."""
    n = cum.shape[0]
    for j in range(n):
        if u < cum[j]:
            return j
    return n - 1


@nb.njit(cache=True, inline="always")
def draw_family(
    key_seg: np.uint64,
    key_cat: np.uint64,
    key_za: np.uint64,
    key_zb: np.uint64,
    slot: np.int64,
    entry: np.int64,
    seg_cum: np.ndarray,
    cat_cum: np.ndarray,
    seg_mu: np.ndarray,
) -> tuple[int, int, float]:
    """Draw one family's segment, adopter category and latent problem score.

    The score uses the Box-Muller transform of two keyed uniforms (exact normal).

    Returns:
        (segment index, adopter category index, latent problem score in SD units).
    """
    seg = _pick(uniform(key_seg, slot, entry), seg_cum)
    cat = _pick(uniform(key_cat, slot, entry), cat_cum[seg])
    z = standard_normal(key_za, key_zb, slot, entry)
    return seg, cat, seg_mu[seg] + z


@nb.njit(cache=True, inline="always")
def standard_normal(key_a: np.uint64, key_b: np.uint64, slot: np.int64, entry: np.int64) -> float:
    """A keyed standard normal: the Box-Muller transform of two keyed uniforms (exact)."""
    u1 = 1.0 - uniform(key_a, slot, entry)  # in (0, 1]
    u2 = uniform(key_b, slot, entry)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@nb.njit(cache=True, nogil=True, inline="always")
def draw_outcome_scores(
    key_za: np.uint64,
    key_zb: np.uint64,
    x_keys: np.ndarray,
    chol: np.ndarray,
    x_mu: np.ndarray,
    slot: np.int64,
    entry: np.int64,
    seg: np.int64,
    x_score: np.ndarray,
) -> None:
    """Set the further outcomes' latent scores ``x_score[:, slot]`` of one family.

    Outcome ``o`` (0 the primary, whose normal ``e_0`` is the one :func:`draw_family`
    draws with the keys ``key_za``, ``key_zb``) has ``z_o = mu_o,s + sum_{j <= o} L_oj e_j``
    with ``L`` the lower Cholesky factor of the outcomes' correlation and ``e_j`` the
    keyed standard normal of outcome j (keys ``x_keys[j - 1]``, named after the outcome),
    all for the same slot and entry step. Lower-triangular ``L``: an outcome's score uses
    the normals of the outcomes before it and its own, so appending an outcome leaves the
    scores of those before it unchanged. Nothing is allocated (the turnover kernel calls
    this in the parents' pass); each normal is drawn again where it is used.
    """
    for o in range(x_score.shape[0]):
        row = o + 1
        z = x_mu[o, seg] + chol[row, 0] * standard_normal(key_za, key_zb, slot, entry)
        for j in range(1, row + 1):
            if chol[row, j] != 0.0:
                z += chol[row, j] * standard_normal(x_keys[j - 1, 0], x_keys[j - 1, 1], slot, entry)
        x_score[o, slot] = z


@nb.njit(cache=True, parallel=True, nogil=True)
def draw_outcome_scores_all(
    key_za: np.uint64,
    key_zb: np.uint64,
    x_keys: np.ndarray,
    chol: np.ndarray,
    x_mu: np.ndarray,
    segment: np.ndarray,
    x_score: np.ndarray,
) -> None:
    """The further outcomes' scores of the initial families (entry step 0), in place."""
    for i in nb.prange(segment.shape[0]):
        draw_outcome_scores(key_za, key_zb, x_keys, chol, x_mu, i, 0, np.int64(segment[i]), x_score)


@nb.njit(cache=True, parallel=True, nogil=True)
def draw_families(
    key_seg: np.uint64,
    key_cat: np.uint64,
    key_za: np.uint64,
    key_zb: np.uint64,
    nbh: np.ndarray,
    seg_cum: np.ndarray,
    cat_cum: np.ndarray,
    seg_mu: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw the initial population of families (entry step 0), one per slot of ``nbh``.

    Slot ``i`` lives in neighbourhood ``nbh[i]`` and its segment is drawn from that
    neighbourhood's mix, the row ``seg_cum[nbh[i]]`` of cumulative segment shares.

    Returns:
        (segment int8, adopter category int8, latent score float32) arrays of length n.
    """
    n = nbh.shape[0]
    segment = np.empty(n, np.int8)
    category = np.empty(n, np.int8)
    score = np.empty(n, np.float32)
    for i in nb.prange(n):
        s, c, z = draw_family(
            key_seg, key_cat, key_za, key_zb, i, 0, seg_cum[nbh[i]], cat_cum, seg_mu
        )
        segment[i] = s
        category[i] = c
        score[i] = z
    return segment, category, score


def neighbourhood_slots(shares: np.ndarray, n: int) -> np.ndarray:
    """The neighbourhood of each family slot: contiguous blocks in the order of ``shares``.

    Neighbourhood ``h`` holds ``floor(shares[h] * n)`` slots plus one for each of the
    largest remainders needed to make ``n`` (ties to the earlier neighbourhood), so the
    sizes are fixed, not drawn: a neighbourhood is a set of places.

    Args:
        shares: share of the families per neighbourhood (summing to 1).
        n: number of family slots.

    Returns:
        int8 array of length ``n``, neighbourhood index per slot, ascending.
    """
    exact = np.asarray(shares, dtype=np.float64) * n / np.sum(shares)
    sizes = np.floor(exact).astype(np.int64)
    extra = np.argsort(-(exact - sizes), kind="stable")[: n - int(sizes.sum())]
    sizes[extra] += 1
    return np.repeat(np.arange(sizes.shape[0], dtype=np.int8), sizes)


def degree_tables(
    segment_counts: np.ndarray, mean_degree: float, relative_degree: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative Poisson tables of the number of ties each parent initiates, per segment.

    A parent of segment ``s`` initiates ``Poisson(lambda_s)`` ties with
    ``lambda_s = mean_degree * r_s / 2`` and ``r_s`` the relative degree normalised to a
    population mean of 1. Row ``s`` holds ``P(X <= x)`` for ``x = 0, 1, ...`` up to the
    first ``x`` with ``P(X > x) < 1e-15``; shorter rows are padded with 1.0.

    Args:
        segment_counts: parents per segment.
        mean_degree: target mean number of neighbours.
        relative_degree: per-segment degree multiplier.

    Returns:
        ``(cdf [S, L] float64, length [S] int64)``: the tables and each row's length.
    """
    # pdtr is the Poisson distribution function scipy.stats.poisson.cdf calls (the same
    # values); scipy.special imports in 0.2 s, scipy.stats in 0.6 s
    from scipy.special import pdtr

    counts = np.asarray(segment_counts, dtype=np.float64)
    rel = np.asarray(relative_degree, dtype=np.float64)
    n = counts.sum()
    mean_rel = float((counts * rel).sum() / n) if n > 0 else 0.0
    rel = rel / mean_rel if mean_rel > 0 else rel
    lam = mean_degree * rel / 2.0
    rows = []
    for lam_s in lam:
        if lam_s <= 0.0:
            rows.append(np.ones(1))
            continue
        # the mean plus 12 standard deviations and a margin bounds the tail below 1e-15
        top = int(lam_s + 12.0 * math.sqrt(lam_s) + 40.0)
        cdf = pdtr(np.arange(top + 1, dtype=np.float64), lam_s)
        last = int(np.argmax(cdf >= 1.0 - 1e-15)) if (cdf >= 1.0 - 1e-15).any() else top
        rows.append(cdf[: last + 1])
    length = np.array([r.shape[0] for r in rows], dtype=np.int64)
    table = np.ones((len(rows), int(length.max()) if rows else 1))
    for s, r in enumerate(rows):
        table[s, : r.shape[0]] = r
    return table, length


def build_network(
    segment: np.ndarray,
    mean_degree: float,
    homophily: float,
    relative_degree: np.ndarray,
    key: np.uint64,
) -> tuple[np.ndarray, np.ndarray]:
    """Random undirected network with homophily by segment, as CSR arrays.

    Each parent initiates ``Poisson(mean_degree * r_s / 2)`` ties, where ``r_s`` is the
    segment's relative degree normalised to mean 1. A tie goes to a uniformly chosen
    parent of the same segment with probability ``homophily``, otherwise to a
    uniformly chosen parent of the whole population. Self-ties and duplicate ties are
    removed, so the realised mean degree is slightly below ``mean_degree`` in very
    small populations.

    Every draw is keyed by (network stream, parent, counter) (:func:`impactsim.rng.uniform`):
    parent ``i``'s number of ties by inversion of the Poisson distribution function at
    ``uniform(key, i, 0)``, its ``t``-th tie (segment and partner) at ``uniform(key, i,
    t + 1)`` (:func:`_random_ties`). The network is therefore the same for any number of
    threads, and two scenarios that differ only in ``mean_degree`` share their ties: each
    parent's ties in the sparser network are the first of its ties in the denser one
    (common random numbers).

    Args:
        segment: segment index per parent.
        mean_degree: target mean number of neighbours.
        homophily: probability a tie stays within the segment.
        relative_degree: per-segment degree multiplier.
        key: key of the network stream (:func:`impactsim.rng.stream_key`).

    Returns:
        ``(offsets, neighbours)``: neighbours of parent i are
        ``neighbours[offsets[i]:offsets[i+1]]`` in ascending order (int64 offsets,
        int32 neighbours).
    """
    n = segment.shape[0]
    n_seg = relative_degree.shape[0]
    if n < 2 or mean_degree <= 0:
        return np.zeros(n + 1, np.int64), np.zeros(0, np.int32)
    counts = np.bincount(segment.astype(np.int64), minlength=n_seg)
    cdf, cdf_len = degree_tables(counts, mean_degree, relative_degree)
    tie_off, dst = _random_ties(np.uint64(key), segment, cdf, cdf_len, float(homophily), counts)
    return _csr_from_ties(tie_off, dst, n)


# The large arrays of the construction are allocated by numpy, between the kernels: numpy
# asks the kernel for transparent huge pages (numba's allocations fault in 4 KiB pages,
# 35 ms of a 0.2 s build at 1,000,000 parents), and tracemalloc sees them, so the memory
# estimate (impactsim.resources) can be checked against a real build.


def _random_ties(
    key: np.uint64,
    segment: np.ndarray,
    cdf: np.ndarray,
    cdf_len: np.ndarray,
    homophily: float,
    counts: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw every parent's initiated ties (keyed draws, in parallel over parents).

    Parent ``i`` of segment ``s`` initiates the smallest ``x`` with ``cdf[s, x] >=
    uniform(key, i, 0)`` ties (inversion; the table's last entry if none). Its tie ``t``
    uses one draw ``u = uniform(key, i, t + 1)``: the tie stays within ``s`` when ``u <
    h`` (``h`` the homophily), with partner member ``min(floor(u / h * counts[s]),
    counts[s] - 1)`` of the segment (members in ascending order); otherwise the partner
    is parent ``min(floor((u - h) / (1 - h) * n), n - 1)``. Given the choice, ``u / h``
    and ``(u - h) / (1 - h)`` are uniform on [0, 1), so one draw decides both.

    Returns:
        ``(tie_off, dst)``: parent i's ties are ``dst[tie_off[i]:tie_off[i + 1]]``
        (int64 offsets, int32 partners; self-ties included).
    """
    n = segment.shape[0]
    tie_off = np.zeros(n + 1, np.int64)
    _tie_counts(key, segment, cdf, cdf_len, tie_off[1:])
    np.cumsum(tie_off[1:], out=tie_off[1:])
    members = np.argsort(segment, kind="stable")  # each segment's parents, ascending
    starts = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    dst = np.empty(int(tie_off[n]), np.int32)
    _tie_partners(key, segment, homophily, counts, starts, members, tie_off, dst)
    return tie_off, dst


@nb.njit(cache=True, parallel=True, nogil=True)
def _tie_counts(
    key: np.uint64, segment: np.ndarray, cdf: np.ndarray, cdf_len: np.ndarray, n_init: np.ndarray
) -> None:
    """Each parent's number of initiated ties (Poisson inversion), into ``n_init``."""
    for i in nb.prange(segment.shape[0]):
        s = segment[i]
        u = uniform(key, i, 0)
        n_init[i] = min(np.searchsorted(cdf[s, : cdf_len[s]], u), cdf_len[s] - 1)


@nb.njit(cache=True, parallel=True, nogil=True)
def _tie_partners(
    key: np.uint64,
    segment: np.ndarray,
    homophily: float,
    counts: np.ndarray,
    starts: np.ndarray,
    members: np.ndarray,
    tie_off: np.ndarray,
    dst: np.ndarray,
) -> None:
    """The partner of each initiated tie (see :func:`_random_ties`)."""
    n = segment.shape[0]
    for i in nb.prange(n):
        s = segment[i]
        n_s = counts[s]
        for t in range(tie_off[i + 1] - tie_off[i]):
            u = uniform(key, i, t + 1)
            if u < homophily:  # then u / homophily is uniform on [0, 1)
                pick = min(np.int64(u / homophily * n_s), n_s - 1)
                dst[tie_off[i] + t] = members[starts[s] + pick]
            else:  # and (u - homophily) / (1 - homophily) here
                dst[tie_off[i] + t] = min(np.int64((u - homophily) / (1.0 - homophily) * n), n - 1)


def _csr_from_ties(
    tie_off: np.ndarray, dst: np.ndarray, n: int, shift: int = -1
) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric CSR adjacency of the ties ``(i, dst[e])``, ``e`` in ``tie_off[i]:tie_off[i+1]``.

    Self-ties and repeats are dropped; row i lists its neighbours in ascending order. In
    parallel over blocks of ``2**shift`` parents (by default the smallest power of two, at
    least 16, that gives at most 128 blocks): (1) each block of initiators counts the ties
    it sends to each block of receivers and (2) writes them, as (receiver, initiator)
    entries, into its own slots of a buffer ordered by receiver block, then initiator
    block, so each receiver block's entries come in ascending order of the initiator;
    (3) each receiver block sorts its entries by receiver (a stable counting sort, which
    keeps each row's initiators ascending) and merges every row with the row's own
    initiated ties (sorted by insertion), dropping repeats; (4) the rows are copied into
    the neighbour array. The arrays depend only on the ties, not on the blocks or threads.
    Peak memory: 20 bytes per initiated tie and 16 per parent, besides ``tie_off``.
    """
    if shift < 0:
        shift = 4
        while (n >> shift) > 128:
            shift += 1
    n_blocks = (n + (1 << shift) - 1) >> shift
    cnt = _count_by_block(tie_off, dst, n, shift, n_blocks)
    # slots: receiving block major, then initiating block
    flat = np.cumsum(cnt.T.ravel())
    pos = (np.concatenate(([0], flat[:-1])).reshape(n_blocks, n_blocks).T).copy()
    recv_start = np.concatenate((pos[0], [flat[-1]])).astype(np.int64)
    ent_row = np.empty(int(flat[-1]), np.int32)
    ent_col = np.empty(int(flat[-1]), np.int32)
    _scatter_by_block(tie_off, dst, n, shift, pos, ent_row, ent_col)
    # block r's merged rows go to out_col from out_base[r]: room for all its ties
    out_base = recv_start + tie_off[np.minimum(np.arange(n_blocks + 1) << shift, n)]
    out_col = np.empty(int(out_base[-1]), np.int32)
    deg = np.empty(n, np.int64)
    kept = _merge_rows(tie_off, dst, n, shift, recv_start, ent_row, ent_col, out_base, out_col, deg)
    del ent_row, ent_col
    first = np.concatenate(([0], np.cumsum(kept))).astype(np.int64)
    offsets = np.empty(n + 1, np.int64)
    nbrs = np.empty(int(first[-1]), np.int32)
    _fill_rows(shift, deg, first, out_base, out_col, offsets, nbrs)
    return offsets, nbrs


@nb.njit(cache=True, parallel=True, nogil=True)
def _count_by_block(
    tie_off: np.ndarray, dst: np.ndarray, n: int, shift: int, n_blocks: int
) -> np.ndarray:
    """Ties per (initiating block, receiving block), self-ties left out."""
    size = 1 << shift
    cnt = np.zeros((n_blocks, n_blocks), np.int64)
    for b in nb.prange(n_blocks):
        for i in range(b * size, min(n, (b + 1) * size)):
            for e in range(tie_off[i], tie_off[i + 1]):
                j = dst[e]
                if j != i:
                    cnt[b, j >> shift] += 1
    return cnt


@nb.njit(cache=True, parallel=True, nogil=True)
def _scatter_by_block(
    tie_off: np.ndarray,
    dst: np.ndarray,
    n: int,
    shift: int,
    pos: np.ndarray,
    ent_row: np.ndarray,
    ent_col: np.ndarray,
) -> None:
    """Write each tie as a (receiver, initiator) entry into its initiating block's slots."""
    size = 1 << shift
    for b in nb.prange(pos.shape[0]):
        p = pos[b]
        for i in range(b * size, min(n, (b + 1) * size)):
            for e in range(tie_off[i], tie_off[i + 1]):
                j = dst[e]
                if j != i:
                    r = j >> shift
                    ent_row[p[r]] = j
                    ent_col[p[r]] = i
                    p[r] += 1


@nb.njit(cache=True, parallel=True, nogil=True)
def _merge_rows(
    tie_off: np.ndarray,
    dst: np.ndarray,
    n: int,
    shift: int,
    recv_start: np.ndarray,
    ent_row: np.ndarray,
    ent_col: np.ndarray,
    out_base: np.ndarray,
    out_col: np.ndarray,
    deg: np.ndarray,
) -> np.ndarray:
    """Per receiving block: its rows (received ties merged with own ties); returns their sizes."""
    size = 1 << shift
    n_blocks = recv_start.shape[0] - 1
    kept = np.zeros(n_blocks, np.int64)
    for r in nb.prange(n_blocks):
        lo_row = r * size
        hi_row = min(n, (r + 1) * size)
        lo = recv_start[r]
        hi = recv_start[r + 1]
        # received ties by row (a stable counting sort: initiators stay ascending)
        start = np.zeros(hi_row - lo_row + 1, np.int64)
        for e in range(lo, hi):
            start[ent_row[e] - lo_row + 1] += 1
        for a in range(hi_row - lo_row):
            start[a + 1] += start[a]
        fill = start[:-1].copy()
        recv = np.empty(hi - lo, np.int32)
        for e in range(lo, hi):
            a = ent_row[e] - lo_row
            recv[fill[a]] = ent_col[e]
            fill[a] += 1
        longest = 0
        for i in range(lo_row, hi_row):
            longest = max(longest, tie_off[i + 1] - tie_off[i])
        own = np.empty(longest, np.int32)
        w = out_base[r]
        for i in range(lo_row, hi_row):
            # the row's own ties, without self-ties, sorted by insertion
            n_own = 0
            for e in range(tie_off[i], tie_off[i + 1]):
                x = dst[e]
                if x != i:
                    f = n_own - 1
                    while f >= 0 and own[f] > x:
                        own[f + 1] = own[f]
                        f -= 1
                    own[f + 1] = x
                    n_own += 1
            # merged with the received ties (ascending), repeats dropped
            e1 = start[i - lo_row]
            e1_end = start[i - lo_row + 1]
            e2 = 0
            row_lo = w
            while e1 < e1_end or e2 < n_own:
                if e2 >= n_own or (e1 < e1_end and recv[e1] <= own[e2]):
                    x = recv[e1]
                    e1 += 1
                else:
                    x = own[e2]
                    e2 += 1
                if w == row_lo or out_col[w - 1] != x:
                    out_col[w] = x
                    w += 1
            deg[i] = w - row_lo
        kept[r] = w - out_base[r]
    return kept


@nb.njit(cache=True, parallel=True, nogil=True)
def _fill_rows(
    shift: int,
    deg: np.ndarray,
    first: np.ndarray,
    out_base: np.ndarray,
    out_col: np.ndarray,
    offsets: np.ndarray,
    nbrs: np.ndarray,
) -> None:
    """CSR offsets and neighbours from each block's merged rows (block r from ``first[r]``)."""
    size = 1 << shift
    n = deg.shape[0]
    offsets[0] = 0
    for r in nb.prange(first.shape[0] - 1):
        run = first[r]
        for i in range(r * size, min(n, (r + 1) * size)):
            run += deg[i]
            offsets[i + 1] = run
        w0 = out_base[r]
        for e in range(first[r + 1] - first[r]):
            nbrs[first[r] + e] = out_col[w0 + e]
