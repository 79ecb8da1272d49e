"""Command line: run writes every output file; validate exits 0/2 without tracebacks."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from helpers import base_dict
from impactsim import __version__
from impactsim.cli import app
from impactsim.io import RUN_FILES

runner = CliRunner()


def test_validate_ok_and_invalid(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(base_dict()))
    res = runner.invoke(app, ["validate", str(good)])
    assert res.exit_code == 0, res.output
    assert "valid scenario 'test'" in res.output
    d = base_dict()
    d["population"]["size"] = "many"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(d))
    res = runner.invoke(app, ["validate", str(bad)])
    assert res.exit_code == 2
    assert "bad.yaml: population.size" in res.output
    assert "Traceback" not in res.output


def test_validate_in_a_real_process_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("population: {size: -1}\nname: x\n")
    proc = subprocess.run(
        [sys.executable, "-m", "impactsim.cli", "validate", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "population.size" in proc.stderr


def test_run_writes_outputs(tmp_path):
    d = base_dict(size=500, months=6)
    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump(d))
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(scen), "-r", "3", "--seed", "42", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "public impact" in res.output
    for name in RUN_FILES:
        assert (out / name).is_file(), name
    assert not list(out.glob(".*.tmp"))
    info = json.loads((out / "run.json").read_text())
    assert info["impactsim_version"] == __version__
    assert info["seed"] == 42 and info["replicates"] == 3
    resolved = yaml.safe_load((out / "scenario.resolved.yaml").read_text())
    assert resolved["simulation"]["seed"] == 42
    assert resolved["population"]["network"]["mean_degree"] == 10.0  # default filled in
    summary = pd.read_csv(out / "summary.csv")
    needed = {"scenario", "replicate", "metric", "segment", "intervention", "value"}
    assert needed <= set(summary.columns)
    for metric in (
        "reach_direct",
        "reach_cumulative",
        "reach_indirect",
        "prevalence",
        "prevalence_counterfactual",
        "public_impact_pp",
        "realized_effect_share",
    ):
        assert metric in set(summary["metric"]), metric
    pq = pd.read_parquet(out / "summary.parquet")
    assert len(pq) == len(summary)
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert set(ts["month"]) == set(range(7))


def test_run_rejects_invalid_scenario_with_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\npopulation: {size: 10, segments: []}\n")
    res = runner.invoke(app, ["run", str(bad)])
    assert res.exit_code == 2
    assert "population.segments" in res.output


def test_atomic_write_leaves_no_partial_file(tmp_path):
    from impactsim.io import atomic_write

    target = tmp_path / "x.csv"

    def boom(p: Path) -> None:
        p.write_text("half")
        raise RuntimeError("crash while writing")

    try:
        atomic_write(target, boom)
    except RuntimeError:
        pass
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_main_freezes_the_objects_left_when_the_command_is_done(tmp_path, monkeypatch):
    """main() ends the process: it freezes the objects left (gc.freeze), so that the
    interpreter's last collections at exit skip them (0.3-0.5 s per command, measured in
    benchmarks/README.md). A command that fails still freezes them."""
    import gc
    import signal

    from impactsim.cli import main

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(base_dict()))
    bad = tmp_path / "bad.yaml"
    bad.write_text("population: {size: -1}\nname: x\n")
    try:
        for path, code in ((good, 0), (bad, 2)):
            gc.unfreeze()
            assert gc.get_freeze_count() == 0
            monkeypatch.setattr(sys, "argv", ["impactsim", "validate", str(path)])
            try:
                main()
            except SystemExit as exc:
                assert exc.code == code
            else:
                raise AssertionError("typer's standalone mode ends with SystemExit")
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        for sig, handler in handlers.items():  # main() installs its own
            signal.signal(sig, handler)


@pytest.mark.parametrize(
    ("out", "says"),
    [("", "is the working directory"), (".", "is the working directory"), ("afile", "is a file")],
)
def test_run_refuses_an_output_path_before_simulating(tmp_path, monkeypatch, out, says):
    # before: --out "" wrote into the working directory, and a file as --out was refused
    # only after the simulation
    import impactsim.runner

    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("not a directory")
    monkeypatch.setattr(impactsim.runner, "run", lambda *a, **k: pytest.fail("simulated"))
    res = CliRunner().invoke(app, ["run", "--out", out, "-r", "1"])
    assert res.exit_code == 2
    assert says in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_seed_above_the_largest_is_refused_by_run_as_by_validate():
    # 2**63 was accepted by run and then refused by validate of the written resolved scenario
    import impactsim
    from impactsim.loading import default_scenario

    res = CliRunner().invoke(app, ["run", "--seed", str(2**63), "-r", "1", "-q"])
    assert res.exit_code == 2
    assert str(2**63 - 1) in res.output
    with pytest.raises(ValueError, match="seed must be an integer from 0 to 9223372036854775807"):
        impactsim.run(default_scenario(), replicates=1, seed=2**63, progress=False)


def _number(output: str, label: str, lang: str) -> float:
    """The first number after ``label`` on the line that starts with it (``€`` left out)."""
    line = next(x for x in output.splitlines() if x.startswith(label))
    token = line[len(label) :].replace("€ ", "€").split()[0].lstrip("€").replace("−", "-")
    if lang == "nl":  # 1.234,5
        return float(token.replace(".", "").replace(",", "."))
    return float(token.replace(",", ""))


def test_run_prints_its_summary_in_dutch_with_labels(tmp_path):
    """``--lang nl``: Dutch headings, labels instead of identifiers, the English numbers."""
    from test_neighbourhoods import scenario

    d = scenario(size=300)
    d["simulation"]["months"] = 4
    d["interventions"][0]["label"] = "Cursus Positief Opvoeden"
    d["interventions"][0]["costs"] = {"per_enrolment_eur": 200}
    d["population"]["neighbourhoods"][0]["label"] = "Noord-Oost"
    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump(d))
    outputs = {}
    for lang in ("en", "nl"):
        out = tmp_path / lang
        args = ["run", str(scen), "-r", "2", "--seed", "5", "--out", str(out), "--lang", lang]
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.output
        outputs[lang] = res.output
    en, nl = outputs["en"], outputs["nl"]
    for heading in (
        "test: 300 gezinnen, 4 maanden, 2 herhalingen, startgetal 5",
        "bereik (welk programma dan ook)",
        "publieke impact (procentpunten)",
        "per wijk",
        "kosten (contante waarde)",
        "netto contante waarde",
        "baten-kostenverhouding",
        "wie betaalt en wie ontvangt",
        "  gemeente ",
        "geschreven (simulatie",
    ):
        assert heading in nl, heading
    for text in (nl, en):  # the programme's and the neighbourhood's labels, not their names
        assert "Cursus Positief Opvoeden" in text and "  Noord-Oost " in text
        assert "north" not in text and not any(
            x.split()[1:2] == ["prog"] for x in text.splitlines()
        )
    assert "reach (any programme)" not in nl and "neighbourhood" not in nl
    for en_label, nl_label in (
        ("public impact (percentage points)", "publieke impact (procentpunten)"),
        ("cost (present value)", "kosten (contante waarde)"),
        ("reach Cursus Positief Opvoeden", "bereik Cursus Positief Opvoeden"),
    ):
        assert _number(nl, nl_label, "nl") == _number(en, en_label, "en"), en_label
    assert _number(en, "cost (present value)", "en") > 1000  # a grouped number was parsed
    assert "," in nl.split("publieke impact (procentpunten)")[1].split()[0]  # decimal comma


def test_run_refuses_an_unknown_language(tmp_path):
    res = runner.invoke(app, ["run", "--lang", "xx", "-r", "1", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    text = " ".join(re.sub("[│╭╮╰╯─]", " ", res.output).split())  # rich's box, wrapped
    assert "'xx' is not one of 'en', 'nl'" in text
    assert not (tmp_path / "o").exists()
