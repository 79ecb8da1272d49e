"""Population, network, turnover and the counterfactual."""

import math

import numpy as np
import pytest
from scipy.stats import norm

import impactsim
from helpers import base_dict, build, metric
from impactsim.population import build_network, segment_means
from impactsim.rng import stream_key


def three_segments(size: int = 60_000, months: int = 12) -> dict:
    d = base_dict(size=size, months=months)
    seg = d["population"]["segments"][0]
    d["population"]["segments"] = [
        {**seg, "name": "high", "share": 0.5, "baseline_prevalence": 0.08, "advantage_rank": 1},
        {**seg, "name": "mid", "share": 0.3, "baseline_prevalence": 0.15, "advantage_rank": 2},
        {**seg, "name": "low", "share": 0.2, "baseline_prevalence": 0.30, "advantage_rank": 3},
    ]
    return d


def test_segment_means_give_baseline_prevalence():
    mu = segment_means(np.array([0.08, 0.15, 0.30]), cutoff=0.5)
    np.testing.assert_allclose(1 - norm.cdf(0.5 - mu), [0.08, 0.15, 0.30], rtol=1e-12)


def test_no_programme_prevalence_equals_counterfactual_and_baseline():
    d = three_segments()
    d["strategy"]["offers"] = []
    res = impactsim.run(build(d), replicates=4, seed=30, progress=False)
    s = res.summary
    prev = s[s.metric == "prevalence"].set_index(["replicate", "segment"])["value"]
    cf = s[s.metric == "prevalence_counterfactual"].set_index(["replicate", "segment"])["value"]
    # exactly equal, replicate by replicate and segment by segment
    assert (prev == cf).all()
    assert (s[s.metric == "public_impact_pp"]["value"] == 0).all()
    # each segment's baseline within Monte Carlo error (4 x n_s parents; 4 SE)
    for name, pi0, share in (("high", 0.08, 0.5), ("mid", 0.15, 0.3), ("low", 0.30, 0.2)):
        se = math.sqrt(pi0 * (1 - pi0) / (4 * 60_000 * share))
        assert metric(res, "prevalence", segment=name) == pytest.approx(pi0, abs=4 * se + 0.001)
    # the population total is the share-weighted mean
    assert metric(res, "prevalence") == pytest.approx(
        0.5 * 0.08 + 0.3 * 0.15 + 0.2 * 0.30, abs=0.003
    )


def test_segment_and_category_shares():
    d = three_segments(size=100_000, months=1)
    res = impactsim.run(build(d), replicates=1, seed=31, progress=False)
    rec = res.recordings[0]
    np.testing.assert_allclose(rec.n[0] / 100_000, [0.5, 0.3, 0.2], atol=0.005)
    cat = rec.n_cat[0].sum(axis=1) / 100_000
    np.testing.assert_allclose(cat, [0.025, 0.135, 0.34, 0.34, 0.16], atol=0.005)


def test_differential_impact_gap_and_ratio_from_segment_impacts():
    d = three_segments(size=30_000)
    res = impactsim.run(build(d), replicates=3, seed=32, progress=False)
    for r in range(3):
        hi = res.metric("public_impact_pp", segment="high")[r]
        lo = res.metric("public_impact_pp", segment="low")[r]
        assert res.metric("differential_impact_gap_pp")[r] == pytest.approx(lo - hi, abs=1e-9)
        assert res.metric("differential_impact_ratio")[r] == pytest.approx(lo / hi, rel=1e-9)
    # the same d moves a high-prevalence segment more (steeper part of the normal curve)
    assert metric(res, "differential_impact_gap_pp") > 0


def test_network_degree_and_homophily():
    rng = np.random.default_rng(1)
    seg = rng.choice(3, size=60_000, p=[0.5, 0.3, 0.2]).astype(np.int8)
    off, nbrs = build_network(seg, 10.0, 0.7, np.ones(3), stream_key(1, "population", "network"))
    deg = np.diff(off)
    assert deg.mean() == pytest.approx(10.0, rel=0.01)
    src = np.repeat(np.arange(seg.size), deg)
    same = (seg[src] == seg[nbrs]).mean()
    # a tie is within-segment by homophily (0.7) or by chance (sum of squared shares)
    # from either end's choice; 0.7 + 0.3 * 0.38 = 0.814
    assert same == pytest.approx(0.7 + 0.3 * (0.5**2 + 0.3**2 + 0.2**2), abs=0.01)
    # undirected and without self-ties
    assert not (src == nbrs).any()
    pairs = set(zip(src.tolist(), nbrs.tolist(), strict=True))
    assert all((b, a) in pairs for a, b in list(pairs)[:2000])


