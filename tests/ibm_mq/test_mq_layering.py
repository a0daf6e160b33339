"""The plugin's modules import each other in layers: no cycles, lazy imports included."""

from __future__ import annotations

import ast
from pathlib import Path

import portway_ibm_mq

PACKAGE = Path(portway_ibm_mq.__file__).parent


def imports_of(path: Path) -> set[str]:
    """Every ``portway_ibm_mq`` module a module imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "portway_ibm_mq":
                found |= {f"portway_ibm_mq.{alias.name}" for alias in node.names}
            elif node.module.startswith("portway_ibm_mq."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("portway_ibm_mq.")}
    return found


def test_no_import_cycles_between_plugin_modules():
    graph = {f"portway_ibm_mq.{p.stem}": imports_of(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        for target in sorted(graph.get(module, ())):
            if target in path:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target in graph:
                visit(target, [*path, target])

    for module in sorted(graph):
        visit(module, [module])
    assert not cycles, "import cycles: " + "; ".join(sorted(set(cycles)))
