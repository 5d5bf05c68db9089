"""The store's refusals: each says what is wrong, and nothing was written."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


class StoreError(Exception):
    """A user-facing refusal: the message says what is wrong; nothing was written."""


class NotFound(StoreError):
    """No deal or follow-up with that id (or it is deleted)."""


class DatabaseUnavailable(StoreError):
    """SQLite said no after the transaction rolled back: locked past busy_timeout, disk
    full, read-only file. Every caller (CLI, screens) reports it like any refusal."""


class StaleDealError(StoreError):
    """The deal changed elsewhere since it was read (another terminal)."""


@contextmanager
def unavailable_as_store_error() -> Iterator[None]:
    """Turn the database's own refusal into a DatabaseUnavailable the rep can read."""
    # Imported here: the error classes above load without SQLAlchemy (the board's first
    # frame and `funnel due` name them before any store has opened).
    from sqlalchemy.exc import OperationalError

    try:
        yield
    except OperationalError as exc:
        # hide_parameters keeps customer data out of exc; .orig is SQLite's own words.
        raise DatabaseUnavailable(f"database: {exc.orig}; nothing was changed, try again") from None