def numpy_csr(src: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The CSR arrays of the network's definition, by numpy: unique undirected pairs, rows sorted."""
    keep = src != dst
    a = np.minimum(src[keep], dst[keep]).astype(np.int64)
    b = np.maximum(src[keep], dst[keep]).astype(np.int64)
    codes = np.unique(a * n + b)
    a, b = codes // n, codes % n
    rows, cols = np.concatenate([a, b]), np.concatenate([b, a])
    order = np.lexsort((cols, rows))
    offsets = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n))))
    return offsets, cols[order].astype(np.int32)


@pytest.mark.parametrize("homophily", [0.0, 0.6, 1.0])
def test_network_ties_are_the_keyed_draws_of_the_definition(homophily):
    """Each parent's ties are the keyed draws of docs/model.md, for 1 and 2 threads.

    Expected values, computed independently with numpy and scipy: parent i of segment s
    initiates ``scipy.stats.poisson.ppf(uniform(key, i, 0), lambda_s)`` ties (inversion),
    ``lambda_s = mean_degree * r_s / 2`` with r normalised to mean 1 (one segment is
    empty, one has no ties, one has lambda above 100); tie t takes ``u = uniform(key, i, t +
    1)`` and goes to member ``floor(u / h * n_s)`` of its segment (ascending order) when
    ``u < h``, else to parent ``floor((u - h) / (1 - h) * n)``. The CSR arrays are numpy's
    unique undirected pairs of those ties.
    """
    from scipy.stats import poisson

    from impactsim.engine.simulate import numba_threads
    from impactsim.population import _random_ties, degree_tables
    from impactsim.rng import uniforms

    rng = np.random.default_rng(4)
    n = 3000
    seg = rng.choice(4, size=n, p=[0.68, 0.0, 0.3, 0.02]).astype(np.int8)
    rel = np.array([1.0, 1.0, 0.0, 30.0])
    key = stream_key(9, "population", "network")
    counts = np.bincount(seg, minlength=4)
    lam = 10.0 * rel / ((counts * rel).sum() / n) / 2.0
    assert lam.max() > 100  # the long table of a high-degree segment is exercised
    who = np.arange(n)
    n_init = poisson.ppf(uniforms(key, who, 0), lam[seg]).astype(np.int64)
    src = np.repeat(who, n_init)
    t = np.concatenate([np.arange(c) for c in n_init])
    u = np.empty(src.size)
    for k in range(int(t.max()) + 1):  # the draws of every parent's tie k at once
        u[t == k] = uniforms(key, src[t == k], k + 1)
    members = np.argsort(seg, kind="stable")
    first = np.concatenate(([0], np.cumsum(counts)))[seg[src]]
    n_s = counts[seg[src]]
    # (both branches computed for every tie; the clip keeps the unused one in range)
    with np.errstate(divide="ignore", invalid="ignore"):
        pick = np.nan_to_num(u / homophily * n_s).astype(np.int64)
        within = members[first + np.clip(pick, 0, n_s - 1)]
        pick = np.nan_to_num((u - homophily) / (1 - homophily) * n).astype(np.int64)
        anyone = np.clip(pick, 0, n - 1)
    expected_dst = np.where(u < homophily, within, anyone)
    expected = numpy_csr(src, expected_dst, n)
    for threads in (1, 2):
        with numba_threads(threads):
            cdf, length = degree_tables(counts, 10.0, rel)
            tie_off, dst = _random_ties(key, seg, cdf, length, homophily, counts)
            off, nbrs = build_network(seg, 10.0, homophily, rel, key)
        np.testing.assert_array_equal(np.diff(tie_off), n_init)
        np.testing.assert_array_equal(dst, expected_dst)
        np.testing.assert_array_equal(off, expected[0])
        np.testing.assert_array_equal(nbrs, expected[1])


