"""Posterior summaries and posterior predictive checks.

For a predictive check, parameter values are drawn from the weighted posterior; each draw
is simulated once with its own seed (a new possible municipality) and observed once
through the target's observation model (a new survey). The observed number is then
compared with the 50 % and 95 % bands of these replicated observations; an observed
value outside the 95 % band is a **missed target**: under the posterior the model does
not reproduce it, and the summary says by how much.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from impactsim.calibrate.observation import observed_value, replicate_observations
from impactsim.calibrate.priors import Parameters
from impactsim.calibrate.simulator import Simulator
from impactsim.scenario.settings import MAX_SEED

#: Quantiles of the predictive bands (95 % and 50 %) and the median.
BAND_QUANTILES = (0.025, 0.25, 0.5, 0.75, 0.975)


def weighted_quantiles(x: np.ndarray, w: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles of a weighted sample (inverse of the weighted empirical CDF).

    Args:
        x: values.
        w: non-negative weights (any total).
        qs: probabilities in [0, 1].

    Returns:
        One value per probability.
    """
    order = np.argsort(x)
    xs = np.asarray(x, dtype=np.float64)[order]
    cw = np.cumsum(np.asarray(w, dtype=np.float64)[order])
    cw /= cw[-1]
    idx = np.searchsorted(cw, np.asarray(qs, dtype=np.float64), side="left")
    return xs[np.clip(idx, 0, len(xs) - 1)]


def parameter_table(posterior: pd.DataFrame, params: Parameters) -> pd.DataFrame:
    """Per parameter: prior, posterior mean, median and 90 % and 95 % credible intervals."""
    w = posterior["weight"].to_numpy()
    rows = []
    for p in params.items:
        x = posterior[p.label].to_numpy()
        q = weighted_quantiles(x, w, (0.025, 0.05, 0.5, 0.95, 0.975))
        prior = p.spec.prior.model_dump()
        rows.append(
            {
                "parameter": p.label,
                "path": p.spec.path,
                "prior": ", ".join(f"{k}={v}" for k, v in prior.items()),
                "base_value": p.base_value,
                "mean": float(np.average(x, weights=w)),
                "median": float(q[2]),
                "q05": float(q[1]),
                "q95": float(q[3]),
                "q025": float(q[0]),
                "q975": float(q[4]),
            }
        )
    return pd.DataFrame(rows)


