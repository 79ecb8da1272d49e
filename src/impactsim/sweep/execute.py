"""Run a sweep: plan its tasks, hand them to an executor, record every outcome.

The driver works with any :class:`concurrent.futures.Executor`; three backends come with
impactsim:

* a local process pool (default): :class:`~concurrent.futures.ProcessPoolExecutor` with the
  ``spawn`` start method (numba's thread pools do not survive ``fork``), one numba thread
  per task;
* Dask: a ``dask.distributed`` cluster at ``tcp://HOST:PORT`` or a ``LocalCluster`` on this
  machine (``scheduler="local"``), through the client's concurrent.futures executor;
* serial (``workers=0``): every task in the driver process, for debugging.

Another backend is any object with ``submit(fn, payload) -> Future`` (pass ``executor=``).

The driver keeps a bounded number of tasks in flight, writes each finished task's rows to
``DIR/tasks/<task>.parquet`` (atomically), and keeps ``DIR/manifest.json`` up to date. A
task that fails is recorded with its error and the sweep goes on; a task lost with a
worker is retried (``max_attempts``). Re-running the same sweep into the same directory
skips the tasks that are done.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from impactsim.io import signals_held
from impactsim.sweep import integrity
from impactsim.sweep.paths import with_values
from impactsim.sweep.sampling import point_changes, point_seed
from impactsim.sweep.schema import MAX_WORKERS
from impactsim.sweep.spec import Sweep, load_sweep
from impactsim.sweep.store import (
    DONE,
    FAILED,
    PENDING,
    SweepDir,
    SweepError,
    TaskRecord,
)
from impactsim.sweep.taskfile import Expect, TaskFileError
from impactsim.sweep.worker import TaskOutcome, TaskPayload, run_task

#: Seconds between manifest rewrites while a sweep runs (it is always written at the end).
MANIFEST_INTERVAL_S = 2.0


# --------------------------------------------------------------------------- executors
class SerialExecutor(cf.Executor):
    """Runs each task in the calling process when it is submitted (for debugging)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        """Run ``fn(*args, **kwargs)`` now; return a finished future."""
        fut: cf.Future = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            fut.set_exception(exc)
        return fut


