"""Figures of an optimisation: convergence, the cost–objective plane, the budget–impact curve."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from impactsim.i18n import gettext_for
from impactsim.optimize.finalists import summary_row
from impactsim.optimize.schema import OBJECTIVES
from impactsim.optimize.words import metric_label
from impactsim.plots import PALETTE

if TYPE_CHECKING:
    from impactsim.optimize.result import OptimizationResult


def _objective_axis(result: OptimizationResult, lang: str) -> tuple[str, str]:
    metric = result.opt.spec.objectives[0]
    _ = gettext_for(lang)
    unit = {
        "public_impact_pp": _("percentage points"),
        "reach_cumulative": _("share of families"),
        "npv": _("euros"),
        "nmb": _("euros"),
        "cost_pv": _("euros"),
        "differential_impact_gap_pp": _("percentage points"),
    }.get(metric, _("case-years"))
    return metric, f"{metric_label(metric, lang)} ({unit})"


def _candidates(ax, x: np.ndarray, y: np.ndarray, ok: np.ndarray, lang: str) -> None:
    """Candidates within the limits, and the others, as two scatters."""
    _ = gettext_for(lang)
    ax.scatter(x[ok], y[ok], s=18, color=PALETTE[0], label=_("within the limits"))
    ax.scatter(x[~ok], y[~ok], s=18, color="#999999", marker="x", label=_("over budget or refused"))


def _finish(ax, xlabel: str, ylabel: str, title: str) -> None:
    """Axis labels, title and the legend outside the data."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def convergence(result: OptimizationResult, lang: str = "en") -> Figure:
    """Each candidate's objective in the order searched, and the best feasible so far."""
    _ = gettext_for(lang)
    metric, ylabel = _objective_axis(result, lang)
    trials = result.main.trials
    x = np.array([r.number + 1 for r in trials])
    y = np.array([r.objectives[0] for r in trials])
    ok = np.array([r.feasible for r in trials])
    fig, ax = plt.subplots(figsize=(8.0, 4.5), layout="constrained")
    _candidates(ax, x, y, ok, lang)
    sign = 1.0 if OBJECTIVES[metric] else -1.0
    best = np.where(ok & np.isfinite(y), sign * y, -np.inf)
    running = np.maximum.accumulate(best) * sign
    shown = np.isfinite(running)
    ax.step(x[shown], running[shown], where="post", color=PALETTE[3], label=_("best so far"))
    _finish(ax, _("candidate (in the order searched)"), ylabel, _("Search progress"))
    return fig


def cost_plane(result: OptimizationResult, lang: str = "en") -> Figure:
    """Every candidate's cost against its objective, the budget and the finalists."""
    _ = gettext_for(lang)
    metric, ylabel = _objective_axis(result, lang)
    st = result.main
    cost = np.array([r.evaluation.mean(st.limits.metric) for r in st.trials]) / 1e6
    y = np.array([r.objectives[0] for r in st.trials])
    ok = np.array([r.feasible for r in st.trials])
    fig, ax = plt.subplots(figsize=(8.0, 4.5), layout="constrained")
    _candidates(ax, cost, y, ok, lang)
    if len(result.opt.spec.objectives) > 1 and ok.any():
        from impactsim.optimize.finalists import pareto_mask

        pts = np.array([r.objectives for r, k in zip(st.trials, ok, strict=True) if k])
        front = pareto_mask(pts, [OBJECTIVES[m] for m in result.opt.spec.objectives])
        order = np.argsort(cost[ok][front])
        ax.plot(
            cost[ok][front][order],
            y[ok][front][order],
            color=PALETTE[2],
            marker="D",
            label=_("Pareto set"),
        )
    for i, f in enumerate(st.finalists):
        c = f.evaluation.mean(st.limits.metric) / 1e6
        label = _("finalists (re-evaluated)") if i == 0 else None
        ax.scatter(
            [c],
            [f.evaluation.mean(metric)],
            s=60,
            facecolor="none",
            edgecolor=PALETTE[3],
            label=label,
        )
    ax.axvline(st.limits.budget / 1e6, color=PALETTE[1], linestyle="--", label=_("budget"))
    xlabel = _("cost, present value over the horizon (million euros)")
    _finish(ax, xlabel, ylabel, _("Candidates: cost and effect"))
    return fig


def budget_curve(result: OptimizationResult, lang: str = "en") -> Figure:
    """The best mix found at each budget: mean with its 95 % interval and 90 % range."""
    _ = gettext_for(lang)
    metric, ylabel = _objective_axis(result, lang)
    stages = sorted(result.curve, key=lambda s: s.budget)
    found = [s for s in stages if s.best is not None]
    fig, ax = plt.subplots(figsize=(8.0, 4.5), layout="constrained")
    if found:
        b = np.array([s.budget for s in found]) / 1e6
        rows = [summary_row(s.best, metric, result.info["finalist_seed"]) for s in found]  # type: ignore[arg-type]
        mean = np.array([r["mean"] for r in rows])
        ax.fill_between(
            b,
            [r["p05"] for r in rows],
            [r["p95"] for r in rows],
            color=PALETTE[0],
            alpha=0.15,
            label=_("90 % of replicates"),
        )
        err = np.array(
            [
                [m - r["ci_low"] for m, r in zip(mean, rows, strict=True)],
                [r["ci_high"] - m for m, r in zip(mean, rows, strict=True)],
            ]
        )
        ax.errorbar(
            b,
            mean,
            yerr=err,
            color=PALETTE[0],
            marker="o",
            capsize=3,
            label=_("best mix found (95 % interval of the mean)"),
        )
    unit = _("million euros a year") if result.opt.spec.budget.per_year_eur else _("million euros")
    _finish(ax, _("budget ({unit})").format(unit=unit), ylabel, _("What each budget buys"))
    return fig


def figures(result: OptimizationResult, lang: str = "en") -> dict[str, Figure]:
    """The optimisation's figures by file name."""
    out = {"convergence": convergence(result, lang), "pareto": cost_plane(result, lang)}
    if result.curve:
        out["curve"] = budget_curve(result, lang)
    return out


def write_figures(result: OptimizationResult, directory: Path, lang: str = "en") -> list[Path]:
    """Write every figure as PNG into ``directory``."""
    from impactsim.io import atomic_write

    paths = []
    for name, fig in figures(result, lang).items():
        path = directory / f"{name}.png"
        atomic_write(path, lambda tmp, f=fig: f.savefig(tmp, format="png", dpi=110))
        plt.close(fig)
        paths.append(path)
    return paths
