"""No process outlives a sweep driver killed with SIGKILL.

``kill -9`` of an ``impactsim sweep --workers 2`` driver used to leave its two worker
processes (about 350 MB each) and the multiprocessing resource tracker running for good:
the workers waited for their next task on a pipe whose other end they held themselves.
Now every process the driver started, for the process pool and for a Dask LocalCluster,
is gone within seconds (measured: 0.05-0.9 s while the workers run tasks).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

from helpers import busy_sweep_dict

CLI = [sys.executable, "-m", "impactsim.cli"]

#: Seconds the driver's processes may take to exit after it was killed.
GRACE_S = 10.0


def sweep_dict() -> dict:
    """12 tasks of about a second each: some are running when the driver is stopped."""
    return busy_sweep_dict("orphan-test", ["public_impact_pp"])


def descendants(pid: int) -> list[psutil.Process]:
    """Every living process started by ``pid`` or by its descendants."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    """The processes of ``procs`` still running (zombies count as gone)."""
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


@pytest.mark.parametrize(
    "backend",
    [["--workers", "2"], ["--workers", "2", "--scheduler", "local"]],
    ids=["process-pool", "dask-local"],
)
def test_killed_driver_leaves_no_process_behind(tmp_path, backend):
    file = tmp_path / "sweep.yaml"
    file.write_text(yaml.safe_dump(sweep_dict()))
    out = tmp_path / "out"
    log = tmp_path / "sweep.log"
    cmd = [*CLI, "sweep", str(file), "--out", str(out), "--quiet", *backend]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    started: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 300
        # a finished task: the workers have started up and run tasks
        while not list(Path(out, "tasks").glob("*.parquet")):
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, f"no task finished:\n{log.read_text()}"
            time.sleep(0.05)
        started = descendants(proc.pid)
        workers = [p for p in started if "spawn_main" in " ".join(p.cmdline())]
        assert len(workers) >= 2, [p.cmdline() for p in started]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        killed = time.monotonic()
        while alive(started) and time.monotonic() - killed < GRACE_S:
            time.sleep(0.05)
        left = [(p.pid, " ".join(p.cmdline())[:120]) for p in alive(started)]
        assert left == [], f"alive {GRACE_S:.0f} s after the driver was killed: {left}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for p in alive(started):  # do not leave them to the next test
            p.kill()
    assert proc.returncode == -signal.SIGKILL
    assert os.path.exists(out / "manifest.json")
