"""No import circles in lstm_core and ui: every import, at module level or inside a function,
read from the source (ast), and the graph of who imports whom searched for a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("lstm_core", "ui")


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the packages (a package is its __init__)."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, modules: set[str]) -> set[str]:
    """The package modules `name` imports anywhere in its file (`from . import x` and
    `from pkg import x` count as importing the module pkg.x when there is one, `from pkg import
    Name` as importing pkg itself). Imports under `if TYPE_CHECKING:` are left out: they never run."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]  # for relative imports
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for block in ast.walk(tree):  # a type-only block's imports never run
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test):
            block.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            origin = ".".join([*base, *(node.module.split(".") if node.module else [])])
            if origin not in modules:
                continue
            for alias in node.names:
                sub = f"{origin}.{alias.name}"
                if sub in modules:
                    found.add(sub)
                else:
                    found.add(origin)
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    return {name: imports_of(name, path, set(files)) for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of modules (Tarjan's algorithm), as a path."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [sorted(group) for group in groups]


def test_the_graph_sees_imports_at_every_level(tmp_path):
    source = tmp_path / "m.py"
    source.write_text(
        "from . import a\nfrom .b import X\nfrom typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from . import c\n"
        "def f():\n    import ui.d\n    from ui import Y\n"
    )
    modules = {"ui", "ui.a", "ui.b", "ui.c", "ui.d", "ui.m"}
    assert imports_of("ui.m", source, modules) == {"ui", "ui.a", "ui.b", "ui.d"}
    graph = import_graph()
    assert "lstm_core.checkpoint" in graph["lstm_core.worker"] and "lstm_core" in graph["ui.models"]
    a_cycle = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(a_cycle) == [["a", "b", "c"]] and cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_of_lstm_core_or_ui_imports_itself_round_a_circle():
    found = cycles(import_graph())
    assert not found, "import circles: " + "; ".join(" <-> ".join(c) for c in found)
