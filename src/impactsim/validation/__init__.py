"""Analytic validation cases and the baseline-regression helpers.

Each case pairs an exact expected value with a ready scenario in which the engine should
reproduce it, so that the tests (``tests/test_validation.py``), the figures
(``scripts/validation_figures.py``) and the documentation (``docs/validation.md``) use the
same cases:

========================  ==========================================  =======================
case                      expected value                              scenario builder
========================  ==========================================  =======================
Bass diffusion            :func:`bass_cdf`, :func:`bass_peak_time`    :func:`bass_scenario`
normal cut-off shift      :func:`shifted_prevalence`,                 :func:`cutoff_scenario`
                          :func:`diluted_prevalence`,
                          :func:`public_impact_pp`
capacity-limited uptake   :func:`capacity_completions`                :func:`capacity_scenario`
effect decay              :func:`decayed_effect`                      :func:`decay_scenario`
Rogers categories         :func:`rogers_shares`                       :func:`rogers_scenario`
========================  ==========================================  =======================

The formulas need only numpy and scipy; the builders return validated
:class:`~impactsim.scenario.Scenario` objects (they import the schema, not the engine).
Tolerances are built from Monte Carlo standard errors (:func:`share_se`,
:func:`bass_sd`) plus, where the engine's time step makes the expected value differ from
the continuous-time formula, the exactly computed discretisation difference
(:func:`bass_discrete`, :func:`rogers_adoption_pmf`).

The second part of the module (``BASELINE_*``, :func:`compute_baseline`) computes the
headline numbers that ``tests/baseline.yaml`` pins down (see ``docs/validation.md``).

Modules: :mod:`~impactsim.validation.common` (tolerances, standard errors, scenario
builders), one per case (:mod:`~impactsim.validation.bass`,
:mod:`~impactsim.validation.cutoff`, :mod:`~impactsim.validation.capacity`,
:mod:`~impactsim.validation.decay`, :mod:`~impactsim.validation.rogers`) and
:mod:`~impactsim.validation.baseline`; every public name is importable from
``impactsim.validation``.
"""

from __future__ import annotations

from impactsim.validation.baseline import (
    BASELINE_METRICS,
    BASELINE_SETTINGS,
    BUILTIN_DEFAULT_KEY,
    baseline_scenario,
    baseline_sources,
    baseline_values,
    compare_values,
    compute_baseline,
)
from impactsim.validation.bass import (
    bass_cdf,
    bass_discrete,
    bass_pdf,
    bass_peak_time,
    bass_scenario,
    bass_sd,
    bass_tolerance,
)
from impactsim.validation.capacity import (
    capacity_completions,
    capacity_enrolments,
    capacity_scenario,
)
from impactsim.validation.common import (
    AT_ONCE_PER_MONTH,
    NEUTRAL_CATEGORIES,
    Z_TOLERANCE,
    ArrayLike,
    base_scenario_dict,
    build_scenario,
    mean_series,
    share_se,
)
from impactsim.validation.cutoff import (
    cutoff_scenario,
    diluted_prevalence,
    public_impact_pp,
    shifted_prevalence,
)
from impactsim.validation.decay import (
    decay_scenario,
    decayed_effect,
    effect_onset_month,
)
from impactsim.validation.rogers import (
    ROGERS_EDGES_SD,
    adopter_category_shares,
    normal_adoption_windows,
    rogers_adoption_pmf,
    rogers_scenario,
    rogers_shares,
)

__all__ = [
    "AT_ONCE_PER_MONTH",
    "BASELINE_METRICS",
    "BASELINE_SETTINGS",
    "BUILTIN_DEFAULT_KEY",
    "NEUTRAL_CATEGORIES",
    "ROGERS_EDGES_SD",
    "Z_TOLERANCE",
    "ArrayLike",
    "adopter_category_shares",
    "base_scenario_dict",
    "baseline_scenario",
    "baseline_sources",
    "baseline_values",
    "bass_cdf",
    "bass_discrete",
    "bass_pdf",
    "bass_peak_time",
    "bass_scenario",
    "bass_sd",
    "bass_tolerance",
    "build_scenario",
    "capacity_completions",
    "capacity_enrolments",
    "capacity_scenario",
    "compare_values",
    "compute_baseline",
    "cutoff_scenario",
    "decay_scenario",
    "decayed_effect",
    "diluted_prevalence",
    "effect_onset_month",
    "mean_series",
    "normal_adoption_windows",
    "public_impact_pp",
    "rogers_adoption_pmf",
    "rogers_scenario",
    "rogers_shares",
    "share_se",
    "shifted_prevalence",
]
