"""The `funnel` command line: `main()` and the parser; each command group in its own module.

    common      errors, exit codes, the clock, open_store, emit, the shared options
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

Kept light: only argparse at import. The store (SQLModel), Rich and above all Textual are
imported inside the commands that need them, so `funnel due` starts fast. Exit codes are
in common's docstring.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from funnel_tui import __version__
from funnel_tui.cli import (
    admin,
    argparse_words,
    backup,
    deals,
    due,
    exchange,
    followups,
    forecast,
    lessons,
    purge,
    reads,
    review,
    scorecard,
    summary,
    team,
    trend,
    web,
)
from funnel_tui.cli.common import (
    EXIT_OK,
    PENDING_NOTES,
    choose_language,
    exit_code_of,
    explain_failure,
    is_user_error,
    print_notes,
    safe,
)
from funnel_tui.i18n import _

# The order of `funnel --help`: each group adds its commands in turn.
COMMAND_GROUPS = (admin.register_board, web.register, deals.register, followups.register, due.register,
                  reads.register, admin.register, summary.register, review.register, trend.register, forecast.register,
                  purge.register, scorecard.register, lessons.register,
                  exchange.register, backup.register, team.register)


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
    only = _OneCommand(sub, command) if command else None
    for register in COMMAND_GROUPS:
        register(only or sub)
    if only is not None and not only.found:
        return build_parser()
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
    argv = list(sys.argv[1:] if argv is None else argv)
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
        return code
    except BrokenPipeError:  # `funnel list | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - user errors become one line; the rest re-raise
        if not is_user_error(exc):
            explained = explain_failure(exc, args)  # the disk or the database said no
            if explained is None:
                raise
            exc = explained
        print_notes(failed_with=exit_code_of(exc))
        print(f"funnel: {safe(exc)}", file=sys.stderr)  # the message is in the rep's language already
        return exit_code_of(exc)
    except KeyboardInterrupt:
        return 130
