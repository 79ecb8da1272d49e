"""The results as the page shows them: translated text and tables with numbers per language.

Every number goes through :func:`fmt`, which the browser test also uses to format the
Python API's numbers for the same scenario and seed, so the two can be compared as text.
Tables are HTML strings; each value cell carries ``data-metric`` and ``data-strategy``
attributes (scenario names), so a test or a screen reader can find it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import pandas as pd

from impactsim.app.jobs import Analysis
from impactsim.compare import NO_PROGRAMME, CompareResult, icer_metric
from impactsim.i18n import N_, gettext_for, money, number, percent
from impactsim.runner import RunResult
from impactsim.scenario.labels import words
from impactsim.tables import interval, replicate_values, select

#: Headline metrics: summary metric, label (catalogue message), kind of number.
HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("reach_cumulative", N_("reach (any programme)"), "pct"),
    ("public_impact_pp", N_("public impact"), "pp"),
    ("differential_impact_gap_pp", N_("impact gap, least minus most advantaged"), "pp"),
    ("case_years_prevented", N_("problem case-years prevented"), "int"),
    ("cost_pv", N_("costs (present value)"), "eur"),
    ("benefit_pv", N_("benefits (present value)"), "eur"),
    ("npv", N_("net present value"), "eur"),
    ("bcr", N_("benefit-cost ratio"), "ratio"),
    ("roi", N_("return on investment (B − C) / C"), "ratio"),
    ("p_benefit_exceeds_cost", N_("chance benefits exceed costs"), "prob"),
)

#: Paired differences against the baseline: comparison metric, label, kind.
DIFFERENCES: tuple[tuple[str, str, str], ...] = (
    ("diff_public_impact_pp", N_("public impact"), "pp"),
    ("diff_reach_cumulative", N_("reach (share of parents)"), "pct"),
    ("diff_cost_pv", N_("costs (present value)"), "eur"),
    ("diff_npv", N_("net present value"), "eur"),
    ("p_better_impact", N_("chance of more impact"), "prob"),
    ("p_better_npv", N_("chance of a higher net present value"), "prob"),
)

#: Stakeholders of the default economics, in words (others are shown by name in words).
STAKEHOLDERS = {
    "municipality": N_("municipality"),
    "health_insurer": N_("health insurer"),
    "education": N_("education"),
    "justice": N_("justice"),
    "families": N_("families"),
}

#: Where each option stands on the cost-effectiveness frontier.
FRONTIER = {
    "efficient": N_("efficient: no other option, or mix of two, gives more for the money"),
    "dominated": N_("dominated: another option costs no more and achieves at least as much"),
    "extendedly dominated": N_("extendedly dominated: a mix of two other options would do better"),
}


def fmt(value: float, kind: str, lang: str) -> str:
    """A number as the page shows it.

    Args:
        value: the number (NaN: ``n/a``).
        kind: ``pct`` (share as 43.9 %), ``prob`` (share as 44 %), ``pp`` (percentage
            points, two decimals), ``int`` (whole number), ``eur`` (euros), ``ratio``
            (two decimals).
        lang: language.
    """
    _ = gettext_for(lang)
    if value != value:
        return _("n/a")
    if kind == "pct":
        return percent(value, lang, 1)
    if kind == "prob":
        return percent(value, lang, 0)
    if kind == "pp":
        unit = _("pp")  # percentage points
        return f"{number(value, lang, 2)} {unit}"
    if kind == "int":
        return number(value, lang, 0)
    if kind == "eur":
        return money(value, lang)
    return number(value, lang, 2)


def metric_interval(result: RunResult, metric: str) -> dict[str, float]:
    """Mean and 95 % interval of a summary metric (totals) across replicates."""
    return interval(select(result.summary, metric)["value"])


def _cell(stats: Mapping[str, float], kind: str, metric: str, strategy: str, lang: str) -> str:
    attrs = f'data-metric="{html.escape(metric)}" data-strategy="{html.escape(strategy)}"'
    mean = f'<span class="mean">{html.escape(fmt(stats["mean"], kind, lang))}</span>'
    if kind == "prob" or stats["lo"] != stats["lo"]:
        return f"<td {attrs}>{mean}</td>"
    lo, hi = fmt(stats["lo"], kind, lang), fmt(stats["hi"], kind, lang)
    return (
        f'<td {attrs}>{mean}<br><small class="interval">[{html.escape(lo)}; '
        f"{html.escape(hi)}]</small></td>"
    )


def _table(head: list[str], rows: list[str], first: str) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return (
        f'<div class="scroll"><table class="results"><tr><th>{html.escape(first)}</th>{cells}'
        f"</tr>{''.join(rows)}</table></div>"
    )


def headline_table(analysis: Analysis, labels: Mapping[str, str], lang: str) -> str:
    """Each strategy's headline metrics: mean and 95 % interval."""
    _ = gettext_for(lang)
    rows = []
    for metric, label, kind in HEADLINE:
        cells = "".join(
            _cell(metric_interval(res, metric), kind, metric, name, lang)
            for name, res in analysis.runs.items()
        )
        rows.append(f"<tr><td>{html.escape(_(label))}</td>{cells}</tr>")
    head = [labels[n] for n in analysis.runs]
    return _table(head, rows, _("at the end of the period (mean, 95 % interval)"))


