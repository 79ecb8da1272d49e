"""The cost-effectiveness plane: ICERs, dominance and the efficient frontier (pure functions).

Used by :mod:`impactsim.compare` (and re-exported there) for strategies compared with
common random numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd


def icer(delta_cost: float, delta_effect: float) -> float:
    """Incremental cost-effectiveness ratio ``ΔC / ΔE``; NaN unless ``ΔE > 0``.

    With ``ΔE <= 0`` the ratio does not rank strategies (the strategy is no better, or is
    dominated); dominance is reported separately.
    """
    return delta_cost / delta_effect if delta_effect > 0 else math.nan


def efficient_frontier(points: Mapping[str, tuple[float, float]]) -> pd.DataFrame:
    """Classify options on the cost-effectiveness plane and find the efficient frontier.

    An option is *dominated* when another costs no more and achieves at least as much
    (one of the two strictly); identical options keep the first listed. Of the rest, sorted
    by cost, an option is *extendedly dominated* when the ICER from the previous option is
    higher than the ICER to the next one (a mix of its neighbours would do better).
    The remaining options form the frontier; each gets the ICER against the previous one.

    Args:
        points: ``{option: (mean cost, mean effect)}``.

    Returns:
        DataFrame with ``scenario, cost, effect, status, icer_vs_previous, previous``,
        sorted by cost.
    """
    names = list(points)
    status = dict.fromkeys(names, "efficient")
    for i, a in enumerate(names):
        ca, ea = points[a]
        for j, b in enumerate(names):
            if a == b:
                continue
            cb, eb = points[b]
            better = cb <= ca and eb >= ea and (cb < ca or eb > ea)
            same_earlier = cb == ca and eb == ea and j < i
            if better or same_earlier:
                status[a] = "dominated"
                break
    live = sorted((n for n in names if status[n] == "efficient"), key=lambda n: points[n][0])
    changed = True
    while changed and len(live) > 2:
        changed = False
        for i in range(1, len(live) - 1):
            prev, cur, nxt = live[i - 1], live[i], live[i + 1]
            r1 = icer(points[cur][0] - points[prev][0], points[cur][1] - points[prev][1])
            r2 = icer(points[nxt][0] - points[cur][0], points[nxt][1] - points[cur][1])
            if r1 > r2:
                status[cur] = "extendedly dominated"
                live.pop(i)
                changed = True
                break
    rows = []
    for n in sorted(names, key=lambda n: (points[n][0], -points[n][1])):
        ratio, previous = math.nan, ""
        if n in live and live.index(n) > 0:
            previous = live[live.index(n) - 1]
            ratio = icer(points[n][0] - points[previous][0], points[n][1] - points[previous][1])
        rows.append(
            {
                "scenario": n,
                "cost": points[n][0],
                "effect": points[n][1],
                "status": status[n],
                "icer_vs_previous": ratio,
                "previous": previous,
            }
        )
    return pd.DataFrame(rows)
