"""Command line for sweeps: ``sweep``, ``sweep-results`` and ``sweep-analyze``.

The functions are plain typer commands; :func:`register` adds them to a typer app (the
``impactsim`` CLI), and ``python -m impactsim.sweep.cli`` runs them on their own.
Heavy modules (dask, SALib, matplotlib) are imported only by the command that needs them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from impactsim.loading import ScenarioError
from impactsim.sweep.schema import MAX_WORKERS

if TYPE_CHECKING:
    from impactsim.sweep.execute import SweepReport

EXIT_SOME_FAILED = 1
EXIT_INVALID = 2
EXIT_INTERRUPTED = 130

#: Outputs analysed by ``sweep-analyze`` when none are given (those the sweep kept).
DEFAULT_ANALYSIS_OUTPUTS = ("public_impact_pp", "reach_cumulative", "npv")


def exit_invalid(err: Exception) -> NoReturn:
    """Print every problem of an invalid input on standard error and exit with status 2."""
    if isinstance(err, ScenarioError):
        typer.echo(f"error: {len(err.problems)} problem(s) found", err=True)
        for p in err.problems:
            typer.echo(f"  {p}", err=True)
    else:
        typer.echo(f"error: {err}", err=True)
    raise typer.Exit(EXIT_INVALID)


def _interrupted(exc: BaseException, note: str) -> NoReturn:
    """Report an interruption (Ctrl-C or SIGTERM) in one line and exit with 130 or 143."""
    from impactsim.io import report_interruption

    raise typer.Exit(report_interruption(exc, note)) from None


def _first_line(text: str | None, limit: int = 160) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    line = " / ".join(lines[:2])
    return line if len(line) <= limit else line[: limit - 3] + "..."


def sweep(
    file: Annotated[Path, typer.Argument(help="sweep YAML file")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="output directory (resumed if it exists)")
    ],
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            min=0,
            max=MAX_WORKERS,
            help="worker processes (default: CPU count; 0 = serial in this process); "
            "with --scheduler local: LocalCluster workers",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Dask scheduler address tcp://HOST:PORT, or 'local' for a LocalCluster",
        ),
    ] = None,
    retry_failed: Annotated[
        bool,
        typer.Option("--retry-failed/--skip-failed", help="re-run tasks that failed before"),
    ] = True,
    threads: Annotated[
        int, typer.Option("--threads-per-task", min=1, help="numba threads per task")
    ] = 1,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="no progress bar, no summary")
    ] = False,
    allow_external_paths: Annotated[
        bool,
        typer.Option(
            "--allow-external-paths",
            help="let the sweep's base name a file outside the sweep's directory tree",
        ),
    ] = False,
) -> None:
    """Run a parameter sweep (or resume it: tasks already done are skipped).

    Exit status: 0 when every task is done, 1 when some failed (see DIR/manifest.json),
    2 for an invalid sweep file or directory, 130 when interrupted with Ctrl-C and 143
    with SIGTERM (finished tasks are kept: re-run to resume).
    """
    from impactsim.sweep.execute import run_sweep
    from impactsim.sweep.spec import load_sweep
    from impactsim.sweep.store import SweepError

    try:
        spec = load_sweep(file, allow_external_paths=allow_external_paths)
    except ScenarioError as err:
        exit_invalid(err)
    try:
        report = run_sweep(
            spec,
            out,
            workers=workers,
            scheduler=scheduler,
            retry_failed=retry_failed,
            numba_threads=threads,
            progress=not quiet,
        )
        if not quiet:
            _print_sweep(report)
    except SweepError as err:
        exit_invalid(err)
    except KeyboardInterrupt as exc:
        _interrupted(exc, f"finished tasks are kept, re-run the same command to resume ({out})")
    if report.failed:
        raise typer.Exit(EXIT_SOME_FAILED)


def _print_sweep(report: SweepReport) -> None:
    """Print what ``impactsim sweep`` did: counts, the first failures, the directory."""
    typer.echo(
        f"sweep {report.name}: {report.points} points, {report.tasks} tasks on "
        f"{report.backend}: {report.done} done ({report.skipped} before this run), "
        f"{report.failed} failed, {report.pending} pending; {report.seconds:.1f} s"
    )
    for f in report.failures[:10]:
        typer.echo(f"  failed {f['task']} (point {f['point']}): {_first_line(f['error'])}")
    if len(report.failures) > 10:
        typer.echo(f"  ... and {len(report.failures) - 10} more (see manifest.json)")
    typer.echo(f"wrote {report.directory}/")


def sweep_results(
    directory: Annotated[Path, typer.Argument(help="sweep output directory")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="write the tidy table to this .csv or .parquet file"),
    ] = None,
) -> None:
    """Load a sweep's results as one tidy table; print its status and failed tasks."""
    from impactsim.io import write_csv, write_parquet
    from impactsim.sweep.results import load_results
    from impactsim.sweep.store import SweepError
    from impactsim.tables import select

    try:
        res = load_results(directory)
    except SweepError as err:
        exit_invalid(err)
    c = res.counts()
    typer.echo(
        f"sweep {res.name} ({res.method}): {len(res.points)} points, {len(res.manifest)} tasks: "
        f"{c['done']} done, {c['failed']} failed, {c['pending']} pending; "
        f"{len(res.data):,} rows"
    )
    typer.echo(f"parameters: {', '.join(res.parameters)}")
    if len(res.data):
        typer.echo("metric (totals)                      mean over points and replicates")
        means = select(res.data).groupby("metric", observed=True)["value"].mean()
        for name, value in means.items():
            typer.echo(f"  {name!s:<36} {value:12.5g}")
    for row in res.failed.head(10).itertuples():
        typer.echo(f"  failed {row.task} (point {row.point}): {_first_line(row.error)}")
    if out is not None:
        if out.suffix.lower() == ".parquet":
            write_parquet(out, res.data)
        elif out.suffix.lower() == ".csv":
            write_csv(out, res.data)
        else:
            exit_invalid(ValueError(f"--out must end in .csv or .parquet (got {out.name})"))
        typer.echo(f"wrote {out}")


