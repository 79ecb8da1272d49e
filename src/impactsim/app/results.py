"""The results as the page shows them: translated text and tables with numbers per language.

The numbers, the table cells, the rows of the headline and difference tables, the
frontier's words and the plain-language summary are the report's
(:mod:`impactsim.report`: :func:`~impactsim.report.fmt`, :func:`~impactsim.report.cell`,
:data:`~impactsim.report.HEADLINE`, :func:`~impactsim.report.differences`,
:func:`~impactsim.report.plain_summary`), so the page and the downloaded report say the
same thing in the same words. What is the page's own: each value cell carries
``data-metric`` and ``data-strategy`` attributes (scenario names), so a test or a screen
reader can find it, and an interval's ends are separated by ``;`` (a Dutch number has a
decimal comma); who pays and who benefits; the costs against the budget; and, when the
scenarios divide the families into neighbourhoods, the results by neighbourhood (the
summary rows of :mod:`impactsim.place_metrics`, the paired differences of
:mod:`impactsim.compare_places`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import pandas as pd

from impactsim.app.jobs import Analysis
from impactsim.compare import NO_PROGRAMME, CompareResult
from impactsim.compare_places import gap_differences, neighbourhood_differences
from impactsim.i18n import N_, gettext_for, money, percent
from impactsim.place_metrics import GAP_METRIC
from impactsim.report import (
    FRONTIER_WORDS,
    HEADLINE,
    cell,
    difference_stats,
    differences,
    headline_stats,
    neighbourhood_stats,
    neighbourhoods_in,
)
from impactsim.runner import RunResult
from impactsim.scenario.labels import shown_name, words
from impactsim.stakeholders import stakeholder_rows
from impactsim.tables import ALL, PLACE_COLUMN, select

#: The rows shown for each neighbourhood: metric, label, kind (:func:`impactsim.report.fmt`).
#: A metric the runs have per neighbourhood (a ``neighbourhood`` column in the summary) is
#: shown by adding it here, e.g. ``("cost_pv", N_("costs (present value)"), "eur")``; one
#: no run has for a neighbourhood is left out of that neighbourhood's rows.
NEIGHBOURHOOD_ROWS: list[tuple[str, str, str]] = [
    ("reach_cumulative", N_("reach, any programme (% of parents)"), "pct"),
    ("public_impact_pp", N_("public impact (percentage points)"), "pp"),
    ("cost_pv", N_("costs (present value, euros)"), "eur"),
    ("npv", N_("net present value (euros)"), "eur"),
]

#: The gap between the neighbourhoods, given for the municipality as a whole.
GAP_ROW = (
    GAP_METRIC,
    N_("gap in public impact: highest minus lowest neighbourhood (percentage points)"),
    "pp",
)


def _cell(
    stats: tuple[float, float, float],
    kind: str,
    metric: str,
    strategy: str,
    lang: str,
    place: str | None = None,
) -> str:
    attrs = {"data-metric": metric, "data-strategy": strategy}
    if place is not None:
        attrs["data-neighbourhood"] = place
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


def placed_runs(analysis: Analysis) -> dict[str, RunResult]:
    """The runs whose scenario divides the families into neighbourhoods, by scenario name."""
    return {n: r for n, r in analysis.runs.items() if PLACE_COLUMN in r.summary.columns}


def neighbourhood_labels(analysis: Analysis, lang: str) -> dict[str, str]:
    """Each neighbourhood's name as the page shows it, by name (``all``: the municipality).

    Its label in the scenario, else its name in words.
    """
    _ = gettext_for(lang)
    out = {ALL: _("whole municipality")}
    for res in placed_runs(analysis).values():
        for hood in res.scenario.population.neighbourhoods or []:
            out.setdefault(hood.name, shown_name(hood))
    return out


def _place_row(name: str, what: str, cells: str) -> str:
    return f'<tr><td>{html.escape(name)}</td><td class="text">{html.escape(what)}</td>{cells}</tr>'


def neighbourhood_table(analysis: Analysis, labels: Mapping[str, str], lang: str) -> str:
    """Per neighbourhood and strategy: reach, impact, costs, NPV (:data:`NEIGHBOURHOOD_ROWS`).

    Mean and 95 % interval across replicates of the run's summary rows of that
    neighbourhood (the whole municipality first), then the gap in public impact between
    the neighbourhoods. Empty when no strategy's scenario has neighbourhoods.
    """
    _ = gettext_for(lang)
    placed = placed_runs(analysis)
    if not placed:
        return ""
    names = neighbourhood_labels(analysis, lang)
    rows = []
    for place in [ALL, *neighbourhoods_in(placed)]:
        for metric, label, kind in NEIGHBOURHOOD_ROWS:
            if all(select(r.summary, metric, neighbourhood=place).empty for r in placed.values()):
                continue
            cells = "".join(
                _cell(neighbourhood_stats(res, metric, place), kind, metric, s, lang, place)
                for s, res in placed.items()
            )
            rows.append(_place_row(names.get(place, words(place)), _(label), cells))
    metric, label, kind = GAP_ROW
    cells = "".join(
        _cell(neighbourhood_stats(res, metric, ALL), kind, metric, s, lang, ALL)
        for s, res in placed.items()
    )
    rows.append(_place_row(_("between the neighbourhoods"), _(label), cells))
    head = [_("measure (mean, 95 % interval)"), *(labels[s] for s in placed)]
    return _table(head, rows, _("neighbourhood"))


def neighbourhood_comparison_table(
    cmp: CompareResult, analysis: Analysis, labels: Mapping[str, str], lang: str
) -> str:
    """Per neighbourhood: each strategy's paired difference from the baseline.

    The rows of :func:`impactsim.compare_places.neighbourhood_differences` (reach, public
    impact, costs and net present value in each neighbourhood) and of
    :func:`~impactsim.compare_places.gap_differences` (the gap between them), mean and
    95 % interval. Empty when the baseline has no neighbourhoods.
    """
    _ = gettext_for(lang)
    diffs = pd.concat(
        [
            neighbourhood_differences(cmp.runs, cmp.baseline),
            gap_differences(cmp.runs, cmp.baseline),
        ],
        ignore_index=True,
    )
    if diffs.empty:
        return ""
    names = neighbourhood_labels(analysis, lang)
    others = [s for s in cmp.runs if s in set(diffs["scenario"])]
    shown = {m: (label, kind) for m, label, kind in [*NEIGHBOURHOOD_ROWS, GAP_ROW]}
    na = _("n/a")
    rows = []
    # each neighbourhood's rows in the order of the table above, the gap last
    order = {m: i for i, m in enumerate(shown)}
    places = {p: i for i, p in enumerate(dict.fromkeys([*diffs[PLACE_COLUMN], ALL]))}
    diffs["_place"] = [places[p] if p != ALL else len(places) for p in diffs[PLACE_COLUMN]]
    diffs["_order"] = [order.get(m, len(order)) for m in diffs["metric"]]
    diffs = diffs.sort_values(["_place", "_order"], kind="stable")
    for (place, metric), sub in diffs.groupby([PLACE_COLUMN, "metric"], sort=False):
        label, kind = shown.get(str(metric), (words(str(metric)), "num"))
        cells = []
        for s in others:
            r = sub[sub["scenario"] == s]
            stats = (r["mean"].iloc[0], r["lo"].iloc[0], r["hi"].iloc[0]) if len(r) else None
            if stats is None:
                cells.append(f"<td>{html.escape(na)}</td>")
            else:
                cells.append(_cell(stats, kind, str(metric), s, lang, str(place)))
        where = _("between the neighbourhoods") if place == ALL else names.get(place, words(place))
        rows.append(_place_row(where, _(label), "".join(cells)))
    what = _("difference from {baseline} (mean, 95 % interval)").format(
        baseline=labels[cmp.baseline]
    )
    return _table([what, *(labels[s] for s in others)], rows, _("neighbourhood"))


def gap_note(cmp: CompareResult, labels: Mapping[str, str], lang: str) -> str:
    """How to read the difference in the gap between the neighbourhoods, in words."""
    _ = gettext_for(lang)
    return _(
        "The gap is the public impact of the neighbourhood with the most impact minus that "
        "of the one with the least. A negative difference means the strategy brings the "
        "neighbourhoods closer together than {baseline} does; a positive one, further apart."
    ).format(baseline=labels[cmp.baseline])
