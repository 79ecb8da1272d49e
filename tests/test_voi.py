"""Value of information (impactsim.voi): EVPI against its closed form, EVPPI by regression.

Closed form: for two options whose incremental net benefit X is normal with mean mu and
SD sigma, perfect information gains E[max(0, X)] - max(0, mu), and E[max(0, X)] is the
mean of a normal's positive part, sigma * phi(mu / sigma) + mu * Phi(mu / sigma) (the
"unit normal loss integral" of Raiffa & Schlaifer 1961, Applied Statistical Decision
Theory; see also Wilson 2015, PharmacoEconomics 33:105-121). So
EVPI = sigma * phi(mu / sigma) + mu * Phi(mu / sigma) - max(0, mu), and sigma / sqrt(2 pi)
at mu = 0.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from impactsim.voi import evpi, evppi


def closed_form_evpi(mu: float, sigma: float) -> float:
    z = mu / sigma
    return sigma * norm.pdf(z) + mu * norm.cdf(z) - max(0.0, mu)


# --------------------------------------------------------------------------- EVPI
@pytest.mark.parametrize(("mu", "sigma"), [(0.0, 1000.0), (500.0, 1000.0), (-800.0, 1000.0)])
def test_evpi_matches_the_closed_form_for_a_normal_incremental_net_benefit(mu, sigma):
    rng = np.random.default_rng(2024)
    x = rng.normal(mu, sigma, size=200_000)
    nb = pd.DataFrame({"reference": 0.0, "other": x})
    assert evpi(nb) == pytest.approx(closed_form_evpi(mu, sigma), rel=0.01)


def test_evpi_at_zero_mean_is_sigma_over_root_two_pi():
    assert closed_form_evpi(0.0, 1000.0) == pytest.approx(1000.0 / math.sqrt(2 * math.pi))
    x = np.random.default_rng(7).normal(0.0, 1000.0, size=200_000)
    nb = pd.DataFrame({"a": 0.0, "b": x})
    assert evpi(nb) == pytest.approx(1000.0 / math.sqrt(2 * math.pi), rel=0.01)
    # an option that is never best changes nothing; shifting every option changes nothing
    assert evpi(nb.assign(c=nb["b"] - 1e6)) == pytest.approx(evpi(nb))
    assert evpi(nb + 123.0) == pytest.approx(evpi(nb))


def test_evpi_is_zero_when_one_option_is_always_best():
    nb = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [5.0, 6.0, 7.0]})
    assert evpi(nb) == 0.0
    with pytest.raises(ValueError, match="at least one replicate"):
        evpi(pd.DataFrame())


# --------------------------------------------------------------------------- EVPPI
def _synthetic(n: int, seed: int, noise: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """INB = 200 + 1000 theta (+ noise); psi has no influence."""
    rng = np.random.default_rng(seed)
    theta, psi, eps = rng.normal(size=(3, n))
    inb = 200.0 + 1000.0 * theta + noise * eps
    nb = pd.DataFrame({"a": 0.0, "b": inb})
    return nb, pd.DataFrame({"theta": theta, "psi": psi})


@pytest.mark.parametrize("method", ["gp", "gam"])
def test_evppi_of_the_parameter_that_determines_the_net_benefit_is_the_evpi(method):
    nb, params = _synthetic(300, seed=1, noise=0.0)
    res = evppi(nb, params, {"theta": ["theta"], "psi": ["psi"]}, method, seed=3)
    res = res.set_index("group")
    total = evpi(nb)
    # the regression reproduces a noiseless linear function: within 2 % of the EVPI
    assert res.loc["theta", "evppi"] == pytest.approx(total, rel=0.02)
    # psi explains nothing: below 3 % of the EVPI (regression error of a flat fit)
    assert abs(res.loc["psi", "evppi"]) < 0.03 * total
    assert (res["evppi"] <= total * 1.0 + 1e-6).all()
    assert (res["n_replicates"] == 300).all() and (res["method"] == method).all()


@pytest.mark.parametrize("method", ["gp", "gam"])
def test_evppi_with_noise_recovers_the_analytic_value(method):
    # E[INB | theta] = 200 + 1000 theta, so EVPPI(theta) is the closed form with mu = 200,
    # sigma = 1000 (= 306.9) however much noise the net benefit carries
    nb, params = _synthetic(400, seed=5, noise=800.0)
    res = evppi(nb, params, {"theta": ["theta"], "both": ["theta", "psi"]}, method, seed=1)
    res = res.set_index("group")
    truth = closed_form_evpi(200.0, 1000.0)
    for group in ("theta", "both"):
        row = res.loc[group]
        assert abs(row["evppi"] - truth) < 3 * row["se"], (group, row.to_dict(), truth)
        assert row["lo"] <= row["evppi"] <= row["hi"]
        assert row["evppi"] <= evpi(nb)
    # the noise is worth nothing to learn: EVPPI well below the EVPI from the replicates
    assert res.loc["theta", "evppi"] < 0.9 * evpi(nb)


@pytest.mark.parametrize("method", ["gp", "gam"])
def test_evppi_with_three_options(method):
    # b gains 1000 theta, c loses it: knowing theta, pick b (theta > 0) or c (theta < 0), so
    # EVPPI(theta) = 1000 E|theta| = 1000 sqrt(2 / pi) = 797.9, noise or not
    rng = np.random.default_rng(9)
    theta, e1, e2 = rng.normal(size=(3, 400))
    nb = pd.DataFrame({"a": 0.0, "b": 1000 * theta + 600 * e1, "c": -1000 * theta + 600 * e2})
    row = evppi(nb, pd.DataFrame({"theta": theta}), {"t": ["theta"]}, method).iloc[0]
    truth = 1000 * math.sqrt(2 / math.pi)
    assert abs(row["evppi"] - truth) < 3 * row["se"], (row.to_dict(), truth)
    # another reference option gives the same value: only differences matter
    again = evppi(nb, pd.DataFrame({"theta": theta}), {"t": ["theta"]}, method, reference="c")
    assert again.iloc[0]["evppi"] == pytest.approx(row["evppi"], rel=0.05)


def test_evppi_refuses_what_it_cannot_compute():
    nb, params = _synthetic(20, seed=2, noise=1.0)
    with pytest.raises(ValueError, match="method must be one of gp, gam"):
        evppi(nb, params, {"t": ["theta"]}, "loess")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown parameters nope"):
        evppi(nb, params, {"t": ["nope"]})
    with pytest.raises(ValueError, match="same replicates"):
        evppi(nb, params.iloc[1:], {"t": ["theta"]})
    with pytest.raises(ValueError, match="at least two options"):
        evppi(nb[["a"]], params, {"t": ["theta"]})
    fixed = evppi(nb, params.assign(c=1.0), {"c": ["c"]}).iloc[0]
    assert (fixed["evppi"], fixed["se"]) == (0.0, 0.0)  # nothing to learn about a constant
