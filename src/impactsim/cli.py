"""Command line interface (typer): ``impactsim run``, ``compare``, ``optimize`` and more."""

from __future__ import annotations

import gc
import math
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

import typer

from impactsim.calibrate.cli import register as register_calibrate_command
from impactsim.i18n import Language
from impactsim.io import (
    EXIT_SIGINT,
    install_signal_handlers,
    interrupt_exit_code,
    interruption_reported,
    report_interruption,
)
from impactsim.loading import (
    ScenarioError,
    default_scenario_path,
    is_sweep_document,
    load_scenario,
    parse_scenario,
    parse_yaml_text,
    read_input_bytes,
)
from impactsim.optimize.cli import register as register_optimize_command
from impactsim.runtext import print_run as _print_run
from impactsim.scenario.settings import MAX_SEED
from impactsim.sweep.cli import register as register_sweep_commands

if TYPE_CHECKING:
    from impactsim.compare import CompareResult

#: For the message of a signal that no command handled itself: "starting" until a command
#: has returned, then "finished". (Commands handle signals while they write their outputs;
#: one that reaches the top before the command returned came before anything was written.)
_STAGE = {"now": "starting"}


def _command_finished(*_: object, **__: object) -> None:
    _STAGE["now"] = "finished"


app = typer.Typer(
    name="impactsim",
    help="Simulate the reach and public impact of prevention programmes for parents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    result_callback=_command_finished,
)


EXIT_INVALID = 2

#: ``--posterior`` of run and compare (docs/calibration.md, "Runs with a posterior").
PosteriorPath = Annotated[
    Path | None,
    typer.Option(
        "--posterior",
        help="calibrated posterior: a calibration directory or its posterior.parquet; each "
        "replicate runs with a weighted posterior draw keyed by seed and replicate",
    ),
]


def _fail(err: ScenarioError) -> NoReturn:
    _report(err)
    raise typer.Exit(EXIT_INVALID)


def _report(err: ScenarioError, where: str = "") -> None:
    typer.echo(f"error: {len(err.problems)} problem(s) found{where}", err=True)
    for p in err.problems:
        typer.echo(f"  {p}", err=True)


def _interrupted(exc: BaseException, note: str) -> NoReturn:
    """Report an interruption (Ctrl-C or SIGTERM) in one line and exit with 130 or 143."""
    raise typer.Exit(report_interruption(exc, note))


