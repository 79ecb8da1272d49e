"""Command line for calibration: ``impactsim calibrate SCENARIO TARGETS PARAMS --out DIR``.

Heavy modules (pyabc, the engine) are imported only when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from impactsim.inputs import ScenarioError
from impactsim.scenario.settings import MAX_SEED
from impactsim.sweep.cli import exit_invalid

EXIT_INVALID = 2
EXIT_INTERRUPTED = 130


def calibrate(
    scenario: Annotated[Path, typer.Argument(help="base scenario YAML file")],
    targets: Annotated[Path, typer.Argument(help="targets file (YAML, or CSV)")],
    params: Annotated[Path, typer.Argument(help="parameters file with priors (YAML)")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="output directory (resumed if it exists)")
    ],
    population: Annotated[
        int, typer.Option("--population", "-n", min=10, max=100_000, help="particles")
    ] = 200,
    generations: Annotated[
        int, typer.Option("--generations", "-g", min=1, max=100, help="most ABC-SMC generations")
    ] = 8,
    replicates: Annotated[
        int, typer.Option("--replicates", "-r", min=1, max=1000, help="replicates per candidate")
    ] = 4,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, max=1024, help="worker processes")
    ] = 1,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address tcp://HOST:PORT")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0, max=MAX_SEED)] = 1,
    ppc_draws: Annotated[
        int, typer.Option("--ppc-draws", min=10, max=100_000, help="posterior predictive draws")
    ] = 100,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no summary printed")] = False,
) -> None:
    """Calibrate scenario parameters to local data with ABC-SMC (pyabc).

    Exit status: 0 when done, 2 for invalid input, 130 when interrupted with Ctrl-C and
    143 with SIGTERM (finished generations are kept: run the same command to resume).
    """
    from impactsim.calibrate.inference import Settings
    from impactsim.calibrate.run import calibrate as run_calibration
    from impactsim.calibrate.run import load_inputs
    from impactsim.io import report_interruption

    try:
        inputs = load_inputs(scenario, targets, params)
    except ScenarioError as err:
        exit_invalid(err)
    settings = Settings(
        population=population,
        generations=generations,
        seed=seed,
        workers=workers,
        scheduler=scheduler,
    )
    try:
        result = run_calibration(inputs, out, settings, replicates=replicates, ppc_draws=ppc_draws)
        if not quiet:
            typer.echo(result.parameters.to_string(index=False))
            missed = result.info["missed_targets"]
            typer.echo(f"missed targets: {', '.join(missed)}" if missed else "no missed targets")
            typer.echo(f"wrote {result.directory}/ (summary.md, posterior.parquet, ppc.csv)")
    except ScenarioError as err:
        exit_invalid(err)
    except KeyboardInterrupt as exc:
        # one message: the entry point adds none for an interruption reported here
        note = f"finished generations are kept, run the same command to resume ({out})"
        raise typer.Exit(report_interruption(exc, note)) from None


def register(app: typer.Typer) -> None:
    """Add the ``calibrate`` command to a typer app."""
    app.command("calibrate")(calibrate)