def _init_pool_worker(driver_pid: int) -> None:
    """Process-pool initializer: die with the driver; Ctrl-C is its to handle; one thread.

    The process starts with SIGINT blocked (:meth:`ProcessPoolBackend.submit`), so a
    Ctrl-C sent to the process group while it starts up stays pending; it is ignored
    from here on, and one already pending is discarded when SIGINT is unblocked. The
    worker exits as soon as the driver ``driver_pid`` is gone, even killed with SIGKILL
    (:func:`~impactsim.sweep.worker.exit_with_driver`).
    """
    from impactsim.sweep.worker import _limit_threads, exit_with_driver

    exit_with_driver(driver_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _limit_threads(1)


class Backend:
    """An executor plus how many tasks to keep in flight and how to recover it."""

    description = "executor"

    def __init__(self, executor: cf.Executor, max_in_flight: int):
        self.executor = executor
        self.max_in_flight = max(1, int(max_in_flight))

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> cf.Future:
        """Hand one task to the executor."""
        return self.executor.submit(fn, *args)

    def recover(self, exc: BaseException) -> bool:
        """Called when futures failed with ``exc``; True if the executor was replaced."""
        return False

    def check(self) -> None:
        """Raise :class:`SweepError` if the executor can no longer run anything."""

    def interrupt(self) -> None:
        """Stop as fast as possible (driver interrupted)."""
        with contextlib.suppress(Exception):
            self.executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Release what the backend started."""


class ExternalBackend(Backend):
    """An executor owned by the caller (not shut down by the sweep)."""

    description = "given executor"

    def interrupt(self) -> None:
        """Nothing: the caller owns the executor."""


class SerialBackend(Backend):
    """Tasks run one after another in the driver process."""

    description = "serial (in this process)"

    def __init__(self) -> None:
        super().__init__(SerialExecutor(), 1)


class ProcessPoolBackend(Backend):
    """A local pool of ``workers`` processes (spawn start method)."""

    def __init__(self, workers: int, start_method: str = "spawn"):
        self.workers = int(workers)
        self.start_method = start_method
        self.description = f"local process pool, {self.workers} worker(s)"
        super().__init__(self._new(), 2 * self.workers)

    def _new(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context(self.start_method),
            initializer=_init_pool_worker,
            initargs=(os.getpid(),),
        )

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> cf.Future:
        """Hand one task to the pool, with SIGINT blocked while it may start a worker.

        The pool starts worker processes as tasks are submitted, and a new process
        inherits the signal mask: blocked, a Ctrl-C to the process group cannot interrupt
        the worker's start-up (a traceback) before :func:`_init_pool_worker` ignores it.
        In the driver a Ctrl-C (or SIGTERM) in this moment is delivered when it ends
        (:func:`~impactsim.io.signals_held`): another thread of the driver may receive
        the signal while this one blocks it, and its handler, run here, would otherwise
        interrupt the start of a worker after the process was created and before it was
        sent its instructions (the worker then fails with "EOFError: Ran out of input",
        unknown to the pool, so not stopped with it).
        """
        with signals_held():
            old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            try:
                return self.executor.submit(fn, *args)
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def recover(self, exc: BaseException) -> bool:
        """Replace a broken pool (a worker process died)."""
        if not isinstance(exc, BrokenProcessPool):
            return False
        with contextlib.suppress(Exception):
            self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = self._new()
        return True

    def interrupt(self) -> None:
        """Cancel queued tasks and stop the worker processes."""
        procs = dict(getattr(self.executor, "_processes", None) or {})
        with contextlib.suppress(Exception):
            self.executor.shutdown(wait=False, cancel_futures=True)
        for proc in procs.values():
            with contextlib.suppress(Exception):
                proc.terminate()

    def close(self) -> None:
        """Shut the pool down."""
        self.executor.shutdown(wait=True, cancel_futures=True)


class DaskBackend(Backend):
    """A dask.distributed client: an existing one, a scheduler address or a LocalCluster."""

    def __init__(
        self,
        scheduler: str | None = None,
        *,
        client: Any = None,
        workers: int | None = None,
        max_in_flight: int | None = None,
        connect_timeout: float = 30.0,
    ):
        from distributed import Client

        self._own_client = client is None
        self._cluster: Any = None
        self._log_levels: dict[str, int] = {}
        if client is None:
            if scheduler in (None, "", "local"):
                n = workers or os.cpu_count() or 1
                self._cluster, client = _local_cluster(n)
                where = f"Dask LocalCluster, {n} worker(s), dashboard {client.dashboard_link}"
            else:
                client = Client(scheduler, timeout=connect_timeout)
                where = f"Dask scheduler {scheduler}"
        else:
            where = f"Dask client {getattr(client, 'scheduler', None) and client.scheduler.address}"
        self.client = client
        threads = sum(client.nthreads().values()) or 1
        self.description = f"{where} ({threads} thread(s) now)"
        super().__init__(client.get_executor(pure=False), max_in_flight or max(4, 2 * threads))

    def check(self) -> None:
        """Fail when the connection to the scheduler is gone."""
        if self.client.status not in ("running", "connecting", "newly-created"):
            raise SweepError(
                f"lost the connection to the Dask scheduler (client status "
                f"'{self.client.status}'); re-run the same command to resume"
            )

    def interrupt(self) -> None:
        """Cancel this sweep's tasks; stop the workers of its own LocalCluster at once.

        A LocalCluster closed while its workers run tasks waits 4 s for each task, then
        kills the worker, and logs what it does: warnings in the driver ("Attempting to
        reschedule task ...", "Worker process still alive after 4.0 seconds, killing")
        and, from a worker closing with a task running, "Failed to communicate with
        scheduler during heartbeat" with tracebacks. After an interruption they would
        follow its one message. So the workers (which hold no results: the driver writes
        them) are killed now and their nannies told not to restart them; until
        :meth:`close` is done, the driver's Dask and tornado logs are silenced (a result
        on its way when its worker is killed is logged as an error with a traceback).
        """
        with contextlib.suppress(Exception):
            self.executor.shutdown(wait=False)
        if self._cluster is None:
            return
        if not self._log_levels:
            known = logging.root.manager.loggerDict
            names = {*_DASK_LOGGERS, *(n for n in known if n.split(".")[0] in _DASK_LOGGERS)}
            for name in names:
                log = logging.getLogger(name)
                self._log_levels[name] = log.level
                log.setLevel(logging.CRITICAL)
        for nanny in list(getattr(self._cluster, "workers", {}).values()):
            with contextlib.suppress(Exception):
                pid = nanny.pid
                nanny.close_gracefully()  # do not restart the worker when it dies
                if pid:
                    os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        """Close what this backend started (client, LocalCluster)."""
        if self._own_client:
            with contextlib.suppress(Exception):
                self.client.close()
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close()
        for name, level in self._log_levels.items():
            logging.getLogger(name).setLevel(level)
        self._log_levels.clear()


#: Loggers (with their children) of a LocalCluster's scheduler, nannies and client, and of
#: the event loop they run on, in the driver process.
_DASK_LOGGERS = ("distributed", "tornado")


def _local_cluster(n: int) -> tuple[Any, Any]:
    """Start a Dask LocalCluster of ``n`` one-thread worker processes, and a client of it.

    Ctrl-C is the driver's to handle, as in the process pool. The cluster's event-loop
    thread is started here with SIGINT blocked, so the worker processes it starts (now,
    or later in place of a lost one) inherit the blocked signal: a Ctrl-C sent to the
    process group neither breaks a worker's start-up nor a task (each printed a
    traceback); the driver closes the cluster. A Ctrl-C or SIGTERM in the driver while
    the cluster starts is delivered once it is up (:func:`~impactsim.io.signals_held`),
    and closes it again: interrupted half-way, it could not be closed (an
    ``AssertionError`` at exit).

    The multiprocessing resource tracker is started first: the thread that starts it
    unblocks SIGINT (and SIGTERM), so started by the first worker's, it would let that
    worker start with Ctrl-C enabled.

    Returns:
        The cluster and the client.
    """
    from multiprocessing import resource_tracker

    from distributed import Client, LocalCluster

    cluster: Any = None
    client: Any = None
    try:
        resource_tracker.ensure_running()
        with signals_held():
            old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            try:
                cluster = LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    env={"NUMBA_NUM_THREADS": "1"},
                )
                client = Client(cluster)
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
    except BaseException:
        for started in (client, cluster):
            if started is not None:
                with contextlib.suppress(Exception):
                    started.close()
        raise
    return cluster, client


def make_backend(
    workers: int | None = None,
    scheduler: str | None = None,
    *,
    executor: cf.Executor | None = None,
    client: Any = None,
    max_in_flight: int | None = None,
) -> Backend:
    """Choose the backend from the options of :func:`run_sweep`."""
    if executor is not None:
        return ExternalBackend(executor, max_in_flight or 2 * (workers or os.cpu_count() or 1))
    if client is not None or scheduler is not None:
        return DaskBackend(scheduler, client=client, workers=workers, max_in_flight=max_in_flight)
    n = (os.cpu_count() or 1) if workers is None else int(workers)
    if n < 0:
        raise ValueError(f"workers must be 0 (serial) or more (got {n})")
    if n > MAX_WORKERS:
        raise ValueError(f"at most {MAX_WORKERS} worker processes on one machine (got {n})")
    if n == 0:
        return SerialBackend()
    backend = ProcessPoolBackend(n)
    if max_in_flight:
        backend.max_in_flight = max_in_flight
    return backend


# --------------------------------------------------------------------------- driver
@dataclass
class SweepReport:
    """What a call of :func:`run_sweep` did.

    Attributes:
        directory: the sweep directory.
        name: sweep name.
        points: points in the design.
        tasks: tasks in the sweep.
        done: tasks done (in this and earlier runs).
        failed: tasks failed.
        pending: tasks still to run (non-zero only when the run stopped early).
        skipped: tasks already done (their files checked) when this run started.
        ran: tasks finished (done or failed) in this run.
        retried: task attempts lost with a worker (or a broken pool) and submitted again.
        seconds: wall time of this run.
        backend: where the tasks ran.
        failures: ``{task, point, error}`` of every failed task.
        repairs: what was found damaged and repaired when the run started (also said on
            standard error, or to ``log``).
    """

    directory: Path
    name: str
    points: int
    tasks: int
    done: int
    failed: int
    pending: int
    skipped: int
    ran: int
    retried: int
    seconds: float
    backend: str
    failures: list[dict[str, Any]] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every task is done or failed."""
        return self.pending == 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def run_sweep(
    sweep: Sweep | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    executor: cf.Executor | None = None,
    max_in_flight: int | None = None,
    numba_threads: int = 1,
    retry_failed: bool = True,
    max_attempts: int = 3,
    progress: bool = True,
    on_task_done: Callable[[TaskRecord], None] | None = None,
    allow_external_paths: bool = False,
    log: Callable[[str], None] | None = None,
) -> SweepReport:
    """Run (or resume) a sweep into a directory.

    Args:
        sweep: a :class:`Sweep` or the path of a sweep file.
        out: output directory; created, or resumed when it holds the same sweep.
        workers: process-pool size (default: CPU count; 0 = run serially in this process);
            with ``scheduler="local"`` the number of LocalCluster workers.
        scheduler: None for the process pool, ``"tcp://HOST:PORT"`` for a Dask scheduler,
            ``"local"`` for a Dask LocalCluster on this machine.
        client: an existing ``distributed.Client`` to use (not closed afterwards).
        executor: any concurrent.futures executor to use instead (not shut down).
        max_in_flight: tasks submitted at a time (default: twice the worker threads).
        numba_threads: numba threads per task.
        retry_failed: run tasks that failed in an earlier run again.
        max_attempts: times a task lost with its worker (not one that failed with an
            error) is tried before it is recorded as failed.
        progress: show a progress bar with ETA (on stderr).
        on_task_done: called with each task's manifest record when it is done or failed.
        allow_external_paths: when ``sweep`` is a path, let its ``base`` name a file outside
            the sweep's directory tree (see :func:`impactsim.sweep.spec.allowed_root`).
        log: called with each message about a damaged file found and repaired when the
            run starts (default: printed on standard error). Every task file is checked
            before it counts as done (:mod:`impactsim.sweep.integrity`).

    Returns:
        A :class:`SweepReport`.

    Raises:
        ScenarioError: the sweep file is invalid.
        SweepError: the directory is in use or holds another sweep, its record cannot be
            restored, or the scheduler is gone.
    """
    t_start = time.perf_counter()
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep, allow_external_paths=allow_external_paths)
    store = SweepDir(out)
    store.lock()
    try:
        info, records, repairs = _resume(sweep, store, log)
        rows = store.point_rows(info)
        fingerprint = sweep.fingerprint()
        skipped = sum(r.status == DONE for r in records)
        todo = [r for r in records if r.status == PENDING or (r.status == FAILED and retry_failed)]
        for r in todo:
            r.status, r.error, r.attempts = PENDING, None, 0
        store.write_manifest(records, sweep.name, fingerprint)
        ran = retried = 0
        backend: Backend | None = None
        bar = tqdm(
            total=len(records),
            initial=len(records) - len(todo),
            desc=f"sweep {sweep.name}",
            unit="task",
            disable=not progress or not todo,
            dynamic_ncols=True,
            smoothing=0.05,
        )
        try:
            if todo:
                backend = make_backend(
                    workers,
                    scheduler,
                    executor=executor,
                    client=client,
                    max_in_flight=max_in_flight,
                )
                ran, retried = _drive(
                    sweep,
                    store,
                    records,
                    todo,
                    rows,
                    backend,
                    numba_threads=numba_threads,
                    max_attempts=max_attempts,
                    bar=bar,
                    on_task_done=on_task_done,
                )
        finally:
            bar.close()
            store.write_manifest(records, sweep.name, fingerprint)
            if backend is not None:
                with contextlib.suppress(Exception):
                    backend.close()
    finally:
        store.unlock()
    counts = {s: sum(r.status == s for r in records) for s in (DONE, FAILED, PENDING)}
    return SweepReport(
        directory=store.path,
        name=sweep.name,
        points=len(rows),
        tasks=len(records),
        done=counts[DONE],
        failed=counts[FAILED],
        pending=counts[PENDING],
        skipped=skipped,
        ran=ran,
        retried=retried,
        seconds=time.perf_counter() - t_start,
        backend=backend.description if backend is not None else "nothing to run",
        failures=[
            {"task": r.task, "point": r.point, "error": r.error}
            for r in records
            if r.status == FAILED
        ],
        repairs=repairs,
    )


