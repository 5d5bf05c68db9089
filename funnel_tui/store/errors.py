"""The store's refusals: each says what is wrong, and nothing was written."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from funnel_tui.i18n import _


class StoreError(Exception):
    """A user-facing refusal: the message says what is wrong; nothing was written."""


class NotFound(StoreError):
    """No deal or follow-up with that id (or it is deleted)."""


class DatabaseUnavailable(StoreError):
    """SQLite said no after the transaction rolled back: locked past busy_timeout, disk
    full, read-only file. Every caller (CLI, screens) reports it like any refusal."""


class NoPermission(StoreError):
    """The server refused: the deal is another rep's, or the role lacks a grant (team mode)."""


class ConnectionProblem(StoreError):
    """A server could not be used at all; the message names the cause (store/pg_engine.py)."""


class StaleDealError(StoreError):
    """The deal changed elsewhere since it was read (another terminal)."""


@contextmanager
def unavailable_as_store_error() -> Iterator[None]:
    """Turn the database's own refusal into a DatabaseUnavailable the rep can read."""
    # Imported here: the error classes above load without SQLAlchemy (the board's first
    # frame and `funnel due` name them before any store has opened).
    from sqlalchemy.exc import DBAPIError, OperationalError

    try:
        yield
    except DBAPIError as exc:
        if hasattr(exc.orig, "sqlstate"):  # a server's error (psycopg): its code says which
            refusal = server_refusal(exc)
            if refusal is None:
                raise
            raise refusal from None
        if not isinstance(exc, OperationalError):
            raise
        # hide_parameters keeps customer data out of exc; .orig is SQLite's own words.
        raise DatabaseUnavailable(f"database: {exc.orig}; nothing was changed, try again") from None


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
