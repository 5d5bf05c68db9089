"""One cell of an import file to its value, fast where that is provably the same.

An import of 100k rows converts millions of cells. The common shapes (short printable
text, our own export's timestamps) skip the general validator; tests compare every fast
path with validate_field / parse_timestamp, so the shortcut can never change an answer.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timezone

from funnel_tui.domain.validation import _EMAIL, MULTILINE, TEXT_FIELDS
from funnel_tui.exchange.import_headers import PLAIN

# How RowParser converts a plain column (column_plan): the common cases skip the general
# validator when the result is provably the same (tests compare the fast paths with validate_field).
TEXT, TIME, CACHED = "text", "time", "cached"
FAST_TEXT = {f: (n, f in MULTILINE) for f, n in TEXT_FIELDS.items()
              if f not in ("contact_email", "external_id")}
# Fields whose plain ASCII cells need nothing but trimming (email must still be checked).
ASCII_FAST = {f: n for f, (n, _) in FAST_TEXT.items()}
ASCII_FAST["contact_email"] = -1
TIME_FIELDS = {"created_at", "stage_entered_at", "last_contact_at", "closed_at"}


def column_plan(name: str, how: str) -> str:
    """How the cells of column `name` (read as `how`) are converted: TEXT, TIME, CACHED or `how`."""
    if how != PLAIN:
        return how
    if name in FAST_TEXT or name == "contact_email":
        return TEXT
    if name in TIME_FIELDS:
        return TIME
    if name in ("uid", "stage", "next_follow_up_at"):
        return how
    return CACHED


def fast_text(name: str, cell: str) -> str | None:
    """clean_text's result when it can only trim (printable, NFC, short), else None.

    `str.isprintable` is False for every control, format, surrogate and line/paragraph
    separator character and for tabs, so such text has nothing for clean_text to remove.
    """
    if name == "contact_email":
        value = fast_text("contact_name", cell) if len(cell) <= TEXT_FIELDS[name] else None
        return value if value is not None and (not value or _EMAIL.match(value)) else None
    limit, multiline = FAST_TEXT[name]
    if len(cell) > limit:
        return None
    if not (cell.isprintable() or (multiline and cell.replace("\n", "").isprintable())):
        return None
    if not cell.isascii() and not unicodedata.is_normalized("NFC", cell):
        return None
    return cell.strip()


def fast_timestamp(cell: str) -> datetime | None:
    """Our own export's timestamp shape (ISO with offset) parsed directly, else None."""
    if not cell:
        return None
    # The shape by its separators; fromisoformat then refuses anything but ASCII digits
    # in the digit places (cheaper than a regex over every timestamp of a big file).
    if len(cell) == 25 and cell[10] == "T" and cell[4] == cell[7] == "-" and cell[13] == cell[16] == cell[22] == ":" \
            and cell[19] in "+-" and cell.isascii():
        try:
            return datetime.fromisoformat(cell).astimezone(timezone.utc)
        except ValueError:  # the right shape, no such moment (Feb 30, 25:00): the validator says why
            return None
    return None
