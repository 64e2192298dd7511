"""The layers import downwards only: app → callbacks/api/reports → queries → data (docs/architecture.md).

Read from the source with `ast` (imports inside functions count too), so a rule is kept by the code as
written, not by whichever modules a test happened to load.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
MAX_LINES = 420  # "about 400": a module longer than this is two modules

# (package or module the rule is about, modules it must never import, reason)
RULES = [
    ("queries", ("data.ingest", "data.demo", "data.rollups.build", "data.cli", "callbacks", "layouts", "api",
                 "reports", "app"), "queries reads what the writer wrote (data.schema, data.rollups.manifest)"),
    ("data.ingest", ("queries", "callbacks", "layouts", "api", "reports", "auth", "app", "data.demo", "alerts"),
     "the writer"),
    ("data.demo", ("queries", "callbacks", "layouts", "api", "reports", "auth", "app", "data.ingest"), "the demo"),
    ("data.schema", ("queries", "callbacks", "layouts", "api", "reports", "auth", "app", "data.ingest"), "contract"),
    ("data.rollups.manifest", ("queries", "callbacks", "layouts", "api", "reports", "app", "data.ingest", "data.demo",
                               "data.rollups.build"), "read by queries: must not pull the writer in"),
    ("data.rollups", ("queries", "callbacks", "layouts", "api", "reports", "auth", "app", "data.demo"),
     "the rollup builder, called by the writer"),
    ("callbacks.report", ("app",), "a callback gets the app from Flask, not by importing it"),
    ("callbacks", ("app", "api"), "callbacks serve the pages"),
    ("alerts", ("app", "api", "callbacks"), "the checker runs below the pages, in a server or a command"),
]
# The rollup builder still reads one query-layer module: `Period` (a value: local midnights by DuckDB's
# rules, the same ones every question uses).
ALLOWED = {
    ("data.rollups.build", "queries.period"),
}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, Path]:
    found = {}
    for package in ("alerts", "api", "auth", "callbacks", "data", "layouts", "queries", "reports"):
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module(path)] = path
    found["app"] = ROOT / "app.py"
    return found


def _imports(module: str, path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against this module's package
                base = module.split(".")[: -node.level + (path.name == "__init__.py") or None]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names.add(prefix)
            names.update(f"{prefix}.{alias.name}" for alias in node.names)
    return names


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


SOURCES = _sources()


@pytest.mark.parametrize(("subject", "forbidden", "why"), RULES, ids=[rule[0] for rule in RULES])
def test_no_import_from_a_lower_layer_to_a_higher_one(subject: str, forbidden: tuple[str, ...], why: str) -> None:
    broken = []
    for module, path in SOURCES.items():
        if not _within(module, subject):
            continue
        for name in _imports(module, path):
            hit = next((f for f in forbidden if _within(name, f)), None)
            if hit and not any(module == m and _within(name, allowed) for m, allowed in ALLOWED):
                broken.append(f"{module} imports {name}")
    assert not broken, f"{why}: {sorted(set(broken))}"


def test_the_rules_see_the_imports_they_are_about() -> None:
    """The reader finds a known import, so an empty list of broken rules means something."""
    assert "data.rollups.manifest.current_manifest" in _imports("data.cli", SOURCES["data.cli"])
    assert "queries.period.Period" in _imports("data.rollups.build", SOURCES["data.rollups.build"])


def test_no_module_is_over_about_400_lines() -> None:
    """Split by what each part does (data/ingest/, data/rollups/, data/demo/), not one module of everything."""
    lines = {module: len(path.read_text().splitlines()) for module, path in SOURCES.items()}
    assert not {module: n for module, n in lines.items() if _within(module, "data") and n > MAX_LINES}
