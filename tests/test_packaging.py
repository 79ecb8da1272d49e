"""The built package works outside the source tree: a wheel with the scenario library.

Builds the wheel as a user's ``pip install .`` would (build isolation, setuptools from the
package index), installs it into a folder of its own (``pip install --no-deps --target``;
its dependencies are this environment's), and runs it from a folder outside the source
tree with only that folder on the path: the import comes from the wheel, the library is
the wheel's copy of ``scenarios/``, and ``impactsim run`` simulates a copied strategy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(work / "dist"), str(ROOT)], check=True)
    (wheel,) = (work / "dist").glob("impactsim-*.whl")
    target = work / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True)
    return target


def _impactsim(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(installed), "NUMBA_CACHE_DIR": str(cwd / "cache")}
    return subprocess.run(
        [sys.executable, "-m", "impactsim.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_wheel_lists_copies_and_runs_the_library_outside_the_source_tree(installed, tmp_path):
    env = os.environ | {"PYTHONPATH": str(installed)}
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import impactsim, impactsim.library as l; print(impactsim.__file__); print(l.library_dir())",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(Path(p).is_relative_to(installed) for p in where), where  # not the checkout
    listed = _impactsim(installed, tmp_path, "scenarios", "list")
    assert listed.returncode == 0, listed.stderr
    shipped = {p.stem for p in (ROOT / "scenarios").glob("*.yaml")}
    names = {line.split()[0] for line in listed.stdout.splitlines() if line.strip()}
    assert shipped <= names and "sweeps/tornado" in names
    copied = _impactsim(installed, tmp_path, "scenarios", "copy", "package", "mine")
    assert copied.returncode == 0, copied.stderr
    scenario = tmp_path / "mine" / "package.yaml"
    assert scenario.read_bytes() == (ROOT / "scenarios" / "package.yaml").read_bytes()
    data = yaml.safe_load(scenario.read_text())
    data["population"]["size"] = 400
    data["simulation"].update(months=3, replicates=2)
    scenario.write_text(yaml.safe_dump(data))
    ran = _impactsim(installed, tmp_path, "run", str(scenario), "--out", "out", "-q")
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert (tmp_path / "out" / "summary.csv").is_file()
