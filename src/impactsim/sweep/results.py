"""Read a sweep directory back as one tidy table."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from impactsim.sweep.sampling import UNIT_PREFIX
from impactsim.sweep.schema import SWEEP_BREAKDOWNS
from impactsim.sweep.store import DONE, FAILED, PENDING, DamagedFile, SweepDir
from impactsim.tables import PLACE_COLUMN, select


@dataclass
class SweepResults:
    """A sweep directory loaded into memory.

    Attributes:
        directory: the sweep directory.
        info: contents of ``sweep.json`` (name, method, parameters, definition, fingerprint).
        points: the design: ``point``, one column per parameter, ``unit:<name>`` columns,
            and ``status`` (done when all its tasks are done, failed when one failed,
            else pending).
        manifest: one row per task (task, point, first_replicate, replicates, status,
            attempts, rows, seconds, worker, finished, error).
        data: the tidy table of every done task: ``point``, the parameter columns,
            ``replicate, metric, segment, intervention, channel, adopter_category, outcome,
            neighbourhood, value`` (``neighbourhood`` is ``all`` for the municipality and in
            every row of a scenario without neighbourhoods).
    """

    directory: Path
    info: dict[str, Any]
    points: pd.DataFrame
    manifest: pd.DataFrame
    data: pd.DataFrame

    @property
    def name(self) -> str:
        """Sweep name."""
        return str(self.info["name"])

    @property
    def method(self) -> str:
        """Sampler method (grid, latin_hypercube, sobol, morris, one_way)."""
        return str(self.info["method"])

    @property
    def parameters(self) -> list[str]:
        """Parameter column names, in the order of the sweep file."""
        return [p["name"] for p in self.info["parameters"]]

    @property
    def definition(self) -> dict[str, Any]:
        """The sweep's definition (sampler, replicates, outputs, base scenario...)."""
        return dict(self.info["definition"])

    @property
    def failed(self) -> pd.DataFrame:
        """Failed tasks with their errors."""
        return self.manifest.loc[self.manifest["status"] == FAILED].reset_index(drop=True)

    def counts(self) -> dict[str, int]:
        """Number of tasks per status."""
        vc = self.manifest["status"].value_counts()
        return {s: int(vc.get(s, 0)) for s in (DONE, FAILED, PENDING)}

    def outcome(self, metric: str, **where: str) -> pd.DataFrame:
        """Per-point mean, SD and number of replicates of one metric.

        Args:
            metric: summary metric name, e.g. ``public_impact_pp``.
            **where: breakdown filters (segment=..., intervention=..., channel=...,
                adopter_category=..., outcome=..., neighbourhood=...); default 'all' (the
                totals).

        Returns:
            One row per point of the design (NaN where the point has no rows): ``point``,
            the parameter columns, ``mean``, ``sd``, ``n``.

        Raises:
            ValueError: an unknown filter, or a neighbourhood the results do not hold.
            KeyError: the metric is not in the results.
        """
        unknown = sorted(set(where) - set(SWEEP_BREAKDOWNS))
        if unknown:
            raise ValueError(
                f"unknown breakdown filter(s) {', '.join(unknown)}; allowed: "
                f"{', '.join(SWEEP_BREAKDOWNS)}"
            )
        df = self.data
        place = where.get(PLACE_COLUMN)
        if place is not None:
            present = sorted(set(df[PLACE_COLUMN].astype(str)) - {"all"})
            if place != "all" and place not in present:
                kept = ", ".join(present) or "none (the sweep keeps the municipality only)"
                raise ValueError(
                    f"neighbourhood '{place}' is not in the sweep's results; present: {kept}"
                    + ("" if present else "; keep them with outputs.breakdowns: [neighbourhood]")
                )
        rows = select(df, metric, **where)
        if rows.empty and metric not in set(df["metric"].astype(str)):
            kept = ", ".join(sorted(set(df["metric"].astype(str)))) or "(none)"
            raise KeyError(f"metric '{metric}' is not in the sweep's results; kept: {kept}")
        g = rows.groupby("point", observed=True)["value"]
        stats = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1), "n": g.size()})
        base = self.points[["point", *self.parameters]]
        out = base.merge(stats, left_on="point", right_index=True, how="left")
        out["n"] = out["n"].fillna(0).astype("int64")
        return out.reset_index(drop=True)


def load_results(directory: str | os.PathLike[str]) -> SweepResults:
    """Load a sweep directory (finished or not) as a :class:`SweepResults`.

    The tidy table holds the rows of every task that is done, ordered by point and
    replicate, so it is identical whatever the number of workers or the order in which
    the tasks finished. Every file is checked first (:mod:`impactsim.sweep.integrity`):
    nothing is read from a directory with a damaged file.

    Args:
        directory: the directory given to ``impactsim sweep --out``.

    Raises:
        SweepError: the directory does not hold a sweep, or (``DamagedSweepError``) one of
            its files is damaged, missing or belongs to another task or sweep; the message
            names the files and the command that repairs the directory.
    """
    import pyarrow as pa

    from impactsim.sweep.integrity import read_checked, refusal

    store = SweepDir(directory)
    info, inv = read_checked(store)
    try:
        points = store.read_points(info)
    except DamagedFile as err:
        raise refusal(store, info, [(err.path, err.problem)]) from None
    records = inv.records
    manifest = pd.DataFrame([r.__dict__ for r in records])
    params = [p["name"] for p in info["parameters"]]
    tables = [inv.tables[r.task] for r in records if r.status == DONE]
    raw = pa.concat_tables(tables).to_pandas() if tables else _empty_rows()
    raw = raw.sort_values(["point", "replicate"], kind="stable").reset_index(drop=True)
    data = raw[["point"]].merge(points[["point", *params]], on="point", how="left")
    for col in ("replicate", "metric", *SWEEP_BREAKDOWNS, "value"):
        data[col] = raw[col].to_numpy()
    for col in ("metric", *SWEEP_BREAKDOWNS):
        data[col] = data[col].astype(str).astype("category")
    data["replicate"] = data["replicate"].astype("int64")
    data["value"] = data["value"].astype("float64")
    status = manifest.groupby("point")["status"].agg(_point_status)
    points = points.assign(status=points["point"].map(status).fillna(PENDING))
    return SweepResults(Path(directory), info, points, manifest, data)


def _empty_rows() -> pd.DataFrame:
    """The columns of a task's rows, without rows (no task done yet)."""
    return pd.DataFrame(
        {
            "point": pd.Series(dtype="int64"),
            "replicate": pd.Series(dtype="int64"),
            "metric": pd.Series(dtype="object"),
            **{c: pd.Series(dtype="object") for c in SWEEP_BREAKDOWNS},
            "value": pd.Series(dtype="float64"),
        }
    )


def _point_status(s: pd.Series) -> str:
    values = set(s)
    if FAILED in values:
        return FAILED
    if values == {DONE}:
        return DONE
    return PENDING


def read_sweep(directory: str | os.PathLike[str]) -> pd.DataFrame:
    """The whole sweep as one tidy DataFrame (see :attr:`SweepResults.data`)."""
    return load_results(directory).data


def unit_matrix(results: SweepResults) -> pd.DataFrame:
    """Unit coordinates of every point (rows in point order, one column per parameter)."""
    cols = [UNIT_PREFIX + p for p in results.parameters]
    out = results.points[cols].copy()
    out.columns = results.parameters
    return out
