"""Values as tools and locales write them: amounts, currencies, probabilities, dates.

Every case is written out by hand: the text as a tool writes it, and what a person means by it.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from funnel_tui.domain.validation import FieldError
from funnel_tui.exchange.amounts import COMMA, POINT, AmountColumn, Money
from funnel_tui.exchange.calendar_dates import DateColumn
from funnel_tui.exchange.currencies import code_of_column, settle_currency
from funnel_tui.exchange.probabilities import ProbabilityColumn

SHANGHAI = ZoneInfo("Asia/Shanghai")
USD_LIKE = ("USD", "CAD", "AUD", "HKD", "SGD", "NZD", "TWD", "MXN")


def read(cells, cell=None, **kw):
    col = AmountColumn(allow_negative=True, **kw)
    col.observe(cells)
    return col.read(cells[0] if cell is None else cell)


@pytest.mark.parametrize("text, minor, currency", [
    ("USD 485,000.00", 48_500_000, "USD"),
    ("485,000.00 USD", 48_500_000, "USD"),
    ("RMB 120000", 12_000_000, "CNY"),
    ("CN¥1,200.50", 120_050, "CNY"),
    ("€ 12.000,00", 1_200_000, "EUR"),
    ("US$ 99", 9_900, "USD"),
    ("1.234,56", 123_456, None),
    ("1,234.56", 123_456, None),
    ("12 000,50", 1_200_050, None),
    ("12\u00a0000,50", 1_200_050, None),  # no-break space (fr_FR)
    ("12\u202f000,50", 1_200_050, None),  # narrow no-break space (fr_FR since CLDR 34)
    ("1'234.56", 123_456, None),  # de_CH
    ("1’234.56", 123_456, None),
    ("12.5万", 12_500_000, None),
    ("12.5万元", 12_500_000, "CNY"),
    ("3亿", 30_000_000_000, None),
    ("12k", 1_200_000, None),
    ("3w", 3_000_000, None),
    ("1.2E+05", 12_000_000, None),
    ("1,5E+03", 150_000, None),
    ("-5", -500, None), ("−5", -500, None), ("(5.25)", -525, None), ("5-", -500, None),
    ("-$1,234.56", -123_456, None), ("USD -12", -1_200, "USD"),
    ("1,234,567", 123_456_700, None), ("1.234.567", 123_456_700, None),
    ("100 美元", 10_000, "USD"), ("５００元", 50_000, "CNY"),  # full-width digits
    (".5", 50, None), ("0", 0, None), ("12,50", 1_250, None), ("1,2", 120, None),
])
def test_amounts_as_written(text, minor, currency):
    m = read([text])
    assert (m.minor, m.currency) == (minor, currency)


def test_a_shared_sign_is_left_to_the_row():
    assert read(["$1,234.56"]) == Money(123_456, None, USD_LIKE, "$")
    assert read(["¥ 1,200.00"]) == Money(120_000, None, ("CNY", "JPY"), "¥")
    assert read(["￥1,200.00"]).candidates == ("CNY", "JPY")  # full-width yen sign


@pytest.mark.parametrize("cells, cell, minor", [
    (["1.234,56", "12.000,00", "12.000"], "12.000", 1_200_000),  # the example: decimal comma
    (["1.234,56", "12.000"], "1.234", 123_400),
    (["1,234.56", "12.000"], "12.000", 1_200),
    (["12,50", "12,000"], "12,000", 1_200),  # decimal comma: 12,000 is twelve
    (["12.50", "12,000"], "12,000", 1_200_000),
])
def test_an_ambiguous_value_follows_its_column(cells, cell, minor):
    assert read(cells, cell).minor == minor


@pytest.mark.parametrize("cells", [["12.000"], ["12,000", "5"], ["1,234.56", "1.234,56", "12.000"]])
def test_an_ambiguous_value_the_column_cannot_decide_is_refused_naming_the_options(cells):
    with pytest.raises(FieldError) as err:
        read(cells, cells[-1] if cells[-1] != "5" else cells[0])
    assert "--decimal-comma" in err.value.message and "--decimal-point" in err.value.message
    assert "12000" in err.value.message and "12 " in err.value.message + " "


def test_the_reps_option_decides_and_refuses_what_contradicts_it():
    assert read(["12.000"], decimal=COMMA).minor == 1_200_000
    assert read(["12.000"], decimal=POINT).minor == 1_200
    with pytest.raises(FieldError, match="decimal comma, but --decimal-point"):
        read(["1.234,56"], decimal=POINT)


@pytest.mark.parametrize("text, why", [
    ("12.345", "more than 2 decimal places"),  # decided as a decimal point by 1,234.56 below
    ("abc", "not a currency code"), ("1,00,000", "groups its digits wrongly"),
    ("€5 USD", "two currencies"), ("USD", "no number"), ("1.5E+12", "Excel shortens"),
    ("99999999999999999", "too large"), ("1.2.3,4.5", "order no locale writes"),
])
def test_amounts_refused_with_the_reason(text, why):
    with pytest.raises(FieldError) as err:
        read(["1,234.56", text], text)
    assert why in err.value.message


def test_a_deal_amount_is_never_negative_and_fits_64_bit():
    with pytest.raises(FieldError, match="negative"):
        AmountColumn().read("-5")
    col = AmountColumn(allow_negative=True, max_minor=1 << 70)
    with pytest.raises(FieldError, match="64-bit"):
        col.read("100000000000000000")  # 1e17 major units = 1e19 minor > 2^63 - 1
    assert col.read("92233720368547758.07").minor == (1 << 63) - 1


def test_workbook_numbers_and_a_wan_column():
    assert AmountColumn().read(Decimal("485000.5")) == Money(48_500_050)
    wan = AmountColumn(scale=Decimal(10_000), unit_currency="CNY")
    assert wan.read("12.5") == Money(12_500_000, "CNY")
    assert wan.read("0.35") == Money(350_000, "CNY")
    with pytest.raises(FieldError, match="own scale"):
        wan.read("3万")
    with pytest.raises(FieldError, match="column is in CNY"):
        wan.read("USD 3")


def test_currency_settled_per_row():
    assert settle_currency("USD", (), None) == "USD"
    assert settle_currency(None, USD_LIKE, "CAD", sign="$") == "CAD"
    assert settle_currency(None, ("CNY", "JPY"), None, profile_signs={"¥": "CNY"}, sign="¥") == "CNY"
    assert settle_currency(None, USD_LIKE, None, sign="$", assume="USD") == "USD"
    assert settle_currency(None, (), "EUR") == "EUR" and settle_currency(None, (), None) is None
    with pytest.raises(ValueError, match="--currency USD"):
        settle_currency(None, USD_LIKE, None, sign="$")
    with pytest.raises(ValueError, match="says USD but the currency column says EUR"):
        settle_currency("USD", (), "EUR")
    with pytest.raises(ValueError, match="cannot be EUR"):
        settle_currency(None, ("CNY", "JPY"), "EUR", sign="¥")
    assert [code_of_column(c) for c in ("usd", "RMB", "人民币", "€", " EUR ", "")] == \
        ["USD", "CNY", "CNY", "EUR", "EUR", None]
    with pytest.raises(ValueError, match="sign of USD"):
        code_of_column("$")


# --- probabilities ------------------------------------------------------------------------


def probs(cells, scale=None):
    col = ProbabilityColumn(scale=scale)
    col.observe(cells)
    return [None if (p := col.read(c)) is None else tuple(p) for c in cells]


def test_probabilities_as_written():
    assert probs(["40%", "40 %", "40.0", "60.00", "33,5", "", "100"]) == \
        [(40, False), (40, False), (40, False), (60, False), (34, True), None, (100, False)]


def test_a_fraction_only_when_the_whole_column_is_fractions():
    assert probs(["0.4", "1", "0", "0.75"]) == [(40, False), (100, False), (0, False), (75, False)]
    assert probs(["0.4", "60"]) == [(0, True), (60, False)]  # a percent column: 0.4 % rounds to 0
    assert probs(["1"], scale="fraction") == [(100, False)]
    with pytest.raises(FieldError, match="1% or 100%"):
        probs(["0", "1"])


def test_rounding_is_counted_and_range_checked():
    assert probs(["33.33", "66.67", "12.5"]) == [(33, True), (67, True), (13, True)]
    for bad in ("140", "-5", "high", "0.4.1"):
        with pytest.raises(FieldError):
            probs(["50", bad])


# --- dates --------------------------------------------------------------------------------


def moment(y, mo, d, h=0, mi=0, tz=SHANGHAI):
    return datetime(y, mo, d, h, mi, tzinfo=tz).astimezone(timezone.utc)


@pytest.mark.parametrize("text, expected", [
    ("2024-03-15", moment(2024, 3, 15)),
    ("2024-03-15T15:16:00+08:00", moment(2024, 3, 15, 15, 16)),
    ("2024-03-15T07:16:00Z", moment(2024, 3, 15, 15, 16)),
    ("2024-03-15 15:16", moment(2024, 3, 15, 15, 16)),
    ("2024-03-15T15:16:00.000+0800", moment(2024, 3, 15, 15, 16)),
    ("2024/6/14 15:16", moment(2024, 6, 14, 15, 16)),  # Excel re-saving our template
    ("2024.06.14", moment(2024, 6, 14)),
    ("20240315", moment(2024, 3, 15)),
    ("2024年3月15日", moment(2024, 3, 15)),
    ("2024年3月15日 15:16", moment(2024, 3, 15, 15, 16)),
    ("2024年3月15日15时16分", moment(2024, 3, 15, 15, 16)),
    ("Mar 15, 2024", moment(2024, 3, 15)),
    ("March 15 2024 3:16 PM", moment(2024, 3, 15, 15, 16)),
    ("15 Mar 2024", moment(2024, 3, 15)),
    ("15-Mar-24", moment(2024, 3, 15)),
    ("Fri, 15 Mar 2024 10:00", moment(2024, 3, 15, 10)),
    ("45366", moment(2024, 3, 15)),  # Excel serial
    ("45366.5", moment(2024, 3, 15, 12)),
    ("15/03/2024", moment(2024, 3, 15)),  # only d/m/y reads it
    ("03/15/2024 3:16 pm", moment(2024, 3, 15, 15, 16)),  # only m/d/y reads it
    ("15.03.2024", moment(2024, 3, 15)),
    ("03/03/2024", moment(2024, 3, 3)),  # every order reads the same day
])
def test_dates_as_written(text, expected):
    assert DateColumn("created_at", SHANGHAI).read(text) == expected


def test_workbook_cells_and_expected_close_dates():
    col = DateColumn("created_at", SHANGHAI)
    assert col.read(datetime(2024, 3, 15, 15, 16)) == moment(2024, 3, 15, 15, 16)
    assert col.read(date(2024, 3, 15)) == moment(2024, 3, 15)
    assert col.read(Decimal("45366")) == moment(2024, 3, 15)
    close = DateColumn("expected_close", SHANGHAI, want="date")
    assert close.read("03/15/2024") == date(2024, 3, 15)
    # An offset is honoured: 16:00 UTC is already the next day in Shanghai.
    assert close.read("2024-06-30T16:00:00.000Z") == date(2024, 7, 1)
    assert close.read("2024-06-30 23:30") == date(2024, 6, 30)  # no offset: local wall time


def test_day_month_order_from_the_whole_column():
    col = DateColumn("expected_close", SHANGHAI, want="date")
    col.observe(["15/03/2024", "03/04/2024"])
    assert col.decided == "dmy" and col.read("03/04/2024") == date(2024, 4, 3)
    col = DateColumn("expected_close", SHANGHAI, want="date")
    col.observe(["03/15/2024", "03/04/2024"])
    assert col.read("03/04/2024") == date(2024, 3, 4)


@pytest.mark.parametrize("cells", [["03/04/2024"], ["15/03/2024", "03/15/2024", "03/04/2024"],
                                   ["01/02/03"]])
def test_an_order_the_column_cannot_decide_is_refused_naming_the_option(cells):
    col = DateColumn("expected_close", SHANGHAI, want="date")
    col.observe(cells)
    with pytest.raises(FieldError) as err:
        col.read(cells[-1])
    assert "--date-order dmy, mdy or ymd" in err.value.message


def test_date_order_option_and_refusals():
    col = DateColumn("expected_close", SHANGHAI, want="date", order="mdy")
    assert col.read("03/04/2024") == date(2024, 3, 4)
    with pytest.raises(FieldError, match="not a real date in mdy order"):
        col.read("15/03/2024")
    assert DateColumn("x", SHANGHAI, want="date", order="ymd").read("24/03/15") == date(2024, 3, 15)
    for bad in ("2024-02-30", "yesterday", "2024", "13:00", "31/31/2024", "25:00 2024-01-01"):
        with pytest.raises(FieldError):
            DateColumn("created_at", SHANGHAI).read(bad)


def test_dst_zone_local_times():
    berlin = ZoneInfo("Europe/Berlin")
    col = DateColumn("created_at", berlin)
    assert col.read("2024-07-01 12:00") == datetime(2024, 7, 1, 10, 0, tzinfo=timezone.utc)
    assert col.read("2024-01-01 12:00") == datetime(2024, 1, 1, 11, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("zone", "cell"), [
    ("UTC", "9999-12-31T23:59:59-05:30"),  # our export's shape, past the end once in UTC
    ("UTC", "0001-01-01T00:00:00+05:00"),  # before the start
    ("America/New_York", "9999-12-31 23:59"),  # a local time the rep's zone carries past the end
    ("UTC", "9999-12-31T23:59:59.5-01:00"),
])
def test_a_time_outside_the_calendar_in_utc_is_refused_not_a_crash(zone, cell):
    col = DateColumn("created_at", ZoneInfo(zone))
    with pytest.raises(FieldError, match="outside the calendar once in UTC"):
        col.read(cell)
    got, rest = DateColumn("created_at", ZoneInfo(zone)).read_many([cell, "2024-03-15T15:16:00+08:00"])
    assert cell in rest and cell not in got  # the column-at-once path leaves it to read()
    assert got["2024-03-15T15:16:00+08:00"] == datetime(2024, 3, 15, 7, 16, tzinfo=timezone.utc)
    assert DateColumn("created_at", ZoneInfo(zone)).read("9999-12-31T00:00:00+00:00").year == 9999  # inside: kept
