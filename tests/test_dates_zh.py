"""Chinese date and time phrases (funnel_tui.domain.dates_zh through dates.parse_when/parse_date).

Every expectation is computed by hand, in UTC. Reference clock (as in test_dates.py):
Tuesday 2026-11-24 10:00 Asia/Shanghai = 02:00 UTC.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from funnel_tui.domain.dates import parse_date, parse_when
from funnel_tui.domain.dates_zh import zh_number
from funnel_tui.i18n import using

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
UTC = timezone.utc
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=SH)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Days: 09:00 local (01:00 UTC) unless a time is given.
        ("今天", utc(2026, 11, 24, 1, 0)),
        ("明天", utc(2026, 11, 25, 1, 0)),
        ("后天", utc(2026, 11, 26, 1, 0)),
        ("大后天", utc(2026, 11, 27, 1, 0)),
        ("昨天", utc(2026, 11, 23, 1, 0)),
        # Weekdays. 下周X: that day of next week (Mon 11-30 .. Sun 12-06).
        ("下周一", utc(2026, 11, 30, 1, 0)),
        ("下周二", utc(2026, 12, 1, 1, 0)),
        ("下周日", utc(2026, 12, 6, 1, 0)),
        ("下个星期五", utc(2026, 12, 4, 1, 0)),
        ("下下周五", utc(2026, 12, 11, 1, 0)),
        ("本周一", utc(2026, 11, 23, 1, 0)),  # this week's, even though past
        ("下周", utc(2026, 11, 30, 1, 0)),  # next Monday
        # 周X: the next such day at or after now.
        ("周五", utc(2026, 11, 27, 1, 0)),
        ("星期三", utc(2026, 11, 25, 1, 0)),
        ("礼拜天", utc(2026, 11, 29, 1, 0)),
        ("周2", utc(2026, 12, 1, 1, 0)),
        ("周二", utc(2026, 12, 1, 1, 0)),  # today 09:00 is already past at 10:00
        ("周二下午3点", utc(2026, 11, 24, 7, 0)),  # today 15:00 is still ahead
        ("周二上午10点", utc(2026, 11, 24, 2, 0)),  # exactly now counts
        # Times: today.
        ("下午3点", utc(2026, 11, 24, 7, 0)),
        ("上午10点半", utc(2026, 11, 24, 2, 30)),
        ("晚上8点", utc(2026, 11, 24, 12, 0)),
        ("中午12点", utc(2026, 11, 24, 4, 0)),
        ("中午1点", utc(2026, 11, 24, 5, 0)),
        ("凌晨2点", utc(2026, 11, 23, 18, 0)),
        ("傍晚6点", utc(2026, 11, 24, 10, 0)),
        ("下午15点", utc(2026, 11, 24, 7, 0)),  # a 24-hour clock in a period still fits
        ("15点30", utc(2026, 11, 24, 7, 30)),
        ("15点30分", utc(2026, 11, 24, 7, 30)),
        ("15时", utc(2026, 11, 24, 7, 0)),
        ("15:30", utc(2026, 11, 24, 7, 30)),
        ("15：30", utc(2026, 11, 24, 7, 30)),  # full-width colon and digits, as IMEs type them
        ("明天下午３点", utc(2026, 11, 25, 7, 0)),
        ("9点", utc(2026, 11, 24, 1, 0)),  # 7–12 alone is morning/noon
        ("十点", utc(2026, 11, 24, 2, 0)),
        ("十二点", utc(2026, 11, 24, 4, 0)),
        ("下午三点一刻", utc(2026, 11, 24, 7, 15)),
        ("下午3点三刻", utc(2026, 11, 24, 7, 45)),
        ("八点零五", utc(2026, 11, 24, 0, 5)),
        ("下午3点钟", utc(2026, 11, 24, 7, 0)),
        ("下午3点整", utc(2026, 11, 24, 7, 0)),
        # Day + period + time.
        ("明天下午3点", utc(2026, 11, 25, 7, 0)),
        ("明天 下午 3点", utc(2026, 11, 25, 7, 0)),
        ("下周一上午10点", utc(2026, 11, 30, 2, 0)),
        ("今晚8点", utc(2026, 11, 24, 12, 0)),
        ("明早", utc(2026, 11, 25, 1, 0)),
        ("明晚", utc(2026, 11, 25, 12, 0)),
        ("明天下午", utc(2026, 11, 25, 6, 0)),  # a period alone: 14:00
        ("明天晚上", utc(2026, 11, 25, 12, 0)),  # 20:00
        ("明天 15:00", utc(2026, 11, 25, 7, 0)),
        ("2026-12-01 下午3点", utc(2026, 12, 1, 7, 0)),
        # Offsets. Days keep the wall-clock time (like +3d); hours and minutes are absolute.
        ("3天后", utc(2026, 11, 27, 2, 0)),
        ("三天以后", utc(2026, 11, 27, 2, 0)),
        ("3天后下午3点", utc(2026, 11, 27, 7, 0)),
        ("一周后", utc(2026, 12, 1, 2, 0)),
        ("两个星期后", utc(2026, 12, 8, 2, 0)),
        ("3个月后", utc(2027, 2, 24, 2, 0)),
        ("两小时后", utc(2026, 11, 24, 4, 0)),
        ("两个小时之后", utc(2026, 11, 24, 4, 0)),
        ("半小时后", utc(2026, 11, 24, 2, 30)),
        ("半个小时后", utc(2026, 11, 24, 2, 30)),
        ("1个半小时后", utc(2026, 11, 24, 3, 30)),
        ("30分钟后", utc(2026, 11, 24, 2, 30)),
        ("二十分钟后", utc(2026, 11, 24, 2, 20)),
        # Month ends and starts.
        ("月底", utc(2026, 11, 30, 1, 0)),
        ("本月底", utc(2026, 11, 30, 1, 0)),
        ("月底下午5点", utc(2026, 11, 30, 9, 0)),
        ("下个月初", utc(2026, 12, 1, 1, 0)),
        ("下月初", utc(2026, 12, 1, 1, 0)),
        ("下月底", utc(2026, 12, 31, 1, 0)),
        ("下个月底", utc(2026, 12, 31, 1, 0)),
        ("下月中", utc(2026, 12, 15, 1, 0)),
        # Full dates.
        ("2024年3月15日", utc(2024, 3, 15, 1, 0)),
        ("2024年3月15号下午3点", utc(2024, 3, 15, 7, 0)),
        ("2024年2月29日", utc(2024, 2, 29, 1, 0)),
        ("3月15日", utc(2027, 3, 15, 1, 0)),  # past this year: next year's
        ("三月十五号", utc(2027, 3, 15, 1, 0)),
        ("12月1日", utc(2026, 12, 1, 1, 0)),
        ("11月24日", utc(2026, 11, 24, 1, 0)),  # today is not past
        ("20号", utc(2026, 12, 20, 1, 0)),  # the 20th has passed: next month's
        ("30号", utc(2026, 11, 30, 1, 0)),
        ("下个月15号", utc(2026, 12, 15, 1, 0)),
        ("现在", utc(2026, 11, 24, 2, 0)),
    ],
)
def test_parse_when_shanghai(text, expected):
    got = parse_when(text, now=NOW, tz=SH)
    assert got == expected
    assert got.utcoffset() == timedelta(0)


def test_same_instant_different_zone_different_day():
    # 02:00 UTC is 10:00 in Shanghai but 02:00 in UTC: 周二 09:00 is past in one, ahead in the other.
    now = utc(2026, 11, 24, 2, 0)
    assert parse_when("周二", now=now, tz=SH) == utc(2026, 12, 1, 1, 0)
    assert parse_when("周二", now=now, tz=UTC) == utc(2026, 11, 24, 9, 0)
    assert parse_when("明天下午3点", now=now, tz=UTC) == utc(2026, 11, 25, 15, 0)
    assert parse_when("下周一", now=now, tz=UTC) == utc(2026, 11, 30, 9, 0)
    assert parse_when("月底", now=now, tz=UTC) == utc(2026, 11, 30, 9, 0)
    # 17:00 UTC on the 23rd is already the 24th (01:00) in Shanghai.
    early = utc(2026, 11, 23, 17, 0)
    assert parse_when("今天", now=early, tz=SH) == utc(2026, 11, 24, 1, 0)
    assert parse_when("周二", now=early, tz=SH) == utc(2026, 11, 24, 1, 0)
    assert parse_when("周二", now=early, tz=UTC) == utc(2026, 11, 24, 9, 0)


def test_new_york_into_daylight_saving():
    # Saturday 2026-03-07 12:00 EST (UTC-5) = 17:00 UTC; clocks jump 02:00 -> 03:00 on Sunday 03-08.
    now = datetime(2026, 3, 7, 12, 0, tzinfo=NY)
    assert parse_when("今天下午3点", now=now, tz=NY) == utc(2026, 3, 7, 20, 0)
    assert parse_when("明天", now=now, tz=NY) == utc(2026, 3, 8, 13, 0)  # 09:00 EDT
    assert parse_when("明天上午10点", now=now, tz=NY) == utc(2026, 3, 8, 14, 0)
    assert parse_when("下周一上午10点", now=now, tz=NY) == utc(2026, 3, 9, 14, 0)
    assert parse_when("3天后", now=now, tz=NY) == utc(2026, 3, 10, 16, 0)  # 12:00 EDT: wall clock kept
    assert parse_when("两小时后", now=now, tz=NY) == utc(2026, 3, 7, 19, 0)
    assert parse_when("24小时后", now=now, tz=NY) == utc(2026, 3, 8, 17, 0)  # 13:00 EDT: absolute
    # 02:30 on the 8th does not exist: the offset from before the jump (EST) -> 07:30 UTC.
    assert parse_when("周日凌晨2点半", now=now, tz=NY) == utc(2026, 3, 8, 7, 30)
    assert parse_when("月底", now=now, tz=NY) == utc(2026, 3, 31, 13, 0)


def test_new_york_out_of_daylight_saving():
    # Saturday 2026-10-31 12:00 EDT (UTC-4) = 16:00 UTC; 02:00 EDT -> 01:00 EST on Sunday 11-01.
    now = datetime(2026, 10, 31, 12, 0, tzinfo=NY)
    assert parse_when("明天上午10点", now=now, tz=NY) == utc(2026, 11, 1, 15, 0)  # EST
    # 01:30 happens twice: the first one (EDT).
    assert parse_when("明天凌晨1点半", now=now, tz=NY) == utc(2026, 11, 1, 5, 30)
    assert parse_when("下个月初", now=now, tz=NY) == utc(2026, 11, 1, 14, 0)
    assert parse_when("一周后", now=now, tz=NY) == utc(2026, 11, 7, 17, 0)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2月30日", "has no day 30"),
        ("2025年2月29日", "2025-02 has no day 29"),
        ("11月31日", "has no day 31"),
        ("13月1日", "there is no month 13"),
        ("明天3点", "could be morning or afternoon"),
        ("上午15点", "is not a time of day"),
        ("晚上12点", "is not a time of day"),
        ("凌晨8点", "is not a time of day"),
        ("25点", "is not a time of day"),
        ("明天15:75", "is not a time of day"),
        ("月初", "already past"),
        ("月中", "already past"),
        ("明天凌晨", "say the hour"),
        ("半分钟后", "is not a date or time"),
        ("随便哪天", "is not a date or time"),
        ("明天后天", "is not a date or time"),
        ("今晚下午3点", "is not a date or time"),
        ("三小时后下午3点", "is not a date or time"),
        ("十十点", "is not a date or time"),
        ("9999999天后", "is not a date or time"),
    ],
)
def test_refusals_say_why(text, reason):
    with pytest.raises(ValueError) as exc:
        parse_when(text, now=NOW, tz=SH)
    message = str(exc.value)
    assert repr(text) in message and reason in message and "\n" not in message


def test_refusals_in_chinese():
    with using("zh"), pytest.raises(ValueError) as exc:
        parse_when("2025年2月29日", now=NOW, tz=SH)
    assert str(exc.value) == "'2025年2月29日' 不是有效日期：2025年2月没有29日"
    with using("zh"), pytest.raises(ValueError) as exc:
        parse_when("明天3点", now=NOW, tz=SH)
    assert str(exc.value) == "'明天3点'：3点可能是上午也可能是下午；请写上午3点或下午3点（或15点）"
    with using("zh"), pytest.raises(ValueError) as exc:
        parse_when("someday", now=NOW, tz=SH)
    assert str(exc.value).startswith("'someday' 不是日期或时间；可以这样写：")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("明天", date(2026, 11, 25)),
        ("周二", date(2026, 11, 24)),  # a date: today counts
        ("下周一", date(2026, 11, 30)),
        ("月底", date(2026, 11, 30)),
        ("下个月初", date(2026, 12, 1)),
        ("下月底", date(2026, 12, 31)),
        ("3天后", date(2026, 11, 27)),
        ("一周后", date(2026, 12, 1)),
        ("3个月后", date(2027, 2, 24)),
        ("2024年3月15日", date(2024, 3, 15)),
        ("3月15日", date(2027, 3, 15)),
        ("下个月15号", date(2026, 12, 15)),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text, now=NOW, tz=SH) == expected


def test_a_month_later_is_clamped_to_the_month_end():
    end_of_january = datetime(2027, 1, 31, 10, 0, tzinfo=SH)
    assert parse_date("1个月后", now=end_of_january, tz=SH) == date(2027, 2, 28)
    assert parse_date("下月底", now=end_of_january, tz=SH) == date(2027, 2, 28)
    assert parse_date("下个月初", now=datetime(2026, 12, 20, tzinfo=SH), tz=SH) == date(2027, 1, 1)


@pytest.mark.parametrize("bad", ["明天下午3点", "两小时后", "下午3点", "2月30日", "某天"])
def test_parse_date_refuses_times(bad):
    with pytest.raises(ValueError) as exc:
        parse_date(bad, now=NOW, tz=SH)
    assert repr(bad) in str(exc.value)


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("15", 15), ("一", 1), ("两", 2), ("十", 10), ("十五", 15), ("二十", 20), ("二十五", 25),
     ("九十九", 99), ("一百", 100), ("一百零五", 105), ("两百", 200), ("零", 0)],
)
def test_zh_number(text, value):
    assert zh_number(text) == value


@pytest.mark.parametrize("bad", ["二三", "十十", "十百", "半", "", "x"])
def test_zh_number_rejects(bad):
    with pytest.raises(ValueError):
        zh_number(bad)
