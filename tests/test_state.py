"""The engine's bundles (``engine.state``): documented dtypes and shapes, one numba type.

``state.py`` documents each array field as ``# [shape] dtype ...``. The bundles the
``simulate`` builders make for a small scenario must have those shapes (the symbols
evaluated for the scenario: N parents, K interventions, S segments, ...) and dtypes, and
be C-contiguous and writeable: numba types an array by dtype, dimensions, layout and
mutability, so a bundle's numba type, and with it each kernel's compiled signature, must
not depend on the scenario. That is checked on two scenarios that differ in everything
a scenario can vary (sizes, network kind, time step, turnover, follow-ups, spillover).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numba
import numpy as np
import pytest

from helpers import base_dict, build, engine_bundles
from impactsim.engine import state, steps, uptake
from impactsim.engine.layout import ROW_N, count_rows
from impactsim.engine.simulate import simulate_replicate
from impactsim.engine.spec import compile_scenario
from impactsim.rng import replicate_key

BUILT = ("Parents", "Population", "Network", "Channels", "Interventions", "Providers", "Records")


def small() -> dict:
    """Tiny, and fully mixed: one segment, one channel, one intervention, monthly steps."""
    return base_dict(size=300, months=3)


def varied() -> dict:
    """Three segments, two channels, two interventions (a follow-up with spillover), a
    random network, half-month steps, turnover and places per month."""
    d = base_dict(size=700, months=5)
    d["simulation"]["dt_months"] = 0.5
    seg = d["population"]["segments"][0]
    d["population"]["segments"] = [
        {**seg, "name": "a", "share": 0.5, "baseline_prevalence": 0.1},
        {**seg, "name": "b", "share": 0.3, "baseline_prevalence": 0.2},
        {**seg, "name": "c", "share": 0.2, "baseline_prevalence": 0.3},
    ]
    d["population"]["network"] = {"kind": "random", "mean_degree": 6, "homophily": 0.5}
    d["population"]["turnover_rate_per_month"] = 0.05
    d["channels"].append({"name": "school", "referral_strength": 0.5})
    d["providers"][0]["capacity_per_month"] = 20
    d["providers"].append({"name": "teams", "count": 3, "fidelity": 0.7})
    d["interventions"][0]["spillover_fraction"] = 0.2
    d["interventions"][0]["imitation_rate_per_month"] = 0.3
    d["interventions"].append(
        {
            "name": "booster",
            "duration_months": 1,
            "effect_size": {"mean": 0.2, "sd": 0.1},
            "follow_up": {"after": "prog", "delay_months": 1, "referral_rate_per_month": 0.5},
        }
    )
    d["strategy"]["offers"].append(
        {"intervention": "booster", "channels": ["campaign", "school"], "providers": ["teams"]}
    )
    return d


def documented_fields() -> dict[str, dict[str, tuple[str, str, str]]]:
    """Per bundle: field -> (annotation, shape expression or "", dtype word or "")."""
    source = Path(state.__file__).read_text(encoding="utf-8")
    lines = source.splitlines()
    out: dict[str, dict[str, tuple[str, str, str]]] = {}
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields = {}
        for item in node.body:
            if isinstance(item, ast.AnnAssign):
                name, annotation = item.target.id, ast.unparse(item.annotation)
                comment = lines[item.lineno - 1].partition("#")[2].strip()
                m = re.match(r"(?:\[([^\]]*)\])?\s*(\w*)", comment)
                fields[name] = (annotation, m.group(1) or "", m.group(2))
        out[node.name] = fields
    return out


def symbols(eng) -> dict[str, int]:
    """The values of the symbols the shape comments use, for this replicate."""
    spec = eng.spec
    n_iv, n_pseudo = spec.n_interventions, spec.n_channels + 2
    return {
        "N": spec.n_parents,
        "K": n_iv,
        "S": spec.n_cells,  # the engine's segments: cells (neighbourhood, segment)
        "H": spec.nbh_share.shape[0],  # neighbourhoods (1 without)
        "A": 5,
        "C": spec.n_channels,
        "R": eng.channels.r_promote.shape[0],
        "T": spec.n_steps,
        "E": int(eng.network.nbr_off[-1]),
        "NP": spec.prov_type.shape[0],
        "P": len(spec.provider_type_names),
        "M": spec.n_months,
        "chunks": eng.bounds.shape[0] - 1,
        "rows": count_rows(n_iv, 5, n_pseudo)[-1],
        "O": len(spec.outcome_names),
        "NU": spec.n_parents if len(spec.outcome_names) > 1 else 0,
    }


def mismatches(eng) -> list[str]:
    """Every field of the built bundles that differs from its documentation."""
    docs = documented_fields()
    sym = symbols(eng)
    bad = []
    for cls in BUILT:
        bundle = getattr(eng, cls.lower())
        assert list(docs[cls]) == list(bundle._fields), cls  # the comments cover every field
        for name, (annotation, shape, dtype) in docs[cls].items():
            value = getattr(bundle, name)
            where = f"{cls}.{name}"
            if annotation != "np.ndarray":
                # scalars: a Python float, bool or int (numba: float64, boolean, int64)
                if type(value).__name__ != annotation:
                    bad.append(f"{where}: {type(value).__name__}, documented {annotation}")
                continue
            assert shape, f"{where}: no documented shape"
            want = eval(f"({shape},)", {}, sym)  # e.g. "M + 1, K, S"
            if value.shape != want:
                bad.append(f"{where}: shape {value.shape}, documented [{shape}] = {want}")
            if dtype == "int":
                ok = np.issubdtype(value.dtype, np.integer)
            elif dtype and hasattr(np, dtype):
                ok = value.dtype == np.dtype(dtype)
            else:
                ok = True  # a description, no dtype
            if not ok:
                bad.append(f"{where}: dtype {value.dtype}, documented {dtype}")
            if not (value.flags.c_contiguous and value.flags.writeable):
                bad.append(f"{where}: not a writeable C-contiguous array")
    return bad


def test_the_documentation_is_parsed():
    docs = documented_fields()
    assert docs["Parents"]["status"] == ("np.ndarray", "N, K", "int8")
    assert docs["Records"]["rec_cnt"] == ("np.ndarray", "M + 1, rows, S", "")
    assert docs["Population"]["turn_rate"][0] == "float"  # a scalar
    assert docs["Interventions"]["dur_steps"] == ("np.ndarray", "K", "int")


def test_builders_give_the_documented_dtypes_and_shapes():
    eng = engine_bundles(varied())
    sym = symbols(eng)
    # the scenario's sizes, by hand: 700 parents in 2 chunks of >= 256, 3 segments,
    # 2 interventions, 2 channels, 1 + 3 organisations of 2 types, 10 half-month steps
    assert (sym["N"], sym["chunks"], sym["S"], sym["K"], sym["C"]) == (700, 2, 3, 2, 2)
    assert (sym["NP"], sym["P"], sym["T"], sym["M"]) == (4, 2, 10, 5)
    assert sym["E"] > 0  # a random network
    assert not mismatches(eng)


def test_builders_give_the_documented_shapes_with_three_outcomes():
    d = varied()
    segs = [s["name"] for s in d["population"]["segments"]]
    d["outcomes"] = [
        {"name": n, "baseline_prevalence": dict.fromkeys(segs, p)}
        for n, p in (("behaviour", 0.15), ("emotional", 0.1), ("parent_mental", 0.2))
    ]
    eng = engine_bundles(d)
    assert symbols(eng)["O"] == 3
    assert eng.parents.x_score.shape == (2, 700)
    assert not mismatches(eng)


def _numba_types(eng) -> dict[str, object]:
    return {cls: numba.typeof(getattr(eng, cls.lower())) for cls in BUILT}


def test_bundles_of_different_scenarios_have_one_numba_type():
    a, b = engine_bundles(small()), engine_bundles(varied())
    assert a.network.fully_mixed and not b.network.fully_mixed
    assert a.spec.n_interventions != b.spec.n_interventions
    assert _numba_types(a) == _numba_types(b)
    assert numba.typeof(a.step(0)) == numba.typeof(b.step(0))
    assert numba.typeof(a.scratch) == numba.typeof(b.scratch)


def _call_kernels(eng) -> None:
    """Step 0 through the kernels, with the argument types the engine uses.

    Only the kernels' signatures are looked at afterwards, not the state the calls leave.
    """
    step = eng.step(0)
    p = eng.parents
    bundles = (p, eng.population, eng.network, eng.channels, eng.interventions, eng.providers)
    steps.step_parents(step, eng.bounds, *bundles, eng.scratch, eng.records.s_cnt, 1)
    hits = np.empty(int(np.diff(eng.bounds).max()), np.int64)  # a worker's list of due parents
    steps.parents_chunk(0, step, eng.bounds, *bundles, eng.scratch, eng.records.s_cnt, hits)
    i, k = 0, 0
    # as parents_chunk calls it: status, segment and category read from the int8 arrays
    uptake.candidate_step(
        i,
        k,
        0,
        1,
        p.status[i, k],
        p.segment[i],
        p.category[i],
        eng.step(1),
        *bundles,
        eng.scratch,
        eng.records.s_cnt,
    )


def test_each_kernel_is_compiled_once_for_every_scenario():
    kernels = [steps.run_steps, steps.step_parents, steps.parents_chunk, uptake.candidate_step]
    for d, seed in ((small(), 3), (varied(), 4)):
        simulate_replicate(compile_scenario(build(d)), replicate_key(seed, 0))
        # called from Python too: a kernel loaded from numba's cache as part of run_steps
        # is not registered with its own dispatcher
        _call_kernels(engine_bundles(d, seed))
    for kernel in kernels:
        assert len(kernel.signatures) == 1, (kernel.__name__, kernel.signatures)


@pytest.mark.parametrize("make", [small, varied])
def test_builders_fill_the_documented_state_before_the_first_step(make):
    # what docs/model.md and state.py say a new replicate starts with: nobody aware, no
    # history (-1 / 0), exit steps and first candidates after step -1
    eng = engine_bundles(make())
    p = eng.parents
    assert (p.status == 0).all() and (p.first_channel == -1).all() and (p.adopt_step == -1).all()
    assert (p.ref_channel == -1).all() and not p.effect.any() and not p.spill.any()
    assert (p.t_exit >= 0).all() and (p.t_next >= 0).all()
    np.testing.assert_array_equal(p.t_due, np.minimum(p.t_exit, p.t_next.min(axis=1)))
    # the stock counts: every parent present once, in its segment
    np.testing.assert_array_equal(
        eng.counts()[ROW_N], np.bincount(p.segment, minlength=eng.spec.n_segments)
    )
