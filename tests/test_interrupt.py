"""Nothing is lost or left half-written when a run or a sweep is interrupted.

Real ``impactsim run`` and ``impactsim sweep`` processes get SIGINT (Ctrl-C, sent to the
whole process group as a terminal does) or SIGTERM (``kill PID``, the driver only) while
they work:

* ``run`` exits with 130 / 143 and a short message; its output directory does not exist
  and no temporary file or staging directory is left;
* ``sweep`` exits with 130 / 143; the tasks finished before are kept, no temporary file is
  left, no worker process survives, and re-running resumes to exactly the table of a
  clean run.

In-process tests cover the moments a timed signal rarely hits: an interruption while the
files of a run are staged leaves the previous outputs untouched, and a signal arriving
while they are moved into place is held back until all of them are.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pandas as pd
import psutil
import pytest
import yaml

import impactsim
from helpers import base_dict, build, busy_sweep_dict
from impactsim.io import (
    RUN_FILES,
    Terminated,
    install_signal_handlers,
    signals_held,
    staged_directory,
)
from impactsim.sweep import load_results, parse_sweep, run_sweep

CLI = [sys.executable, "-m", "impactsim.cli"]


def leftovers(*dirs: Path) -> list[Path]:
    """Temporary files and staging directories (``.NAME.XXXX.tmp``) under ``dirs``."""
    found: list[Path] = []
    for d in dirs:
        if d.exists():
            found += [p for p in d.rglob("*") if p.name.endswith(".tmp")]
    return found


def start(cmd: list[str], log: Path, **kw) -> subprocess.Popen:
    with open(log, "wb") as fh:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, **kw)


def messages(text: str) -> list[str]:
    """The lines of a command's output that report an interruption."""
    return [ln for ln in text.splitlines() if ln.startswith(("interrupted", "terminated"))]


def wait_for(condition, proc: subprocess.Popen, log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"exited early ({proc.returncode}):\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no progress:\n{log.read_text()}"
        time.sleep(0.02)


# --------------------------------------------------------------------------- run
@pytest.fixture(scope="module")
def long_scenario(tmp_path_factory) -> Path:
    """A run of about 10 s on 2 cores: 40,000 families, 60 months, 64 replicates.

    (16 replicates of 36 months took 0.6 s once the engine got faster: the signal then
    came after the run had finished.)
    """
    path = tmp_path_factory.mktemp("scen") / "long.yaml"
    d = base_dict(size=40_000, months=60)
    d["name"] = "long"
    d["simulation"]["replicates"] = 64
    path.write_text(yaml.safe_dump(d))
    return path


@pytest.mark.parametrize(
    ("sig", "code", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated (SIGTERM)")],
)
def test_interrupted_run_leaves_no_output_and_no_temporary_file(
    tmp_path, long_scenario, sig, code, word
):
    out = tmp_path / "results" / "long"
    log = tmp_path / "run.log"
    proc = start([*CLI, "run", str(long_scenario), "--out", str(out)], log)
    try:
        # tqdm shows the bar ("... 3/64 [00:01<00:09, 6.1rep/s]") once the simulation has
        # run for a second: mid-simulation
        wait_for(lambda: "rep/s]" in log.read_text(errors="replace"), proc, log)
        proc.send_signal(sig)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text(errors="replace")
    assert proc.returncode == code, text
    # one message: it also said "interrupted while starting; nothing was written" (SIGINT)
    assert messages(text) == [f"{word}; nothing was written to {out}"], text
    assert "Traceback" not in text
    assert not out.exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("command", ["compare", "report"])
def test_ctrl_c_during_compare_or_report_gives_one_message(tmp_path, long_scenario, command):
    """Ctrl-C (to the process group) while the strategies run: exit 130, one message.

    Both said "interrupted; ..." and then "interrupted while starting; nothing was
    written", which contradicted the first for outputs already written.
    """
    other = tmp_path / "other.yaml"
    other.write_text(long_scenario.read_text().replace("name: long", "name: other"))
    # 200 replicates: a strategy runs for seconds, so its progress bar (shown after 1 s)
    # appears before the comparison ends; the signal comes then
    out = tmp_path / ("cmp" if command == "compare" else "report.html")
    log = tmp_path / f"{command}.log"
    cmd = [*CLI, command, str(long_scenario), str(other), "-r", "200", "--out", str(out)]
    proc = start(cmd, log, start_new_session=True)
    try:
        wait_for(lambda: "rep/s]" in log.read_text(errors="replace"), proc, log)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = log.read_text(errors="replace")
    assert proc.returncode == 130, text
    kept = f"nothing was written to {out}" if command == "compare" else f"{out} was not written"
    assert messages(text) == [f"interrupted; {kept}"], text
    assert "Traceback" not in text
    assert not out.exists()
    assert leftovers(tmp_path) == []


@pytest.fixture
def cli_handlers():
    """The command line's signal handlers in this process (restored afterwards)."""
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield install_signal_handlers()
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def ctrl_c(*args, **kwargs):
    """Stand-in for a function of the command line: Ctrl-C arrives while it runs."""
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)  # the handler raises KeyboardInterrupt in here


def test_ctrl_c_while_run_prints_its_summary_says_the_outputs_are_complete(
    tmp_path, monkeypatch, capsys, cli_handlers
):
    """It said "interrupted while starting; nothing was written" after writing them."""
    from impactsim import cli

    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump(base_dict(size=300, months=4)))
    out = tmp_path / "out"
    monkeypatch.setattr(cli, "_print_run", ctrl_c)
    monkeypatch.setattr(sys, "argv", ["impactsim", "run", str(scen), "--out", str(out)])
    with pytest.raises(SystemExit) as exc:
        cli._run_app(cli_handlers)
    assert exc.value.code == 130
    assert messages(capsys.readouterr().err) == [f"interrupted; the outputs in {out} are complete"]
    assert sorted(p.name for p in out.iterdir()) == sorted([*RUN_FILES, "ceac.csv", "wsipp.csv"])


