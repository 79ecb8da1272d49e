"""Sweeps on a Dask LocalCluster (2 worker processes, 1 thread each).

* a worker killed mid-sweep: the sweep completes, 0 rows lost, 0 duplicated;
* the driver killed mid-sweep (a real process, SIGKILL): re-running resumes and gives the
  same table as a clean run;
* 1 worker and 2 workers give identical tables.
"""

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml
from distributed import Client, LocalCluster

from helpers import base_dict
from impactsim.sweep import load_results, parse_sweep, run_sweep

N_TASKS = 12


def sweep_dict(replicates: int = 4) -> dict:
    return {
        "name": "dask-test",
        "base": base_dict(size=25_000, months=24),
        "parameters": [
            {
                "path": "interventions.prog.effect_size.mean",
                "name": "effect",
                "values": [0.2, 0.35, 0.5],
            },
            {
                "path": "population.segments.all_parents.baseline_prevalence",
                "name": "prev",
                "values": [0.1, 0.2],
            },
        ],
        "sampler": {"method": "grid"},
        "replicates": replicates,
        "replicates_per_task": 2,
        "seed": 3,
        "outputs": {"metrics": ["public_impact_pp", "reach_cumulative", "prevalence"]},
    }


def check_complete(data: pd.DataFrame, replicates: int = 4) -> None:
    assert len(data) == 6 * replicates * 3  # 0 rows lost
    assert not data.duplicated(["point", "replicate", "metric"]).any()  # 0 duplicated


@pytest.fixture(scope="module")
def cluster():
    lc = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # a free port: several clusters may run at once
        env={"NUMBA_NUM_THREADS": "1"},
    )
    client = Client(lc)
    try:
        client.wait_for_workers(2, timeout=120)
        yield lc, client
    finally:
        client.close()
        lc.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "ref"
    run_sweep(parse_sweep(sweep_dict()), out, workers=0, progress=False)
    return load_results(out).data


def test_killed_worker_loses_and_duplicates_nothing(tmp_path, cluster, reference):
    _, client = cluster
    client.wait_for_workers(2, timeout=120)
    killed = {}
    finished = []

    def kill_a_busy_worker(rec):
        finished.append(rec.task)
        if killed:
            return
        busy = [w for w, keys in client.processing().items() if keys]
        if not busy:
            return  # try again when the next task finishes
        pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
        os.kill(pid, signal.SIGKILL)
        killed.update(worker=busy[0], pid=pid, after=len(finished))

    report = run_sweep(
        parse_sweep(sweep_dict()),
        tmp_path / "k",
        client=client,
        on_task_done=kill_a_busy_worker,
        progress=False,
    )
    assert killed, "no worker was busy when tasks finished"
    assert killed["after"] < N_TASKS  # killed mid-sweep, with tasks on it
    assert (report.done, report.failed, report.pending) == (N_TASKS, 0, 0)
    data = load_results(tmp_path / "k").data
    check_complete(data)
    pd.testing.assert_frame_equal(data, reference)


