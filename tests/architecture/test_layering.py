"""The shared apps hold registries and never name a domain app: dependencies point down.

`accounts`, `users`, `events` and `scheduler` are the bottom; `health`, `integrations`, `web` and
`demo` hold registries other apps fill. A domain app (revenue, usage, success and every later one)
plugs in through those registries. If one of these tests fails, a shared app learned a domain's name:
add a registry (or use one) instead, as docs/architecture.md ("Seams") describes.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import touchpoint

PACKAGE = Path(touchpoint.__file__).parent

# What each shared app may import from (itself included). Anything else under touchpoint.* is a domain.
# `web` (layout, navigation, charts) and `demo` (the step registry) are registries every app may use.
REGISTRIES = {"web", "demo", "home", "typing", "api_contract"}
ALLOWED: dict[str, set[str]] = {
    "users": {"users"} | REGISTRIES,
    "events": {"events", "users", "scheduler"} | REGISTRIES,
    "scheduler": {"scheduler"} | REGISTRIES,
    "accounts": {"accounts", "users", "events", "scheduler"} | REGISTRIES,
    "health": {"health", "accounts", "users", "events", "scheduler"} | REGISTRIES,
    "integrations": {"integrations", "accounts", "users", "events", "scheduler"} | REGISTRIES,
    "web": {"web", "users", "accounts", "wsgi"} | REGISTRIES,
    "demo": {"demo", "users", "accounts"} | REGISTRIES,
    "home": {"home", "users", "accounts", "events", "scheduler"} | REGISTRIES,
    # The privacy registry: domain apps register their holders in it, it names none of them.
    "privacy": {"privacy", "users", "accounts", "events", "scheduler"} | REGISTRIES,
}


def _apps() -> set[str]:
    return {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "apps.py").exists()}


def _modules(app: str):
    for path in sorted((PACKAGE / app).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def _imported_apps(path: Path) -> set[tuple[str, int]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "touchpoint" and len(parts) > 1:
                found.add((parts[1], node.lineno))
    return found


def _docstring_lines(text: str) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return lines


@pytest.mark.parametrize("app", sorted(ALLOWED))
def test_a_shared_app_imports_no_domain_app(app):
    if not (PACKAGE / app).exists():
        pytest.skip(f"{app} does not exist")
    problems = []
    for path in _modules(app):
        for imported, line in sorted(_imported_apps(path)):
            if imported not in ALLOWED[app] and imported in _apps():
                problems.append(f"{path.relative_to(PACKAGE)}:{line} imports touchpoint.{imported}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("app", sorted(ALLOWED))
def test_a_shared_app_names_no_domain_table_or_template(app, db):
    if not (PACKAGE / app).exists():
        pytest.skip(f"{app} does not exist")
    from django.apps import apps

    domains = sorted(_apps() - set(ALLOWED))
    tables = [
        m._meta.db_table
        for label in domains
        if label in apps.app_configs
        for m in apps.get_app_config(label).get_models()
    ]
    # A table (revenue_subscription), a template path (revenue/…html) or a permission (revenue.view_…).
    pattern = re.compile(
        r"\b(" + "|".join(map(re.escape, tables or ["-"])) + r")\b"
        r"|\b(" + "|".join(domains) + r")(/[\w/]+\.html|\.(view|add|change|delete)_\w+)"
    )
    problems = []
    files = [*_modules(app), *sorted((PACKAGE / app).rglob("*.html"))]
    for path in files:
        text = path.read_text(encoding="utf-8")
        prose = _docstring_lines(text) if path.suffix == ".py" else set()
        for number, line in enumerate(text.splitlines(), start=1):
            if number in prose or line.lstrip().startswith("#"):
                continue  # examples in docstrings and comments show how a domain plugs in
            if match := pattern.search(line):
                problems.append(f"{path.relative_to(PACKAGE)}:{number} names {match.group(0)}")
    assert not problems, "\n".join(problems)
