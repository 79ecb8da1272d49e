"""Next-event sampling: geometric waiting times and thinning (``clocks.next_time``).

The engine visits a parent only at scheduled steps. The waiting time to the next firing
of a per-step Bernoulli process with probability ``p = 1 - exp(-r)`` is geometric:
``P(T - t0 > g) = (1 - p)^g = exp(-g r)``. Candidates at a bounding rate, accepted with
probability ``p_t / p_max``, fire in step t with probability ``p_t`` exactly (thinning).
The expected values below come from these two equations.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import pytest

import impactsim
from impactsim.engine.clocks import next_time
from impactsim.engine.effects import parent_gain
from impactsim.engine.layout import COMPLETED, NEVER
from impactsim.engine.simulate import _channel_regimes, candidate_rates
from impactsim.engine.spec import compile_scenario
from impactsim.rng import stream_key, uniform

DRAWS = 200_000


@nb.njit(cache=True)
def _gaps(key: np.uint64, t0: int, rate: float, n: int) -> np.ndarray:
    out = np.empty(n, np.int64)
    for i in range(n):
        out[i] = next_time(key, i, t0, rate) - t0
    return out


@pytest.mark.parametrize("rate", [0.01, 0.3, 2.0])
def test_waiting_times_are_geometric(rate: float):
    gaps = _gaps(stream_key(3, "test", "gaps"), 5, rate, DRAWS)
    assert gaps.min() >= 1  # the first possible step is the one after t0
    for g in (1, 2, 5, 20):
        expected = np.exp(-g * rate)  # (1 - p)^g with p = 1 - exp(-rate)
        se = np.sqrt(expected * (1 - expected) / DRAWS)
        assert abs(np.mean(gaps > g) - expected) <= 4 * se + 1e-12, (rate, g)


def test_no_rate_and_beyond_the_clock_give_never():
    key = stream_key(3, "test", "never")
    assert next_time(key, 1, 0, 0.0) == NEVER
    # a gap beyond the int16 clocks is NEVER, not a wrapped-around step
    assert next_time(key, 1, NEVER - 2, 1e-9) == NEVER
    times = _gaps(key, -1, 1e-6, 1000) - 1
    assert np.all((times == NEVER) | (times < NEVER))


@nb.njit(cache=True)
def _first_firing(key_c: np.uint64, key_u: np.uint64, p_t: np.ndarray, rate: float, n: int):
    """Step of the first firing per unit, by thinning (as step_parents does)."""
    p_max = -np.expm1(-rate)
    out = np.full(n, -1, np.int64)
    for i in range(n):
        t = next_time(key_c, i, -1, rate)
        while t < p_t.shape[0]:
            if uniform(key_u, i, t) * p_max < p_t[t]:
                out[i] = t
                break
            t = next_time(key_c, i, t, rate)
    return out


def test_thinning_fires_with_the_probability_of_each_step():
    # a hazard that changes from step to step, below the bound 0.5 per step
    p_t = np.array([0.05, 0.30, 0.0, 0.10, 0.39, 0.02, 0.2, 0.2])
    fired = _first_firing(stream_key(4, "c"), stream_key(4, "u"), p_t, 0.5, DRAWS)
    survive = np.concatenate([[1.0], np.cumprod(1 - p_t)[:-1]])
    for t, p in enumerate(p_t):
        expected = survive[t] * p  # P(first firing in step t)
        se = np.sqrt(expected * (1 - expected) / DRAWS)
        assert abs(np.mean(fired == t) - expected) <= 4 * se + 1e-12, t


def test_candidate_rates_bound_every_hazard_and_are_powers_of_two():
    spec = compile_scenario(impactsim.load_scenario("scenarios/standard-benchmark.yaml"))
    _, _, r_aw_hz, _ = _channel_regimes(spec)
    none, aware = candidate_rates(spec, r_aw_hz)
    per_month_none, per_month_aware = none / spec.dt, aware / spec.dt
    wom = spec.cat_im_mult[:, None] * spec.q_imit[None, :]
    follow = np.where(spec.follow_after >= 0, spec.follow_ref_hz, 0.0)
    # the largest hazard of a parent who is not aware: channels + all neighbours + referral
    top_none = r_aw_hz.max(axis=0) + wom[None] + follow[None, None]
    top_none *= spec.elig_seg.T[:, None, :]
    top_aware = spec.cat_ch_mult[:, None, None] * spec.chan_ref[None, :, None] + wom[:, None]
    top_aware = top_aware + follow[None, None]
    assert np.all(per_month_none >= top_none) and np.all(per_month_none < 2 * top_none + 1e-300)
    assert np.all(per_month_aware >= top_aware)
    assert np.all(per_month_aware < 2 * top_aware + 1e-300)
    for rates in (per_month_none, per_month_aware):
        on = rates[rates > 0]
        np.testing.assert_array_equal(np.exp2(np.round(np.log2(on))), on)
    # the segment not eligible for the group course gets no candidates
    k = spec.intervention_names.index("group_course")
    s = int(np.flatnonzero(~spec.elig_seg[k])[0])
    assert np.all(none[s, :, k] == 0)


def _benchmark_spec(size: int, months: int, **iv_changes):
    d = impactsim.load_scenario("scenarios/standard-benchmark.yaml").model_dump()
    d["population"]["size"] = size
    d["simulation"]["months"] = months
    for name, changes in iv_changes.items():
        iv = next(iv for iv in d["interventions"] if iv["name"] == name)
        iv.update(changes)
    return compile_scenario(impactsim.Scenario.model_validate(d))


def test_score_gate_leaves_out_only_parents_who_can_never_enter(monkeypatch):
    """Parents whose score can never pass an indicated programme get no candidates for it.

    Expected: exactly the same Recording and final state as without the gate (every
    left-out candidate would have been rejected), while the gate is active.
    """
    from impactsim.engine import simulate as sim
    from impactsim.rng import replicate_key

    spec = _benchmark_spec(4000, 36)
    draws = sim.draw_replicate(spec, replicate_key(5, 0))
    gate = sim.score_gate(spec, draws.effect_d)
    k = int(np.argmax(spec.elig_min_score > -np.inf))
    assert gate[k] == spec.elig_min_score[k] > -np.inf  # effects >= 0: the gate is on
    st_gated: dict = {}
    gated = sim.simulate_replicate(spec, replicate_key(5, 0), st_gated)
    assert np.mean(st_gated["score"] <= gate[k]) > 0.8  # most parents are left out
    assert gated.enrol_new[:, k].sum() > 20  # the indicated programme does enrol
    monkeypatch.setattr(sim, "score_gate", lambda s, d: np.full(s.n_interventions, -np.inf))
    st_open: dict = {}
    ungated = sim.simulate_replicate(spec, replicate_key(5, 0), st_open)
    for field in gated.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(gated, field), getattr(ungated, field), field)
    for name in ("status", "t_event", "effect", "spill", "wom_count", "score"):
        np.testing.assert_array_equal(st_gated[name], st_open[name], name)


def test_score_gate_is_off_when_a_gain_could_be_negative():
    """The gate needs every gain >= 0: effect sizes >= 0 and interactions not too negative."""
    from impactsim.engine.simulate import score_gate

    spec = _benchmark_spec(1000, 12)
    k = int(np.argmax(spec.elig_min_score > -np.inf))
    d = np.full(spec.n_interventions, 0.3)
    assert score_gate(spec, d)[k] == spec.elig_min_score[k]
    assert np.all(np.isneginf(np.delete(score_gate(spec, d), k)))  # universal: no threshold
    d_neg = d.copy()
    d_neg[0] = -0.01  # a harmful effect draw: z - gain can exceed z
    assert np.all(np.isneginf(score_gate(spec, d_neg)))
    # gamma: the bracket 1 + sum_{m != k} min(gamma_km, 0) / 2 must stay positive
    spec.gamma[:] = 0.0
    spec.gamma[0, 1] = spec.gamma[1, 0] = -1.0
    spec.gamma[0, 2] = spec.gamma[2, 0] = -0.9  # bracket of k = 0: 1 - 0.95 = 0.05 > 0
    assert score_gate(spec, d)[k] == spec.elig_min_score[k]
    spec.gamma[0, 2] = spec.gamma[2, 0] = -1.0  # bracket 0: no margin left
    assert np.isneginf(score_gate(spec, d)[k])


def test_gain_is_never_negative_where_the_score_gate_holds():
    """The bound behind the gate: gain >= 0 for effects >= 0 and admissible gammas.

    Random gammas in [-1, 0.5] that pass the gate's condition, and random effects >= 0
    (zeros included), through ``effects.parent_gain``: the smallest gain is >= 0.
    """
    rng = np.random.default_rng(8)
    n_iv, n_par, checked = 4, 400, 0
    status = np.full((n_par, n_iv), COMPLETED, np.int8)
    t_event = np.zeros((n_par, n_iv), np.int16)
    decay = np.ones((n_iv, 4), np.float32)
    sleeper = np.zeros(n_iv, np.int64)
    for _ in range(300):
        gamma = np.triu(rng.uniform(-1.0, 0.5, (n_iv, n_iv)), 1)
        gamma = gamma + gamma.T
        if not np.all(1.0 + 0.5 * np.minimum(gamma, 0.0).sum(axis=1) > 1e-3):
            continue
        effect = rng.uniform(0, 1, (n_par, n_iv)) * (rng.uniform(size=(n_par, n_iv)) > 0.3)
        effect = effect.astype(np.float32)
        spill = np.zeros((n_par, n_iv), np.float32)
        gains = [
            parent_gain(i, 1, n_iv, status, t_event, effect, spill, decay, sleeper, gamma, True)
            for i in range(n_par)
        ]
        assert min(gains) >= 0.0
        checked += 1
    assert checked > 50
