"""Output files: atomic writes of tables, the resolved scenario and run provenance."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from impactsim.loading import dump_scenario

if TYPE_CHECKING:
    from impactsim.runner import RunResult

#: Files every run directory holds.
RUN_FILES = (
    "summary.csv",
    "summary.parquet",
    "summary_stats.csv",
    "timeseries.parquet",
    "scenario.resolved.yaml",
    "run.json",
)


def atomic_write(path: Path, write: Callable[[Path], Any]) -> Path:
    """Write a file via a temporary file in the same directory, then rename it into place.

    A crash or interruption leaves either the old file or none, never a half-written one.

    Args:
        path: final file path.
        write: called with the temporary path; must write the complete file there.

    Returns:
        The final path.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: Path, text: str) -> Path:
    """Atomically write a UTF-8 text file."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_csv(path: Path, df: pd.DataFrame) -> Path:
    """Atomically write a DataFrame as CSV (no index)."""
    return atomic_write(path, lambda p: df.to_csv(p, index=False))


def write_parquet(path: Path, df: pd.DataFrame) -> Path:
    """Atomically write a DataFrame as Parquet (pyarrow, no index)."""
    return atomic_write(path, lambda p: df.to_parquet(p, index=False, engine="pyarrow"))


def write_run_dir(result: RunResult, out: Path) -> Path:
    """Write a run's outputs to ``out`` (see :data:`RUN_FILES`)."""
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "summary.csv", result.summary)
    write_parquet(out / "summary.parquet", result.summary)
    write_csv(out / "summary_stats.csv", result.summary_stats())
    write_parquet(out / "timeseries.parquet", result.timeseries)
    write_text(out / "scenario.resolved.yaml", dump_scenario(result.scenario))
    write_text(out / "run.json", json.dumps(result.run_info(), indent=2) + "\n")
    return out
