"""The search: Optuna proposes mixes in batches, the evaluator runs them, constraints decide.

Optuna's ask-and-tell interface drives the search on an in-memory study: a batch of
``search.batch`` candidates is asked for, evaluated in parallel, and told back in trial
order. The sampler is seeded, the batch size is fixed by the file, and the evaluations
do not depend on the number of workers, so the trials are the same for 1 or 100 workers.

Constraints are Optuna's (``Trial.set_constraint``, values <= 0 are met): the mean cost within the budget (or the
share of replicates within it at least ``chance``) and, optionally, the impact gap no
wider than the base's. TPE handles them as constrained TPE, NSGA-II by constrained
domination.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna

from impactsim.optimize.evaluate import Evaluation
from impactsim.optimize.schema import OBJECTIVES
from impactsim.optimize.spec import Optimization, ResolvedDecision

#: Random candidates before TPE models the results, when the file does not say.
STARTUP_TRIALS = 10

Evaluate = Callable[[Sequence[Mapping[str, Any]]], list[Evaluation]]


@dataclass(frozen=True)
class Limits:
    """What a mix must satisfy at one budget.

    Attributes:
        budget: the total the cost metric must stay within (euros, over the horizon).
        metric: the cost metric.
        chance: required share of replicates within budget (None: the mean counts).
        gap: the widest allowed impact gap (percentage points; None: no equity limit).
    """

    budget: float
    metric: str
    chance: float | None = None
    gap: float | None = None

    def violations(self, ev: Evaluation) -> list[float]:
        """Optuna constraint values (<= 0 when met), scaled to be comparable."""
        cost = ev.metrics[self.metric]
        if self.chance is None:
            out = [(float(np.nanmean(cost)) - self.budget) / self.budget]
        else:
            out = [self.chance - float(np.mean(cost <= self.budget))]
        if self.gap is not None:
            out.append(float(np.nanmean(ev.metrics["differential_impact_gap_pp"])) - self.gap)
        return [v if math.isfinite(v) else 1e9 for v in out]

    def met(self, ev: Evaluation) -> bool:
        """True when the evaluation satisfies every limit."""
        return ev.ok and all(v <= 0 for v in self.violations(ev))


@dataclass
class TrialRecord:
    """One evaluated candidate of a search."""

    number: int
    values: dict[str, Any]
    evaluation: Evaluation
    objectives: list[float]
    feasible: bool
    stage: str = "search"
    extra: dict[str, Any] = field(default_factory=dict)


def _suggest(trial: optuna.trial.BaseTrial, d: ResolvedDecision) -> Any:
    s = d.spec
    if s.kind == "offered":
        return bool(trial.suggest_categorical(d.label, [True, False]))
    if s.values is not None:
        return s.values[int(trial.suggest_categorical(d.label, list(range(len(s.values)))))]
    lo, hi = s.range  # type: ignore[misc]
    log = s.scale == "log"
    if d.integer:
        step = max(1, round(s.step or 1))
        return int(trial.suggest_int(d.label, math.ceil(lo), math.floor(hi), step=step, log=log))
    return float(trial.suggest_float(d.label, lo, hi, step=s.step, log=log))


def optuna_params(decisions: Sequence[ResolvedDecision], values: Mapping[str, Any]) -> dict | None:
    """A mix as Optuna parameters (categorical decisions by position), None if outside the space."""
    out: dict[str, Any] = {}
    for d in decisions:
        v, s = values[d.label], d.spec
        if s.kind == "offered":
            out[d.label] = bool(v)
        elif s.values is not None:
            if v not in s.values:
                return None
            out[d.label] = s.values.index(v)
        else:
            lo, hi = s.range  # type: ignore[misc]
            if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
                return None
            if s.step is not None and abs((v - lo) / s.step - round((v - lo) / s.step)) > 1e-9:
                return None
            out[d.label] = int(v) if d.integer else float(v)
    return out


def make_sampler(opt: Optimization, seed: int, trials: int) -> optuna.samplers.BaseSampler:
    """The seeded Optuna sampler of a search (constraints come with each trial)."""
    kind = opt.spec.search.sampler or ("tpe" if len(opt.spec.objectives) == 1 else "nsga2")
    startup = opt.spec.search.startup_trials or min(STARTUP_TRIALS, max(2, trials // 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if kind == "tpe":
            return optuna.samplers.TPESampler(
                seed=seed, n_startup_trials=startup, multivariate=True, constant_liar=True
            )
        if kind == "nsga2":
            population = min(50, max(opt.spec.search.batch, trials // 5, 4))
            return optuna.samplers.NSGAIISampler(seed=seed, population_size=population)
    return optuna.samplers.RandomSampler(seed=seed)


def objective_values(opt: Optimization, ev: Evaluation) -> list[float]:
    """Mean of every objective over the evaluation's replicates."""
    return [ev.mean(m) for m in opt.spec.objectives]


def run_search(
    opt: Optimization,
    evaluate: Evaluate,
    limits: Limits,
    *,
    trials: int,
    seed: int,
    enqueue: Sequence[Mapping[str, Any]] = (),
    stage: str = "search",
    on_batch: Callable[[int], None] | None = None,
) -> list[TrialRecord]:
    """Search for the best mix within ``limits``.

    Args:
        opt: the optimisation.
        evaluate: candidates to evaluations (the same seed and replicates for all).
        limits: budget and equity limits.
        trials: candidates to evaluate (enqueued ones included).
        seed: seed of the sampler.
        enqueue: mixes evaluated first (the base, earlier stages' best).
        stage: name of the search in the records.
        on_batch: called with the number of trials done after each batch.

    Returns:
        One record per trial, in trial order.
    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    directions = ["maximize" if OBJECTIVES[m] else "minimize" for m in opt.spec.objectives]
    sampler = make_sampler(opt, seed, trials)
    study = optuna.create_study(directions=directions, sampler=sampler)
    for values in enqueue:
        params = optuna_params(opt.decisions, values)
        if params is not None:
            study.enqueue_trial(params, skip_if_exists=True)
    records: list[TrialRecord] = []
    while len(records) < trials:
        size = min(opt.spec.search.batch, trials - len(records))
        asked = [study.ask() for _ in range(size)]
        mixes = [{d.label: _suggest(t, d) for d in opt.decisions} for t in asked]
        for trial, mix, ev in zip(asked, mixes, evaluate(mixes), strict=True):
            records.append(_tell(study, opt, limits, trial, mix, ev, stage))
        if on_batch is not None:
            on_batch(len(records))
    return records


def _tell(
    study: optuna.Study,
    opt: Optimization,
    limits: Limits,
    trial: optuna.trial.Trial,
    mix: dict[str, Any],
    ev: Evaluation,
    stage: str,
) -> TrialRecord:
    objs = objective_values(opt, ev)
    if not ev.ok or not all(math.isfinite(v) for v in objs):
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        return TrialRecord(trial.number, mix, ev, objs, False, stage)
    for name, value in zip(("budget", "equity"), limits.violations(ev), strict=False):
        trial.set_constraint(name, value)
    study.tell(trial, objs if len(objs) > 1 else objs[0])
    return TrialRecord(trial.number, mix, ev, objs, limits.met(ev), stage)
