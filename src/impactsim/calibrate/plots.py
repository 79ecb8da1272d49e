"""Plots of a calibration: posterior marginals, pairs and posterior predictive checks.

Figures are made without pyplot (no global state); save them with ``fig.savefig``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from impactsim.calibrate.priors import Parameters, frozen

#: Okabe & Ito (2008) colour-blind-safe palette (as in :mod:`impactsim.plots`).
BLUE, ORANGE, GREY = "#0072B2", "#E69F00", "#555555"


def plot_marginals(posterior: pd.DataFrame, params: Parameters) -> Figure:
    """Weighted histogram of each parameter's posterior, with its prior density."""
    n = len(params.items)
    fig = Figure(figsize=(3.2 * n, 2.8), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    w = posterior["weight"].to_numpy()
    for ax, p in zip(axes, params.items, strict=True):
        x = posterior[p.label].to_numpy()
        ax.hist(x, bins=30, weights=w, density=True, color=BLUE, alpha=0.7, label="posterior")
        lo, hi = float(np.min(x)), float(np.max(x))
        pad = 0.25 * (hi - lo) if hi > lo else abs(lo) * 0.1 + 1e-9
        grid = np.linspace(lo - pad, hi + pad, 200)
        ax.plot(grid, frozen(p.spec.prior).pdf(grid), color=ORANGE, label="prior")
        ax.set_xlabel(p.label)
        ax.set_yticks([])
    axes[0].legend(frameon=False, fontsize="small")
    return fig


def plot_pairs(posterior: pd.DataFrame, params: Parameters) -> Figure:
    """Scatter of every pair of parameters (point size by weight), histograms on the diagonal."""
    labels = params.labels
    n = len(labels)
    fig = Figure(figsize=(2.4 * n + 0.6, 2.4 * n + 0.6), layout="constrained")
    axes = fig.subplots(n, n, squeeze=False)
    w = posterior["weight"].to_numpy()
    size = 4.0 + 200.0 * w / max(float(w.max()), 1e-300)
    for i, yi in enumerate(labels):
        for j, xj in enumerate(labels):
            ax = axes[i, j]
            if i == j:
                ax.hist(posterior[xj], bins=25, weights=w, color=BLUE, alpha=0.7)
                ax.set_yticks([])
            elif i > j:
                ax.scatter(posterior[xj], posterior[yi], s=size * 0.2, color=BLUE, alpha=0.4)
            else:
                ax.set_axis_off()
            if i == n - 1:
                ax.set_xlabel(xj)
            if j == 0 and i > 0:
                ax.set_ylabel(yi)
    return fig


def plot_ppc(ppc: pd.DataFrame) -> Figure:
    """Each target's observed value against its 50 % and 95 % posterior predictive bands.

    Values are shown relative to the predictive median, so targets of different units
    share one axis (observed / median).
    """
    n = len(ppc)
    fig = Figure(figsize=(7.0, 0.5 * n + 1.5), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(n)[::-1]
    med = ppc["predicted_median"].to_numpy(dtype=float)
    scale = np.where(np.abs(med) > 0, np.abs(med), 1.0)

    def rel(col: str) -> np.ndarray:
        return ppc[col].to_numpy(dtype=float) / scale

    ax.hlines(y, rel("p2_5"), rel("p97_5"), color=BLUE, alpha=0.35, lw=8, label="95 % band")
    ax.hlines(y, rel("p25"), rel("p75"), color=BLUE, lw=8, label="50 % band")
    colours = [ORANGE if m else GREY for m in ppc["missed"]]
    ax.scatter(rel("observed"), y, color=colours, zorder=3, label="observed")
    ax.set_yticks(y, ppc["target"])
    ax.set_xlabel("value / predicted median")
    ax.legend(frameon=False, fontsize="small", loc="best")
    return fig
