"""The value of information about an optimisation's finalists.

Before committing to the recommended mix, which uncertainty would be worth resolving?
The feasible finalists are compared as strategies (:func:`impactsim.compare`, common
random numbers, the finalists' seed), and :func:`impactsim.voi.voi_table` gives the
EVPI and the EVPPI per group of uncertain parameters (Strong, Oakley and Brennan 2014),
in euros for the municipality, with offering nothing as an option.
"""

from __future__ import annotations

import warnings

import pandas as pd

from impactsim.compare import CompareResult, compare
from impactsim.optimize.outputs import recommended_scenario
from impactsim.optimize.result import OptimizationResult
from impactsim.voi import VOIWarning, voi_table


def finalist_label(rank: int, recommended: bool) -> str:
    """The name of a finalist in the comparison (``finalist-1``, ...)."""
    return f"finalist-{rank}" + ("-recommended" if recommended else "")


def finalists_comparison(result: OptimizationResult, replicates: int) -> CompareResult | None:
    """The main search's feasible finalists compared with common random numbers.

    Returns:
        None when fewer than one feasible finalist exists.
    """
    stage = result.main
    scenarios = {}
    for rank, f in enumerate(stage.finalists, start=1):
        if f.feasible:
            sc = recommended_scenario(result, f)
            label = finalist_label(rank, f is stage.best)
            scenarios[label] = sc.model_copy(update={"name": label})
    if not scenarios:
        return None
    extra = {} if result.opt.posterior is None else {"posterior": result.opt.posterior}
    seed = result.info["finalist_seed"]
    return compare(scenarios, replicates=replicates, seed=seed, progress=False, **extra)


def finalists_voi(result: OptimizationResult) -> tuple[CompareResult | None, pd.DataFrame]:
    """EVPI and EVPPI of choosing among the finalists (an empty table when there is none)."""
    spec = result.opt.spec.value_of_information
    if spec is None:
        return None, pd.DataFrame()
    cmp = finalists_comparison(result, spec.replicates)
    if cmp is None:
        return None, pd.DataFrame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VOIWarning)  # the report says so itself
        return cmp, voi_table(cmp)
