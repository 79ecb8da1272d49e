"""Value of information (impactsim.voi): EVPI against its closed form, EVPPI by regression,
and the parameters of a real comparison recomputed exactly as the model drew them.

Closed form: for two options whose incremental net benefit X is normal with mean mu and
SD sigma, perfect information gains E[max(0, X)] - max(0, mu), and E[max(0, X)] is the
mean of a normal's positive part, sigma * phi(mu / sigma) + mu * Phi(mu / sigma) (the
"unit normal loss integral" of Raiffa & Schlaifer 1961, Applied Statistical Decision
Theory; see also Wilson 2015, PharmacoEconomics 33:105-121). So
EVPI = sigma * phi(mu / sigma) + mu * Phi(mu / sigma) - max(0, mu), and sigma / sqrt(2 pi)
at mu = 0.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import norm
from typer.testing import CliRunner

import impactsim
from impactsim import economics
from impactsim.cli import app
from impactsim.compare import NO_PROGRAMME
from impactsim.engine.spec import ReplicateDraws
from impactsim.loading import parse_scenario
from impactsim.rng import replicate_key
from impactsim.voi import (
    ALL_PARAMETERS,
    DRAWN_GROUPS,
    EVPI,
    VOIWarning,
    evpi,
    evppi,
    format_voi,
    net_benefit,
    plot_voi,
    replicate_parameters,
    voi_section,
    voi_table,
)


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


# --------------------------------------------------------------------------- a comparison
def _strategy_data(name: str, size: int = 300, months: int = 24) -> dict:
    with open(f"scenarios/{name}.yaml", encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    data["population"]["size"] = size
    data["simulation"]["months"] = months
    return data


def _strategy(name: str, **kwargs: int) -> impactsim.Scenario:
    return parse_scenario(_strategy_data(name, **kwargs), name)


@pytest.fixture(scope="module")
def cmp() -> impactsim.CompareResult:
    # the library's two strategies, small: 300 families, two years, 40 replicates
    return impactsim.compare(
        [_strategy("free-market"), _strategy("package")], replicates=40, seed=11, progress=False
    )


@pytest.fixture(scope="module")
def close_wtp(cmp) -> float:
    """A willingness to pay at which the free market's mean NMB is 0: a close decision."""
    res = cmp.runs["free-market"]
    return float(res.metric("cost_pv").mean() / res.metric("case_years_prevented_pv").mean())


def test_the_cost_and_value_multipliers_are_the_ones_economics_drew(cmp, monkeypatch):
    params, groups = replicate_parameters(cmp)
    rep = 3
    drawn_by_any: set[str] = set()
    for name, res in cmp.runs.items():
        drawn: dict[str, float] = {}
        original = economics.gamma_multiplier

        def spy(rep_key, cv, *stream, _drawn=drawn, _original=original):
            value = _original(rep_key, cv, *stream)
            if cv > 0:
                _drawn["/".join(stream)] = value
            return value

        monkeypatch.setattr(economics, "gamma_multiplier", spy)
        again = economics.replicate_economics(
            res.recordings[rep], res.spec, res.scenario, replicate_key(res.seed, rep)
        )
        monkeypatch.undo()
        # the recomputation reproduces the run's own cost, so the draws spied are the run's
        assert again.cost_pv == pytest.approx(float(res.metric("cost_pv").loc[rep]))
        assert drawn
        for stream, value in drawn.items():
            column = f"{stream}@{name}" if f"{stream}@{name}" in params else stream
            assert params.loc[rep, column] == value, (name, stream)
        drawn_by_any |= set(drawn)
    mine = {c.split("@")[0] for c in params.columns if c.startswith(("cost/", "value/"))}
    assert mine == drawn_by_any  # no multiplier missing, none invented
    assert groups["costs"] and all(c.startswith("cost/") for c in groups["costs"])
    assert groups["values"] and all(c.startswith("value/") for c in groups["values"])


def test_the_effect_sizes_are_the_runs_own_draws(cmp):
    params, groups = replicate_parameters(cmp)
    assert groups["effect_sizes"]
    for column in groups["effect_sizes"]:
        iv = column.split("/")[1]
        # intervention/<iv>/effect_size[/<outcome>]: an outcome after the primary by name
        outcome = dict(enumerate(column.split("/"))).get(3, "all")
        run = next(
            r
            for r in cmp.runs.values()
            if iv in r.spec.intervention_names
            and (outcome == "all" or outcome in r.spec.outcome_names)
        )
        np.testing.assert_allclose(
            params[column].to_numpy(),
            run.metric("efficacy_d", intervention=iv, outcome=outcome).to_numpy(),
        )


