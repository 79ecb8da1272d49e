"""Reproducibility and common random numbers."""

import numba
import pandas as pd
import pytest

import impactsim
from helpers import build
from impactsim.loading import default_scenario


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
    a = impactsim.run(sc, replicates=3, seed=11, progress=False)
    b = impactsim.run(build(only_online), replicates=3, seed=11, progress=False)
    assert (
        a.metric("efficacy_d", intervention="online_course").tolist()
        == b.metric("efficacy_d", intervention="online_course").tolist()
    )
