"""The `funnel` command line: `main()` and the parser; each command group in its own module.

    common      errors, exit codes, the clock, open_store, emit, the shared options
    language    the rep's language, chosen before the parser is built
    failures    an error no command worded, as one line and its exit code
    admin       tui, demo (first in --help); undo, settings
    stages      stages (add, edit, move, split, merge, archive, show), pipelines
    web         web: the board in a browser (textual-serve)
    deals       add, edit, move, lose, reopen, delete, restore
    followups   follow-up, done, log, snooze
    due         due (and its sqlite3 read path)
    reads       warnings, list, show
    summary     summary, review
    scorecard   scorecard (show, add, edit, remove, rescore, explain)
    lessons     lessons, lessons add (issue 17)
    exchange    export, import
    backup      backup create | list | restore
    team        team init | add-rep | add-lead | migrate | whoami (PostgreSQL)

Kept light: only argparse at import, and of the command groups only the one the command
line names (COMMAND_GROUP; `--help` and a mistyped command load them all). The store (SQLModel), Rich and above all Textual are
imported inside the commands that need them, so `funnel due` starts fast. Exit codes are
in common's docstring.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

from funnel_tui import __version__
from funnel_tui.cli import argparse_words
from funnel_tui.cli.common import EXIT_OK, PENDING_NOTES, exit_code_of, is_user_error, print_notes, safe
from funnel_tui.cli.failures import explain_failure
from funnel_tui.cli.language import choose_language
from funnel_tui.i18n import _

# The order of `funnel --help`: each group (module, its register function) adds its commands in turn.
COMMAND_GROUPS = (("admin", "register_board"), ("web", "register"), ("deals", "register"),
                  ("followups", "register"), ("due", "register"), ("reads", "register"), ("admin", "register"),
                  ("summary", "register"), ("review", "register"), ("trend", "register"),
                  ("forecast", "register"), ("purge", "register"), ("scorecard", "register"),
                  ("lessons", "register"), ("exchange", "register"), ("backup", "register"),
                  ("team", "register"))
# Which group registers each command, so a run imports that one module and not the other
# sixteen (with their domain modules: ~5 ms of `funnel due --count`). tests/test_cli_groups.py
# builds every group and fails when this map and what the groups register disagree.
COMMAND_GROUP = {
    "tui": 0, "demo": 0, "web": 1,
    "add": 2, "edit": 2, "move": 2, "lose": 2, "reopen": 2, "delete": 2, "restore": 2,
    "follow-up": 3, "done": 3, "log": 3, "snooze": 3, "due": 4, "warnings": 5, "list": 5, "show": 5,
    "undo": 6, "settings": 6, "stages": 6, "pipelines": 6, "summary": 7, "review": 8, "trend": 9,
    "forecast": 10, "purge": 11, "scorecard": 12, "lessons": 13, "export": 14, "import": 14,
    "backup": 15, "team": 16,
}


def _register(group: int):
    """The register function of COMMAND_GROUPS[group], its module imported now."""
    module, function = COMMAND_GROUPS[group]
    return getattr(importlib.import_module(f"funnel_tui.cli.{module}"), function)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The `funnel` parser; with `command`, only that command's subparser is built (a run
    needs no other, and building all of them is most of `funnel due --count`'s own work).
    A `command` that no group registers gives the whole parser, so argparse says why."""
    p = argparse_words.FunnelParser(
        prog="funnel",
        description=_("Your own sales funnel in the terminal. With no command, opens the board."),
        epilog=_("Dates accept ISO forms (2026-12-01, 2026-12-01 15:00, with or without offset) and "
                 "phrases: today 15:00, tomorrow, +2h, +3d, fri. Exit codes: 0 ok, 1 refused, 2 usage, "
                 "3 database or disk unavailable (nothing changed), 4 database damaged or missing (restore), "
                 "5 import done but its rejected-rows file not written; `due` adds 10 (due soon) and 11 (overdue)."),
    )
    p.add_argument("--db", metavar=_("PATH|URL"), help=_("database file or SQLAlchemy URL (default: FUNNEL_DB, "
                                                          "else funnel.db in your data dir)"))
    p.add_argument("--demo", action="store_true", help=_("use the demo database in your data dir"))
    p.add_argument("--version", action="version", version=f"funnel-tui {__version__}",
                   help=_("show program's version number and exit"))
    sub = p.add_subparsers(dest="command", metavar=_("COMMAND"))
    group = COMMAND_GROUP.get(command or "")
    if group is not None:
        only = _OneCommand(sub, command)
        _register(group)(only)
        if only.found:
            return p
    for i in range(len(COMMAND_GROUPS)):
        _register(i)(sub)
    return p


