"""impactsim benchmarks: engine throughput, Mesa reference, memory, start-up, Monte Carlo rate.

`make bench` runs this script. Every measurement of one invocation is taken on the same
machine in the same run (compare ratios, not absolute numbers across machines). Each
engine configuration runs in its own process (so peak memory and thread count are its
own); results go to benchmarks/results/bench.json and bench.md, and one table is printed.

Usage:
    python benchmarks/run_benchmarks.py                 # the full set (about 15-25 minutes)
    python benchmarks/run_benchmarks.py --quick         # N = 1e4, 1e5 only, fewer replicates
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "standard-benchmark.yaml"
RESULTS = ROOT / "benchmarks" / "results"


def _scenario(n: int, months: int):
    import impactsim

    data = impactsim.load_scenario(SCENARIO).model_dump()
    data["population"]["size"] = n
    data["simulation"]["months"] = months
    return impactsim.Scenario.model_validate(data)


# ----------------------------------------------------------------------------- workers
def worker_engine(n: int, months: int) -> dict:
    """One engine replicate (after a warm-up on a tiny population); runs in a subprocess."""
    import numba

    from impactsim.engine.simulate import simulate_replicate
    from impactsim.engine.spec import compile_scenario
    from impactsim.rng import replicate_key

    simulate_replicate(compile_scenario(_scenario(500, 2)), replicate_key(0, 0))
    spec = compile_scenario(_scenario(n, months))
    state: dict = {}
    t0 = time.perf_counter()
    simulate_replicate(spec, replicate_key(1, 0), state)
    secs = time.perf_counter() - t0
    per_parent = sum(
        a.nbytes
        for a in state.values()
        if hasattr(a, "nbytes") and a.shape and a.shape[0] in (n, n + 1)
    )
    queue_and_scratch = (2 + 4) * spec.n_interventions * n + 12 * n  # q_id/q_t, scratch arrays
    return {
        "n_parents": n,
        "months": months,
        "threads": numba.get_num_threads(),
        "seconds": secs,
        "agent_months_per_s": n * months / secs,
        "state_bytes_per_parent": (per_parent + queue_and_scratch) / n,
        "network_bytes_per_parent": (state["nbrs"].nbytes + state["nbr_off"].nbytes) / n,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def worker_mesa(n: int, months: int) -> dict:
    """One replicate of the Mesa reference model on the same scenario."""
    from impactsim.reference import run_reference

    sc = _scenario(n, months)
    t0 = time.perf_counter()
    run_reference(sc, replicates=1, seed=1)
    secs = time.perf_counter() - t0
    return {
        "n_parents": n,
        "months": months,
        "seconds": secs,
        "agent_months_per_s": n * months / secs,
    }


def worker_startup() -> dict:
    """Time from process start (imports included) to the end of a first tiny replicate."""
    t0 = time.perf_counter()
    from impactsim.engine.simulate import simulate_replicate
    from impactsim.engine.spec import compile_scenario
    from impactsim.rng import replicate_key

    simulate_replicate(compile_scenario(_scenario(500, 2)), replicate_key(0, 0))
    return {"seconds_to_first_replicate": time.perf_counter() - t0}


def worker_montecarlo(n: int, months: int, replicates: int) -> dict:
    """A Monte Carlo run through the public API (metrics and economics included)."""
    import impactsim

    sc = _scenario(n, months)
    impactsim.run(_scenario(500, 2), replicates=1, seed=0, progress=False)
    t0 = time.perf_counter()
    impactsim.run(sc, replicates=replicates, seed=1, progress=False)
    secs = time.perf_counter() - t0
    return {
        "n_parents": n,
        "months": months,
        "replicates": replicates,
        "seconds": secs,
        "replicates_per_s": replicates / secs,
    }


WORKERS = {
    "engine": worker_engine,
    "mesa": worker_mesa,
    "startup": worker_startup,
    "montecarlo": worker_montecarlo,
}


def _spawn(kind: str, *args: int, threads: int | None = None, env: dict | None = None) -> dict:
    e = dict(os.environ, **(env or {}))
    if threads is not None:
        e["NUMBA_NUM_THREADS"] = str(threads)
    cmd = [sys.executable, __file__, "--worker", kind, *map(str, args)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=e, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- driver
def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="N = 1e4, 1e5; 10 Monte Carlo replicates")
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--mesa-sizes", type=int, nargs="*", default=[10_000])
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        kind, *rest = args.worker
        print(json.dumps(WORKERS[kind](*map(int, rest))))
        return

    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    mc_reps = 10 if args.quick else 100
    result: dict = {
        "benchmark": "impactsim standard benchmark",
        "scenario": str(SCENARIO.relative_to(ROOT)),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
        },
    }
    import numba
    import numpy

    import impactsim

    result["versions"] = {
        "impactsim": impactsim.__version__,
        "numba": numba.__version__,
        "numpy": numpy.__version__,
    }

    with tempfile.TemporaryDirectory() as cache:
        cold = _spawn("startup", env={"NUMBA_CACHE_DIR": cache})
        warm = _spawn("startup", env={"NUMBA_CACHE_DIR": cache})
    result["startup"] = {
        "cold_compile_s": cold["seconds_to_first_replicate"],
        "warm_cache_s": warm["seconds_to_first_replicate"],
    }
    print(
        f"start-up to first replicate: cold cache {cold['seconds_to_first_replicate']:.1f} s, "
        f"warm cache {warm['seconds_to_first_replicate']:.1f} s",
        flush=True,
    )

    engine = []
    for n in sizes:
        for threads in (1, 2):
            r = _spawn("engine", n, args.months, threads=threads)
            engine.append(r)
            print(
                f"engine N={n:>9,} threads={threads}: {r['seconds']:8.2f} s "
                f"{r['agent_months_per_s']:10.3g} agent-months/s, peak {r['peak_rss_mb']:.0f} MB",
                flush=True,
            )
    result["engine"] = engine

    mesa = []
    for n in args.mesa_sizes:
        r = _spawn("mesa", n, args.months)
        fast = (
            max(e["agent_months_per_s"] for e in engine if e["n_parents"] == n)
            if any(e["n_parents"] == n for e in engine)
            else None
        )
        r["speedup_vs_mesa"] = fast / r["agent_months_per_s"] if fast else None
        mesa.append(r)
        print(
            f"Mesa   N={n:>9,}: {r['seconds']:8.2f} s {r['agent_months_per_s']:10.3g} agent-months/s; "
            f"engine/Mesa = {r['speedup_vs_mesa']:.0f}x",
            flush=True,
        )
    result["mesa"] = mesa

    mc = _spawn("montecarlo", 100_000, args.months, mc_reps)
    result["montecarlo"] = mc
    print(
        f"Monte Carlo {mc_reps} replicates of N=100,000: {mc['seconds']:.1f} s, "
        f"{mc['replicates_per_s']:.3g} replicates/s",
        flush=True,
    )

    by = {(e["n_parents"], e["threads"]): e for e in engine}
    result["speedup_2_threads"] = {
        str(n): by[(n, 2)]["agent_months_per_s"] / by[(n, 1)]["agent_months_per_s"] for n in sizes
    }
    # the fields other commits compare: one agent_months_per_s per configuration
    result["agent_months_per_s"] = {
        f"N={e['n_parents']},threads={e['threads']}": e["agent_months_per_s"] for e in engine
    }
    result["speedup_vs_mesa"] = {f"N={m['n_parents']}": m["speedup_vs_mesa"] for m in mesa}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "bench.md").write_text(markdown(result))
    print(markdown(result))


def markdown(r: dict) -> str:
    """The benchmark as a Markdown report."""
    lines = [
        f"# impactsim benchmark ({r['date']})",
        "",
        f"Scenario `{r['scenario']}`; machine {r['machine']['platform']}, {r['machine']['cpus']} CPUs, "
        f"load average at start {r['machine']['load_average_at_start'][0]:.2f}; impactsim "
        f"{r['versions']['impactsim']}, numba {r['versions']['numba']}, numpy {r['versions']['numpy']}.",
        "",
        "| N | threads | seconds | agent-months/s | state bytes/parent | network bytes/parent | peak RSS MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in r["engine"]:
        lines.append(
            f"| {e['n_parents']:,} | {e['threads']} | {e['seconds']:.2f} | {e['agent_months_per_s']:.3g} | "
            f"{e['state_bytes_per_parent']:.0f} | {e['network_bytes_per_parent']:.0f} | {e['peak_rss_mb']:.0f} |"
        )
    lines += [
        "",
        "| Mesa reference N | seconds | agent-months/s | engine / Mesa |",
        "|---|---|---|---|",
    ]
    for m in r["mesa"]:
        lines.append(
            f"| {m['n_parents']:,} | {m['seconds']:.1f} | {m['agent_months_per_s']:.3g} | "
            f"{m['speedup_vs_mesa']:.0f}x |"
        )
    mc = r["montecarlo"]
    lines += [
        "",
        f"Start-up to the first replicate: {r['startup']['cold_compile_s']:.1f} s with a cold numba cache, "
        f"{r['startup']['warm_cache_s']:.1f} s warm.",
        f"Monte Carlo: {mc['replicates']} replicates of N = {mc['n_parents']:,} x {mc['months']} months in "
        f"{mc['seconds']:.1f} s ({mc['replicates_per_s']:.3g} replicates/s).",
        "2-thread speed-up: "
        + ", ".join(f"N={k}: {v:.2f}x" for k, v in r["speedup_2_threads"].items())
        + ".",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
