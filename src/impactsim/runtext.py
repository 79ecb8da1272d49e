"""The text ``impactsim run`` prints: headline metrics, reach per programme, economics.

The summary is planner-facing text, in English or Dutch (``--lang``): every label,
heading and sentence is a catalogue message (:mod:`impactsim.i18n`), translated when
it is printed; programmes, outcomes and neighbourhoods are shown by their labels in the
scenario (else their names in words), stakeholders in words; numbers are written with
the language's separators (``43.90 %``, ``43,90 %``), each with its unit (%, pp, €) or
with a label that says what it counts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from impactsim.i18n import DEFAULT_LANGUAGE, N_, check_language, gettext_for, money, number
from impactsim.scenario.labels import format_value, shown_name, words
from impactsim.stakeholders import stakeholder_label
from impactsim.tables import ALL, PLACE_COLUMN, select

if TYPE_CHECKING:
    import pandas as pd

    from impactsim.runner import RunResult
    from impactsim.scenario import Scenario

#: Headline metrics printed after a run, with their display format (:func:`_fmt`).
HEADLINE = [
    ("reach_cumulative", N_("reach (any programme)"), "pct"),
    ("reach_indirect", N_("indirect reach (spillover only)"), "pct"),
    ("prevalence_counterfactual", N_("prevalence without programme"), "pct"),
    ("prevalence", N_("prevalence with programme"), "pct"),
    ("public_impact_pp", N_("public impact (percentage points)"), "pp"),
    ("cases_prevented", N_("problem cases prevented at horizon"), "count"),
    ("realized_effect_share", N_("share with a realized effect"), "pct"),
    ("differential_impact_gap_pp", N_("impact gap least - most advantaged (pp)"), "pp"),
    ("neighbourhood_impact_gap_pp", N_("impact gap between neighbourhoods (pp)"), "pp"),
]

#: With several outcomes, each one's lines: metric, label (of ``{outcome}``), format.
OUTCOME_LINES = [
    ("prevalence_counterfactual", N_("prevalence without programme: {outcome}"), "pct"),
    ("prevalence", N_("prevalence with programme: {outcome}"), "pct"),
    ("public_impact_pp", N_("public impact: {outcome}"), "pp"),
]

#: Economics lines printed after a run (totals), with their display format.
ECONOMICS_HEADLINE = [
    ("cost_pv", N_("cost (present value)"), "eur"),
    ("benefit_pv", N_("benefit (present value)"), "eur"),
    ("npv", N_("net present value (benefit - cost)"), "eur"),
    ("bcr", N_("benefit-cost ratio"), "ratio"),
    ("roi", N_("return on investment (B - C) / C"), "ratio"),
    ("p_benefit_exceeds_cost", N_("P(benefits exceed costs)"), "prob"),
    ("cost_per_participant", N_("cost per participant"), "eur"),
    ("cost_per_case_prevented", N_("cost per case prevented (horizon)"), "eur"),
    ("cost_per_case_year_prevented", N_("cost per prevented case-year"), "eur"),
    ("cost_per_pp_impact", N_("cost per pp of public impact"), "eur"),
    ("nmb", N_("net monetary benefit at WTP"), "eur"),
    ("p_cost_effective", N_("P(cost-effective at WTP)"), "prob"),
]

#: Columns of the neighbourhood tables of ``impactsim run``: metric, heading, format.
PLACE_HEADLINE = [
    ("reach_cumulative", N_("reach (any programme)"), "pct"),
    ("public_impact_pp", N_("public impact"), "pp"),
]
PLACE_ECONOMICS = [
    ("cost_pv", N_("cost (present value, €)"), "eur"),
    ("npv", N_("net present value B - C (€)"), "eur"),
    ("bcr", N_("benefit-cost ratio"), "ratio"),
]

#: Headings and sentences of the summary.
BY_NEIGHBOURHOOD = N_("by neighbourhood")
ECONOMICS_BY_NEIGHBOURHOOD = N_("economics by neighbourhood")
#: A 95 % interval: its ends (a Dutch number has a decimal comma, so ``;`` between them).
INTERVAL = N_("[{lo}, {hi}]")
#: Label width of the metric lines (wider when a translated label needs it).
LABEL_WIDTH = 42


def _fmt(value: float, kind: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A number as the summary writes it, with its unit.

    Args:
        value: the number (NaN: ``n/a``).
        kind: ``pct`` (a share, 43.90 %), ``pp`` (percentage points), ``eur`` (euros),
            ``ratio`` (two decimals), ``prob`` (a share of replicates, two decimals),
            ``count`` (one decimal; the label says what is counted).
        lang: language.
    """
    _ = gettext_for(lang)
    if value != value:  # NaN
        return _("n/a")
    if kind == "pct":
        return f"{number(100 * value, lang, 2)} %"
    if kind == "pp":
        unit = _("pp")  # percentage points
        return f"{number(value, lang, 2)} {unit}"
    if kind == "eur":
        return money(value, lang)
    if kind in ("ratio", "prob"):
        return number(value, lang, 2)
    return number(value, lang, 1)


