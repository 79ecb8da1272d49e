"""The bad-input corpus: every malformed or hostile file is refused cleanly.

``tests/bad_inputs/`` holds the files written by ``scripts/make_bad_inputs.py`` (its
``CASES`` list says what each checks and what its message must contain). Each is given to
``impactsim validate``: exit code 2, a message naming the file (and for field errors the
field path and the value), no traceback; the test collects every miss and fails listing
them all. Also here: files too big to read, symbolic links and ``..`` escaping a sweep's
directory, a named pipe, the rule for a sweep's ``base`` path, fuzzed documents (never an
exception other than a clean :class:`ScenarioError`) and the YAML fixes the corpus found.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from impactsim.cli import app
from impactsim.loading import (
    MAX_FILE_BYTES,
    ScenarioError,
    is_sweep_document,
    load_scenario,
    parse_scenario,
    parse_yaml_text,
)
from impactsim.sweep.spec import allowed_root, load_sweep, parse_sweep

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "bad_inputs"


def _load_script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "make_bad_inputs", ROOT / "scripts" / "make_bad_inputs.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_bad_inputs"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


MBI = _load_script()
CASES = MBI.CASES
runner = CliRunner()


def validate(*args: str) -> Any:
    return runner.invoke(app, ["validate", *args])


# --------------------------------------------------------------------------- the corpus
def test_corpus_on_disk_is_what_the_script_writes():
    assert len(CASES) >= 50
    names = [c.name for c in CASES]
    assert len(set(names)) == len(names)
    on_disk = {p.name for p in CORPUS.iterdir()}
    assert on_disk == {*names, "README.md"}, "run python scripts/make_bad_inputs.py"
    for case in CASES:
        path = CORPUS / case.name
        if case.content is None:
            assert path.is_dir() and (path / ".gitkeep").is_file(), case.name
        else:
            assert path.read_bytes() == case.content, f"{case.name} differs from the script"
    assert (CORPUS / "README.md").read_text(encoding="utf-8") == MBI.readme(CASES)
    kinds = {c.kind for c in CASES}
    assert kinds == {"unreadable", "scenario", "sweep"}
    assert sum(c.kind == "sweep" for c in CASES) >= 15


def test_the_templates_of_the_corpus_are_valid(tmp_path):
    """Each case breaks one thing in a valid file: the templates themselves pass."""
    parse_scenario(MBI.mini(), "mini")
    sweep = parse_sweep(MBI.mini_sweep(), "mini-sweep")
    assert sweep.name == "bad-sweep"
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(MBI.mini()))
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(MBI.mini_sweep()))
    res = validate(str(tmp_path / "s.yaml"), str(tmp_path / "w.yaml"))
    assert res.exit_code == 0, res.output
    assert "valid scenario 'bad-input-test'" in res.output
    assert "valid sweep 'bad-sweep' (1 parameters, grid: 2 points x 2 replicates, 2 tasks)" in (
        res.output
    )


def test_every_bad_input_is_refused_with_a_clear_message():
    misses: list[str] = []
    tracebacks = silent_accepts = wrong_code = 0
    slowest = 0.0
    for case in CASES:
        path = CORPUS / case.name
        t0 = time.perf_counter()
        res = validate(str(path))
        slowest = max(slowest, time.perf_counter() - t0)
        out = res.output
        problems = []
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            tracebacks += 1
            problems.append(f"raised {type(res.exception).__name__}: {res.exception}")
        if "Traceback" in out:
            tracebacks += 1
            problems.append("traceback in output")
        if res.exit_code == 0:
            silent_accepts += 1
            problems.append("accepted")
        elif res.exit_code != 2:
            wrong_code += 1
            problems.append(f"exit code {res.exit_code}")
        if str(path) not in out:
            problems.append("file not named")
        problems += [f"missing {e!r}" for e in case.expect if e not in out]
        kind = {"scenario": "in scenario file", "sweep": "in sweep file"}.get(case.kind)
        if kind and f"{kind} {path}" not in out:
            problems.append(f"not reported as {case.kind}")
        if problems:
            misses.append(f"{case.name}: {'; '.join(problems)}\n    {out.strip()[:400]}")
    summary = (
        f"{len(CASES)} bad inputs: {len(CASES) - len(misses)} refused cleanly, "
        f"{tracebacks} traceback(s), {silent_accepts} silent accept(s), {wrong_code} other "
        f"exit code(s); slowest {slowest:.2f} s"
    )
    print(summary)
    assert not misses, summary + "\n" + "\n".join(misses)


def test_real_process_prints_no_traceback_for_any_bad_input():
    files = [str(CORPUS / c.name) for c in CASES]
    proc = subprocess.run(
        [sys.executable, "-m", "impactsim.cli", "validate", *files],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stdout == ""  # nothing was valid
    assert proc.stderr.count("problem(s) found in") == len(CASES)
    for f in files:
        assert f"problem(s) found in {f}" in proc.stderr or f" file {f}\n" in proc.stderr, f


@pytest.mark.parametrize(
    "name",
    ["binary_garbage.yaml", "is_a_directory.yaml", "yaml_bomb.yaml", "sweep_base_path_escape.yaml"],
)
def test_real_process_exit_code_per_file(name):
    proc = subprocess.run(
        [sys.executable, "-m", "impactsim.cli", "validate", str(CORPUS / name)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{CORPUS / name}: " in proc.stderr


@pytest.mark.parametrize(
    "name",
    ["yaml_bomb.yaml", "deep_nesting_flow.yaml", "deep_nesting_block.yaml", "long_string.yaml"],
)
def test_hostile_documents_are_refused_quickly_in_little_memory(name):
    tracemalloc.start()
    with pytest.raises(ScenarioError):
        load_scenario(CORPUS / name)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # bytes; the bomb would expand to 10^10 strings (no timed assertion: the machines are
    # shared; what is bounded is the memory, and so the work of building the document)
    assert peak < 16 * 2**20, peak


def test_a_100_megabyte_file_is_refused_without_being_read(tmp_path):
    big = tmp_path / "huge.yaml"
    with open(big, "wb") as fh:
        fh.write(b"name: huge\ndescription: '")
        fh.truncate(100 * 2**20)  # sparse: 100 MB on paper, nothing on disk
    tracemalloc.start()
    res = validate(str(big))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert res.exit_code == 2
    assert (
        f"{big}: file is 104,857,600 bytes; scenario and sweep files may be at most" in res.output
    )
    assert f"{MAX_FILE_BYTES:,}" in res.output
    assert peak < 8 * 2**20  # bytes: reading the file would allocate 100 MB


def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    res = validate(str(fifo))  # opening a FIFO for reading would block forever
    assert res.exit_code == 2
    assert f"{fifo}: is not a regular file" in res.output


# --------------------------------------------------------------------------- sweep base paths
def sweep_with_base(base: str) -> str:
    d = MBI.mini_sweep()
    d["base"] = base
    return yaml.safe_dump(d)


def test_base_path_rule_root_is_the_project_or_the_sweep_directory(tmp_path):
    # no project marker above: the sweep file's own directory is the root
    (tmp_path / "lib" / "sweeps").mkdir(parents=True)
    (tmp_path / "lib" / "scenario.yaml").write_text(yaml.safe_dump(MBI.mini()))
    sweep = tmp_path / "lib" / "sweeps" / "s.yaml"
    sweep.write_text(sweep_with_base("../scenario.yaml"))
    assert allowed_root(sweep.parent) == sweep.parent.resolve()
    with pytest.raises(ScenarioError, match="leads outside the sweep's directory tree"):
        load_sweep(sweep)
    assert load_sweep(sweep, allow_external_paths=True).name == "bad-sweep"
    res = validate(str(sweep))
    assert res.exit_code == 2 and "--allow-external-paths" in res.output
    res = validate("--allow-external-paths", str(sweep))
    assert res.exit_code == 0, res.output
    # a marker makes its directory the root: ../scenario.yaml is inside the project now
    (tmp_path / "lib" / ".impactsim-root").write_text("")
    assert allowed_root(sweep.parent) == (tmp_path / "lib").resolve()
    assert load_sweep(sweep).name == "bad-sweep"
    # ... but not above it
    (tmp_path / "outside.yaml").write_text(yaml.safe_dump(MBI.mini()))
    sweep.write_text(sweep_with_base("../../outside.yaml"))
    with pytest.raises(ScenarioError, match="leads outside"):
        load_sweep(sweep)


def test_shipped_sweeps_use_a_relative_base_inside_the_project():
    # scenarios/sweeps/*.yaml say base: ../package.yaml; the repository root is the root
    assert allowed_root(ROOT / "scenarios" / "sweeps") == ROOT
    for path in sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml")):
        assert load_sweep(path).base["name"] == "package"
    res = validate(*map(str, sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml"))))
    assert res.exit_code == 0, res.output
    assert res.output.count(": valid sweep '") == 3


def test_symbolic_link_out_of_the_sweep_directory_is_refused(tmp_path):
    secret = tmp_path / "elsewhere" / "private.yaml"
    secret.parent.mkdir()
    secret.write_text(yaml.safe_dump(MBI.mini()))
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "base.yaml").symlink_to(secret)
    sweep = proj / "s.yaml"
    sweep.write_text(sweep_with_base("base.yaml"))
    with pytest.raises(ScenarioError) as err:
        load_sweep(sweep)
    (p,) = err.value.problems
    assert p.path == "base" and p.value == "'base.yaml'"
    assert f"leads outside the sweep's directory tree {proj.resolve()} (to {secret})" in p.message
    # a link that stays inside is fine
    (proj / "real.yaml").write_text(yaml.safe_dump(MBI.mini()))
    (proj / "inside.yaml").symlink_to(proj / "real.yaml")
    sweep.write_text(sweep_with_base("inside.yaml"))
    assert load_sweep(sweep).base["name"] == "bad-input-test"


def test_hidden_files_inside_the_root_are_refused(tmp_path):
    """A sweep saved in a home directory must not read ~/.ssh or ~/.aws through base."""
    (tmp_path / ".secrets").mkdir()
    (tmp_path / ".secrets" / "key.yaml").write_text(yaml.safe_dump(MBI.mini()))
    sweep = tmp_path / "s.yaml"
    sweep.write_text(sweep_with_base(".secrets/key.yaml"))
    with pytest.raises(ScenarioError, match="leads into a hidden file or directory"):
        load_sweep(sweep)
    assert load_sweep(sweep, allow_external_paths=True).base["name"] == "bad-input-test"


def test_absolute_base_path_is_refused_unless_allowed(tmp_path):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(MBI.mini()))
    sweep = tmp_path / "s.yaml"
    sweep.write_text(sweep_with_base(str(tmp_path / "base.yaml")))
    with pytest.raises(ScenarioError, match="an absolute path is not allowed"):
        load_sweep(sweep)
    assert load_sweep(sweep, allow_external_paths=True).base["name"] == "bad-input-test"


# --------------------------------------------------------------------------- validate and run
def test_validate_tells_sweeps_from_scenarios_and_run_refuses_a_sweep(tmp_path):
    sweep = tmp_path / "w.yaml"
    sweep.write_text(yaml.safe_dump(MBI.mini_sweep()))
    res = validate(str(sweep))
    assert res.exit_code == 0
    assert f"{sweep}: valid sweep 'bad-sweep'" in res.output
    res = runner.invoke(app, ["run", str(sweep), "-o", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert "this is a sweep file (it has base, parameters, sampler), not a scenario" in res.output
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- YAML fixes
def test_yaml_merge_keys_and_exponent_floats_are_read():
    """Found by the corpus: '<<: *anchor' gave an obscure constructor error, and 5e-1 was text."""
    text = b"""
