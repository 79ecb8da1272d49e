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
"""

from impactsim._version import __version__
from impactsim.compare import CompareError, CompareResult, compare
from impactsim.loading import ScenarioError, default_scenario, load_scenario
from impactsim.runner import RunResult, run
from impactsim.scenario import Scenario

__all__ = [
    "CompareError",
    "CompareResult",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "compare",
    "default_scenario",
    "load_scenario",
    "run",
]
