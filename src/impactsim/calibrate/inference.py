"""Likelihood-free Bayesian inference with pyabc: ABC-SMC with a stochastic acceptor.

The simulator (:class:`~impactsim.calibrate.simulator.Simulator`) is a black box: it
gives the targets' simulated values per Monte Carlo replicate. The observation models
(:func:`impactsim.calibrate.observation.replicate_log_likelihood`) turn those into a
log-likelihood of the observed data, and pyabc's ABC-SMC accepts each candidate with
probability ``exp((log L - log L_max) / T)`` (``pyabc.StochasticAcceptor``). The
temperature ``T`` falls from generation to generation (``pyabc.Temperature``); once it
reaches 1 the weighted particles are a sample of the posterior under the observation
models (Wilkinson 2013, "Approximate Bayesian computation gives exact results under the
assumption of model error"), and the run stops.

Every generation is stored in pyabc's SQLite database as it finishes; a calibration
that was killed continues from the last finished generation (:func:`run_abc`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from impactsim.calibrate.observation import max_log_likelihood, replicate_log_likelihood
from impactsim.calibrate.priors import Parameters, scipy_args
from impactsim.calibrate.schema import Target
from impactsim.calibrate.simulator import SIMULATED, Simulator

#: pyabc's loggers, quietened unless the caller asks for its messages.
PYABC_LOGGERS = ("ABC", "Sampler", "Epsilon", "Acceptor", "Distance", "History", "Adaptation")


def _pyabc() -> Any:
    import pyabc

    return pyabc


def make_kernel(targets: Sequence[Target]) -> Any:
    """The pyabc stochastic kernel: the observation models' joint log-likelihood.

    Args:
        targets: the targets, in the simulator's order.

    Returns:
        A ``pyabc.distance.StochasticKernel`` returning ``log L`` (log scale), with
        ``pdf_max`` the largest value any simulation could reach.
    """
    from pyabc.distance import SCALE_LOG, StochasticKernel

    class ObservationKernel(StochasticKernel):
        """Sum over targets of the observation log-likelihoods given the replicates."""

        def __init__(self, items: Sequence[Target]):
            pdf_max = float(sum(max_log_likelihood(t.observed) for t in items))
            super().__init__(ret_scale=SCALE_LOG, keys=[SIMULATED], pdf_max=pdf_max)
            self.items = list(items)

        def __call__(
            self, x: dict, x_0: dict, t: int | None = None, par: dict | None = None
        ) -> float:
            sim = np.asarray(x[SIMULATED], dtype=np.float64)
            return float(
                sum(
                    replicate_log_likelihood(tg.observed, sim[:, j])
                    for j, tg in enumerate(self.items)
                )
            )

    return ObservationKernel(targets)


def make_prior(params: Parameters) -> Any:
    """The joint prior as a ``pyabc.Distribution`` (independent parameters)."""
    pyabc = _pyabc()
    rvs = {}
    for p in params.items:
        name, args, kwargs = scipy_args(p.spec.prior)
        rvs[p.label] = pyabc.RV(name, *args, **kwargs)
    return pyabc.Distribution(**rvs)


def make_sampler(workers: int, scheduler: str | None = None) -> Any:
    """A pyabc sampler: one process, a local process pool, or a Dask cluster.

    Args:
        workers: processes evaluating candidates (1: in this process).
        scheduler: Dask scheduler address (``tcp://host:port``); overrides ``workers``.

    Returns:
        The sampler.
    """
    pyabc = _pyabc()
    if scheduler:
        from distributed import Client

        class ClusterSampler(pyabc.sampler.DaskDistributedSampler):
            """pyabc's Dask sampler on a client of its own, closed when the run ends."""

            def close(self) -> None:
                self.client.close()

        return ClusterSampler(dask_client=Client(scheduler))
    if workers > 1:
        from impactsim.calibrate.spawn import SpawnedPoolSampler

        return SpawnedPoolSampler(n_procs=workers)
    return pyabc.sampler.SingleCoreSampler()


@dataclass(frozen=True)
class Settings:
    """How the inference runs.

    Attributes:
        population: particles per generation.
        generations: ABC-SMC generations (the last one at temperature 1).
        seed: seed of pyabc's proposals and of the acceptance draws (one process only).
        workers: candidate-evaluating processes.
        scheduler: Dask scheduler address, or None.
    """

    population: int = 200
    generations: int = 8
    seed: int = 1
    workers: int = 1
    scheduler: str | None = None


def run_abc(
    sim: Simulator,
    params: Parameters,
    db: Path,
    settings: Settings,
    *,
    verbose: bool = False,
) -> Any:
    """Run ABC-SMC, or continue a run stored in ``db`` up to ``settings.generations``.

    Args:
        sim: the simulator.
        params: the calibrated parameters with their priors.
        db: pyabc's SQLite database (created, or continued when it holds finished
            generations).
        settings: population size, generations, seed and executors.
        verbose: let pyabc log its progress.

    Returns:
        The ``pyabc.History`` of the run.
    """
    for name in PYABC_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)
    sampler = make_sampler(settings.workers, settings.scheduler)
    try:
        return _run(sim, params, db, settings, sampler)
    finally:
        if hasattr(sampler, "close"):
            sampler.close()  # the spawned worker processes


