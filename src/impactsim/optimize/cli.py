"""Command line: ``impactsim optimize FILE.yaml --out DIR``.

Optuna and the engine are imported only when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from impactsim.i18n import Language
from impactsim.inputs import ScenarioError
from impactsim.sweep.cli import exit_invalid


def optimize(
    file: Annotated[Path, typer.Argument(help="optimisation YAML file")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="output directory (continued if interrupted)")
    ],
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=0, max=1024, help="worker processes (0: none)")
    ] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler address tcp://HOST:PORT, or local"),
    ] = None,
    lang: Annotated[
        Language, typer.Option("--lang", "-l", help="language of report.html and summary.md")
    ] = "en",
    allow_external_paths: Annotated[
        bool, typer.Option(help="let 'base' name a file outside the file's directory tree")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress or summary")] = False,
) -> None:
    """Find the best mix of programmes, places, channels and start months for a budget.

    Writes the recommended mix as a scenario file, the finalists with P(best), the
    budget–impact curve, figures and a plain-language report. The result depends on the
    file and its seed only, not on the number of workers. Exit status: 0 when done (also
    when nothing fits the budget: the summary says so), 2 for invalid input, 130 when
    interrupted (evaluations are kept: run the same command to continue).
    """
    from impactsim.io import report_interruption
    from impactsim.optimize.report import stage_sentences
    from impactsim.optimize.run import OptimizationError
    from impactsim.optimize.run import optimize as run_optimization
    from impactsim.optimize.spec import load_optimization

    try:
        opt = load_optimization(file, allow_external_paths=allow_external_paths)
    except ScenarioError as err:
        exit_invalid(err)
    log = None if quiet else (lambda msg: typer.echo(msg, err=True))
    try:
        result = run_optimization(
            opt, out, workers=workers, scheduler=scheduler, lang=lang, log=log
        )
    except OptimizationError as err:
        exit_invalid(err)
    except KeyboardInterrupt as exc:
        note = f"evaluations are kept, run the same command to continue ({out})"
        raise typer.Exit(report_interruption(exc, note)) from None
    if not quiet:
        typer.echo(" ".join(stage_sentences(result, result.main, lang)))
        info = result.info
        typer.echo(
            f"{info['evaluations_run']} evaluations in {info['seconds']:.0f} s "
            f"({info['evaluations_per_minute']} per minute); wrote {result.directory}/"
        )


def register(app: typer.Typer) -> None:
    """Add the ``optimize`` command to a typer app."""
    app.command("optimize")(optimize)
