"""Command line interface (typer): ``impactsim run``, ``impactsim validate``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from impactsim.loading import ScenarioError, default_scenario_path, load_scenario

app = typer.Typer(
    name="impactsim",
    help="Simulate the reach and public impact of prevention programmes for parents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_INVALID = 2

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
]


def _fail(err: ScenarioError) -> None:
    typer.echo(f"error: {len(err.problems)} problem(s) found", err=True)
    for p in err.problems:
        typer.echo(f"  {p}", err=True)
    raise typer.Exit(EXIT_INVALID)


def _fmt(value: float, kind: str) -> str:
    if value != value:  # NaN
        return "n/a"
    if kind == "pct":
        return f"{100 * value:6.2f} %"
    if kind == "pp":
        return f"{value:6.2f} pp"
    return f"{value:8.1f}"


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="scenario YAML file")],
) -> None:
    """Check a scenario file; exit 0 if valid, 2 with every problem listed if not."""
    try:
        sc = load_scenario(file)
    except ScenarioError as err:
        _fail(err)
    typer.echo(
        f"{file}: valid scenario '{sc.name}' ({sc.population.size} families, "
        f"{len(sc.population.segments)} segments, {len(sc.strategy.offers)} offers)"
    )


@app.command()
def run(
    scenario: Annotated[
        Path | None,
        typer.Argument(help="scenario YAML file; omitted: the built-in default municipality"),
    ] = None,
    replicates: Annotated[
        int | None, typer.Option("--replicates", "-r", min=1, help="Monte Carlo replicates")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", "-s", min=0, help="base random seed")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="output directory (default outputs/NAME)")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="no summary, no progress bar")
    ] = False,
) -> None:
    """Run a scenario and write summary.csv/.parquet, timeseries.parquet, resolved scenario, run.json."""
    from impactsim.runner import run as run_scenario

    path = scenario if scenario is not None else default_scenario_path()
    try:
        sc = load_scenario(path)
    except ScenarioError as err:
        _fail(err)
    result = run_scenario(sc, replicates=replicates, seed=seed, progress=False if quiet else None)
    out_dir = out if out is not None else Path("outputs") / sc.name
    result.to_dir(out_dir)
    if quiet:
        return
    stats = result.summary_stats()
    totals = stats[
        (stats["segment"] == "all")
        & (stats["intervention"] == "all")
        & (stats["channel"] == "all")
        & (stats["adopter_category"] == "all")
    ].set_index("metric")
    m = sc.simulation.months
    typer.echo(
        f"\n{sc.name}: {sc.population.size:,} families, {m} months, "
        f"{result.replicates} replicates, seed {result.seed}"
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
    reach = stats[(stats["metric"] == "reach_direct") & (stats["segment"] == "all")]
    for _, row in reach.iterrows():
        label = f"reach {row['intervention']}"
        typer.echo(
            f"{label:<42} {_fmt(row['mean'], 'pct'):>10}   "
            f"[{_fmt(row['lo'], 'pct').strip()}, {_fmt(row['hi'], 'pct').strip()}]"
        )
    took = result.timings.get("simulate_s", 0.0)
    typer.echo(f"\nwrote {out_dir}/ (simulation {took:.1f} s)")


def main() -> None:
    """Console entry point; input problems end with exit code 2 and no traceback."""
    try:
        app()
    except ScenarioError as err:
        for p in err.problems:
            print(f"error: {p}", file=sys.stderr)
        sys.exit(EXIT_INVALID)
    except OSError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(EXIT_INVALID)


if __name__ == "__main__":
    main()