def _run(sim: Simulator, params: Parameters, db: Path, settings: Settings, sampler: Any) -> Any:
    """:func:`run_abc` with its sampler."""
    pyabc = _pyabc()
    abc = pyabc.ABCSMC(
        models=sim,
        parameter_priors=make_prior(params),
        distance_function=make_kernel(sim.targets),
        population_size=settings.population,
        eps=pyabc.Temperature(),
        acceptor=pyabc.StochasticAcceptor(),
        sampler=sampler,
    )
    url = f"sqlite:///{db}"
    done = finished_generations(db)
    np.random.seed(settings.seed % 2**32)  # noqa: NPY002 - pyabc draws from the global generator
    if done:
        abc.load(url, 1)
    else:
        observed = np.array([t.observed.observed for t in sim.targets])
        abc.new(url, {SIMULATED: observed})
    if done < settings.generations and not reached_posterior(db):
        abc.run(max_nr_populations=settings.generations - done)
    return abc.history


def finished_generations(db: Path) -> int:
    """Generations stored in a pyabc database (0 when it does not exist or holds none)."""
    if not db.exists():
        return 0
    history = _pyabc().History(f"sqlite:///{db}")
    try:
        return max(int(history.max_t) + 1, 0)
    except (TypeError, ValueError):
        return 0


def reached_posterior(db: Path) -> bool:
    """True when the database's last generation ran at temperature 1 (nothing left to do)."""
    if not finished_generations(db):
        return False
    pops = _pyabc().History(f"sqlite:///{db}").get_all_populations()
    return bool(float(pops.loc[pops["t"].idxmax(), "epsilon"]) <= 1.0 + 1e-12)


def posterior_table(history: Any, labels: Sequence[str]) -> pd.DataFrame:
    """The last generation's particles: parameter columns, ``weight`` and ``generation``."""
    t = int(history.max_t)
    frame, weights = history.get_distribution(m=0, t=t)
    out = frame[list(labels)].reset_index(drop=True).astype(float)
    out["weight"] = np.asarray(weights, dtype=np.float64) / float(np.sum(weights))
    out["generation"] = t
    return out


def diagnostics_table(history: Any) -> pd.DataFrame:
    """Per generation: temperature, simulations, acceptance rate and effective sample size."""
    from pyabc.weighted_statistics import effective_sample_size

    pops = history.get_all_populations()
    rows = []
    for _, row in pops.loc[pops["t"] >= 0].iterrows():
        t = int(row["t"])
        _, w = history.get_distribution(m=0, t=t)
        samples = int(row["samples"])
        particles = int(row["particles"])
        rows.append(
            {
                "generation": t,
                "temperature": float(row["epsilon"]),
                "simulations": samples,
                "particles": particles,
                "acceptance_rate": particles / samples if samples else float("nan"),
                "ess": float(effective_sample_size(np.asarray(w, dtype=np.float64))),
            }
        )
    return pd.DataFrame(rows)
