"""Golden digests of the engine: every recording array and the final state, bit for bit.

The engine's results are pinned by SHA-256 digests of each array a replicate records
(:class:`impactsim.engine.simulate.Recording`) and of each array of its final state, for
the scenario variants in :data:`VARIANTS` (together they exercise every mechanism of
``docs/model.md``) and two replicates each. ``tests/test_golden.py`` recomputes them on
1, 2 and 3 numba threads; ``make golden`` rewrites ``digests.json`` on purpose.

Run as a script (numba's thread count is fixed when numba starts, so the caller sets
``NUMBA_NUM_THREADS`` to at least the largest count asked for)::

    NUMBA_NUM_THREADS=3 python tests/golden/harness.py --threads 1 2 3 --out digests.json

A float's last bit may depend on the compiler (numba, llvmlite) and on the processor, not
only on the engine, so the digests carry the versions and the processor they were made
with (:func:`environment`); the test tells an environment change from a regression.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import hashlib
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DIGESTS = Path(__file__).resolve().parent / "digests.json"
SEED = 20_261_207
REPLICATES = (1, 2)


@dataclasses.dataclass(frozen=True)
class Variant:
    """A scenario file with overrides, small enough to run in a fraction of a second.

    Attributes:
        name: the variant's name in ``digests.json``.
        source: a file under ``scenarios/`` or ``"builtin"`` (the packaged default).
        size: families.
        months: horizon.
        exercises: the mechanisms this variant is here for (documentation, and checked
            against the recordings by ``tests/test_golden.py``).
        overrides: dotted paths to values; a list item is addressed by its ``name`` (or by
            ``intervention`` for offers).
    """

    name: str
    source: str
    size: int
    months: int
    exercises: tuple[str, ...]
    overrides: tuple[tuple[str, Any], ...] = ()


_SLEEPER = (("interventions.home_visits.sleeper_delay_months", 6),)
_FULLY_MIXED = (
    ("population.network.kind", "fully_mixed"),
    ("interventions.*.spillover_fraction", 0.0),  # spillover needs a network
)

#: At least 12 variants that together exercise every mechanism: turnover, network pushes,
#: waiting lists with give-ups, follow-ups and boosters, sleeper effects, interactions,
#: spillover, indicated programmes, steps shorter than a month, fully mixed and network
#: populations, populations run on one thread and on several (10,000 families and more).
VARIANTS: tuple[Variant, ...] = (
    Variant("default", "builtin", 12_000, 36, ("network", "turnover", "follow_up")),
    Variant(
        "default-fully-mixed",
        "builtin",
        12_000,
        36,
        ("fully_mixed", "turnover"),
        _FULLY_MIXED,
    ),
    Variant(
        "benchmark",
        "standard-benchmark.yaml",
        12_000,
        48,
        ("network", "waiting_give_up", "follow_up", "interaction", "spillover", "indicated"),
    ),
    Variant(
        "benchmark-60k",
        "standard-benchmark.yaml",
        60_000,
        60,
        ("network", "waiting_give_up", "spillover", "indicated", "parallel_lists"),
    ),
    Variant(
        "benchmark-half-month",
        "standard-benchmark.yaml",
        12_000,
        30,
        ("sub_month_steps", "network", "waiting_give_up", "spillover"),
        (("simulation.dt_months", 0.5),),
    ),
    Variant(
        "benchmark-quarter-month-sleeper",
        "standard-benchmark.yaml",
        12_000,
        24,
        ("sub_month_steps", "sleeper", "indicated"),
        (("simulation.dt_months", 0.25), *_SLEEPER),
    ),
    Variant(
        "benchmark-fully-mixed-sleeper",
        "standard-benchmark.yaml",
        12_000,
        48,
        ("fully_mixed", "sleeper", "waiting_give_up", "interaction"),
        (*_FULLY_MIXED, *_SLEEPER),
    ),
    Variant(
        "benchmark-no-turnover",
        "standard-benchmark.yaml",
        12_000,
        36,
        ("network", "no_turnover", "spillover"),
        (("population.turnover_rate_per_month", 0.0),),
    ),
    Variant(
        "benchmark-small",
        "standard-benchmark.yaml",
        3_000,
        36,
        ("one_thread", "network", "spillover", "follow_up"),
    ),
    Variant(
        "package",
        "package.yaml",
        12_000,
        36,
        ("follow_up", "interaction", "waiting_give_up", "several_outcomes"),
    ),
    Variant(
        "multilevel",
        "multilevel-triple-p.yaml",
        12_000,
        36,
        ("interaction", "follow_up", "several_outcomes"),
    ),
    Variant("stepped-care", "stepped-care.yaml", 12_000, 36, ("follow_up", "indicated")),
    Variant("embedding", "embedding.yaml", 12_000, 36, ("waiting_give_up",)),
    Variant("free-market", "free-market.yaml", 12_000, 36, ("providers",)),
    Variant("civil-society", "civil-society.yaml", 12_000, 36, ("spillover",)),
    Variant("critical-mass-seeded", "critical-mass-seeded.yaml", 12_000, 36, ("thresholds",)),
    Variant(
        "online-upscaling", "online-upscaling.yaml", 12_000, 36, ("network", "several_outcomes")
    ),
)


def _set_path(node: Any, path: str, value: Any) -> None:
    """Set ``a.b.c`` in nested dicts and lists.

    A list item is found by its ``name`` (or ``intervention``, for offers); ``*`` sets the
    rest of the path in every item of a list.
    """
    part, _, rest = path.partition(".")
    if not rest:
        node[part] = value
    elif isinstance(node, list) and part == "*":
        for item in node:
            _set_path(item, rest, value)
    elif isinstance(node, list):
        item = next(x for x in node if part in (x.get("name"), x.get("intervention")))
        _set_path(item, rest, value)
    else:
        _set_path(node.setdefault(part, {}), rest, value)


def scenario_data(variant: Variant) -> dict[str, Any]:
    """The variant's scenario as a dict, with its size, horizon and overrides applied."""
    import yaml

    from impactsim.loading import default_scenario_path

    path = default_scenario_path() if variant.source == "builtin" else ROOT / "scenarios"
    if variant.source != "builtin":
        path = path / variant.source
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data["population"]["size"] = variant.size
    data["simulation"]["months"] = variant.months
    for dotted, value in variant.overrides:
        _set_path(data, dotted, value)
    return data


