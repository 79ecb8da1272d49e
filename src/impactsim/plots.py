"""Plots of simulation results (matplotlib).

Every function takes the tidy tables of a run (``summary`` and/or ``timeseries`` long
DataFrames, or a :class:`~impactsim.runner.RunResult`), accepts an optional ``ax`` and
returns the :class:`~matplotlib.figure.Figure`. Defaults: titles, units on the axes,
legends outside the data, the colour-blind-safe Okabe-Ito palette. The figures the app
shows take ``lang`` (``"en"`` or ``"nl"``) for their titles, axes and legends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy.stats import norm

from impactsim.i18n import DEFAULT_LANGUAGE, N_, gettext_for, money, number
from impactsim.scenario import ADOPTER_CATEGORIES
from impactsim.tables import (
    ALL,
    PLACE_COLUMN,
    eur,
    interval,
    quantile_levels,
    replicate_values,
    select,
)

#: Okabe & Ito (2008) colour-blind-safe palette.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
LEVEL = 0.95


def _table(obj: Any, kind: str) -> pd.DataFrame:
    if isinstance(obj, pd.DataFrame):
        return obj
    table = getattr(obj, kind, None)
    if isinstance(table, pd.DataFrame):
        return table
    raise TypeError(
        f"expected a DataFrame or a result with a '{kind}' table, got {type(obj).__name__}"
    )


def _axes(ax: Axes | None, figsize: tuple[float, float] = (8.0, 4.5)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, new_ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, new_ax


def _band(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and central interval across replicates per month."""
    lo, hi = quantile_levels(LEVEL)
    g = df.groupby("month", observed=True)["value"]
    return pd.DataFrame(
        {"mean": g.mean(), "lo": g.quantile(lo), "hi": g.quantile(hi)}
    ).reset_index()


