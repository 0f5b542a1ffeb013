"""The folder tree is the architecture: stages import one way, down, and no module imports itself
back through others. Each stage's `__init__` docstring states what it may import
(`Imports: plumbing, reading, ...`); these tests hold the code to those words."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "analyzer"
STAGES = ("reading", "parsing", "detection", "collectors", "pipeline", "outputs", "batch", "cli")
PLUMBING = "plumbing"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py") if "_shipped" not in p.parts}


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Every analyzer module `path` imports, at the top or inside a function, resolved to a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != "analyzer":
                found.add(name)
    return found


def _group(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in STAGES) else PLUMBING


def _allowed(stage: str) -> set[str]:
    """What a stage's docstring says it may import (plus itself)."""
    doc = ast.get_docstring(ast.parse((PACKAGE / stage / "__init__.py").read_text(encoding="utf-8"))) or ""
    said = re.search(r"^Imports: ([a-z, ]+)\.$", doc, re.MULTILINE)
    assert said, f"analyzer/{stage}/__init__.py does not say what it may import ('Imports: ...')"
    return {*(word.strip() for word in said.group(1).split(",")), stage}


def test_every_stage_docstring_allows_only_the_stages_before_it_and_plumbing():
    for rank, stage in enumerate(STAGES):
        assert _allowed(stage) == {PLUMBING, *STAGES[: rank + 1]}, stage


@pytest.mark.parametrize("stage", [PLUMBING, *STAGES])
def test_a_stage_imports_only_what_its_docstring_allows(stage: str):
    modules = _modules()
    allowed = {PLUMBING} if stage == PLUMBING else _allowed(stage)
    wrong = sorted(f"{module} imports {imported}"
                   for module, path in modules.items() if _group(module) == stage
                   for imported in _imports(path, set(modules)) if _group(imported) not in allowed)
    assert not wrong, "imports against the stage order:\n" + "\n".join(wrong)


def test_no_module_imports_itself_through_others():
    modules = _modules()
    graph = {module: _imports(path, set(modules)) - {module} for module, path in modules.items()}
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            pytest.fail("import circle: " + " -> ".join([*trail[trail.index(module):], module]))
        if module in done:
            return
        for imported in sorted(graph[module]):
            visit(imported, [*trail, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_the_checker_sees_lazy_imports_and_stage_modules():
    """Guards the guard: an import inside a function counts, and a stage module is grouped by stage."""
    modules = _modules()
    assert "analyzer.batch.cluster" in _imports(PACKAGE / "batch" / "triage.py", set(modules))
    assert _group("analyzer.parsing.formats") == "parsing"
    assert _group("analyzer.errors") == PLUMBING
    assert _group("analyzer.cli") == "cli"
