"""Read a run directory written by ``impactsim run`` and draw its figures.

A run directory holds ``summary.parquet``, ``timeseries.parquet``,
``scenario.resolved.yaml`` and ``run.json`` (see :mod:`impactsim.io`), and ``ceac.csv``.
Every file read passes the checks of :mod:`impactsim.runfiles`; one that is missing,
partial, changed, from another run or written by another impactsim version gives a
:class:`RunDirError` saying which file, where in it and what is wrong.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from impactsim import plots
from impactsim.engine.spec import ModelSpec, compile_scenario
from impactsim.io import OutputPathError, atomic_write, refuse_planted_links
from impactsim.loading import ScenarioError, load_scenario
from impactsim.runfiles import (
    FORMS,
    NO_CHECKSUMS,
    REQUIRED,
    RERUN,
    RunDirError,
    check_digest,
    check_file,
    check_run,
    check_table,
    read_info,
)
from impactsim.scenario import Scenario
from impactsim.tables import PLACE_COLUMN, replicate_values

#: The columns of each table (kept for callers that check a table themselves).
COLUMNS = {kind: form.columns for kind, form in FORMS.items()}
#: The summary's columns.
SUMMARY_COLUMNS = COLUMNS["summary"]
__all__ = [
    "COLUMNS",
    "REQUIRED",
    "SUMMARY_COLUMNS",
    "RunDir",
    "RunDirError",
    "check_table",
    "figures_for",
    "load_run_dir",
    "write_figures",
]


@dataclass
class RunDir:
    """The tables and provenance of one run, read back from disk.

    Attributes:
        path: the run directory.
        summary: per-replicate horizon metrics (as :attr:`RunResult.summary`).
        timeseries: per-replicate monthly metrics.
        scenario: the resolved scenario that was run.
        info: run.json (provenance, format, checksums).
        notes: what a reader should know, e.g. that run.json records no checksums.
    """

    path: Path
    summary: pd.DataFrame
    timeseries: pd.DataFrame
    scenario: Scenario
    info: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def seed(self) -> int:
        """Base seed of the run (the resolved scenario's, checked against run.json)."""
        return int(self.scenario.simulation.seed)

    @property
    def replicates(self) -> int:
        """Number of replicates (the resolved scenario's, checked against the tables)."""
        return int(self.scenario.simulation.replicates)

    @functools.cached_property
    def spec(self) -> ModelSpec:
        """The compiled scenario (as :attr:`RunResult.spec`), e.g. for the per-replicate draws."""
        return compile_scenario(self.scenario)

    def metric(self, name: str, **where: str) -> pd.Series:
        """Per-replicate values of one summary metric, as :meth:`RunResult.metric`."""
        return replicate_values(self.summary, name, **where)

    def ceac(self) -> pd.DataFrame:
        """The acceptability curve table (``ceac.csv``), recomputed if the file is absent.

        Raises:
            RunDirError: ``ceac.csv`` is not a readable table of impactsim's form, or
                disagrees with the summary it was computed from.
        """
        from impactsim.economic_tables import ceac_table

        expected = ceac_table(self.summary, self.scenario.economics.wtp_grid_eur_per_case_year)
        if not os.path.lexists(self.path / "ceac.csv"):
            return expected
        path = check_file(self.path, "ceac.csv")
        check_digest(path, self.info)
        try:
            table = pd.read_csv(path, encoding="utf-8")
        except (OSError, ValueError) as exc:  # pandas' parser errors are ValueErrors
            raise RunDirError(f"{path}: unreadable CSV file ({exc}) ({RERUN})") from None
        check_table(table, "ceac", path)
        check_same(table, expected, path)
        return table


def check_same(table: pd.DataFrame, expected: pd.DataFrame, path: Path) -> None:
    """Refuse a derived table that differs from the one recomputed from the run's tables.

    Raises:
        RunDirError: another number of rows, or the first differing row and column.
    """
    if len(table) != len(expected):
        raise RunDirError(
            f"{path}: {len(table)} rows, but the run's summary gives {len(expected)} ({RERUN})"
        )
    for col in expected.columns:
        a, b = table[col].reset_index(drop=True), expected[col].reset_index(drop=True)
        if pd.api.types.is_numeric_dtype(b):
            x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
            same = np.isclose(x, y, rtol=1e-9, atol=1e-12, equal_nan=True)
        else:
            same = (a.astype(str) == b.astype(str)).to_numpy()
        if not same.all():
            i = int(np.flatnonzero(~same)[0])
            raise RunDirError(
                f"{path}: row {i + 1}: {col} is {a.iloc[i]}, but the run's summary gives "
                f"{b.iloc[i]}: the file was changed after the run ({RERUN})"
            )


def load_run_dir(path: str | Path) -> RunDir:
    """Read a run directory, checking every file it reads (see :mod:`impactsim.runfiles`).

    Args:
        path: directory written by ``impactsim run`` or ``RunResult.to_dir``.

    Returns:
        The :class:`RunDir`.

    Raises:
        RunDirError: the directory is missing or lacks files; a file is not a regular
            file inside it; run.json, a table or the scenario is unreadable, not what
            impactsim writes, or from another run or impactsim version (major.minor).
    """
    p = Path(path)
    if not p.exists():
        raise RunDirError(f"{p}: run directory not found; create it with `impactsim run --out {p}`")
    if not p.is_dir():
        raise RunDirError(f"{p}: is a file, expected a run directory written by `impactsim run`")
    missing = [name for name in REQUIRED if not os.path.lexists(p / name)]
    if missing:
        raise RunDirError(
            f"{p}: not a complete run directory; missing {', '.join(missing)} "
            "(rerun `impactsim run --out DIR`)"
        )
    files = {name: check_file(p, name) for name in REQUIRED}
    info = read_info(files["run.json"])
    for name in ("summary.parquet", "timeseries.parquet", "scenario.resolved.yaml"):
        check_digest(files[name], info)
    tables = {}
    for name in ("summary", "timeseries"):
        try:
            tables[name] = pd.read_parquet(files[f"{name}.parquet"])
        except Exception as exc:  # pyarrow raises several types for damaged files
            raise RunDirError(
                f"{files[name + '.parquet']}: unreadable Parquet file ({exc}) ({RERUN})"
            ) from None
        check_table(tables[name], name, files[f"{name}.parquet"])
    try:
        scenario = load_scenario(files["scenario.resolved.yaml"])
    except ScenarioError as exc:
        raise RunDirError(f"{p / 'scenario.resolved.yaml'}: not a valid scenario:\n{exc}") from None
    check_run(p, info, scenario, tables)
    notes = [] if "sha256" in info else [NO_CHECKSUMS.format(path=p)]
    return RunDir(p, tables["summary"], tables["timeseries"], scenario, info, notes)


def _has(summary: pd.DataFrame, metric: str) -> bool:
    return bool((summary["metric"] == metric).any())


def figures_for(run: Any) -> dict[str, Any]:
    """All standard figures of one run (a RunResult or RunDir), by file stem.

    When drawing one fails (a RunDir whose ceac.csv is refused, say), the figures drawn
    before it are closed, so that a long Python session does not keep them.
    """
    draw = {
        "adoption_by_segment": lambda: plots.adoption_curves(run, by="segment"),
        "adoption_by_adopter_category": lambda: plots.adoption_curves(run, by="adopter_category"),
        "reach_by_channel": lambda: plots.reach_by_channel(run),
        "impact_funnel": lambda: plots.impact_funnel(run),
        "public_impact_over_time": lambda: plots.public_impact_over_time(run),
        "differential_impact": lambda: plots.differential_impact(run),
    }
    if PLACE_COLUMN in run.summary.columns:
        draw["by_neighbourhood"] = lambda: plots.by_neighbourhood(run)
    if len(run.scenario.outcome_list) > 1:
        draw["impact_breadth"] = lambda: plots.impact_breadth(run)
    if _has(run.summary, "cost_pv"):
        wtp = run.scenario.economics.willingness_to_pay_eur_per_case_year
        draw["cost_effectiveness_plane"] = lambda: plots.cost_effectiveness_plane(run, wtp_eur=wtp)
        draw["ceac"] = lambda: plots.ceac(run)
        draw["roi_distribution"] = lambda: plots.roi_distribution(run)
    figs: dict[str, Any] = {}
    try:
        for stem, make in draw.items():
            figs[stem] = make()
    except BaseException:
        for fig in figs.values():
            plt.close(fig)
        raise
    return figs


def write_figures(
    run_dir: str | Path | RunDir, out: str | Path | None = None, dpi: int = 120
) -> list[Path]:
    """Draw every figure of a run directory as PNG files.

    Args:
        run_dir: directory written by ``impactsim run``, or one read with
            :func:`load_run_dir`.
        out: where to write (default ``RUN_DIR/figures``).
        dpi: resolution.

    Returns:
        The files written.

    Raises:
        RunDirError: the run directory is refused (:func:`load_run_dir`), its ``figures``
            is a symbolic link, or the folder to write to is a file.
        OSError: a figure cannot be written there (a folder of that name, no permission).
    """
    run = run_dir if isinstance(run_dir, RunDir) else load_run_dir(run_dir)
    target = Path(out) if out is not None else run.path / "figures"
    try:  # a link planted in the run directory would send the figures elsewhere
        if out is None:
            refuse_planted_links(run.path, ("figures",))
    except OutputPathError as err:
        raise RunDirError(f"{err}; or give the folder to write to with --out") from None
    if target.exists() and not target.is_dir():
        raise RunDirError(
            f"{target}: is a file, not a folder for the figures; remove it, or give the "
            "folder to write to with --out"
        )
    written = []
    figs = figures_for(run)
    try:
        for stem, fig in figs.items():
            path = target / f"{stem}.png"
            atomic_write(path, lambda p, fig=fig: fig.savefig(p, dpi=dpi, format="png"))
            written.append(path)
    finally:
        for fig in figs.values():
            plt.close(fig)
    return written
