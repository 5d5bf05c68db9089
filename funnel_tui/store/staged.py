"""Import rows in their stored form, made by the import's reader: the validated rows of a
chunk (ImportRow, or a StagedChunk of columns for the bulk writer), new uids, and the
file's repeats (SeenInFile).

Standard library only: the reader may be a process forked before SQLAlchemy has loaded
(exchange/import_early.py), and whatever it imports it pays for while the writer waits.
The writer's side is bulk_rows.py and bulk_import.py, which re-export these names.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from funnel_tui.i18n import _
from funnel_tui.store.times import UTC_TEXT, utc_text

# What a validated import row (csv_import.RowParser) gives for a new deal, in table order;
# id, updated_at, version, next_follow_up_at and deleted_at are the importer's to set.
# Spelled out here, not read off the table, so the reader needs no SQLAlchemy;
# tests/test_import_staged.py holds it to the deal table's columns.
STAGED_COLUMNS: tuple[str, ...] = (
    "uid", "external_id", "customer", "title", "industry", "company_size", "contact_name", "contact_role",
    "contact_phone", "contact_email", "source", "lead_score", "owner", "stage", "status", "amount", "currency",
    "probability", "probability_custom", "expected_close", "risk_level", "risk_note", "mitigation", "budget",
    "decision_chain", "pain_points", "competitors", "lost_reason", "notes", "created_at", "stage_entered_at",
    "last_contact_at", "closed_at", "search_key")
_STAGED_TIMES = frozenset({"created_at", "stage_entered_at", "last_contact_at", "closed_at"})


def new_uids(n: int) -> list[str]:
    """n new time-ordered UUIDs (version 7, RFC 9562) as text, ascending.

    48 bits of Unix milliseconds, then 74 random bits (one urandom call), sorted: a big
    import then appends to the uid index instead of writing all over it (random version-4
    uids cost SQLite a B-tree descent to a different page per deal). The clock only orders
    identifiers here; no rule of the product reads it.
    """
    if n <= 0:
        return []
    ms = time.time_ns() // 1_000_000 & 0xFFFF_FFFF_FFFF
    head = f"{ms >> 16:08x}-{ms & 0xFFFF:04x}-"
    # The version nibble (7) and variant bits (10) set in all n at once, over the 10 random
    # bytes of each as one integer: 12 + 62 random bits left per uid.
    size = 10 * n
    bits = int.from_bytes(os.urandom(size), "big") & int.from_bytes(_KEEP * n, "big") | \
        int.from_bytes(_MARK * n, "big")
    h = bits.to_bytes(size, "big").hex()
    uids = [f"{head}{h[i:i + 4]}-{h[i + 4:i + 8]}-{h[i + 8:i + 20]}" for i in range(0, 2 * size, 20)]
    uids.sort()
    return uids


_KEEP = b"\x0f\xff\x3f" + b"\xff" * 7  # per uid: the random bits kept
_MARK = b"\x70\x00\x80" + b"\x00" * 7  # version 7, variant 10


@dataclass(slots=True)
class StagedChunk:
    """Validated new-deal rows in their stored form, column by column, for add_staged():
    `columns` holds the columns whose values vary (line and uid always), `const` the
    columns with one value throughout (an empty notes column, one currency). Plain lists
    and values, so a forked reader can pickle it to the writer cheaply."""

    columns: dict[str, list[Any]]
    const: dict[str, Any]

    def __len__(self) -> int:
        return len(self.columns["line"])


def stage_chunk(lines: Sequence[int], columns: Mapping[str, Sequence[Any]], follow: Sequence[Any],
                cells: Sequence[bytes | None], stored: Mapping[int, tuple[datetime, str]] | None = None) -> StagedChunk:
    """Validated rows, given as columns (`columns[name][k]` for each of STAGED_COLUMNS, the
    follow-up due, the pickled cells of rows that carry a uid or external_id, else
    None), converted to their stored form (UTC text, ISO dates, ints). Rows without a uid
    get a new one here. No database is touched: the forked reader runs this.

    `stored`: {id(moment): (moment, utc_text(moment))} for moments the reader cut from their
    cell's text (calendar_dates.DateColumn.read_many), looked up instead of formatted; a
    value is taken only for that very object (`is`), which the mapping keeps alive."""
    n = len(lines)
    uids = list(columns["uid"])
    missing = [k for k, u in enumerate(uids) if not u]
    for k, u in zip(missing, new_uids(len(missing))):
        uids[k] = u
    values: dict[str, Sequence[Any]] = {"line": list(lines), "cells": cells, "follow_up_at": follow,
                                        **{c: columns[c] for c in STAGED_COLUMNS}, "uid": uids}
    varying: dict[str, list[Any]] = {}
    const: dict[str, Any] = {}
    utc = timezone.utc
    known = (stored or {}).get
    for name, col in values.items():
        first = col[0] if n else None
        # cells stays a column unless empty throughout: the writer reads it row by row.
        single = name not in ("line", "uid") and (not n or (col[-1] == first and col.count(first) == n)) and \
            (name != "cells" or first is None)
        if single:
            col = [first]
        if name in _STAGED_TIMES or name == "follow_up_at":
            # Stored form (times.utc_text; for the common UTC case its text %-formatted from the
            # fields, half the cost of isoformat: called per cell).
            col = [e[1] if (e := known(id(v))) is not None and e[0] is v else v if v is None else
                   UTC_TEXT % (v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond)
                   if v.tzinfo is utc else utc_text(v) for v in col]
        elif name == "expected_close":  # a few hundred distinct days: each written once
            days: dict[Any, str | None] = {None: None}
            col = [days[v] if v in days else days.setdefault(v, v.isoformat()) for v in col]
        if single:
            const[name] = int(col[0]) if isinstance(col[0], bool) else col[0]
        else:
            varying[name] = col if isinstance(col, list) else list(col)
    return StagedChunk(varying, const)


@dataclass(slots=True)
class ImportRow:
    """One validated row: `deal` holds every deal column an insert needs.

    `given` names the columns the file actually carried (only those are applied by an
    update); `follow_up_at` is the open follow-up to create (aware UTC) or None.
    """

    line: int
    deal: dict[str, Any]
    given: frozenset[str]
    follow_up_at: datetime | None = None


class SeenInFile:
    """The file's rows that named a deal (uid or external_id), by line: a later row naming
    the same deal is a duplicate of the first. Used per batch by add() and per chunk by the
    import's reader, so both say the same thing."""

    def __init__(self) -> None:
        self._uid: dict[str, int] = {}
        self._ext: dict[str, int] = {}

    def clear(self) -> None:
        self._uid.clear()
        self._ext.clear()

    def duplicate(self, line: int, uid: str | None, ext: str | None) -> str | None:
        """Why the row on `line` repeats an earlier one, or None (and remember it)."""
        earlier = (uid and self._uid.get(uid)) or (ext and self._ext.get(ext))
        if earlier:
            return _("same deal as line {line} of this file").format(line=earlier)
        if uid:
            self._uid[uid] = line
        if ext:
            self._ext[ext] = line
        return None
