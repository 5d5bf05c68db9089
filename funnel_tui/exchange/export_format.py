"""Deals as export cells, formatted in Python: the reference path (and the one every
backend can take), made fast enough to stream a million deals.

The values are exactly those `columns.deal_record` gives: ISO local times with the offset,
plain major-unit numbers, the formula guard on text; plus weighted_amount, tier, dwell_days.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone, tzinfo
from operator import itemgetter
from typing import Any, Callable, Sequence

from funnel_tui.domain.money import weighted_minor
from funnel_tui.domain.rules import TierCutoffs
from funnel_tui.domain.tiers import AmountTiers
from funnel_tui.exchange.columns import CSV_COLUMNS, TIME_COLUMNS
from funnel_tui.exchange.formula_guard import TRIGGER_CHARS, char_class, needs_guard

# Columns that are numbers: written as numbers, never guarded.
NUMERIC_COLUMNS = frozenset({"id", "lead_score", "amount", "probability", "weighted_amount", "dwell_days"})
# A text cell (joined with \x1f, which clean_text never stores) that may need the guard.
_FIRST = frozenset("'" + TRIGGER_CHARS)
_SUSPECT = re.compile("(?:^|\x1f)[" + char_class("'" + TRIGGER_CHARS) + "]")
UTC = timezone.utc


def plain(minor: int) -> str:
    """format_plain without Decimal: '1054' / '12.50'."""
    whole, cents = divmod(minor, 100)
    return str(whole) if cents == 0 else f"{whole}.{cents:02d}"


class LocalTime:
    """UTC text or datetime → ISO local with offset, exactly like `iso_local`, but fast.

    Per UTC hour the zone's offset is looked up once (and checked at both ends of the hour,
    so a transition inside it falls back to the exact conversion). With a whole-hour offset
    the stored text "YYYY-MM-DD HH:MM:SS.ffffff" needs only the hour part rewritten, so
    most cells are a string concatenation.
    """

    def __init__(self, tz: tzinfo):
        self.tz = tz
        # UTC hour "YYYY-MM-DD HH" -> (local "YYYY-MM-DDTHH" or None, offset suffix, timezone or None)
        self._hours: dict[str, tuple[str | None, str, timezone | None]] = {}

    def _hour(self, key: str) -> tuple[str | None, str, timezone | None]:
        start = datetime.fromisoformat(key + ":00:00").replace(tzinfo=UTC)
        a = start.astimezone(self.tz).utcoffset()
        b = (start + timedelta(minutes=59, seconds=59)).astimezone(self.tz).utcoffset()
        if a != b:
            entry: tuple = (None, "", None)
        else:
            off = timezone(a)
            local = (start + a).replace(tzinfo=off)
            suffix = local.isoformat()[19:]
            whole_hour = a % timedelta(hours=1) == timedelta(0)
            entry = (local.isoformat()[:13] if whole_hour else None, suffix, off)
        if len(self._hours) > 100_000:
            self._hours.clear()
        self._hours[key] = entry
        return entry

    def __call__(self, value: Any) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, str) and len(value) >= 19 and value[10] == " ":
            key = value[:13]
            entry = self._hours.get(key) or self._hour(key)
            if entry[0] is not None:
                return entry[0] + value[13:19] + entry[1]
            naive = datetime.fromisoformat(value[:19])
        elif isinstance(value, str):
            naive = datetime.fromisoformat(value).replace(microsecond=0)
        else:
            naive = (value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value).replace(microsecond=0)
        entry = self._hours.get(naive.isoformat(" ")[:13]) or self._hour(naive.isoformat(" ")[:13])
        off = entry[2]
        if off is None:
            return naive.replace(tzinfo=UTC).astimezone(self.tz).isoformat()
        return (naive + off.utcoffset(None)).replace(tzinfo=off).isoformat()


def naive_utc(value: Any) -> datetime:
    if isinstance(value, str):
        return datetime.fromisoformat(value)  # stored UTC text carries no offset
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def row_formatter(*, now: datetime, tz: tzinfo, tiers: TierCutoffs | AmountTiers) -> Callable[[Sequence[Any]], list]:
    """Build the row → cells function for rows in bulk.EXPORT_DB_COLUMNS order."""
    local = LocalTime(tz)
    now_naive = now.astimezone(UTC).replace(tzinfo=None)
    index = {c: i for i, c in enumerate(CSV_COLUMNS)}
    time_idx = [index[c] for c in TIME_COLUMNS]
    text_idx = [i for c, i in index.items() if c not in NUMERIC_COLUMNS and c not in TIME_COLUMNS
                and c != "expected_close"]
    i_amount, i_prob, i_currency = index["amount"], index["probability"], index["currency"]
    i_status, i_entered, i_close = index["status"], index["stage_entered_at"], index["expected_close"]
    day = timedelta(days=1)

    texts = itemgetter(*text_idx)
    hours = local._hours  # the converter's per-hour table, read inline for speed

    def fmt(row: Sequence[Any]) -> list:
        # None is written as "" by the csv module, so only the formula guard touches text;
        # one regex over the joined text cells finds the rare row that needs it.
        cells = list(row)
        entered = cells[i_entered]
        if _SUSPECT.search("\x1f".join(map(str, texts(row)))):
            for i in text_idx:
                v = cells[i]
                if v and v[0] in _FIRST and needs_guard(v):
                    cells[i] = "'" + v
        for i in time_idx:
            v = cells[i]
            if v:
                entry = hours.get(v[:13]) if v.__class__ is str and v[10:11] == " " else None
                cells[i] = entry[0] + v[13:19] + entry[1] if entry and entry[0] else local(v)
        close = cells[i_close]
        if close is not None and not isinstance(close, str):
            cells[i_close] = close.isoformat()
        amount = row[i_amount] or 0
        prob = row[i_prob] or 0
        cells[i_amount] = plain(amount)
        dwell = ""
        if row[i_status] == "open" and entered is not None:
            dwell = max(int((now_naive - naive_utc(entered)) / day), 0)  # a clock behind: 0
        weighted = weighted_minor(amount, prob)
        tier = (tiers.tier_of(amount, prob, row[i_currency]) or "?") if row[i_status] == "open" else ""
        cells.extend((plain(weighted), tier, dwell))
        return cells

    return fmt


def csv_cells(cells: Sequence[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(cells)
    return buf.getvalue()
