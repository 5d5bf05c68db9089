"""Tests for funnel_tui.domain.dates. Zones are explicit, so the machine's TZ does not matter.

Reference clock: 2026-11-24 (a Tuesday) 10:00 Asia/Shanghai = 02:00 UTC.
"""

import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from funnel_tui.domain.dates import (
    DEFAULT_TIME,
    format_local,
    humanize_delta,
    iso_local,
    iso_utc,
    local_tz,
    parse_date,
    parse_timestamp,
    parse_when,
    to_utc,
)

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
UTC = timezone.utc
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=SH)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_reference_day_is_tuesday():
    assert NOW.weekday() == 1
    assert DEFAULT_TIME.hour == 9 and DEFAULT_TIME.minute == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", utc(2026, 11, 24, 2, 0)),
        ("today", utc(2026, 11, 24, 1, 0)),  # 09:00 local, even though it is already 10:00
        ("today 15:00", utc(2026, 11, 24, 7, 0)),
        ("  TODAY 3pm ", utc(2026, 11, 24, 7, 0)),
        ("today 3:30pm", utc(2026, 11, 24, 7, 30)),
        ("today 15", utc(2026, 11, 24, 7, 0)),
        ("today 12am", utc(2026, 11, 23, 16, 0)),
        ("today 12pm", utc(2026, 11, 24, 4, 0)),
        ("15:00", utc(2026, 11, 24, 7, 0)),
        ("9:05", utc(2026, 11, 24, 1, 5)),
        ("3pm", utc(2026, 11, 24, 7, 0)),
        ("tomorrow", utc(2026, 11, 25, 1, 0)),
        ("Tomorrow 14:30", utc(2026, 11, 25, 6, 30)),
        ("yesterday", utc(2026, 11, 23, 1, 0)),
        ("+2h", utc(2026, 11, 24, 4, 0)),
        ("2h", utc(2026, 11, 24, 4, 0)),
        ("+30m", utc(2026, 11, 24, 2, 30)),
        ("+3d", utc(2026, 11, 27, 2, 0)),
        ("3d", utc(2026, 11, 27, 2, 0)),
        ("+1w", utc(2026, 12, 1, 2, 0)),
        ("fri", utc(2026, 11, 27, 1, 0)),
        ("Friday 16:00", utc(2026, 11, 27, 8, 0)),
        ("tue", utc(2026, 12, 1, 1, 0)),  # today's 09:00 has passed: next Tuesday
        ("mon", utc(2026, 11, 30, 1, 0)),
        ("wednesday", utc(2026, 11, 25, 1, 0)),
        ("sun 10am", utc(2026, 11, 29, 2, 0)),
        ("next week", utc(2026, 11, 30, 1, 0)),
        ("next week 14:00", utc(2026, 11, 30, 6, 0)),
        ("2026-12-01", utc(2026, 12, 1, 1, 0)),
        ("2026-12-01 3pm", utc(2026, 12, 1, 7, 0)),
        ("2026-12-01T15:00", utc(2026, 12, 1, 7, 0)),
        ("2026-12-01 15:00", utc(2026, 12, 1, 7, 0)),
        ("2026-12-01 15:00:30", utc(2026, 12, 1, 7, 0, 30)),
        ("2026-12-01T15:00+08:00", utc(2026, 12, 1, 7, 0)),
        ("2026-12-01T15:00:00-05:00", utc(2026, 12, 1, 20, 0)),
        ("2026-12-01T15:00Z", utc(2026, 12, 1, 15, 0)),
        ("2026-12-01t15:00z", utc(2026, 12, 1, 15, 0)),
        ("今天", utc(2026, 11, 24, 1, 0)),
        ("明天", utc(2026, 11, 25, 1, 0)),
        ("后天", utc(2026, 11, 26, 1, 0)),
        ("明天 15:00", utc(2026, 11, 25, 7, 0)),
        ("明天15:00", utc(2026, 11, 25, 7, 0)),
        ("周五", utc(2026, 11, 27, 1, 0)),
    ],
)
def test_parse_when_shanghai(text, expected):
    got = parse_when(text, now=NOW, tz=SH)
    assert got == expected
    assert got.utcoffset() == timedelta(0)


