"""A whole calibration: inputs, inference, predictive checks and the output directory.

The output directory holds:

* ``calibration.db``: pyabc's SQLite database, one population per finished generation
  (a killed calibration resumes from it when the same command is run again);
* ``posterior.parquet``: the last generation's particles (parameter columns, ``weight``,
  ``generation``), a weighted sample of the posterior;
* ``parameters.csv``: posterior median, 90 % and 95 % credible intervals per parameter;
* ``diagnostics.csv``: per generation temperature, simulations, acceptance rate, ESS;
* ``ppc.csv``: posterior predictive check of every target (observed, median, 50 % and
  95 % bands, missed or not and by how much);
* ``figures/``: ``marginals.png``, ``pairs.png``, ``ppc.png``;
* ``summary.md``: a plain-language summary, with the missed-target diagnostic;
* ``inputs/``: the resolved scenario, the targets and parameters files as given;
* ``calibration.json``: versions, seed, settings, fingerprint of the inputs, timings.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from impactsim._version import __version__
from impactsim.calibrate.checks import parameter_table, predictive_table, summary_text
from impactsim.calibrate.inference import (
    Settings,
    diagnostics_table,
    finished_generations,
    posterior_table,
    run_abc,
)
from impactsim.calibrate.priors import Parameters, load_parameters
from impactsim.calibrate.simulator import Simulator, check_targets_reported
from impactsim.calibrate.targets import Targets, load_targets
from impactsim.inputs import Problem, ScenarioError
from impactsim.io import atomic_write, write_csv, write_parquet, write_text
from impactsim.loading import dump_scenario, load_scenario
from impactsim.scenario import Scenario

#: Version of the calibration directory layout and of the fingerprint recipe.
CALIBRATION_FORMAT = 1


@dataclass(frozen=True)
class Inputs:
    """A calibration's validated inputs."""

    scenario: Scenario
    targets: Targets
    parameters: Parameters


@dataclass(frozen=True)
class Calibration:
    """What a calibration produced (also written to its directory)."""

    directory: Path
    posterior: pd.DataFrame
    parameters: pd.DataFrame
    diagnostics: pd.DataFrame
    ppc: pd.DataFrame
    info: dict[str, Any]


def load_inputs(
    scenario: str | os.PathLike[str],
    targets: str | os.PathLike[str],
    parameters: str | os.PathLike[str],
) -> Inputs:
    """Load and validate a calibration's three input files (every problem at once).

    Raises:
        ScenarioError: with every problem of the scenario, or of the targets and the
            parameters files.
    """
    base = load_scenario(scenario)
    problems: list[Problem] = []
    loaded: list[Any] = []
    for load, path in ((load_targets, targets), (load_parameters, parameters)):
        try:
            loaded.append(load(path, base))
        except ScenarioError as err:
            problems += err.problems
    if problems:
        raise ScenarioError(problems)
    return Inputs(scenario=base, targets=loaded[0], parameters=loaded[1])


def make_simulator(inputs: Inputs, replicates: int, seed: int) -> Simulator:
    """The simulator of a calibration (every candidate runs with ``seed``)."""
    return Simulator(
        base=inputs.scenario.model_dump(mode="json"),
        locations={p.label: p for p in inputs.parameters.items},
        targets=inputs.targets.items,
        replicates=replicates,
        seed=seed,
    )


