"""The store's rooms (store/core.py lists them): the Store facade sits on top, and the modules
behind it take a Connection and never reach back up to the facade, so they compose inside
one transaction and the arrows inside the store run one way."""

from __future__ import annotations

import ast
from pathlib import Path

import funnel_tui.store as store_pkg

STORE = Path(store_pkg.__file__).parent
FACADE = {"funnel_tui.store", "funnel_tui.store.core"}


def _imports(path: Path) -> set[str]:
    """Every funnel_tui.store module `path` imports, at any depth of the file."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("funnel_tui.store"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("funnel_tui.store"):
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if (STORE / f"{a.name}.py").exists() and node.module == "funnel_tui.store"
                        else node.module)
    return out


def _graph() -> dict[str, set[str]]:
    return {f"funnel_tui.store.{p.stem}": _imports(p) for p in STORE.glob("*.py") if p.stem != "__init__"}


def test_no_module_behind_the_facade_imports_it():
    graph = _graph()
    assert len(graph) > 10  # the walk found the rooms
    leaks = {m: sorted(deps & FACADE) for m, deps in graph.items() if m not in FACADE and deps & FACADE}
    assert not leaks


def test_no_import_cycle_inside_the_store():
    graph = _graph()
    done: set[str] = set()

    def walk(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " → ".join((*path, module))
        if module in done:
            return
        for dep in graph.get(module, ()):
            walk(dep, (*path, module))
        done.add(module)

    for module in graph:
        walk(module, ())
    # the pair that used to import each other: schema → migrations only
    assert "funnel_tui.store.migrations" in graph["funnel_tui.store.schema"]
    assert "funnel_tui.store.schema" not in graph["funnel_tui.store.migrations"]
