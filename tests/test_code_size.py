"""Size limits of the code, the numba engine included: modules, functions and parameter lists.

Limits: 800 lines a module, 150 lines and 20 parameters a function (the engine passes its
state in the bundles of ``impactsim.engine.state``). No exceptions are needed today.
"""

from __future__ import annotations

import ast
from pathlib import Path

import impactsim

ROOT = Path(impactsim.__file__).resolve().parent
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 150
MAX_PARAMETERS = 20


def _sources() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def _functions(path: Path) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    a = node.args
    return len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) + bool(a.vararg) + bool(a.kwarg)


def test_the_check_sees_the_package():
    names = {p.relative_to(ROOT).as_posix() for p in _sources()}
    assert {"runner.py", "scenario/model.py", "sweep/spec.py", "engine/steps.py"} <= names


def test_no_module_is_too_long():
    too_long = [
        f"{p.relative_to(ROOT)}: {n} lines"
        for p in _sources()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(too_long)


def test_no_function_is_too_long_or_takes_too_many_parameters():
    bad = []
    for path in _sources():
        for node in _functions(path):
            lines = node.end_lineno - node.lineno + 1 if node.end_lineno else 0
            if lines > MAX_FUNCTION_LINES or _parameters(node) > MAX_PARAMETERS:
                bad.append(
                    f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: "
                    f"{lines} lines, {_parameters(node)} parameters"
                )
    assert not bad, (
        f"functions over {MAX_FUNCTION_LINES} lines or {MAX_PARAMETERS} parameters:\n"
        + "\n".join(bad)
    )
