"""The read-only sqlite3 path of `funnel due` and of the board's first frame.

A plain, current SQLite file is read with the standard library's sqlite3 (store/due_read.py,
store/board_read.py), after the same checks at start every command makes (`_check_file`:
damage, the automatic backup), so neither waits for SQLAlchemy. Anything else — a server
URL, a missing or empty file, an older or newer schema, a file SQLite will not open — is
left to the Store, which decides as for any command.
"""

from __future__ import annotations

import argparse
import sqlite3

from funnel_tui.cli.common import _check_file, resolve_db


def plain_connection(args: argparse.Namespace, *, mmap: bool = False) -> tuple[sqlite3.Connection | None, bool]:
    """(a read-only connection to the command's database when it is a plain, current SQLite
    file, else None; whether the checks at start ran, so open_store need not repeat them).
    `mmap`: see due_read.MMAP_BYTES."""
    from funnel_tui.store.engine import sqlite_path

    target = resolve_db(args)
    path = sqlite_path(target)
    try:
        plain = path is not None and path.is_file() and path.stat().st_size > 0
    except OSError:
        plain = False
    if not plain:
        return None, False  # a server, or a database the store creates, repairs or refuses
    _check_file(target)
    from funnel_tui.store import due_read

    return due_read.open_plain(path, mmap=mmap), True
