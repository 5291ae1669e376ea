"""Nothing imports in a circle: the apps form a layered graph (accounts at the bottom, the demo runner
below every app's demo step). Imports only for type checking (`if TYPE_CHECKING:`) do not count."""

from __future__ import annotations

import ast
from pathlib import Path

import touchpoint

ROOT = Path(touchpoint.__file__).parent


def _runtime_imports(tree: ast.AST) -> list[str]:
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return  # type-checking only: never runs
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if "migrations" in parts:
            continue
        package = parts[0].removesuffix(".py")
        for module in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if module.startswith("touchpoint.") and (target := module.split(".")[1]) != package:
                graph.setdefault(package, set()).add(target)
    return graph


def test_no_package_imports_in_a_circle():
    graph = package_graph()
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def walk(node: str, path: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                walk(target, [*path, target])
        state[node] = "done"

    for package in sorted(graph):
        if package not in state:
            walk(package, [package])
    assert cycles == []


def test_the_shared_layers_import_no_domain_app():
    graph = package_graph()
    domain = {"success", "usage", "revenue", "health", "integrations", "scheduler"}
    assert graph.get("accounts", set()) & domain == set()
    assert graph.get("web", set()) & (domain | {"accounts"}) == set()
    # The runner: each app's steps import it, so it may lean only on leaf helpers (modules such as
    # `bulk` that import nothing of Touchpoint), never on an app.
    leaves = {name for name in graph.get("demo", set()) if not graph.get(name)}
    assert leaves <= {"bulk", "bounds"}
    assert graph.get("demo", set()) - leaves == set()
