"""No import circles among the modules of app/ and jobs/: a newcomer can read them bottom up."""

from __future__ import annotations

import ast

from tests.conftest import ROOT


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted([*ROOT.glob("app/**/*.py"), *ROOT.glob("jobs/**/*.py")]):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = ast.parse(path.read_text())
    return found


def _imports(name: str, tree: ast.Module, known: set[str]) -> set[str]:
    """The modules of ours this one imports, at the top or inside a function alike (the package a
    module sits in is imported first by Python itself, so it is no edge)."""

    def ours(dotted: str) -> str | None:
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets |= {ours(a.name) for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            subs = {f"{node.module}.{a.name}" for a in node.names}
            targets |= {ours(s) for s in subs if s in known} or {ours(node.module)}
    return {t for t in targets if t and t != name and not name.startswith(t + ".")}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop())
            if len(group) > 1:
                out.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_modules_import_each_other_in_one_direction_only():
    modules = _modules()
    graph = {name: _imports(name, tree, set(modules)) for name, tree in modules.items()}
    # The factory (app/__init__.py) imports every blueprint and the CLI to build the app, and the
    # workers build an app through it: that circle is the app's shape, not a tangle of modules.
    graph = {name: targets - {"app"} for name, targets in graph.items()}
    assert _circles(graph) == []
    # The graph is real: the edges this test exists for are seen.
    assert "app.services.takes" in graph["app.services.pipeline"]
    assert "app.models.base" in graph["app.models.candidates"]
