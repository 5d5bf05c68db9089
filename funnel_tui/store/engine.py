"""The one engine factory. Every connection to the rep's database is made here.

SQLite is tuned for safety first (DESIGN §5, §10):
- WAL + synchronous=FULL: an acknowledged commit survives a crash or power cut;
- foreign_keys=ON: no follow-up or history row without its deal;
- busy_timeout=5000: a second terminal waits instead of failing at once;
- write transactions open with BEGIN IMMEDIATE, so two processes doing
  read-modify-write serialise instead of losing updates ("database is locked" mid-way);
- hide_parameters=True: SQL errors never echo customer data or secrets.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

BUSY_TIMEOUT_MS = 5000
WRITE_OPTION = "funnel_write"
# Every engine this process made, so a process that leaves at once can close them first
# (dispose_all: cli's quick exit after an import).
_MADE: "weakref.WeakSet[Engine]" = weakref.WeakSet()


def is_url(target: str) -> bool:
    return "://" in target


def sqlite_path(target: str | Path) -> Path | None:
    """The file behind a target, or None for a server URL."""
    text = str(target)
    if text.startswith("sqlite:///"):
        return Path(text[len("sqlite:///"):])
    if is_url(text):
        return None
    return Path(text)


def redact_url(target: str | Path) -> str:
    """A database URL fit to print: the password is replaced by ***."""
    text = str(target)
    if not is_url(text):
        return text
    from sqlalchemy.engine import make_url

    try:
        return make_url(text).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown without its userinfo
        scheme, _, rest = text.partition("://")
        return f"{scheme}://***@{rest.rpartition('@')[2]}" if "@" in rest else text


def create_engine_for(target: str | Path, *, read_only: bool = False, immutable: bool = False) -> "Engine":
    """Build the engine for a path or SQLAlchemy URL with the safety settings above.

    `immutable` (read-only): SQLite reads the file as it stands, without -wal/-shm. The
    start-up check chooses it only when no other process uses the file and no -wal holds
    commits (a read-only folder, a full disk), so it reads exactly what is there."""
    from sqlalchemy import create_engine, event

    if target is None:
        # str(None) would quietly become a database file named "None" in the working folder.
        raise TypeError("create_engine_for needs a database path or URL, got None")
    path = sqlite_path(target)
    if path is None:
        # Team mode (PostgreSQL): the server provides the durability and locking; its
        # connection settings live with the rest of team mode.
        from funnel_tui.store.pg_engine import create_pg_engine

        engine = create_pg_engine(str(target), read_only=read_only)
        _MADE.add(engine)
        return engine

    if path.exists() is False and read_only:
        raise FileNotFoundError(path)
    url = f"sqlite:///{path}"
    connect_args: dict = {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    if read_only or immutable:
        import sqlite3

        from funnel_tui.store.health import uri

        # A file: URI (mode=ro, immutable) built by as_uri, which quotes '?', '#' and spaces;
        # the URL still names the file for everything that asks the engine where it is.
        ro_uri = uri(path, read_only=True, immutable=immutable)
        engine = create_engine(url, hide_parameters=True, creator=lambda: sqlite3.connect(
            ro_uri, uri=True, timeout=connect_args["timeout"], check_same_thread=False))
        read_only = True
    else:
        engine = create_engine(url, hide_parameters=True, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        # Let SQLAlchemy's "begin" event decide how transactions open (pysqlite would
        # otherwise emit a deferred BEGIN itself).
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not read_only:
            cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    if not read_only:
        _secure_new_file(path)
    _MADE.add(engine)
    return engine


def dispose_all() -> None:
    """Close the pooled connections of every engine this process made. Closing the last
    connection to an SQLite file folds its -wal into the file and removes it, as the next
    process expects to find it; a server sees its sessions end cleanly."""
    for engine in list(_MADE):
        engine.dispose()


def keep_wal_in_place(engine: "Engine", path: Path) -> None:
    """After a commit: if this database's -wal was deleted under us (by hand, a cleaner), our
    connections still write into the deleted file, which no other process sees and which a
    crash would lose. Fold it into the main file now and reconnect, so the next commit goes
    to a -wal every process shares."""
    if Path(f"{path}-wal").exists() or not path.exists():
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


def _secure_new_file(path: Path) -> None:
    """Create the database file 0600 before SQLite does (SQLite would use the umask)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
