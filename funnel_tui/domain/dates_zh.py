"""Chinese date and time phrases, the way reps write them: 明天下午3点, 下周一上午10点, 3天后,
两小时后, 月底, 下个月初, 2024年3月15日, 15点30 ….

`dates.parse_when` / `parse_date` hand any text containing a Chinese character here; the
English phrases never reach this module. A phrase is [day] [period] [clock], in that order and
at least one of them, or an offset in hours or minutes (两小时后, 半小时后, 1个半小时后).

Days:
- 今天 明天 后天 大后天 昨天 前天; 今早 今晚 明早 明晚 (a day and a period at once).
- 周X / 星期X / 礼拜X: the next such day at or after now (on a Friday morning before 09:00,
  周五 is today; after it, next Friday). 下周X is that day of next week (weeks run Monday to
  Sunday), 下下周X the week after, 本周X / 这周X this week's (possibly past). 下周 alone is next
  Monday.
- 月底 the last day of this month, 下月底 / 下个月底 of next month; 下个月初 the 1st and
  下月中 the 15th of next month. 月初 / 月中 mean this month's and are refused once past.
- 2024年3月15日 (日 or 号); 3月15日 without a year is its next occurrence (this year, or next
  year once it is past); 15号 likewise this month or next; 下个月15号. Impossible dates such as
  2月30日 are refused with the reason.
- N天后, N周后 (一周后, 两个星期后), N个月后 move the calendar like `+3d`: the wall-clock time
  stays unless a time is given; a month later is clamped to the month's end (1月31日 → 2月28日).
Periods and clocks:
- 凌晨 早上 上午 中午 下午 傍晚 晚上 (and 早晨 清晨 午后 夜里 夜间): 下午3点 = 15:00,
  晚上8点 = 20:00, 中午1点 = 13:00, 上午10点半 = 10:30; 一刻 = 15 minutes, 三刻 = 45.
- 15点30, 15点30分, 15:30, 9点 (24-hour). A spoken 1–6点 without a period is refused: 3点 is
  as likely 03:00 as 15:00. 7–12点 alone is morning or noon, as in office speech.
- A period without a clock means 09:00 (早上/上午), 12:00 (中午), 14:00 (下午), 18:00 (傍晚),
  20:00 (晚上); a day without either means `default_time` (09:00).
Numbers are Arabic (also full-width, as Chinese keyboards type them: １５：３０) or Chinese
(一 二 两 三 … 十 十五 二十 一百).
"""

from __future__ import annotations

import calendar
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from funnel_tui.domain.lazy_re import lazy_compile
from funnel_tui.i18n import _

__all__ = ["has_han", "parse_zh_when", "parse_zh_date"]

_HAN = lazy_compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_FULL_WIDTH = lazy_compile(r"[\uff01-\uff5e]")
_NUM = r"(?:\d+|[零〇一二两三四五六七八九十百]+)"
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
            "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_DAY_WORDS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3, "昨天": -1, "前天": -2,
              "今早": 0, "今晚": 0, "今夜": 0, "明早": 1, "明晚": 1, "昨晚": -1}
_DAY_PERIOD = {"今早": "早上", "今晚": "晚上", "今夜": "晚上", "明早": "早上", "明晚": "晚上", "昨晚": "晚上"}
_PERIODS = ("凌晨", "早上", "早晨", "清晨", "上午", "中午", "午后", "下午", "傍晚", "晚上", "夜里", "夜间")
# A period without a clock: when the day's part starts (None: needs an hour).
_PERIOD_DEFAULT = {"凌晨": None, "早上": time(9), "早晨": time(9), "清晨": time(9), "上午": time(9),
                   "中午": time(12), "午后": time(14), "下午": time(14), "傍晚": time(18),
                   "晚上": time(20), "夜里": time(20), "夜间": time(20)}

_HOUR_OFFSET = lazy_compile(
    rf"(?:(?P<n>{_NUM})个?(?P<half>半)?|(?P<only_half>半)个?)(?P<unit>小时|钟头|分钟)(?:以后|之后|后)")
