"""Memory guard: estimate what a run will allocate and refuse one that does not fit.

:func:`estimate_memory` computes, from the scenario alone (nothing is allocated), the bytes
of every array the engine holds while a replicate runs (the arrays of
:func:`impactsim.engine.simulate.simulate_replicate` and the temporaries of
:func:`impactsim.population.build_network`), the counts each replicate keeps
(:class:`~impactsim.engine.simulate.Recording`) and the tidy tables built at the end.
:func:`check_memory` compares the estimate with a limit — by default
:data:`DEFAULT_FRACTION` of the memory available now — and raises
:class:`MemoryLimitError` with the estimate and how to reduce it.

The limit can be set with the environment variable :data:`ENV_VAR`
(``IMPACTSIM_MEMORY_LIMIT``) or the ``--memory-limit`` option of ``impactsim run``:
bytes (``8000000000``), a size with a unit (``512M``, ``8G``, ``1.5GiB``; units are powers
of 1024), a share of the available memory (``75%``), or ``off``.

This module imports only the scenario schema, so checking costs microseconds.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from impactsim.engine.layout import EVENT_LIST_CAPACITY, chunk_count, initial_queue_capacity
from impactsim.engine.state import (
    OUTCOME_BYTES_PER_PARENT,
    OUTCOME_BYTES_PER_PARENT_IV,
    parent_bytes,
)
from impactsim.scenario import Scenario

#: Environment variable holding the memory limit (same syntax as ``--memory-limit``).
ENV_VAR = "IMPACTSIM_MEMORY_LIMIT"

#: Default limit: this share of the memory available when the run starts.
DEFAULT_FRACTION = 0.5

#: Bytes per row of a tidy table while its columns are collected (measured: 6 text columns
#: of one 8-byte pointer and one small string object each, 3 numeric columns), while they
#: are concatenated (the pointers again) and once it is a DataFrame with categorical
#: columns (6 one-byte codes, 3 numeric columns).
_ROW_COLLECT = 420
_ROW_CONCAT = 72
_ROW_FRAME = 30
#: Fixed overhead of a run: compiled spec, pandas/numpy bookkeeping (bytes).
_FIXED = 8 * 2**20
#: Allowance on the engine's peak for memory the allocator keeps after freeing it
#: (fragmentation across replicates): resident memory measured 1.03x the allocation peak
#: at 1 million families, 1.05x at 3 million (4 replicates), 1.15x at 5 million (6).
ALLOCATOR_SLACK = 1.2

_UNITS = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40, "P": 2**50}


class MemoryLimitError(RuntimeError):
    """A run would need more memory than the limit allows (nothing was allocated)."""

    def __init__(self, message: str, estimate: MemoryEstimate, limit: int):
        super().__init__(message)
        self.estimate = estimate
        self.limit = limit


@dataclass(frozen=True)
class MemoryEstimate:
    """Estimated memory of a run, in bytes.

    Attributes:
        parts: bytes by component (see :func:`estimate_memory`).
        engine_peak: the most one replicate holds at a time (population, network or its
            construction, per-parent state, scratch, its recording).
        kept_per_replicate: what each finished replicate keeps until the end (its
            recording and its rows of the tidy tables).
        tables_peak: the extra memory while the tidy tables are built and written.
        replicates: number of replicates.
        sizes: the scenario sizes the estimate used (for messages).
        concurrent: replicates simulated side by side, each holding ``engine_peak``.
    """

    parts: dict[str, int]
    engine_peak: int
    kept_per_replicate: int
    tables_peak: int
    replicates: int
    sizes: dict[str, float] = field(default_factory=dict)
    concurrent: int = 1

    @property
    def total(self) -> int:
        """Estimated peak of the whole run (bytes), as resident memory.

        ``kept`` for every replicate, plus the larger of the engine's peak (with
        :data:`ALLOCATOR_SLACK`, times the replicates running side by side) and the
        building of the tables, plus a fixed 8 MiB.
        """
        kept = self.replicates * self.kept_per_replicate
        engine = int(ALLOCATOR_SLACK * self.engine_peak) * self.concurrent
        return _FIXED + kept + max(engine, self.tables_peak)


def format_bytes(n: float) -> str:
    """Human-readable size with binary units, e.g. ``1.5 GiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover - loop always returns