def test_parse_when_offset_honoured_in_any_local_zone():
    assert parse_when("2026-12-01T15:00+08:00", now=NOW, tz=NY) == utc(2026, 12, 1, 7, 0)
    # Without an offset the text is New York wall time (EST in December).
    assert parse_when("2026-12-01 15:00", now=NOW, tz=NY) == utc(2026, 12, 1, 20, 0)


def test_parse_when_uses_local_date_not_utc_date():
    # 2026-11-24 01:00 in Shanghai is still 2026-11-23 in UTC.
    early = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert parse_when("today", now=early, tz=SH) == utc(2026, 11, 24, 1, 0)
    assert parse_when("tomorrow", now=early, tz=SH) == utc(2026, 11, 25, 1, 0)


def test_parse_when_across_dst_end_new_york():
    # Saturday 2026-10-31 12:00 EDT (UTC-4) = 16:00 UTC; clocks go back on Sunday 11-01.
    now = datetime(2026, 10, 31, 12, 0, tzinfo=NY)
    assert to_utc(now) == utc(2026, 10, 31, 16, 0)
    # +1d keeps the wall clock: 2026-11-01 12:00 EST (UTC-5) = 17:00 UTC.
    assert parse_when("+1d", now=now, tz=NY) == utc(2026, 11, 1, 17, 0)
    # +24h is absolute: 16:00 UTC = 11:00 EST.
    assert parse_when("+24h", now=now, tz=NY) == utc(2026, 11, 1, 16, 0)
    assert parse_when("tomorrow", now=now, tz=NY) == utc(2026, 11, 1, 14, 0)
    assert parse_when("today", now=now, tz=NY) == utc(2026, 10, 31, 13, 0)
    assert parse_when("+1w", now=now, tz=NY) == utc(2026, 11, 7, 17, 0)


@pytest.mark.parametrize(
    "bad",
    ["2024-13-01", "25:00", "someday", "", "2025-02-30", "   ", "today 25:00", "13pm",
     "fri someday", "+2y", "15", "2026-12-01T25:00", "+99999999d", "next", "tomorrow 9:75"],
)
def test_parse_when_rejects(bad):
    with pytest.raises(ValueError) as exc:
        parse_when(bad, now=NOW, tz=SH)
    msg = str(exc.value)
    assert repr(bad) in msg
    assert "use e.g." in msg
    assert "\n" not in msg


def test_parse_when_error_example():
    with pytest.raises(ValueError) as exc:
        parse_when("2024-13-01", now=NOW, tz=SH)
    assert str(exc.value) == (
        "'2024-13-01' is not a date or time; "
        "use e.g. 2026-12-01, 2026-12-01 15:00, today 15:00, tomorrow, +2h, +3d, fri"
    )


def test_parse_when_naive_now_is_a_bug():
    with pytest.raises(ValueError, match="no time zone"):
        parse_when("tomorrow", now=datetime(2026, 11, 24, 10, 0), tz=SH)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-31", date(2026, 12, 31)),
        ("today", date(2026, 11, 24)),
        ("tomorrow", date(2026, 11, 25)),
        ("fri", date(2026, 11, 27)),
        ("tue", date(2026, 11, 24)),  # a date: today counts, as 周二 does (issue 13; was next Tuesday)
        ("+3d", date(2026, 11, 27)),
        ("+2w", date(2026, 12, 8)),
        ("2w", date(2026, 12, 8)),
        ("next week", date(2026, 11, 30)),
        ("明天", date(2026, 11, 25)),
        ("2026-12-01T23:30:00Z", date(2026, 12, 2)),  # 07:30 next day in Shanghai
        ("2026-12-01 23:30", date(2026, 12, 1)),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text, now=NOW, tz=SH) == expected