@pytest.mark.parametrize("n", [2, 3, 50, 4099])
def test_csr_from_ties_is_the_sorted_unique_pairs(n):
    """``_csr_from_ties`` gives numpy's unique undirected pairs for any block size or thread count.

    The ties include self-ties, repeats and the same pair drawn from both ends; a few
    parents have long rows (more than the 32 the insertion sort handles best).
    """
    from impactsim.engine.simulate import numba_threads
    from impactsim.population import _csr_from_ties

    rng = np.random.default_rng(n)
    n_init = rng.poisson(3.0, n)
    n_init[: min(n, 3)] = 60
    tie_off = np.concatenate(([0], np.cumsum(n_init)))
    src = np.repeat(np.arange(n), n_init)
    dst = rng.integers(0, n, tie_off[-1]).astype(np.int32)
    dst[::7] = src[::7]  # self-ties
    dst[1::11] = dst[::11][: dst[1::11].size]  # repeats of the previous tie
    expected = numpy_csr(src, dst, n)
    for threads in (1, 2):
        for shift in (-1, 0, 4):
            with numba_threads(threads):
                off, nbrs = _csr_from_ties(tie_off, dst, n, shift)
            np.testing.assert_array_equal(off, expected[0])
            np.testing.assert_array_equal(nbrs, expected[1])


def test_a_sparser_network_keeps_the_ties_it_shares_with_a_denser_one():
    """Common random numbers: mean degree 4 gives a subgraph of mean degree 10 (same key).

    Each parent's tie count is the Poisson inverse of the same uniform, which grows with
    the mean, and its t-th tie uses the same draw, so every tie of the sparser network
    is in the denser one; the mean degrees are about 4 and 10.
    """
    seg = np.random.default_rng(2).choice(3, size=20_000, p=[0.5, 0.3, 0.2]).astype(np.int8)
    key = stream_key(3, "population", "network")
    edges = {}
    for k in (4.0, 10.0):
        off, nbrs = build_network(seg, k, 0.5, np.array([1.0, 1.5, 0.5]), key)
        assert np.diff(off).mean() == pytest.approx(k, rel=0.03)
        rows = np.repeat(np.arange(seg.size, dtype=np.int64), np.diff(off))
        edges[k] = set((rows * seg.size + nbrs).tolist())
    assert edges[4.0] <= edges[10.0]
    assert len(edges[4.0]) < 0.5 * len(edges[10.0])


def spill_scenario(fraction: float) -> dict:
    d = base_dict(size=60_000, months=6)
    d["population"]["network"] = {"kind": "random", "mean_degree": 2, "homophily": 0.0}
    seg = d["population"]["segments"][0]
    d["population"]["segments"] = [
        {**seg, "name": "takes_part", "share": 0.5},
        {**seg, "name": "does_not", "share": 0.5},
    ]
    d["interventions"][0]["eligibility"] = {"segments": ["takes_part"]}
    d["interventions"][0]["spillover_fraction"] = fraction
    return d


def test_spillover_and_indirect_reach():
    none = impactsim.run(build(spill_scenario(0.0)), replicates=1, seed=33, progress=False)
    assert metric(none, "reach_indirect") == 0.0
    res = impactsim.run(build(spill_scenario(0.25)), replicates=2, seed=33, progress=False)
    # degree ~ Poisson(2), each neighbour a completer with prob 1/2: a non-participant has
    # no completing neighbour with prob E[0.5^D] = exp(-1), so indirect reach = 0.5 (1 - e^-1)
    assert metric(res, "reach_indirect") == pytest.approx(0.5 * (1 - math.exp(-1)), abs=0.006)
    # mean gain: completers 0.4 each (half the parents) + every parent 0.25 * 0.4 per
    # completing neighbour (mean 1): 0.5 * 0.4 + 0.1 = 0.3
    assert metric(res, "mean_gain_sd") == pytest.approx(0.3, abs=0.004)


def test_turnover_replaces_families_from_the_same_mix():
    d = three_segments(size=40_000, months=24)
    d["population"]["turnover_rate_per_month"] = 0.05
    res = impactsim.run(build(d), replicates=2, seed=34, progress=False)
    rec = res.recordings[0]
    p = 1 - math.exp(-0.05)
    assert rec.exits.sum() == pytest.approx(40_000 * 24 * p, rel=0.02)
    np.testing.assert_allclose(rec.n[24] / 40_000, [0.5, 0.3, 0.2], atol=0.01)
    # entrants come from the same mix, so the counterfactual prevalence stays at
    # 0.5 * 0.08 + 0.3 * 0.15 + 0.2 * 0.30 = 0.145
    assert metric(res, "prevalence_counterfactual") == pytest.approx(0.145, abs=0.004)
    # an entrant acts from the step after entry: aware then, enrolled one step later. Those
    # who entered in the last two steps (and stayed) are not reached yet: p + p (1 - p)
    assert metric(res, "reach_cumulative") == pytest.approx(1 - p - p * (1 - p), abs=0.004)