def _legend_outside(ax: Axes, title: str | None = None) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(title=title, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def _present(df: pd.DataFrame, col: str, exclude: Sequence[str] = (ALL,)) -> list[str]:
    if col not in df.columns:
        return []
    return [v for v in pd.unique(df[col].astype(str)) if v not in exclude]


#: How the groupings of the adoption curves are named.
BY_NAMES = {"segment": N_("segment"), "adopter_category": N_("adopter category")}

#: The stages of the impact funnel, as shown.
STAGES = {
    "efficacy": N_("efficacy"),
    "effectiveness": N_("effectiveness"),
    "use": N_("use"),
    "reach": N_("reach"),
    "public impact": N_("public impact"),
}


def adoption_curves(
    timeseries: Any,
    by: str = "segment",
    intervention: str = ALL,
    ax: Axes | None = None,
    *,
    lang: str = DEFAULT_LANGUAGE,
) -> Figure:
    """Adoption S-curves with 95 % bands: share who ever took part, over time.

    Args:
        timeseries: the run's ``timeseries`` table or a RunResult.
        by: ``"segment"`` or ``"adopter_category"``.
        intervention: one intervention, or ``"all"`` for any programme.
        ax: axes to draw on.
        lang: language of the texts.

    Returns:
        The figure.
    """
    _ = gettext_for(lang)
    ts = _table(timeseries, "timeseries")
    metric = "reach_cumulative" if intervention == ALL else "reach_direct"
    if by == "adopter_category":
        groups = list(ADOPTER_CATEGORIES)
    else:
        groups = _present(ts[(ts["metric"] == metric) & (ts["intervention"] == intervention)], by)
    fig, ax = _axes(ax)
    for j, group in enumerate([ALL, *groups]):
        band = _band(select(ts, metric, intervention=intervention, **{by: group}))
        if band.empty:
            continue
        color = "#444444" if group == ALL else PALETTE[j % len(PALETTE)]
        style = "--" if group == ALL else "-"
        shown = _("all") if group == ALL else group.replace("_", " ")
        ax.plot(band["month"], 100 * band["mean"], style, color=color, label=shown)
        ax.fill_between(
            band["month"], 100 * band["lo"], 100 * band["hi"], color=color, alpha=0.18, lw=0
        )
    what = _("any programme") if intervention == ALL else intervention.replace("_", " ")
    grouping = _(BY_NAMES[by]) if by in BY_NAMES else by.replace("_", " ")
    title = _("Adoption over time by {grouping}: {what}").format(grouping=grouping, what=what)
    ax.set_title(title)
    ax.set_xlabel(_("month"))
    ax.set_ylabel(_("took part (% of target population)"))
    ax.set_ylim(bottom=0)
    _legend_outside(ax, grouping)
    return fig


def reach_by_channel(
    timeseries: Any, ax: Axes | None = None, *, lang: str = DEFAULT_LANGUAGE
) -> Figure:
    """Cumulative reach split by channel of first contact, stacked, over time (means)."""
    _ = gettext_for(lang)
    ts = _table(timeseries, "timeseries")
    sub = ts[ts["metric"] == "reach_by_channel"]
    channels = _present(sub, "channel")
    fig, ax = _axes(ax)
    months, layers, labels = None, [], []
    for ch in channels:
        band = _band(select(ts, "reach_by_channel", channel=ch))
        if band.empty or band["mean"].max() <= 0:
            continue
        months = band["month"].to_numpy()
        layers.append(100 * band["mean"].to_numpy())
        labels.append(ch.replace("_", " "))
    if layers:
        ax.stackplot(months, *layers, labels=labels, colors=PALETTE[: len(layers)], alpha=0.85)
    ax.set_title(_("Reach by channel of first contact (mean)"))
    ax.set_xlabel(_("month"))
    ax.set_ylabel(_("took part (% of target population)"))
    _legend_outside(ax, _("first contact"))
    return fig


def _prevalence_after(pi0: np.ndarray, weights: np.ndarray, d: float) -> float:
    """Weighted prevalence when every parent's score falls by d (normal cut-off model)."""
    return float(np.sum(weights * (1 - norm.cdf(norm.ppf(1 - pi0) + d))))


def funnel_values(summary: Any) -> pd.DataFrame:
    """The impact funnel in one unit: potential public impact (pp) at each stage.

    Stages (means over replicates): *efficacy* — every target parent receives the trial
    effect d; *effectiveness* — d scaled by the delivered fidelity; *use* — only the share of
    organisations offering the programmes delivers; *reach* — diluted by the share of parents
    reached; *public impact* — what the simulation realized (after dropout, decay, timing).
    The first four use the normal cut-off model ``pi1 = 1 - Phi(Phi^-1(1 - pi0) + d)`` per
    segment, weighted by the segments' shares of the target population (``population_share``).

    Returns:
        A table with columns ``stage``, ``value_pp`` and ``detail``.
    """
    s = _table(summary, "summary")

    def mean(metric: str, **where: str) -> float:
        vals = select(s, metric, **where)["value"]
        return float(vals.mean()) if len(vals) else float("nan")

    segments = _present(s[s["metric"] == "population_share"], "segment")
    if segments:
        pi0 = np.array([mean("prevalence_counterfactual", segment=g) for g in segments])
        w = np.array([mean("population_share", segment=g) for g in segments])
    else:  # older outputs without segment shares: treat the population as one group
        pi0, w = np.array([mean("prevalence_counterfactual")]), np.array([1.0])
    d = mean("efficacy_d")
    d_eff = mean("effectiveness_d")
    use = mean("use_provider_share")
    reach = mean("reach_cumulative")
    base = float(np.sum(w * pi0))
    efficacy_pp = 100 * (base - _prevalence_after(pi0, w, d))
    effectiveness_pp = 100 * (base - _prevalence_after(pi0, w, d_eff))
    use_pp = effectiveness_pp * use
    reach_pp = effectiveness_pp * reach
    realized = mean("public_impact_pp")
    return pd.DataFrame(
        {
            "stage": ["efficacy", "effectiveness", "use", "reach", "public impact"],
            "value_pp": [efficacy_pp, effectiveness_pp, use_pp, reach_pp, realized],
            "detail": [
                f"d = {d:.2f}",
                f"d x fidelity = {d_eff:.2f}",
                f"{100 * use:.0f} % of organisations offer",
                f"{100 * reach:.0f} % of parents reached",
                "simulated",
            ],
        }
    )


def impact_funnel(summary: Any, ax: Axes | None = None, *, lang: str = DEFAULT_LANGUAGE) -> Figure:
    """The impact funnel efficacy → effectiveness → use → reach → public impact (pp)."""
    _ = gettext_for(lang)
    table = funnel_values(summary)
    if lang != DEFAULT_LANGUAGE:
        table["detail"] = _funnel_details(summary, lang)
    fig, ax = _axes(ax, (8.0, 4.0))
    y = np.arange(len(table))[::-1]
    colors = [PALETTE[0]] * 4 + [PALETTE[3]]
    ax.barh(y, table["value_pp"], color=colors)
    for yi, (val, detail) in zip(
        y, zip(table["value_pp"], table["detail"], strict=True), strict=True
    ):
        pp = f"{number(val, lang, 2)} {_('pp')}" if lang != DEFAULT_LANGUAGE else f"{val:.2f} pp"
        ax.text(val, yi, f"  {pp} ({detail})", va="center", fontsize=9)
    ax.set_yticks(y, [_(STAGES.get(st, st)) for st in table["stage"]])
    ax.set_xlabel(_("public impact if the chain stopped here (percentage points)"))
    ax.set_title(_("Impact funnel: from proven effect to public impact"))
    ax.set_xlim(0, max(1e-9, float(np.nanmax(table["value_pp"]))) * 1.6)
    return fig


def _funnel_details(summary: Any, lang: str) -> list[str]:
    """The funnel's bar texts in a language (numbers in its format)."""
    _ = gettext_for(lang)
    s = _table(summary, "summary")

    def mean(metric: str) -> float:
        vals = select(s, metric)["value"]
        return float(vals.mean()) if len(vals) else float("nan")

    return [
        f"d = {number(mean('efficacy_d'), lang, 2)}",
        _("d x fidelity = {d}").format(d=number(mean("effectiveness_d"), lang, 2)),
        _("{share} % of organisations offer").format(
            share=number(100 * mean("use_provider_share"), lang, 0)
        ),
        _("{share} % of parents reached").format(
            share=number(100 * mean("reach_cumulative"), lang, 0)
        ),
        _("simulated"),
    ]


#: Metrics of :func:`public_impact_comparison` with their names and units, as shown.
COMPARED = {
    "public_impact_pp": (N_("public impact"), N_("percentage points")),
    "reach_cumulative": (N_("reach"), N_("share of parents")),
}


def public_impact_comparison(
    summaries: dict[str, Any] | Sequence[Any],
    metric: str = "public_impact_pp",
    ax: Axes | None = None,
    *,
    lang: str = DEFAULT_LANGUAGE,
) -> Figure:
    """Public impact (or another metric) with 95 % intervals across strategies.

    Args:
        summaries: ``{label: summary or result}``, or a sequence (labelled by scenario name).
        metric: summary metric to compare (totals).
        ax: axes to draw on.
        lang: language of the texts (public impact and reach; other metrics by name).
    """
    _ = gettext_for(lang)
    if not isinstance(summaries, dict):
        summaries = {str(_table(x, "summary")["scenario"].iloc[0]): x for x in summaries}
    fig, ax = _axes(ax, (8.0, 0.6 * len(summaries) + 1.8))
    labels = list(summaries)
    for j, label in enumerate(labels):
        iv = interval(select(_table(summaries[label], "summary"), metric)["value"], LEVEL)
        m, lo, hi = iv["mean"], iv["lo"], iv["hi"]
        ax.errorbar(
            m, j, xerr=[[m - lo], [hi - m]], fmt="o", color=PALETTE[j % len(PALETTE)], capsize=4
        )
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    if metric in COMPARED:
        what, unit = (_(text) for text in COMPARED[metric])
    else:
        what, unit = (
            metric.replace("_", " "),
            ("percentage points" if metric.endswith("_pp") else "value"),
        )
    ax.set_xlabel(_("{what} ({unit}); mean and 95 % interval").format(what=what, unit=unit))
    ax.set_title(_("{what} by strategy").format(what=what[:1].upper() + what[1:]))
    ax.axvline(0, color="#999999", lw=0.8)
    return fig


def differential_impact(
    summary: Any, ax: Axes | None = None, *, lang: str = DEFAULT_LANGUAGE
) -> Figure:
    """Public impact per segment (differential impact) with 95 % intervals."""
    _ = gettext_for(lang)
    s = _table(summary, "summary")
    segments = _present(s[s["metric"] == "public_impact_pp"], "segment")
    fig, ax = _axes(ax, (7.0, 4.0))
    for j, seg in enumerate([ALL, *segments]):
        iv = interval(select(s, "public_impact_pp", segment=seg)["value"], LEVEL)
        m, lo, hi = iv["mean"], iv["lo"], iv["hi"]
        color = "#444444" if seg == ALL else PALETTE[j % len(PALETTE)]
        ax.bar(j, m, color=color, alpha=0.85)
        ax.errorbar(j, m, yerr=[[m - lo], [hi - m]], color="black", capsize=4)
    names = [_("all"), *(g.replace("_", " ") for g in segments)]
    ax.set_xticks(range(len(segments) + 1), names, rotation=15)
    ax.set_ylabel(_("public impact (percentage points)"))
    ax.set_title(_("Differential impact: fall in prevalence per segment"))
    ax.axhline(0, color="#999999", lw=0.8)
    return fig


def has_place_costs(summary: pd.DataFrame) -> bool:
    """Whether a summary with neighbourhoods has costs per neighbourhood (not only ``all``)."""
    costs = select(summary, "cost_pv", free=(PLACE_COLUMN,))
    return bool((costs[PLACE_COLUMN] != ALL).any())


def by_neighbourhood(summary: Any, *, lang: str = DEFAULT_LANGUAGE) -> Figure:
    """Reach (any programme), public impact and costs per neighbourhood, with 95 % intervals.

    The costs (present value) panel is left out when the summary has no economics rows per
    neighbourhood (a run directory written before there were any).
    """
    _ = gettext_for(lang)
    s = _table(summary, "summary")
    if PLACE_COLUMN not in s.columns:
        raise ValueError("the summary has no neighbourhoods (its scenario defines none)")
    places = _present(s, PLACE_COLUMN)
    panels = [
        ("reach_cumulative", 100.0, _("reach, any programme (% of parents)")),
        ("public_impact_pp", 1.0, _("public impact (percentage points)")),
    ]
    if has_place_costs(s):
        panels.append(("cost_pv", 1e-3, _("costs (present value, thousand euros)")))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.0 * len(panels), 4.0), layout="constrained")
    for ax, (metric, scale, label) in zip(axes, panels, strict=True):
        for j, place in enumerate([ALL, *places]):
            iv = interval(scale * select(s, metric, neighbourhood=place)["value"], LEVEL)
            m, lo, hi = iv["mean"], iv["lo"], iv["hi"]
            ax.bar(j, m, color="#444444" if place == ALL else PALETTE[j % len(PALETTE)])
            ax.errorbar(j, m, yerr=[[m - lo], [hi - m]], color="black", capsize=4)
        names = [_("all"), *(p.replace("_", " ") for p in places)]
        ax.set_xticks(range(len(places) + 1), names, rotation=15)
        ax.set_ylabel(label)
        ax.axhline(0, color="#999999", lw=0.8)
    title = N_("Reach and public impact by neighbourhood")
    if len(panels) > 2:
        title = N_("Reach, public impact and costs by neighbourhood")
    fig.suptitle(_(title))
    return fig


