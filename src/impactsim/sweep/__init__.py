"""Scenario sweeps: vary parameters over a design, run every point, analyse sensitivity.

Typical use::

    from impactsim.sweep import load_sweep, run_sweep, load_results, analyze

    report = run_sweep("scenarios/sweeps/example.yaml", "outputs/sweep", workers=2)
    results = load_results("outputs/sweep")
    results.data                       # tidy: point, parameters, replicate, metric, ..., value
    analyze(results, ["public_impact_pp"])["public_impact_pp"]   # Sobol S1/ST with CIs

See ``docs/sweeps.md``. Modules: :mod:`~impactsim.sweep.spec` (loading sweep files),
:mod:`~impactsim.sweep.schema` (their schema),
:mod:`~impactsim.sweep.sampling` (designs), :mod:`~impactsim.sweep.execute` (process pool,
Dask), :mod:`~impactsim.sweep.store` (directory, manifest), :mod:`~impactsim.sweep.taskfile`
(a task's file and its checks), :mod:`~impactsim.sweep.integrity` (checking a directory
before trusting it), :mod:`~impactsim.sweep.results`,
:mod:`~impactsim.sweep.sensitivity` (SALib), :mod:`~impactsim.sweep.plots`,
:mod:`~impactsim.sweep.cli`.
"""

from __future__ import annotations

import importlib
from typing import Any

# Exports are loaded on first use, so that worker processes, which import only
# impactsim.sweep.worker, do not pay for scipy, SALib or tqdm.
_EXPORTS = {
    "SweepReport": "execute",
    "run_sweep": "execute",
    "SweepResults": "results",
    "load_results": "results",
    "read_sweep": "results",
    "design": "sampling",
    "SensitivityError": "sensitivity",
    "analyze": "sensitivity",
    "morris_indices": "sensitivity",
    "sobol_indices": "sensitivity",
    "tornado_table": "sensitivity",
    "Sweep": "spec",
    "load_sweep": "spec",
    "parse_sweep": "spec",
    "SweepError": "store",
    "SweepFormatError": "store",
    "DamagedSweepError": "integrity",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'impactsim.sweep' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"impactsim.sweep.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "DamagedSweepError",
    "SensitivityError",
    "Sweep",
    "SweepError",
    "SweepFormatError",
    "SweepReport",
    "SweepResults",
    "analyze",
    "design",
    "load_results",
    "load_sweep",
    "morris_indices",
    "parse_sweep",
    "read_sweep",
    "run_sweep",
    "sobol_indices",
    "tornado_table",
]
