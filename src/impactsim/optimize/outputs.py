"""The tables and files of an optimisation's directory (see :mod:`impactsim.optimize.run`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from impactsim.io import inner_dir, write_csv, write_parquet, write_text
from impactsim.loading import dump_scenario, parse_scenario
from impactsim.optimize.finalists import Finalist, pareto_mask, summary_row
from impactsim.optimize.mix import mix_scenario
from impactsim.optimize.result import OptimizationResult, Stage, cell, trials_table, write_json
from impactsim.optimize.schema import OBJECTIVES
from impactsim.scenario import Scenario


def _cells(values: dict[str, Any]) -> dict[str, Any]:
    return {k: cell(v) for k, v in values.items()}


def finalist_rows(result: OptimizationResult, stage: Stage) -> pd.DataFrame:
    """A stage's finalists: decisions, search estimate, re-evaluated mean with intervals, P(best)."""
    objective = result.opt.spec.objectives[0]
    rows = []
    for rank, f in enumerate(stage.finalists, start=1):
        row: dict[str, Any] = {"stage": stage.name, "budget_eur": stage.budget, "rank": rank}
        row.update(_cells(f.values))
        row["objective"] = objective
        row["search_estimate"] = f.screening
        row.update(summary_row(f, objective, result.info["finalist_seed"]))
        for m in result.opt.metrics:
            row[f"{m}_mean"] = f.evaluation.mean(m)
        row["p_within_budget"] = f.p_within_budget
        row["feasible"] = f.feasible
        row["p_best"] = f.p_best
        row["best_share"] = f.best_share
        row["recommended"] = f is stage.best
        rows.append(row)
    return pd.DataFrame(rows)


def curve_table(result: OptimizationResult) -> pd.DataFrame:
    """The budget–impact curve: the best mix found at each budget, with intervals."""
    objective = result.opt.spec.objectives[0]
    rows = []
    for st in sorted(result.curve, key=lambda s: s.budget):
        row: dict[str, Any] = {"budget_eur": st.budget, "budget_total_eur": st.limits.budget}
        best = st.best
        row["status"] = "found" if best is not None else "nothing_fits"
        if best is not None:
            row.update(_cells(best.values))
            row.update(summary_row(best, objective, result.info["finalist_seed"]))
            row["cost_mean"] = best.evaluation.mean(st.limits.metric)
            row["case_years_prevented_mean"] = best.evaluation.mean("case_years_prevented")
            row["p_best"] = best.p_best
        rows.append(row)
    return pd.DataFrame(rows)


def pareto_table(result: OptimizationResult) -> pd.DataFrame:
    """The main search's feasible candidates that no other feasible candidate dominates."""
    objs = result.opt.spec.objectives
    feasible = [r for r in result.main.trials if r.feasible]
    if not feasible:
        return pd.DataFrame()
    pts = np.array([r.objectives for r in feasible])
    mask = pareto_mask(pts, [OBJECTIVES[m] for m in objs])
    rows = []
    for r, keep in zip(feasible, mask, strict=True):
        if keep:
            row: dict[str, Any] = {"trial": r.number, **_cells(r.values)}
            row.update({f"{m}_mean": v for m, v in zip(objs, r.objectives, strict=True)})
            rows.append(row)
    return pd.DataFrame(rows).drop_duplicates(subset=[c for c in rows[0] if c != "trial"])


def recommended_scenario(result: OptimizationResult, best: Finalist) -> Scenario:
    """The recommended mix as a validated scenario, seeded and sized like its re-evaluation."""
    opt = result.opt
    data = mix_scenario(opt.base, opt.decisions, best.values)
    data["simulation"]["seed"] = result.info["finalist_seed"]
    data["simulation"]["replicates"] = opt.spec.finalists.replicates
    data["name"] = f"{data.get('name', 'scenario')}-recommended"
    return parse_scenario(data, "recommended mix")


def recommended_text(result: OptimizationResult, best: Finalist) -> str:
    """The recommended mix as a scenario file's text, with a header saying where it came from."""
    head = [
        f"# The mix recommended by the optimisation '{result.opt.name}' (impactsim "
        f"{result.info['impactsim']}).",
        "# `impactsim run recommended.yaml` reproduces its numbers in finalists.csv"
        + (
            ""
            if result.opt.posterior is None
            else f"\n#   with --posterior {result.opt.posterior.file} (each replicate's draw)"
        ),
        f"# (seed {result.info['finalist_seed']}, {result.opt.spec.finalists.replicates} replicates).",
        "# Decisions: " + ", ".join(f"{k} = {v}" for k, v in best.values.items()),
    ]
    return "\n".join(head) + "\n" + dump_scenario(recommended_scenario(result, best))


def write_outputs(result: OptimizationResult, lang: str) -> None:
    """Write every table, figure and text of a finished optimisation."""
    from impactsim.optimize.plots import write_figures
    from impactsim.optimize.report import render, summary_markdown

    d = result.directory
    opt = result.opt
    write_parquet(d / "trials.parquet", trials_table(result))
    finals = pd.concat([finalist_rows(result, s) for s in [result.main, *result.curve]])
    write_csv(d / "finalists.csv", finals)
    if result.curve:
        write_csv(d / "curve.csv", curve_table(result))
    if not result.voi.empty:
        write_csv(d / "voi.csv", result.voi)
    if len(opt.spec.objectives) > 1:
        write_csv(d / "pareto.csv", pareto_table(result))
    if result.main.best is not None:
        write_text(d / "recommended.yaml", recommended_text(result, result.main.best))
    inputs = inner_dir(d, "inputs")
    write_text(inputs / "optimization.yaml", opt.source_text)
    write_text(inputs / "base.yaml", dump_scenario(Scenario.model_validate(opt.base)))
    write_figures(result, inner_dir(d, "figures"), lang)
    write_text(d / "summary.md", summary_markdown(result, lang))
    write_text(d / "report.html", render(result, lang))
    info = dict(result.info)
    info["settings"] = opt.spec.model_dump(mode="json", exclude={"base"})
    info["name"] = opt.name
    write_json(d / "optimization.json", info)