_ISO_DAY = lazy_compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_FULL_DATE = lazy_compile(rf"(?:(\d{{4}})年)?({_NUM})月({_NUM})[日号]")
_MONTH_DAY = lazy_compile(rf"(下个?月|本月|这个?月)?({_NUM})[日号]")
_MONTH_PART = lazy_compile(r"(下个?|本|这个?)?月(底|初|中)")
_WEEKDAY_RE = lazy_compile(r"(下下|下|本|这)?个?(?:周|星期|礼拜)([一二三四五六日天1-7])")
_NEXT_WEEK = lazy_compile(r"(下下|下)个?(?:周|星期|礼拜)")
_DAY_OFFSET = lazy_compile(rf"({_NUM})(?:(天|日)|个?(周|星期|礼拜)|个(月))(?:以后|之后|后)")
_DAY_WORD = lazy_compile("|".join(sorted(_DAY_WORDS, key=len, reverse=True)))
_PERIOD = lazy_compile("|".join(_PERIODS))
_CLOCK_COLON = lazy_compile(r"(\d{1,2}):(\d{2})")
_CLOCK_SPOKEN = lazy_compile(
    rf"(?P<h>{_NUM})(?:点钟?|时)(?:(?P<half>半)|(?P<q1>一刻)|(?P<q3>三刻)|整|(?P<m>{_NUM})分?)?")

_HINT = "明天下午3点, 下周一上午10点, 周五, 3天后, 两小时后, 月底, 2024年3月15日"


class PhraseError(ValueError):
    """A phrase we understood and refuse, with the reason (not just "not a date")."""


def has_han(text: str) -> bool:
    """True when `text` is a Chinese phrase: it has a Chinese character, or full-width forms
    as a Chinese keyboard types them (１５：３０)."""
    return bool(_HAN.search(text) or _FULL_WIDTH.search(text))


def zh_number(text: str) -> int:
    """`15`, `十五`, `二十`, `两`, `一百零五` -> int (0–999). Raises ValueError otherwise."""
    if text.isdigit():
        return int(text)
    if not text:
        raise ValueError(text)
    total, digit, seen, last_unit = 0, None, False, 1000
    for ch in text:
        if ch in _DIGITS:
            if digit is not None and not seen:
                raise ValueError(text)  # 二三: two digits in a row
            digit, seen = _DIGITS[ch], False
        elif ch in "十百":
            unit = 10 if ch == "十" else 100
            if unit >= last_unit:
                raise ValueError(text)  # 十十, 十百
            last_unit = unit
            total += (1 if digit is None else digit) * unit
            digit, seen = None, False
        else:
            raise ValueError(text)
        if ch in "零〇":
            seen = True  # 一百零五: the zero only holds a place
    return total + (digit or 0)


@dataclass
class _Phrase:
    """What a phrase said, before it is placed on the rep's calendar."""

    day: date | None = None
    weekday_at_or_after: int | None = None  # 周X: resolved against now, not just today
    keeps_wall_time: bool = False  # N天后: the time of day of now, when no clock is given
    period: str | None = None
    clock: tuple[int, int] | None = None  # as written (hour maybe 1–12), before the period
    offset: timedelta | None = None  # 两小时后: absolute


def _local_now(now: datetime, tz: tzinfo) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"{now.isoformat()} has no time zone")
    return now.astimezone(tz)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:39] + "…")


