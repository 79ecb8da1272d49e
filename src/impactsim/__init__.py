"""impactsim: simulate how prevention programmes for parents spread and what they achieve.

Public impact = f(proven effect, use, reach). Typical use::

    import impactsim
    scenario = impactsim.load_scenario("scenarios/package.yaml")
    result = impactsim.run(scenario, replicates=100, seed=1)
    result.summary_stats().query("metric == 'public_impact_pp'")
    result.to_dir("outputs/package")

    # strategies for one municipality, compared with common random numbers
    cmp = impactsim.compare([free_market, package], baseline="free-market", replicates=100)
    print(cmp.table())

    # parameter uncertainty from a calibration: each replicate runs a posterior draw
    result = impactsim.run(scenario, posterior=impactsim.load_posterior("outputs/calibration"))
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from impactsim._version import __version__
    from impactsim.compare import CompareError, CompareResult, compare
    from impactsim.loading import ScenarioError, default_scenario, load_scenario
    from impactsim.posterior import Posterior, apply_posterior, load_posterior
    from impactsim.runner import RunResult, run
    from impactsim.scenario import Scenario

# The public names are imported on first use (PEP 562): `import impactsim` then costs
# milliseconds, and a process that only simulates never imports pandas or scipy.stats
# (nor importlib.metadata, about 60 ms, for the version).
_LAZY = {
    "__version__": "impactsim._version",
    "CompareError": "impactsim.compare",
    "CompareResult": "impactsim.compare",
    "compare": "impactsim.compare",
    "ScenarioError": "impactsim.loading",
    "default_scenario": "impactsim.loading",
    "load_scenario": "impactsim.loading",
    "Posterior": "impactsim.posterior",
    "apply_posterior": "impactsim.posterior",
    "load_posterior": "impactsim.posterior",
    "RunResult": "impactsim.runner",
    "run": "impactsim.runner",
    "Scenario": "impactsim.scenario",
}

__all__ = [
    "CompareError",
    "CompareResult",
    "Posterior",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "apply_posterior",
    "compare",
    "default_scenario",
    "load_posterior",
    "load_scenario",
    "run",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module when the name is first used."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'impactsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """The package module, keeping the function ``impactsim.compare``.

    Importing the submodule ``impactsim.compare`` binds the package attribute ``compare``
    to that module, which would hide the function of that name; the function stays.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "compare" and isinstance(value, types.ModuleType):
            value = value.compare
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