def _resume(
    sweep: Sweep, store: SweepDir, log: Callable[[str], None] | None
) -> tuple[dict[str, Any], list[TaskRecord], list[str]]:
    """Set the directory up or check it and its task files; move damaged files aside.

    Returns:
        sweep.json, the manifest's records (done exactly when the task's file passed its
        checks) and the messages about what was repaired (also given to ``log``, or
        printed on standard error).
    """
    notes = store.prepare(sweep)
    store.clean_temporary()
    info = store.read_info()
    inventory = integrity.inspect(store, info)
    notes += integrity.repair(store, inventory)
    for note in notes:
        if log is None:
            print(f"warning: {note}", file=sys.stderr, flush=True)
        else:
            log(note)
    return info, inventory.records, notes


def _payload(
    sweep: Sweep, rec: TaskRecord, rows: list[dict[str, Any]], numba_threads: int
) -> TaskPayload:
    outputs = sweep.spec.outputs
    metrics = None if outputs.metrics == "all" else tuple(outputs.metrics)
    scenario = with_values(sweep.base, point_changes(sweep, rows[rec.point]))
    return TaskPayload(
        task_id=rec.task,
        point=rec.point,
        first_replicate=rec.first_replicate,
        replicates=rec.replicates,
        seed=point_seed(sweep.seed, rec.point, sweep.spec.common_random_numbers),
        scenario=scenario,
        metrics=metrics,
        breakdowns=outputs.kept_breakdowns(),
        numba_threads=numba_threads,
    )