def _valid_date(text: str, year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12:
        raise PhraseError(_("{text} is not a date: there is no month {month}").format(
            text=_shown(text), month=month))
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise PhraseError(_("{text} is not a date: {year}-{month:02d} has no day {day}").format(
            text=_shown(text), year=year, month=month, day=day))
    return date(year, month, day)


def _add_months(d: date, months: int) -> date:
    """The same day `months` later, clamped to that month's last day."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _first_of_next_month(d: date) -> date:
    return _add_months(d.replace(day=1), 1)


def _read_day(s: str, text: str, today: date, p: _Phrase) -> str:
    """Consume a day part at the start of `s` into `p`; return the rest."""
    if m := _ISO_DAY.match(s):
        p.day = _valid_date(text, int(m[1]), int(m[2]), int(m[3]))
    elif m := _FULL_DATE.match(s):
        month, day = zh_number(m[2]), zh_number(m[3])
        if m[1]:
            p.day = _valid_date(text, int(m[1]), month, day)
        else:  # no year: the next 3月15日 on or after today
            year = today.year if (month, day) >= (today.month, today.day) else today.year + 1
            p.day = _valid_date(text, year, month, day)
    elif m := _MONTH_PART.match(s):
        base = _first_of_next_month(today) if m[1] and m[1].startswith("下") else today.replace(day=1)
        last = calendar.monthrange(base.year, base.month)[1]
        p.day = base.replace(day={"底": last, "初": 1, "中": 15}[m[2]])
        if p.day < today:
            raise PhraseError(_("{text} is already past ({day}); for next month write 下个月{part}").format(
                text=_shown(text), day=p.day.isoformat(), part=m[2]))
    elif m := _MONTH_DAY.match(s):
        day = zh_number(m[2])
        if m[1] and m[1].startswith("下"):
            base = _first_of_next_month(today)
        elif m[1] or day >= today.day:
            base = today.replace(day=1)
        else:  # 15号 on the 20th: next month's
            base = _first_of_next_month(today)
        p.day = _valid_date(text, base.year, base.month, day)
    elif m := _WEEKDAY_RE.match(s):
        weekday = _WEEKDAY[m[2]]
        if m[1] is None:
            p.weekday_at_or_after = weekday
            p.day = today + timedelta(days=(weekday - today.weekday()) % 7)
        else:
            weeks = {"下下": 2, "下": 1, "本": 0, "这": 0}[m[1]]
            p.day = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks, days=weekday)
    elif m := _NEXT_WEEK.match(s):
        weeks = 2 if m[1] == "下下" else 1
        p.day = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks)
    elif m := _DAY_OFFSET.match(s):
        n = zh_number(m[1])
        if m[4]:
            p.day = _add_months(today, n)
        else:
            p.day = today + timedelta(days=n * 7 if m[3] else n)
        p.keeps_wall_time = True
    elif m := _DAY_WORD.match(s):
        p.day = today + timedelta(days=_DAY_WORDS[m[0]])
        p.period = _DAY_PERIOD.get(m[0])
    else:
        return s
    return s[m.end():]


def _read_clock(s: str) -> tuple[tuple[int, int] | None, bool, str]:
    """Consume a clock at the start of `s`: ((hour, minute), spoken, rest)."""
    if m := _CLOCK_COLON.match(s):
        return (int(m[1]), int(m[2])), False, s[m.end():]
    if m := _CLOCK_SPOKEN.match(s):
        minute = 30 if m["half"] else 15 if m["q1"] else 45 if m["q3"] else zh_number(m["m"]) if m["m"] else 0
        return (zh_number(m["h"]), minute), True, s[m.end():]
    return None, False, s


# Each period: the hours it may be said with, as (lowest, highest, hours to add).
_PERIOD_HOURS = {
    "凌晨": ((0, 6, 0), (12, 12, -12)),
    "早上": ((0, 12, 0),), "早晨": ((0, 12, 0),), "清晨": ((0, 12, 0),), "上午": ((0, 12, 0),),
    "中午": ((11, 12, 0), (1, 2, 12), (13, 14, 0)),
    "下午": ((1, 11, 12), (12, 18, 0)), "午后": ((1, 11, 12), (12, 18, 0)),
    "傍晚": ((4, 8, 12), (16, 20, 0)),
    "晚上": ((6, 11, 12), (18, 23, 0)), "夜里": ((6, 11, 12), (18, 23, 0)), "夜间": ((6, 11, 12), (18, 23, 0)),
}


def _hour_in_period(text: str, period: str | None, hour: int, spoken: bool) -> int:
    """The 24-hour hour for a clock said within a period (下午3点 -> 15), or refused."""
    if period is None:
        if spoken and 1 <= hour <= 6:
            raise PhraseError(_("{text}: {hour}点 could be morning or afternoon; write 上午{hour}点 or "
                                "下午{hour}点 (or {later}点)").format(text=_shown(text), hour=hour, later=hour + 12))
        return hour
    for lo, hi, add in _PERIOD_HOURS[period]:
        if lo <= hour <= hi:
            return hour + add
    raise PhraseError(_("{text}: {period}{hour}点 is not a time of day; use e.g. 下午3点, 晚上8点, 15:30").format(
        text=_shown(text), period=period, hour=hour))


def _read(text: str, today: date) -> _Phrase:
    """Parse `text` (Chinese) into a phrase; raise PhraseError or a bare ValueError."""
    s = unicodedata.normalize("NFKC", "".join(text.split()))  # full-width ３ and ： as typed by IMEs
    p = _Phrase()
    if m := _HOUR_OFFSET.fullmatch(s):
        n = 0 if m["only_half"] else zh_number(m["n"])
        half = bool(m["half"] or m["only_half"])
        if m["unit"] == "分钟":
            if half:
                raise ValueError
            p.offset = timedelta(minutes=n)
        else:
            p.offset = timedelta(hours=n, minutes=30 if half else 0)
        return p
    s = _read_day(s, text, today, p)
    if pm := _PERIOD.match(s):
        if p.period is not None:
            raise ValueError  # 今晚下午
        p.period, s = pm[0], s[pm.end():]
    clock, spoken, s = _read_clock(s)
    if s or (p.day is None and p.period is None and clock is None):
        raise ValueError
    if clock is not None:
        hour, minute = clock
        hour = _hour_in_period(text, p.period, hour, spoken)
        if hour > 23 or minute > 59:
            raise PhraseError(_("{text} is not a time of day; use e.g. 下午3点, 15:30").format(text=_shown(text)))
        p.clock = (hour, minute)
    elif p.period is not None and _PERIOD_DEFAULT[p.period] is None:
        raise PhraseError(_("{text}: say the hour, e.g. {period}2点").format(text=_shown(text), period=p.period))
    return p


def _generic(text: str, what: str) -> ValueError:
    if what == "date":
        return ValueError(_("{text} is not a date; use e.g. 明天, 周五, 下周一, 月底, 下个月初, 3天后, 2024年3月15日")
                          .format(text=_shown(text)))
    return ValueError(_("{text} is not a date or time; use e.g. {examples}").format(text=_shown(text), examples=_HINT))


def parse_zh_when(text: str, *, now: datetime, tz: tzinfo, default_time: time) -> datetime:
    """A Chinese follow-up time as an aware UTC datetime (see the module doc)."""
    local_now = _local_now(now, tz)
    try:
        p = _read(text, local_now.date())
    except PhraseError:
        raise
    except (ValueError, OverflowError):
        raise _generic(text, "when") from None
    if p.offset is not None:
        return now.astimezone(timezone.utc) + p.offset
    if p.clock is not None:
        wall = time(*p.clock)
    elif p.period is not None:
        wall = _PERIOD_DEFAULT[p.period]
    elif p.keeps_wall_time:
        wall = local_now.time().replace(tzinfo=None)
    else:
        wall = default_time
    day = p.day or local_now.date()
    result = datetime.combine(day, wall, tzinfo=tz)
    if p.weekday_at_or_after is not None and result < local_now:
        result = datetime.combine(day + timedelta(days=7), wall, tzinfo=tz)
    return result.astimezone(timezone.utc)


def parse_zh_date(text: str, *, now: datetime, tz: tzinfo) -> date:
    """A Chinese calendar date (e.g. expected close): days, weekdays, month ends, full dates,
    N天后 / N周后 / N个月后. A time of day or an hour offset is refused: a date has none."""
    today = _local_now(now, tz).date()
    try:
        p = _read(text, today)
    except PhraseError:
        raise
    except (ValueError, OverflowError):
        raise _generic(text, "date") from None
    if p.day is None or p.offset is not None or p.clock is not None or p.period is not None:
        raise _generic(text, "date")
    return p.day


# --- showing dates the Chinese way --------------------------------------------------------------

WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def format_zh(dt: datetime, tz: tzinfo, *, with_time: bool = True, weekday: bool = True,
              year: bool = False) -> str:
    """A moment as a Chinese rep reads it, in local time: `11月24日 周二 10:00`, with the year
    (`2026年11月24日 …`) when asked; `with_time=False` drops the clock, `weekday=False` the 周X."""
    local = dt.astimezone(tz)
    text = f"{local.year}年" if year else ""
    text += f"{local.month}月{local.day}日"
    if weekday:
        text += f" {WEEKDAYS_ZH[local.weekday()]}"
    if with_time:
        text += f" {local:%H:%M}"
    return text


def format_zh_date(d: date, *, year: bool = True) -> str:
    """A calendar date: `2026年12月31日` (or `12月31日`)."""
    return (f"{d.year}年" if year else "") + f"{d.month}月{d.day}日"
