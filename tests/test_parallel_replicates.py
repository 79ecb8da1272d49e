"""Replicates side by side (one per numba thread) give the numbers of one at a time.

The expected values come from the same replicates simulated one at a time with
:func:`impactsim.engine.simulate.simulate_replicate`: a replicate's numbers depend only on
its key (seed, replicate), so running it on another thread, next to another replicate,
must not change a single count.
"""

from __future__ import annotations

import json
import re
import threading
import time

import numba
import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import impactsim
import impactsim.runner as runner
from helpers import base_dict, build
from impactsim.cli import app
from impactsim.engine.simulate import PARALLEL_MIN_PARENTS, Cancelled, simulate_replicate
from impactsim.engine.spec import compile_scenario
from impactsim.loading import default_scenario
from impactsim.resources import MemoryLimitError, estimate_memory
from impactsim.rng import replicate_key


def municipality(size: int = PARALLEL_MIN_PARENTS + 2_000, months: int = 24) -> impactsim.Scenario:
    """The default municipality, small: large enough that one-at-a-time replicates use the
    parent-parallel kernels (``PARALLEL_MIN_PARENTS``), so both code paths are compared."""
    data = default_scenario().model_dump()
    data["population"]["size"] = size
    data["simulation"]["months"] = months
    return build(data)


def recordings_equal(a, b) -> None:
    for name, x in vars(a).items():
        y = getattr(b, name)
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y), name
        else:
            assert x == y, name


def test_run_side_by_side_equals_one_at_a_time():
    sc = municipality()
    one = impactsim.run(sc, replicates=5, seed=11, progress=False, parallel="parents")
    side = impactsim.run(sc, replicates=5, seed=11, progress=False, parallel="replicates")
    assert one.replicate_workers == 1
    assert side.replicate_workers == min(numba.get_num_threads(), 5)
    assert side.run_info()["replicate_workers"] == side.replicate_workers
    pd.testing.assert_frame_equal(one.summary, side.summary)
    pd.testing.assert_frame_equal(one.timeseries, side.timeseries)
    for a, b in zip(one.recordings, side.recordings, strict=True):
        recordings_equal(a, b)


def test_simulate_all_runs_a_multiple_side_by_side_and_the_rest_alone(monkeypatch):
    """7 replicates on 3 workers: 6 on worker threads (one numba thread each), 1 in the
    calling thread; ``done`` sees them in replicate order with the sequential numbers."""
    sc = municipality(size=3_000, months=12)
    spec = compile_scenario(sc)
    where: list[tuple[str, int]] = []
    real = runner.simulate_replicate

    def spy(spec, key, *args, **kwargs):
        rec = real(spec, key, *args, **kwargs)
        where.append((threading.current_thread().name, numba.get_num_threads()))
        return rec

    monkeypatch.setattr(runner, "simulate_replicate", spy)
    seen: list[int] = []
    recs = []

    def done(r, rec):
        seen.append(r)
        recs.append(rec)

    runner._simulate_all(spec, 4, range(10, 17), 3, done)
    assert seen == list(range(10, 17))
    names = [w[0] for w in where]
    assert sum(n.startswith("impactsim-replicate") for n in names) == 6
    assert names[-1] == threading.current_thread().name  # the seventh, in the caller
    assert all(w[1] == 1 for w in where if w[0].startswith("impactsim-replicate"))
    for r, rec in zip(range(10, 17), recs, strict=True):
        recordings_equal(rec, real(spec, replicate_key(4, r)))


@pytest.mark.parametrize(
    ("replicates", "parallel", "threads", "expected"),
    [
        (10, "replicates", 2, 2),
        (10, "auto", 4, 4),
        (3, "auto", 8, 3),  # no more workers than replicates
        (1, "auto", 2, 1),
        (10, "parents", 2, 1),
        (10, "auto", 1, 1),
    ],
)
def test_replicate_workers(replicates, parallel, threads, expected):
    assert runner.replicate_workers(replicates, parallel, threads) == expected


def test_replicate_workers_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="parallel must be 'auto', 'replicates' or 'parents'"):
        runner.replicate_workers(4, "threads")  # type: ignore[arg-type]


def test_auto_falls_back_to_one_at_a_time_when_two_do_not_fit_the_memory_limit():
    if numba.get_num_threads() < 2:
        pytest.skip("needs at least 2 numba threads")
    d = base_dict(size=50_000, months=12)
    d["population"]["network"] = {"kind": "random", "mean_degree": 10.0, "homophily": 0.5}
    sc = build(d)
    one = estimate_memory(sc, 2, concurrent=1).total
    two = estimate_memory(sc, 2, concurrent=2).total
    # precondition: the second replicate in flight adds its engine peak (x 1.2 slack)
    assert two - one == pytest.approx(1.2 * estimate_memory(sc, 2).engine_peak, rel=0.01)
    limit = (one + two) // 2
    result = impactsim.run(sc, replicates=2, progress=False, memory_limit=limit)
    assert result.replicate_workers == 1
    with pytest.raises(MemoryLimitError) as err:
        impactsim.run(sc, replicates=2, progress=False, memory_limit=limit, parallel="replicates")
    assert "network of mean degree 10), 2 side by side" in str(err.value)
    assert "  - one replicate at a time (--parallel parents or auto), not 2 side by side" in str(
        err.value
    )


def test_a_set_cancel_stops_a_replicate():
    spec = compile_scenario(municipality(size=2_000, months=12))
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled, match="replicate cancelled at step 0 of 12"):
        simulate_replicate(spec, replicate_key(1, 0), cancel=cancel)


def test_an_error_in_the_caller_starts_no_further_replicate(monkeypatch):
    """``done`` raising (as Ctrl-C does) cancels the replicates not yet started; those
    running stop at their next block. Each replicate here takes at least 0.2 s, so at most
    the two running plus two picked up meanwhile can have started, never all 12."""
    # 7 months: the default municipality offers home visits from month 6
    spec = compile_scenario(municipality(size=500, months=7))
    started: list[int] = []
    real = runner.simulate_replicate

    def slow(spec, key, *args, **kwargs):
        started.append(1)
        time.sleep(0.2)
        return real(spec, key, *args, **kwargs)

    monkeypatch.setattr(runner, "simulate_replicate", slow)

    def done(r, rec):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runner._simulate_all(spec, 1, range(12), 2, done)
    assert 2 <= len(started) <= 4


def test_cli_parallel_option(tmp_path):
    path = tmp_path / "s.yaml"
    d = base_dict(size=1_000, months=6)
    path.write_text(yaml.safe_dump(d))
    cli = CliRunner()
    out = tmp_path / "out"
    res = cli.invoke(
        app, ["run", str(path), "-q", "-r", "3", "--parallel", "parents", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert json.loads((out / "run.json").read_text())["replicate_workers"] == 1
    bad = cli.invoke(app, ["run", str(path), "--parallel", "threads", "-o", str(tmp_path / "x")])
    assert bad.exit_code == 2
    text = " ".join(re.sub("[│╭╮╰╯─]", " ", bad.output).split())  # rich's box, wrapped
    assert "'threads' is not one of 'auto', 'replicates', 'parents'" in text
