"""Property tests: a value written in any supported convention is read exactly or refused.

Hypothesis writes amounts and dates the way tools and locales do — every decimal mark and
thousands separator, currency codes and signs before or after, 万 and k, scientific notation,
negative forms; ISO, y/m/d, d/m/y, m/d/y, d.m.y, 年月日, month names, two-digit years, Excel
serials, with and without times — and the readers must give back exactly what was written, or a
FieldError. Never a different value.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from funnel_tui.domain.validation import TEXT_FIELDS, FieldError, validate_field
from funnel_tui.exchange.amounts import AmountColumn
from funnel_tui.exchange.calendar_dates import DateColumn
from funnel_tui.exchange.import_rows import CleanText
from funnel_tui.exchange.reading import ExternalIdReader, TextReader

GROUPS = {"point": ["", ",", " ", "\u00a0", "\u202f", "'"], "comma": ["", ".", " ", "\u00a0", "\u202f"]}
CODES = ["USD", "EUR", "CNY", "JPY", "GBP"]
SIGNS = {"€": "EUR", "US$": "USD", "CN¥": "CNY", "£": "GBP", "RMB": "CNY", "元": "CNY"}


def grouped(digits: str, sep: str) -> str:
    if not sep:
        return digits
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)]
    return sep.join(parts)


@st.composite
def written_amounts(draw):
    # Whole amounts and round thousands are what files hold most (and where 12.000 is ambiguous).
    minor = draw(st.one_of(st.integers(min_value=0, max_value=10**14),
                           st.integers(min_value=0, max_value=10**9).map(lambda x: x * 100),
                           st.integers(min_value=0, max_value=10**6).map(lambda x: x * 100_000)))
    negative = draw(st.booleans()) and minor > 0
    mark = draw(st.sampled_from(["point", "comma"]))
    sep = draw(st.sampled_from(GROUPS[mark]))
    whole, cents = divmod(minor, 100)
    style = draw(st.sampled_from(["plain", "plain", "wan", "k", "sci"]))
    body = None
    if style == "wan" and minor % 100 == 0 and whole % 100 == 0:
        w = Decimal(whole) / 10_000
        text = format(w.normalize(), "f")
        body = (text.replace(".", ",") if mark == "comma" else text) + draw(st.sampled_from(["万", "w"]))
    elif style == "k" and minor % 100 == 0 and whole % 10 == 0:
        k = Decimal(whole) / 1000
        text = format(k.normalize(), "f")
        body = (text.replace(".", ",") if mark == "comma" else text) + draw(st.sampled_from(["k", "K"]))
    elif style == "sci" and 0 < whole < 10**10 and cents == 0:
        digits = str(whole).rstrip("0") or "0"
        exp = len(str(whole)) - 1
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        body = (mant.replace(".", ",") if mark == "comma" else mant) + f"E+{exp:02d}"
    if body is None:
        body = grouped(str(whole), sep)
        if cents or draw(st.booleans()):
            body += ("." if mark == "point" else ",") + f"{cents:02d}"
    currency = None
    where = draw(st.sampled_from(["none", "code-before", "code-after", "sign-before", "sign-after"]))
    if where.startswith("code"):
        currency = draw(st.sampled_from(CODES))
        token = currency
    elif where.startswith("sign"):
        token = draw(st.sampled_from(sorted(SIGNS)))
        currency = SIGNS[token]
    space = draw(st.sampled_from(["", " "]))
    if where.endswith("before"):
        body = f"{token}{space}{body}"
    elif where.endswith("after"):
        body = f"{body}{space}{token}"
    if negative:
        body = draw(st.sampled_from([f"-{body}", f"({body})", f"{body}-", f"\u2212{body}"]))
    return body, (-minor if negative else minor), currency, mark


@settings(max_examples=600, deadline=None)
@given(written_amounts(), st.sampled_from(["alone", "told", "column"]))
def test_an_amount_is_read_exactly_or_refused(case, how):
    text, minor, currency, mark = case
    col = AmountColumn(allow_negative=True, max_minor=1 << 62, decimal=mark if how == "told" else None)
    if how == "column":  # the column holds a value that shows its decimal mark
        col.observe([text, "1.234,56" if mark == "comma" else "1,234.56"])
    try:
        got = col.read(text)
    except FieldError:
        return
    assert (got.minor, got.currency) == (minor, currency), text


FORMS = ["iso", "iso-t-offset", "ymd-slash", "dmy-slash", "dmy-dot", "dmy-dash", "mdy-slash", "chinese",
         "month-first", "day-first", "dmy-2digit", "mdy-2digit", "serial", "compact"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
ZONES = [ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), timezone.utc]


@st.composite
def written_dates(draw, forms=FORMS):
    form = draw(st.sampled_from(forms))
    two_digit = form.endswith("2digit")
    day = draw(st.dates(min_value=datetime(1930 if two_digit else 1950, 1, 1).date(),
                        max_value=datetime(2029 if two_digit else 2099, 12, 31).date()))
    with_time = draw(st.booleans()) and form not in ("compact",)
    clock = time(draw(st.integers(0, 23)), draw(st.integers(0, 59))) if with_time else None
    y, m, d = day.year, day.month, day.day
    hhmm = f"{clock:%H:%M}" if clock else ""
    offset = None
    if form == "iso":
        text = f"{day.isoformat()}" + (f" {hhmm}" if clock else "")
    elif form == "iso-t-offset":
        clock = clock or time(0)
        minutes = draw(st.sampled_from([0, 480, -300, 330]))
        offset = timezone(timedelta(minutes=minutes))
        sign = "+" if minutes >= 0 else "-"
        text = f"{day.isoformat()}T{clock:%H:%M}:00{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    elif form == "ymd-slash":
        text = f"{y}/{m}/{d}" + (f" {hhmm}" if clock else "")
    elif form in ("dmy-slash", "dmy-dot", "dmy-dash"):
        s = {"dmy-slash": "/", "dmy-dot": ".", "dmy-dash": "-"}[form]
        text = f"{d:02d}{s}{m:02d}{s}{y}" + (f" {hhmm}" if clock else "")
    elif form == "mdy-slash":
        text = f"{m}/{d}/{y}" + (f" {clock:%I:%M %p}" if clock else "")
    elif form == "chinese":
        text = f"{y}年{m}月{d}日" + (f" {hhmm}" if clock else "")
    elif form == "month-first":
        text = f"{MONTHS[m - 1]} {d}, {y}" + (f" {hhmm}" if clock else "")
    elif form == "day-first":
        text = f"{d} {MONTHS[m - 1]} {y}" + (f" {hhmm}" if clock else "")
    elif form == "dmy-2digit":
        text = f"{d}/{m}/{y % 100:02d}"
        clock = None
    elif form == "mdy-2digit":
        text = f"{m}/{d}/{y % 100:02d}"
        clock = None
    elif form == "serial":
        serial = (day - datetime(1899, 12, 30).date()).days
        text = str(serial)
        if clock:
            frac = Decimal(clock.hour * 3600 + clock.minute * 60) / 86400
            text = str((serial + frac).quantize(Decimal("1E-10")))
    else:
        text = f"{y:04d}{m:02d}{d:02d}"
    return text, day, clock, offset


@settings(max_examples=600, deadline=None)
@given(written_dates(), st.sampled_from(ZONES))
def test_a_date_is_read_exactly_or_refused(case, tz):
    text, day, clock, offset = case
    try:
        got = DateColumn("created_at", tz).read(text)
    except FieldError:
        return
    expected = datetime.combine(day, clock or time(0), tzinfo=offset or tz).astimezone(timezone.utc)
    assert got == expected, text
    # As a calendar date (expected close): the day in the rep's zone, an offset honoured.
    assert DateColumn("expected_close", tz, want="date").read(text) == \
        (expected.astimezone(tz).date() if offset else day), text


# Forms that fix their own order, and the numeric forms of one day/month order: one column is
# written by one tool in one locale, so it never mixes d/m/y with m/d/y.
FIXED = ["iso", "iso-t-offset", "ymd-slash", "chinese", "month-first", "day-first", "serial", "compact"]
ORDERED = [["dmy-slash", "dmy-dot", "dmy-dash", "dmy-2digit"], ["mdy-slash", "mdy-2digit"]]


@st.composite
def one_column(draw):
    numeric = draw(st.sampled_from(ORDERED))
    return draw(st.lists(written_dates(FIXED + numeric), min_size=1, max_size=6))


@settings(max_examples=300, deadline=None)
@given(one_column(), st.sampled_from(ZONES))
def test_dates_in_one_column_are_read_exactly_or_refused(cases, tz):
    col = DateColumn("created_at", tz)
    col.observe([c[0] for c in cases])
    for text, day, clock, offset in cases:
        try:
            got = col.read(text)
        except FieldError:
            continue
        expected = datetime.combine(day, clock or time(0), tzinfo=offset or tz).astimezone(timezone.utc)
        assert got == expected, (text, [c[0] for c in cases])


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(2099, 12, 31)),
       st.integers(-14 * 60, 14 * 60), st.sampled_from(ZONES),
       st.sampled_from(["T", " ", "t"]), st.sampled_from(["", "x", "+1", "Z"]))
def test_a_date_column_read_at_once_reads_what_cell_by_cell_reads(moment, offset, tz, sep, junk):
    """DateColumn.read_many (the import's loop over a column) gives read()'s values, and leaves
    every cell it does not read itself to read()."""
    zone = timezone(timedelta(minutes=offset))
    text = moment.replace(microsecond=0, tzinfo=zone).isoformat(sep)
    cells = {text, text[:-6], text + junk, text[:19] + junk, text.replace("-", "/", 1), ""}
    col = DateColumn("created_at", tz)
    got, rest = col.read_many(cells)
    assert set(got) | set(rest) == cells and not set(got) & set(rest)
    for cell, value in got.items():
        assert value == col.read(cell) and value.tzinfo is timezone.utc
    assert text in got or sep != "T" or len(text) != 25


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(TEXT_FIELDS)), st.sets(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30) | st.sampled_from(
        ["  Acme  ", "a@b.co", " 华信\n科技 ", "e\u0301", "x\u200by", "'=1+1", "'Acme", "\t=1", "a\u3000b", "x" * 300]),
    max_size=8))
def test_a_text_column_read_at_once_reads_what_cell_by_cell_reads(name, cells):
    """CleanText.read_many (the import's loop over a text column) gives read()'s values, and
    leaves every cell it does not read itself to read()."""
    col = CleanText(ExternalIdReader("x:") if name == "external_id" else TextReader(name), name,
                    lambda field, text: validate_field(field, text))
    got, rest = col.read_many(cells)
    assert set(got) | set(rest) == cells and not set(got) & set(rest)
    for cell, value in got.items():
        assert value == col.read(cell) and type(value) is str


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1, 1, 1)), st.sampled_from(["", "x", "T09:00", " 09:00+08:00"]), st.sampled_from(ZONES))
def test_a_day_column_read_at_once_reads_what_cell_by_cell_reads(day, junk, tz):
    """DateColumn.read_many of a day column (expected close) gives read()'s days."""
    text = day.isoformat()
    cells = {text, text + junk, text.replace("-", "/"), text[:8] + "32", text[:5] + "13" + text[7:], "", "２０２４-01-01"}
    col = DateColumn("expected_close", tz, "date")
    got, rest = col.read_many(cells)
    assert set(got) | set(rest) == cells and not set(got) & set(rest) and text in got
    for cell, value in got.items():
        assert value == col.read(cell) and type(value) is date
