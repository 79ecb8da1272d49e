"""Evaluating mixes: run each on the sweep executors, keep every result on disk.

Every candidate of one stage runs with the same seed and the same replicate numbers
(common random numbers), so two candidates differ only by their decisions. Replicates
are split into tasks of :data:`REPLICATES_PER_TASK` and handed to a sweep backend
(process pool, Dask, serial); since each replicate's numbers depend only on (seed,
replicate), the results are the same for any number of workers or any split.

Each finished evaluation is written atomically to ``DIR/evaluations/<key>.json`` before
the search sees it. A killed optimisation run again replays its search from the start:
the search is deterministic, and every evaluation it asks for again is read back from
its file, so it continues where it stopped and ends with the same result.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
from collections.abc import Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from impactsim.io import inner_dir, write_text
from impactsim.optimize.mix import mix_key, mix_scenario
from impactsim.optimize.spec import Optimization
from impactsim.sweep.execute import Backend
from impactsim.sweep.worker import TaskOutcome, TaskPayload, run_task

#: Replicates run together in one task.
REPLICATES_PER_TASK = 4

#: Attempts of a task lost with its worker before the candidate counts as failed.
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Evaluation:
    """One candidate's results.

    Attributes:
        values: the decisions' values by label.
        seed: base seed.
        first_replicate: number of the first replicate.
        metrics: per-replicate values of each kept metric (NaN where undefined).
        error: why the candidate could not be run (None when it ran).
    """

    values: dict[str, Any]
    seed: int
    first_replicate: int
    metrics: dict[str, np.ndarray]
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the candidate ran."""
        return self.error is None

    def mean(self, metric: str) -> float:
        """Mean over replicates (NaN when undefined in every replicate)."""
        x = self.metrics[metric]
        return float(np.nanmean(x)) if np.isfinite(x).any() else float("nan")

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "values": self.values,
            "seed": self.seed,
            "first_replicate": self.first_replicate,
            "metrics": {
                k: [None if np.isnan(v) else float(v) for v in x] for k, x in self.metrics.items()
            },
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evaluation:
        """Read back :meth:`to_json`."""
        metrics = {
            k: np.array([np.nan if v is None else float(v) for v in x], dtype=np.float64)
            for k, x in data["metrics"].items()
        }
        return cls(
            data["values"], int(data["seed"]), int(data["first_replicate"]), metrics, data["error"]
        )


class Evaluator:
    """Runs candidates on a backend and keeps their results in ``DIR/evaluations``."""

    def __init__(self, opt: Optimization, directory: Path, backend: Backend):
        self.opt = opt
        self.directory = inner_dir(Path(directory), "evaluations")
        self.backend = backend
        self.fingerprint = opt.evaluation_fingerprint()
        self.ran = 0
        self.reused = 0

    def _key(self, values: Mapping[str, Any], seed: int, first: int, n: int) -> str:
        text = f"{self.fingerprint}:{mix_key(values)}:{seed}:{first}:{n}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def _read(self, key: str) -> Evaluation | None:
        path = self.directory / f"{key}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("key") != key:
                return None
            return Evaluation.from_json(data["evaluation"])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or damaged: evaluated again

    def _write(self, key: str, ev: Evaluation) -> None:
        text = json.dumps({"key": key, "evaluation": ev.to_json()}, sort_keys=True)
        write_text(self.directory / f"{key}.json", text)

    def evaluate(
        self, candidates: Sequence[Mapping[str, Any]], *, seed: int, first: int, replicates: int
    ) -> list[Evaluation]:
        """Evaluate candidates (in parallel on the backend), reading known ones from disk.

        Args:
            candidates: each candidate's decision values by label.
            seed: base seed of every candidate.
            first: first replicate number.
            replicates: replicates per candidate.

        Returns:
            The evaluations, in the order of ``candidates``.
        """
        keys = [self._key(c, seed, first, replicates) for c in candidates]
        found: dict[str, Evaluation] = {}
        todo: dict[str, Mapping[str, Any]] = {}
        for key, c in zip(keys, candidates, strict=True):
            ev = found.get(key) or self._read(key)
            if ev is not None:
                found[key] = ev
                self.reused += 1
            else:
                todo.setdefault(key, c)
        if todo:
            for key, ev in self._run(todo, seed, first, replicates).items():
                self._write(key, ev)
                found[key] = ev
                self.ran += 1
        return [found[k] for k in keys]

    def _payloads(self, key: str, values: Mapping[str, Any], seed: int, first: int, n: int):
        scenario = mix_scenario(self.opt.base, self.opt.decisions, values)
        for start in range(first, first + n, REPLICATES_PER_TASK):
            count = min(REPLICATES_PER_TASK, first + n - start)
            yield TaskPayload(
                task_id=f"{key}-{start}",
                point=0,
                first_replicate=start,
                replicates=count,
                seed=seed,
                scenario=scenario,
                metrics=self.opt.metrics,
                posterior=self.opt.posterior,
            )

    def _run(
        self, todo: Mapping[str, Mapping[str, Any]], seed: int, first: int, n: int
    ) -> dict[str, Evaluation]:
        queue = [
            (key, p) for key, c in todo.items() for p in self._payloads(key, c, seed, first, n)
        ]
        outcomes = self._drive(queue)
        out: dict[str, Evaluation] = {}
        for key, values in todo.items():
            parts = [outcomes[p.task_id] for k, p in queue if k == key]
            out[key] = _evaluation(values, seed, first, n, self.opt.metrics, parts)
        return out

    def _drive(self, queue: list[tuple[str, TaskPayload]]) -> dict[str, TaskOutcome]:
        pending = [p for _, p in queue]
        attempts: dict[str, int] = {}
        inflight: dict[cf.Future, TaskPayload] = {}
        out: dict[str, TaskOutcome] = {}
        try:
            while pending or inflight:
                while pending and len(inflight) < self.backend.max_in_flight:
                    payload = pending.pop(0)
                    inflight[self.backend.submit(run_task, payload)] = payload
                done, _ = cf.wait(list(inflight), return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    payload = inflight.pop(fut)
                    try:
                        out[payload.task_id] = fut.result()
                    except (Exception, cf.CancelledError) as exc:
                        attempts[payload.task_id] = attempts.get(payload.task_id, 0) + 1
                        if attempts[payload.task_id] >= MAX_ATTEMPTS:
                            raise
                        if isinstance(exc, BrokenProcessPool):
                            pending[:0] = list(inflight.values())
                            inflight.clear()
                            self.backend.recover(exc)
                        pending.insert(0, payload)
        except BaseException:
            self.backend.interrupt()
            raise
        return out


def _evaluation(
    values: Mapping[str, Any],
    seed: int,
    first: int,
    n: int,
    metrics: Sequence[str],
    parts: Sequence[TaskOutcome],
) -> Evaluation:
    errors = [p.error for p in parts if not p.ok]
    table = np.full((len(metrics), n), np.nan)
    if errors:
        return Evaluation(
            dict(values), seed, first, dict(zip(metrics, table, strict=True)), errors[0]
        )
    index = {m: i for i, m in enumerate(metrics)}
    for part in parts:
        t = part.table
        assert t is not None
        rows = t.loc[
            (t["segment"] == "all") & (t["intervention"] == "all") & (t["channel"] == "all")
        ]
        rows = rows.loc[rows["adopter_category"] == "all"]
        for m, r, v in zip(rows["metric"], rows["replicate"], rows["value"], strict=True):
            table[index[m], int(r) - first] = v
    return Evaluation(dict(values), seed, first, dict(zip(metrics, table, strict=True)))