def _sizes(scenario: Scenario, replicates: int | None) -> dict[str, float]:
    pop, sim = scenario.population, scenario.simulation
    n = pop.size
    degree = 0.0 if pop.network.kind == "fully_mixed" or n < 2 else pop.network.mean_degree
    return {
        "N": n,
        "K": len(scenario.strategy.offers),
        # the engine's segments are cells (neighbourhood, segment): engine.places
        "S": len(pop.segments) * max(1, len(pop.neighbourhoods)),
        "C": len(scenario.channels),
        "NP": sum(p.count for p in scenario.providers),
        "M": sim.months,
        "T": sim.months * sim.steps_per_month,
        "D": degree,
        "R": sim.replicates if replicates is None else int(replicates),
        "O": len(scenario.outcome_list),
    }


def estimate_memory(
    scenario: Scenario, replicates: int | None = None, concurrent: int = 1
) -> MemoryEstimate:
    """Estimate the memory a run of ``scenario`` needs, without allocating anything.

    Parts (bytes; N parents, K offered interventions, S segments, C channels, NP provider
    organisations, M months, T steps, D mean network degree, R replicates):

    * ``population``: segment, category (int8) and score (float32): 6 N;
    * ``parent_state``: first channel, gain flag (int8), adoption step, exit mask, effect
      flags, exit step and first scheduled step (int16): 12 N;
    * ``intervention_state``: status, referral channel (int8), event time, next
      scheduled step, word-of-mouth count (int16), effect and spillover (float32) per
      parent and intervention: 16 N K;
    * ``outcome_state``: with O outcomes, the score of each after the primary (float32)
      and, when O > 1, the unit effect and unit spillover (float32) per parent and
      intervention: 4 N (O - 1) + 8 N K;
    * ``waiting_lists``: queue ids (int32) and join times (int16), 6 K Q with the initial
      capacity Q = max(1024, N / 64); a list doubles when it fills (at most 6 N K when
      everyone waits for everything, which the 20 % slack of the limit mostly covers);
    * ``scratch``: a step's joiners when every parent joins every programme in it (as
      in a first step after a campaign that reaches everyone): per parent and
      intervention their ids and order keys (12 bytes), per parent the ordering of one
      programme's joiners (32 bytes) and, with a network, per parent and intervention
      their enrolments for the pushes (8 bytes; the pushes read the neighbours from the
      network itself); plus each running chunk's list of scheduled events (8 K per
      parent of a chunk, two chunks at a time);
    * ``network``: CSR offsets (int64) and about D neighbours (int32) per parent;
    * ``network_construction``: the arrays alive at the peak of building the network,
      about 20 bytes per initiated tie (N D / 2 ties) and 24 N, freed (but for the
      network itself) before the state is allocated;
    * ``chunk_counters``: per-chunk counters of the threaded kernels;
    * ``providers``: per-organisation state and parameters;
    * ``recording``: the monthly counts a replicate keeps, 8 (M+1) (10 K S + 17 S +
      (C+2) S + 3 K + NP K + 1) bytes and a few per-organisation totals, and per outcome
      after the primary 8 ((M+1) 4 S + K) bytes;
    * ``timeseries_rows`` / ``summary_rows``: its rows of the tidy tables.

    Args:
        scenario: the validated scenario.
        replicates: replicates to run (default ``scenario.simulation.replicates``).
        concurrent: replicates simulated side by side (see :func:`impactsim.runner.run`).

    Returns:
        The :class:`MemoryEstimate`.
    """
    z = _sizes(scenario, replicates)
    n, k, s, c, np_, m, t, d = (z[x] for x in ("N", "K", "S", "C", "NP", "M", "T", "D"))
    xo = z["O"] - 1  # outcomes after the primary
    i64 = 8
    chunks = chunk_count(int(n))
    queue = initial_queue_capacity(int(n))
    ties = n * d / 2.0  # initiated ties; the network keeps about 2 x ties neighbour entries
    drawn, _ = parent_bytes(("segment", "category", "score"))
    per_parent, per_parent_iv = parent_bytes()
    parts: dict[str, float] = {
        "population": drawn * n,
        "parent_state": (per_parent - drawn) * n,
        "intervention_state": per_parent_iv * n * k,
        "outcome_state": n * xo * OUTCOME_BYTES_PER_PARENT
        + (n * k * OUTCOME_BYTES_PER_PARENT_IV if xo > 0 else 0),
        "waiting_lists": 6 * k * queue,
        # a step in which everyone joins everything: ids, keys, the ordering of one
        # programme's joiners (waiting_lists.order_by_uniform_key); the enrolments and their
        # ids for the pushes (pushes.push_to_neighbours reads the neighbours from the
        # network); two chunks' lists of scheduled events
        "scratch": n * k * (12 + (8 if d > 0 else 0))
        + 32 * n
        + 2 * 8 * max(k, 1) * math.ceil(n / chunks),
        "network": i64 * (n + 1) + 4 * 2 * ties,
        # per-step counters (and the joiners' slots), stock counts (one more slot),
        # month-end counts (3 rows and the gain), event lists
        "chunk_counters": i64
        * (chunks + 1)
        * (18 * k * s + 35 * s + 5 + 2 * k + 2 * (c + 2) * s + 3 * EVENT_LIST_CAPACITY)
        + i64 * chunks * xo * 4 * s,
        "providers": np_ * (18 * k + 80) + t * k * 4,
        "recording": i64 * (m + 1) * (10 * k * s + 17 * s + (c + 2) * s + 3 * k + np_ * k + 1)
        + i64 * (np_ * k + np_ + k + 25)
        + i64 * xo * ((m + 1) * 4 * s + k),
    }
    build = 0.0
    if d > 0:
        build = 20 * ties + 24 * n
    parts["network_construction"] = build
    ts_rows = (m + 1) * (k * (s + 1) + 4 * k + 4 * (s + 1) + 5 + (c + 2) + 2)
    sm_rows = 6 * (k + 1) * (s + 1) + 2 * (c + 2) + 50
    if xo > 0:  # each outcome's rows by name, the primary's too (metrics.outcome_rows)
        ts_rows += (xo + 1) * (m + 1) * (3 * (s + 1) + 1)
        sm_rows += (xo + 1) * (6 * (s + 1) + 6 * (k + 1) + 3)
    parts["timeseries_rows"] = _ROW_FRAME * ts_rows
    parts["summary_rows"] = _ROW_FRAME * sm_rows
    steady = sum(
        parts[x]
        for x in (
            "population",
            "parent_state",
            "intervention_state",
            "outcome_state",
            "waiting_lists",
            "scratch",
            "network",
            "chunk_counters",
            "providers",
            "recording",
        )
    )
    engine_peak = max(parts["population"] + build, steady)
    kept = parts["recording"] + parts["timeseries_rows"] + parts["summary_rows"]
    reps = int(z["R"])
    tables_peak = reps * (ts_rows + sm_rows) * (_ROW_COLLECT + _ROW_CONCAT + _ROW_FRAME)
    return MemoryEstimate(
        parts={name: int(v) for name, v in parts.items()},
        engine_peak=int(engine_peak),
        kept_per_replicate=int(kept),
        tables_peak=int(tables_peak),
        replicates=reps,
        sizes=z,
        concurrent=max(1, int(concurrent)),
    )


