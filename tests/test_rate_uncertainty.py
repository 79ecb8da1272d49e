"""Uncertain referral strengths and adoption rates: one gamma multiplier per replicate.

A channel's ``referral_strength_cv`` and a provider type's ``adoption_rate_cv`` make the
rate a per-replicate parameter, drawn like the cost multipliers (gamma, mean 1, the given
coefficient of variation, from the stream named after the channel or provider type). A
replicate with a multiplier m must then be exactly the replicate of the scenario whose
rate is m times larger and known: the same random numbers, the same result.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from helpers import base_dict, build
from impactsim.engine.spec import compile_scenario, draw_replicate, replicate_rates
from impactsim.rng import replicate_key
from impactsim.runner import run

SEED = 4


def scenario(referral_cv: float = 0.0, adoption_cv: float = 0.0) -> dict:
    """The base test scenario with a slow channel and organisations that adopt over time."""
    d = base_dict(size=1500, months=12)
    d["channels"][0].update(referral_strength=0.3, referral_strength_cv=referral_cv)
    d["population"]["segments"][0]["contact_rates"]["campaign"] = 0.2
    d["providers"][0].update(
        count=20,
        initial_offer_share=0.0,
        innovation_rate_per_month=0.05,
        imitation_rate_per_month=0.3,
        adoption_rate_cv=adoption_cv,
    )
    return d


def test_multipliers_are_gamma_with_mean_one_and_the_given_cv():
    spec = compile_scenario(build(scenario(referral_cv=0.3, adoption_cv=0.5)))
    draws = [draw_replicate(spec, replicate_key(SEED, r)) for r in range(4000)]
    ref = np.array([d.referral_mult[0] for d in draws])
    adopt = np.array([d.adoption_mult[0] for d in draws])
    # mean 1 (SE 0.3 / sqrt(4000) = 0.005 and 0.008), CV as given (SE about 0.004, 0.008)
    assert ref.mean() == pytest.approx(1.0, abs=0.02)
    assert ref.std() == pytest.approx(0.3, abs=0.02)
    assert adopt.mean() == pytest.approx(1.0, abs=0.03)
    assert adopt.std() == pytest.approx(0.5, abs=0.04)
    assert (ref > 0).all() and (adopt > 0).all()
    # the two are independent streams
    assert abs(np.corrcoef(ref, adopt)[0, 1]) < 0.05


def test_without_uncertainty_the_replicate_uses_the_compiled_rates():
    spec = compile_scenario(build(scenario()))
    draws = draw_replicate(spec, replicate_key(SEED, 0))
    assert (draws.referral_mult == 1.0).all() and (draws.adoption_mult == 1.0).all()
    assert replicate_rates(spec, draws) is spec


def _summary(d: dict, replicate: int):
    res = run(build(d), replicates=1, seed=SEED, first_replicate=replicate, progress=False)
    return res.summary.drop(columns="scenario").reset_index(drop=True)


@pytest.mark.parametrize("replicate", [0, 3])
def test_a_replicate_equals_the_known_rate_scenario_at_its_multiplier(replicate):
    d = scenario(referral_cv=0.4, adoption_cv=0.6)
    spec = compile_scenario(build(d))
    draws = draw_replicate(spec, replicate_key(SEED, replicate))
    m_ref, m_adopt = float(draws.referral_mult[0]), float(draws.adoption_mult[0])
    assert m_ref != 1.0 and m_adopt != 1.0
    known = copy.deepcopy(scenario())
    known["channels"][0]["referral_strength"] = 0.3 * m_ref
    prov = known["providers"][0]
    prov["innovation_rate_per_month"] = 0.05 * m_adopt
    prov["imitation_rate_per_month"] = 0.3 * m_adopt
    a, b = _summary(d, replicate), _summary(known, replicate)
    assert a["metric"].tolist() == b["metric"].tolist()
    np.testing.assert_array_equal(a["value"].to_numpy(), b["value"].to_numpy())


def test_uncertain_referral_widens_the_spread_of_reach():
    fixed = run(build(scenario()), replicates=60, seed=SEED, progress=False)
    uncertain = run(build(scenario(referral_cv=0.5)), replicates=60, seed=SEED, progress=False)
    sd_fixed = fixed.metric("reach_cumulative").std()
    sd_uncertain = uncertain.metric("reach_cumulative").std()
    # the referral hazard's multiplier moves every replicate's enrolment: a CV of 0.5 on a
    # rate that decides most of the reach dominates the chance variation of 1,500 families
    assert sd_uncertain > 2.0 * sd_fixed
