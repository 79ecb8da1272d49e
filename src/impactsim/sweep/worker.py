"""What runs on a worker: one task = one point's scenario for a block of replicates.

This module is imported by worker processes (process pool or Dask workers), so it imports
nothing heavy at module level beyond what running a scenario needs. A task never raises
for a problem with its point: an invalid scenario, a missing metric or an error in the
simulation comes back as a failed :class:`TaskOutcome` with the error text.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from impactsim.metrics import ID_COLUMNS
from impactsim.tables import ALL, PLACE_COLUMN, breakdown_mask

#: Columns of a task's result table, in order: the summary's identifying columns with the
#: sweep point in place of the scenario, then the neighbourhood (``all`` for the
#: municipality and in every row of a scenario without neighbourhoods).
RESULT_COLUMNS: tuple[str, ...] = ("point", *ID_COLUMNS[1:], PLACE_COLUMN, "value")

#: Seconds between a pool worker's checks that the driver that started it is alive.
DRIVER_CHECK_INTERVAL_S = 0.5

#: ``prctl`` option that has the kernel send a signal when the parent dies (Linux).
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class TaskPayload:
    """Everything a worker needs to run one task (plain, picklable data).

    Attributes:
        task_id: deterministic id, e.g. ``p000012-r000000-000009``.
        point: point number.
        first_replicate: number of the first replicate of the block.
        replicates: replicates in the block.
        seed: the point's base seed.
        scenario: the point's scenario as a dict (validated on the worker).
        metrics: summary metrics to keep (None: all).
        breakdowns: breakdown columns that may differ from 'all' in kept rows.
        numba_threads: numba threads the task may use.
        posterior: a calibrated posterior each replicate draws its parameters from
            (:class:`impactsim.posterior.Posterior`; None: the scenario's values).
    """

    task_id: str
    point: int
    first_replicate: int
    replicates: int
    seed: int
    scenario: dict[str, Any] = field(repr=False)
    metrics: tuple[str, ...] | None = None
    breakdowns: tuple[str, ...] = ()
    numba_threads: int = 1
    posterior: Any = field(default=None, repr=False)


@dataclass
class TaskOutcome:
    """What a worker sends back.

    Attributes:
        task_id: the task.
        ok: True when the task produced its rows.
        table: the kept summary rows (columns :data:`RESULT_COLUMNS`), None when failed.
        error: what went wrong (None when ok).
        seconds: wall time on the worker.
        worker: ``host:pid`` of the worker process.
    """

    task_id: str
    ok: bool
    table: pd.DataFrame | None
    error: str | None
    seconds: float
    worker: str


class MissingMetricError(ValueError):
    """A requested output metric is not in the run's summary."""


def _limit_threads(n: int) -> int:
    """Use at most ``n`` numba threads in this thread (numba's setting is per thread).

    Returns:
        The previous setting.
    """
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    return before


def exit_with_driver(driver_pid: int, interval: float = DRIVER_CHECK_INTERVAL_S) -> None:
    """End this worker process as soon as its driver (parent) process is gone.

    A pool worker otherwise waits for its next task for ever once the driver died without
    shutting the pool down (``kill -9``, a crash, out of memory): the workers hold both
    ends of the task queue's pipe, so they never see it close, and they keep the
    multiprocessing resource tracker alive too. Two guards:

    * on Linux the kernel sends SIGKILL when the parent dies (``PR_SET_PDEATHSIG``; it fires
      when the *thread* that started the worker ends: the process pool starts its workers
      in the thread that submits, which runs the sweep until the pool is shut down);
    * everywhere, a daemon thread compares :func:`os.getppid` with ``driver_pid`` every
      ``interval`` seconds and calls :func:`os._exit` when the worker was re-parented.

    Args:
        driver_pid: process id of the driver that started this worker.
        interval: seconds between the watchdog's checks.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != driver_pid:  # the driver died before the guards were in place
        os._exit(1)

    def watch() -> None:
        while os.getppid() == driver_pid:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="impactsim-driver-watchdog", daemon=True).start()


def _process_local_progress_lock() -> None:
    """In a worker process, give tqdm a lock of this process's threads (once).

    The runner's progress bar is disabled in a task, but tqdm still creates its lock,
    which includes a semaphore shared across processes (a named POSIX semaphore that
    the multiprocessing resource tracker follows). A worker killed when its sweep is
    interrupted leaves it behind, and the tracker then warns on the user's terminal
    ("There appear to be 2 leaked semaphore objects to clean up at shutdown"). A worker
    shows no progress bars: a thread lock is all they need. The driver is unchanged.
    """
    if multiprocessing.parent_process() is None:  # the driver (a serial sweep)
        return
    from tqdm import tqdm

    if not hasattr(tqdm, "_lock"):
        tqdm.set_lock(threading.RLock())


def select_rows(
    summary: pd.DataFrame,
    point: int,
    metrics: tuple[str, ...] | None,
    breakdowns: tuple[str, ...],
) -> pd.DataFrame:
    """Keep the requested rows of a run summary, as plain columns (no categoricals).

    Args:
        summary: a run's summary (long format).
        point: point number, put in the first column.
        metrics: metric names to keep (None: all).
        breakdowns: breakdown columns (or ``neighbourhood``) whose non-'all' rows are
            kept; rows broken down by any other column are dropped.

    Returns:
        Columns :data:`RESULT_COLUMNS`; ``neighbourhood`` is ``all`` in every row when the
        summary has no such column (a scenario without neighbourhoods).

    Raises:
        MissingMetricError: a requested metric is not in the summary.
    """
    df = summary
    names = df["metric"].astype(str)
    if metrics is not None:
        present = set(names.unique())
        missing = [m for m in metrics if m not in present]
        if missing:
            raise MissingMetricError(
                f"metric(s) not in the run summary: {', '.join(missing)}. "
                f"Available: {', '.join(sorted(present))}"
            )
        keep = np.asarray(names.isin(metrics), dtype=bool)
    else:
        keep = np.ones(len(df), dtype=bool)
    keep = keep & np.asarray(breakdown_mask(df, free=breakdowns), dtype=bool)
    out = df.loc[keep]
    place = out[PLACE_COLUMN].astype(str) if PLACE_COLUMN in out.columns else ALL
    table = pd.DataFrame(
        {
            "point": pd.Series(point, index=out.index, dtype="int64"),
            "replicate": out["replicate"].astype("int64"),
            "metric": out["metric"].astype(str),
            "segment": out["segment"].astype(str),
            "intervention": out["intervention"].astype(str),
            "channel": out["channel"].astype(str),
            "adopter_category": out["adopter_category"].astype(str),
            "outcome": out["outcome"].astype(str),
            PLACE_COLUMN: pd.Series(place, index=out.index, dtype=object),
            "value": out["value"].astype("float64"),
        }
    )
    return table.reset_index(drop=True)


def _where() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_task(payload: TaskPayload) -> TaskOutcome:
    """Run one task: validate the point's scenario, simulate, keep the requested rows.

    Never raises for a problem of the point itself; the error text is in the outcome.

    Args:
        payload: the task.

    Returns:
        The outcome (ok with the table, or failed with the error).
    """
    t0 = time.perf_counter()

    def failed(msg: str) -> TaskOutcome:
        return TaskOutcome(payload.task_id, False, None, msg, time.perf_counter() - t0, _where())

    threads_before: int | None = None
    try:
        from impactsim.loading import ScenarioError, parse_scenario
        from impactsim.runner import run

        threads_before = _limit_threads(payload.numba_threads)
        _process_local_progress_lock()
        try:
            scenario = parse_scenario(payload.scenario, f"point {payload.point}")
        except ScenarioError as err:
            lines = "\n".join(f"  {p}" for p in err.problems)
            return failed(f"invalid scenario at this point:\n{lines}")
        result = run(
            scenario,
            replicates=payload.replicates,
            seed=payload.seed,
            first_replicate=payload.first_replicate,
            progress=False,
            **({} if payload.posterior is None else {"posterior": payload.posterior}),
        )
        table = select_rows(result.summary, payload.point, payload.metrics, payload.breakdowns)
        del result
        return TaskOutcome(payload.task_id, True, table, None, time.perf_counter() - t0, _where())
    except MissingMetricError as err:
        return failed(str(err))
    except Exception as err:
        tb = traceback.format_exc(limit=8)
        return failed(f"{type(err).__name__}: {err}\n{tb}")
    finally:
        if threads_before is not None:  # leave the calling thread as it was (serial runs)
            _limit_threads(threads_before)