# --------------------------------------------------------------------------- limits
def available_memory() -> int | None:
    """Bytes of memory available to this process now, or None when unknown.

    ``MemAvailable`` of ``/proc/meminfo`` (else free pages from ``os.sysconf``), capped by
    the room left under a cgroup memory limit (containers), whichever is smaller.
    """
    found: list[int] = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
                break
    except (OSError, ValueError, IndexError):
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    cgroup = _cgroup_room()
    if cgroup is not None:
        found.append(cgroup)
    return min(found) if found else None


def _cgroup_room() -> int | None:
    """Room left under a cgroup v2 or v1 memory limit (None when there is no limit)."""
    pairs = (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    )
    for limit_file, usage_file in pairs:
        try:
            text = Path(limit_file).read_text().strip()
            if text == "max":
                return None
            limit = int(text)
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit >= 2**60:  # cgroup v1 reports "no limit" as a huge number
            return None
        return max(0, limit - usage)
    return None


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:I?B)?\s*$", re.IGNORECASE)
_SHARE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def parse_memory_limit(text: str | int) -> int | float | None:
    """Parse a memory limit.

    Args:
        text: bytes (an int or digits), a size with a unit (``512M``, ``8G``, ``1.5GiB``,
            ``2TB``; K, M, G, T, P are powers of 1024), a share of the available memory
            (``75%``), or ``off`` / ``none`` / ``unlimited``.

    Returns:
        Bytes (int), a share of the available memory (float below or at 1, from ``%``),
        or None for no limit.

    Raises:
        ValueError: the text is none of these.
    """
    if isinstance(text, bool):
        raise ValueError(f"memory limit must be a size such as 8G, not {text!r}")
    if isinstance(text, int):
        if text <= 0:
            raise ValueError(f"memory limit must be positive (got {text})")
        return text
    word = str(text).strip().lower()
    if word in ("off", "none", "unlimited", "no"):
        return None
    share = _SHARE.match(word)
    if share:
        pct = float(share.group(1))
        if not 0 < pct <= 100:
            raise ValueError(f"a memory limit share must be above 0 % and at most 100 % ({text})")
        return pct / 100.0
    size = _SIZE.match(word)
    if not size:
        raise ValueError(
            f"memory limit {text!r} not understood; give bytes or a size such as 512M, 8G or "
            "1.5GiB, a share such as 75%, or off"
        )
    value = float(size.group(1)) * _UNITS[size.group(2).upper()]
    if not math.isfinite(value) or value < 1:
        raise ValueError(f"memory limit must be at least 1 byte (got {text!r})")
    return int(value)