@pytest.mark.parametrize("kind", ["random", "fully_mixed"])
def test_word_of_mouth_counters_match_a_recount_under_turnover(kind):
    from impactsim.engine.simulate import simulate_replicate
    from impactsim.engine.spec import compile_scenario
    from impactsim.rng import replicate_key

    d = three_segments(size=5000, months=36)
    d["population"]["network"] = {"kind": kind, "mean_degree": 8, "homophily": 0.5}
    d["population"]["turnover_rate_per_month"] = 0.05
    d["population"]["segments"][0]["contact_rates"] = {"campaign": 0.01}
    d["interventions"][0]["imitation_rate_per_month"] = 0.3
    d["interventions"][0]["duration_months"] = 3
    d["interventions"][0]["dropout_rate_per_month"] = 0.1
    state: dict = {}
    rec = simulate_replicate(compile_scenario(build(d)), replicate_key(35, 0), state)
    assert rec.exits.sum() > 1000
    took_part = np.isin(state["status"][:, 0], (3, 4, 5))
    assert took_part.mean() > 0.2
    if kind == "random":
        off, nbrs = state["nbr_off"], state["nbrs"]
        recount = np.add.reduceat(took_part[nbrs].astype(np.int64), off[:-1])
        recount[np.diff(off) == 0] = 0
        np.testing.assert_array_equal(state["wom_count"][:, 0], recount)
    else:
        by_seg = np.bincount(state["segment"][took_part], minlength=3)
        np.testing.assert_array_equal(state["mf_count"][:, 0], by_seg)


@pytest.mark.parametrize("dt", [1.0, 0.5])
def test_stock_counts_kept_at_events_match_a_recount_of_the_final_state(dt):
    """The engine updates its month-end counts at each event instead of recounting.

    Expected values: a direct recount, with numpy, of the final per-parent state. The
    scenario has turnover, dropout, waiting lists that give up, spillover, a sequential
    booster and an indicated programme, so every kind of event occurs.
    """
    from impactsim.engine.layout import COMPLETED, DROPPED, ENROLLED, GAVE_UP, NEVER, WAITING
    from impactsim.engine.simulate import simulate_replicate
    from impactsim.engine.spec import compile_scenario
    from impactsim.rng import replicate_key

    d = impactsim.load_scenario("scenarios/standard-benchmark.yaml").model_dump()
    d["population"]["size"] = 3000
    d["population"]["turnover_rate_per_month"] = 0.04
    d["simulation"]["months"] = 30
    d["simulation"]["dt_months"] = dt
    for provider in d["providers"]:  # scarce places: long waiting lists, parents give up
        if provider["capacity_per_month"] is not None:
            provider["capacity_per_month"] = 1
    spec = compile_scenario(impactsim.Scenario.model_validate(d))
    assert spec.gamma.any()  # interaction terms are recounted too
    st: dict = {}
    rec = simulate_replicate(spec, replicate_key(11, 0), st)
    assert rec.exits.sum() > 500 and rec.gaveup_new.sum() > 0 and rec.dropout_new.sum() > 0

    n_seg, n_cat = 3, 5
    seg, cat, status = st["segment"], st["category"], st["status"]

    def by_seg(mask: np.ndarray) -> np.ndarray:
        return np.bincount(seg[mask], minlength=n_seg)

    np.testing.assert_array_equal(rec.n[-1], by_seg(np.ones_like(seg, bool)))
    for name, code in (
        ("enrolled", ENROLLED),
        ("completed", COMPLETED),
        ("dropped", DROPPED),
        ("waiting", WAITING),
        ("gave_up", GAVE_UP),
    ):
        recount = np.stack([by_seg(status[:, k] == code) for k in range(status.shape[1])])
        np.testing.assert_array_equal(getattr(rec, name)[-1], recount, err_msg=name)
    took_part = np.isin(status, (ENROLLED, COMPLETED, DROPPED)).any(axis=1)
    spilled = (st["spill"] != 0).any(axis=1)
    # the effect flags the month-end pass reads: bit k while completed or dropped out of k
    # (set at the event, cleared when the family leaves)
    has_effect = np.isin(status, (COMPLETED, DROPPED))
    assert 0 < has_effect.mean() < 0.5
    np.testing.assert_array_equal(st["eff_on"], has_effect @ (1 << np.arange(status.shape[1])))
    # the step the parents' scan reads: the earliest of the family's exit and its next steps
    # (a later value would skip the parent's events; the run would then differ)
    np.testing.assert_array_equal(st["t_due"], np.minimum(st["t_exit"], st["t_next"].min(axis=1)))
    assert (st["t_due"] < NEVER).all()
    np.testing.assert_array_equal(rec.any_ever[-1], by_seg(took_part))
    np.testing.assert_array_equal(rec.indirect[-1], by_seg(~took_part & spilled))
    for a in range(n_cat):
        np.testing.assert_array_equal(rec.n_cat[-1, a], by_seg(cat == a))
        np.testing.assert_array_equal(rec.any_ever_cat[-1, a], by_seg(took_part & (cat == a)))
    for ch in range(rec.any_ever_channel.shape[1]):
        np.testing.assert_array_equal(
            rec.any_ever_channel[-1, ch], by_seg(took_part & (st["first_channel"] == ch))
        )
    # gain (SD units, docs/model.md): float32 effect x float32 decay per programme plus its
    # spillover (float32), and gamma_km * min(g_k, g_m) where both are positive, added up in
    # float64 in the engine's order; a case when z - gain > cutoff
    now = spec.n_steps
    n_iv = status.shape[1]
    g = []
    for k in range(n_iv):
        lag = now - 1 - st["t_event"][:, k].astype(np.int64) - spec.sleeper_steps[k]
        on = np.isin(status[:, k], (COMPLETED, DROPPED)) & (lag >= 0)
        g.append(st["effect"][:, k] * spec.decay_tab[k, np.maximum(lag, 0)] * on)
    gain = np.zeros(seg.shape[0])
    for k in range(n_iv):
        gain += (g[k] + st["spill"][:, k]).astype(np.float64)
        for m in range(k + 1, n_iv):
            if spec.gamma[k, m] != 0.0:
                both = (g[k] > 0) & (g[m] > 0)
                gain += spec.gamma[k, m] * np.minimum(g[k], g[m]).astype(np.float64) * both
    assert (gain != 0).mean() > 0.3
    z = st["score"].astype(np.float64)
    np.testing.assert_array_equal(rec.prev_cf[-1], by_seg(z > spec.cutoff))
    np.testing.assert_array_equal(rec.prev[-1], by_seg(z - gain > spec.cutoff))
    np.testing.assert_array_equal(rec.realized[-1], by_seg(gain >= spec.mic))
    assert rec.prev[-1].sum() < rec.prev_cf[-1].sum()
    sums = np.array([gain[seg == s].sum() for s in range(n_seg)])
    np.testing.assert_allclose(rec.gain_sum[-1], sums, rtol=1e-9)  # order of summation differs