def comparison_table(cmp: CompareResult, labels: Mapping[str, str], lang: str) -> str:
    """Paired differences of each strategy from the baseline, with 95 % intervals."""
    _ = gettext_for(lang)
    others = [s for s in cmp.runs if s != cmp.baseline]
    na = _("n/a")
    df = cmp.comparison
    want = [
        *DIFFERENCES,
        (icer_metric(cmp.effect), N_("extra cost per prevented case-year"), "eur"),
    ]
    rows = []
    for metric, label, kind in want:
        cells = []
        for s in others:
            sel = df[
                (df["scenario"] == s) & (df["metric"] == metric) & (df["versus"] == cmp.baseline)
            ]
            if sel.empty:
                cells.append(f"<td>{html.escape(na)}</td>")
                continue
            row = sel.iloc[0]
            stats = {"mean": row["mean"], "lo": row["lo"], "hi": row["hi"]}
            if metric.startswith("icer"):
                stats["lo"] = stats["hi"] = float("nan")
            cells.append(_cell(stats, kind, metric, s, lang))
        rows.append(f"<tr><td>{html.escape(_(label))}</td>{''.join(cells)}</tr>")
    first = _("difference from {baseline} (mean, 95 % interval)").format(
        baseline=labels[cmp.baseline]
    )
    return _table([labels[s] for s in others], rows, first)


def frontier_text(cmp: CompareResult, labels: Mapping[str, str], lang: str) -> list[str]:
    """Each option's place on the cost-effectiveness frontier, one sentence each."""
    _ = gettext_for(lang)
    if "status" not in cmp.frontier.columns:
        return []
    shown = {**labels, NO_PROGRAMME: _("no programme")}
    out = []
    for _i, row in cmp.frontier.iterrows():
        name = shown.get(str(row["scenario"]), words(str(row["scenario"])))
        status = FRONTIER.get(str(row["status"]))
        out.append(f"{name}: {_(status) if status else row['status']}")
    return out


def stakeholder_flows(result: RunResult, holder: str) -> dict[str, pd.Series]:
    """What one stakeholder pays, receives and nets, per replicate (present values).

    A run that splits its costs by payer has ``cost_pv_paid_by_<stakeholder>``; one that
    does not is paid for by the municipality.
    """
    s = result.summary
    receives = replicate_values(s, f"benefit_pv_{holder}")
    if len(select(s, f"cost_pv_paid_by_{holder}")):
        pays = replicate_values(s, f"cost_pv_paid_by_{holder}")
    elif holder == "municipality":
        pays = replicate_values(s, "cost_pv")
    else:
        pays = receives * 0.0
    if receives.empty:
        receives = pays * 0.0
    return {"pays": pays, "receives": receives, "net": receives - pays}


#: The rows of "who pays and who benefits" per stakeholder.
FLOWS = (
    ("pays", N_("{stakeholder} pays")),
    ("receives", N_("{stakeholder} receives")),
    ("net", N_("{stakeholder}, net")),
)


def stakeholder_table(analysis: Analysis, labels: Mapping[str, str], lang: str) -> str:
    """Who pays and who benefits, with 95 % intervals.

    Per stakeholder: the costs it pays, the benefits it receives and the difference;
    stakeholders with neither are left out.
    """
    _ = gettext_for(lang)
    first = next(iter(analysis.runs.values()))
    rows = []
    for holder in first.scenario.economics.all_stakeholders:
        flows = {n: stakeholder_flows(r, holder) for n, r in analysis.runs.items()}
        if all(not f["pays"].abs().sum() and not f["receives"].abs().sum() for f in flows.values()):
            continue
        who = _(STAKEHOLDERS[holder]) if holder in STAKEHOLDERS else words(holder)
        for key, label in FLOWS:
            cells = "".join(
                _cell(interval(flows[n][key]), "eur", f"{key}_{holder}", n, lang)
                for n in analysis.runs
            )
            text = html.escape(_(label).format(stakeholder=who))
            strong = f"<b>{text}</b>" if key == "net" else text
            rows.append(f"<tr><td>{strong}</td>{cells}</tr>")
    head = [labels[n] for n in analysis.runs]
    return _table(head, rows, _("present value (mean, 95 % interval)"))


def plain_summary(label: str, result: RunResult, lang: str) -> str:
    """One paragraph in plain words: reach, prevented cases, returns and their chance."""
    _ = gettext_for(lang)
    s = result.summary

    def mean(metric: str) -> float:
        return metric_interval(result, metric)["mean"]

    months = result.scenario.simulation.months
    years = months / 12
    per_year = mean("case_years_prevented") / years if years > 0 else float("nan")
    text = _(
        "{strategy} reaches {reach} of parents in {months} months and prevents about "
        "{cases} problem cases a year; at the end, the share of parents with problems is "
        "{impact} percentage points lower than without the programmes."
    ).format(
        strategy=label,
        reach=percent(mean("reach_cumulative"), lang, 0),
        months=number(months, lang, 0),
        cases=number(per_year, lang, 0),
        impact=number(mean("public_impact_pp"), lang, 1),
    )
    if len(select(s, "cost_pv")) and mean("cost_pv") > 0 and mean("bcr") == mean("bcr"):
        text += " " + _(
            "Each euro spent returns {bcr} euros; the chance that benefits exceed costs is "
            "{chance}."
        ).format(
            bcr=number(mean("bcr"), lang, 2),
            chance=percent(mean("p_benefit_exceeds_cost"), lang, 0),
        )
    return text


def budget_lines(analysis: Analysis, labels: Mapping[str, str], lang: str) -> list[str]:
    """Per strategy: mean cost against the budget and the chance of exceeding it."""
    _ = gettext_for(lang)
    budget = analysis.plan.budget
    if budget is None:
        return []
    out = []
    for name, res in analysis.runs.items():
        costs = select(res.summary, "cost_pv")["value"]
        over = float((costs > budget).mean()) if len(costs) else float("nan")
        out.append(
            _(
                "{strategy}: costs {cost} of a budget of {budget}; chance of exceeding it {chance}."
            ).format(
                strategy=labels[name],
                cost=money(float(costs.mean()), lang),
                budget=money(budget, lang),
                chance=percent(over, lang, 0),
            )
        )
    return out
