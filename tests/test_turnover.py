"""Turnover (``engine.turnover.replace_family``), called on hand-made state.

The rule (docs/model.md §1, "Turnover"): a family that leaves is replaced in its slot by
an entrant whose segment, category and score are drawn afresh from the same mix, keyed by
slot and entry step, with no programme history and no awareness; the entrant keeps the
slot's network ties and acts from the step after it enters. Leavers who took part are
taken out of their neighbours' word-of-mouth counters, so a network population lists them
(``EV_EXIT``, with the programmes in ``exit_mask``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import base_dict, engine_bundles
from impactsim.engine.clocks import next_time
from impactsim.engine.layout import (
    AWARE,
    COMPLETED,
    DROPPED,
    ENROLLED,
    EV_ANY_EXIT,
    EV_EXIT,
    NEVER,
    NONE,
    ROW_N,
    WAITING,
    status_row,
)
from impactsim.engine.turnover import replace_family
from impactsim.rng import uniform

T = 4  # the step in which the family leaves


def scenario(kind: str) -> dict:
    """Three segments, Rogers categories, two programmes, turnover; 600 parents, 2 chunks."""
    d = base_dict(size=600, months=12)
    seg = d["population"]["segments"][0]
    d["population"]["segments"] = [
        {**seg, "name": "a", "share": 0.5, "baseline_prevalence": 0.08},
        {**seg, "name": "b", "share": 0.3, "baseline_prevalence": 0.15},
        {**seg, "name": "c", "share": 0.2, "baseline_prevalence": 0.30},
    ]
    d["population"]["network"] = {"kind": kind, "mean_degree": 6, "homophily": 0.5}
    d["population"]["turnover_rate_per_month"] = 0.05
    d["interventions"].append(
        {"name": "second", "duration_months": 2, "effect_size": {"mean": 0.2}}
    )
    d["strategy"]["offers"].append(
        {"intervention": "second", "channels": ["campaign"], "providers": ["platform"]}
    )
    return d


def expected_entrant(eng, i: int, entry: int) -> tuple[int, int, float]:
    """Segment, category and score of the family entering slot i at step ``entry``.

    docs/model.md §1: the segment and category are the first cumulative share above a
    keyed uniform (stream, slot, entry step); the score is ``mu_s + z`` with z the
    Box-Muller transform of two more keyed uniforms.
    """
    k_seg, k_cat, k_za, k_zb = eng.population.pop_keys[:4]
    seg_cum, cat_cum = eng.spec.seg_cum, eng.spec.cat_cum
    s = int(np.argmax(uniform(k_seg, i, entry) < seg_cum))
    a = int(np.argmax(uniform(k_cat, i, entry) < cat_cum[s]))
    u1, u2 = 1.0 - uniform(k_za, i, entry), uniform(k_zb, i, entry)
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    return s, a, eng.spec.seg_mu[s] + z


def leaver(eng, statuses: tuple[int, int]) -> int:
    """A slot in the second chunk whose entrant at step T + 1 changes segment, with a
    history set by hand (statuses, effects, spillover, channels) and counted."""
    p = eng.parents
    i = next(
        i
        for i in range(eng.bounds[1], eng.bounds[2])
        if expected_entrant(eng, i, T + 1)[0] != p.segment[i]
    )
    p.status[i] = statuses
    p.t_event[i] = [2, 3]
    p.ref_channel[i] = [0, 0]
    p.effect[i] = [0.4, 0.1]
    p.spill[i] = [0.05, 0.02]
    p.wom_count[i] = [3, 1]
    p.first_channel[i] = 0
    p.adopt_step[i] = 2 if {ENROLLED, COMPLETED, DROPPED} & set(statuses) else -1
    p.has_gain[i] = 1
    p.eff_on[i] = 0b11
    p.t_exit[i] = T
    eng.restart_counts()  # the stock counts of the state set by hand
    return i


@pytest.mark.parametrize("kind", ["random", "fully_mixed"])
@pytest.mark.parametrize(
    "statuses",
    [(COMPLETED, ENROLLED), (WAITING, DROPPED), (AWARE, NONE)],
    ids=["took-part-in-both", "took-part-in-second", "never-took-part"],
)
def test_replace_family(kind: str, statuses: tuple[int, int]):
    eng = engine_bundles(scenario(kind))
    p, sc = eng.parents, eng.scratch
    i = leaver(eng, statuses)
    c = eng.chunk_of(i)
    assert c == 1
    old_s = int(p.segment[i])
    before = eng.counts().copy()
    wom_before = p.wom_count[i].copy()

    replace_family(
        i, c, T, p, eng.population, eng.network, eng.interventions, sc, eng.records.s_cnt
    )

    # the entrant: drawn afresh, keyed by slot i and entry step T + 1 (docs/model.md §1)
    s, a, z = expected_entrant(eng, i, T + 1)
    assert (p.segment[i], p.category[i]) == (s, a)
    assert p.score[i] == np.float32(z)
    assert s != old_s  # (chosen so): a change of segment is visible in the counts
    # ... not the draw of another entry step or slot (the keys matter)
    assert expected_entrant(eng, i, T)[2] != z and expected_entrant(eng, i + 1, T + 1)[2] != z
    # no programme history, no awareness
    assert (p.status[i] == NONE).all()
    assert not p.effect[i].any() and not p.spill[i].any()
    assert (p.t_event[i] == 0).all() and (p.ref_channel[i] == -1).all()
    assert (p.first_channel[i], p.adopt_step[i], p.has_gain[i], p.eff_on[i]) == (-1, -1, 0, 0)
    # the slot's network ties stay, with its counters of participating neighbours
    np.testing.assert_array_equal(p.wom_count[i], wom_before)
    # new clocks from step T: the exit is the geometric draw keyed (slot, T), after T
    assert p.t_exit[i] > T
    assert p.t_exit[i] == next_time(eng.population.pop_keys[4], i, T, eng.population.turn_rate)
    assert ((p.t_next[i] > T) | (p.t_next[i] == NEVER)).all()  # acts from step T + 1 on
    assert p.t_due[i] == min(p.t_exit[i], p.t_next[i].min())

    # the stock counts: one parent out of segment old_s, one into s, equal to a recount
    after = eng.counts()
    assert after[ROW_N].sum() == before[ROW_N].sum()
    assert after[ROW_N, old_s] == before[ROW_N, old_s] - 1
    assert after[ROW_N, s] == before[ROW_N, s] + 1
    for k, st in enumerate(statuses):  # the leaver's statuses out, the entrant's NONE in
        assert after[status_row(st, k, 2), old_s] == before[status_row(st, k, 2), old_s] - 1
        assert after[status_row(NONE, k, 2), s] == before[status_row(NONE, k, 2), s] + 1
    np.testing.assert_array_equal(after, eng.recount())

    # the chunk's scratch: one leaver, segment moves, leavers who took part per programme
    took = [st in (ENROLLED, COMPLETED, DROPPED) for st in statuses]
    mask = sum(1 << k for k in range(2) if took[k])
    assert sc.flags[c, EV_ANY_EXIT] == 1
    assert sc.seg_delta[c, old_s] == -1 and sc.seg_delta[c, s] == 1
    np.testing.assert_array_equal(sc.exit_sk[c, old_s], took)
    assert sc.exit_sk.sum() == sum(took)
    # listed for the word-of-mouth pushes only when it took part and there is a network
    listed = mask != 0 and kind == "random"
    assert sc.flags[c, EV_EXIT] == listed
    assert p.exit_mask[i] == (mask if listed else 0)
    if listed:
        assert sc.events[c, EV_EXIT, 0] == i
    assert sc.flags[0].sum() == 0  # nothing in the other chunk
