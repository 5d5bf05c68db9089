"""Team mode's engine: a PostgreSQL server through psycopg 3, and its errors in words.

Loaded only for a `postgresql://` target (engine.create_engine_for), so SQLite users never
import psycopg. Every connection:
- talks UTC (`timezone=UTC`): times go in and come back as UTC, and text such as
  '2026-11-24 02:00:00' means UTC in SQL, as it does on SQLite;
- waits at most LOCK_TIMEOUT for a row another terminal holds (a queued write, then
  "try again"), and CONNECT_TIMEOUT for the server itself;
- opens read-only when the store is read-only (a server whose schema differs).

`connection_problem` (and errors.server_refusal, for errors mid-work) turn the driver's
errors into the four causes a rep can act on — authentication failed, server not reachable,
no such database, no permission — without ever printing the password (the URL is shown
redacted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from funnel_tui.i18n import _
from funnel_tui.store.errors import ConnectionProblem, StoreError, first_line, sqlstate, words

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

LOCK_TIMEOUT = "20s"
CONNECT_TIMEOUT = 10


def server_url(target: str) -> "URL":
    """The SQLAlchemy URL, on psycopg 3 whatever driver the rep's URL named (or none)."""
    from sqlalchemy.engine import make_url

    url = make_url(target)
    if url.get_backend_name() != "postgresql":
        raise StoreError(_("database: {url} is not a PostgreSQL URL").format(
            url=url.render_as_string(hide_password=True)))
    return url.set(drivername="postgresql+psycopg")


def create_pg_engine(target: str, *, read_only: bool = False) -> "Engine":
    """The engine for a team server (see the module docstring for what each connection sets)."""
    try:
        import psycopg  # noqa: F401 - only to say what is missing
    except ImportError:
        raise StoreError(_("team mode needs the PostgreSQL driver: pip install 'funnel-tui[team]'")) from None
    from sqlalchemy import create_engine

    options = f"-c timezone=UTC -c lock_timeout={LOCK_TIMEOUT}"
    if read_only:
        options += " -c default_transaction_read_only=on"
    return create_engine(
        server_url(target), hide_parameters=True, pool_pre_ping=True,
        connect_args={"options": options, "connect_timeout": CONNECT_TIMEOUT,
                      "application_name": "funnel-tui"},
    )


def connection_problem(exc: BaseException, url: "URL") -> ConnectionProblem:
    """Why a connection failed, in the rep's words: one of the four causes, or the server's own
    first line (never with the password: the URL is redacted, and libpq never echoes it)."""
    text = words(exc)
    low = text.lower()
    code = sqlstate(exc)
    shown = url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    if code in ("28P01", "28000") or "password authentication failed" in low \
            or "no password supplied" in low or "authentication failed" in low:
        msg = _("authentication failed for user {user} at {where}: check the user name and "
                 "password in the URL").format(user=url.username or "?", where=where)
    elif code == "3D000" or ("database" in low and "does not exist" in low):
        msg = _("no such database {db} on the server at {where}: ask your administrator for "
                "the right name").format(db=url.database or "?", where=where)
    elif code == "42501" or "permission denied" in low or "must be owner" in low:
        msg = _("no permission: the server refused user {user} ({detail}); ask your administrator "
                "(funnel team add-rep)").format(user=url.username or "?", detail=first_line(text))
    elif any(w in low for w in ("connection refused", "could not connect", "timeout expired",
                                "could not translate host name", "no route to host",
                                "network is unreachable", "server closed the connection",
                                "connection timed out", "name or service not known")):
        msg = _("server not reachable at {where}: is PostgreSQL running there, and the host and "
                "port right?").format(where=where)
    else:
        msg = _("cannot use the server at {where}: {detail}").format(where=where, detail=first_line(text))
    return ConnectionProblem(_("cannot open database {url}: {why}").format(url=shown, why=msg))




def explain(exc: BaseException, target: str) -> StoreError | None:
    """A StoreError for a failure while setting a server up (connection or refusal), or None."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or getattr(exc.orig, "sqlstate", None) is None:
            return connection_problem(exc, server_url(target))
        from funnel_tui.store.errors import server_refusal

        return server_refusal(exc) or connection_problem(exc, server_url(target))
    return None