def _mtime(path: Path) -> int | None:
    """Modification time of ``path`` in ns, None when it does not exist."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _fail_run(err: Exception) -> NoReturn:
    """Report a refused comparison (every problem) or a memory refusal; exit 2."""
    problems = getattr(err, "problems", None)
    if problems is not None:
        typer.echo(f"error: {len(problems)} problem(s) found", err=True)
        for p in problems:
            typer.echo(f"  {p}", err=True)
    else:
        typer.echo(f"error: {err}", err=True)
    raise typer.Exit(EXIT_INVALID)


@app.command()
def validate(
    files: Annotated[
        list[Path], typer.Argument(help="scenario or sweep YAML file(s); the kind is detected")
    ],
    allow_external_paths: Annotated[
        bool,
        typer.Option(
            "--allow-external-paths",
            help="let a sweep's base name a file outside the sweep's directory tree",
        ),
    ] = False,
) -> None:
    """Check scenario and sweep files; exit 0 if all are valid, 2 with every problem if not.

    A file with base, parameters or sampler (and no population) is checked as a sweep:
    its base scenario, overrides and parameter paths too.
    """
    bad = 0
    for file in files:
        kind = ""
        try:
            data = parse_yaml_text(read_input_bytes(file), str(file))
            if is_sweep_document(data):
                kind = "sweep"
                typer.echo(_check_sweep(file, data, allow_external_paths))
            else:
                kind = "scenario"
                sc = parse_scenario(data, str(file))
                typer.echo(
                    f"{file}: valid scenario '{sc.name}' ({sc.population.size} families, "
                    f"{len(sc.population.segments)} segments, {len(sc.strategy.offers)} offers)"
                )
        except ScenarioError as err:
            bad += 1
            _report(err, f" in {kind} file {file}" if kind else f" in {file}")
    if bad:
        raise typer.Exit(EXIT_INVALID)


def _check_sweep(file: Path, data: object, allow_external_paths: bool) -> str:
    """Validate a sweep document; return the line reporting it valid."""
    from impactsim.sweep.sampling import point_count
    from impactsim.sweep.spec import parse_sweep

    sweep = parse_sweep(
        data,
        file=str(file),
        base_dir=file.parent,
        allow_external_paths=allow_external_paths,
    )
    points = point_count(sweep)
    tasks = points * math.ceil(sweep.replicates / sweep.replicates_per_task)
    return (
        f"{file}: valid sweep '{sweep.name}' ({len(sweep.parameters)} parameters, "
        f"{sweep.method}: {points} points x {sweep.replicates} replicates, {tasks} tasks)"
    )


def _check_out_dir(out_dir: Path, *inner: tuple[str, ...]) -> None:
    """Refuse, before anything is simulated, an output directory that cannot be one.

    An empty ``--out`` (or ``.``) would put the outputs into the working directory, which
    the atomic move of the staged outputs would replace; a path that is a file cannot
    hold them; a folder the command writes into (``inner``, e.g. ``("runs", "package")``)
    that is a symbolic link planted there would send files elsewhere.
    """
    from impactsim.io import OutputPathError, refuse_planted_links

    problem = None
    if str(out_dir) in ("", ".") or out_dir.resolve() == Path.cwd().resolve():
        problem = "is the working directory; name a directory for the outputs (e.g. outputs/run)"
    elif out_dir.exists() and not out_dir.is_dir():
        problem = "is a file, not a directory"
    if problem is not None:
        typer.echo(f"error: --out {str(out_dir)!r} {problem}", err=True)
        raise typer.Exit(EXIT_INVALID)
    try:
        refuse_planted_links(out_dir, *inner)
    except OutputPathError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(EXIT_INVALID) from None


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
        int | None, typer.Option("--seed", "-s", min=0, max=MAX_SEED, help="base random seed")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="output directory (default outputs/NAME)")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="no summary, no progress bar")
    ] = False,
    memory_limit: Annotated[
        str | None,
        typer.Option(
            "--memory-limit",
            help="refuse a run whose estimated memory exceeds this: bytes, 512M, 8G, 75% "
            "(of the available memory) or off; default $IMPACTSIM_MEMORY_LIMIT, else 50%",
        ),
    ] = None,
    parallel: Annotated[
        # the modes of impactsim.runner.Parallel, spelled out: the runner (and numba) is
        # imported only when a run starts, so that --help and errors stay fast
        Literal["auto", "replicates", "parents"],
        typer.Option(
            "--parallel",
            help="replicates: one replicate per numba thread, side by side; parents: one "
            "replicate at a time on all threads; auto: side by side if the memory limit "
            "allows it (the results are the same)",
        ),
    ] = "auto",
    posterior: PosteriorPath = None,
    lang: Annotated[
        Language, typer.Option("--lang", "-l", help="language of the summary: en or nl")
    ] = "en",
) -> None:
    """Run a scenario; write summary.csv/.parquet, timeseries, scenario, run.json, ceac/wsipp.csv.

    The outputs appear all at once at the end; an interruption (Ctrl-C: exit 130,
    SIGTERM: exit 143) leaves no partial or temporary files.
    """
    path = scenario if scenario is not None else default_scenario_path()
    try:
        sc = load_scenario(path)
    except ScenarioError as err:
        _fail(err)
    out_dir = out if out is not None else Path("outputs") / sc.name
    _check_out_dir(out_dir)
    from impactsim.resources import MemoryLimitError, resolve_memory_limit

    try:
        resolve_memory_limit(memory_limit)
    except ValueError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    marker = out_dir / "run.json"  # written with the others, all at once
    before = _mtime(marker)
    try:
        from impactsim.posterior import load_posterior
        from impactsim.runner import run as run_scenario

        result = run_scenario(
            sc,
            replicates=replicates,
            seed=seed,
            progress=False if quiet else None,
            memory_limit=memory_limit,
            parallel=parallel,
            posterior=None if posterior is None else load_posterior(posterior),
        )
        result.to_dir(out_dir)
        if not quiet:
            _print_run(result, out_dir, lang)
    except MemoryLimitError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    except ScenarioError as err:  # a posterior that does not fit
        _fail(err)
    except KeyboardInterrupt as exc:
        after = _mtime(marker)
        if after is not None and after != before:  # moved in, or being printed
            _interrupted(exc, f"the outputs in {out_dir} are complete")
        _interrupted(exc, f"nothing was written to {out_dir}")


@app.command()
def compare(
    scenarios: Annotated[
        list[Path], typer.Argument(help="two or more scenario YAML files (one per strategy)")
    ],
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline", "-b", help="baseline strategy: scenario name or file (default: first)"
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="output directory (default outputs/compare)"),
    ] = None,
    replicates: Annotated[
        int | None,
        typer.Option(
            "--replicates", "-r", min=1, help="replicates per strategy (default: baseline's)"
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed", "-s", min=0, max=MAX_SEED, help="base seed shared by all strategies"
        ),
    ] = None,
    combination: Annotated[
        list[str] | None,
        typer.Option(
            "--combination",
            "-c",
            help="combination to decompose, NAME=A+B (repeatable); default: detected",
        ),
    ] = None,
    effect: Annotated[
        str,
        typer.Option(
            "--effect", help="effect of frontier/ICER: case_years_prevented_pv or public_impact_pp"
        ),
    ] = "case_years_prevented_pv",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no report printed")] = False,
    voi: Annotated[
        bool,
        typer.Option(
            "--voi", help="value of information: EVPI and EVPPI per group (voi.csv, voi.png)"
        ),
    ] = False,
    voi_method: Annotated[
        Literal["gp", "gam"],
        typer.Option("--voi-method", help="EVPPI regression: gp (Gaussian process) or gam"),
    ] = "gp",
    voi_measure: Annotated[
        Literal["nmb", "npv"],
        typer.Option(
            "--voi-measure", help="VOI net benefit: nmb (at the willingness to pay) or npv"
        ),
    ] = "nmb",
    voi_decisions: Annotated[
        float,
        typer.Option("--voi-decisions", min=1, help="decisions the information serves (VOI)"),
    ] = 1.0,
    posterior: PosteriorPath = None,
) -> None:
    """Run strategies with common random numbers and compare them with a baseline.

    Writes comparison.csv (long), frontier.csv, ceac.csv, outcomes.csv, comparison.txt and
    each strategy's run directory under runs/; with --voi also voi.csv and voi.png.
    """
    from impactsim.compare import CompareError
    from impactsim.compare import compare as compare_strategies
    from impactsim.posterior import load_posterior
    from impactsim.resources import MemoryLimitError

    loaded = []
    for path in scenarios:
        try:
            loaded.append((path, load_scenario(path)))
        except ScenarioError as err:
            _fail(err)
    _check_out_dir(
        out if out is not None else Path("outputs") / "compare",
        *(("runs", sc.name) for _, sc in loaded),
    )
    base = baseline
    if baseline is not None:
        for path, sc in loaded:
            if baseline in (str(path), path.name, path.stem) and baseline != sc.name:
                base = sc.name
    combos: dict[str, tuple[str, str]] | None = None
    bad: list[str] = []
    if combination:
        combos = {}
        for text in combination:
            name, _, parts = text.partition("=")
            a, plus, b = parts.partition("+")
            if not (name and a and plus and b):
                bad.append(f"--combination must look like NAME=A+B (got {text!r})")
                continue
            combos[name.strip()] = (a.strip(), b.strip())
    out_dir = out if out is not None else Path("outputs") / "compare"
    kept = f"nothing was written to {out_dir}"
    try:
        if bad:
            raise CompareError(bad)
        res = compare_strategies(
            [sc for _, sc in loaded],
            baseline=base,
            replicates=replicates,
            seed=seed,
            combinations=combos,
            effect=effect,
            progress=False if quiet else None,
            posterior=None if posterior is None else load_posterior(posterior),
        )
        kept = f"the files already written to {out_dir} are complete, the rest were not written"
        res.to_dir(out_dir)
        kept = f"the outputs in {out_dir} are complete"
        if not quiet:
            typer.echo(res.table())
            typer.echo(f"\nwrote {out_dir}/comparison.csv and frontier.csv, ceac.csv, outcomes.csv")
        if voi:
            kept = f"the comparison in {out_dir} is complete, its value of information is not"
            _compare_voi(
                res, out_dir, quiet, method=voi_method, measure=voi_measure, decisions=voi_decisions
            )
    except (CompareError, MemoryLimitError, ScenarioError) as err:
        _fail_run(err)
    except KeyboardInterrupt as exc:
        _interrupted(exc, kept)


def _compare_voi(res: CompareResult, out_dir: Path, quiet: bool, **options: Any) -> None:
    """Value of information of a comparison: write voi.csv and voi.png, print it in words."""
    import warnings

    from impactsim.voi import VOIWarning, format_voi, write_voi

    try:
        with warnings.catch_warnings():
            if not quiet:  # the printed text says so itself
                warnings.simplefilter("ignore", VOIWarning)
            table = write_voi(res, out_dir, **options)
    except ValueError as err:
        typer.echo(f"error: value of information: {err}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    if not quiet:
        typer.echo("\n" + format_voi(table))
        typer.echo(f"\nwrote {out_dir}/voi.csv and voi.png")


@app.command()
def plot(
    run_dir: Annotated[Path, typer.Argument(help="run directory written by `impactsim run`")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="where to write PNGs (default RUN_DIR/figures)"),
    ] = None,
    dpi: Annotated[int, typer.Option(min=30, max=600, help="resolution (dots per inch)")] = 120,
) -> None:
    """Draw every figure of a run directory as PNG files."""
    from impactsim.rundir import RunDirError, load_run_dir, write_figures

    try:
        run = load_run_dir(run_dir)
        for note in run.notes:
            typer.echo(f"note: {note}", err=True)
        written = write_figures(run, out, dpi=dpi)
        for path in written:
            typer.echo(f"wrote {path}")
    except RunDirError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    except OSError as err:  # the folder to write to: a folder named like a figure, say
        typer.echo(f"error: cannot write the figures: {err}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    except KeyboardInterrupt as exc:
        where = out if out is not None else Path(run_dir) / "figures"
        _interrupted(exc, f"the figures already in {where} are complete, the others were not drawn")


@app.command()
def report(
    scenarios: Annotated[
        list[Path],
        typer.Argument(
            help="one or more scenario YAML files (one per strategy), or run directories "
            "(read without simulating again)"
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write")] = Path(
        "report.html"
    ),
    replicates: Annotated[
        int | None, typer.Option("--replicates", "-r", min=1, help="replicates per strategy")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", "-s", min=0, max=MAX_SEED, help="base seed")
    ] = None,
    baseline: Annotated[
        str | None, typer.Option("--baseline", "-b", help="baseline strategy (default: first)")
    ] = None,
    lang: Annotated[
        Language, typer.Option("--lang", "-l", help="language of the report: en or nl")
    ] = "en",
) -> None:
    """Run strategies, or read their run directories, and write one HTML report for planners.

    Run directories (written by `impactsim run`, or under runs/ by `impactsim compare`)
    are read and checked, not simulated again; several are compared when they are paired
    (the same seed and replicates).
    """
    from impactsim.compare import CompareError
    from impactsim.report import build_report
    from impactsim.resources import MemoryLimitError
    from impactsim.rundir import RunDirError, load_run_dir

    inputs: list[Any] = []
    for path in scenarios:
        try:
            if path.is_dir():
                inputs.append(load_run_dir(path))
                for note in inputs[-1].notes:
                    typer.echo(f"note: {note}", err=True)
            else:
                load_scenario(path)
                inputs.append(path)
        except ScenarioError as err:
            _fail(err)
        except RunDirError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(EXIT_INVALID) from None
    before = _mtime(out)
    try:
        written = build_report(
            inputs, out, replicates=replicates, seed=seed, baseline=baseline, lang=lang
        )
        typer.echo(f"wrote {written}")
    except (CompareError, MemoryLimitError, RunDirError) as err:
        _fail_run(err)
    except OSError as err:  # --out a folder, say
        typer.echo(f"error: cannot write the report: {err}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    except KeyboardInterrupt as exc:
        after = _mtime(out)
        if after is not None and after != before:  # written (in one step) just before
            _interrupted(exc, f"{out} is complete")
        _interrupted(exc, f"{out} was not written")


scenarios_app = typer.Typer(
    help="The shipped scenario library: list the strategies and sweeps, copy one to edit.",
    no_args_is_help=True,
)
app.add_typer(scenarios_app, name="scenarios")


@scenarios_app.command("list")
def scenarios_list() -> None:
    """List the library's scenarios and sweeps, with the first sentence of each description."""
    from impactsim.library import LibraryError, entries

    try:
        found = entries()
    except LibraryError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    width = max(len(e.name) for e in found)
    for e in found:
        typer.echo(f"{e.name:<{width}}  {e.summary}")
    typer.echo(
        f"\n{len(found)} files in {found[0].path.parent if found else ''}; "
        "copy one with `impactsim scenarios copy NAME DIR`"
    )


