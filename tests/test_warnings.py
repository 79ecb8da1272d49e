"""No numpy or pandas RuntimeWarning reaches a user, on edge inputs either.

"Mean of empty slice", "invalid value encountered in divide" or "Degrees of freedom <= 0"
on a user's terminal say nothing useful and hide real messages; a quantity that is
undefined (a cost per case when none was prevented, an interval of one replicate, a
segment without families) is computed as such and documented (NaN, "n/a"), not left to
numpy to warn about. Every test here runs with RuntimeWarning turned into an error: the
commands in-process (typer's CliRunner; sweeps serially, so that the tasks run here too)
on the library's package scenario, scaled down, and on edge cases: one replicate, a
segment of about one family (empty in some replicates), 5 families in 3 segments (the
fewest these shares allow: a segment expected to hold less than one family is refused),
a population that no channel reaches, no effect, identical strategies, sweeps whose
output is the same at every point or undefined at every point.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from impactsim.cli import app

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

ROOT = Path(__file__).resolve().parents[1]


def package(size: int = 300, months: int = 6) -> dict[str, Any]:
    """The library's package scenario (3 segments, 4 offers, economics), scaled down.

    Benefits are extrapolated 2 years past the horizon (its linked outcomes come 1-1.5
    years after a prevented case-year; without, they are dropped with a UserWarning).
    """
    d = yaml.safe_load((ROOT / "scenarios" / "package.yaml").read_text(encoding="utf-8"))
    d["population"]["size"] = size
    d["simulation"]["months"] = months
    d["economics"]["extrapolation"] = {"enabled": True, "years": 2}
    return d


def sparse_segment(d: dict[str, Any]) -> None:
    d["population"]["size"] = 400
    shares = [0.6, 0.3975, 0.0025]  # 1 family expected: none in some replicates
    for seg, share in zip(d["population"]["segments"], shares, strict=True):
        seg["share"] = share


def five_families(d: dict[str, Any]) -> None:
    d["population"]["size"] = 5


def reaches_nobody(d: dict[str, Any]) -> None:
    for seg in d["population"]["segments"]:
        seg["contact_rates"] = dict.fromkeys(seg["contact_rates"], 0.0)


def no_effect(d: dict[str, Any]) -> None:
    for iv in d["interventions"]:
        iv["effect_size"] = {"mean": 0.0, "sd": 0.0}


EDGES = {
    "package": lambda d: None,
    "sparse-segment": sparse_segment,
    "five-families": five_families,
    "reaches-nobody": reaches_nobody,
    "no-effect": no_effect,
}


def scenario_file(tmp_path: Path, name: str, **kw: Any) -> Path:
    d = package(**kw)
    EDGES[name](d)
    d["name"] = name
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    return path


def invoke(*args: str | Path, codes: tuple[int, ...] = (0,)) -> str:
    """Run the command line in this process; return its output (stdout and stderr)."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code in codes, f"{result.output}\n{result.exception!r}"
    assert "Warning" not in result.output, result.output
    return result.output


@pytest.mark.parametrize("name", list(EDGES))
@pytest.mark.parametrize("replicates", [1, 2])
def test_run_and_plot(tmp_path, name, replicates):
    file = scenario_file(tmp_path, name)
    out = tmp_path / "out"
    invoke("run", file, "-r", str(replicates), "--out", out)
    invoke("plot", out)


def test_compare_and_report_with_identical_and_ineffective_strategies(tmp_path):
    files = [scenario_file(tmp_path, "package"), scenario_file(tmp_path, "no-effect")]
    same = yaml.safe_load(files[0].read_text(encoding="utf-8"))
    same["name"] = "package-again"
    files.append(tmp_path / "package-again.yaml")
    files[-1].write_text(yaml.safe_dump(same, sort_keys=False), encoding="utf-8")
    for replicates in ("1", "3"):
        invoke("compare", *files, "-r", replicates, "--out", tmp_path / f"cmp{replicates}")
        invoke("report", *files, "-r", replicates, "--out", tmp_path / f"r{replicates}.html")
    invoke("report", files[0], "-r", "1", "--out", tmp_path / "one.html")
    invoke("compare", *files, "-r", "3", "--voi", "--out", tmp_path / "voi")


SAMPLERS = {
    "sobol": {"method": "sobol", "samples": 8, "seed": 1},
    "morris": {"method": "morris", "trajectories": 4, "seed": 1},
    "one_way": {"method": "one_way"},
}


def sweep_file(
    tmp_path: Path, base: str, method: str, metrics: tuple[str, ...] = (), **kw: Any
) -> Path:
    d = package(**kw)
    EDGES[base](d)
    sweep = {
        "name": f"{base}-{method}",
        "base": d,
        "parameters": [
            {
                "path": "interventions.group_course.effect_half_life_months",
                "name": "half_life",
                "range": [12, 48],
            },
            {
                "path": "channels.youth_health_care.referral_strength",
                "name": "referral",
                "range": [0.01, 0.06],
            },
        ],
        "sampler": copy.deepcopy(SAMPLERS[method]),
        "replicates": 1,
        "replicates_per_task": 1,
        "seed": 3,
        "outputs": {
            "metrics": ["public_impact_pp", "reach_cumulative", "npv", *metrics],
            "breakdowns": ["segment"],
        },
    }
    path = tmp_path / f"{base}-{method}.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("method", list(SAMPLERS))
def test_sweep_results_and_analysis_of_a_constant_output(tmp_path, method):
    """No effect: public impact is 0 at every point (no variance to attribute)."""
    out = tmp_path / "out"
    invoke("sweep", sweep_file(tmp_path, "no-effect", method), "--out", out, "--workers", "0")
    invoke("sweep-results", out, "--out", tmp_path / "table.csv")
    for where in ([], ["--segment", "lower_ses_migration"]):
        text = invoke(
            "sweep-analyze", out, "-m", "public_impact_pp", "-m", "reach_cumulative", *where,
            "--resamples", "20",
        )  # fmt: skip
        assert "public_impact_pp" in text


@pytest.mark.parametrize("method", list(SAMPLERS))
def test_sweep_analysis_of_an_output_undefined_everywhere(tmp_path, method):
    """No effect: the cost per case prevented is undefined (NaN) at every point; the
    analysis refuses it (exit 2) with a message, not with numpy's warnings."""
    out = tmp_path / "out"
    file = sweep_file(tmp_path, "no-effect", method, ("cost_per_case_prevented",))
    invoke("sweep", file, "--out", out, "--workers", "0")
    invoke("sweep-results", out)
    invoke("sweep-analyze", out, "-m", "cost_per_case_prevented", codes=(2,))


@pytest.mark.parametrize("method", list(SAMPLERS))
def test_sweep_analysis_of_a_segment_of_one_family(tmp_path, method):
    """5 families: the smallest segment's shares are undefined wherever it is empty; its
    analysis runs or is refused (exit 2), never with numpy's warnings."""
    out = tmp_path / "out"
    invoke("sweep", sweep_file(tmp_path, "five-families", method), "--out", out, "--workers", "0")
    invoke("sweep-results", out)
    invoke("sweep-analyze", out, "-m", "npv", "--resamples", "20")
    where = ["--segment", "lower_ses_migration"]
    invoke("sweep-analyze", out, "-m", "public_impact_pp", *where, codes=(0, 2))
