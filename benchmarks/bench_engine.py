"""Engine throughput on the standard benchmark scenario.

Prints agent-months per second for several population sizes and thread counts, and writes
JSON and Markdown to benchmarks/results/. Run with `make bench` (or
`python benchmarks/bench_engine.py --sizes 10000 100000`). Figures depend on the machine
and on what else runs on it: compare ratios measured in one run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import time
from pathlib import Path

import numba
import numpy as np

import impactsim
from impactsim.engine.simulate import simulate_replicate
from impactsim.engine.spec import compile_scenario
from impactsim.rng import replicate_key

ROOT = Path(__file__).resolve().parents[1]


def scenario_of_size(n: int, months: int) -> impactsim.Scenario:
    base = impactsim.load_scenario(ROOT / "scenarios" / "standard-benchmark.yaml")
    data = base.model_dump()
    data["population"]["size"] = n
    data["simulation"]["months"] = months
    return impactsim.Scenario.model_validate(data)


def time_replicate(n: int, months: int, threads: int, repeats: int) -> float:
    spec = compile_scenario(scenario_of_size(n, months))
    numba.set_num_threads(threads)
    best = np.inf
    for r in range(repeats):
        t0 = time.perf_counter()
        simulate_replicate(spec, replicate_key(1, r))
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    max_threads = numba.config.NUMBA_NUM_THREADS
    # warm-up: compile (or load from the cache) before timing
    t0 = time.perf_counter()
    simulate_replicate(compile_scenario(scenario_of_size(1000, 2)), replicate_key(0, 0))
    warmup_s = time.perf_counter() - t0
    rows = []
    for n in args.sizes:
        for threads in sorted({1, min(2, max_threads)}):
            secs = time_replicate(n, args.months, threads, args.repeats if n < 1_000_000 else 1)
            rate = n * args.months / secs
            rows.append(
                {
                    "n_parents": n,
                    "months": args.months,
                    "threads": threads,
                    "seconds": secs,
                    "agent_months_per_s": rate,
                }
            )
            print(
                f"N={n:>9,} threads={threads} {secs:8.2f} s  {rate:10.3g} agent-months/s",
                flush=True,
            )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "benchmark": "engine",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpus": numba.config.NUMBA_NUM_THREADS,
        },
        "versions": {
            "impactsim": impactsim.__version__,
            "numba": numba.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "warmup_s": warmup_s,
        "peak_rss_mb": peak_mb,
        "results": rows,
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "engine.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"# Engine benchmark ({result['date']})",
        "",
        f"Machine: {result['machine']['platform']}, {result['machine']['cpus']} CPUs; "
        f"impactsim {impactsim.__version__}, numba {numba.__version__}.",
        "",
        "| N | months | threads | seconds | agent-months/s |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['n_parents']:,} | {r['months']} | {r['threads']} | {r['seconds']:.2f} | "
        f"{r['agent_months_per_s']:.3g} |"
        for r in rows
    ]
    lines += ["", f"Peak RSS {peak_mb:.0f} MB; warm-up (compile or cache load) {warmup_s:.1f} s."]
    (out / "engine.md").write_text("\n".join(lines) + "\n")
    print(
        f"peak RSS {peak_mb:.0f} MB, warm-up {warmup_s:.1f} s; wrote {out}/engine.json, engine.md"
    )


if __name__ == "__main__":
    main()
