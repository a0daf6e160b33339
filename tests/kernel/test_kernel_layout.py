"""House rules for the code itself: no import cycles in the kernel or in any first-party plugin.

Every import counts: at the top of a module, inside a function, and under
``if TYPE_CHECKING:`` (a type-only import still ties one layer to another).
The graph is built with ``ast`` from the source, so nothing is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "portway": ROOT / "kernel" / "src" / "portway",
    **{p.name: p for p in sorted(ROOT.glob("plugins/*/src/*")) if (p / "__init__.py").exists()},
}


def modules(package: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``package``."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        found[".".join(parts).removesuffix(".__init__")] = path
    return found


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that module ``name`` imports anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def add(target: str) -> None:
        while target and target not in known:  # `import a.b.c` where c is a name in a.b
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from pkg import module` depends on the module; `from pkg import name` on pkg.
                add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def import_graph(package: Path) -> dict[str, set[str]]:
    found = modules(package)
    return {name: imported(name, path, set(found)) for name, path in found.items()}


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_import_cycles(package: str) -> None:
    graph = import_graph(PACKAGES[package])
    found = cycles(graph)
    described = [
        " <-> ".join(component)
        + ": "
        + "; ".join(f"{m} imports {sorted(graph[m] & set(component))}" for m in component)
        for component in found
    ]
    assert not found, "import cycles (break them with a module both sides import):\n" + "\n".join(described)


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path) -> None:
    # The rule is only as good as its finder: a three-module ring, one edge type-only, one lazy.
    package = tmp_path / "ring"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from ring import b\n")
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ring.c import C\n"
    )
    (package / "c.py").write_text("def f():\n    from . import a\n")
    (package / "d.py").write_text("import ring.a\n")
    assert cycles(import_graph(package)) == [["ring.a", "ring.b", "ring.c"]]


KERNEL = modules(PACKAGES["portway"])
PLUGINS = sorted(name for name in PACKAGES if name != "portway")


def public_modules() -> set[str]:
    """The kernel modules docs/plugins.md lists under "The public API"."""
    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    section = text.split("\n## The public API\n", 1)[1].split("\n## ", 1)[0]
    return {line.split("`")[1] for line in section.splitlines() if line.startswith("- `portway")}


def kernel_imports(path: Path) -> set[str]:
    """The kernel modules a plugin file imports, anywhere in it (``from portway import files`` is
    ``portway.files``; ``from portway import Service`` is ``portway``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            base = node.module
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in KERNEL else base for a in node.names]
        else:
            continue
        found.update(t for t in targets if t == "portway" or t.startswith("portway."))
    return found


def test_the_public_api_is_listed_and_exists() -> None:
    public = public_modules()
    assert {
        "portway",
        "portway.declarations",
        "portway.files",
        "portway.testing",
        "portway.plugin_cli",
    } <= public
    assert public <= set(KERNEL), f"docs/plugins.md lists modules that do not exist: {public - set(KERNEL)}"


@pytest.mark.parametrize("plugin", PLUGINS)
def test_plugins_use_only_the_public_kernel_modules(plugin: str) -> None:
    public = public_modules()
    private = {
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted(PACKAGES[plugin].rglob("*.py"))
        for module in kernel_imports(path)
        if module not in public
    }
    assert not private, (
        "plugins may use only the kernel modules docs/plugins.md lists as public; "
        "add what they need there (and document it) or keep it in the plugin:\n" + "\n".join(sorted(private))
    )


def test_the_import_finder_sees_a_lazy_private_import(tmp_path: Path) -> None:
    module = tmp_path / "cli.py"
    module.write_text(
        "from portway import Service, files\n"
        "def run():\n"
        "    from portway.runtime import Runtime\n"
        "    import portway.cli.remote\n"
    )
    assert kernel_imports(module) == {"portway", "portway.files", "portway.runtime", "portway.cli.remote"}


MAX_LINES = 400


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_modules_are_small(package: str) -> None:
    """The house limit: a module past it is split by concern, so a reader finds a thing by its file name."""
    large = {
        str(path.relative_to(ROOT)): lines
        for path in sorted(PACKAGES[package].rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not large, f"modules over {MAX_LINES} lines: {large}"
