"""A pool of spawned worker processes that evaluates candidates for the whole calibration.

pyabc's own process-pool sampler (``MulticoreEvalParallelSampler``) forks new workers for
every generation. Forking fails here: a process whose numba kernels already ran in
parallel holds numba's thread pool, and GNU OpenMP (numba's ``omp`` threading layer)
aborts a forked child ("fork() called from a process already using GNU OpenMP, this is
unsafe"); the calibration always simulates once before the inference starts (it checks
that every target is reported). Spawned workers start clean, but each start imports
impactsim and loads the cached kernels (a few seconds). So the workers here are spawned
once and kept: pyabc's ``ConcurrentFutureSampler`` (its evaluation-parallel sampler for
any ``concurrent.futures`` executor, the one its Dask sampler builds on) submits the
candidates to a ``ProcessPoolExecutor`` with the ``spawn`` start method, shut down by
:meth:`SpawnedPoolSampler.close` when the run ends. The sweeps' process pool spawns for
the same reason (:mod:`impactsim.sweep.execute`).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from pyabc.sampler import ConcurrentFutureSampler

#: Candidates in flight per worker: one running, one waiting, so that no worker idles
#: while the sampler collects a result (it polls every 10 ms).
JOBS_PER_WORKER = 2


class SpawnedPoolSampler(ConcurrentFutureSampler):
    """``ConcurrentFutureSampler`` on ``n_procs`` spawned processes kept across generations."""

    def __init__(self, n_procs: int):
        self.pool = ProcessPoolExecutor(
            max_workers=n_procs, mp_context=multiprocessing.get_context("spawn")
        )
        super().__init__(cfuture_executor=self.pool, client_max_jobs=JOBS_PER_WORKER * n_procs)

    def close(self) -> None:
        """Stop the worker processes (candidates still queued are dropped)."""
        self.pool.shutdown(wait=True, cancel_futures=True)
