"""Dates and times as tools and locales write them.

Read: ISO (`2024-03-15`, `2024-03-15T15:16:00+08:00`, `2024-03-15 15:16`), `y/m/d`
(`2024/6/14 15:16`, Excel re-saving our template), `m/d/y`, `d/m/y`, `d.m.y`, `d-m-y`, two-digit
years (Excel's window: 30–99 are 1930–1999, 00–29 are 2000–2029), `20240315`, `2024年3月15日`
(`15:16` or `15时16分` after it), `Mar 15, 2024`, `March 15 2024`, `15 Mar 2024`, `15-Mar-24`,
Excel serial numbers (`45366`, `45366.5`), workbook date cells; times as `15:16`, `15:16:17`,
`3:16 PM`, with an offset (`Z`, `+08:00`, `+0800`, `UTC`) or without one (local time in the zone
the reader is given).

Day and month order is decided from the whole column: each numeric date can be read in the
orders under which it is a real date (`15/03/2024` only as d/m/y), and the column keeps the
orders every one of its dates allows. A date whose readings still differ is refused with a
message naming `--date-order dmy|mdy|ymd`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field as dc_field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Iterable

from funnel_tui.exchange.cells import Cell, FieldError, NeedsEvidence, normal_text, shown
from funnel_tui.i18n import N_, _

DMY, MDY, YMD = "dmy", "mdy", "ymd"
ORDERS = (DMY, MDY, YMD)
ORDER_HINT = N_("say which with --date-order dmy, mdy or ymd")
_EXCEL_EPOCH = datetime(1899, 12, 30)  # serial 1 is 1900-01-01 past Excel's phantom 1900-02-29
_MONTHS = {m: i for i, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
     ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
     ("oct", "october"), ("nov", "november"), ("dec", "december")], start=1) for m in names}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_TIME = r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\s*(am|pm|a\.m\.|p\.m\.)?"
_OFFSET = r"(z|utc|gmt|[+-]\d{2}:?\d{2})?"
_TAIL = rf"(?:[t\s,]+{_TIME})?\s*{_OFFSET}"
_YEAR_FIRST = re.compile(rf"^(\d{{4}})([-/.])(\d{{1,2}})\2(\d{{1,2}}){_TAIL}$")
_NUMERIC = re.compile(rf"^(\d{{1,2}})([-/.])(\d{{1,2}})\2(\d{{4}}|\d{{2}}){_TAIL}$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_CHINESE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]\s*"
                      r"(?:(\d{1,2})\s*[:时点]\s*(\d{1,2})?\s*分?\s*(?::?(\d{1,2})\s*秒?)?)?$")
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
_MONTH_FIRST = re.compile(rf"^{_WEEKDAY}{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}}){_TAIL}$")
_DAY_FIRST = re.compile(rf"^{_WEEKDAY}(\d{{1,2}})(?:st|nd|rd|th)?[\s\-]+{_MONTH}[\s\-,]+(\d{{4}}|\d{{2}}){_TAIL}$")
_SERIAL = re.compile(r"^(\d{5})(?:\.(\d+))?$")
# Our export's UTC shape, one per line: its stored text is the same characters (utc_text).
_UTC_LINES = re.compile(r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-9]{2}:[0-9]{2}\+00:00\n)*")


class _Bad(ValueError):
    pass


@dataclass(slots=True)
class Written:
    """One written date: its readings by order, its time of day and offset if given."""

    readings: dict[str, date]  # order -> date; one entry when the form fixes the order
    clock: time | None
    offset: tzinfo | None
    fixed: bool  # the form fixes the order (ISO, 年月日, month names, serials)


def _year(text: str) -> int:
    if len(text) == 4:
        return int(text)
    yy = int(text)
    return 2000 + yy if yy < 30 else 1900 + yy  # Excel's two-digit-year window


def _clock(hh, mm, ss, frac, ampm) -> time | None:
    if hh is None:
        return None
    hour, minute, second = int(hh), int(mm or 0), int(ss or 0)
    if ampm:
        if not 1 <= hour <= 12:
            raise _Bad(_("has an hour that is not 1–12 before AM/PM"))
        hour = hour % 12 + (12 if ampm.startswith("p") else 0)
    micro = int((frac or "").ljust(6, "0")) if frac else 0
    try:
        return time(hour, minute, second, micro)
    except ValueError:
        raise _Bad(_("has a time of day that does not exist")) from None


def _offset(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text in ("z", "utc", "gmt"):
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise _Bad(_("has an offset that does not exist"))
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _real(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def parse_written(text: str) -> Written:
    """Take one written date apart; raises _Bad (with the reason) for text that is no date."""
    t = " ".join(normal_text(text).split()).casefold()
    m = _YEAR_FIRST.match(t)
    if m:
        d = _real(int(m[1]), int(m[3]), int(m[4]))
        if d is None:
            raise _Bad(_("is not a real date"))
        return Written({YMD: d}, _clock(*m.group(5, 6, 7, 8, 9)), _offset(m[10]), True)
    m = _NUMERIC.match(t)
    if m:
        a, b, c = m[1], m[3], m[4]
        readings = {}
        for order, (dd, mm) in ((DMY, (a, b)), (MDY, (b, a))):
            if (d := _real(_year(c), int(mm), int(dd))) is not None:
                readings[order] = d
        if len(c) == 2 and (d := _real(_year(a), int(b), int(c))) is not None:
            readings[YMD] = d
        if not readings:
            raise _Bad(_("is not a real date in any order"))
        return Written(readings, _clock(*m.group(5, 6, 7, 8, 9)), _offset(m[10]), False)
    m = _COMPACT.match(t)
    if m:
        d = _real(int(m[1]), int(m[2]), int(m[3]))
        if d is None:
            raise _Bad(_("is not a real date"))
        return Written({YMD: d}, None, None, True)
    m = _CHINESE.match(t)
    if m:
        d = _real(int(m[1]), int(m[2]), int(m[3]))
        if d is None:
            raise _Bad(_("is not a real date"))
        return Written({YMD: d}, _clock(m[4], m[5], m[6], None, None), None, True)
    for pattern, month_at, day_at in ((_MONTH_FIRST, 1, 2), (_DAY_FIRST, 2, 1)):
        m = pattern.match(t)
        if m:
            d = _real(_year(m[3]), _MONTHS[m[month_at]], int(m[day_at]))
            if d is None:
                raise _Bad(_("is not a real date"))
            return Written({YMD: d}, _clock(*m.group(4, 5, 6, 7, 8)), _offset(m[9]), True)
    m = _SERIAL.match(t)
    if m:
        return _serial(Decimal(t))
    raise _Bad(_("is not a date we read"))


def _serial(value: Decimal) -> Written:
    """An Excel serial day number (the 1900 system), its fraction the time of day to the second."""
    if not 10_000 <= value < 2_958_466:
        raise _Bad(_("is not an Excel date serial (10000–2958465) we read"))
    days = int(value)
    seconds = int(((value - days) * 86_400).to_integral_value())
    moment = _EXCEL_EPOCH + timedelta(days=days, seconds=seconds)
    clock = moment.time() if seconds else None
    return Written({YMD: moment.date()}, clock, None, True)


def _stored_texts(cells: list[str], moments: list[datetime], stored: dict) -> None:
    """stored[id(m)] = (m, utc_text(m)) for the cells of our export's UTC shape and their
    moments (read by fromisoformat): 2025-08-11T14:27:35+00:00 is stored as
    2025-08-11 14:27:35.000000, made for all cells at once by two replaces over their lines."""
    lines = "\n".join(cells) + "\n"
    if _UTC_LINES.fullmatch(lines) is None:  # some other shape among them: only the ones that are
        keep = [k for k, cell in enumerate(cells) if _UTC_LINES.fullmatch(cell + "\n")]
        cells, moments = [cells[k] for k in keep], [moments[k] for k in keep]
        lines = "\n".join(cells) + "\n"
    texts = lines.replace("T", " ").replace("+00:00\n", ".000000\n").split("\n")
    stored.update(zip(map(id, moments), zip(moments, texts)))


@dataclass
class DateColumn:
    """Reads one date column: `want` is "date" (expected close) or "moment" (an aware UTC
    datetime; a date alone is local midnight, as domain.dates.parse_timestamp has it).
    `order`: the rep's `--date-order`, or the profile's when its tool writes one order."""

    field: str
    tz: tzinfo
    want: str = "moment"
    order: str | None = None
    default_clock: time = time(0)  # the time of day a date without one means (a follow-up: 09:00)
    speculative: bool = False  # no evidence yet: NeedsEvidence instead of deciding (cells.py)
    _orders: set = dc_field(default_factory=lambda: set(ORDERS))
    _examples: dict = dc_field(default_factory=dict)  # order -> a cell only that order reads
    _frozen: bool = False

    def observe(self, cells: Iterable[Cell]) -> None:
        if self._frozen:
            raise RuntimeError("observe() after read(): the column was already decided")
        for cell in cells:
            if not isinstance(cell, str) or not cell.strip() or (cell[:4].isdigit() and cell[4:5] in "-/."):
                continue  # empty, or year first: the form fixes the order
            try:
                w = parse_written(cell)
            except _Bad:
                continue
            if w.fixed or (len(w.readings) > 1 and len(set(w.readings.values())) == 1):
                continue  # the form fixes the order, or every order reads the same day
            self._orders &= set(w.readings)
            if len(w.readings) == 1:
                self._examples.setdefault(next(iter(w.readings)), cell)

    @property
    def decided(self) -> str | None:
        """The order the column uses, or None while it cannot say."""
        if self.order is not None:
            return self.order
        return next(iter(self._orders)) if len(self._orders) == 1 else None

    def read(self, cell: Cell) -> date | datetime | None:
        """One cell as a date or aware UTC datetime (None when empty); FieldError otherwise."""
        try:
            return self._read(cell)
        except OverflowError:  # 9999-12-31T23:59:59-05:30: past the calendar's end once in UTC
            raise FieldError(self.field, _("{cell} is outside the calendar once in UTC (years 1–9999)").format(
                cell=shown(cell))) from None

    def _read(self, cell: Cell) -> date | datetime | None:
        self._frozen = True
        if type(cell) is str:  # the common case first: CSV text, our export's ISO times
            if (len(cell) == 25 and self.want == "moment" and cell[10] == "T" and cell[4] == cell[7] == "-"
                    and cell.isascii()):
                try:  # our export's shape, 2024-03-15T15:16:00+08:00: what _iso gives, sooner
                    moment = datetime.fromisoformat(cell)
                    if moment.tzinfo is not None:
                        return moment.astimezone(timezone.utc)
                except ValueError:
                    pass  # the full reader says why
            fast = self._iso(cell)
            if fast is not None:
                return fast
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            return None
        if isinstance(cell, datetime):
            return self._out(cell.date(), cell.time() if cell.time() != time(0) else None,
                             cell.tzinfo, cell)
        if isinstance(cell, date):
            return self._out(cell, None, None, cell)
        if isinstance(cell, (int, Decimal)) and not isinstance(cell, bool):
            try:
                w = _serial(Decimal(cell))
            except _Bad as exc:
                raise FieldError(self.field, _("{cell} {problem}").format(cell=shown(cell), problem=exc)) from None
        elif isinstance(cell, str):
            try:
                w = parse_written(cell)
            except _Bad as exc:
                raise FieldError(self.field, _("{cell} {problem}; write e.g. 2024-03-15, "
                                               "2024-03-15 15:16, 2024年3月15日").format(
                                                   cell=shown(cell), problem=exc)) from None
        else:
            raise FieldError(self.field, _("{cell} is not a date").format(cell=shown(cell)))
        return self._out(self._pick(w, cell), w.clock, w.offset, cell)

    def read_many(self, cells: Iterable[Cell], stored: dict | None = None) -> tuple[dict, list]:
        """read() of a column's distinct cells at once, for our export's shapes
        (2024-03-15T15:16:00+08:00, 2024-03-15: what read() checks first) in one loop: ({cell: value},
        the cells left for read()). An import reads hundreds of thousands of timestamps.

        `stored` (a moment column): gets {id(value): (value, its stored text)} for cells written
        in UTC (2024-03-15T15:16:00+00:00), the text cut from the cell instead of formatted from
        the value (store/staged.py stage_chunk); always what times.utc_text(value) gives. Keyed
        by id, holding the value: hashing an aware datetime costs more than formatting it."""
        self._frozen = True
        got: dict = {}
        rest: list = []
        if self.want != "moment":  # a day: the ISO shape read() takes through _iso first
            for cell in cells:
                if (type(cell) is str and len(cell) == 10 and cell[4] == cell[7] == "-" and cell.isascii()
                        and cell[:4].isdigit()):
                    try:
                        got[cell] = date.fromisoformat(cell)
                        continue
                    except ValueError:
                        pass  # read() says why
                rest.append(cell)
            return got, rest
        parse, utc = datetime.fromisoformat, timezone.utc
        utc_cells: list[str] = []
        utc_moments: list[datetime] = []
        for cell in cells:
            if (type(cell) is str and len(cell) == 25 and cell[10] == "T" and cell[4] == cell[7] == "-"
                    and cell.isascii()):
                try:
                    moment = parse(cell)
                except ValueError:
                    rest.append(cell)  # read() says why
                    continue
                if moment.tzinfo is utc:
                    got[cell] = moment
                    utc_cells.append(cell)
                    utc_moments.append(moment)
                    continue
                if moment.tzinfo is not None:
                    try:
                        got[cell] = moment.astimezone(utc)
                        continue
                    except OverflowError:
                        pass  # read() says why
            rest.append(cell)
        if stored is not None and utc_cells:
            _stored_texts(utc_cells, utc_moments, stored)
        return got, rest

    def _iso(self, cell: str) -> date | datetime | None:
        """The ISO shapes (our export's `2024-03-15T15:16:00+08:00`, `2024-03-15`, `2024-03-15 15:16`)
        through fromisoformat, the hot path; None for anything else (the full reader decides)."""
        if len(cell) < 10 or cell[4] != "-" or cell[7] != "-" or not cell.isascii() or not cell[:4].isdigit():
            return None
        try:
            if len(cell) == 10:
                day = date.fromisoformat(cell)
                return self._out(day, None, None, cell)
            if cell[10] not in "T ":
                return None
            moment = datetime.fromisoformat(cell)
        except ValueError:
            return None
        if self.want == "moment":  # what _out makes of it, without taking it apart
            return (moment if moment.tzinfo is not None else moment.replace(tzinfo=self.tz)).astimezone(timezone.utc)
        return self._out(moment.date(), moment.timetz().replace(tzinfo=None), moment.tzinfo, cell)

    def _pick(self, w: Written, cell: Cell) -> date:
        if w.fixed:
            return next(iter(w.readings.values()))
        if self.order is not None:
            if self.order not in w.readings:
                raise FieldError(self.field, _("{cell} is not a real date in {order} order "
                                               "(--date-order)").format(cell=shown(cell), order=self.order))
            return w.readings[self.order]
        if self.speculative and len(set(w.readings.values())) > 1:
            raise NeedsEvidence(self.field)
        keep = {o: d for o, d in w.readings.items() if o in self._orders} or w.readings
        if len(set(keep.values())) == 1:
            return next(iter(keep.values()))
        if self._examples and not self._orders:
            why = _("this column has dates only {readings}").format(readings=_(" and only ").join(
                _("{order} reads ({example})").format(order=o, example=repr(self._examples[o]))
                for o in sorted(self._examples)))
        else:
            why = _("nothing else in this column tells which")
        ways = _(" or ").join(f"{d.isoformat()} ({o})" for o, d in sorted(keep.items()))
        raise FieldError(self.field, _("{cell} can be {ways} and {why}; {hint}").format(
            cell=shown(cell), ways=ways, why=why, hint=_(ORDER_HINT)))

    def _out(self, day: date, clock: time | None, offset: tzinfo | None, cell: Cell):
        if self.want == "date":
            if clock is not None and offset is not None:
                return datetime.combine(day, clock, tzinfo=offset).astimezone(self.tz).date()
            return day
        moment = datetime.combine(day, self.default_clock if clock is None else clock, tzinfo=offset or self.tz)
        return moment.astimezone(timezone.utc)
