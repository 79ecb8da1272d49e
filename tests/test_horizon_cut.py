"""A shorter horizon simulates the same first months, bit for bit.

Every random number is keyed by (seed, replicate, stream, family, step), never by the
horizon, so a run of ``m`` months is the first ``m`` months of a longer run. The
calibration relies on it: a candidate runs only as long as its targets read
(:func:`impactsim.calibrate.simulator.months_needed`). Checked on every golden variant
(together they exercise every mechanism, ``tests/golden/harness.py``).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "golden"))

import harness

from impactsim.engine.simulate import simulate_replicate
from impactsim.engine.spec import compile_scenario
from impactsim.loading import parse_scenario
from impactsim.rng import replicate_key

#: Whole-run figures that depend on the horizon by definition (enrolments per organisation
#: over the run, adoption classes of the adopters present at the horizon).
WHOLE_RUN = {"provider_enrol", "adoption_realized"}


def _recording(data: dict, name: str, months: int):
    cut = dict(data, simulation=dict(data["simulation"], months=months))
    spec = compile_scenario(parse_scenario(cut, name))
    return simulate_replicate(spec, replicate_key(harness.SEED, 1))


@pytest.mark.parametrize("variant", harness.VARIANTS, ids=lambda v: v.name)
def test_shorter_horizon_gives_the_first_months(variant):
    data = harness.scenario_data(variant)
    full_months = data["simulation"]["months"]
    cut = max(1, full_months // 2)
    starts = [o.get("start_month", 0) for o in data.get("strategy", {}).get("offers", [])]
    if any(s >= cut for s in starts):
        cut = max(starts) + 1  # keep every offer within the shorter run
    assert cut < full_months
    full = _recording(data, variant.name, full_months)
    short = _recording(data, variant.name, cut)
    compared = 0
    for f in dataclasses.fields(full):
        a, b = getattr(full, f.name), getattr(short, f.name)
        if f.name in WHOLE_RUN:
            continue
        if a.ndim and a.shape[0] == full_months + 1:  # monthly: the first cut + 1 months
            a = a[: cut + 1]
        np.testing.assert_array_equal(a, b, err_msg=f"{variant.name}: {f.name}")
        compared += 1
    assert compared >= 25
