"""Paired speed comparison of two versions of the engine, on the same machine, alternating.

The issue "Engine architecture" asks for paired runs of the new and the old engine at
N = 1e5 and 1e6 on 1 and 2 threads, the median ratio within 3 %. This script checks out
OLD_REF (and NEW, if it is a ref rather than a directory) with ``git worktree add
--detach`` into a temporary directory, and runs each engine in new processes of its own
(``PYTHONPATH=<tree>/src``, so the tree's package comes before the venv's editable
install; each tree has its own ``NUMBA_CACHE_DIR`` there, so caches never mix). First one
process per tree compiles its kernels into its empty cache (the cold compile, reported);
then, for each N and thread count, PAIRS pairs of processes, each timing one replicate
of ``scenarios/standard-benchmark.yaml`` from its own tree, the order alternating (old,
new; new, old; ...) so that a slow spell of a shared machine falls on both engines alike.
Each pair gives a ratio new / old (below 1: the new engine is faster); the median of the
pairs is judged against 0.97..1.03. Every run also prints a SHA-256 of its recording:
old and new must agree bit for bit.

Usage:
    python benchmarks/compare_engines.py OLD_REF [NEW]   # NEW: a ref or a tree; default this tree
    python benchmarks/compare_engines.py HEAD~3 --sizes 20000 --pairs 2 --months 24  # a quick check
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = Path("scenarios") / "standard-benchmark.yaml"
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "compare-engines.json"
#: the median ratio new / old must lie within 1 +- TOLERANCE
TOLERANCE = 0.03
#: warm-up replicates (N, months): the serial path (below the engine's parallel threshold
#: of 10,000 parents) and the parallel one, so every kernel is compiled or loaded
WARM_UP = ((500, 8), (20_000, 8))  # past the last offer's start (month 6)
ENGINES = ("old", "new")


# ----------------------------------------------------------------------------- workers
# They run with PYTHONPATH=<tree>/src and use only the API that every version has:
# impactsim.loading.parse_scenario, impactsim.engine.spec.compile_scenario,
# impactsim.engine.simulate.simulate_replicate, impactsim.rng.replicate_key.
def _impactsim_of(tree: Path) -> str:
    """Import impactsim and make sure it is the one of ``tree`` (not the venv's install)."""
    import impactsim

    where = Path(impactsim.__file__).resolve().parent
    if not where.is_relative_to((tree / "src").resolve()):  # PYTHONPATH not honoured
        raise SystemExit(f"impactsim imported from {where}, not from {tree / 'src'}")
    return str(where)


def _spec(tree: Path, n: int, months: int):
    """The tree's standard benchmark scenario at ``n`` families and ``months``, compiled."""
    import yaml

    from impactsim.engine.spec import compile_scenario
    from impactsim.loading import parse_scenario

    path = tree / SCENARIO
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["population"]["size"] = n
    data["simulation"]["months"] = months
    return compile_scenario(parse_scenario(data, str(path)))


def _warm_up(tree: Path) -> None:
    from impactsim.engine.simulate import simulate_replicate
    from impactsim.rng import replicate_key

    for n, months in WARM_UP:
        simulate_replicate(_spec(tree, n, months), replicate_key(0, 0))


def _recording_digests(rec) -> dict[str, str]:
    """SHA-256 of each array of a Recording (dtype, shape and bytes), by field name."""
    import dataclasses
    import hashlib

    import numpy as np

    out = {}
    for f in dataclasses.fields(rec):
        arr = np.ascontiguousarray(getattr(rec, f.name))
        if f.name.startswith("x_") and arr.size == 0:
            continue  # the outcomes after the primary: none with one outcome (as before)
        h = hashlib.sha256(f"{arr.dtype.str}{arr.shape}".encode())
        h.update(arr.tobytes())
        out[f.name] = h.hexdigest()
    return out


def worker_compile(tree: str) -> dict:
    """The warm-up replicates, the engine's import included; with an empty cache: compiling."""
    where = _impactsim_of(Path(tree))
    t0 = time.perf_counter()
    _warm_up(Path(tree))
    return {"impactsim": where, "warm_up_s": time.perf_counter() - t0}


def worker_time(tree: str, n: str, months: str, threads: str, seed: str) -> dict:
    """One replicate of the tree's engine, timed, on ``threads`` numba threads.

    As ``run_benchmarks.py --worker engine``: after warm-up replicates at small N (kernels
    loaded from the cache), the time from the compiled scenario to the finished recording
    (population, network, all steps, the monthly counts); one run, one new process.
    """
    import hashlib

    import numba

    where = _impactsim_of(Path(tree))
    from impactsim.engine.simulate import simulate_replicate
    from impactsim.rng import replicate_key

    numba.set_num_threads(int(threads))
    _warm_up(Path(tree))
    spec = _spec(Path(tree), int(n), int(months))
    key = replicate_key(int(seed), 1)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    rec = simulate_replicate(spec, key)
    secs = time.perf_counter() - t0
    fields = _recording_digests(rec)
    whole = hashlib.sha256("".join(f"{k}={v};" for k, v in fields.items()).encode())
    return {
        "impactsim": where,
        "n_parents": int(n),
        "months": int(months),
        "threads": numba.get_num_threads(),
        "seconds": secs,
        "load_average_1min": load,
        "recording_sha256": whole.hexdigest(),
        "recording_fields_sha256": fields,
    }


WORKERS = {"compile": worker_compile, "time": worker_time}


# ----------------------------------------------------------------------------- driver
def _git(*args: str, cwd: Path = ROOT) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def _describe(tree: Path) -> str:
    """The tree's commit, ``+changes`` when its sources differ from it."""
    try:
        commit = _git("rev-parse", "--short", "HEAD", cwd=tree)
        dirty = _git("status", "--porcelain", "--", "src", "scenarios", cwd=tree)
    except subprocess.CalledProcessError:
        return "not a git tree"
    return commit + ("+changes" if dirty else "")


def _materialise(ref: str, dest: Path, cleanup: list[Path]) -> Path:
    """``git worktree add --detach dest ref``; ``dest`` goes on the list to remove at the end."""
    try:
        _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except subprocess.CalledProcessError:
        raise SystemExit(f"{ref!r} is neither a directory nor a commit of {ROOT}") from None
    cleanup.append(dest)
    _git("worktree", "add", "--detach", str(dest), ref)
    return dest


def _spawn(tree: Path, env: dict, kind: str, *args: object) -> tuple[dict, float]:
    """A worker in a new process in ``tree``; its JSON line and its wall time to its exit."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, str(tree)]
    cmd += map(str, args)
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tree)
    wall = time.monotonic() - t0
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"worker {kind} {args} failed (exit {out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1]), wall


def _env(tree: Path, cache: Path, threads: int) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(tree / "src")] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env["NUMBA_CACHE_DIR"] = str(cache)
    env["NUMBA_NUM_THREADS"] = str(threads)
    return env


def _pairs_summary(old: list[float], new: list[float]) -> dict:
    ratios = [b / a for a, b in zip(old, new, strict=True)]
    median = statistics.median(ratios)
    return {
        "seconds_old": old,
        "seconds_new": new,
        "ratios_new_over_old": ratios,
        "median_ratio": median,
        "min_ratio": min(ratios),
        "max_ratio": max(ratios),
        "within_tolerance": abs(median - 1.0) <= TOLERANCE + 1e-12,
    }


def compare(args: argparse.Namespace, tmp: Path, cleanup: list[Path]) -> dict:
    old_tree = _materialise(args.old, tmp / "old", cleanup)
    if args.new is None:
        new_tree = ROOT
    elif Path(args.new).is_dir():
        new_tree = Path(args.new).resolve()
    else:
        new_tree = _materialise(args.new, tmp / "new", cleanup)
    trees = {"old": old_tree, "new": new_tree}
    pool = max(2, *args.threads)
    envs = {e: _env(trees[e], tmp / f"numba-cache-{e}", pool) for e in ENGINES}
    result: dict = {
        "benchmark": "impactsim engine comparison, paired processes",
        "scenario": str(SCENARIO),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        "engines": {
            e: {"ref": (args.old if e == "old" else args.new or "working tree"), "tree": str(t)}
            | {"commit": _describe(t)}
            for e, t in trees.items()
        },
        "settings": {
            "sizes": args.sizes,
            "threads": args.threads,
            "pairs": args.pairs,
            "months": args.months,
            "seed": args.seed,
            "replicate": 1,
            "numba_num_threads": pool,
            "tolerance": TOLERANCE,
        },
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
        },
    }
    for e in ENGINES:
        print(f"{e}: {result['engines'][e]['commit']} ({trees[e]})", flush=True)
    load = result["machine"]["load_average_at_start"][0]
    if load >= 0.5:
        print(
            f"note: load average {load:.2f}: other work on this machine moves the timings "
            "(a busy core slows 2-thread runs many times over)",
            flush=True,
        )

    compile_: dict = {}
    for e in ENGINES:
        r, wall = _spawn(trees[e], envs[e], "compile")
        compile_[e] = r | {"process_s": wall}
        print(
            f"cold compile, {e}: {r['warm_up_s']:.1f} s (warm-up replicates with an empty "
            f"numba cache; the process {wall:.1f} s)",
            flush=True,
        )
    result["cold_compile"] = compile_

    runs: list[dict] = []
    fields: dict[tuple[int, str], dict] = {}  # each array's digest, first run per N and engine
    table: list[dict] = []
    for n in args.sizes:
        for t in args.threads:
            secs: dict[str, list[float]] = {"old": [], "new": []}
            for p in range(args.pairs):
                for e in ENGINES if p % 2 == 0 else ENGINES[::-1]:
                    r, wall = _spawn(trees[e], envs[e], "time", n, args.months, t, args.seed)
                    fields.setdefault((n, e), r.pop("recording_fields_sha256"))
                    runs.append({"engine": e, "pair": p} | r | {"process_s": wall})
                    secs[e].append(r["seconds"])
                print(
                    f"N={n:>9,} threads={t} pair {p + 1}/{args.pairs}: old "
                    f"{secs['old'][-1]:.3f} s, new {secs['new'][-1]:.3f} s, new/old "
                    f"{secs['new'][-1] / secs['old'][-1]:.3f}",
                    flush=True,
                )
            table.append({"n_parents": n, "threads": t} | _pairs_summary(secs["old"], secs["new"]))

    identical = {}
    for n in args.sizes:
        digests = {
            e: {r["recording_sha256"] for r in runs if r["n_parents"] == n and r["engine"] == e}
            for e in ENGINES
        }
        fo, fn = fields[(n, "old")], fields[(n, "new")]
        identical[str(n)] = {
            "identical": len(digests["old"]) == 1 and digests["old"] == digests["new"],
            "recording_sha256": {e: sorted(d) for e, d in digests.items()},
            "fields_differing": sorted(k for k in fo.keys() | fn.keys() if fo.get(k) != fn.get(k)),
        }
    result["comparison"] = table
    result["identical_recordings"] = identical
    result["runs"] = runs
    result["machine"]["load_average_at_end"] = os.getloadavg()
    return result


def markdown(r: dict) -> str:
    s = r["settings"]
    old, new = r["engines"]["old"], r["engines"]["new"]
    lines = [
        f"# Engine comparison ({r['date']})",
        "",
        f"Old {old['commit']} (`{old['ref']}`), new {new['commit']} (`{new['ref']}`); "
        f"`{r['scenario']}`, {s['months']} months, replicate_key({s['seed']}, 1); "
        f"{s['pairs']} pairs of processes per row, the order alternating; "
        f"load average {r['machine']['load_average_at_start'][0]:.2f} at the start, "
        f"{r['machine']['load_average_at_end'][0]:.2f} at the end.",
        "",
        "| N | threads | old s (median) | new s (median) | new / old per pair | median | range "
        f"| within {TOLERANCE:.0%} |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in r["comparison"]:
        lines.append(
            f"| {row['n_parents']:,} | {row['threads']} | "
            f"{statistics.median(row['seconds_old']):.3f} | "
            f"{statistics.median(row['seconds_new']):.3f} | "
            + ", ".join(f"{x:.3f}" for x in row["ratios_new_over_old"])
            + f" | **{row['median_ratio']:.3f}** | {row['min_ratio']:.3f}–{row['max_ratio']:.3f} "
            f"| {'yes' if row['within_tolerance'] else 'no'} |"
        )
    lines.append("")
    for n, ident in r["identical_recordings"].items():
        text = "yes" if ident["identical"] else "no"
        if ident["fields_differing"]:
            text += " (differing: " + ", ".join(ident["fields_differing"]) + ")"
        lines.append(f"Recordings at N = {int(n):,}, old against new, identical: {text}.")
    c = r["cold_compile"]
    lines += [
        "",
        f"Cold compile, old against new (warm-up replicates with an empty numba cache): "
        f"{c['old']['warm_up_s']:.1f} s against {c['new']['warm_up_s']:.1f} s (the processes "
        f"{c['old']['process_s']:.1f} s and {c['new']['process_s']:.1f} s).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("old", nargs="?", help="the old engine: a git ref")
    ap.add_argument(
        "new", nargs="?", help="the new engine: a git ref or a tree (default: this one)"
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--pairs", type=int, default=6, help="pairs of processes per N and threads")
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write the results")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        kind, *rest = args.worker
        print(json.dumps(WORKERS[kind](*rest)))
        return
    if args.old is None:
        ap.error("OLD_REF is required")

    tmp = Path(tempfile.mkdtemp(prefix="impactsim-compare-")).resolve()
    cleanup: list[Path] = []
    try:
        result = compare(args, tmp, cleanup)
    finally:
        for tree in cleanup:
            remove = ["git", "worktree", "remove", "--force", str(tree)]
            out = subprocess.run(remove, cwd=ROOT, capture_output=True, text=True)
            if out.returncode != 0 and tree.exists():
                print(
                    f"could not remove the worktree {tree}: {out.stderr.strip()}", file=sys.stderr
                )
        shutil.rmtree(tmp, ignore_errors=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(markdown(result))
    print(f"written: {args.json}")


if __name__ == "__main__":
    main()
