"""Neighbourhoods in the compiled arrays: the engine's segments become (neighbourhood, segment) cells.

With ``H`` neighbourhoods and ``S`` segments the engine works on ``H * S`` cells, cell
``h * S + s`` holding the families of segment ``s`` living in neighbourhood ``h``. Each
per-segment array of :class:`~impactsim.engine.spec.ModelSpec` is repeated for every
neighbourhood, then the places are applied: a channel restricted to neighbourhoods has
no contacts in the cells of the others, an offer restricted to neighbourhoods (or
delivered by providers that serve only some) is not open to the families of the others.
The kernels need no change: they index their arrays by the family's cell as they did by
its segment, and the recordings come out per cell (the metrics add cells up by segment
and by neighbourhood). Without neighbourhoods the cells are the segments and no array
changes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from impactsim.scenario import Scenario

#: Per-segment fields of ModelSpec, and the axis along which they run over segments.
SEGMENT_AXIS: dict[str, int] = {
    "cat_cum": 0,
    "seg_mu": 0,
    "seg_rank": 0,
    "target": 0,
    "relative_degree": 0,
    "contact_hz": 0,
    "p_drop": 1,
    "eff_mult": 1,
    "elig_seg": 1,
    "x_mu": 1,
}


def cell_fields(sc: Scenario, fields: dict[str, Any]) -> dict[str, Any]:
    """The ModelSpec fields per cell, from the per-segment ones (``fields``).

    Args:
        sc: the scenario.
        fields: the compiled fields with per-segment arrays and ``seg_cum`` [H, S].

    Returns:
        The fields to replace: each of :data:`SEGMENT_AXIS` repeated for every
        neighbourhood and restricted by place, ``seg_cum`` [H, H * S] (the families of
        neighbourhood h are drawn among its cells), ``cell_segment`` and ``cell_nbh``.
    """
    n_seg = len(sc.population.segments)
    hoods = [h.name for h in sc.population.neighbourhoods]
    if not hoods:
        return {"cell_segment": np.arange(n_seg), "cell_nbh": np.zeros(n_seg, np.int64)}
    n_h = len(hoods)
    out = {
        name: np.concatenate([fields[name]] * n_h, axis=axis) for name, axis in SEGMENT_AXIS.items()
    }
    seg_cum = np.zeros((n_h, n_h * n_seg))
    for h in range(n_h):
        seg_cum[h, (h + 1) * n_seg :] = 1.0
        seg_cum[h, h * n_seg : (h + 1) * n_seg] = fields["seg_cum"][h]
    cell_nbh = np.repeat(np.arange(n_h), n_seg)
    ch_index = {c.name: j for j, c in enumerate(sc.channels)}
    for c in sc.channels:
        if c.neighbourhoods is not None:
            out["contact_hz"][
                ~np.isin(cell_nbh, [hoods.index(n) for n in c.neighbourhoods]), ch_index[c.name]
            ] = 0.0
    for k, where in enumerate(offer_neighbourhoods(sc)):
        if where is not None:
            out["elig_seg"][k, ~np.isin(cell_nbh, [hoods.index(n) for n in where])] = False
    return out | {
        "seg_cum": seg_cum,
        "cell_segment": np.tile(np.arange(n_seg), n_h),
        "cell_nbh": cell_nbh,
    }


def offer_neighbourhoods(sc: Scenario) -> list[list[str] | None]:
    """Per offer: the neighbourhoods it is open to, or None for all.

    Those of the offer among those its providers serve (the providers of an offer serve
    the same neighbourhoods, checked when the scenario is read).
    """
    by_name = {p.name: p.neighbourhoods for p in sc.providers}
    out: list[list[str] | None] = []
    for o in sc.strategy.offers:
        served = next((by_name[p] for p in o.providers if by_name[p] is not None), None)
        if o.neighbourhoods is None or served is None:
            out.append(o.neighbourhoods if served is None else list(served))
        else:
            out.append([n for n in o.neighbourhoods if n in served])
    return out
