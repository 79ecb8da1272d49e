"""The runner's first run: it says that it compiles, and compiles before any replicate."""

from __future__ import annotations

import numpy as np

import impactsim
import impactsim.runner as runner
from helpers import base_dict, build
from impactsim.engine import simulate


def test_engine_compiled_after_a_run():
    impactsim.run(build(base_dict(size=300, months=3)), replicates=1, progress=False)
    # compiled in this process (or loaded from numba's cache): a run says nothing more
    assert simulate.engine_compiled()


def test_first_run_says_it_compiles_then_warms_up_before_replicates(monkeypatch, capsys):
    events: list[str] = []
    monkeypatch.setattr(runner, "engine_compiled", lambda: False)
    monkeypatch.setattr(runner, "warm_up", lambda spec: events.append(f"warm_up {spec.n_parents}"))
    real = runner.simulate_replicate

    def replicate(spec, key, **kw):
        events.append("replicate")
        return real(spec, key, **kw)

    monkeypatch.setattr(runner, "simulate_replicate", replicate)
    impactsim.run(build(base_dict(size=300, months=3)), replicates=2, parallel="parents")
    err = capsys.readouterr().err
    assert runner.COMPILING_MESSAGE in err
    # the message comes before the progress bar, the warm-up before the first replicate
    assert err.index(runner.COMPILING_MESSAGE) == err.find("compiling")
    assert events == ["warm_up 300", "replicate", "replicate"]


def test_quiet_run_prints_nothing_when_compiling(monkeypatch, capsys):
    monkeypatch.setattr(runner, "engine_compiled", lambda: False)
    impactsim.run(build(base_dict(size=300, months=3)), replicates=1, progress=False)
    assert capsys.readouterr().err == ""


def test_warm_up_simulates_a_small_copy_of_the_scenario(monkeypatch):
    from impactsim.engine.spec import compile_scenario

    seen = []
    monkeypatch.setattr(simulate, "simulate_replicate", lambda spec, key: seen.append(spec))
    spec = compile_scenario(build(base_dict(size=5000, months=6)))
    simulate.warm_up(spec)
    assert [s.n_parents for s in seen] == [simulate.WARM_UP_PARENTS]
    assert seen[0].n_steps == spec.n_steps  # the same kernels and argument types


def test_loop_arguments_have_the_engines_types():
    # warm_up compiles step_parents, step_sequential and record_month for these types
    # before any replicate: they must be those the engine passes (helpers.Engine builds
    # them as run_steps does; test_state checks those against run_steps)
    from helpers import engine_bundles
    from impactsim.engine.state import Queues
    from test_state import varied

    eng = engine_bundles(varied())
    par, seq, rec = simulate.loop_arguments(eng.spec)
    p, r = eng.parents, eng.records
    bundles = (p, eng.population, eng.network, eng.channels, eng.interventions, eng.providers)
    n_iv, n_seg = eng.spec.n_interventions, eng.spec.n_segments
    queues = Queues(
        np.zeros((n_iv, 4), np.int32), np.zeros((n_iv, 4), np.int16), np.zeros(n_iv, np.int64)
    )
    new = np.zeros((n_iv, n_seg), np.int64)
    seq_bundles = (p, eng.network, eng.interventions, eng.providers, queues, eng.scratch)
    rec_out = (
        r.rec_cnt[1],
        r.rec_gain[1],
        r.rec_x_cnt[1],
        r.rec_x_gain[1],
        r.providers_offering[1],
        False,
    )
    expected = (
        (eng.step(0), eng.bounds, *bundles, eng.scratch, r.s_cnt, 2),
        (5, eng.bounds, *seq_bundles, r.s_cnt, new, new, 2),
        (
            eng.spec.n_steps,
            eng.bounds,
            *bundles[:2],
            eng.interventions,
            r.s_cnt,
            eng.providers.prov_state,
            *rec_out,
        ),
    )
    for args, want in zip((par, seq, rec), expected, strict=True):
        assert simulate._types(args) == simulate._types(want)


def test_warm_up_helper_process_compiles_into_the_cache():
    import pickle
    import subprocess
    import sys

    from impactsim.engine.spec import compile_scenario

    spec = compile_scenario(build(base_dict(size=300, months=3)))
    cmd = [sys.executable, "-c", simulate.HELPER_CODE]
    proc = subprocess.run(cmd, input=pickle.dumps(spec), capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
