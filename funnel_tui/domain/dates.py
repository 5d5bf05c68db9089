"""Parsing and formatting times, with the clock and the zone always passed in.

Nothing here reads the clock: `now` is an aware datetime and `tz` the rep's local zone, so
every result is reproducible in tests. Parsed values come back as aware UTC datetimes (how
they are stored); `format_local` turns them back into local wall time for display.

Rules worth knowing:
- A date with no time (`tomorrow`, `fri`, `2026-12-01`, and `today` too) means DEFAULT_TIME
  local, the start of the working day - predictable beats clever.
- `next week` is next Monday at DEFAULT_TIME.
- A weekday name means its next occurrence at or after now: on a Wednesday at 00:18,
  `wed 10:00` is today at 10:00 (and `wed` today at 09:00); once that time has passed, next
  week's. As a date (`parse_date`), today counts. The Chinese 周X follows the same rule.
- Nothing more than HORIZON_YEARS (5) years away is taken: `2026w` or `+300w` are typos, not
  plans, and are refused with the date they would have meant. A bare number of four digits
  before a unit (`2026w`) is read as a mistyped year and refused as such.
- A follow-up in the past is refused by `parse_follow_up` (the CLI's `--past` allows it).
- `+Nd`/`+Nw` move the local calendar (the wall-clock time survives a DST change);
  `+Nh`/`+Nm` add absolute time.
- Local times are built with `datetime.combine(..., tzinfo=tz)`: a wall time skipped by a DST
  jump resolves with the offset from before the jump, a repeated one to its first occurrence.
- Text containing Chinese (明天下午3点, 下周一, 3天后, 月底, 2024年3月15日) or full-width
  forms (１５：３０) is read by `dates_zh`, which documents its own rules; English phrases
  never go there.
- Error messages are in the active language (`funnel_tui.i18n`).
"""

from __future__ import annotations

import os
import re
import time as _time
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from funnel_tui.domain.dates_zh import format_zh, format_zh_date, has_han, parse_zh_date, parse_zh_when
from funnel_tui.domain.lazy_re import lazy_compile
from funnel_tui.i18n import _, active_lang, pgettext

__all__ = [
    "DEFAULT_TIME",
    "HORIZON_YEARS",
    "DateRefused",
    "PastFollowUp",
    "parse_follow_up",
    "local_tz",
    "to_utc",
    "parse_when",
    "parse_date",
    "parse_timestamp",
    "format_local",
    "iso_utc",
    "iso_local",
    "humanize_delta",
]

DEFAULT_TIME = time(9, 0)  # a follow-up given only a date lands at the start of the working day
HORIZON_YEARS = 5  # further away than this is a typo (a year, a unit), not a plan


class DateRefused(ValueError):
    """A date or time that reads, and is refused with the reason (too far away, in the past)."""


class PastFollowUp(DateRefused):
    """A follow-up time before now (the CLI takes it with --past)."""


_WEEKDAYS = {
    name: i
    for i, names in enumerate(
        [
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "weds", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        ]
    )
    for name in names
}
_DAY_OFFSETS = {"today": 0, "tomorrow": 1, "yesterday": -1, "tmr": 1}
_UNITS = {
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "d": "d", "day": "d", "days": "d",
    "w": "w", "wk": "w", "wks": "w", "week": "w", "weeks": "w",
}