def test_killed_driver_resumes_to_the_clean_result(tmp_path, cluster, reference):
    lc, client = cluster
    client.wait_for_workers(2, timeout=120)
    file = tmp_path / "sweep.yaml"
    file.write_text(yaml.safe_dump(sweep_dict(replicates=8)))
    out = tmp_path / "out"
    log = open(tmp_path / "driver.log", "w")  # closed below
    cmd = [sys.executable, "-m", "impactsim.sweep.cli", "sweep", str(file), "--out", str(out)]
    cmd += ["--scheduler", lc.scheduler_address, "--quiet"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while len(list((out / "tasks").glob("*.parquet"))) < 3:
            assert proc.poll() is None, (tmp_path / "driver.log").read_text()
            assert time.monotonic() < deadline, "driver made no progress"
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the driver's own process group
        proc.wait(timeout=60)
        log.close()
    assert proc.returncode == -signal.SIGKILL
    present = len(list((out / "tasks").glob("*.parquet")))
    total = 6 * 4  # 6 points x 4 blocks of 2 replicates
    assert 3 <= present < total, present

    report = run_sweep(file, out, client=client, progress=False)
    assert (report.skipped, report.ran, report.done, report.failed) == (
        present,
        total - present,
        total,
        0,
    )
    data = load_results(out).data
    check_complete(data, replicates=8)
    # a clean run of the same sweep
    clean = run_sweep(file, tmp_path / "clean", client=client, progress=False)
    assert clean.done == total
    pd.testing.assert_frame_equal(data, load_results(tmp_path / "clean").data)
    # replicates 0-3 are those of the 4-replicate reference: blocks split nothing
    first4 = data[data["replicate"] < 4].reset_index(drop=True)
    pd.testing.assert_frame_equal(first4, reference)


def test_one_and_two_workers_identical(tmp_path, cluster, reference):
    _, client = cluster
    client.wait_for_workers(2, timeout=120)
    sweep = parse_sweep(sweep_dict())
    one_worker = sorted(client.nthreads())[0]
    executor = client.get_executor(workers=[one_worker], allow_other_workers=False, pure=False)
    one = run_sweep(sweep, tmp_path / "one", executor=executor, max_in_flight=2, progress=False)
    two = run_sweep(sweep, tmp_path / "two", client=client, progress=False)
    assert one.done == two.done == N_TASKS
    m1, m2 = load_results(tmp_path / "one").manifest, load_results(tmp_path / "two").manifest
    assert m1["worker"].nunique() == 1
    assert m2["worker"].nunique() == 2
    pd.testing.assert_frame_equal(load_results(tmp_path / "one").data, reference)
    pd.testing.assert_frame_equal(load_results(tmp_path / "two").data, reference)


def test_an_optimisation_on_the_cluster_equals_one_in_process(tmp_path, cluster):
    """The optimiser's evaluations on Dask workers: the same trials as in the driver."""
    from impactsim.optimize import optimize, parse_optimization
    from test_optimize import optimisation

    _lc, client = cluster
    doc = optimisation(search={"trials": 8, "batch": 4}, finalists={"count": 2, "replicates": 8})
    on_dask = optimize(parse_optimization(doc), tmp_path / "dask", client=client)
    serial = optimize(parse_optimization(doc), tmp_path / "serial", workers=0)
    assert on_dask.info["backend"].startswith("Dask")
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "dask" / "trials.parquet"),
        pd.read_parquet(tmp_path / "serial" / "trials.parquet"),
    )
    assert on_dask.main.best.values == serial.main.best.values


def test_a_calibration_evaluates_its_candidates_on_the_cluster(tmp_path, cluster):
    """``--scheduler``: pyabc's Dask sampler submits every candidate to the cluster's workers.

    Expected: a task per candidate pyabc counted as evaluated (its ``simulations``, less
    at most one in flight per worker thread and generation, cancelled when enough were
    accepted), recorded by the scheduler's task stream; the run reaches temperature 1
    and writes a posterior of its 6 particles.
    """
    from distributed import get_task_stream

    from impactsim.calibrate.inference import Settings
    from impactsim.calibrate.run import calibrate, load_inputs
    from test_calibrate import write_inputs

    lc, client = cluster
    inputs = load_inputs(*write_inputs(tmp_path, 30, 100))
    settings = Settings(population=6, generations=2, seed=1, scheduler=lc.scheduler_address)
    with get_task_stream(client) as stream:
        res = calibrate(inputs, tmp_path / "out", settings, replicates=1, ppc_draws=5)
    # one or two generations: the order of evaluations on a cluster varies, and a first
    # generation that already runs at temperature 1 ends the run
    assert res.info["status"] == "done" and res.info["generations"] in (1, 2)
    assert res.diagnostics["temperature"].iloc[-1] == pytest.approx(1.0)
    assert len(res.posterior) == 6
    workers = {t["worker"] for t in stream.data}
    assert len(stream.data) >= res.info["simulations"] - 2 * len(lc.workers)
    assert workers <= set(lc.scheduler_info["workers"]) and workers
