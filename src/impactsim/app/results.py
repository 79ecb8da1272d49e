"""The results as the page shows them: translated text and tables with numbers per language.

The numbers, the table cells, the rows of the headline and difference tables, the
frontier's words and the plain-language summary are the report's
(:mod:`impactsim.report`: :func:`~impactsim.report.fmt`, :func:`~impactsim.report.cell`,
:data:`~impactsim.report.HEADLINE`, :func:`~impactsim.report.differences`,
:func:`~impactsim.report.plain_summary`), so the page and the downloaded report say the
same thing in the same words. What is the page's own: each value cell carries
``data-metric`` and ``data-strategy`` attributes (scenario names), so a test or a screen
reader can find it, and an interval's ends are separated by ``;`` (a Dutch number has a
decimal comma); who pays and who benefits; the costs against the budget.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from impactsim.app.jobs import Analysis
from impactsim.compare import NO_PROGRAMME, CompareResult
from impactsim.i18n import gettext_for, money, percent
from impactsim.report import (
    FRONTIER_WORDS,
    HEADLINE,
    cell,
    difference_stats,
    differences,
    headline_stats,
)
from impactsim.scenario.labels import words
from impactsim.stakeholders import stakeholder_rows
from impactsim.tables import select


def _cell(
    stats: tuple[float, float, float], kind: str, metric: str, strategy: str, lang: str
) -> str:
    attrs = {"data-metric": metric, "data-strategy": strategy}
    return cell(*stats, kind, lang, attrs=attrs, between="; ")


def _table(head: list[str], rows: list[str], first: str) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return (
        f'<div class="scroll"><table class="results"><tr><th>{html.escape(first)}</th>{cells}'
        f"</tr>{''.join(rows)}</table></div>"
    )


def headline_table(analysis: Analysis, labels: Mapping[str, str], lang: str) -> str:
    """Each strategy's headline metrics (the report's rows): mean and 95 % interval."""
    _ = gettext_for(lang)
    rows = []
    for metric, label, kind in HEADLINE:
        cells = "".join(
            _cell(headline_stats(res, metric), kind, metric, name, lang)
            for name, res in analysis.runs.items()
        )
        rows.append(f"<tr><td>{html.escape(_(label))}</td>{cells}</tr>")
    head = [labels[n] for n in analysis.runs]
    return _table(head, rows, _("at the end of the period (mean, 95 % interval)"))


def comparison_table(cmp: CompareResult, labels: Mapping[str, str], lang: str) -> str:
    """Paired differences of each strategy from the baseline (the report's rows)."""
    _ = gettext_for(lang)
    others = [s for s in cmp.runs if s != cmp.baseline]
    na = _("n/a")
    rows = []
    for metric, label, kind in differences(cmp):
        cells = []
        for s in others:
            stats = difference_stats(cmp, s, metric)
            if stats is None:
                cells.append(f"<td>{html.escape(na)}</td>")
            else:
                cells.append(_cell(stats, kind, metric, s, lang))
        rows.append(f"<tr><td>{html.escape(_(label))}</td>{''.join(cells)}</tr>")
    first = _("difference from {baseline} (mean, 95 % interval)").format(
        baseline=labels[cmp.baseline]
    )
    return _table([labels[s] for s in others], rows, first)


def frontier_text(cmp: CompareResult, labels: Mapping[str, str], lang: str) -> list[str]:
    """Each option's place on the cost-effectiveness frontier (the report's words)."""
    _ = gettext_for(lang)
    if "status" not in cmp.frontier.columns:
        return []
    shown = {**labels, NO_PROGRAMME: _("no programme")}
    out = []
    for _i, row in cmp.frontier.iterrows():
        name = shown.get(str(row["scenario"]), words(str(row["scenario"])))
        status = FRONTIER_WORDS.get(str(row["status"]))
        out.append(f"{name}: {_(status) if status else row['status']}")
    return out


def stakeholder_table(analysis: Analysis, labels: Mapping[str, str], lang: str) -> str:
    """Who pays and who benefits, with 95 % intervals (the report's rows, the page's cells).

    Per stakeholder: the costs it pays, the benefits it receives and the difference;
    stakeholders with neither are left out.
    """
    _ = gettext_for(lang)

    def draw(stats: tuple[float, float, float], metric: str, strategy: str) -> str:
        return _cell(stats, "eur", metric, strategy, lang)

    rows = stakeholder_rows(analysis.runs, lang, draw)
    head = [labels[n] for n in analysis.runs]
    return _table(head, rows, _("present value (mean, 95 % interval)"))


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