def fingerprint(inputs: Inputs, settings: Settings, replicates: int) -> str:
    """SHA-256 of everything that decides a calibration's numbers except its length."""
    params = inputs.parameters.spec.model_dump(mode="json")
    for p in params["parameters"]:  # as before relative existed: the same fingerprints
        if not p.get("relative"):
            p.pop("relative", None)
    definition = {
        "format": CALIBRATION_FORMAT,
        "scenario": inputs.scenario.model_dump(mode="json"),
        "targets": inputs.targets.spec.model_dump(mode="json"),
        "parameters": params,
        "replicates": replicates,
        "population": settings.population,
        "seed": settings.seed,
    }
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _start(out: Path, inputs: Inputs, settings: Settings, replicates: int) -> dict[str, Any]:
    """Create or reopen the output directory; refuse one holding another calibration."""
    out.mkdir(parents=True, exist_ok=True)
    fp = fingerprint(inputs, settings, replicates)
    info_path = out / "calibration.json"
    db = out / "calibration.db"
    if db.exists():
        try:
            before = json.loads(info_path.read_text(encoding="utf-8")).get("fingerprint")
        except (OSError, ValueError):
            before = None
        if before != fp:
            raise ScenarioError(
                [
                    Problem(
                        str(out),
                        "",
                        "",
                        "the directory holds a calibration of other inputs or settings "
                        "(calibration.db); choose another --out or delete it",
                    )
                ]
            )
    import pyabc

    info = {
        "impactsim_version": __version__,
        "pyabc_version": pyabc.__version__,
        "format": CALIBRATION_FORMAT,
        "fingerprint": fp,
        "scenario": inputs.scenario.name,
        "files": {"targets": inputs.targets.file, "parameters": inputs.parameters.file},
        "settings": {**asdict(settings), "replicates": replicates},
        "resumed_from_generation": finished_generations(db),
        "status": "running",
    }
    inner = out / "inputs"
    inner.mkdir(exist_ok=True)
    write_text(inner / "scenario.resolved.yaml", dump_scenario(inputs.scenario))
    write_text(inner / "targets.yaml", inputs.targets.source_text)
    write_text(inner / "parameters.yaml", inputs.parameters.source_text)
    write_text(info_path, json.dumps(info, indent=2) + "\n")
    return info


def calibrate(
    inputs: Inputs,
    out: str | os.PathLike[str],
    settings: Settings | None = None,
    *,
    replicates: int = 4,
    ppc_draws: int = 100,
    verbose: bool = False,
) -> Calibration:
    """Calibrate a scenario's parameters to targets, writing everything to ``out``.

    Run again with the same inputs and ``out`` to resume an interrupted calibration, or
    with more generations to continue a finished one.

    Args:
        inputs: the validated inputs (:func:`load_inputs`).
        out: output directory.
        settings: population size, generations, seed and executors.
        replicates: Monte Carlo replicates per candidate.
        ppc_draws: posterior draws of the predictive checks.
        verbose: let pyabc log its progress.

    Returns:
        The :class:`Calibration`.

    Raises:
        ScenarioError: a target the model does not report, or an output directory that
            holds another calibration.
    """
    settings = settings or Settings()
    directory = Path(out)
    sim = make_simulator(inputs, replicates, settings.seed)
    t0 = time.perf_counter()
    check_targets_reported(sim, inputs.targets.file)
    info = _start(directory, inputs, settings, replicates)
    history = run_abc(
        sim, inputs.parameters, directory / "calibration.db", settings, verbose=verbose
    )
    t1 = time.perf_counter()
    posterior = posterior_table(history, inputs.parameters.labels)
    diagnostics = diagnostics_table(history)
    params = parameter_table(posterior, inputs.parameters)
    ppc = predictive_table(sim, posterior, ppc_draws, settings.seed + 1)
    t2 = time.perf_counter()
    info.update(
        status="done",
        generations=len(diagnostics),
        simulations=int(diagnostics["simulations"].sum()),
        missed_targets=ppc.loc[ppc["missed"], "target"].tolist(),
        timings_s={"inference": t1 - t0, "predictive_checks": t2 - t1},
    )
    _write_outputs(directory, inputs, posterior, params, diagnostics, ppc, info)
    return Calibration(directory, posterior, params, diagnostics, ppc, info)


def _write_outputs(
    out: Path,
    inputs: Inputs,
    posterior: pd.DataFrame,
    params: pd.DataFrame,
    diagnostics: pd.DataFrame,
    ppc: pd.DataFrame,
    info: dict[str, Any],
) -> None:
    from impactsim.calibrate.plots import plot_marginals, plot_pairs, plot_ppc

    write_parquet(out / "posterior.parquet", posterior)
    write_csv(out / "parameters.csv", params)
    write_csv(out / "diagnostics.csv", diagnostics)
    write_csv(out / "ppc.csv", ppc)
    figures = out / "figures"
    figures.mkdir(exist_ok=True)
    for name, fig in (
        ("marginals.png", plot_marginals(posterior, inputs.parameters)),
        ("pairs.png", plot_pairs(posterior, inputs.parameters)),
        ("ppc.png", plot_ppc(ppc)),
    ):
        atomic_write(figures / name, lambda p, f=fig: f.savefig(p, format="png", dpi=110))
    write_text(out / "summary.md", summary_text(inputs.scenario.name, params, ppc, diagnostics))
    write_text(out / "calibration.json", json.dumps(info, indent=2) + "\n")
