"""The engine's shape: role names without collisions, no import cycle between its packages, layers kept.

The layer contract itself is `[tool.importlinter]` in pyproject.toml, run by `lint-imports` in CI; this
file reads the working tree's imports directly and adds what the contract does not say (docs/architecture.md)."""

from __future__ import annotations

import ast
import collections
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"


def test_no_two_engine_modules_share_a_file_name() -> None:
    names = collections.defaultdict(list)
    for path in ENGINE.rglob("*.py"):
        if path.name != "__init__.py" and "__pycache__" not in path.parts:
            names[path.name].append(str(path.relative_to(ROOT)))
    assert {n: p for n, p in names.items() if len(p) > 1} == {}


def _package_graph() -> dict[str, set[str]]:
    """Engine package -> the engine packages it imports (every import, top level or inside a function)."""
    packages: dict[str, set[str]] = collections.defaultdict(set)
    for path in ENGINE.rglob("*.py"):
        parts = path.relative_to(ENGINE).parts
        if len(parts) < 2 or "__pycache__" in parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names] if isinstance(node, ast.Import) else []
            assert not (isinstance(node, ast.ImportFrom) and node.level), f"{path}: relative import"
            for name in names:
                target = name.split(".")
                if len(target) >= 3 and target[:2] == ["taxpack", "engine"] and target[2] != parts[0]:
                    packages[parts[0]].add(target[2])
    return packages


def test_no_import_cycle_between_engine_packages() -> None:
    graph = _package_graph()
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle.extend(path[path.index(nxt):] + [node, nxt] if nxt in path else [node, nxt])
                return True
            if state.get(nxt) is None and visit(nxt, path + [node]):
                return True
        state[node] = 2
        return False

    for package in sorted(graph):
        if state.get(package) is None and visit(package, []):
            break
    assert cycle == []
