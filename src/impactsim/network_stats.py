"""What a built network looks like: mean degree, clustering, ties within places and segments.

Written to ``run.json`` (``network``) so a planner can see that the network the engine
used is the one the scenario asked for, and tested against networkx on small networks.
"""

from __future__ import annotations

import numba as nb
import numpy as np


def network_stats(
    offsets: np.ndarray, nbrs: np.ndarray, segment: np.ndarray, nbh: np.ndarray
) -> dict[str, float]:
    """Realised statistics of a CSR network (rows ascending, as the builders return them).

    Args:
        offsets: CSR offsets ([N + 1]).
        nbrs: neighbours ([E], each undirected tie listed from both ends).
        segment: segment index per family.
        nbh: neighbourhood index per family.

    Returns:
        ``mean_degree`` (ties per family), ``clustering`` (mean local clustering
        coefficient, families with fewer than two neighbours counting 0, as networkx's
        ``average_clustering``), ``within_neighbourhood_share`` and
        ``within_segment_share`` (fractions of the ties; NaN without ties).
    """
    n = segment.shape[0]
    local, same_nbh, same_seg = _per_family(offsets, nbrs, segment, nbh)
    ties = float(nbrs.shape[0])
    return {
        "mean_degree": ties / n if n else float("nan"),
        "clustering": float(local.mean()) if n else float("nan"),
        "within_neighbourhood_share": float(same_nbh.sum()) / ties if ties else float("nan"),
        "within_segment_share": float(same_seg.sum()) / ties if ties else float("nan"),
    }


@nb.njit(cache=True, parallel=True, nogil=True)
def _per_family(
    offsets: np.ndarray, nbrs: np.ndarray, segment: np.ndarray, nbh: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per family: local clustering, ties within its neighbourhood, ties within its segment.

    The triangles through ``i`` are half the sum over its neighbours ``j`` of the common
    neighbours of ``i`` and ``j``, counted by merging the two ascending rows.
    """
    n = segment.shape[0]
    local = np.zeros(n, np.float64)
    same_nbh = np.zeros(n, np.int64)
    same_seg = np.zeros(n, np.int64)
    for i in nb.prange(n):
        lo, hi = offsets[i], offsets[i + 1]
        common = 0
        for e in range(lo, hi):
            j = nbrs[e]
            same_nbh[i] += nbh[j] == nbh[i]
            same_seg[i] += segment[j] == segment[i]
            a, b = lo, offsets[j]
            while a < hi and b < offsets[j + 1]:
                x, y = nbrs[a], nbrs[b]
                common += x == y
                a += x <= y
                b += y <= x
        d = hi - lo
        if d > 1:
            local[i] = common / (d * (d - 1.0))
    return local, same_nbh, same_seg
