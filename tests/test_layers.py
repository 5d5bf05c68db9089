"""The arrows run one way (DESIGN §4): nothing outside funnel_tui/tui/ imports Textual, each
entry path loads only what it uses, no module imports another that imports it back, and every
deliberate deferral is named with its reason (pyproject.toml [tool.funnel-tui.deferred-imports])."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import NamedTuple

import pytest

import funnel_tui

REPO = Path(__file__).resolve().parents[1]


def _modules_outside_tui() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(funnel_tui.__path__, "funnel_tui."):
        if info.name.startswith("funnel_tui.tui") or info.name == "funnel_tui.__main__":
            continue
        names.append(info.name)
    return names


def test_nothing_outside_tui_imports_textual():
    modules = _modules_outside_tui()
    assert "funnel_tui.store.core" in modules and "funnel_tui.cli" in modules
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_domain_does_no_io_and_imports_no_orm():
    code = (
        "import importlib, pkgutil, sys, funnel_tui.domain as d\n"
        "for i in pkgutil.walk_packages(d.__path__, 'funnel_tui.domain.'): importlib.import_module(i.name)\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy','sqlmodel','rich','textual'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_due_command_path_skips_textual():
    code = (
        "import sys\nfrom funnel_tui.cli import main\n"
        "sys.argv=['funnel','--db',sys.argv[1],'due','--format','json']\n"
        "main()\nprint('TEXTUAL' if 'textual' in sys.modules else 'CLEAN', file=sys.stderr)\n"
    )
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        proc = subprocess.run([sys.executable, "-c", code, f"{d}/t.db"], capture_output=True, text=True,
                              env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "XDG_DATA_HOME": d})
    assert proc.stderr.strip().endswith("CLEAN"), proc.stderr


# --- one subprocess per entry path (harlequin's import hygiene) ------------------------------------
#
# The static graph below cannot tell an import at the top of a module from one deferred into
# the function that needs it; only a real run, looking at sys.modules, proves a deferral defers.

CLEAN_ENV = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "TZ": "Asia/Shanghai", "COLUMNS": "160",
             "FUNNEL_NOW": "2026-11-24T10:00:00+08:00"}
ORM = ("sqlalchemy", "sqlmodel", "pydantic", "funnel_tui.store")
# `funnel due` reads SQLite with sqlite3 (store/due_read.py): the store package, never the ORM.
NO_ORM = ("sqlalchemy", "sqlmodel", "pydantic", "funnel_tui.models", "funnel_tui.store.core")
RUN_FUNNEL = (
    "import sys\n"
    "from funnel_tui.cli import main\n"
    "try:\n"
    "    code = main(sys.argv[1:])\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "sys.stdout.flush()\n"
    "print('\\nMODULES', ' '.join(sorted(sys.modules)), file=sys.stderr)\n"
)


def _funnel(tmp_path: Path, *argv: str) -> tuple[str, set[str]]:
    """`funnel ARGV` in a fresh interpreter: its stdout and the modules it had loaded."""
    env = {**CLEAN_ENV, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", RUN_FUNNEL, *argv], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)
    assert "MODULES" in proc.stderr, proc.stderr
    modules = set(proc.stderr.rsplit("MODULES", 1)[1].split())
    return proc.stdout, modules


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in modules))


@pytest.fixture(scope="module")
def due_db(tmp_path_factory) -> Path:
    """A database with one follow-up overdue (a customer whose name the table must show)."""
    folder = tmp_path_factory.mktemp("layers")
    db = folder / "due.db"
    proc = subprocess.run([sys.executable, "-m", "funnel_tui", "--db", str(db), "add", "华信科技 Layers",
                           "--follow-up", "today 09:00", "--past"], capture_output=True, text=True, timeout=120,
                          env={**CLEAN_ENV, "XDG_DATA_HOME": str(folder / "data"),
                               "XDG_CACHE_HOME": str(folder / "cache")})
    assert proc.returncode == 0, proc.stderr
    return db


ENTRY_PATHS = [
    # argv (DB is the database above), modules it must not load
    (["--help"], ("textual", "rich", *ORM, "funnel_tui.exchange")),
    (["--version"], ("textual", "rich", *ORM, "funnel_tui.exchange")),
    (["--db", "DB", "due", "--format", "json"], ("textual", "rich", *NO_ORM)),
    (["--db", "DB", "due", "--count"], ("textual", "rich", *NO_ORM)),
    (["--db", "DB", "due"], ("textual", "rich", *NO_ORM)),
    (["--db", "DB", "warnings", "--format", "json"], ("textual", "rich")),
    (["--db", "DB", "summary", "--format", "json"], ("textual", "rich")),
    (["--db", "DB", "export", "-"], ("textual", "rich")),
]


@pytest.mark.parametrize(("argv", "forbidden"), ENTRY_PATHS, ids=[" ".join(a[2:] if a[0] == "--db" else a)
                                                                  for a, _ in ENTRY_PATHS])
def test_entry_path_loads_only_what_it_uses(argv, forbidden, due_db, tmp_path):
    argv = [str(due_db) if a == "DB" else a for a in argv]
    _, modules = _funnel(tmp_path, *argv)
    assert "funnel_tui.cli" in modules  # it ran
    assert not _loaded(modules, forbidden), f"`funnel {' '.join(argv)}` imported {_loaded(modules, forbidden)}"


LIGHT_STORE = ["funnel_tui.store", "funnel_tui.store.due_sql", "funnel_tui.store.due_read",
               "funnel_tui.store.board_sql", "funnel_tui.store.board_read", "funnel_tui.store.times",
               "funnel_tui.store.engine", "funnel_tui.store.backup", "funnel_tui.store.errors",
               "funnel_tui.store.open_check", "funnel_tui.store.health", "funnel_tui.store.personal",
               "funnel_tui.cli.plain", "funnel_tui.cli.plain_table", "funnel_tui.tui.board_data"]


def test_the_light_store_modules_import_without_the_orm():
    """What `funnel due` and the board's first frame read SQLite with (sqlite3 only)."""
    code = (
        "import importlib, sys\n"
        f"for m in {LIGHT_STORE!r}: importlib.import_module(m)\n"
        "import funnel_tui.store as s; s.StoreError, s.NotFound\n"  # the error classes, by name
        # refusal_of on a sqlite3 error (what the fast path meets) needs no SQLAlchemy either
        "import sqlite3; from funnel_tui.store.errors import refusal_of\n"
        "refusal_of(sqlite3.OperationalError('database is locked'), None)\n"
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {ORM[:3]!r} or m == 'textual'\n"
        "                        or m in ('funnel_tui.models', 'funnel_tui.store.core'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=CLEAN_ENV, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_import_dry_run_skips_textual_and_rich(due_db, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("customer,amount\nAcme,100\n", encoding="utf-8")
    out, modules = _funnel(tmp_path, "--db", str(due_db), "import", str(src), "--dry-run", "--format", "json")
    assert '"inserted": 1' in out
    assert not _loaded(modules, ("textual", "rich"))


def test_the_due_table_is_drawn_without_rich_and_other_tables_with_it(due_db, tmp_path):
    """`funnel due` draws its table itself (cli/plain_table.py); the other tables still load
    Rich and draw. A deferral that never fired would print nothing (or crash), not merely
    start slower, so look for the customer's row inside each drawn table."""
    out, modules = _funnel(tmp_path, "--db", str(due_db), "due")
    assert _loaded(modules, ("rich",)) == []
    row = next(line for line in out.splitlines() if "华信科技 Layers" in line)
    assert row.startswith("│") and row.rstrip().endswith("│") and "overdue" in row
    out, modules = _funnel(tmp_path, "--db", str(due_db), "list")
    assert _loaded(modules, ("rich",)) == ["rich"]
    row = next(line for line in out.splitlines() if "华信科技 Layers" in line)
    assert row.startswith("│") and row.rstrip().endswith("│")


ROOMS = ["funnel_tui.cli", "funnel_tui.store", "funnel_tui.exchange", "funnel_tui.domain"]


@pytest.mark.parametrize("room", ROOMS)
def test_no_module_of_the_room_imports_textual(room):
    """Each module of the room imported in turn; the first to bring Textual in is named."""
    code = (
        "import importlib, pkgutil, sys\n"
        f"room = importlib.import_module({room!r})\n"
        "names = [room.__name__] + [i.name for i in pkgutil.walk_packages(room.__path__, room.__name__ + '.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "    if 'textual' in sys.modules:\n"
        "        print('TEXTUAL', name)\n"
        "        break\n"
        "print('MODULES', len(names))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=CLEAN_ENV, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "TEXTUAL" not in proc.stdout, proc.stdout
    assert int(proc.stdout.split("MODULES")[1]) > 3  # the room's modules were really imported


# --- the static graph: no import cycle, every deferral named ----------------------------------------
#
# Edges are the imports that run: at module level, and inside functions too — a deferral
# changes when a module loads, not that it depends on the other, so two modules importing each
# other inside functions are still a circle. Imports under `if TYPE_CHECKING:` never run and
# make no edge. `from a import b` is an edge to the module a.b when there is one, else to a; a
# submodule's implicit import of its parent package is not an edge.

PACKAGE = REPO / "funnel_tui"
HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "rich", "textual", "platformdirs")
# Cycles other branches of issue 11 remove; delete each line when its branch is merged.
KNOWN_CYCLES: set[frozenset[str]] = set()  # a cycle being removed on a branch goes here, briefly


class _Import(NamedTuple):
    module: str  # the importing module
    target: str  # a funnel_tui module, or a third-party dotted name
    deferred: bool  # inside a function
    line: int


def _module_names(root: Path, package: str) -> dict[str, Path]:
    names = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(root: Path, package: str = "funnel_tui") -> tuple[set[str], list[_Import]]:
    """Every import that runs in the package's modules, resolved (see above)."""
    modules = _module_names(root, package)
    found: list[_Import] = []

    def resolve(name: str) -> str:
        if not name.startswith(package):
            return name
        while name not in modules and "." in name:
            name = name.rpartition(".")[0]
        return name

    for module, path in modules.items():
        is_package = path.name == "__init__.py"

        def visit(node: ast.AST, deferred: bool) -> None:
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                for child in node.orelse:
                    visit(child, deferred)
                return
            if isinstance(node, ast.Import):
                for alias in node.names:
                    found.append(_Import(module, resolve(alias.name), deferred, node.lineno))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".") if is_package else module.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for alias in node.names:
                    candidate = f"{source}.{alias.name}"
                    target = candidate if candidate in modules else resolve(source)
                    found.append(_Import(module, target, deferred, node.lineno))
            inner = deferred or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            for child in ast.iter_child_nodes(node):
                visit(child, inner)

        visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), False)
    return set(modules), found