def draw_posterior(posterior: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` parameter sets drawn from the weighted posterior (with replacement)."""
    w = posterior["weight"].to_numpy(dtype=np.float64)
    idx = rng.choice(len(posterior), size=n, replace=True, p=w / w.sum())
    return posterior.iloc[idx].reset_index(drop=True)


def predictive_table(
    sim: Simulator,
    posterior: pd.DataFrame,
    draws: int,
    seed: int,
) -> pd.DataFrame:
    """Posterior predictive check of every target.

    Args:
        sim: the simulator.
        posterior: the posterior sample with a ``weight`` column.
        draws: parameter draws (each simulated once, with its own seed).
        seed: seed of the draws, of their simulations and of the replicated observations.

    Returns:
        One row per target: observed value, median simulated metric, median and 50 % and
        95 % bands of the replicated observations, ``missed`` (observed outside the 95 %
        band) and ``missed_by`` (distance to the nearer edge of the band; 0 inside).
    """
    rng = np.random.default_rng(seed)
    chosen = draw_posterior(posterior, draws, rng)
    labels = list(sim.locations)
    simulated = np.vstack(
        [
            sim.values(
                {k: float(row[k]) for k in labels},
                seed=int(rng.integers(0, MAX_SEED)),
                replicates=1,
            )
            for _, row in chosen.iterrows()
        ]
    )
    rows = []
    for j, t in enumerate(sim.targets):
        x = simulated[:, j]
        y = replicate_observations(t.observed, x, rng)
        ok = np.isfinite(y)
        band = np.quantile(y[ok], BAND_QUANTILES) if ok.any() else np.full(5, np.nan)
        obs = observed_value(t.observed)
        below, above = band[0] - obs, obs - band[4]
        gap = float(max(below, above, 0.0)) if ok.any() else float("nan")
        rows.append(
            {
                "target": t.name,
                "metric": t.metric,
                "model": t.observed.model,
                "observed": obs,
                "simulated_median": float(np.nanmedian(x)) if np.isfinite(x).any() else np.nan,
                "predicted_median": band[2],
                "p2_5": band[0],
                "p25": band[1],
                "p75": band[3],
                "p97_5": band[4],
                "missed": bool(gap > 0),
                "missed_by": gap,
                "draws": int(ok.sum()),
            }
        )
    return pd.DataFrame(rows)


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def summary_text(
    name: str,
    params: pd.DataFrame,
    ppc: pd.DataFrame,
    diagnostics: pd.DataFrame,
) -> str:
    """The calibration's plain-language summary (Markdown).

    Args:
        name: what was calibrated (the scenario name).
        params: :func:`parameter_table`.
        ppc: :func:`predictive_table`.
        diagnostics: per-generation diagnostics (temperature, acceptance, ESS).

    Returns:
        The Markdown text.
    """
    last = diagnostics.iloc[-1]
    lines = [f"# Calibration of {name}", ""]
    if float(last["temperature"]) > 1.0 + 1e-9:
        lines += [
            f"**Not finished:** the last generation ran at temperature "
            f"{_fmt(float(last['temperature']))}, not 1, so the sample is wider than the "
            "posterior. Run more generations (the run resumes from where it stopped).",
            "",
        ]
    lines += [
        f"{len(diagnostics)} generations, {int(diagnostics['simulations'].sum())} simulations; "
        f"the last generation has an effective sample size of {_fmt(float(last['ess']))} "
        f"of {int(last['particles'])} particles and accepted "
        f"{100 * float(last['acceptance_rate']):.1f} % of its candidates.",
        "",
        "## Parameters",
        "",
        "| parameter | prior | base value | posterior median | 90 % credible interval |",
        "|---|---|---|---|---|",
    ]
    for _, r in params.iterrows():
        lines.append(
            f"| {r['parameter']} | {r['prior']} | {_fmt(float(r['base_value']))} | "
            f"{_fmt(r['median'])} | {_fmt(r['q05'])} to {_fmt(r['q95'])} |"
        )
    lines += [
        "",
        "## Targets: observed against the posterior predictive",
        "",
        "| target | model | observed | predicted median | 50 % band | 95 % band |",
        "|---|---|---|---|---|---|",
    ]
    for _, r in ppc.iterrows():
        lines.append(
            f"| {r['target']} | {r['model']} | {_fmt(r['observed'])} | "
            f"{_fmt(r['predicted_median'])} | {_fmt(r['p25'])} to {_fmt(r['p75'])} | "
            f"{_fmt(r['p2_5'])} to {_fmt(r['p97_5'])} |"
        )
    lines += ["", *missed_lines(ppc), ""]
    return "\n".join(lines)


def missed_lines(ppc: pd.DataFrame) -> list[str]:
    """Sentences on the targets the calibrated model does not reproduce."""
    missed = ppc.loc[ppc["missed"]]
    if missed.empty:
        return ["Every observed value lies inside its 95 % posterior predictive band."]
    out = ["## Missed targets", ""]
    for _, r in missed.iterrows():
        side = "below" if r["observed"] < r["p2_5"] else "above"
        edge = r["p2_5"] if side == "below" else r["p97_5"]
        out.append(
            f"- **{r['target']}** ({r['metric']}): observed {_fmt(r['observed'])} lies "
            f"{_fmt(r['missed_by'])} {side} the 95 % predictive band (edge {_fmt(edge)}). "
            "No parameter value the priors allow brings the model there: check the "
            "target's definition, widen a prior, or calibrate another parameter."
        )
    return out