@pytest.mark.parametrize("bad", ["2024-13-01", "2025-02-30", "someday", "", "+2h", "tomorrow 3pm x"])
def test_parse_date_rejects(bad):
    with pytest.raises(ValueError) as exc:
        parse_date(bad, now=NOW, tz=SH)
    assert repr(bad) in str(exc.value)
    assert "is not a date; use e.g." in str(exc.value)


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("2026-12-01", SH, utc(2026, 11, 30, 16, 0)),  # local midnight
        ("2026-12-01T15:00:00+08:00", NY, utc(2026, 12, 1, 7, 0)),
        ("2026-12-01 15:00", NY, utc(2026, 12, 1, 20, 0)),
        ("2026-07-01 15:00", NY, utc(2026, 7, 1, 19, 0)),  # EDT in summer
        ("2026-12-01T15:00:00Z", SH, utc(2026, 12, 1, 15, 0)),
        ("2026-11-24 07:00:00+00:00", SH, utc(2026, 11, 24, 7, 0)),  # str(datetime) round-trips
        ("2026-11-24 07:00:00.250000+00:00", SH, datetime(2026, 11, 24, 7, 0, 0, 250000, tzinfo=UTC)),
        ("2026-12-01T15:00:00+0800", NY, utc(2026, 12, 1, 7, 0)),
    ],
)
def test_parse_timestamp(text, tz, expected):
    assert parse_timestamp(text, tz=tz) == expected


@pytest.mark.parametrize("bad", ["tomorrow", "+3d", "2024-13-01", "2025-02-30", "", "20261201", "2026-W48"])
def test_parse_timestamp_is_strict(bad):
    with pytest.raises(ValueError) as exc:
        parse_timestamp(bad, tz=SH)
    assert repr(bad) in str(exc.value)


def test_to_utc():
    assert to_utc(NOW) == utc(2026, 11, 24, 2, 0)
    assert to_utc(NOW).tzinfo is UTC
    with pytest.raises(ValueError):
        to_utc(datetime(2026, 11, 24, 10, 0))


def test_formatting():
    dt = utc(2026, 11, 24, 7, 0, 0)
    assert format_local(dt, SH) == "2026-11-24 15:00"
    assert format_local(dt, SH, with_time=False) == "2026-11-24"
    assert format_local(utc(2026, 11, 24, 20, 0), SH, with_time=False) == "2026-11-25"
    assert format_local(None, SH) == ""
    assert iso_utc(dt.replace(microsecond=123456)) == "2026-11-24T07:00:00+00:00"
    assert iso_utc(NOW) == "2026-11-24T02:00:00+00:00"
    assert iso_local(dt, SH) == "2026-11-24T15:00:00+08:00"
    assert iso_local(dt, NY) == "2026-11-24T02:00:00-05:00"


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(days=3, hours=5), "3d"),
        (timedelta(hours=5, minutes=59), "5h"),
        (timedelta(minutes=20, seconds=30), "20m"),
        (timedelta(seconds=59), "now"),
        (timedelta(0), "now"),
        (timedelta(days=-3), "3d"),
        (timedelta(minutes=-90), "1h"),
        (timedelta(days=45), "45d"),
    ],
)
def test_humanize_delta(delta, expected):
    assert humanize_delta(delta) == expected


@pytest.fixture
def restore_tz(monkeypatch):
    yield monkeypatch
    monkeypatch.undo()
    if hasattr(time, "tzset"):
        time.tzset()


def test_local_tz_honours_tz_env(restore_tz):
    restore_tz.setenv("TZ", "Asia/Shanghai")
    tz = local_tz()
    assert datetime(2026, 7, 1, tzinfo=tz).utcoffset() == timedelta(hours=8)
    restore_tz.setenv("TZ", "America/New_York")
    tz = local_tz()
    # A real zone, not a fixed offset: summer and winter differ.
    assert datetime(2026, 7, 1, tzinfo=tz).utcoffset() == timedelta(hours=-4)
    assert datetime(2026, 12, 1, tzinfo=tz).utcoffset() == timedelta(hours=-5)