def public_impact_over_time(
    timeseries: Any, ax: Axes | None = None, *, lang: str = DEFAULT_LANGUAGE
) -> Figure:
    """Public impact over time with a 95 % band, overall and per segment."""
    _ = gettext_for(lang)
    ts = _table(timeseries, "timeseries")
    segments = _present(ts[ts["metric"] == "public_impact_pp"], "segment")
    fig, ax = _axes(ax)
    for j, seg in enumerate([ALL, *segments]):
        band = _band(select(ts, "public_impact_pp", segment=seg))
        color = "#444444" if seg == ALL else PALETTE[j % len(PALETTE)]
        ax.plot(
            band["month"],
            band["mean"],
            "--" if seg == ALL else "-",
            color=color,
            label=seg.replace("_", " "),
        )
        ax.fill_between(band["month"], band["lo"], band["hi"], color=color, alpha=0.15, lw=0)
    ax.set_title(_("Public impact over time"))
    ax.set_xlabel(_("month"))
    ax.set_ylabel(_("prevalence without − with programme (percentage points)"))
    _legend_outside(ax, _("segment"))
    return fig


def outcomes_in(summary: pd.DataFrame) -> list[str]:
    """The outcomes a summary has rows for by name, in order; ``[ALL]`` with one outcome."""
    named = _present(summary[summary["metric"] == "public_impact_pp"], "outcome")
    return named or [ALL]


