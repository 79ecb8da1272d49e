"""The text ``impactsim run`` prints: headline metrics, reach per programme, economics."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from impactsim.tables import ALL, PLACE_COLUMN, eur, select

if TYPE_CHECKING:
    import pandas as pd

    from impactsim.runner import RunResult

#: Headline metrics printed after a run, with their display format.
HEADLINE = [
    ("reach_cumulative", "reach (any programme)", "pct"),
    ("reach_indirect", "indirect reach (spillover only)", "pct"),
    ("prevalence_counterfactual", "prevalence without programme", "pct"),
    ("prevalence", "prevalence with programme", "pct"),
    ("public_impact_pp", "public impact (percentage points)", "pp"),
    ("cases_prevented", "problem cases prevented at horizon", "count"),
    ("realized_effect_share", "share with a realized effect", "pct"),
    ("differential_impact_gap_pp", "impact gap least - most advantaged (pp)", "pp"),
    ("neighbourhood_impact_gap_pp", "impact gap between neighbourhoods (pp)", "pp"),
]

#: Economics lines printed after a run (totals), with their display format.
ECONOMICS_HEADLINE = [
    ("cost_pv", "cost (present value)", "eur"),
    ("benefit_pv", "benefit (present value)", "eur"),
    ("npv", "net present value (benefit - cost)", "eur"),
    ("bcr", "benefit-cost ratio", "ratio"),
    ("roi", "return on investment (B - C) / C", "ratio"),
    ("p_benefit_exceeds_cost", "P(benefits exceed costs)", "prob"),
    ("cost_per_participant", "cost per participant", "eur"),
    ("cost_per_case_prevented", "cost per case prevented (horizon)", "eur"),
    ("cost_per_case_year_prevented", "cost per prevented case-year", "eur"),
    ("cost_per_pp_impact", "cost per pp of public impact", "eur"),
    ("nmb", "net monetary benefit at WTP", "eur"),
    ("p_cost_effective", "P(cost-effective at WTP)", "prob"),
]


def _fmt(value: float, kind: str) -> str:
    if value != value:  # NaN
        return "n/a"
    if kind == "pct":
        return f"{100 * value:6.2f} %"
    if kind == "pp":
        return f"{value:6.2f} pp"
    if kind == "eur":
        return eur(value)
    if kind == "ratio":
        return f"{value:.2f}"
    if kind == "prob":
        return f"{value:.2f}"
    return f"{value:8.1f}"


def _print_economics(result: RunResult, totals: pd.DataFrame) -> None:
    """Print the economics block of ``impactsim run`` (totals, mean and 95 % interval)."""
    econ = result.scenario.economics
    typer.echo(
        f"\neconomics: present values at the start, {econ.price_year} euros; discount "
        f"{100 * econ.discount_rate_costs_per_year:g} % (costs), "
        f"{100 * econ.discount_rate_effects_per_year:g} % (benefits, effects) a year; "
        f"WTP {eur(econ.willingness_to_pay_eur_per_case_year)} per prevented case-year"
    )
    for metric, label, kind in ECONOMICS_HEADLINE:
        if metric not in totals.index:
            continue
        row = totals.loc[metric]
        if kind == "prob":  # a share of replicates: no interval
            typer.echo(f"{label:<42} {_fmt(row['mean'], kind):>14}")
            continue
        typer.echo(
            f"{label:<42} {_fmt(row['mean'], kind):>14}   "
            f"[{_fmt(row['lo'], kind)}, {_fmt(row['hi'], kind)}]"
        )
    _print_stakeholders(econ.all_stakeholders, totals)


def _print_stakeholders(stakeholders: list[str], totals: pd.DataFrame) -> None:
    """Who pays and who receives: each stakeholder's costs, benefits and net (means)."""

    def mean(metric: str) -> float:
        return float(totals.loc[metric, "mean"]) if metric in totals.index else 0.0

    rows = [
        (sh, mean(f"cost_pv_paid_by_{sh}"), mean(f"benefit_pv_{sh}"), f"net_pv_{sh}")
        for sh in stakeholders
    ]
    rows = [r for r in rows if r[1] != 0 or r[2] != 0]
    if not rows:
        return
    head = f"{'who pays and who receives (mean)':<34} {'pays':>14} {'receives':>14} {'net':>14}"
    typer.echo("\n" + head)
    for sh, pays, gets, net in rows:
        typer.echo(
            f"  {sh.replace('_', ' '):<32} {eur(pays):>14} {eur(gets):>14} {eur(mean(net)):>14}"
        )


