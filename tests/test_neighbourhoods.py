"""Neighbourhoods: the scenario section, the families' places and mixes, the network in run.json.

The rule (docs/model.md §1, "Neighbourhoods"): slot ``i`` lives in a fixed neighbourhood
(contiguous blocks of the rounded shares); its family's segment, at the start and after
turnover, is drawn from that neighbourhood's segment mix.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import PLACE_MIX, PLACE_SHARES, base_dict, build, three_places_dict
from impactsim.engine.simulate import simulate_replicate
from impactsim.engine.spec import compile_scenario
from impactsim.loading import ScenarioError
from impactsim.rng import replicate_key
from impactsim.runner import run

MIX, SHARES = PLACE_MIX, PLACE_SHARES


def scenario(size: int = 4000, kind: str = "small_world", turnover: float = 0.0) -> dict:
    """Two segments (low 0.38, high 0.62: the shares the mixes imply) in three places."""
    return three_places_dict(size, months=6, kind=kind, turnover=turnover)


def test_a_population_divided_into_neighbourhoods_is_valid():
    sc = build(scenario())
    assert [h.name for h in sc.population.neighbourhoods] == list(SHARES)
    spec = compile_scenario(sc)
    assert spec.neighbourhood_names == list(SHARES)
    # the engine's segments are cells (neighbourhood, segment): each place draws its own
    assert spec.seg_cum.tolist() == [
        [0.1, 1.0, 1.0, 1.0, 1.0, 1.0],
        [0.0, 0.0, 0.4, 1.0, 1.0, 1.0],
        [0.0, 0.0, 0.0, 0.0, 0.8, 1.0],
    ]
    assert np.bincount(spec.nbh_slot).tolist() == [1600, 1400, 1000]


def test_without_neighbourhoods_one_place_holds_the_segment_shares():
    spec = compile_scenario(build(base_dict()))
    assert spec.neighbourhood_names == []
    assert spec.seg_cum.shape == (1, 1) and spec.nbh_slot.max() == 0


def _edit(path: list, value) -> dict:
    d = scenario()
    node = d
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return d


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["population", "neighbourhoods", 0, "share"], 0.5, "neighbourhood shares must sum to 1"),
        (
            ["population", "neighbourhoods", 0, "segment_mix"],
            {"low": 0.5, "high": 0.6},
            "segment_mix must sum to 1",
        ),
        (
            ["population", "neighbourhoods", 0, "segment_mix"],
            {"lo": 0.1, "high": 0.9},
            "unknown segment lo in segment_mix",
        ),
        (
            ["population", "neighbourhoods", 2, "segment_mix"],
            {"low": 0.5, "high": 0.5},
            r"give each segment's share within 0.01; they give low 0.3[0-9]* \(share 0.38\)",
        ),
        (["population", "neighbourhoods", 1, "name"], "north", "repeated: north"),
        (["population", "network", "mean_degree"], 5, "must be an even whole number"),
        (["population", "segments", 0, "relative_degree"], 0.8, "relative_degree must be 1"),
    ],
)
def test_inconsistent_neighbourhoods_are_refused(path, value, message):
    with pytest.raises(ScenarioError, match=message):
        build(_edit(path, value))


def test_at_most_127_cells():
    """The engine keeps a family's cell (neighbourhood, segment) in one byte: 64 x 2 = 128."""
    d = scenario(size=10_000)
    d["population"]["neighbourhoods"] = [{"name": f"n{j}", "share": 1 / 64} for j in range(64)]
    with pytest.raises(ScenarioError, match="64 neighbourhoods x 2 segments = 128 groups"):
        build(d)
    d["population"]["neighbourhoods"] = d["population"]["neighbourhoods"][:63]
    for h in d["population"]["neighbourhoods"]:
        h["share"] = 1 / 63
    assert len(build(d).population.neighbourhoods) == 63


def test_ties_between_neighbourhoods_need_two_of_them():
    d = scenario()
    del d["population"]["neighbourhoods"]
    d["population"]["segments"][0]["share"] = 0.38
    with pytest.raises(ScenarioError, match="between_neighbourhoods needs at least two"):
        build(d)