def impact_breadth(
    summaries: Any,
    metric: str = "public_impact_pp",
    ax: Axes | None = None,
    *,
    lang: str = DEFAULT_LANGUAGE,
) -> Figure:
    """Public impact per outcome side by side, per strategy: the breadth of each strategy.

    Args:
        summaries: a run's summary or result, a sequence of them or ``{label: ...}``.
        metric: the per-outcome summary metric (totals over segments).
        ax: axes to draw on.
        lang: language of the texts.

    Returns:
        Grouped bars, one group per strategy and one bar per outcome (its mean over
        replicates), with 95 % intervals.
    """
    _ = gettext_for(lang)
    tables = _summaries(summaries)
    outcomes = list(dict.fromkeys(o for t in tables.values() for o in outcomes_in(t)))
    fig, ax = _axes(ax, (max(6.0, 1.2 * len(tables) * len(outcomes) + 2.5), 4.5))
    width = 0.8 / len(outcomes)
    for i, out in enumerate(outcomes):
        for j, table in enumerate(tables.values()):
            rows = select(table, metric, outcome=out)
            if rows.empty:
                continue
            iv = interval(rows["value"], LEVEL)
            m, lo, hi = iv["mean"], iv["lo"], iv["hi"]
            x = j + (i - (len(outcomes) - 1) / 2) * width
            label = (_("outcome") if out == ALL else out.replace("_", " ")) if j == 0 else None
            ax.bar(x, m, width, color=PALETTE[i % len(PALETTE)], alpha=0.85, label=label)
            ax.errorbar(x, m, yerr=[[m - lo], [hi - m]], color="black", capsize=3)
    ax.set_xticks(range(len(tables)), list(tables), rotation=15)
    ax.set_ylabel(_("public impact (percentage points)"))
    ax.set_title(_("Breadth: public impact per outcome"))
    ax.axhline(0, color="#999999", lw=0.8)
    _legend_outside(ax, _("outcome"))
    return fig