_RELATIVE = lazy_compile(r"\+?\s*(\d{1,6})\s*([a-z]+)")
_ISO_DATE = lazy_compile(r"(\d{4})-(\d{2})-(\d{2})")
# Only the documented ISO shapes; fromisoformat alone would also take compact or week forms.
_ISO_DATETIME = lazy_compile(
    r"(\d{4}-\d{2}-\d{2})[t ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)\s*(z|[+-]\d{2}:?\d{2})?"
)
_TIME = lazy_compile(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?")
# Longest first, so "monday" wins over "mon" and "tues" over "tue".
_DAY_NAMES = sorted(map(re.escape, [*_WEEKDAYS, *_DAY_OFFSETS]), key=len, reverse=True)
_DAY_WORD = lazy_compile(r"(next week|" + "|".join(_DAY_NAMES) + r")\s*(.*)")


def local_tz() -> tzinfo:
    """The system's local zone, honouring TZ.

    Prefers a real zoneinfo zone, so that dates across a DST change get the right offset;
    falls back to the fixed current offset (`datetime.now().astimezone().tzinfo`).
    """
    if hasattr(_time, "tzset"):
        _time.tzset()  # pick up a TZ changed since start-up
    try:
        from zoneinfo import ZoneInfo

        key = os.environ.get("TZ", "").lstrip(":")
        if key:
            return ZoneInfo(key)
        if os.path.exists("/etc/localtime"):
            with open("/etc/localtime", "rb") as fh:
                return ZoneInfo.from_file(fh, key="localtime")
    except (ImportError, KeyError, ValueError, OSError):  # KeyError: ZoneInfoNotFoundError
        pass  # e.g. a POSIX TZ string like "CST-8": time.tzset() understood it, zoneinfo not
    return datetime.now().astimezone().tzinfo or timezone.utc


def to_utc(dt: datetime) -> datetime:
    """Convert an aware datetime to UTC; a naive one is a bug upstream, so refuse it."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{dt.isoformat()} has no time zone")
    return dt.astimezone(timezone.utc)


def _shown(text: str) -> str:
    """The input as quoted in an error: repr (so control chars are visible), kept short."""
    return repr(text if len(text) <= 40 else text[:39] + "…")


def _local_today(now: datetime, tz: tzinfo) -> date:
    return to_utc(now).astimezone(tz).date()


def _at(d: date, t: time, tz: tzinfo) -> datetime:
    """Local wall time `t` on `d`, as UTC."""
    return datetime.combine(d, t, tzinfo=tz).astimezone(timezone.utc)


def _parse_time(text: str, *, bare_hour: bool) -> time | None:
    """`15:00`, `9:30`, `3pm`, `3:30pm`, and `15` when `bare_hour`; None if not a time.

    Raises ValueError (with no message; callers supply it) for a time that is shaped right
    but impossible, like 25:00 or 13pm.
    """
    m = _TIME.fullmatch(text)
    if not m:
        return None
    hour, minute, ampm = int(m[1]), int(m[2] or 0), m[3]
    if m[2] is None and ampm is None and not bare_hour:
        return None
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ValueError
    return time(hour, minute)


def _parse_iso_date(text: str) -> date | None:
    """`YYYY-MM-DD` or None; an impossible date such as 2025-02-30 raises ValueError."""
    if not _ISO_DATE.fullmatch(text):
        return None
    return date.fromisoformat(text)


def _parse_iso_datetime(text: str, tz: tzinfo) -> datetime | None:
    """ISO datetime (T or space, optional seconds and offset) as UTC, or None if not one."""
    m = _ISO_DATETIME.fullmatch(text)
    if not m:
        return None
    offset = m[3] or ""
    if offset == "z":
        offset = "+00:00"
    elif offset and ":" not in offset:
        offset = offset[:3] + ":" + offset[3:]
    dt = datetime.fromisoformat(f"{m[1]}T{m[2]}{offset}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)  # no offset means the rep's wall clock
    return dt.astimezone(timezone.utc)


def _day_from_word(word: str, today: date) -> date:
    """The date named by a day word relative to `today`."""
    if word in _DAY_OFFSETS:
        return today + timedelta(days=_DAY_OFFSETS[word])
    if word == "next week":
        return today + timedelta(days=7 - today.weekday())  # Monday after this one
    return today + timedelta(days=(_WEEKDAYS[word] - today.weekday()) % 7)  # 0..6: today counts


def _parse_relative(text: str) -> tuple[int, str] | None:
    """`+2h`, `3d`, `+1 week` -> (2, "h"), ...; None if not that shape. `2026w` (four digits,
    no plus) is a year typed where a date was meant: refused, not 2026 weeks."""
    m = _RELATIVE.fullmatch(text)
    if not m or m[2] not in _UNITS:
        return None
    if len(m[1]) == 4 and not text.startswith("+"):
        raise DateRefused(_("{text}: {year} looks like a year; write a date such as {year}-12-01 "
                            "(a span takes a plus: +3w)").format(text=_shown(text), year=m[1]))
    return int(m[1]), _UNITS[m[2]]


def _add_years(d: date, years: int) -> date:
    """The same day `years` later (or earlier); 29 February becomes the 28th."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def _within_horizon(text: str, day: date, today: date, years: int | None) -> None:
    """Refuse a day more than `years` years from today, naming the day it would have been."""
    if years is None:
        return
    if not _add_years(today, -years) <= day <= _add_years(today, years):
        raise DateRefused(_("{text} would be {day}, more than {years} years away; check the year or the "
                            "unit").format(text=_shown(text), day=day.isoformat(), years=years))


def _normalise(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def parse_when(text: str, *, now: datetime, tz: tzinfo, horizon: int | None = HORIZON_YEARS) -> datetime:
    """Parse a time typed by the rep into an aware UTC datetime (see module doc). Refused
    when more than `horizon` years away (None: any distance, e.g. for a report's window)."""
    when = _parse_when(text, now=now, tz=tz)
    _within_horizon(text, when.astimezone(tz).date(), _local_today(now, tz), horizon)
    return when


def parse_follow_up(text: str, *, now: datetime, tz: tzinfo, allow_past: bool = False) -> datetime:
    """A follow-up's due time: `parse_when`, and refused when it lies in the past (before
    `now`) unless `allow_past` (the CLI's `--past`). `today` at 10:00 means 09:00: refused,
    with a hint to give the time."""
    when = parse_when(text, now=now, tz=tz)
    if when < to_utc(now) and not allow_past:
        raise PastFollowUp(_("{text} is {when}, in the past; a follow-up lies ahead (e.g. today 15:00, "
                            "tomorrow, +2h)").format(text=_shown(text), when=format_local(when, tz)))
    return when


def _parse_when(text: str, *, now: datetime, tz: tzinfo) -> datetime:
    now_utc = to_utc(now)  # outside the try: a naive `now` is a caller bug, not bad input
    s = _normalise(text)
    if s == "now" or s == "现在":
        return now_utc
    if has_han(s):
        return parse_zh_when(str(text), now=now_utc, tz=tz, default_time=DEFAULT_TIME)
    error = ValueError(_("{text} is not a date or time; use e.g. 2026-12-01, 2026-12-01 15:00, "
                         "today 15:00, tomorrow, +2h, +3d, fri").format(text=_shown(text)))
    try:
        rel = _parse_relative(s)
        if rel:
            n, unit = rel
            if unit == "h":
                return now_utc + timedelta(hours=n)
            if unit == "m":
                return now_utc + timedelta(minutes=n)
            days = n * 7 if unit == "w" else n
            # Aware + timedelta is wall-clock arithmetic in Python, which is what "+1d" means.
            local = now_utc.astimezone(tz)
            return (local + timedelta(days=days)).astimezone(timezone.utc)
        dt = _parse_iso_datetime(s, tz)
        if dt:
            return dt
        today = _local_today(now, tz)
        t = _parse_time(s, bare_hour=False)
        if t:
            return _at(today, t, tz)
        # "<day> [time]": the day is an ISO date or a day word.
        head, _sep, rest = s.partition(" ")
        d = _parse_iso_date(head)
        weekday = False
        if d is None:
            m = _DAY_WORD.fullmatch(s)
            if not m:
                raise error
            d, rest, weekday = _day_from_word(m[1], today), m[2], m[1] in _WEEKDAYS
        if not rest:
            t = DEFAULT_TIME
        else:
            t = _parse_time(rest, bare_hour=True)
            if t is None:
                raise error
        when = _at(d, t, tz)
        if weekday and when < now_utc:  # today's has passed: next week's
            when = _at(d + timedelta(days=7), t, tz)
        return when
    except DateRefused:
        raise
    except (ValueError, OverflowError):
        raise error from None


def parse_date(text: str, *, now: datetime, tz: tzinfo, horizon: int | None = HORIZON_YEARS) -> date:
    """Parse a calendar date (e.g. expected close): ISO date or datetime, day words, +Nd/+Nw.
    Refused when more than `horizon` years from today (None: any)."""
    s = _normalise(text)
    if has_han(s):
        day = parse_zh_date(str(text), now=now, tz=tz)
        _within_horizon(text, day, _local_today(now, tz), horizon)
        return day
    error = ValueError(_("{text} is not a date; use e.g. 2026-12-01, today, tomorrow, +3d, +2w, fri")
                       .format(text=_shown(text)))
    today = _local_today(now, tz)
    try:
        day = _parse_date(s, today, tz, error)
    except DateRefused:
        raise
    except (ValueError, OverflowError):
        raise error from None
    _within_horizon(text, day, today, horizon)
    return day


def _parse_date(s: str, today: date, tz: tzinfo, error: ValueError) -> date:
    rel = _parse_relative(s)
    if rel:
        n, unit = rel
        if unit not in ("d", "w"):
            raise error  # hours and minutes make no sense for a date
        return today + timedelta(days=n * 7 if unit == "w" else n)
    d = _parse_iso_date(s)
    if d:
        return d
    dt = _parse_iso_datetime(s, tz)
    if dt:
        return dt.astimezone(tz).date()  # the date as the rep's calendar shows it
    m = _DAY_WORD.fullmatch(s)
    if m and not m[2]:
        return _day_from_word(m[1], today)
    raise error


def parse_timestamp(text: str, *, tz: tzinfo) -> datetime:
    """Strict ISO 8601 for imports: date (local midnight) or datetime; returns aware UTC.

    Without an offset the value is local time in `tz`. No words, no relative forms: an
    import must not depend on the day it is run.
    """
    error = ValueError(_("{text} is not an ISO date or time; use ISO 8601, e.g. 2026-12-01, "
                         "2026-12-01 15:00, 2026-12-01T15:00:00+08:00").format(text=_shown(text)))
    s = str(text).strip().casefold()
    try:
        dt = _parse_iso_datetime(s, tz)
        if dt:
            return dt
        d = _parse_iso_date(s)
        if d:
            return _at(d, time(0, 0), tz)
    except (ValueError, OverflowError):
        pass
    raise error


def format_local(dt: datetime | None, tz: tzinfo, *, with_time: bool = True) -> str:
    """`2026-11-24 15:00` (or `2026-11-24`) in local time; "" for None."""
    if dt is None:
        return ""
    local = to_utc(dt).astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def format_shown(dt: datetime | None, tz: tzinfo, *, now: datetime | None = None, with_time: bool = True,
                 weekday: bool = False, lang: str | None = None) -> str:
    """A moment on a screen or in a table, in the rep's language and local time; "" for None.

    English: `format_local` (`2026-11-24 15:00`; `weekday=True` puts `Tue ` before it).
    Chinese: `11月24日 周二 15:00`, the year written out when it is not the year of `now`
    (or when no `now` is given).
    """
    if dt is None:
        return ""
    if (lang or active_lang()) == "zh":
        this_year = now is not None and to_utc(now).astimezone(tz).year == to_utc(dt).astimezone(tz).year
        return format_zh(to_utc(dt), tz, with_time=with_time, year=not this_year)
    text = format_local(dt, tz, with_time=with_time)
    return f"{to_utc(dt).astimezone(tz):%a} {text}" if weekday else text


def format_day(d: date | None, *, lang: str | None = None) -> str:
    """A calendar date (an expected close): `2026-12-31`, or `2026年12月31日` in Chinese."""
    if d is None:
        return ""
    return format_zh_date(d) if (lang or active_lang()) == "zh" else d.isoformat()


def iso_utc(dt: datetime) -> str:
    """ISO 8601 in UTC to the second, e.g. `2026-11-24T07:00:00+00:00`."""
    return to_utc(dt).replace(microsecond=0).isoformat()


def iso_local(dt: datetime, tz: tzinfo) -> str:
    """ISO 8601 in local time with its offset, e.g. `2026-11-24T15:00:00+08:00`."""
    return to_utc(dt).astimezone(tz).replace(microsecond=0).isoformat()


def humanize_delta(delta: timedelta) -> str:
    """Compact size of a time span for badges: `3d`, `5h`, `20m`, or `now` under a minute.

    The sign is ignored (callers know whether it is overdue); units are floored. In Chinese:
    `3天`, `5小时`, `20分钟`, `刚刚`.
    """
    seconds = int(abs(delta).total_seconds())
    if seconds < 60:
        return pgettext("time span", "now")
    # Translators: a short time span on a badge ("overdue 3d"); {n} is a whole number.
    if seconds < 3600:
        return pgettext("time span", "{n}m").format(n=seconds // 60)
    if seconds < 86400:
        return pgettext("time span", "{n}h").format(n=seconds // 3600)
    return pgettext("time span", "{n}d").format(n=seconds // 86400)