@dataclass(frozen=True)
class MemoryLimit:
    """A resolved limit: bytes (None = no limit) and where it came from (for messages)."""

    bytes: int | None
    source: str


def resolve_memory_limit(limit: int | str | None = None) -> MemoryLimit:
    """The limit to apply: ``limit`` if given, else ``$IMPACTSIM_MEMORY_LIMIT``, else the default.

    Args:
        limit: as :func:`parse_memory_limit` accepts, or None.

    Returns:
        The :class:`MemoryLimit`; without any setting, :data:`DEFAULT_FRACTION` of
        :func:`available_memory` (no limit when that is unknown).

    Raises:
        ValueError: the limit (or the environment variable) cannot be parsed.
    """
    if limit is not None:
        parsed, source = parse_memory_limit(limit), "--memory-limit"
    elif os.environ.get(ENV_VAR, "").strip():
        try:
            parsed = parse_memory_limit(os.environ[ENV_VAR])
        except ValueError as err:
            raise ValueError(f"{ENV_VAR}: {err}") from None
        source = ENV_VAR
    else:
        parsed, source = DEFAULT_FRACTION, "default"
    if parsed is None:
        return MemoryLimit(None, f"{source} (off)")
    if isinstance(parsed, float):
        avail = available_memory()
        if avail is None:
            return MemoryLimit(None, f"{source} (available memory unknown)")
        return MemoryLimit(
            int(parsed * avail),
            f"{source}: {100 * parsed:g} % of the {format_bytes(avail)} available",
        )
    return MemoryLimit(parsed, source)