@pytest.mark.parametrize("dt", [1.0, 0.5])
def test_spillover_that_decays_to_zero_leaves_the_indirect_count(dt):
    """A spillover gain that underflows to zero (float32) is no longer counted as reached.

    With a half-life of a quarter month a spillover of about 0.01 SD halves 4 times a
    month and reaches float32 zero (below 2**-149) after about 36 months, so in 60 months
    many spillovers vanish, at month ends (dt 1) and within months (dt 0.5). Expected
    values: a numpy recount of the final state (non-participants with a non-zero
    spillover).
    """
    from impactsim.engine.layout import COMPLETED, DROPPED, ENROLLED
    from impactsim.engine.simulate import simulate_replicate
    from impactsim.engine.spec import compile_scenario
    from impactsim.rng import replicate_key

    d = impactsim.load_scenario("scenarios/standard-benchmark.yaml").model_dump()
    d["population"]["size"] = 3000
    d["population"]["turnover_rate_per_month"] = 0.005
    d["simulation"]["months"] = 60
    d["simulation"]["dt_months"] = dt
    for iv in d["interventions"]:
        iv["effect_half_life_months"] = 0.25
    spec = compile_scenario(impactsim.Scenario.model_validate(d))
    st: dict = {}
    rec = simulate_replicate(spec, replicate_key(12, 0), st)
    seg, status = st["segment"], st["status"]
    took_part = np.isin(status, (ENROLLED, COMPLETED, DROPPED)).any(axis=1)
    spilled = (st["spill"] != 0).any(axis=1)
    vanished = (st["has_gain"] == 1) & ~took_part & ~spilled
    assert vanished.sum() > 10  # the path under test is taken
    assert (~took_part & spilled).sum() > 10  # and recent spillovers are still counted
    np.testing.assert_array_equal(
        rec.indirect[-1], np.bincount(seg[~took_part & spilled], minlength=3)
    )
