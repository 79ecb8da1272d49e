"""Notebooks in notebooks/ execute without errors at a small size (nbclient)."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_notebooks_exist():
    names = {p.stem for p in NOTEBOOKS}
    assert {
        "01-quickstart",
        "02-compare-upscaling-strategies",
        "03-sweep-and-sensitivity",
        "04-best-mix-for-a-budget",
        "05-calibrate-to-local-data",
    } <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name} has outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path, monkeypatch):
    monkeypatch.setenv("IMPACTSIM_NOTEBOOK_SIZE", "1000")
    monkeypatch.setenv("IMPACTSIM_NOTEBOOK_REPLICATES", "3")
    monkeypatch.setenv("IMPACTSIM_NOTEBOOK_TRIALS", "8")
    monkeypatch.setenv("IMPACTSIM_NOTEBOOK_WORKERS", "0")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