class _OneCommand:
    """The subcommands with only `name` really built; every other command's parser is a
    stand-in that ignores what is added to it."""

    def __init__(self, sub: argparse._SubParsersAction, name: str) -> None:
        self._sub, self._name, self.found = sub, name, False

    def add_parser(self, name: str, **kw):
        if name != self._name and self._name not in kw.get("aliases", ()):
            return _Unbuilt()
        self.found = True
        return self._sub.add_parser(name, **kw)


class _Unbuilt:
    """The parser of a command this run does not use: every call on it is ignored."""

    def __getattr__(self, _name: str):
        return self._ignore

    def _ignore(self, *_args, **_kw) -> "_Unbuilt":
        return self


def _command_word(argv: Sequence[str]) -> str | None:
    """The command `argv` names, reading past the global options as argparse does; "tui"
    when it names none (the board is the default); None for anything else (--help,
    --version, an option argparse must judge): then the whole parser is built."""
    args = iter(argv)
    for word in args:
        if word == "--db":
            next(args, None)
        elif word.startswith("--db=") or word == "--demo":
            continue
        elif word.startswith("-"):
            return None
        else:
            return word
    return "tui"


def main(argv: Sequence[str] | None = None) -> int:
    """The `funnel` command (argv None: this process's own arguments, and the process ends
    when it returns), or one run of it inside another program (argv given: tests)."""
    code, args = _run(list(sys.argv[1:] if argv is None else argv))
    if argv is None and getattr(args, "leave_at_once", False):
        _leave_at_once(code)
    return code


def _leave_at_once(code: int) -> None:
    """End this process now, with `code`, once everything it wrote is where it belongs.

    Python's own exit tears down every object the command made, one by one: after a 100k-row
    import, about 0.4 s of the rep's time (measured on a 2-core host), for memory the OS takes
    back at once anyway. A command that opts in (`leave_at_once`, `funnel import`) leaves with
    os._exit instead, after doing what that exit would have done for us: the output flushed,
    every database closed (engine.dispose_all: the -wal folded into the file and removed), the
    atexit handlers run (a forked reader reaped). Whenever that cannot be done cleanly (the
    output would not flush, a thread still runs), it returns and Python's exit runs as ever.
    """
    import atexit
    import threading

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return  # a full disk or a closed pipe under stdout: Python's exit reports it as it always has
    if any(t is not threading.main_thread() and not t.daemon for t in threading.enumerate()):
        return  # Python's exit waits for it
    engine = sys.modules.get("funnel_tui.store.engine")  # never imported: nothing to close
    if engine is not None:
        engine.dispose_all()
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code)


def _run(argv: list[str]) -> tuple[int, argparse.Namespace | None]:
    # The language before the parser: its help (and argparse's own words) are read as it is built.
    choose_language(argv)
    argparse_words.install()
    parser = build_parser(_command_word(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        args = parser.parse_args([*argv, "tui"])
    PENDING_NOTES.clear()
    try:
        code = args.func(args) or EXIT_OK
        print_notes()
        return code, args
    except BrokenPipeError:  # `funnel list | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return EXIT_OK, None
    except Exception as exc:  # noqa: BLE001 - user errors become one line; the rest re-raise
        if not is_user_error(exc):
            explained = explain_failure(exc, args)  # the disk or the database said no
            if explained is None:
                raise
            exc = explained
        print_notes(failed_with=exit_code_of(exc))
        print(f"funnel: {safe(exc)}", file=sys.stderr)  # the message is in the rep's language already
        return exit_code_of(exc), args
    except KeyboardInterrupt:
        return 130, None