def test_every_per_replicate_draw_has_its_group():
    # a new per-replicate draw must be added to impactsim.voi.replicate_parameters (and
    # this list) so that its value of information is computed
    fields = {f.name for f in dataclasses.fields(ReplicateDraws)}
    assert fields == {
        "effect_d",
        "fidelity",
        "keys",
        "iv_keys",
        "prov_keys",
        "referral_mult",
        "adoption_mult",
        "x_effect_d",  # the effect sizes on further outcomes: in replicate_parameters
        "x_keys",  # keys of the further outcomes' scores (per parent, not per replicate)
    }
    assert {"channel_rates", "provider_adoption"} <= set(DRAWN_GROUPS)


def test_net_benefit_is_each_runs_net_monetary_benefit(cmp):
    nb = net_benefit(cmp)
    assert list(nb.columns) == [NO_PROGRAMME, "free-market", "package"]
    assert (nb[NO_PROGRAMME] == 0).all()
    for name, res in cmp.runs.items():
        np.testing.assert_allclose(nb[name].to_numpy(), res.metric("nmb").to_numpy())
        np.testing.assert_allclose(
            net_benefit(cmp, measure="npv")[name].to_numpy(), res.metric("npv").to_numpy()
        )


def test_voi_table_of_a_real_comparison(cmp, close_wtp):
    with pytest.warns(VOIWarning, match="rests on 40 replicates"):
        table = voi_table(cmp, wtp=close_wtp, decisions=5)
    rows = table.set_index("group")
    assert list(rows.index) == [
        EVPI,
        ALL_PARAMETERS,
        "effect_sizes",
        "costs",
        "values",
        "provider_fidelity",
        "channel_rates",
        "provider_adoption",
    ]
    total = rows.loc[EVPI, "evppi_eur"]
    assert total > 0  # a close decision
    drawn = rows.loc[[ALL_PARAMETERS, "effect_sizes", "costs", "provider_fidelity"]]
    assert np.isfinite(drawn["evppi_eur"]).all() and (drawn["evppi_eur"] >= 0).all()
    assert (drawn["evppi_eur"] <= total + 2 * drawn["se_eur"]).all()
    assert (drawn["n_parameters"] > 0).all()
    # values do not enter the net monetary benefit: nothing to learn, said so
    assert rows.loc["values", "evppi_eur"] == 0.0
    assert "does not enter the net monetary benefit" in rows.loc["values", "note"]
    for group in ("channel_rates", "provider_adoption"):  # no CV in these scenarios
        assert math.isnan(rows.loc[group, "evppi_eur"])
        assert rows.loc[group, "note"].startswith("no uncertainty in this run")
    assert (table["total_eur"].dropna() == 5 * table["evppi_eur"].dropna()).all()
    assert (table["n_replicates"] == 40).all() and (table["wtp_eur"] == close_wtp).all()
    text = format_voi(table)
    assert "Resolving the uncertainty about" in text and "Rough: only 40 replicates" in text
    fig = plot_voi(table)
    assert len(fig.axes[0].patches) == len(table) - 1  # one bar per row but the EVPI


def test_the_report_paragraph_in_both_languages(cmp, close_wtp):
    figures = []

    def figure(fig, caption):
        figures.append(caption)
        return f"<figure>{caption}</figure>"

    with warnings.catch_warnings():
        warnings.simplefilter("error", VOIWarning)  # the paragraph says it itself
        english = voi_section(cmp, "en", figure=figure, wtp=close_wtp)
        dutch = voi_section(cmp, "nl", wtp=close_wtp)
        clear = voi_section(cmp, "en", figure=figure, wtp=0.0)
    assert "<h3>Value of information</h3>" in english and "Waarde van informatie" in dutch
    assert "Resolving the uncertainty about effect sizes is worth up to €" in english
    assert "Estimated from only 40 replicates" in english
    assert "channel and referral rates, provider adoption" in english  # no uncertainty
    assert figures == ["Value of information by group of parameters"]
    # at a willingness to pay of 0 offering nothing is best in every replicate
    assert "The best choice is no programme in every replicate" in clear
    assert "worth up to" not in clear and len(figures) == 1


def test_compare_voi_on_the_command_line(tmp_path):
    paths = []
    for name in ("free-market", "package"):
        path = tmp_path / f"{name}.yaml"
        data = _strategy_data(name, size=200)
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        paths.append(str(path))
    out = tmp_path / "cmp"
    runner = CliRunner()
    done = runner.invoke(app, ["compare", *paths, "-r", "6", "--out", str(out), "--voi"])
    assert done.exit_code == 0, done.output
    assert "Value of information for the municipality, per decision" in done.output
    assert "channel and referral rates" in done.output
    table = pd.read_csv(out / "voi.csv")
    assert table["group"].iloc[0] == EVPI and (out / "voi.png").stat().st_size > 1000
    bad = runner.invoke(
        app,
        ["compare", *paths, "-r", "2", "--out", str(out), "--voi", "--effect", "public_impact_pp"],
    )
    assert bad.exit_code == 2 and "willingness to pay per unit of public_impact_pp" in bad.output
