"""The runner's first run: it says that it compiles, and compiles before any replicate."""

from __future__ import annotations

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