def _summaries(obj: Any) -> dict[str, pd.DataFrame]:
    """Normalise one result/summary, a sequence or a mapping to ``{label: summary}``."""
    if isinstance(obj, dict):
        return {str(k): _table(v, "summary") for k, v in obj.items()}
    if isinstance(obj, pd.DataFrame) or hasattr(obj, "summary"):
        obj = [obj]
    out: dict[str, pd.DataFrame] = {}
    for item in obj:
        table = _table(item, "summary")
        out[str(table["scenario"].iloc[0])] = table
    return out


def cost_effectiveness_plane(
    results: Any,
    effect: str = "case_years_prevented_pv",
    wtp_eur: float | None = None,
    ax: Axes | None = None,
    *,
    lang: str = DEFAULT_LANGUAGE,
) -> Figure:
    """Cost-effectiveness plane against no programme: one point per replicate, means marked.

    Args:
        results: a result or summary, a sequence of them, or ``{label: result}``.
        effect: effect metric on the x axis (default discounted prevented case-years).
        wtp_eur: draw the willingness-to-pay line (euros per unit of effect).
        ax: axes to draw on.
        lang: language of the texts.
    """
    _ = gettext_for(lang)
    tables = _summaries(results)
    fig, ax = _axes(ax, (7.5, 5.0))
    xmax = 0.0
    for j, (label, s) in enumerate(tables.items()):
        x = replicate_values(s, effect)
        y = replicate_values(s, "cost_pv").reindex(x.index)
        color = PALETTE[j % len(PALETTE)]
        ax.scatter(x, y / 1e6, s=12, alpha=0.35, color=color, lw=0)
        ax.scatter(
            [x.mean()],
            [y.mean() / 1e6],
            s=90,
            color=color,
            edgecolor="black",
            label=label,
            zorder=3,
        )
        xmax = max(xmax, float(np.nanmax(np.abs(x))) if len(x) else 0.0)
    if wtp_eur is not None and xmax > 0:
        xs = np.array([0.0, xmax])
        ax.plot(
            xs,
            wtp_eur * xs / 1e6,
            ":",
            color="#555555",
            label=_("willingness to pay {amount} per unit").format(
                amount=eur(wtp_eur) if lang == DEFAULT_LANGUAGE else money(wtp_eur, lang)
            ),
        )
    ax.axhline(0, color="#999999", lw=0.8)
    ax.axvline(0, color="#999999", lw=0.8)
    if effect == "case_years_prevented_pv":
        ax.set_xlabel(_("prevented problem case-years (discounted)"))
    else:
        ax.set_xlabel(effect.replace("_", " "))
    ax.set_ylabel(_("present value of costs (million €)"))
    ax.set_title(_("Cost-effectiveness plane versus no programme"))
    _legend_outside(ax, _("strategy"))
    return fig