def _cycles(root: Path, package: str = "funnel_tui") -> set[frozenset[str]]:
    """The import circles: strongly connected groups of two or more modules (Tarjan)."""
    modules, found = _imports(root, package)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for imp in found:
        if imp.target in modules and imp.target != imp.module:
            graph[imp.module].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: set[frozenset[str]] = set()

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
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
                cycles.add(frozenset(group))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return cycles


def test_no_import_cycle_in_funnel_tui():
    cycles = _cycles(REPO)
    new = [sorted(c) for c in cycles - KNOWN_CYCLES]
    gone = [sorted(c) for c in KNOWN_CYCLES - cycles]
    assert not new, f"import cycles: {new}"
    assert not gone, f"these known cycles are gone: delete their KNOWN_CYCLES lines: {gone}"


def test_the_cycle_finder_sees_deferred_imports_and_skips_type_checking(tmp_path):
    """The finder must be able to fail: a circle through a function-level import is found,
    one through an `if TYPE_CHECKING:` import is not."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from pkg import a\n")
    (pkg / "a.py").write_text("from pkg import c\n\ndef f():\n    from pkg.b import g\n    return g\n")
    (pkg / "b.py").write_text("import pkg.a\n\ndef g():\n    pass\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n")
    assert _cycles(tmp_path, "pkg") == {frozenset({"pkg.a", "pkg.b"})}


def _deferrals() -> list[dict]:
    with open(REPO / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["tool"]["funnel-tui"]["deferred-imports"]


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_every_deferred_import_is_named_with_its_reason():
    """pyproject.toml [tool.funnel-tui.deferred-imports] names every function-level import of
    a funnel_tui module or a heavy library, with why; and every entry still names one."""
    rules = _deferrals()
    assert all(r.get("why", "").strip() for r in rules)
    used: set[tuple[str, str]] = set()
    unnamed = []
    for imp in _imports(REPO)[1]:
        if not imp.deferred or imp.target == imp.module:
            continue
        if not (_within(imp.target, "funnel_tui") or imp.target.split(".")[0] in HEAVY):
            continue  # the standard library: too cheap to matter
        hits = [(r["from"], p) for r in rules if _within(imp.module, r["from"])
                for p in r["imports"] if _within(imp.target, p)]
        if not hits:
            unnamed.append(f"{imp.module}:{imp.line} imports {imp.target}")
        used.update(hits)
    assert not unnamed, "deferred imports no entry names (add one, with why): " + "; ".join(unnamed)
    stale = [f"{r['from']} -> {p}" for r in rules for p in r["imports"] if (r["from"], p) not in used]
    assert not stale, f"entries that name no deferred import any more: {stale}"