def _interval(row: pd.Series, kind: str, lang: str) -> str:
    """``[lo, hi]`` of a row with ``lo`` and ``hi`` columns, in the language's words."""
    return gettext_for(lang)(INTERVAL).format(
        lo=_fmt(row["lo"], kind, lang), hi=_fmt(row["hi"], kind, lang)
    )


#: A metric line to print: its label (translated), its row (mean, lo, hi) and format.
Line = tuple[str, "pd.Series", str]


def _print_lines(
    lines: list[Line], lang: str, *, value_width: int, head: tuple[str, str, str] | None = None
) -> None:
    """Metric lines, aligned: label, mean and 95 % interval (a chance: no interval).

    Args:
        lines: the lines.
        lang: language.
        value_width: the least width of the mean's column (wider for a longer mean).
        head: headings of the label, mean and interval columns, if any.
    """
    means = [_fmt(row["mean"], kind, lang) for _label, row, kind in lines]
    labels = [label for label, _row, _kind in lines] + ([head[0]] if head else [])
    width = max([LABEL_WIDTH, *(len(x) for x in labels)])
    value_width = max([value_width, *(len(m) for m in means)] + ([len(head[1])] if head else []))
    if head is not None:
        typer.echo(f"{head[0]:<{width}} {head[1]:>{value_width}}   {head[2]}")
    for (label, row, kind), mean in zip(lines, means, strict=True):
        text = f"{label:<{width}} {mean:>{value_width}}"
        typer.echo(text if kind == "prob" else f"{text}   {_interval(row, kind, lang)}")


def _print_economics(result: RunResult, totals: pd.DataFrame, lang: str) -> None:
    """Print the economics block of ``impactsim run`` (totals, mean and 95 % interval)."""
    _ = gettext_for(lang)
    econ = result.scenario.economics
    typer.echo(
        "\n"
        + _(
            "economics: present values at the start, {year} euros; discount {costs} (costs), "
            "{effects} (benefits, effects) a year; WTP {wtp} per prevented case-year"
        ).format(
            year=econ.price_year,
            costs=format_value(econ.discount_rate_costs_per_year, "fraction", lang),
            effects=format_value(econ.discount_rate_effects_per_year, "fraction", lang),
            wtp=money(econ.willingness_to_pay_eur_per_case_year, lang),
        )
    )
    lines = [
        (_(label), totals.loc[metric], kind)
        for metric, label, kind in ECONOMICS_HEADLINE
        if metric in totals.index
    ]
    _print_lines(lines, lang, value_width=14)
    _print_stakeholders(econ.all_stakeholders, totals, lang)


def _print_stakeholders(stakeholders: list[str], totals: pd.DataFrame, lang: str) -> None:
    """Who pays and who receives: each stakeholder's costs, benefits and net (means)."""
    _ = gettext_for(lang)

    def mean(metric: str) -> float:
        return float(totals.loc[metric, "mean"]) if metric in totals.index else 0.0

    rows = [
        (sh, mean(f"cost_pv_paid_by_{sh}"), mean(f"benefit_pv_{sh}"), f"net_pv_{sh}")
        for sh in stakeholders
    ]
    rows = [r for r in rows if r[1] != 0 or r[2] != 0]
    if not rows:
        return
    names = {sh: stakeholder_label(sh, lang) for sh, *_rest in rows}
    title = _("who pays and who receives (mean)")
    width = max([32, len(title) - 1, *(len(n) + 1 for n in names.values())])
    columns = (_("pays"), _("receives"), _("net"))
    head = f"{title:<{width + 2}}" + "".join(f" {c:>14}" for c in columns)
    typer.echo("\n" + head)
    for sh, pays, gets, net in rows:
        cells = (money(pays, lang), money(gets, lang), money(mean(net), lang))
        typer.echo(f"  {names[sh]:<{width}}" + "".join(f" {c:>14}" for c in cells))