def test_ctrl_c_while_plot_draws_says_which_figures_are_kept(
    tmp_path, monkeypatch, capsys, cli_handlers
):
    """plot had no handler: "interrupted while starting; nothing was written" with figures
    written."""
    import impactsim.rundir
    from impactsim import cli

    monkeypatch.setattr(impactsim.rundir, "load_run_dir", ctrl_c)
    monkeypatch.setattr(sys, "argv", ["impactsim", "plot", str(tmp_path)])
    with pytest.raises(SystemExit) as exc:
        cli._run_app(cli_handlers)
    assert exc.value.code == 130
    figures = tmp_path / "figures"
    kept = f"interrupted; the figures already in {figures} are complete, the others were not drawn"
    assert messages(capsys.readouterr().err) == [kept]


def test_ctrl_c_during_calibration_gives_one_message(tmp_path, monkeypatch, capsys, cli_handlers):
    """calibrate printed its line, then the entry point's "interrupted while starting;
    nothing was written", as the other commands did before."""
    import impactsim.calibrate.run
    from impactsim import cli

    root = Path(__file__).resolve().parents[1] / "scenarios"
    calib = root / "calibration"
    out = tmp_path / "out"
    monkeypatch.setattr(impactsim.calibrate.run, "calibrate", ctrl_c)
    files = [root / "package.yaml", calib / "targets.yaml", calib / "params.yaml"]
    argv = ["impactsim", "calibrate", *map(str, files), "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exc:
        cli._run_app(cli_handlers)
    assert exc.value.code == 130
    kept = f"interrupted; finished generations are kept, run the same command to resume ({out})"
    assert messages(capsys.readouterr().err) == [kept]


def test_ctrl_c_while_sweep_prints_its_summary_gives_one_message(
    tmp_path, monkeypatch, capsys, cli_handlers
):
    from impactsim import cli
    from impactsim.sweep import cli as sweep_cli

    d = sweep_dict()
    d["base"] = base_dict(size=300, months=4)
    file = tmp_path / "sweep.yaml"
    file.write_text(yaml.safe_dump(d))
    out = tmp_path / "out"
    monkeypatch.setattr(sweep_cli, "_print_sweep", ctrl_c)
    argv = ["impactsim", "sweep", str(file), "--out", str(out), "--workers", "0"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exc:
        cli._run_app(cli_handlers)
    assert exc.value.code == 130
    kept = f"interrupted; finished tasks are kept, re-run the same command to resume ({out})"
    assert messages(capsys.readouterr().err) == [kept]
    assert len(list((out / "tasks").glob("*.parquet"))) == N_TASKS


def catches(pid: int, sig: int) -> bool:
    """True once process ``pid`` has a handler for ``sig`` (Linux: SigCgt in /proc)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (sig - 1)))
    except OSError:
        pass
    return False


def test_run_interrupted_at_any_moment_writes_all_outputs_or_none(tmp_path):
    """SIGTERM at start-up, then at moments from the start of the run to the writing of files."""
    scen = tmp_path / "s.yaml"
    d = base_dict(size=20_000, months=24)
    d["simulation"]["replicates"] = 4
    scen.write_text(yaml.safe_dump(d))
    outcomes = []
    # None: at once (before the handler exists); else seconds after the handler is installed
    for i, delay in enumerate([None, 0.0, 0.6, 1.2, 1.8, 2.6]):
        out = tmp_path / f"out{i}"
        log = tmp_path / f"run{i}.log"
        proc = start([*CLI, "run", str(scen), "--out", str(out), "-q"], log)
        if delay is not None:
            wait_for(lambda p=proc: catches(p.pid, signal.SIGTERM), proc, log)
            time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        text = log.read_text(errors="replace")
        assert "Traceback" not in text, text
        # 0: finished first; 143: the handler ran; -15 (killed by the default action): the
        # signal came while Python was starting up or shutting down, before the command line
        # installed its handler or after it ended (nothing is being written then)
        assert proc.returncode in (0, 143, -signal.SIGTERM), text
        if proc.returncode == -signal.SIGTERM:
            assert delay is None or out.exists()
        if out.exists():  # all outputs or none
            assert sorted(p.name for p in out.iterdir()) == sorted(
                [*RUN_FILES, "ceac.csv", "wsipp.csv"]
            )
            assert proc.returncode == 0 or "the outputs in" in text or delay is not None
        if proc.returncode == 143:
            # during the move into place, or after the command had returned
            written = (
                f"the outputs in {out} are complete" in text
                or "after the command had finished; its output is complete" in text
            )
            assert written == out.exists(), text
            assert (
                written
                or f"nothing was written to {out}" in text
                or ("terminated (SIGTERM) while starting; nothing was written" in text)
            )
        outcomes.append(proc.returncode)
    assert leftovers(tmp_path) == []
    assert outcomes[1] == 143  # right after start-up: interrupted by the handler


def test_interruption_while_staging_keeps_the_previous_outputs(tmp_path):
    result = impactsim.run(build(base_dict(size=300, months=4)), replicates=2, progress=False)
    out = tmp_path / "out"
    result.to_dir(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / "summary.csv").write_text("old summary\n")
    before["summary.csv"] = b"old summary\n"

    calls = []

    def interrupted_ceac():
        calls.append(1)
        raise KeyboardInterrupt  # after the run's files were staged, before ceac.csv

    result.ceac = interrupted_ceac
    with pytest.raises(KeyboardInterrupt):
        result.to_dir(out)
    assert calls == [1]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no mix of old and new
    assert leftovers(tmp_path) == []


def test_signal_while_files_are_moved_in_is_held_until_all_are(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("a.csv", "b.csv", "c.csv"):
        (out / name).write_text("old")
    real_replace = os.replace
    moved = []

    def replace_and_get_interrupted(src, dst):
        if not moved:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C between the first and second move
        real_replace(src, dst)
        moved.append(Path(dst).name)

    monkeypatch.setattr(os, "replace", replace_and_get_interrupted)
    with pytest.raises(KeyboardInterrupt):
        with staged_directory(out) as stage:
            for name in ("a.csv", "b.csv", "c.csv"):
                (stage / name).write_text("new")
    assert moved == ["a.csv", "b.csv", "c.csv"]  # all moved, then the signal was delivered
    assert {p.read_text() for p in out.iterdir()} == {"new"}
    assert leftovers(tmp_path) == []
    with signals_held():  # nested use outside a signal is harmless
        pass


def test_signal_inside_a_numba_callback_is_delivered_again_a_moment_later():
    """Found by the interrupt tests: Ctrl-C handled while numba called back into Python
    (to unpickle a constant) surfaced as "SystemError: CPUDispatcher(draw_families)
    returned a result with an exception set" and a traceback (11 of 150 timed Ctrl-Cs in a
    stress run; 0 with the handler below)."""
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        fired = install_signal_handlers()
        handler = signal.getsignal(signal.SIGTERM)
        numba_file = os.sep.join(["", "venv", "numba", "core", "serialize.py"])
        frame = types.SimpleNamespace(f_code=types.SimpleNamespace(co_filename=numba_file))
        handler(signal.SIGTERM, frame)  # inside numba: does not raise there
        assert fired == []
        with pytest.raises(Terminated):
            time.sleep(5)  # ... but the signal comes back at once, here
        assert fired == [signal.SIGTERM]
        handler(signal.SIGINT, None)  # later signals are ignored while cleaning up
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def test_run_turns_a_systemerror_caused_by_ctrl_c_back_into_keyboardinterrupt(monkeypatch):
    import impactsim.runner as runner_module

    def interrupted_in_numba(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as ki:
            raise SystemError("returned a result with an exception set") from ki

    sc = build(base_dict(size=200, months=3))
    monkeypatch.setattr(runner_module, "simulate_replicate", interrupted_in_numba)
    with pytest.raises(KeyboardInterrupt):
        impactsim.run(sc, replicates=1, progress=False)

    def broken(*args, **kwargs):
        raise SystemError("a real bug")

    monkeypatch.setattr(runner_module, "simulate_replicate", broken)
    with pytest.raises(SystemError, match="a real bug"):
        impactsim.run(sc, replicates=1, progress=False)


# --------------------------------------------------------------------------- sweep
def sweep_dict() -> dict:
    """12 tasks of about a second each: some are running when the driver is stopped."""
    return busy_sweep_dict("interrupt-test", ["public_impact_pp", "reach_cumulative"])


N_TASKS = 12  # 4 points x 3 blocks of 2 replicates


@pytest.fixture(scope="module")
def clean_sweep(tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("clean") / "s"
    report = run_sweep(parse_sweep(sweep_dict()), out, workers=0, progress=False)
    assert report.done == N_TASKS
    return load_results(out).data


@pytest.mark.parametrize(
    ("sig", "code", "backend", "group"),
    [
        # Ctrl-C in a terminal: the whole process group
        (signal.SIGINT, 130, ["--workers", "2"], True),
        # kill PID: the driver only
        (signal.SIGTERM, 143, ["--workers", "1"], False),
        # the workers of a LocalCluster printed tracebacks and log lines
        (signal.SIGINT, 130, ["--workers", "2", "--scheduler", "local"], True),
    ],
    ids=["pool-ctrl-c", "pool-sigterm", "dask-local-ctrl-c"],
)
def test_interrupted_sweep_keeps_finished_tasks_and_resumes(
    tmp_path, clean_sweep, sig, code, backend, group
):
    file = tmp_path / "sweep.yaml"
    file.write_text(yaml.safe_dump(sweep_dict()))
    out = tmp_path / "out"
    log = tmp_path / "sweep.log"
    cmd = [*CLI, "sweep", str(file), "--out", str(out), *backend, "--quiet"]
    proc = start(cmd, log, start_new_session=True)
    pool: list[psutil.Process] = []
    try:
        wait_for(lambda: len(list((out / "tasks").glob("*.parquet"))) >= 2, proc, log)
        pool = psutil.Process(proc.pid).children(recursive=True)
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # first: what the workers and the resource tracker print on their way out counts too
    _, alive = psutil.wait_procs(pool, timeout=10)
    assert alive == [], "worker processes survived the driver"
    text = log.read_text(errors="replace")
    assert proc.returncode == code, text
    word = "interrupted" if code == 130 else "terminated (SIGTERM)"
    kept = f"{word}; finished tasks are kept, re-run the same command to resume ({out})"
    # one message and nothing else (--quiet); a worker killed after a task left tqdm's
    # semaphore: "resource_tracker: There appear to be 2 leaked semaphore objects ..."
    assert text.strip() == kept
    assert leftovers(out) == []
    present = sorted(p.stem for p in (out / "tasks").glob("*.parquet"))
    assert 2 <= len(present) < N_TASKS, present
    manifest = json.loads((out / "manifest.json").read_text())
    done = sorted(t["task"] for t in manifest["tasks"] if t["status"] == "done")
    assert set(done) <= set(present)  # the files are the authority; the manifest may lag
    for tid in present:  # every kept file is complete
        assert len(pd.read_parquet(out / "tasks" / f"{tid}.parquet")) == 2 * 2

    report = run_sweep(file, out, workers=0, progress=False)
    assert (report.skipped, report.ran, report.done, report.failed) == (
        len(present),
        N_TASKS - len(present),
        N_TASKS,
        0,
    )
    pd.testing.assert_frame_equal(load_results(out).data, clean_sweep)


@pytest.mark.parametrize(
    "backend",
    [["--workers", "2"], ["--workers", "2", "--scheduler", "local"]],
    ids=["pool", "dask-local"],
)
def test_ctrl_c_while_sweep_workers_start_gives_one_message(tmp_path, backend):
    """Ctrl-C to the process group while the worker processes start up (importing).

    Dask LocalCluster workers printed a KeyboardInterrupt traceback each, and a cluster
    interrupted half-way could not be closed ("AssertionError: Status.init" at exit).
    """
    file = tmp_path / "sweep.yaml"
    file.write_text(yaml.safe_dump(sweep_dict()))
    out = tmp_path / "out"
    log = tmp_path / "sweep.log"
    cmd = [*CLI, "sweep", str(file), "--out", str(out), *backend, "--quiet"]
    proc = start(cmd, log, start_new_session=True)
    started: list[psutil.Process] = []

    def starting() -> bool:
        nonlocal started
        started = psutil.Process(proc.pid).children(recursive=True)
        return any("spawn_main" in " ".join(p.cmdline()) for p in started)

    try:
        wait_for(starting, proc, log)
        time.sleep(0.5)  # the first worker imports, the cluster waits for the others
        started = psutil.Process(proc.pid).children(recursive=True)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    _, alive = psutil.wait_procs(started, timeout=10)  # first: they may print on the way out
    assert alive == []
    text = log.read_text(errors="replace")
    assert proc.returncode == 130, text
    kept = f"interrupted; finished tasks are kept, re-run the same command to resume ({out})"
    assert text.strip() == kept


def test_ctrl_c_while_the_pool_starts_a_worker_is_delivered_once_it_has(monkeypatch, cli_handlers):
    """Ctrl-C handled between the creation of a worker process and the moment it is sent
    what to run: the worker failed with "EOFError: Ran out of input" (a traceback), unknown
    to the pool and so not stopped with it. The pool blocks SIGINT while it starts a
    worker, but another thread of the driver may receive the signal, and the handler then
    runs in the thread that starts the worker."""
    import multiprocessing.util
    import threading

    from impactsim.sweep.execute import ProcessPoolBackend

    backend = ProcessPoolBackend(1)
    real = multiprocessing.util.spawnv_passfds

    def spawn_then_ctrl_c(*args):
        pid = real(*args)
        helper = threading.Thread(target=os.kill, args=(os.getpid(), signal.SIGINT))
        helper.start()  # this thread blocks SIGINT: the helper receives it
        helper.join()
        time.sleep(0.2)  # the handler runs at the next bytecode of this thread
        return pid

    monkeypatch.setattr(multiprocessing.util, "spawnv_passfds", spawn_then_ctrl_c)
    procs = []
    try:
        with pytest.raises(KeyboardInterrupt):
            backend.submit(os.getpid)
        procs = list(backend.executor._processes.values())
    finally:
        backend.interrupt()
    assert len(procs) == 1  # the pool knows its worker: interrupt() stops it
    deadline = time.monotonic() + 10
    # the pool's own thread reaps it too: poll rather than join (two joins race)
    while procs[0].exitcode is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert procs[0].exitcode == -signal.SIGTERM  # stopped, not "EOFError: Ran out of input"


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        ("starting", "interrupted while starting; nothing was written"),
        ("finished", "interrupted after the command had finished; its output is complete"),
    ],
)
def test_signal_no_command_handled_is_reported_by_stage(monkeypatch, capsys, stage, expected):
    """A signal after the command returned (its outputs written) must not say 'nothing was
    written' (seen when a fast run finished just before the signal came)."""
    from impactsim import cli

    monkeypatch.setitem(cli._STAGE, "now", stage)
    with pytest.raises(SystemExit) as exc:
        cli._stopped_while_starting(signal.SIGINT)
    assert exc.value.code == 130
    assert expected in capsys.readouterr().err


def test_a_command_that_returns_marks_the_command_line_finished(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from impactsim import cli

    monkeypatch.setitem(cli._STAGE, "now", "starting")
    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump(base_dict(size=100, months=2)))
    result = CliRunner().invoke(cli.app, ["validate", str(scen)])
    assert result.exit_code == 0, result.output
    assert cli._STAGE["now"] == "finished"
