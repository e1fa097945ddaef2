"""The package's structure tests itself: no import cycle, every module imports on its own,
and the static and runtime halves never reach into each other.

Imports are read from the source with `ast`, function-level imports included: a cycle hidden
inside a function is still a cycle (it only moves the failure to run time).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "optlint"


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _executed(tree: ast.AST):
    """Every node but those under `if TYPE_CHECKING:` (type hints, never run)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
            node.body = []
        yield node


def _imports(path: Path, module_level_only: bool = False) -> set[str]:
    """The optlint modules `path` imports (`from a.b import c` is a.b.c when that is a module).

    For a package's __init__ only what runs on import counts: its functions are the lazy
    facade (PEP 562 `__getattr__`), which runs after the package is imported."""
    out = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if module_level_only:
        tree.body = [node for node in tree.body if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for node in _executed(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "optlint":
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                out.add(name if name in MODULES else node.module)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names if alias.name.split(".")[0] == "optlint")
    return {name for name in out if name in MODULES}


def _graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        edges = _imports(path, module_level_only=path.name == "__init__.py")
        # Importing a.b.c runs a/__init__ and a/b/__init__ first.
        for target in list(edges):
            parts = target.split(".")
            edges.update(".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]) in MODULES)
        edges.discard(name)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_halves_and_layers_stay_apart():
    graph = _graph()
    for name, edges in graph.items():
        if name.startswith("optlint.static"):
            assert not any(e.startswith("optlint.runtime") for e in edges), name
        if name.startswith("optlint.runtime"):
            assert not any(e.startswith(("optlint.static", "optlint.static.checker", "optlint.static.linter")) for e in edges), name
        if name.startswith("optlint.static.model"):
            assert not any(e.startswith(("optlint.rules", "optlint.static.fix", "optlint.static.checker")) for e in edges), name


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_imports_on_its_own(module):
    # A fresh interpreter per module: import order elsewhere cannot hide a missing import.
    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
