"""The package's layout: one module per idea, and no import cycle between them (lazy and type-only imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ganlib"


def _imports(path: Path) -> set[str]:
    """Every ganlib module that ``path`` imports anywhere: top level, inside functions, under TYPE_CHECKING."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ganlib"):
            if node.module == "ganlib":  # from ganlib import losses
                found |= {f"ganlib.{alias.name}" for alias in node.names}
            else:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("ganlib.")}
    return found


def _graph() -> dict[str, set[str]]:
    """Flat modules and packages (a package counts as one node: the imports of all its modules, its own left out)."""
    modules = {f"ganlib.{p.stem}": [p] for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")}
    modules |= {f"ganlib.{d.name}": sorted(d.rglob("*.py")) for d in PACKAGE.iterdir() if (d / "__init__.py").is_file()}

    def node(module: str) -> str | None:
        return next((n for n in modules if module == n or module.startswith(n + ".")), None)

    graph = {}
    for name, paths in modules.items():
        found = {node(m) for p in paths for m in _imports(p)}
        graph[name] = {n for n in found if n is not None and n != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_between_modules():
    graph = _graph()
    assert "ganlib.train.step" in graph and "ganlib.train.loop" in graph
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_loop_knows_nothing_of_metrics():
    assert "ganlib.metrics" not in _graph()["ganlib.train.loop"]
    assert not {"ganlib.train", "ganlib.train.loop", "ganlib.train.state"} & _graph()["ganlib.metrics"]
