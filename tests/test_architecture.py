"""The package's import structure, read from the source (imports inside functions included):
no import circles, and each stage of the data flow imports only earlier stages."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("toolkit", "schemas")

#: The stages in data-flow order (README, "What it does"); a module of one stage may import
#: modules of its own and earlier stages and the shared modules, which are in no stage (the
#: schemas, errors, atomic writes, documents, the study definition …).
STAGES = (
    ("toolkit.submission",),
    ("toolkit.validate", "toolkit.validation_report", "toolkit.dictionary"),
    ("toolkit.ingest", "toolkit.ledger"),
    ("toolkit.cohort", "toolkit.portable_sql", "toolkit.spark_engine", "toolkit.export"),
    ("toolkit.survival",),
    ("toolkit.analyses",),
    ("toolkit.report_context", "toolkit.disclosure", "toolkit.compare"),
    ("toolkit.figures", "toolkit.render"),
    ("toolkit.pipeline",),
    ("toolkit.commands", "toolkit.cli", "toolkit.__main__"),
)


@cache
def modules() -> dict[str, Path]:
    """Dotted module name → source file, for every module of the packages."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imported(name: str, path: Path) -> set[str]:
    """The package modules that ``name`` imports, anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            targets |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    known = set()
    for target in targets:
        while target and target not in modules():
            target = target.rpartition(".")[0]
        if target and target != name:
            known.add(target)
    return known


@cache
def graph() -> dict[str, frozenset[str]]:
    return {name: frozenset(_imported(name, path)) for name, path in modules().items()}


def _circles(edges: dict[str, frozenset[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(edges[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                component.append(member)
            component.append(node)
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return circles


def test_the_circle_finder_finds_a_circle() -> None:
    edges = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset()}
    assert _circles(edges) == [["a", "b", "c"]]
    assert _circles({"a": frozenset({"b"}), "b": frozenset()}) == []


def test_the_import_graph_sees_imports_inside_functions() -> None:
    assert "toolkit.report_context" in graph()["toolkit.pipeline"]  # imported in a function
    assert "schemas.cross" in graph()["toolkit.validate"]


def test_no_import_circles() -> None:
    assert _circles(graph()) == []


def _stage(name: str) -> int | None:
    for number, prefixes in enumerate(STAGES):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return number
    return None


@pytest.mark.parametrize("name", sorted(modules()))
def test_a_stage_imports_no_later_stage(name: str) -> None:
    own = _stage(name)
    if own is None:
        return
    later = sorted(m for m in graph()[name] if (_stage(m) or 0) > own)
    assert later == [], f"{name} (stage {own}) imports later stages: {later}"


def test_a_shared_module_imports_no_stage() -> None:
    # errors, atomic writes, documents, the study … serve every stage, so they depend on none
    shared = [n for n in modules() if _stage(n) is None]
    staged = {n for n in modules() if _stage(n) is not None}
    offending = {n: sorted(graph()[n] & staged) for n in shared if graph()[n] & staged}
    assert offending == {}


def test_the_estimators_know_nothing_of_studies() -> None:
    # toolkit.survival takes arrays or frames plus column names: of the package it imports
    # only itself and the error types; the study-bound analyses are toolkit.analyses
    allowed = {"toolkit.errors", "toolkit"}
    imports = {
        name: sorted(
            m for m in graph()[name] if not m.startswith("toolkit.survival") and m not in allowed
        )
        for name in modules()
        if name.startswith("toolkit.survival")
    }
    assert {name: found for name, found in imports.items() if found} == {}
    assert "toolkit.study" in graph()["toolkit.analyses.strata"]  # the test sees the glue


def test_every_module_of_the_readme_stage_table_exists() -> None:
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## What it does", 1)[1].split("\n\n", 2)[1]
    named = re.findall(r"`((?:toolkit|schemas|queries|templates)[^`]*)`", table)
    assert len(named) >= 10
    assert [n for n in named if not (ROOT / n).exists()] == []
    # and every stage of STAGES is in the table
    for prefixes in STAGES[:-2]:
        for prefix in prefixes:
            path = prefix.replace(".", "/")
            assert any(n.rstrip("/").removesuffix(".py") == path for n in named), prefix


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """A function's lines without its docstring."""
    lines = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        lines -= first.end_lineno - first.lineno + 1
    return lines


def test_no_function_is_longer_than_80_lines() -> None:
    long = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _code_lines(node) > 80:
                long.append(f"{name}.{node.name}: {_code_lines(node)} lines")
    assert long == []
