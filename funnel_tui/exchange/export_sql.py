"""Export lines built by SQLite itself (the fast path on SQLite): the zone's offsets as
spans SQL can compare against, and the chunks of joined lines turned into CSV text.

Store.stream_export_lines runs the query; tests/test_csv_export_sql.py keeps every
line equal to what the Python formatter (export_format) writes.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Callable, Sequence

from funnel_tui.exchange.export_format import csv_cells
from funnel_tui.exchange.formula_guard import FORMULA_TRIGGERS, TRIGGER_CHARS, char_class

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1)
SQL_WINDOW = (datetime(1970, 1, 1), datetime(2100, 1, 1))  # times outside go through LocalTime
# Where a text cell that needs_guard starts: a literal replacement keeps re.sub in C.
_GUARD_AT = re.compile("\x1f(?='*[" + char_class(TRIGGER_CHARS) + "])")
_QUOTE_NEEDED = re.compile('[,"\n\r]')  # what makes the csv module quote a cell
_ANY_SEP = re.compile("[\x1d\x1f]")


def _suffix(offset: timedelta) -> str:
    return datetime(2000, 1, 1, tzinfo=timezone(offset)).isoformat()[19:]


def offset_spans(tz: tzinfo, start: datetime = SQL_WINDOW[0], end: datetime = SQL_WINDOW[1]
                 ) -> list[tuple[str, int, str]] | None:
    """The zone's UTC offsets over [start, end) as (utc start "YYYY-MM-DD HH:MM:SS", offset
    seconds, ISO suffix) spans, for SQLite to convert times in a few comparisons.

    Sampled daily, each change located to the second by bisection (zone changes happen on
    whole seconds, never twice within a day). None when an offset is not whole seconds.
    """
    def off(t: datetime) -> timedelta:
        return t.replace(tzinfo=UTC).astimezone(tz).utcoffset()

    cur, cur_off = start, off(start)
    changes = [(cur, cur_off)]
    if not isinstance(tz, timezone):  # a fixed offset never changes
        day, second = timedelta(days=1), timedelta(seconds=1)
        t = start
        while t < end:
            nxt = min(t + day, end)
            while off(nxt) != cur_off:  # a change in (cur, nxt]: find its second
                lo, hi = cur, nxt
                while hi - lo > second:
                    mid = (lo + (hi - lo) // 2).replace(microsecond=0)
                    lo, hi = (mid, hi) if off(mid) == cur_off else (lo, mid)
                cur, cur_off = hi, off(hi)
                changes.append((cur, cur_off))
            t = cur = nxt
    if any(o % timedelta(seconds=1) for _, o in changes):
        return None
    return [(t.isoformat(" "), int(o.total_seconds()), _suffix(o)) for t, o in changes]


def _csv_line(line: str) -> str:
    """One SQL-built line (already guarded) as a CSV line, quoted like the csv module."""
    if _QUOTE_NEEDED.search(line) is None:
        return line.replace("\x1f", ",").replace("\x1d", ",") + "\r\n"
    return csv_cells(_ANY_SEP.split(line))


def _bytes_guard() -> re.Pattern:
    """_GUARD_AT for UTF-8 bytes: one-byte triggers in a class, the full-width ones spelled out."""
    single = b"".join(t.encode() for t in FORMULA_TRIGGERS if len(t.encode()) == 1)
    multi = b"|".join(re.escape(t.encode()) for t in FORMULA_TRIGGERS if len(t.encode()) > 1)
    return re.compile(b"\x1f(?='*(?:[" + re.escape(single) + b"]|" + multi + b"))")


_GUARD_AT_BYTES = _bytes_guard()


class SqlLines:
    """Chunks of (k, joined lines, lines()) from bulk.stream_export_lines → CSV, one string
    per chunk.

    The common chunk is a few passes over the one string SQLite joined (UTF-8 bytes
    straight from SQLite when the file is UTF-8: no decoding and encoding of 300 MB); a
    chunk with a cell that needs quoting goes line by line through the csv module; a deal
    whose text holds one of the separators (clean_text never stores them) is formatted
    from its raw values instead.
    """

    def __init__(self, chunks, raw, fmt: Callable[[Sequence[Any]], list], n_text: int, n_num: int,
                 *, as_bytes: bool = False):
        self.chunks, self.raw, self.fmt = chunks, raw, fmt
        self.n_text, self.n_num = n_text, n_num
        self.as_bytes = as_bytes  # lines (and so chunks) are UTF-8 bytes

    def __iter__(self):
        n_seps = self.n_text + self.n_num + 1  # per line, the one between lines included
        if self.as_bytes:
            us, gs, rs, comma, crlf, seps = b"\x1f", b"\x1d", b"\x1e", b",", b"\r\n", b"\x1d\x1e\x1f"
            guard_at, guarded, quotes = _GUARD_AT_BYTES, b"\x1f'", (b",", b'"', b"\n", b"\r")
        else:
            us, gs, rs, comma, crlf, seps = "\x1f", "\x1d", "\x1e", ",", "\r\n", "\x1d\x1e\x1f"
            guard_at, guarded, quotes = _GUARD_AT, "\x1f'", (",", '"', "\n", "\r")
        for k, big, lines in self.chunks:
            # Every separator is ours (no cell holds one: each line has exactly its own) and
            # no cell needs quotes. One pass counts all three kinds (UTF-8; fewer instructions than
            # three counts); replace finds a single byte faster than translate maps every byte.
            found = len(big) - len(big.translate(None, seps)) if self.as_bytes else sum(map(big.count, seps))
            if found == n_seps * k - 1:
                big = guard_at.sub(guarded, big)
                if not any(q in big for q in quotes):
                    yield k, big.replace(us, comma).replace(gs, comma).replace(rs, crlf) + crlf
                    continue
            rows = lines()
            text = self._by_line([(i, line.decode("utf-8")) for i, line in rows] if self.as_bytes else rows)
            yield k, text.encode("utf-8") if self.as_bytes else text

    def _by_line(self, rows: Sequence[tuple[int, str]]) -> str:
        n_text, n_num = self.n_text, self.n_num
        odd = [i for i, line in rows if line.count("\x1f") != n_text or line.count("\x1d") != n_num or "\x1e" in line]
        fixed = {r[0]: r for r in self.raw(odd)} if odd else {}
        out = []
        for i, line in rows:
            if i in fixed:
                out.append(csv_cells(self.fmt(fixed[i])))
            else:
                out.append(_csv_line(_GUARD_AT.sub("\x1f'", line)))
        return "".join(out)