def _segment_mix(cell: np.ndarray, nbh: np.ndarray) -> np.ndarray:
    """Share of segment 'low' per neighbourhood (cells 0, 2, 4: low in north, centre, south)."""
    assert np.array_equal(cell // 2, nbh)  # every family in a cell of its own place
    return np.array([np.mean(cell[nbh == h] % 2 == 0) for h in range(3)])


def test_families_are_drawn_from_their_neighbourhoods_mix():
    """Share of segment 'low' per place: 0.1, 0.4, 0.8 (binomial SD <= 0.007 at n = 10,000)."""
    spec = compile_scenario(build(scenario(size=10_000)))
    state: dict = {}
    simulate_replicate(spec, replicate_key(1, 0), state)
    assert _segment_mix(state["segment"], spec.nbh_slot) == pytest.approx(
        [0.1, 0.4, 0.8], abs=0.025
    )


def test_entrants_keep_the_slots_neighbourhood_mix():
    """With turnover 0.5 per month for 6 months, 95 % of slots changed family (1 - e^-3)."""
    d = scenario(size=10_000, turnover=0.5)
    spec = compile_scenario(build(d))
    state: dict = {}
    rec = simulate_replicate(spec, replicate_key(1, 0), state)
    assert rec.exits.sum() > 9000
    assert _segment_mix(state["segment"], spec.nbh_slot) == pytest.approx(
        [0.1, 0.4, 0.8], abs=0.025
    )


def test_run_json_reports_the_realised_network():
    """Targets: degree 6 (ring lattice), 95 % of ties within places (1 - 0.05)."""
    result = run(build(scenario(size=4000)), replicates=1, seed=3, progress=False)
    net = result.run_info()["network"]
    assert net["kind"] == "small_world"
    assert net["mean_degree"] == pytest.approx(6.0, abs=0.01)
    assert net["within_neighbourhood_share"] == pytest.approx(0.95, abs=0.01)
    # ring lattice C(0) = 3 (k - 2) / (4 (k - 1)) = 0.6 at k = 6, times (1 - p)^3 for the
    # ties that stay: p = 0.1 rewired + 0.05 between, so about 0.6 * 0.85^3 = 0.37
    assert net["clustering"] == pytest.approx(0.6 * 0.85**3, abs=0.02)
    random = run(build(scenario(kind="random")), replicates=1, seed=3, progress=False)
    assert random.run_info()["network"]["clustering"] < 0.01
    mixed = run(build(scenario(kind="fully_mixed")), replicates=1, seed=3, progress=False)
    assert mixed.run_info()["network"] == {"kind": "fully_mixed"}


def test_several_outcomes_are_given_per_neighbourhood():
    """Each outcome's prevalence per neighbourhood follows the neighbourhood's segment mix.

    Expected from the equation: a family's outcome is a problem with its segment's baseline
    prevalence, so a neighbourhood's month-0 prevalence is ``sum_s mix_s p_s``: emotional
    problems (low 0.30, high 0.05) in the south (0.8 low) 0.25, in the north (0.1 low)
    0.075. Tolerances 0.02 and 0.015 are about 3 binomial standard errors of 5,000 and
    8,000 families. The municipality's rows are the neighbourhoods' added up
    (families-weighted means), to rounding.
    """
    d = scenario(size=20_000)
    d["outcomes"] = [
        {"name": "behaviour", "baseline_prevalence": {"low": 0.25, "high": 0.10}},
        {"name": "emotional", "baseline_prevalence": {"low": 0.30, "high": 0.05}},
    ]
    d["interventions"][0]["effect_sizes"] = {"emotional": {"mean": 0.3}}
    res = run(build(d), replicates=2, seed=3, progress=False)
    ts, summary = res.timeseries, res.summary
    month0 = ts[(ts["month"] == 0) & (ts["segment"] == "all") & (ts["outcome"] == "emotional")]
    cf = month0[month0["metric"] == "prevalence_counterfactual"]
    by_place = cf.groupby("neighbourhood", observed=True)["value"].mean()
    assert by_place["south"] == pytest.approx(0.8 * 0.30 + 0.2 * 0.05, abs=0.02)
    assert by_place["north"] == pytest.approx(0.1 * 0.30 + 0.9 * 0.05, abs=0.015)
    assert by_place["centre"] == pytest.approx(0.4 * 0.30 + 0.6 * 0.05, abs=0.02)
    rows = summary[(summary["segment"] == "all") & (summary["intervention"] == "all")]
    for outcome in ("behaviour", "emotional"):
        for metric in ("prevalence", "public_impact_pp"):
            sel = rows[(rows["metric"] == metric) & (rows["outcome"] == outcome)]
            fam = summary[(summary["metric"] == "families") & (summary["segment"] == "all")]
            fam = fam[fam["adopter_category"] == "all"]
            for rep in (0, 1):
                part = sel[(sel["replicate"] == rep) & (sel["neighbourhood"] != "all")]
                n = fam[fam["replicate"] == rep].set_index("neighbourhood")["value"]
                weighted = (part.set_index("neighbourhood")["value"] * n).sum() / n.drop(
                    "all"
                ).sum()
                total = sel[(sel["replicate"] == rep) & (sel["neighbourhood"] == "all")]["value"]
                assert float(total.iloc[0]) == pytest.approx(float(weighted), rel=1e-9, abs=1e-12)