@scenarios_app.command("copy")
def scenarios_copy(
    name: Annotated[str, typer.Argument(help="a name from `impactsim scenarios list`")],
    target: Annotated[Path, typer.Argument(help="folder to copy it into (created if needed)")],
    force: Annotated[
        bool, typer.Option("--force", help="overwrite files of the same name")
    ] = False,
) -> None:
    """Copy a library scenario (a sweep with its base scenario) into a folder, to edit and run."""
    from impactsim.library import LibraryError, copy

    try:
        written = copy(name, target, overwrite=force)
    except LibraryError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    for path in written:
        typer.echo(f"wrote {path}")


@app.command(name="app")
def app_command(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="scenario files to start with (the first is the municipality, the others "
            "strategies compared with it); none: the built-in default municipality"
        ),
    ] = None,
    port: Annotated[int, typer.Option("--port", "-p", min=1, max=65535, help="port")] = 8765,
    host: Annotated[
        str, typer.Option("--host", help="address to listen on (127.0.0.1: this computer only)")
    ] = "127.0.0.1",
    lang: Annotated[str, typer.Option("--lang", help="language to open in: en or nl")] = "en",
) -> None:
    """Start the planners' web app (docs/app.md) and serve it until Ctrl-C."""
    from impactsim.i18n import LANGUAGES

    if lang not in LANGUAGES:
        typer.echo(f"error: --lang must be one of {', '.join(LANGUAGES)} (got {lang!r})", err=True)
        raise typer.Exit(EXIT_INVALID)
    paths = list(files or [])
    for path in paths:
        try:
            load_scenario(path)  # every problem, exit 2, before the server starts
        except ScenarioError as err:
            _fail(err)
    try:
        from impactsim.app.main import serve
    except ImportError as err:
        typer.echo(f"error: the app needs Solara: pip install 'impactsim[app]' ({err})", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    from impactsim.app.assets import missing

    if missing():
        typer.echo(
            "note: Solara's page files are not installed, so the page loads them from the "
            "internet; pip install 'impactsim[app]' installs them (solara-assets)",
            err=True,
        )
    typer.echo(f"impactsim app: open http://{host}:{port} in a browser (Ctrl-C stops it)")
    serve(paths, host=host, port=port, lang=lang)


# sweep, sweep-results, sweep-analyze (heavy imports happen inside the commands)
register_sweep_commands(app)
# calibrate (pyabc and the engine are imported when it runs)
register_calibrate_command(app)
# optimize (optuna and the engine are imported when it runs)
register_optimize_command(app)


def _stopped_while_starting(signum: int) -> NoReturn:
    """Exit for a signal no command handled: say what it interrupted, exit 128 + signum."""
    what = "terminated (SIGTERM)" if signum != signal.SIGINT else "interrupted"
    where = {
        "starting": "while starting; nothing was written",
        "finished": "after the command had finished; its output is complete",
    }[_STAGE["now"]]
    print(f"\n{what} {where}", file=sys.stderr)
    sys.exit(128 + signum)


def main() -> None:
    """Console entry point; input problems end with exit code 2 and no traceback.

    SIGTERM is turned into ``KeyboardInterrupt`` here (not when the library is imported),
    so ``kill PID`` cleans up like Ctrl-C: exit status 143 (130 for Ctrl-C), no partial
    or temporary files.

    The process ends when this returns: its objects are then frozen (``gc.freeze``), so
    that the interpreter's last garbage collections, at exit, do not walk the hundreds of
    thousands of objects that numba, pandas and pydantic hold and that die with the
    process anyway (0.3-0.5 s of every command's run time, measured; outputs are written
    and closed by then, standard streams are flushed by the interpreter as usual).
    """
    fired = install_signal_handlers()
    try:
        _run_app(fired)
    finally:
        gc.freeze()


def _run_app(fired: list[int]) -> None:
    """Run the typer app; turn input problems and unhandled signals into exit codes."""
    try:
        app()
    except SystemExit as exc:
        # typer turns an interruption outside a command's own handler into a silent exit 130
        # (a command that handled it has said what it kept: one message only)
        if fired and exc.code == EXIT_SIGINT and not interruption_reported():
            _stopped_while_starting(fired[0])
        raise
    except KeyboardInterrupt as exc:  # while typer sets the command up
        _stopped_while_starting(interrupt_exit_code(exc) - 128)
    except ScenarioError as err:
        for p in err.problems:
            print(f"error: {p}", file=sys.stderr)
        sys.exit(EXIT_INVALID)
    except OSError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(EXIT_INVALID)


if __name__ == "__main__":
    main()
