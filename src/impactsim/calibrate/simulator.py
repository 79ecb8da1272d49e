"""The simulator seen by the inference: parameter values in, the targets' simulated values out.

A candidate's values are written into the base scenario at the parameters' dotted paths
(:func:`impactsim.sweep.paths.with_values`), the scenario is validated and run with
``replicates`` Monte Carlo replicates, and each target's value is read per replicate
from the run's tidy summary or time series. Every candidate uses the same seed (common
random numbers), so two candidates differ only by their parameter values.

A candidate runs only as long as its targets need (:func:`months_needed`): the engine
keys every random number by (seed, replicate, stream, family, step), so the months a
shorter run simulates are bit for bit those of the full horizon (tested). The economics
rows are computed only when a target reads one.

A candidate the scenario schema refuses (a combination of values no single field check
catches) gives NaN values, which every observation model scores as impossible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from impactsim.calibrate.exposure import CONTACT_SHARE, contact_share
from impactsim.calibrate.schema import Target
from impactsim.calibrate.targets import FLOW_METRICS
from impactsim.economics import ECONOMICS_METRICS
from impactsim.inputs import Problem, ScenarioError
from impactsim.scenario import Scenario
from impactsim.scenario.model import SOURCES_CHECKED
from impactsim.sweep.paths import Location, with_values
from impactsim.tables import select

#: Key of the simulated values in the summary statistics handed to pyabc.
SIMULATED = "simulated"


def target_values(summary: pd.DataFrame, timeseries: pd.DataFrame, t: Target) -> pd.Series:
    """One target's simulated value per replicate, from a run's tidy tables.

    Args:
        summary: the run's horizon summary (long format).
        timeseries: the run's monthly time series (long format).
        t: the target.

    Returns:
        Values indexed by replicate number (empty when the run reports no such row).
    """
    where = {"segment": t.segment, "intervention": t.intervention, "channel": t.channel}
    if t.month is None and t.months is None:
        rows = select(summary, t.metric, **where)
        return rows.groupby("replicate", observed=True)["value"].mean()
    first, last = (t.month, t.month) if t.month is not None else t.months  # type: ignore[misc]
    rows = select(timeseries, t.metric, **where)
    rows = rows.loc[(rows["month"] >= first) & (rows["month"] <= last)]
    grouped = rows.groupby("replicate", observed=True)["value"]
    return grouped.sum() if t.metric in FLOW_METRICS else grouped.mean()


def months_needed(targets: Sequence[Target], horizon: int) -> int:
    """The months a candidate must simulate: the last month a simulated target reads.

    A target of the horizon summary (no ``month`` or ``months``) needs the whole horizon.
    """
    last = 0
    for t in targets:
        if t.month is None and t.months is None:
            return horizon
        last = max(last, t.month if t.month is not None else t.months[1])  # type: ignore[index]
    return min(max(last, 1), horizon)


def needs_economics(targets: Sequence[Target]) -> bool:
    """True when a target reads an economics row (the candidates' runs must compute them)."""
    return any(t.metric in ECONOMICS_METRICS for t in targets)


def scenario_value(scenario: Scenario, t: Target) -> float:
    """A target's value computed from the scenario itself (:mod:`.exposure`), not simulated."""
    months = (t.month, t.month) if t.month is not None else t.months
    return contact_share(scenario, t.channel, t.segment, months)


@dataclass(frozen=True)
class Simulator:
    """Parameter values to simulated target values (picklable: it runs in worker processes).

    Attributes:
        base: the base scenario as a dict (every default filled in).
        locations: the parameters' scenario locations, keyed by their labels: a location,
            or an object whose ``changes(value)`` gives the fields to set (a
            :class:`~impactsim.calibrate.priors.ResolvedPrior`: ``*`` paths, relative values).
        targets: the targets, in order.
        replicates: Monte Carlo replicates per candidate.
        seed: base seed of every candidate (common random numbers).
    """

    base: dict[str, Any]
    locations: Mapping[str, Any]
    targets: Sequence[Target]
    replicates: int
    seed: int

    def scenario(self, values: Mapping[str, float]) -> Scenario:
        """The base scenario with the given parameter values, run as long as the targets need.

        Its horizon is :func:`months_needed`, or the base scenario's when the shorter
        scenario is not valid (an offer or channel starting after the cut).

        Raises:
            pydantic.ValidationError: the combination is not a valid scenario.
        """
        changes: list[tuple[Location, float]] = []
        for label, where in self.locations.items():
            value = float(values[label])
            changes += where.changes(value) if hasattr(where, "changes") else [(where, value)]
        data = with_values(self.base, changes)
        # the values alone change: the base's source paths were checked when it was read
        checked = {SOURCES_CHECKED: True}
        horizon = data["simulation"]["months"]
        months = months_needed(self.targets, horizon)
        if months < horizon:
            data["simulation"]["months"] = months
            try:
                return Scenario.model_validate(data, context=checked)
            except ValidationError:  # an offer or channel starting after the cut
                data["simulation"]["months"] = horizon
        return Scenario.model_validate(data, context=checked)

    def values(
        self, values: Mapping[str, float], *, seed: int | None = None, replicates: int | None = None
    ) -> np.ndarray:
        """Simulated values of every target per replicate.

        Args:
            values: parameter values by label.
            seed: base seed (default: the simulator's, the same for every candidate).
            replicates: replicates (default: the simulator's).

        Returns:
            ``[replicates, targets]``; NaN everywhere for an invalid candidate, and where a
            replicate does not define the value (a share of no families).
        """
        from impactsim.runner import run

        reps = self.replicates if replicates is None else replicates
        try:
            scenario = self.scenario(values)
        except ValidationError:
            return np.full((reps, len(self.targets)), np.nan)
        result = run(
            scenario,
            replicates=reps,
            seed=self.seed if seed is None else seed,
            progress=False,
            economics=needs_economics(self.targets),
        )
        out = np.full((reps, len(self.targets)), np.nan)
        metrics = {t.metric for t in self.targets}
        summary = result.summary.loc[result.summary["metric"].isin(metrics)]
        timeseries = result.timeseries.loc[result.timeseries["metric"].isin(metrics)]
        for j, t in enumerate(self.targets):
            if t.metric == CONTACT_SHARE:  # from the candidate's contact rates
                out[:, j] = scenario_value(scenario, t)
                continue
            series = target_values(summary, timeseries, t)
            for r, value in series.items():
                out[int(r), j] = value  # replicates are numbered from 0
        return out

    def __call__(self, parameters: Mapping[str, float]) -> dict[str, np.ndarray]:
        """The pyabc model: parameter values to summary statistics."""
        return {SIMULATED: self.values({k: float(parameters[k]) for k in self.locations})}


def check_targets_reported(sim: Simulator, file: str) -> None:
    """Refuse targets the base scenario's run does not report (one replicate is run).

    A metric may lack the breakdown a target asks for (``waiting`` has no channel rows),
    which the schema checks cannot see.

    Args:
        sim: the simulator.
        file: the targets file (for messages).

    Raises:
        ScenarioError: naming every such target.
    """
    from impactsim.runner import run

    scenario = Scenario.model_validate(sim.base)
    result = run(scenario, replicates=1, seed=sim.seed, progress=False)
    problems = []
    for i, t in enumerate(sim.targets):
        if t.metric != CONTACT_SHARE and target_values(result.summary, result.timeseries, t).empty:
            table = result.summary if t.month is None and t.months is None else result.timeseries
            rows = table.loc[table["metric"] == t.metric, ["segment", "intervention", "channel"]]
            found = [
                f"segment={a} intervention={b} channel={c}"
                for a, b, c in rows.drop_duplicates().head(6).itertuples(index=False)
            ]
            problems.append(
                Problem(
                    file,
                    f"targets[{i}:{t.name}]",
                    f"{t.metric} segment={t.segment} intervention={t.intervention} "
                    f"channel={t.channel}",
                    "impactsim reports no such row of this metric; it has e.g. " + "; ".join(found),
                )
            )
    if problems:
        raise ScenarioError(problems)
