"""Output paths: a folder inside an output directory that is a symbolic link is refused.

Issue 30: directory links planted inside an output directory were followed, so files went
where the link pointed. The output directory itself may be a link (the user chose it).
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from impactsim.cli import app
from impactsim.io import OutputPathError, inner_dir, planted_link, refuse_planted_links


@pytest.fixture
def elsewhere(tmp_path):
    path = tmp_path / "elsewhere"
    path.mkdir()
    return path


def test_a_link_below_the_root_is_found_at_any_depth(tmp_path, elsewhere):
    root = tmp_path / "out"
    (root / "runs").mkdir(parents=True)
    (root / "runs" / "package").symlink_to(elsewhere, target_is_directory=True)
    assert planted_link(root, "runs") is None
    assert planted_link(root, "runs", "package", "deeper") == root / "runs" / "package"
    with pytest.raises(OutputPathError, match=r"runs/package: is a symbolic link \(to .*elsew"):
        inner_dir(root, "runs", "package")
    assert list(elsewhere.iterdir()) == []


def test_the_root_itself_may_be_a_link(tmp_path, elsewhere):
    (tmp_path / "out").symlink_to(elsewhere, target_is_directory=True)
    made = inner_dir(tmp_path / "out", "figures")
    assert (elsewhere / "figures").is_dir() and made == tmp_path / "out" / "figures"
    refuse_planted_links(tmp_path / "out", ("figures",), ("runs", "x"))  # nothing planted


def test_compare_refuses_a_planted_run_folder_before_simulating(tmp_path, elsewhere):
    out = tmp_path / "cmp"
    (out / "runs").mkdir(parents=True)
    (out / "runs" / "package").symlink_to(elsewhere, target_is_directory=True)
    res = CliRunner().invoke(
        app,
        ["compare", "scenarios/free-market.yaml", "scenarios/package.yaml", "--out", str(out)],
    )
    assert res.exit_code == 2, res.output
    assert "runs/package: is a symbolic link" in res.output
    assert sorted(p.name for p in out.iterdir()) == ["runs"]  # nothing simulated or written
    assert list(elsewhere.iterdir()) == []
