"""What an optimisation found: its stages, and the table of every candidate."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from impactsim.io import write_text
from impactsim.optimize.evaluate import Evaluation
from impactsim.optimize.finalists import Finalist
from impactsim.optimize.search import Limits, TrialRecord
from impactsim.optimize.spec import Optimization


@dataclass
class Stage:
    """One search (the main budget or one level of the curve) and its finalists."""

    name: str
    budget: float
    limits: Limits
    trials: list[TrialRecord]
    finalists: list[Finalist]
    best: Finalist | None


@dataclass
class OptimizationResult:
    """What an optimisation produced (also written to its directory)."""

    opt: Optimization
    directory: Path
    main: Stage
    curve: list[Stage]
    base: Evaluation
    base_final: Evaluation
    info: dict[str, Any] = field(default_factory=dict)
    #: the finalists' comparison (a :class:`~impactsim.compare.CompareResult`) and its
    #: value-of-information table, when the file asks for them
    comparison: Any = None
    voi: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def status(self) -> str:
        """``found`` or ``nothing_fits``."""
        return "found" if self.main.best is not None else "nothing_fits"


def trials_table(result: OptimizationResult) -> pd.DataFrame:
    """Every candidate of every search, tidy: one row per trial."""
    opt = result.opt
    rows = []
    for st in [result.main, *result.curve]:
        for r in st.trials:
            ev = r.evaluation
            row: dict[str, Any] = {"stage": st.name, "trial": r.number, "budget_eur": st.budget}
            row.update({k: cell(v) for k, v in r.values.items()})
            row.update({f"{m}_mean": ev.mean(m) for m in opt.metrics})
            cost = ev.metrics[st.limits.metric]
            row["p_within_budget"] = (
                float((cost <= st.limits.budget).mean()) if ev.ok else float("nan")
            )
            row["feasible"] = r.feasible
            row["error"] = ev.error or ""
            rows.append(row)
    return pd.DataFrame(rows)


def cell(value: Any) -> Any:
    """A decision's value as a table cell (lists and mappings as JSON text)."""
    return json.dumps(value) if isinstance(value, list | dict) else value


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
