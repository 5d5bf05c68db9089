"""Times as the rep's SQLite file holds them: UTC text of fixed width, so text order is time
order. Standard library only, for the paths that read SQLite without SQLAlchemy (due_read);
tables.py re-exports these for the rest of the store."""

from __future__ import annotations

from datetime import datetime, timezone

UTC = timezone.utc

# SQLAlchemy's stored form of a UTC datetime in SQLite, for loops where every call counts
# (%-formatting the fields is faster than isoformat); utc_text is the same text.
UTC_TEXT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


def utc_text(dt: datetime) -> str:
    """An aware time as SQLite stores it: UTC text with microseconds, no offset."""
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    return dt.isoformat(" ", "microseconds")[:26]


def from_utc_text(text: str) -> datetime:
    """A stored time read back as an aware UTC datetime (what the ORM's column type gives)."""
    dt = datetime.fromisoformat(text)
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
