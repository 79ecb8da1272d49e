"""Reproducibility and common random numbers."""

import dataclasses
from pathlib import Path

import numba
import numpy as np
import pandas as pd
import pytest

import impactsim
from helpers import build
from impactsim.loading import default_scenario
from impactsim.scenario import Scenario
from impactsim.scenario.sources import without_dangling_sources


def small_default(size: int = 3000, months: int = 24) -> impactsim.Scenario:
    sc = default_scenario()
    data = sc.model_dump()
    data["population"]["size"] = size
    data["simulation"]["months"] = months
    return build(data)


def test_same_seed_bit_identical_and_different_seed_differs():
    sc = small_default()
    a = impactsim.run(sc, replicates=3, seed=5, progress=False)
    b = impactsim.run(sc, replicates=3, seed=5, progress=False)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    c = impactsim.run(sc, replicates=3, seed=6, progress=False)
    assert not a.summary["value"].equals(c.summary["value"])


def test_identical_for_any_number_of_threads():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs at least 2 numba threads")
    sc = small_default(size=20_000)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = impactsim.run(sc, replicates=2, seed=8, progress=False)
        numba.set_num_threads(2)
        two = impactsim.run(sc, replicates=2, seed=8, progress=False)
    finally:
        numba.set_num_threads(before)
    pd.testing.assert_frame_equal(one.summary, two.summary)
    pd.testing.assert_frame_equal(one.timeseries, two.timeseries)


def test_identical_for_any_split_of_the_parents_pass():
    # the parents' pass runs its chunks on W workers that take chunks dynamically, the
    # network pushes (and, beside them, the waiting lists) on W tasks; W larger than the thread count gives every worker
    # chunks of other workers' ranges to take, so any dependence on who runs a chunk
    # (or on the split) would show as a difference in some count or state array. The
    # standard benchmark has waiting lists, a network with spillover and word of mouth.
    from impactsim.engine.simulate import _simulate_replicate
    from impactsim.engine.spec import compile_scenario
    from impactsim.rng import replicate_key

    path = Path(__file__).parents[1] / "scenarios" / "standard-benchmark.yaml"
    data = impactsim.load_scenario(path).model_dump()
    data["population"]["size"] = 20_000
    data["simulation"]["months"] = 36
    spec = compile_scenario(build(data))
    runs = []
    for split in (1, 2, 3, 7):
        state: dict = {}
        rec = _simulate_replicate(spec, replicate_key(4, 1), state, work_split=split)
        arrays = {f.name: getattr(rec, f.name) for f in dataclasses.fields(rec)}
        runs.append(arrays | {f"state.{k}": v for k, v in state.items()})
    assert runs[0]["enrol_new"].sum() > 1000  # events in every part of the model
    assert runs[0]["state.spill"].any()
    # waiting lists that give places and see parents give up: with more than one worker
    # they are served beside the network pushes (waiting_lists.serve_and_push), with one
    # before them
    assert runs[0]["waiting"].sum() > 1000 and runs[0]["gaveup_new"].sum() > 1000
    for other in runs[1:]:
        assert other.keys() == runs[0].keys()
        for name, value in runs[0].items():
            np.testing.assert_array_equal(other[name], value, err_msg=name)


def test_replicates_split_into_pieces_give_the_same_numbers():
    sc = small_default()
    whole = impactsim.run(sc, replicates=4, seed=9, progress=False).summary
    from impactsim.runner import run

    part = run(sc, replicates=2, seed=9, first_replicate=2, progress=False).summary
    w = whole[whole.replicate >= 2].reset_index(drop=True)
    assert w["value"].tolist() == part["value"].tolist()


def test_counterfactual_unchanged_by_programme_parameters():
    sc = small_default()
    other = sc.model_dump()
    other["interventions"][0]["effect_size"]["mean"] = 0.9
    other["channels"][0]["referral_strength"] = 0.2
    other["providers"][1]["capacity_per_month"] = 50
    a = impactsim.run(sc, replicates=3, seed=10, progress=False)
    b = impactsim.run(build(other), replicates=3, seed=10, progress=False)
    none = impactsim.run(sc.without_programme(), replicates=3, seed=10, progress=False)
    for res in (b, none):
        for seg in ("all", "higher_ses", "lower_ses_migration"):
            assert (
                a.metric("prevalence_counterfactual", segment=seg).tolist()
                == res.metric("prevalence_counterfactual", segment=seg).tolist()
            )
    # the no-programme world: scenario prevalence equals the counterfactual of the package
    assert none.metric("prevalence").tolist() == a.metric("prevalence_counterfactual").tolist()


def test_shared_intervention_sees_common_random_numbers():
    # adding a second intervention does not change the first one's effect-size draw
    sc = small_default()
    only_online = sc.model_dump()
    only_online["strategy"]["offers"] = only_online["strategy"]["offers"][:1]
    only_online["strategy"]["interactions"] = []
    without_dangling_sources(only_online, Scenario)  # the sources of removed offers go too
    a = impactsim.run(sc, replicates=3, seed=11, progress=False)
    b = impactsim.run(build(only_online), replicates=3, seed=11, progress=False)
    assert (
        a.metric("efficacy_d", intervention="online_course").tolist()
        == b.metric("efficacy_d", intervention="online_course").tolist()
    )
