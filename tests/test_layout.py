"""The package's layout: one module per idea, no import cycle between them (lazy imports included), and a training
core that names no model family."""

from __future__ import annotations

import ast
import re
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


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST):
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:`` (annotations only, never run)."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            skipped |= {id(n) for child in node.body for n in ast.walk(child)}
    return (n for n in ast.walk(tree) if id(n) not in skipped)


def _graph() -> dict[str, set[str]]:
    """Every module of the package (a package's ``__init__`` under the package's name) and the modules it imports
    when it runs: at the top level or inside functions; type-only imports (under ``TYPE_CHECKING``) left out."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py") if p.name != "__main__.py"}

    def node(module: str) -> str | None:
        # "from ganlib.metrics import fcd" names the module ganlib.metrics.fcd when there is one
        return module if module in paths else None

    graph = {}
    for name, path in paths.items():
        found = set()
        for node_ in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node_, ast.ImportFrom) and node_.module and node_.module.startswith("ganlib"):
                subs = {f"{node_.module}.{a.name}" for a in node_.names} & set(paths)
                found |= subs or {node_.module}
            elif isinstance(node_, ast.Import):
                found |= {a.name for a in node_.names if a.name.startswith("ganlib.")}
        graph[name] = {n for n in map(node, found) if n is not None and n != name}
    return graph


def _package_graph() -> dict[str, set[str]]:
    """The graph between top-level modules and subpackages (a subpackage counts as one node)."""
    def top(module: str) -> str:
        return ".".join(module.split(".")[:2])

    graph: dict[str, set[str]] = {}
    for name, deps in _graph().items():
        graph.setdefault(top(name), set()).update(top(d) for d in deps if top(d) != top(name))
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
    assert {"ganlib.train.step", "ganlib.train.loop", "ganlib.progressive.family", "ganlib.conditional"} <= set(graph)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_loop_knows_nothing_of_metrics():
    # Only ganlib.train.api, the public entry point, evaluates (its EpochEvaluator callback).
    for path in sorted((PACKAGE / "train").glob("*.py")):
        if path.stem != "api":
            assert not {m for m in _imports(path) if m.startswith("ganlib.metrics")}, path.name
    assert "ganlib.train" not in _package_graph()["ganlib.metrics"]


# The training core: what every family shares. A model family (conditional, progressive) or a component (the EMA)
# enters through the registry of ganlib.train.family and the objects it builds, never by name in these modules.
CORE = [PACKAGE / "train" / f"{m}.py" for m in
        ("api", "callbacks", "checkpoints", "distribute", "frames", "keras_fit", "loop", "runs", "state", "step",
         "tensorboard", "within_epoch")]
CORE.append(PACKAGE / "export.py")
FEATURES = {"conditional", "progressive", "growth", "growing", "grow", "ema", "pggan", "fade", "alpha", "labels_",
            "diffaugment", "translation", "cutout"}
FEATURE_MODULES = ("ganlib.conditional", "ganlib.progressive", "ganlib.train.ema", "ganlib.augment")


def _words(tree: ast.AST) -> set[tuple[int, str]]:
    """The lower-case words of every identifier, attribute and string constant of a module, docstrings left out."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    found = set()
    for node in ast.walk(tree):
        texts = []
        if isinstance(node, ast.Name):
            texts = [node.id]
        elif isinstance(node, ast.Attribute):
            texts = [node.attr]
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            texts = [node.name]
        elif isinstance(node, ast.arg):
            texts = [node.arg]
        elif isinstance(node, ast.keyword) and node.arg:
            texts = [node.arg]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            texts = [node.value]
        for text in texts:
            found |= {(node.lineno, w) for w in re.split(r"[^a-z0-9]+", text.lower()) if w}
    return found


def test_the_core_imports_no_family_module():
    for path in CORE:
        bad = {m for m in _imports(path) if m.startswith(FEATURE_MODULES)}
        assert not bad, f"{path.relative_to(PACKAGE.parent)} imports {sorted(bad)}"


def test_the_core_names_no_family():
    for path in CORE:
        bad = sorted((line, w) for line, w in _words(ast.parse(path.read_text(encoding="utf-8"))) if w in FEATURES)
        assert not bad, f"{path.relative_to(PACKAGE.parent)} names a family or component: {bad}"


def test_the_word_finder_sees_code_and_skips_docstrings():
    tree = ast.parse('"""progressive growing"""\ndef f(gan):\n    """the EMA"""\n    return gan.ema_generator or "fade-in"\n')
    assert {w for _, w in _words(tree)} == {"f", "gan", "ema", "generator", "fade", "in"}