def _drive(
    sweep: Sweep,
    store: SweepDir,
    records: list[TaskRecord],
    todo: list[TaskRecord],
    rows: list[dict[str, Any]],
    backend: Backend,
    *,
    numba_threads: int,
    max_attempts: int,
    bar: Any,
    on_task_done: Callable[[TaskRecord], None] | None,
) -> tuple[int, int]:
    """The driver loop; returns the tasks finished in this run and the attempts retried."""
    fingerprint = sweep.fingerprint()
    expect = Expect.of(fingerprint, sweep.definition(), [list(r.values()) for r in rows])
    queue: deque[TaskRecord] = deque(todo)
    inflight: dict[cf.Future, TaskRecord] = {}
    last_flush = time.monotonic()
    finished = retried = 0
    n_failed = sum(r.status == FAILED for r in records)

    def finish(rec: TaskRecord) -> None:
        nonlocal finished, n_failed
        finished += 1
        if rec.status == FAILED:
            n_failed += 1
            bar.set_postfix(failed=n_failed, refresh=False)
        bar.update(1)
        if on_task_done is not None:
            on_task_done(rec)

    def lost(rec: TaskRecord, exc: BaseException) -> None:
        nonlocal retried
        rec.attempts += 1
        if rec.attempts >= max_attempts:
            rec.status = FAILED
            rec.error = (
                f"{type(exc).__name__}: {exc} (lost {rec.attempts} time(s) with the worker "
                "running it; re-run the sweep to try again)"
            )
            rec.finished = _now()
            finish(rec)
        else:
            retried += 1
            queue.appendleft(rec)

    def record(rec: TaskRecord, outcome: TaskOutcome) -> None:
        rec.attempts += 1
        rec.seconds = round(outcome.seconds, 4)
        rec.worker = outcome.worker
        rec.finished = _now()
        error = outcome.error or "unknown error"
        if outcome.ok and outcome.table is not None:
            try:
                n_rows, sha256 = store.write_task(rec, outcome.table, expect)
            except TaskFileError as err:  # the worker sent rows that are not the task's
                error = f"the worker returned rows that are not this task's: {err}"
            else:
                rec.status, rec.error, rec.rows, rec.sha256 = DONE, None, n_rows, sha256
                finish(rec)
                return
        rec.status, rec.error, rec.rows, rec.sha256 = FAILED, error, None, None
        finish(rec)

    try:
        while queue or inflight:
            broken: BaseException | None = None
            while queue and len(inflight) < backend.max_in_flight and broken is None:
                rec = queue.popleft()
                try:
                    fut = backend.submit(run_task, _payload(sweep, rec, rows, numba_threads))
                except BrokenProcessPool as exc:
                    queue.appendleft(rec)
                    broken = exc
                    break
                inflight[fut] = rec
            if broken is None and inflight:
                done, _ = cf.wait(list(inflight), timeout=0.5, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    rec = inflight.pop(fut)
                    try:
                        outcome = fut.result()
                    except BrokenProcessPool as exc:
                        broken = exc
                        lost(rec, exc)
                    except (Exception, cf.CancelledError) as exc:
                        backend.check()
                        lost(rec, exc)
                    else:
                        record(rec, outcome)
            if broken is not None:
                # every task in flight went down with the pool: try them again
                for rec in list(inflight.values()):
                    lost(rec, broken)
                inflight.clear()
                if not backend.recover(broken):
                    raise SweepError(f"the executor broke down: {broken}") from broken
            now = time.monotonic()
            if now - last_flush >= MANIFEST_INTERVAL_S:
                store.write_manifest(records, sweep.name, fingerprint)
                last_flush = now
                if not inflight:
                    backend.check()
    except BaseException:
        backend.interrupt()
        raise
    return finished, retried