name: merged
population:
  size: 200
  segments:
    - &first {name: a, share: 0.5, baseline_prevalence: 0.1, contact_rates: {online: 2e-1}}
    - <<: *first
      name: b
      baseline_prevalence: 0.3
channels: [{name: online, referral_strength: 5e-1}]
simulation: {months: 6, seed: 7}
"""
    sc = parse_scenario(parse_yaml_text(text))
    _, b = sc.population.segments
    assert (b.name, b.share, b.baseline_prevalence) == ("b", 0.5, 0.3)  # explicit keys win
    assert b.contact_rates == {"online": 0.2}
    assert sc.channels[0].referral_strength == 0.5
    assert parse_yaml_text(b"a: 2.5e-4\nb: -1E+2\nc: 1_000\nd: 12\ne: 1e3x\nf: 1.5\n") == {
        "a": 2.5e-4,
        "b": -100.0,
        "c": 1000,
        "d": 12,
        "e": "1e3x",
        "f": 1.5,
    }
    # a float is still not a whole number: seed: 1e3 is refused with a hint
    with pytest.raises(ScenarioError, match="without a decimal point"):
        parse_scenario(parse_yaml_text(text.replace(b"seed: 7", b"seed: 1e3")))


def test_duplicate_keys_inside_merged_mappings_still_refused():
    with pytest.raises(ScenarioError, match="duplicate key 'a'"):
        parse_yaml_text(b"x: &x {a: 1}\ny:\n  <<: *x\n  a: 2\n  a: 3\n")


def test_quoted_numbers_and_booleans_are_not_silently_converted():
    d = MBI.mini()
    d["population"]["size"] = "500"
    d["simulation"]["seed"] = True
    d["interventions"][0]["effect_size"]["mean"] = "0.3"
    with pytest.raises(ScenarioError) as err:
        parse_scenario(d, "x.yaml")
    text = str(err.value)
    assert (
        "x.yaml: population.size: Input should be a valid integer; write it without quotes (got '500')"
        in text
    )
    assert (
        "simulation.seed: Input should be a valid integer; true/false is not accepted here (got True)"
        in text
    )
    assert (
        "effect_size.mean: Input should be a valid number; write it without quotes (got '0.3')"
        in text
    )


# --------------------------------------------------------------------------- fuzzing
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.booleans(), st.data())
def test_fuzzed_documents_give_a_scenario_or_a_clean_error(sweep, data):
    """Random values put at random places of a valid scenario or sweep never crash."""
    doc = MBI.mini_sweep() if sweep else MBI.mini()
    paths = [p for p in _paths(doc) if p]
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        where = data.draw(st.sampled_from(paths), label="path")
        node = doc
        try:
            for part in where[:-1]:
                node = node[part]
            if data.draw(st.booleans(), label="delete") and isinstance(node, dict):
                del node[where[-1]]
            else:
                node[where[-1]] = data.draw(JUNK, label="value")
        except (KeyError, IndexError, TypeError):
            pass
    try:
        if is_sweep_document(doc):
            parse_sweep(copy.deepcopy(doc), "<fuzz>")
        else:
            parse_scenario(copy.deepcopy(doc), "<fuzz>")
    except ScenarioError as err:
        assert err.problems
        for p in err.problems:
            assert p.file.startswith("<fuzz>") and p.message
            assert len(p.value) <= 80


@pytest.mark.parametrize(
    ("written", "yaml_1_1_reads"),
    [("02000", 1024), ("012", 10), ("1:30", 90), ("0x1F", 31), ("0b101", 5), ("-07", -7)],
)
def test_numbers_yaml_1_1_misreads_stay_text_and_number_fields_refuse_them(written, yaml_1_1_reads):
    from impactsim.inputs import UnclearNumber

    # the stock YAML 1.1 reading (PyYAML's safe_load) is the surprise being guarded against
    assert yaml.safe_load(f"a: {written}") == {"a": yaml_1_1_reads}
    value = parse_yaml_text(f"a: {written}", "t.yaml")["a"]
    assert isinstance(value, UnclearNumber) and value == written
    d = MBI.mini()
    d["population"]["size"] = value
    with pytest.raises(ScenarioError) as err:
        parse_scenario(d, "t.yaml")
    assert "population.size: not read as a number" in str(err.value)
    assert f"(got '{written}')" in str(err.value)


def test_plain_numbers_are_still_numbers_and_text_fields_keep_what_was_written():
    data = parse_yaml_text(
        "a: 2000\nb: -3\nc: +12\nd: 0\ne: 1.5e3\nf: 0.25\ng: 007.5\nh: 1_000\n", "t.yaml"
    )
    assert data == {
        "a": 2000,
        "b": -3,
        "c": 12,
        "d": 0,
        "e": 1500.0,
        "f": 0.25,
        "g": 7.5,
        "h": 1000,
    }
    assert all(type(v) in (int, float) for v in data.values())
    d = MBI.mini()
    d["description"] = parse_yaml_text("description: 012", "t.yaml")["description"]
    assert parse_scenario(d, "t.yaml").description == "012"  # as written, not 10