def sweep_analyze(
    directory: Annotated[Path, typer.Argument(help="sweep output directory")],
    output: Annotated[
        list[str] | None,
        typer.Option(
            "--output",
            "-m",
            help="metric to analyse (repeatable; default: public_impact_pp, reach_cumulative "
            "and npv, those the sweep kept)",
        ),
    ] = None,
    segment: Annotated[str, typer.Option(help="segment to analyse (default: all)")] = "all",
    neighbourhood: Annotated[
        str,
        typer.Option(
            help="neighbourhood to analyse (default: all, the municipality; the sweep must "
            "keep the neighbourhood breakdown)"
        ),
    ] = "all",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="where to write (default DIR/analysis)")
    ] = None,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="write PNG plots")] = True,
    resamples: Annotated[
        int, typer.Option(min=10, help="bootstrap resamples for the intervals")
    ] = 1000,
) -> None:
    """Sensitivity analysis of a finished sweep, written as CSV and PNG.

    Sobol indices for sobol sweeps, Morris μ*/σ for morris sweeps, a tornado table for
    one_way sweeps.
    """
    from impactsim.io import OutputPathError, inner_dir
    from impactsim.sweep.results import load_results
    from impactsim.sweep.sensitivity import SensitivityError, analyze
    from impactsim.sweep.store import SweepError

    try:
        res = load_results(directory)
    except SweepError as err:
        exit_invalid(err)
    kept = set(res.data["metric"].astype(str))
    if output:
        outputs = list(output)
    else:
        outputs = [m for m in DEFAULT_ANALYSIS_OUTPUTS if m in kept]
        if not outputs:
            exit_invalid(
                ValueError(
                    "none of public_impact_pp, reach_cumulative, npv is in the results; "
                    f"name one with --output (kept: {', '.join(sorted(kept))})"
                )
            )
    where = {
        k: v for k, v in (("segment", segment), ("neighbourhood", neighbourhood)) if v != "all"
    }
    target = out if out is not None else Path(directory) / "analysis"
    try:
        tables = analyze(res, outputs, num_resamples=resamples, **where)
    except (SensitivityError, KeyError, ValueError) as err:
        exit_invalid(ValueError(str(err).strip("'\"")))
    except KeyboardInterrupt as exc:
        _interrupted(exc, f"nothing was written to {target}")
    try:  # a link planted in the sweep directory would send the analysis elsewhere
        target = out if out is not None else inner_dir(Path(directory), "analysis")
    except OutputPathError as err:
        exit_invalid(ValueError(f"{err}; or give the folder to write to with --out"))
    try:
        _write_analysis(tables, res.method, where, target, plots)
    except KeyboardInterrupt as exc:
        _interrupted(
            exc, f"the files already written to {target} are complete, the rest were not written"
        )


