"""Optimisation: the best mix of programmes, places, channels and start months for a budget.

Typical use::

    from impactsim.optimize import load_optimization, optimize

    opt = load_optimization("scenarios/optimize/library-town.yaml")
    result = optimize(opt, "outputs/optimize", workers=2)
    result.main.best.values            # the recommended mix's decisions
    result.main.finalists              # re-evaluated finalists with P(best)

See ``docs/optimization.md``. Modules: :mod:`~impactsim.optimize.schema` (the file),
:mod:`~impactsim.optimize.spec` (loading it), :mod:`~impactsim.optimize.mix` (decisions
into a scenario), :mod:`~impactsim.optimize.evaluate` (running candidates),
:mod:`~impactsim.optimize.search` (Optuna), :mod:`~impactsim.optimize.finalists`
(re-evaluation, P(best)), :mod:`~impactsim.optimize.run` (the whole optimisation),
:mod:`~impactsim.optimize.outputs`, :mod:`~impactsim.optimize.plots`,
:mod:`~impactsim.optimize.report`, :mod:`~impactsim.optimize.cli`.
"""

from __future__ import annotations

import importlib
from typing import Any

# Exports are loaded on first use, so that the command line does not import optuna.
_EXPORTS = {
    "OptimizationError": "run",
    "OptimizationResult": "result",
    "optimize": "run",
    "Optimization": "spec",
    "load_optimization": "spec",
    "parse_optimization": "spec",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'impactsim.optimize' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"impactsim.optimize.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = sorted(_EXPORTS)