def check_memory(
    scenario: Scenario,
    replicates: int | None = None,
    limit: int | str | None = None,
    concurrent: int = 1,
) -> MemoryEstimate:
    """Refuse a run whose estimated memory exceeds the limit.

    Args:
        scenario: the validated scenario.
        replicates: replicates to run (default ``scenario.simulation.replicates``).
        limit: memory limit (see :func:`parse_memory_limit`); None: ``$IMPACTSIM_MEMORY_LIMIT``
            or :data:`DEFAULT_FRACTION` of the available memory.
        concurrent: replicates simulated side by side.

    Returns:
        The estimate (when it fits).

    Raises:
        MemoryLimitError: the estimate exceeds the limit; the message states the estimate,
            the limit, the largest parts and how to reduce them.
        ValueError: the limit cannot be parsed.
    """
    est = estimate_memory(scenario, replicates, concurrent)
    lim = resolve_memory_limit(limit)
    if lim.bytes is None or est.total <= lim.bytes:
        return est
    raise MemoryLimitError(_refusal(scenario, est, lim), est, lim.bytes)


def _refusal(scenario: Scenario, est: MemoryEstimate, lim: MemoryLimit) -> str:
    z = est.sizes
    n, k, d, m, r = int(z["N"]), int(z["K"]), z["D"], int(z["M"]), est.replicates
    kept = r * est.kept_per_replicate
    lines = [
        f"scenario '{scenario.name}' needs an estimated {format_bytes(est.total)} of memory, "
        f"above the limit of {format_bytes(lim.bytes or 0)} ({lim.source}); nothing was run.",
        f"  one replicate: {format_bytes(est.engine_peak)} at its peak ({n:,} families x "
        f"{k} intervention(s)"
        + (f", network of mean degree {d:g}" if d else "")
        + ")"
        + (f", {est.concurrent} side by side" if est.concurrent > 1 else ""),
        f"  kept for {r:,} replicate(s) x {m:,} months: {format_bytes(kept)} "
        f"({format_bytes(est.kept_per_replicate)} each)",
        "To reduce it:",
    ]
    tips: list[tuple[float, str]] = [
        (
            est.engine_peak,
            f"fewer families (population.size, now {n:,}): memory grows in proportion",
        ),
        (
            kept,
            f"fewer replicates (--replicates, now {r:,}) or months (simulation.months, now {m:,}); "
            "or split the run with impactsim sweep / run(first_replicate=...)",
        ),
    ]
    if d:
        tips.append(
            (
                est.parts["network_construction"],
                f"a smaller network (population.network.mean_degree, now {d:g}) or "
                "population.network.kind: fully_mixed",
            )
        )
    if k > 1:
        tips.append((est.parts["intervention_state"], f"fewer offered interventions (now {k})"))
    if est.concurrent > 1:
        tips.append(
            (
                (est.concurrent - 1) * est.engine_peak,
                f"one replicate at a time (--parallel parents or auto), not {est.concurrent} "
                "side by side",
            )
        )
    for _, tip in sorted(tips, key=lambda x: -x[0]):
        lines.append(f"  - {tip}")
    lines.append(
        f"  - or set a higher limit: --memory-limit {_suggest(est.total)} or "
        f"{ENV_VAR}={_suggest(est.total)} (off disables the check)"
    )
    return "\n".join(lines)


def _suggest(n: int) -> str:
    gib = n / 2**30
    if gib >= 1:
        return f"{math.ceil(gib * 1.1)}G"
    return f"{math.ceil(n / 2**20 * 1.1)}M"