def _write_analysis(
    tables: dict[str, Any], method: str, where: dict[str, str], target: Path, plots: bool
) -> None:
    """Write (and print) the tables of ``sweep-analyze``, and their plots.

    ``where``: the segment and neighbourhood analysed (none: the totals); they name the
    files (``tornado_public_impact_pp_south.csv``) and the printed headings.
    """
    from impactsim.io import write_csv

    target.mkdir(parents=True, exist_ok=True)
    kind = {"sobol": "sobol", "morris": "morris", "one_way": "tornado"}[method]
    suffix = "".join(f"_{v}" for v in where.values())
    label = f" ({', '.join(f'{k} {v}' for k, v in where.items())})" if where else ""
    for name, table in tables.items():
        stem = f"{kind}_{name}{suffix}"
        write_csv(target / f"{stem}.csv", table)
        typer.echo(f"\n{kind}: {name}{label}")
        typer.echo(table.drop(columns=["output"]).to_string(index=False, float_format="%.4g"))
        if "warning" in table.attrs:
            typer.echo(f"warning: {table.attrs['warning']}")
        if "note" in table.attrs:
            typer.echo(f"note: {table.attrs['note']}")
            continue
        if plots:
            _plot(kind, table, target / f"{stem}.png")
    typer.echo(f"\nwrote {target}/")


def _plot(kind: str, table: object, path: Path) -> None:
    from impactsim.io import atomic_write
    from impactsim.sweep import plots

    fn = {"sobol": plots.plot_sobol, "morris": plots.plot_morris, "tornado": plots.plot_tornado}
    fig = fn[kind](table)  # type: ignore[operator]
    atomic_write(path, lambda p: fig.savefig(p, dpi=120, format="png"))


def register(app: typer.Typer) -> None:
    """Add the sweep commands to a typer app."""
    app.command("sweep")(sweep)
    app.command("sweep-results")(sweep_results)
    app.command("sweep-analyze")(sweep_analyze)


app = typer.Typer(
    name="impactsim-sweep",
    help="Parameter sweeps and sensitivity analysis for impactsim scenarios.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
register(app)


def main() -> None:
    """Entry point of ``python -m impactsim.sweep.cli``; bad input exits 2, no traceback.

    SIGTERM is turned into ``KeyboardInterrupt`` (exit 143, finished tasks kept).
    """
    from impactsim.io import install_signal_handlers, interruption_reported

    fired = install_signal_handlers()
    try:
        app()
    except SystemExit as exc:
        # typer's silent exit for an interruption no command reported
        if fired and exc.code == EXIT_INTERRUPTED and not interruption_reported():
            print("\ninterrupted while starting", file=sys.stderr)
            sys.exit(128 + fired[0])
        raise
    except KeyboardInterrupt:
        print("\ninterrupted while starting", file=sys.stderr)
        sys.exit(128 + (fired[0] if fired else 2))
    except (ScenarioError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(EXIT_INVALID)


if __name__ == "__main__":
    main()
