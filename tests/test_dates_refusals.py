"""Issue 13: date typos are refused with the reason — more than five years away, a year typed
as a span (`2026w`), a follow-up in the past — and a weekday phrase means its next occurrence
at or after now, in English and in Chinese alike."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from funnel_tui.domain.dates import DateRefused, parse_date, parse_follow_up, parse_when

SH = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=SH)  # a Tuesday
WED_0018 = datetime(2026, 11, 25, 0, 18, tzinfo=SH)  # the Wednesday, 00:18


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("wed 10:00", local(2026, 11, 25, 10, 0)),  # today: 10:00 is still ahead
    ("wed", local(2026, 11, 25, 9, 0)),  # today 09:00
    ("wednesday 00:10", local(2026, 12, 2, 0, 10)),  # passed 8 minutes ago: next week's
    ("wed 0:18", local(2026, 11, 25, 0, 18)),  # exactly now counts
    ("thu", local(2026, 11, 26, 9, 0)),
    ("tue", local(2026, 12, 1, 9, 0)),
    ("周三上午10点", local(2026, 11, 25, 10, 0)),  # the Chinese rule is the same
    ("周三", local(2026, 11, 25, 9, 0)),
    ("星期三0点10分", local(2026, 12, 2, 0, 10)),
])
def test_a_weekday_is_its_next_occurrence_at_or_after_now(text, expected):
    assert parse_when(text, now=WED_0018, tz=SH) == expected


@pytest.mark.parametrize(("text", "expected"), [("wed", date(2026, 11, 25)), ("周三", date(2026, 11, 25)),
                                                ("tue", date(2026, 12, 1)), ("周二", date(2026, 12, 1))])
def test_as_a_date_a_weekday_today_is_today(text, expected):
    assert parse_date(text, now=WED_0018, tz=SH) == expected


@pytest.mark.parametrize("text", ["2026w", "2026 weeks", "2027d", "1999w"])
def test_a_year_typed_as_a_span_is_refused_as_such(text):
    with pytest.raises(DateRefused, match="looks like a year; write a date such as"):
        parse_when(text, now=NOW, tz=SH)
    with pytest.raises(DateRefused, match="looks like a year"):
        parse_date(text, now=NOW, tz=SH)


@pytest.mark.parametrize(("text", "day"), [
    ("+300w", "2032-08-24"), ("+2000d", "2032-05-16"), ("2035-01-01", "2035-01-01"),
    ("2021-11-23 10:00", "2021-11-23"), ("2032-01-01T09:00+08:00", "2032-01-01"),
    ("300周后", "2032-08-24"), ("2040年1月1日", "2040-01-01"), ("100个月后", "2035-03-24"),
])
def test_more_than_five_years_away_is_refused_with_the_day_it_would_be(text, day):
    with pytest.raises(DateRefused) as exc:
        parse_when(text, now=NOW, tz=SH)
    assert str(exc.value) == f"{text!r} would be {day}, more than 5 years away; check the year or the unit"


def test_five_years_is_the_edge_and_reports_may_look_further():
    assert parse_when("2031-11-24", now=NOW, tz=SH) == local(2031, 11, 24, 9, 0)
    assert parse_when("+260w", now=NOW, tz=SH) == local(2031, 11, 18, 10, 0)
    assert parse_date("2021-11-24", now=NOW, tz=SH) == date(2021, 11, 24)
    with pytest.raises(DateRefused):
        parse_date("2031-11-25", now=NOW, tz=SH)
    assert parse_when("2015-01-01", now=NOW, tz=SH, horizon=None) == local(2015, 1, 1, 9, 0)
    assert parse_date("2040-01-01", now=NOW, tz=SH, horizon=None) == date(2040, 1, 1)


@pytest.mark.parametrize("text", ["yesterday", "today", "today 9:59", "2026-11-01", "昨天", "今天上午9点", "-1d"])
def test_a_follow_up_in_the_past_is_refused(text):
    try:
        expected = parse_when(text, now=NOW, tz=SH)
    except ValueError:
        with pytest.raises(ValueError):  # "-1d" is no phrase at all
            parse_follow_up(text, now=NOW, tz=SH)
        return
    with pytest.raises(DateRefused, match="in the past; a follow-up lies ahead"):
        parse_follow_up(text, now=NOW, tz=SH)
    assert parse_follow_up(text, now=NOW, tz=SH, allow_past=True) == expected


@pytest.mark.parametrize("text", ["now", "today 10:00", "today 15:00", "+1m", "明天", "tue 10:00"])
def test_now_and_later_are_fine_for_a_follow_up(text):
    assert parse_follow_up(text, now=NOW, tz=SH) == parse_when(text, now=NOW, tz=SH)


def test_refusals_speak_chinese(monkeypatch):
    from funnel_tui import i18n

    with i18n.using("zh"):
        with pytest.raises(DateRefused) as exc:
            parse_follow_up("yesterday", now=NOW, tz=SH)
        assert "过去" in str(exc.value)
        with pytest.raises(DateRefused) as exc:
            parse_when("2026w", now=NOW, tz=SH)
        assert "年份" in str(exc.value)
        with pytest.raises(DateRefused) as exc:
            parse_when("+300w", now=NOW, tz=SH)
        assert "5" in str(exc.value) and "年" in str(exc.value)


def test_the_command_line_refuses_and_past_allows(funnel, store):
    deal = store.add_deal({"customer": "Acme"}, now=NOW)
    code, out, err = funnel("follow-up", str(deal), "yesterday")
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("funnel: when: 'yesterday' is 2026-11-23 09:00, in the past") and "--past" in err
    assert store.deal_follow_ups(deal) == []
    code, out, err = funnel("follow-up", str(deal), "2026w")
    assert code == 1 and "looks like a year" in err and store.deal_follow_ups(deal) == []
    code, out, err = funnel("follow-up", str(deal), "yesterday", "--past")
    assert code == 0, err
    assert store.deal_follow_ups(deal)[0]["due_at"] == local(2026, 11, 23, 9, 0)
    code, _, err = funnel("add", "Beta", "--follow-up", "today 09:00")
    assert code == 1 and "follow-up:" in err and len(store.list_deals()) == 1  # nothing written
    fid = store.deal_follow_ups(deal)[0]["id"]
    assert funnel("snooze", str(fid), "+300w")[0] == 1
    assert funnel("done", str(fid), "--next", "yesterday 15:00")[0] == 1
    assert funnel("log", str(deal), "hi", "--next", "周一")[0] == 0  # next Monday: fine
    code, out, err = funnel("summary", "--since", "2019-01-01", "--format", "json")
    assert code == 0, err  # a report may look back further than five years
    assert store.deal_follow_ups(deal, open_only=True)[-1]["due_at"] == local(2026, 11, 30, 9, 0)
