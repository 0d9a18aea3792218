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


# Media code works on paths; it knows nothing of the web framework or the database.
MEDIA_MAY_NOT_IMPORT = ("flask", "flask_login", "flask_wtf", "flask_sqlalchemy", "flask_migrate",
                        "sqlalchemy", "werkzeug", "rq", "redis", "minio")
# What only workers load: the web process never imports these.
WORKER_ONLY = ("whisperx", "torch", "torchaudio", "cv2", "av", "ctranslate2", "faster_whisper",
               "onnxruntime", "ffmpeg")


def _third_party(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_media_code_imports_no_web_or_database_and_views_import_no_media():
    modules = _modules()
    graph = {name: _imports(name, tree, set(modules)) for name, tree in modules.items()}
    for name, tree in modules.items():
        if name.startswith("app.media"):
            ours = {t for t in graph[name] if not t.startswith("app.media")}
            assert not ours, f"{name} imports {ours}: media code takes paths, not app objects"
            assert not _third_party(tree) & set(MEDIA_MAY_NOT_IMPORT), name
        if name.startswith("app.blueprints"):
            media = {t for t in graph[name] if t.startswith("app.media")}
            assert not media, f"view module {name} imports {media}: views call services"


def test_every_module_imports_and_the_web_process_loads_no_worker_library():
    """In a fresh interpreter: the app, every view and every service first (nothing of the
    workers' libraries may come with them), then every other module of app/ and jobs/."""
    import subprocess
    import sys

    names = sorted(_modules())
    web = [n for n in names if n.startswith(("app.blueprints", "app.services")) or n in (
        "app", "app.errors", "app.security", "app.storage", "app.captions", "app.extensions")]
    script = f"""
import importlib, os, sys
os.environ.setdefault("SECRET_KEY", "import-test")
from app import create_app
create_app()
for name in {web!r}:
    importlib.import_module(name)
loaded = sorted(m for m in {WORKER_ONLY!r} if m in sys.modules)
assert not loaded, f"the web process loaded {{loaded}}"
for name in {names!r}:
    importlib.import_module(name)
print("imported", len({names!r}))
"""
    env = {**__import__("os").environ, "ONEWAY_ENV": "testing"}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"imported {len(names)}" in result.stdout
