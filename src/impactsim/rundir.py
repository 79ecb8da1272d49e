"""Read a run directory written by ``impactsim run`` and draw its figures.

A run directory holds ``summary.parquet``, ``timeseries.parquet``,
``scenario.resolved.yaml`` and ``run.json`` (see :mod:`impactsim.io`). Reading one that is
missing, partial or written by another impactsim version gives a :class:`RunDirError`
saying exactly what is wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from impactsim import plots
from impactsim._version import __version__
from impactsim.io import OutputPathError, atomic_write, refuse_planted_links
from impactsim.loading import ScenarioError, load_scenario
from impactsim.scenario import Scenario

REQUIRED = ("summary.parquet", "timeseries.parquet", "scenario.resolved.yaml", "run.json")
BREAKDOWN = ("segment", "intervention", "channel", "adopter_category")
#: Columns each table must have, and those of them that must hold numbers.
COLUMNS = {
    "summary": (("scenario", "replicate", "metric", *BREAKDOWN, "value"), ("replicate", "value")),
    "timeseries": (
        ("scenario", "replicate", "month", "metric", *BREAKDOWN, "value"),
        ("replicate", "month", "value"),
    ),
    "ceac": (
        ("wtp_eur_per_case_year", "p_cost_effective", "mean_nmb"),
        ("wtp_eur_per_case_year", "p_cost_effective", "mean_nmb"),
    ),
}
#: The summary's columns (kept for callers that check a summary themselves).
SUMMARY_COLUMNS = COLUMNS["summary"][0]


class RunDirError(ValueError):
    """A run directory cannot be used; the message says what is missing or wrong."""


@dataclass
class RunDir:
    """The tables and provenance of one run, read back from disk."""

    path: Path
    summary: pd.DataFrame
    timeseries: pd.DataFrame
    scenario: Scenario
    info: dict[str, Any] = field(default_factory=dict)

    def ceac(self) -> pd.DataFrame:
        """The acceptability curve table (``ceac.csv``), recomputed if the file is absent."""
        path = self.path / "ceac.csv"
        if path.is_file():
            try:
                table = pd.read_csv(path)
            except (OSError, ValueError) as exc:  # pandas' parser errors are ValueErrors
                raise RunDirError(f"{path}: unreadable CSV file ({exc})") from None
            check_table(table, "ceac", path)
            return table
        from impactsim.economics import ceac_table

        return ceac_table(self.summary, self.scenario.economics.wtp_grid_eur_per_case_year)


def check_table(table: pd.DataFrame, kind: str, path: Path) -> None:
    """Refuse a table that is not the one impactsim writes as ``kind`` (see :data:`COLUMNS`).

    Raises:
        RunDirError: a column is missing, or one that holds numbers holds something else
            (text, say): the file was changed, swapped with another or written by other
            software.
    """
    columns, numeric = COLUMNS[kind]
    absent = [c for c in columns if c not in table.columns]
    if absent:
        raise RunDirError(
            f"{path}: not the {kind} table impactsim writes; missing columns "
            f"{', '.join(absent)} (rerun `impactsim run`)"
        )
    wrong = [c for c in numeric if not pd.api.types.is_numeric_dtype(table[c])]
    if wrong:
        raise RunDirError(
            f"{path}: column(s) {', '.join(wrong)} should hold numbers, not "
            f"{', '.join(str(table[c].dtype) for c in wrong)} (rerun `impactsim run`)"
        )


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split("+")[0].split(".")[:2])


def load_run_dir(path: str | Path) -> RunDir:
    """Read a run directory.

    Args:
        path: directory written by ``impactsim run`` or ``RunResult.to_dir``.

    Returns:
        The :class:`RunDir`.

    Raises:
        RunDirError: the directory is missing, lacks files, has unreadable tables, or was
            written by an impactsim version with a different major.minor number.
    """
    p = Path(path)
    if not p.exists():
        raise RunDirError(f"{p}: run directory not found; create it with `impactsim run --out {p}`")
    if not p.is_dir():
        raise RunDirError(f"{p}: is a file, expected a run directory written by `impactsim run`")
    missing = [name for name in REQUIRED if not (p / name).is_file()]
    if missing:
        raise RunDirError(
            f"{p}: not a complete run directory; missing {', '.join(missing)} "
            "(rerun `impactsim run --out DIR`)"
        )
    try:
        info = json.loads((p / "run.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunDirError(f"{p / 'run.json'}: unreadable ({exc})") from None
    if not isinstance(info, dict):
        raise RunDirError(
            f"{p / 'run.json'}: expected a JSON object with the run's provenance, "
            f"not a {type(info).__name__}"
        )
    made_by = str(info.get("impactsim_version", "unknown"))
    if _major_minor(made_by) != _major_minor(__version__):
        raise RunDirError(
            f"{p}: written by impactsim {made_by}, this is impactsim {__version__}; "
            "rerun the scenario with this version (its tables may differ)"
        )
    tables = {}
    for name in ("summary", "timeseries"):
        try:
            tables[name] = pd.read_parquet(p / f"{name}.parquet")
        except Exception as exc:  # pyarrow raises several types for damaged files
            raise RunDirError(
                f"{p / (name + '.parquet')}: unreadable Parquet file ({exc})"
            ) from None
    for name, table in tables.items():
        check_table(table, name, p / f"{name}.parquet")
    try:
        scenario = load_scenario(p / "scenario.resolved.yaml")
    except ScenarioError as exc:
        raise RunDirError(f"{p / 'scenario.resolved.yaml'}: not a valid scenario:\n{exc}") from None
    return RunDir(p, tables["summary"], tables["timeseries"], scenario, info)


def _has(summary: pd.DataFrame, metric: str) -> bool:
    return bool((summary["metric"] == metric).any())


def figures_for(run: Any) -> dict[str, Any]:
    """All standard figures of one run (a RunResult or RunDir), by file stem."""
    figs = {
        "adoption_by_segment": plots.adoption_curves(run, by="segment"),
        "adoption_by_adopter_category": plots.adoption_curves(run, by="adopter_category"),
        "reach_by_channel": plots.reach_by_channel(run),
        "impact_funnel": plots.impact_funnel(run),
        "public_impact_over_time": plots.public_impact_over_time(run),
        "differential_impact": plots.differential_impact(run),
    }
    if _has(run.summary, "cost_pv"):
        wtp = run.scenario.economics.willingness_to_pay_eur_per_case_year
        figs["cost_effectiveness_plane"] = plots.cost_effectiveness_plane(run, wtp_eur=wtp)
        figs["ceac"] = plots.ceac(run)
        figs["roi_distribution"] = plots.roi_distribution(run)
    return figs


def write_figures(run_dir: str | Path, out: str | Path | None = None, dpi: int = 120) -> list[Path]:
    """Draw every figure of a run directory as PNG files.

    Args:
        run_dir: directory written by ``impactsim run``.
        out: where to write (default ``RUN_DIR/figures``).
        dpi: resolution.

    Returns:
        The files written.
    """
    run = load_run_dir(run_dir)
    target = Path(out) if out is not None else run.path / "figures"
    try:  # a link planted in the run directory would send the figures elsewhere
        if out is None:
            refuse_planted_links(run.path, ("figures",))
    except OutputPathError as err:
        raise RunDirError(f"{err}; or give the folder to write to with --out") from None
    written = []
    for stem, fig in figures_for(run).items():
        path = target / f"{stem}.png"
        atomic_write(path, lambda p, fig=fig: fig.savefig(p, dpi=dpi, format="png"))
        plt.close(fig)
        written.append(path)
    return written
