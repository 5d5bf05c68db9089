"""Errors no command turned into a sentence, as one line and its exit code (cli.main's last
word before a traceback). Split from cli/common.py; the exit codes are in its docstring."""

from __future__ import annotations

import argparse
import sys

from funnel_tui.cli.common import EXIT_DAMAGED, EXIT_ERROR, EXIT_UNAVAILABLE, CliError, resolve_db
from funnel_tui.i18n import _


SCHEMA_BEHIND = ("42703", "42P01")  # PostgreSQL: undefined column, undefined table


def explain_failure(exc: BaseException, args: argparse.Namespace) -> Exception | None:
    """An error no command turned into a sentence, as one: a file operation the disk refused
    (full, read-only, not yours), the database's refusal met outside a store transaction, or
    a stored value SQLite holds but funnel cannot read (a flipped byte). None: a real bug."""
    if isinstance(exc, OSError) and exc.errno is not None:
        from funnel_tui.store import health

        problem = health.problem_of(exc)
        where = f" ({exc.filename})" if exc.filename else ""
        code = EXIT_UNAVAILABLE if problem.kind in ("full", "read_only", "permission") else EXIT_ERROR
        return CliError(_("{error}{where}; nothing was changed").format(error=exc.strerror or exc, where=where),
                        exit_code=code)
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is not None and isinstance(exc, sa_exc.DBAPIError) and \
            getattr(exc.orig, "sqlstate", None) in SCHEMA_BEHIND:
        # A server opened read-only at an older schema (open_store said so): this command reads
        # a table or column that version lacks.
        return CliError(_("this command needs a newer schema than the server has; your administrator "
                          "upgrades it with: funnel --db URL team migrate"), exit_code=EXIT_UNAVAILABLE)
    if sa_exc is not None and isinstance(exc, sa_exc.DBAPIError):
        from funnel_tui.store.engine import sqlite_path
        from funnel_tui.store.errors import refusal_of

        return refusal_of(exc, sqlite_path(resolve_db(args)))
    if type(exc) is ValueError:  # the validators raise subclasses; this came from reading a row
        from funnel_tui.store.engine import sqlite_path
        from funnel_tui.store.health import unreadable_values

        path = sqlite_path(resolve_db(args))
        found = unreadable_values(path) if path is not None and path.exists() else []
        if found:
            from funnel_tui.store.open_check import command

            return CliError(_(
                "{found}: the file was changed outside funnel (a flipped byte?); nothing was changed. "
                "Restore a backup: {list}, then {restore}").format(
                found="; ".join(found[:3]), list=command(path, "backup", "list"),
                restore=command(path, "backup", "restore", "NAME")), exit_code=EXIT_DAMAGED)
    return None
