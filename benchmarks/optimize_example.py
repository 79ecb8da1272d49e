"""Time the library optimisation: the best mix for a budget in the library municipality.

    python benchmarks/optimize_example.py [--workers 2] [--file FILE] [--out FILE]

Runs ``impactsim optimize scenarios/optimize/library-town.yaml`` (8 decisions, 20,000
families, 60 months) into a new directory with a local process pool, and prints the wall
time to the recommended mix (search and finalists), the whole run (with the budget–impact
curve), evaluations per minute (candidate evaluations of ``replicates`` replicates each)
and the machine's load average before and after, since the machine is shared. The
figures are written to ``benchmarks/results/optimize.json``. The target: a recommended
mix within 15 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Run the example and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--file", type=Path, default=ROOT / "scenarios/optimize/library-town.yaml")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/optimize.json")
    args = parser.parse_args()

    from impactsim.optimize import load_optimization, optimize

    opt = load_optimization(args.file)
    marks: dict[str, float] = {}
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        elapsed = time.perf_counter() - t0
        print(f"{elapsed:7.1f} s  {msg}", flush=True)
        if msg.startswith("search: ") and msg.endswith("finalists re-evaluated"):
            marks["recommended"] = elapsed  # the main search and its finalists are done

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        result = optimize(opt, Path(tmp) / "out", workers=args.workers, log=log)
    total = time.perf_counter() - t0
    best = result.main.best
    figures = {
        "file": str(args.file.relative_to(ROOT)),
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "decisions": len(opt.decisions),
        "families": opt.base["population"]["size"],
        "months": opt.base["simulation"]["months"],
        "replicates_per_candidate": opt.spec.replicates,
        "seconds_to_recommended_mix": round(marks.get("recommended", total), 1),
        "seconds_total": round(total, 1),
        "evaluations_run": result.info["evaluations_run"],
        "evaluations_per_minute": result.info["evaluations_per_minute"],
        "replicates_per_minute": round(
            result.info["evaluations_per_minute"] * opt.spec.replicates, 1
        ),
        "status": result.status,
        "recommended": best.values if best is not None else None,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    for key, value in figures.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
