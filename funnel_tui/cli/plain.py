"""The read-only sqlite3 path of `funnel due` and of the board's first frame.

A plain, current SQLite file is read with the standard library's sqlite3 (store/due_read.py,
store/board_read.py), after the same checks at start every command makes
(store/open_check.check_at_open: a missing file that held data, damage, a read-only file or
disk, the automatic backup), so neither waits for SQLAlchemy. Anything else — a server URL,
a missing or empty file, a file the checks open read-only or as it stands (immutable), an
older or newer schema, a file SQLite will not open — is left to the Store, which decides as
for any command; the checks are not run twice (`Plain.opened` goes to open_store).
"""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path
from typing import Any

from funnel_tui.cli.common import check_open, resolve_db


class Plain:
    """What the sqlite3 path found: `conn`, a read-only connection (None: open the Store);
    `opened`, what the checks at start said (None: they did not run, open_store runs them);
    `path`, the database file. (A plain class: see domain/rules.Dwell.)"""

    __slots__ = ("conn", "opened", "path")

    def __init__(self, conn: sqlite3.Connection | None = None, opened: Any = None, path: Path | None = None) -> None:
        self.conn, self.opened, self.path = conn, opened, path


def plain_connection(args: argparse.Namespace, *, mmap: bool = False) -> Plain:
    """A read-only connection to the command's database when it is a plain, current SQLite
    file the checks at start let this process write (see the module docstring). The notes
    of the checks are the caller's to show (`Plain.opened.notes`). `mmap`: see
    due_read.MMAP_BYTES."""
    from funnel_tui.store.engine import sqlite_path

    path = sqlite_path(resolve_db(args))
    try:
        plain = path is not None and path.is_file() and path.stat().st_size > 0
    except OSError:
        plain = False
    if not plain:
        return Plain()  # a server, or a database the store creates, repairs or refuses
    opened = check_open(path)
    if opened.read_only or opened.immutable:
        return Plain(opened=opened, path=path)  # the Store opens it read-only and says why
    from funnel_tui.store import due_read

    return Plain(due_read.open_plain(path, mmap=mmap), opened, path)
