"""Plots of sensitivity analyses (matplotlib).

Each function takes a table from :mod:`impactsim.sweep.sensitivity`, accepts an optional
``ax`` and returns the :class:`~matplotlib.figure.Figure`. Without ``ax`` a new figure is
made without pyplot (no global state; save it with ``fig.savefig``; notebooks show it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

#: Okabe & Ito (2008) colour-blind-safe palette (as in :mod:`impactsim.plots`).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def _axes(ax: Axes | None, n_rows: int) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig = Figure(figsize=(7.5, max(2.5, 0.45 * n_rows + 1.5)), layout="constrained")
    return fig, fig.add_subplot()


def _output(table: pd.DataFrame) -> str:
    return str(table["output"].iloc[0]) if "output" in table.columns and len(table) else ""


def plot_sobol(table: pd.DataFrame, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Bars of first-order (S1) and total-order (ST) Sobol indices with confidence intervals.

    Parameters are sorted by ST, the largest on top.

    Args:
        table: from :func:`~impactsim.sweep.sensitivity.sobol_indices`.
        ax: axes to draw on (default: a new figure).
        title: default "Sobol indices: <output>".
    """
    df = table.sort_values("ST", ascending=True, kind="stable")
    fig, ax = _axes(ax, len(df))
    y = np.arange(len(df))
    h = 0.38
    ax.barh(
        y - h / 2,
        df["S1"],
        height=h,
        xerr=df["S1_conf"],
        color=PALETTE[0],
        capsize=3,
        label="first order S1",
    )
    ax.barh(
        y + h / 2,
        df["ST"],
        height=h,
        xerr=df["ST_conf"],
        color=PALETTE[1],
        capsize=3,
        label="total order ST",
    )
    ax.set_yticks(y, df["parameter"].tolist())
    ax.axvline(0.0, color="0.3", linewidth=0.8)
    level = table.attrs.get("conf_level", 0.95)
    ax.set_xlabel(f"Sobol index (share of output variance; bars: {100 * level:.0f} % CI)")
    ax.set_title(title or f"Sobol indices: {_output(table)}")
    ax.legend(loc="lower right", frameon=False)
    return fig  # type: ignore[return-value]


def plot_morris(table: pd.DataFrame, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Morris screening: σ against μ* per parameter (with the μ* confidence interval).

    Parameters far right matter most; high σ/μ* means non-linear effects or interactions.
    Dashed lines mark σ/μ* = 0.1, 0.5 and 1 (Garcia Sanchez et al. 2014).

    Args:
        table: from :func:`~impactsim.sweep.sensitivity.morris_indices`.
        ax: axes to draw on (default: a new figure).
        title: default "Morris screening: <output>".
    """
    fig, ax = _axes(ax, 8)
    ax.errorbar(
        table["mu_star"],
        table["sigma"],
        xerr=table["mu_star_conf"],
        fmt="o",
        color=PALETTE[0],
        ecolor=PALETTE[5],
        capsize=3,
    )
    for _, row in table.iterrows():
        ax.annotate(
            str(row["parameter"]),
            (row["mu_star"], row["sigma"]),
            textcoords="offset points",
            xytext=(5, 4),
            fontsize=8,
        )
    top = float(np.nanmax(np.r_[table["mu_star"] + table["mu_star_conf"], table["sigma"], 1e-12]))
    xs = np.array([0.0, top * 1.1])
    for ratio in (0.1, 0.5, 1.0):
        ax.plot(xs, ratio * xs, linestyle="--", linewidth=0.7, color="0.6")
    ax.set_xlim(left=0.0, right=top * 1.15)
    sigma_top = float(np.nanmax(np.r_[table["sigma"], 0.0]))
    ax.set_ylim(0.0, max(1.3 * sigma_top, 0.1 * top, 1e-12))
    ax.set_xlabel(f"μ* (mean |elementary effect| on {_output(table)}, per whole range)")
    ax.set_ylabel("σ (SD of elementary effects)")
    ax.set_title(title or f"Morris screening: {_output(table)}")
    return fig  # type: ignore[return-value]


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def plot_tornado(table: pd.DataFrame, ax: Axes | None = None, title: str | None = None) -> Figure:
    """One-way tornado diagram, the largest swing on top.

    For each parameter a bar runs from the output at its low value to the output at its
    high value, around the base output.

    Args:
        table: from :func:`~impactsim.sweep.sensitivity.tornado_table`.
        ax: axes to draw on (default: a new figure).
        title: default "One-way sensitivity: <output>".
    """
    df = table.sort_values("swing", ascending=True, kind="stable").reset_index(drop=True)
    fig, ax = _axes(ax, len(df))
    base = float(df["base_output"].iloc[0]) if len(df) else 0.0
    y = np.arange(len(df))
    low = df["low_output"].to_numpy(dtype=float) - base
    high = df["high_output"].to_numpy(dtype=float) - base
    ax.barh(y, low, left=base, color=PALETTE[0], label="parameter at low value")
    ax.barh(y, high, left=base, color=PALETTE[1], label="parameter at high value")
    ax.axvline(base, color="0.2", linewidth=1.0)
    labels = [
        f"{r.parameter}  [{_fmt(r.low_value)} – {_fmt(r.high_value)}]" for r in df.itertuples()
    ]
    ax.set_yticks(y, labels)
    ax.set_xlabel(f"{_output(table)} (base {base:.3g})")
    ax.set_title(title or f"One-way sensitivity: {_output(table)}")
    ax.legend(loc="lower right", frameon=False)
    return fig  # type: ignore[return-value]