#: Columns of the neighbourhood tables of ``impactsim run``: metric, heading, format.
PLACE_HEADLINE = [
    ("reach_cumulative", "reach (any programme)", "pct"),
    ("public_impact_pp", "public impact", "pp"),
]
PLACE_ECONOMICS = [
    ("cost_pv", "cost (present value, €)", "eur"),
    ("npv", "net present value B - C (€)", "eur"),
    ("bcr", "benefit-cost ratio", "ratio"),
]


def _print_places(stats: pd.DataFrame, title: str, columns: list[tuple[str, str, str]]) -> None:
    """One table of metrics per neighbourhood (mean and 95 % interval), ``all`` left out."""
    tables = [
        (select(stats, m, free=(PLACE_COLUMN,)).set_index(PLACE_COLUMN), k) for m, _, k in columns
    ]
    lines = {
        name: [
            f"{_fmt(t.loc[name, 'mean'], k).strip()} "
            f"[{_fmt(t.loc[name, 'lo'], k).strip()}, {_fmt(t.loc[name, 'hi'], k).strip()}]"
            for t, k in tables
        ]
        for name in tables[0][0].index.drop(ALL)
    }
    # columns as wide as their widest cell (euros with intervals run long)
    width = max([34, *(len(c) + 1 for cells in lines.values() for c in cells)])
    head = f"{title:<28}" + "".join(f" {label:<{width}}" for _, label, _ in columns)
    typer.echo("\n" + head.rstrip())
    for name, cells in lines.items():
        typer.echo((f"  {name:<26}" + "".join(f" {c:<{width}}" for c in cells)).rstrip())


def _print_outcomes(stats: pd.DataFrame) -> None:
    """With several outcomes, each one's prevalence without and with programmes and impact."""
    for metric, what, kind in HEADLINE[2:5]:
        rows = select(stats, metric, free=("outcome",))
        for _, row in rows[rows["outcome"].astype(str) != ALL].iterrows():
            label = f"{what.split(' (')[0]}: {row['outcome']}"
            typer.echo(
                f"{label:<42} {_fmt(row['mean'], kind):>10}   "
                f"[{_fmt(row['lo'], kind).strip()}, {_fmt(row['hi'], kind).strip()}]"
            )


def print_run(result: RunResult, out_dir: Path) -> None:
    """Print the summary of ``impactsim run``: headline metrics, reach, economics."""
    sc = result.scenario
    stats = result.summary_stats()
    totals = select(stats).set_index("metric")
    m = sc.simulation.months
    typer.echo(
        f"\n{sc.name}: {sc.population.size:,} families, {m} months, "
        f"{result.replicates} replicates, seed {result.seed}"
    )
    if result.posterior is not None:
        post = result.posterior
        typer.echo(
            f"parameters drawn per replicate from the posterior {post.file} "
            f"({post.rows} rows, effective sample size {post.ess:.0f}): {', '.join(post.labels)}"
        )
    typer.echo(f"{'metric at month ' + str(m):<42} {'mean':>10}   95 % interval")
    for metric, label, kind in HEADLINE:
        if metric not in totals.index:
            continue
        row = totals.loc[metric]
        typer.echo(
            f"{label:<42} {_fmt(row['mean'], kind):>10}   "
            f"[{_fmt(row['lo'], kind).strip()}, {_fmt(row['hi'], kind).strip()}]"
        )
    reach = select(stats, "reach_direct", free=("intervention",))
    for _, row in reach.iterrows():
        label = f"reach {row['intervention']}"
        typer.echo(
            f"{label:<42} {_fmt(row['mean'], 'pct'):>10}   "
            f"[{_fmt(row['lo'], 'pct').strip()}, {_fmt(row['hi'], 'pct').strip()}]"
        )
    _print_outcomes(stats)
    places = PLACE_COLUMN in stats.columns  # the scenario has neighbourhoods
    if places:
        _print_places(stats, "by neighbourhood", PLACE_HEADLINE)
    _print_economics(result, totals)
    if places and "cost_pv" in set(stats["metric"]):
        _print_places(stats, "economics by neighbourhood", PLACE_ECONOMICS)
    took = result.timings.get("simulate_s", 0.0)
    typer.echo(f"\nwrote {out_dir}/ (simulation {took:.1f} s)")