def ceac(curves: Any, ax: Axes | None = None, *, lang: str = DEFAULT_LANGUAGE) -> Figure:
    """Cost-effectiveness acceptability curves.

    Args:
        curves: a RunResult (uses ``result.ceac()``), a CEAC table with columns
            ``wtp_eur_per_case_year`` and ``p_cost_effective`` (and optionally ``scenario``),
            or ``{label: result or table}``.
        ax: axes to draw on.
        lang: language of the texts.
    """
    _ = gettext_for(lang)
    if not isinstance(curves, dict):
        curves = {None: curves}
    tables = {}  # before the figure, so that a refused table leaves no figure open
    for label, obj in curves.items():
        table = obj.ceac() if hasattr(obj, "ceac") else obj
        if not isinstance(table, pd.DataFrame) or "p_cost_effective" not in table.columns:
            raise TypeError("expected a RunResult or a CEAC table with 'p_cost_effective'")
        tables[label] = table
    fig, ax = _axes(ax, (7.5, 4.5))
    j = 0
    for label, table in tables.items():
        groups = (
            table.groupby("scenario", observed=True)
            if "scenario" in table.columns
            else [(label, table)]
        )
        for name, g in groups:
            ax.plot(
                g["wtp_eur_per_case_year"] / 1000,
                100 * g["p_cost_effective"],
                marker="o",
                ms=3,
                color=PALETTE[j % len(PALETTE)],
                label=str(label or name),
            )
            j += 1
    ax.set_ylim(-2, 102)
    ax.set_xlabel(_("willingness to pay (thousand € per prevented case-year)"))
    ax.set_ylabel(_("probability cost-effective (%)"))
    ax.set_title(_("Cost-effectiveness acceptability curve"))
    _legend_outside(ax, _("strategy"))
    return fig


def roi_distribution(
    results: Any, ax: Axes | None = None, *, lang: str = DEFAULT_LANGUAGE
) -> Figure:
    """Distribution of the return on investment ROI = (B − C) / C across replicates."""
    _ = gettext_for(lang)
    tables = _summaries(results)
    fig, ax = _axes(ax, (7.5, 0.7 * len(tables) + 2.2))
    data, labels = [], []
    for label, s in tables.items():
        vals = replicate_values(s, "roi").dropna().to_numpy()
        data.append(vals if vals.size else np.array([np.nan]))
        labels.append(label)
    parts = ax.boxplot(data, orientation="horizontal", patch_artist=True, widths=0.5)
    for j, box in enumerate(parts["boxes"]):
        box.set_facecolor(PALETTE[j % len(PALETTE)])
        box.set_alpha(0.6)
    for j, vals in enumerate(data, start=1):
        jitter = np.linspace(-0.15, 0.15, vals.size) if vals.size > 1 else np.zeros(vals.size)
        ax.scatter(vals, j + jitter, s=8, color="black", alpha=0.4, zorder=3)
    ax.set_yticks(range(1, len(labels) + 1), labels)
    ax.axvline(0, color="#D55E00", lw=1.2, ls="--", label=_("break-even (ROI = 0)"))
    ax.set_xlabel(_("return on investment (euros returned per euro, net)"))
    ax.set_title(_("ROI across replicates"))
    _legend_outside(ax)
    return fig
