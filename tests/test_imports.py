"""The package's import graph: no import circles, and lower layers never import upper ones.

The graph is built from the source with ``ast``: every ``import`` and ``from ... import``
of an ``impactsim`` module, at the top level, inside functions and under
``if TYPE_CHECKING:`` alike (a circle that only type checkers follow is still a circle).
"""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import networkx as nx
import pytest

import impactsim

PACKAGE = "impactsim"
ROOT = Path(impactsim.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    """Every module of the package (and the package itself) with its source file."""
    found = {PACKAGE: ROOT / "__init__.py"}
    for info in pkgutil.walk_packages([str(ROOT)], prefix=f"{PACKAGE}."):
        rel = Path(*info.name.split(".")[1:])
        path = ROOT / rel / "__init__.py" if info.ispkg else ROOT / rel.with_suffix(".py")
        found[info.name] = path
    return found


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute name a ``from ... import`` statement imports from."""
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``module`` imports anywhere in its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, path.name == "__init__.py")
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                out.add(sub if sub in modules else source)
    return {name for name in out if name in modules and name != module}


def import_graph() -> nx.DiGraph:
    """Directed graph: an edge A -> B when module A imports module B."""
    modules = _modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        graph.add_edges_from((name, target) for target in _imports(name, path, modules))
    return graph


def test_the_graph_sees_every_module_and_known_imports():
    graph = import_graph()
    assert {"impactsim.engine.simulate", "impactsim.sweep.spec", "impactsim.cli"} <= set(graph)
    assert graph.has_edge("impactsim.runner", "impactsim.engine.simulate")
    assert graph.has_edge("impactsim.loading", "impactsim.scenario")


def test_no_import_cycles():
    graph = import_graph()
    cycles = sorted(sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1)
    shown = []
    for component in cycles:
        cycle = nx.find_cycle(graph.subgraph(component))
        shown.append(" -> ".join([*(a for a, _ in cycle), cycle[0][0]]))
    assert not shown, "import cycles:\n" + "\n".join(shown)


#: Lower layers and the upper layers they must never import (packages include submodules).
LAYERS = {
    "impactsim.engine": (
        "impactsim.runner",
        "impactsim.io",
        "impactsim.compare",
        "impactsim.report",
        "impactsim.plots",
        "impactsim.cli",
        "impactsim.sweep",
        "impactsim.calibrate",
        "impactsim.voi",
    ),
    "impactsim.metrics": (
        "impactsim.cli",
        "impactsim.report",
        "impactsim.plots",
        "impactsim.sweep",
        "impactsim.calibrate",
        "impactsim.voi",
    ),
    "impactsim.economics": (
        "impactsim.cli",
        "impactsim.report",
        "impactsim.plots",
        "impactsim.sweep",
        "impactsim.calibrate",
        "impactsim.voi",
    ),
    # calibration is the upper edge: only the command line may import it
    "impactsim.sweep": ("impactsim.calibrate",),
    "impactsim.runner": ("impactsim.calibrate",),
    "impactsim.report": ("impactsim.calibrate",),
    # the value of information sits beside the comparison, above it: compare never needs it
    "impactsim.compare": (
        "impactsim.calibrate",
        "impactsim.voi",
        "impactsim.report",
        "impactsim.cli",
    ),
}


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


#: The bottom layer: helpers shared by scenario and sweep files (inputs), by the result
#: tables (tables) and by everything planners read (i18n: translations and number formats).
SHARED = ("impactsim.i18n", "impactsim.inputs", "impactsim.tables")


@pytest.mark.parametrize("shared", SHARED)
def test_shared_helpers_import_nothing_of_the_package(shared):
    """The shared helpers are the bottom: they import only each other."""
    assert sorted(set(import_graph().successors(shared)) - set(SHARED)) == []


@pytest.mark.parametrize("lower", sorted(LAYERS))
def test_lower_layers_do_not_import_upper_ones(lower):
    graph = import_graph()
    bad = sorted(
        f"{a} imports {b}"
        for a, b in graph.edges
        if _within(a, lower) and any(_within(b, upper) for upper in LAYERS[lower])
    )
    assert not bad, "\n".join(bad)


def test_nothing_below_the_app_imports_it():
    """The web app is the top edge: only the command line (and the app itself) imports it."""
    graph = import_graph()
    bad = sorted(
        f"{a} imports {b}"
        for a, b in graph.edges
        if _within(b, "impactsim.app") and not (_within(a, "impactsim.app") or a == "impactsim.cli")
    )
    assert not bad, "\n".join(bad)
