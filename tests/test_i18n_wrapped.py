"""Every user-facing string of the screens and the command line goes through the catalog.

An AST scan of funnel_tui/tui/, funnel_tui/cli/ and funnel_tui/exchange/ finds English text handed straight to the
places a rep reads: toasts, labels, buttons, placeholders, table cells, argparse help and
metavars, CLI errors and printed lines, binding descriptions. "Wrapped" means the text sits
inside `_()`, `pgettext()`, `ngettext()`, `N_()` or `NP_()` (also as `_("…").format(…)` or
joined with punctuation). English text elsewhere in those calls fails the test with its file
and line; the few that are not words for a rep are allowed below, each with its reason.

The same scan keeps the catalog honest where Babel cannot look: a `_()` inside an f-string is
never extracted, `_()` at import time is frozen in English, and `_` rebound as a throwaway
variable breaks the next `_()` of that function.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "funnel_tui"
ROOMS = ("tui", "cli", "exchange")
MARKERS = {"_", "gettext", "pgettext", "ngettext", "npgettext", "N_", "NP_"}
TRANSLATE_NOW = MARKERS - {"N_", "NP_"}
WORDS = re.compile(r"[A-Za-z]{2,}")

# Calls whose arguments a rep reads: name -> (positional indexes, keyword names).
SHOWN: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
    "notify": ((0,), ("message", "title")),
    "Label": ((0,), ()),
    "Static": ((0,), ()),
    "Button": ((0,), ("label",)),
    "Input": ((), ("placeholder",)),
    "Select": ((), ("prompt",)),
    "Option": ((0,), ()),
    "Text": ((0,), ()),
    "append": ((0,), ()),  # Text.append: the line being drawn
    "add_column": ((0,), ()),
    "add_row": ((0, 1, 2, 3, 4, 5, 6, 7), ()),
    "Binding": ((2,), ("description", "tooltip")),
    "add_argument": ((), ("help", "metavar")),
    "add_parser": ((), ("help", "description")),
    "add_subparsers": ((), ("title", "description", "metavar")),
    "ArgumentParser": ((), ("description", "epilog")),
    "FunnelParser": ((), ("description", "epilog")),
    "add_command": ((3,), ()),
    "CliError": ((0,), ()),
    "ArgumentTypeError": ((0,), ()),
    "StoreError": ((0,), ()),
    "FieldError": ((1,), ()),
    "ValueError": ((0,), ()),
    "_Bad": ((0,), ()),  # exchange: the reason a cell is refused, in the rejected-rows file and report
    "ImportFileError": ((0,), ()),
    "EncodingUncertain": ((0,), ()),
    "RowRejected": ((0,), ()),
    "ReaderFailed": ((0,), ()),
    "print": ((0,), ()),
    "ConfirmDialog": ((0,), ()),
    "SystemCommand": ((0, 1), ()),
}

# (file relative to funnel_tui/, the literal) -> why it is not a word for the rep to read.
ALLOWED: dict[tuple[str, str], str] = {
    ("tui/app.py", "funnel · "): "the product's name before the translated screen name",
    ("tui/board_window.py", "funnel · "): "the product's name before the translated screen name",
    ("tui/widgets/key_bar.py", " ^p "): "a key, as the footer draws keys",
    ("cli/__init__.py", "funnel: "): "the program's name before an error line, as every Unix tool writes it",
    ("cli/common.py", "funnel: "): "the program's name before a warning line",
    ("cli/deals.py", "funnel: "): "the program's name before a warning line",
    ("cli/backup.py", "funnel: "): "the program's name before a warning line",
    ("cli/import_report.py", "funnel: "): "the program's name before a warning line",
    ("cli/reads.py", "N|all"): "what the rep types: a number, or the word all (the option's own value)",
    ("cli/exchange.py", "stdout"): "the name of the stream, as the rep typed `-` for it",
    ("exchange/import_rejected.py", "reason"): "the rejected-rows file's own column, which a re-import skips by this name",
    ("exchange/importer.py", "reader: "): "a programming error (the reader option is not the rep's), never shown",
    ("exchange/profiles/__init__.py", " is not a deal field"): "a profile author's mistake, found by the profile tests",
}


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _marked(node: ast.AST) -> bool:
    """A call to a catalog function, or `.format()` of one."""
    if not isinstance(node, ast.Call):
        return False
    if _name(node.func) in MARKERS and isinstance(node.func, ast.Name):
        return True
    return isinstance(node.func, ast.Attribute) and node.func.attr == "format" and _marked(node.func.value)


def bare_text(node: ast.AST) -> list[str]:
    """English string literals in `node` that no catalog call wraps."""
    if _marked(node):
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value] if WORDS.search(node.value) else []
    if isinstance(node, ast.Call):
        # A call's own arguments are not what is shown (e.g. truncate_to_width(name, 30));
        # only a wrapper the text passes through unchanged is looked into.
        if _name(node.func) in ("Text", "str", "safe") and node.args:
            return bare_text(node.args[0])
        return []
    if isinstance(node, ast.JoinedStr):
        found = [v.value for v in node.values if isinstance(v, ast.Constant) and WORDS.search(v.value)]
        return found
    if isinstance(node, (ast.BinOp, ast.IfExp, ast.BoolOp)):
        return [text for child in ast.iter_child_nodes(node) for text in bare_text(child)]
    return []


def _sources(rooms=ROOMS):
    for room in rooms:
        for path in sorted((PACKAGE / room).rglob("*.py")):
            yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def unwrapped(rooms=ROOMS) -> list[str]:
    found = []
    for rel, tree in _sources(rooms):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            spec = SHOWN.get(_name(node.func) or "")
            if spec is None:
                continue
            positions, keywords = spec
            args = [a for i, a in enumerate(node.args) if i in positions]
            args += [k.value for k in node.keywords if k.arg in keywords]
            for arg in args:
                for text in bare_text(arg):
                    if (rel, text) not in ALLOWED:
                        found.append(f"{rel}:{node.lineno}: {text!r}")
    return found


def test_every_shown_string_of_the_screens_and_the_command_line_is_wrapped():
    found = unwrapped()
    assert found == [], "wrap these in _() (or N_() where fixed at import), then `make i18n`:\n" + "\n".join(found)


def test_the_scan_finds_bare_text(tmp_path, monkeypatch):
    """A deliberately unwrapped toast, label, help and error are each reported (the scan can fail)."""
    room = tmp_path / "tui"
    room.mkdir()
    (room / "bad.py").write_text(
        "from funnel_tui.i18n import _, N_\n"
        "def f(app, sp, Label, CliError):\n"
        "    app.notify('Saved the deal')\n"
        "    app.notify(_('Saved the deal'))\n"
        "    Label(f'Deal {1} moved')\n"
        "    sp.add_argument('--x', help='what x is')\n"
        "    sp.add_argument('--y', help=_('what y is'))\n"
        "    raise CliError(_('deal {id} lost').format(id=1) + ' twice')\n",
        encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.PACKAGE", tmp_path)
    found = "\n".join(unwrapped(rooms=("tui",)))
    assert "'Saved the deal'" in found and found.count("Saved the deal") == 1
    assert "'Deal '" in found and "'what x is'" in found and "' twice'" in found
    assert "what y is" not in found


def test_allowed_strings_still_exist():
    """An allow-list entry whose string is gone is removed, so the list stays short and true."""
    literals = {(rel, n.value) for rel, tree in _sources() for n in ast.walk(tree)
                if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert [key for key in ALLOWED if key not in literals] == []


# --- what Babel cannot see --------------------------------------------------------------------


def _all_sources():
    yield from _sources(rooms=[p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"])
    for path in sorted(PACKAGE.glob("*.py")):
        yield path.name, ast.parse(path.read_text(encoding="utf-8"))


def test_no_catalog_call_inside_an_f_string():
    """Babel does not extract `_()` inside an f-string: its text would never be translated."""
    found = []
    for rel, tree in _all_sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                for sub in ast.walk(node):
                    if (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id in MARKERS
                            and sub.args and isinstance(sub.args[0], ast.Constant)):
                        found.append(f"{rel}:{sub.lineno}: {ast.unparse(sub)}")
    assert found == []


def test_nothing_is_translated_at_import_time():
    """`_()` at module or class level runs before the language is chosen: it stays English.
    Text fixed at import is marked with N_()/NP_() and translated where it is shown."""
    found = []

    def calls(node):
        return [s for s in ast.walk(node) if isinstance(s, ast.Call) and isinstance(s.func, ast.Name)
                and s.func.id in TRANSLATE_NOW]

    def visit(rel, body):
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                defaults = [d for d in [*stmt.args.defaults, *stmt.args.kw_defaults] if d is not None]
                found.extend(f"{rel}:{c.lineno}" for d in defaults for c in calls(d))
            elif isinstance(stmt, ast.ClassDef):
                visit(rel, stmt.body)
            else:
                found.extend(f"{rel}:{c.lineno}" for c in calls(stmt))

    for rel, tree in _all_sources():
        if rel != "i18n.py":
            visit(rel, tree.body)
    assert found == []


def test_underscore_is_never_rebound_where_it_translates():
    """`for _, x in …` inside a module that imports `_` makes the next `_()` call a string."""
    found = []
    for rel, tree in _all_sources():
        imports_it = any(isinstance(n, ast.ImportFrom) and n.module == "funnel_tui.i18n"
                         and any(a.name == "_" and a.asname is None for a in n.names) for n in ast.walk(tree))
        if not imports_it:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store):
                found.append(f"{rel}:{node.lineno}")
    assert found == []


@pytest.mark.parametrize("text", ["funnel · ", "what x is"])
def test_words_pattern_sees_english(text):
    assert WORDS.search(text)
