"""The store's refusals: each says what is wrong, and nothing was written.

Each carries the exit code the command line ends with (README "Exit codes"): 1 a refusal,
3 the database or its disk said no (locked, full, read-only, no permission, I/O error),
4 the database is damaged or missing and needs a restore.
"""

from __future__ import annotations

import sqlite3
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from funnel_tui.i18n import _


class StoreError(Exception):
    """A user-facing refusal: the message says what is wrong; nothing was written."""

    exit_code = 1


class NotFound(StoreError):
    """No deal or follow-up with that id (or it is deleted)."""


class DatabaseUnavailable(StoreError):
    """SQLite said no after the transaction rolled back: locked past busy_timeout, disk
    full, read-only file. Every caller (CLI, screens) reports it like any refusal."""

    exit_code = 3

    def __init__(self, message: str, *, kind: str = "other"):
        super().__init__(message)
        self.kind = kind


class DatabaseReadOnly(DatabaseUnavailable):
    """The database is open read-only (a read-only file, folder or disk, a full disk, a newer
    schema): reading works, every write is refused with the reason. Exit 3 when the disk or
    the folder is the reason, 1 when funnel chose it (a newer schema)."""

    def __init__(self, message: str, *, exit_code: int = 3):
        super().__init__(message, kind="read_only")
        self.exit_code = exit_code

    @classmethod
    def of(cls, where: str, reason: str | None) -> "DatabaseReadOnly":
        """The refusal of a write to a store opened read-only (`reason`: why, if the disk
        or folder is; None: funnel chose it)."""
        if reason:
            return cls(_("{path} is open read-only ({why}); nothing was written").format(path=where, why=reason))
        return cls(_("this database is open read-only; nothing was written"), exit_code=1)


class DatabaseDamaged(StoreError):
    """SQLite says the file is damaged (SQLITE_CORRUPT / NOTADB, or a failed integrity check).
    Nothing more is written to it; the message names the restore."""

    exit_code = 4


class DatabaseMissing(StoreError):
    """The database file is gone or empty although backups show it held data: never taken
    for a new database. The message names the restore."""

    exit_code = 4


class NoPermission(StoreError):
    """The server refused: the deal is another rep's, or the role lacks a grant (team mode)."""


class ConnectionProblem(StoreError):
    """A server could not be used at all; the message names the cause (store/pg_engine.py)."""


class StaleDealError(StoreError):
    """The deal changed elsewhere since it was read (another terminal)."""


def _dbapi_error(exc: BaseException) -> BaseException | None:
    """`exc` if it is SQLAlchemy's wrapper of a driver error, else None. SQLAlchemy is looked
    up, never imported: this module loads without it (the board's first frame and `funnel
    due` name these errors before any Store opens), and an error of SQLAlchemy's can only
    exist once SQLAlchemy is loaded."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    return exc if sa_exc is not None and isinstance(exc, sa_exc.DBAPIError) else None


def refusal_of(exc: Exception, path: Path | None) -> StoreError | None:
    """The StoreError a database error (SQLAlchemy's, or sqlite3's own from a raw connection)
    stands for, or None when it is not the database's refusal (a constraint the caller
    handles, a programming error)."""
    from funnel_tui.store import health

    orig = exc.orig if _dbapi_error(exc) is not None else exc
    problem = health.problem_of(orig, path) if orig is not None else None
    if problem is not None and problem.kind == "locked":
        # Retrying does help here: the other writer finishes within moments.
        return DatabaseUnavailable(_("database: {detail}; nothing was changed, try again").format(
            detail=orig), kind="locked")
    if problem is not None and path is not None:
        text = health.explain(problem, path)
        if problem.kind == "damaged":
            return DatabaseDamaged(text + _("; nothing was written. Quit and start funnel again: it checks "
                                            "the file and names the backup to restore"))
        if problem.kind == "read_only":
            return DatabaseReadOnly(text)
        if problem.kind != "other":
            return DatabaseUnavailable(text, kind=problem.kind)
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if (sa_exc is not None and isinstance(exc, sa_exc.OperationalError)) or isinstance(orig, sqlite3.OperationalError):
        # hide_parameters keeps customer data out of exc; .orig is the database's own words.
        return DatabaseUnavailable(_("database: {detail}; nothing was changed").format(detail=orig))
    return None


@contextmanager
def unavailable_as_store_error(path: Path | None = None, *,
                               on_damage: Callable[[DatabaseDamaged], None] | None = None) -> Iterator[None]:
    """Turn the database's own refusal into a StoreError the rep can read (see refusal_of);
    `on_damage` hears of damage first (the Store stops writing)."""
    try:
        yield
    except Exception as exc:
        if not isinstance(exc, sqlite3.Error) and _dbapi_error(exc) is None:
            raise
        if _dbapi_error(exc) is not None and hasattr(exc.orig, "sqlstate"):  # a server's error (psycopg)
            refusal = server_refusal(exc)
            if refusal is None:
                raise
            raise refusal from None
        refusal = refusal_of(exc, path)
        if refusal is None:
            raise
        if on_damage is not None and isinstance(refusal, DatabaseDamaged):
            on_damage(refusal)
        raise refusal from None


# --- a server's errors (team mode), by SQLSTATE -------------------------------------------


def words(exc: BaseException) -> str:
    """The driver's own message of an error (SQLAlchemy's wrapper off)."""
    orig = getattr(exc, "orig", None) or exc
    return str(orig)


def sqlstate(exc: BaseException) -> str | None:
    """The server's SQLSTATE code of a driver error, if it has one."""
    return getattr(getattr(exc, "orig", None) or exc, "sqlstate", None)


def first_line(text: str) -> str:
    """A server message's first meaningful line (libpq's "connection failed:" prefix off)."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("connection failed:"):
            line = line[len("connection failed:"):].strip()
        if line:
            return line[:200]
    return "?"


def server_refusal(exc: BaseException) -> StoreError | None:
    """A StoreError for a driver error the rep can act on (None: let it through).

    Permission (RLS, grants) → NoPermission; locks that waited too long, deadlocks and
    serialization failures → DatabaseUnavailable (nothing was changed, try again); a lost
    connection → ConnectionProblem."""
    code = sqlstate(exc) or ""
    text = first_line(words(exc))
    if code == "42501":
        return NoPermission(_("no permission: {detail}; a rep changes only their own deals, a "
                              "lead reassigns them").format(detail=text))
    if code in ("55P03", "40P01", "40001", "57014"):
        return DatabaseUnavailable(_("database: {detail}; nothing was changed, try again").format(detail=text))
    if code == "25006":
        return DatabaseUnavailable(_("database: this server is open read-only; nothing was written"))
    if code.startswith("08") or code.startswith("57P"):
        return ConnectionProblem(_("database: the connection to the server was lost ({detail}); nothing "
                                   "was changed, try again").format(detail=text))
    if not code and ("connection" in text.lower() or "server closed" in text.lower()):
        return ConnectionProblem(_("database: the connection to the server was lost ({detail}); nothing "
                                   "was changed, try again").format(detail=text))
    if code == "P0001" and "append-only" in text:
        return StoreError(_("database: {detail}").format(detail=text))
    return None
