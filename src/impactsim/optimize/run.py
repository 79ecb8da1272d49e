"""A whole optimisation: search, finalists, budget–impact curve, and the output directory.

The output directory holds:

* ``evaluations/``: one file per evaluated candidate (a killed optimisation run again
  reads them back and continues, see :mod:`impactsim.optimize.evaluate`);
* ``trials.parquet``: every candidate of every search (decisions, objective means, cost,
  chance within budget, feasible);
* ``finalists.csv``: the best candidates re-evaluated, with intervals and P(best);
* ``pareto.csv``: the feasible non-dominated candidates (several objectives);
* ``curve.csv``: the best mix found at each budget level, with intervals;
* ``recommended.yaml``: the recommended mix as a scenario file; ``impactsim run`` on it
  reproduces the recommended mix's numbers in ``finalists.csv``;
* ``figures/``: ``convergence.png``, ``pareto.png``, ``curve.png``;
* ``report.html`` (plain language, ``--lang``), ``summary.md``;
* ``inputs/``: the optimisation file as given and the resolved base scenario;
* ``optimization.json``: version, seed, fingerprint, settings, status, timings.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from impactsim._version import __version__
from impactsim.optimize.evaluate import Evaluation, Evaluator
from impactsim.optimize.finalists import (
    choose,
    finalist_seed,
    recommended,
    reevaluate,
)
from impactsim.optimize.mix import base_mix
from impactsim.optimize.outputs import write_outputs
from impactsim.optimize.result import OptimizationResult, Stage
from impactsim.optimize.search import Limits, TrialRecord, run_search
from impactsim.optimize.spec import Optimization
from impactsim.sweep.execute import make_backend

#: Feasible mixes of earlier searches handed to each budget level's search first.
WARM_START = 3


class OptimizationError(ValueError):
    """The output directory belongs to another optimisation, or another problem of the run."""


def _check_directory(out: Path, opt: Optimization) -> None:
    info = out / "optimization.json"
    if not info.exists():
        return
    try:
        found = json.loads(info.read_text(encoding="utf-8")).get("fingerprint")
    except (OSError, ValueError, AttributeError):
        return  # damaged: rewritten at the end
    if found != opt.fingerprint():
        raise OptimizationError(
            f"{out} holds the results of another optimisation (its inputs differ); "
            "choose another --out directory or remove it"
        )


class _Runner:
    """The stages of one optimisation, sharing one evaluator."""

    def __init__(self, opt: Optimization, evaluator: Evaluator, log: Callable[[str], None]):
        self.opt = opt
        self.ev = evaluator
        self.log = log
        self.screen_seed = opt.seed
        self.final_seed = finalist_seed(opt.seed)
        self.search_seed = opt.spec.search.seed if opt.spec.search.seed is not None else opt.seed
        self.records: list[TrialRecord] = []

    def screen(self, mixes: Sequence[Mapping[str, Any]]) -> list[Evaluation]:
        return self.ev.evaluate(
            mixes, seed=self.screen_seed, first=0, replicates=self.opt.spec.replicates
        )

    def final(self, mixes: Sequence[Mapping[str, Any]]) -> list[Evaluation]:
        n = self.opt.spec.finalists.replicates
        return self.ev.evaluate(mixes, seed=self.final_seed, first=0, replicates=n)

    def limits(self, budget: float, base: Evaluation) -> Limits:
        b = self.opt.spec.budget
        gap = None
        if self.opt.spec.equity == "no_wider_than_base":
            gap = base.mean("differential_impact_gap_pp")
        return Limits(self.opt.budget_total(budget), b.metric, b.chance, gap)

    def stage(self, name: str, budget: float, base: Evaluation, trials: int, count: int) -> Stage:
        limits = self.limits(budget, base)
        warm = [base_mix(self.opt.decisions), *self._warm(limits)]
        seed = _stage_seed(self.search_seed, name)
        done = len(self.records)
        found = run_search(
            self.opt,
            self.screen,
            limits,
            trials=trials,
            seed=seed,
            enqueue=warm,
            stage=name,
            on_batch=lambda n: self.log(f"{name}: {n}/{trials} candidates"),
        )
        for r in found:
            r.number += done
        self.records += found
        chosen = choose(found, self.opt.spec.objectives, count)
        objective = self.opt.spec.objectives[0]
        finals = reevaluate(chosen, self.final, objective, limits, self.final_seed)
        self.log(f"{name}: {len(finals)} finalists re-evaluated")
        return Stage(name, budget, limits, found, finals, recommended(finals, objective))

    def _warm(self, limits: Limits) -> list[dict[str, Any]]:
        objective = self.opt.spec.objectives[0]
        fits = [r for r in self.records if r.evaluation.ok and limits.met(r.evaluation)]
        best = choose(fits, [objective], WARM_START)
        return [r.values for r in best]


def _stage_seed(seed: int, name: str) -> int:
    if name == "search":
        return seed
    digest = hashlib.sha256(f"impactsim-stage:{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def optimize(
    opt: Optimization,
    out: str | Path,
    *,
    workers: int | None = 1,
    scheduler: str | None = None,
    client: Any = None,
    lang: str = "en",
    log: Callable[[str], None] | None = None,
) -> OptimizationResult:
    """Run an optimisation and write its directory.

    Args:
        opt: the validated optimisation.
        out: output directory (an interrupted optimisation in it is continued).
        workers: worker processes (0: in this process); ignored with ``scheduler``.
        scheduler: Dask scheduler address (``tcp://HOST:PORT``) or ``local``.
        client: a ``dask.distributed.Client`` to run on (instead of ``scheduler``).
        lang: language of ``report.html`` (``en`` or ``nl``).
        log: called with progress lines.

    Returns:
        The result.

    Raises:
        OptimizationError: ``out`` holds another optimisation.
    """
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    _check_directory(directory, opt)
    say = log or (lambda _msg: None)
    t0 = time.perf_counter()
    backend = make_backend(workers, scheduler, client=client)
    try:
        runner = _Runner(opt, Evaluator(opt, directory, backend), say)
        base = runner.screen([base_mix(opt.decisions)])[0]
        base_final = runner.final([base_mix(opt.decisions)])[0]
        spec = opt.spec
        main = runner.stage(
            "search",
            spec.budget.total_eur or spec.budget.per_year_eur,
            base,
            spec.search.trials,
            spec.finalists.count,
        )  # type: ignore[arg-type]
        curve = []
        if spec.curve is not None:
            for level in spec.curve.levels:
                curve.append(
                    runner.stage(
                        f"budget {level:g}", level, base, spec.curve.trials, spec.curve.finalists
                    )
                )
    finally:
        backend.close()
    seconds = time.perf_counter() - t0
    result = OptimizationResult(opt, directory, main, curve, base, base_final)
    result.info = {
        "impactsim": __version__,
        "fingerprint": opt.fingerprint(),
        "seed": opt.seed,
        "finalist_seed": runner.final_seed,
        "status": result.status,
        "seconds": round(seconds, 2),
        "evaluations_run": runner.ev.ran,
        "evaluations_reused": runner.ev.reused,
        "evaluations_per_minute": round(60.0 * runner.ev.ran / seconds, 2) if seconds > 0 else None,
        "backend": backend.description,
        "posterior": None
        if opt.posterior is None
        else {"file": str(opt.posterior.file), "sha256": opt.posterior.sha256},
    }
    if opt.spec.value_of_information is not None and result.main.best is not None:
        from impactsim.optimize.information import finalists_voi

        say("value of information: comparing the finalists")
        result.comparison, result.voi = finalists_voi(result)
    write_outputs(result, lang)
    return result