def _digest(value: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and bytes (C order)."""
    arr = np.ascontiguousarray(value)
    h = hashlib.sha256()
    h.update(f"{arr.dtype.str}{arr.shape}".encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def _spec(variant: Variant) -> Any:
    from impactsim.engine.spec import compile_scenario
    from impactsim.loading import parse_scenario

    return compile_scenario(parse_scenario(scenario_data(variant), variant.name))


def replicate_arrays(variant: Variant, replicate: int) -> dict[str, np.ndarray]:
    """Every recorded array and every final-state array of one replicate of a variant."""
    from impactsim.engine.simulate import simulate_replicate
    from impactsim.rng import replicate_key

    state: dict[str, np.ndarray] = {}
    rec = simulate_replicate(_spec(variant), replicate_key(SEED, replicate), state)
    arrays = {f"record.{f.name}": getattr(rec, f.name) for f in dataclasses.fields(rec)}
    arrays |= {f"state.{k}": np.asarray(v) for k, v in state.items()}
    return {k: v for k, v in arrays.items() if not (_of_further_outcomes(k) and v.size == 0)}


def _of_further_outcomes(name: str) -> bool:
    """Whether an array holds the outcomes after the primary (docs/model.md, "Several outcomes").

    A one-outcome scenario has none: such arrays are empty there and left out of the
    digests, so one-outcome digests stay as they were before there were several outcomes.
    """
    field = name.split(".", 1)[1]
    return field.startswith(("x_", "unit_"))


def replicate_digests(variant: Variant, replicate: int) -> dict[str, str]:
    """Digest of each array of :func:`replicate_arrays`, by name."""
    return {k: _digest(v) for k, v in sorted(replicate_arrays(variant, replicate).items())}


def evidence(variant: Variant) -> dict[str, bool]:
    """Whether replicate 1 of a variant really exercises each mechanism it names.

    A variant is in :data:`VARIANTS` for its ``exercises``; this checks each against the
    compiled scenario and the recordings, so a variant that stopped reaching a mechanism
    (an edited library scenario, say) is noticed instead of pinning nothing.
    """
    from impactsim.engine.simulate import PARALLEL_MIN_PARENTS

    spec = _spec(variant)
    a = replicate_arrays(variant, 1)
    enrol = a["record.enrol_new"].sum(axis=(0, 2))  # [K]
    follow = spec.follow_after >= 0
    joiners_per_step = a["record.enrol_new"].sum(axis=(1, 2)) / spec.steps_per_month
    checks = {
        "network": spec.network_kind == "random" and a["state.nbrs"].size > 0,
        "fully_mixed": spec.network_kind == "fully_mixed",
        "turnover": a["record.exits"].sum() > 0,
        "no_turnover": a["record.exits"].sum() == 0,
        "waiting_give_up": a["record.waiting"].sum() > 0 and a["record.gaveup_new"].sum() > 0,
        "follow_up": bool(enrol[follow].sum() > 0),
        "sleeper": bool(enrol[spec.sleeper_steps > 0].sum() > 0),
        "interaction": bool(np.any(spec.gamma != 0)),
        "spillover": a["record.indirect"].sum() > 0,
        "indicated": bool(enrol[np.isfinite(spec.elig_min_score)].sum() > 0),
        "sub_month_steps": spec.steps_per_month > 1,
        "one_thread": spec.n_parents < PARALLEL_MIN_PARENTS,
        "parallel_lists": bool(joiners_per_step.max() >= 256),
        "thresholds": bool(np.any(spec.cat_threshold > 0)),
        "providers": a["record.provider_adopt_new"].sum() > 0,
        # outcomes after the primary, moved by the programmes (their arrays are pinned)
        "several_outcomes": "record.x_prev" in a
        and (a["record.x_prev_cf"] - a["record.x_prev"]).sum() > 0,
    }
    return {tag: bool(checks[tag]) for tag in variant.exercises}


def environment() -> dict[str, str]:
    """What besides the engine can move a float bit: compiler, numpy, processor."""
    import llvmlite
    import llvmlite.binding as llvm
    import numba

    return {
        "numba": numba.__version__,
        "llvmlite": llvmlite.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu": llvm.get_host_cpu_name(),
    }


def compute(threads: tuple[int, ...]) -> dict[str, Any]:
    """Digests of every variant and replicate on each thread count.

    Returns:
        ``{"environment": ..., "threads": {"1": {variant: {replicate: {array: digest}}}},
        "evidence": {variant: {mechanism: bool}}}``.
    """
    import numba

    by_threads: dict[str, Any] = {}
    before = numba.get_num_threads()
    try:
        for n in threads:
            if n > numba.config.NUMBA_NUM_THREADS:
                raise SystemExit(f"NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS} < {n}")
            numba.set_num_threads(n)
            by_threads[str(n)] = {
                v.name: {str(r): replicate_digests(v, r) for r in REPLICATES} for v in VARIANTS
            }
    finally:
        numba.set_num_threads(before)
    return {
        "environment": environment(),
        "threads": by_threads,
        "evidence": {v.name: evidence(v) for v in VARIANTS},
    }


def write_digests(result: dict[str, Any], path: Path = DIGESTS) -> None:
    """Write the digests of one thread count (all counts must agree) to ``path``."""
    runs = list(result["threads"].values())
    if any(run != runs[0] for run in runs[1:]):
        raise SystemExit("the thread counts disagree: not writing digests of a broken engine")
    doc = {
        "about": "SHA-256 of every recorded and final-state array; see tests/golden/harness.py",
        "seed": SEED,
        "environment": result["environment"],
        "variants": runs[0],
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    """Compute digests; print them as JSON or write ``digests.json`` (``--write``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--out", type=Path, help="write the raw result (all thread counts) here")
    parser.add_argument("--write", action="store_true", help="rewrite tests/golden/digests.json")
    args = parser.parse_args(argv)
    result = compute(tuple(args.threads))
    if args.out:
        args.out.write_text(json.dumps(result, sort_keys=True), encoding="utf-8")
    if args.write:
        write_digests(result)
        print(f"wrote {DIGESTS.relative_to(ROOT)} ({len(VARIANTS)} variants)")
    if not args.out and not args.write:
        json.dump(result, sys.stdout, sort_keys=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