def _print_places(
    stats: pd.DataFrame,
    title: str,
    columns: list[tuple[str, str, str]],
    names: dict[str, str],
    lang: str,
) -> None:
    """One table of metrics per neighbourhood (mean and 95 % interval), ``all`` left out.

    Args:
        stats: the run's summary statistics.
        title: the table's heading (translated).
        columns: metric, heading (a catalogue message) and format of each column.
        names: each neighbourhood's label by name.
        lang: language.
    """
    _ = gettext_for(lang)
    tables = [
        (select(stats, m, free=(PLACE_COLUMN,)).set_index(PLACE_COLUMN), k) for m, _h, k in columns
    ]
    lines = {
        names.get(str(name), words(str(name))): [
            f"{_fmt(t.loc[name, 'mean'], k, lang)} {_interval(t.loc[name], k, lang)}"
            for t, k in tables
        ]
        for name in tables[0][0].index.drop(ALL)
    }
    # columns as wide as their widest cell (euros with intervals run long)
    heads = [_(h) for _m, h, _k in columns]
    width = max(
        [34, *(len(c) + 1 for c in heads), *(len(c) + 1 for v in lines.values() for c in v)]
    )
    first = max([26, *(len(n) + 1 for n in lines)])
    head = f"{title:<{first + 2}}" + "".join(f" {h:<{width}}" for h in heads)
    typer.echo("\n" + head.rstrip())
    for name, cells in lines.items():
        typer.echo((f"  {name:<{first}}" + "".join(f" {c:<{width}}" for c in cells)).rstrip())


def _headline_lines(stats: pd.DataFrame, scenario: Scenario, lang: str) -> list[Line]:
    """The headline lines: the metrics, reach per programme and each outcome's lines.

    Each outcome (with several) gets its prevalence without and with programmes and its
    public impact.
    """
    _ = gettext_for(lang)
    totals = select(stats).set_index("metric")
    lines: list[Line] = [
        (_(label), totals.loc[metric], kind)
        for metric, label, kind in HEADLINE
        if metric in totals.index
    ]
    programmes = {iv.name: shown_name(iv) for iv in scenario.interventions}
    for _i, row in select(stats, "reach_direct", free=("intervention",)).iterrows():
        name = str(row["intervention"])
        label = _("reach {programme}").format(programme=programmes.get(name, words(name)))
        lines.append((label, row, "pct"))
    outcomes = {o.name: shown_name(o) for o in scenario.outcome_list}
    for metric, label, kind in OUTCOME_LINES:
        rows = select(stats, metric, free=("outcome",))
        for _i, row in rows[rows["outcome"].astype(str) != ALL].iterrows():
            outcome = outcomes.get(str(row["outcome"]), words(str(row["outcome"])))
            lines.append((_(label).format(outcome=outcome), row, kind))
    return lines


def _print_head(result: RunResult, lang: str) -> None:
    """The summary's first lines: the scenario, its size, replicates, seed and posterior."""
    _ = gettext_for(lang)
    sc = result.scenario
    typer.echo(
        "\n"
        + _(
            "{scenario}: {families} families, {months} months, {replicates} replicates, seed {seed}"
        ).format(
            scenario=words(sc.name),
            families=number(sc.population.size, lang, 0),
            months=sc.simulation.months,
            replicates=result.replicates,
            seed=result.seed,
        )
    )
    if result.posterior is not None:
        post = result.posterior
        typer.echo(
            _(
                "parameters drawn per replicate from the posterior {file} ({rows} rows, "
                "effective sample size {ess}): {parameters}"
            ).format(
                file=post.file,
                rows=number(post.rows, lang, 0),
                ess=number(post.ess, lang, 0),
                parameters=", ".join(post.labels),
            )
        )


def print_run(result: RunResult, out_dir: Path, lang: str = DEFAULT_LANGUAGE) -> None:
    """Print the summary of ``impactsim run``: headline metrics, reach, economics.

    Args:
        result: the run.
        out_dir: where its outputs were written.
        lang: language of the summary (``en`` or ``nl``).

    Raises:
        ValueError: ``lang`` is not a supported language.
    """
    lang = check_language(lang)
    _ = gettext_for(lang)
    sc = result.scenario
    stats = result.summary_stats()
    totals = select(stats).set_index("metric")
    _print_head(result, lang)
    month = _("metric at month {month}").format(month=sc.simulation.months)
    head = (month, _("mean"), _("95 % interval"))
    _print_lines(_headline_lines(stats, sc, lang), lang, value_width=10, head=head)
    places = PLACE_COLUMN in stats.columns  # the scenario has neighbourhoods
    hoods = {h.name: shown_name(h) for h in sc.population.neighbourhoods or []}
    if places:
        _print_places(stats, _(BY_NEIGHBOURHOOD), PLACE_HEADLINE, hoods, lang)
    _print_economics(result, totals, lang)
    if places and "cost_pv" in set(stats["metric"]):
        _print_places(stats, _(ECONOMICS_BY_NEIGHBOURHOOD), PLACE_ECONOMICS, hoods, lang)
    took = result.timings.get("simulate_s", 0.0)
    typer.echo(
        "\n"
        + _("wrote {folder}/ (simulation {seconds} s)").format(
            folder=out_dir, seconds=number(took, lang, 1)
        )
    )
