"""pyabc's process-pool sampler, with worker processes started by ``spawn``, not ``fork``.

pyabc starts its worker processes with ``fork`` where it can. A process whose numba
kernels already ran in parallel holds numba's thread pool, and GNU OpenMP (numba's
``omp`` threading layer) aborts a forked child ("fork() called from a process already
using GNU OpenMP, this is unsafe"): the calibration always simulates once before the
inference starts (it checks that every target is reported), so ``--workers 2`` died with
"At least one worker is dead". Spawned workers start clean; each loads the cached
kernels once per generation (a few seconds). The sweeps' process pool spawns for the
same reason (:mod:`impactsim.sweep.execute`).
"""

from __future__ import annotations

import multiprocessing
from typing import Any

import pyabc.sampler.multicore_evaluation_parallel as _mep
from pyabc.sampler import MulticoreEvalParallelSampler


class SpawningEvalParallelSampler(MulticoreEvalParallelSampler):
    """``MulticoreEvalParallelSampler`` whose workers are spawned (candidates cloudpickled)."""

    def __init__(self, n_procs: int):
        super().__init__(n_procs=n_procs, pickle=True)

    def sample_until_n_accepted(self, n: int, simulate_one: Any, t: int, **kwargs: Any) -> Any:
        """Sample as pyabc does, with the ``spawn`` start method for queue, counters, workers."""
        original = _mep.get_mp_context
        _mep.get_mp_context = lambda: multiprocessing.get_context("spawn")
        try:
            return super().sample_until_n_accepted(n, simulate_one, t, **kwargs)
        finally:
            _mep.get_mp_context = original
