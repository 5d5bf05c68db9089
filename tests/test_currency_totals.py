"""Money in several currencies is never summed as one number: totals per currency, converted only
at the rates the rep set, exactly (Decimal on integer minor units). Hand-computed cases, then
the store (board headers, summary, its JSON and CSV) and `funnel settings rate`."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from funnel_tui.domain.currency_totals import (
    RateError,
    Rates,
    column_totals,
    format_total,
    parse_code,
    parse_rate,
    total,
)
from funnel_tui.domain.money import format_compact, format_money

USD_EUR = Rates("CNY", {"USD": Decimal("7.1"), "EUR": Decimal("7.85")})


def test_one_currency_is_its_own_total():
    t = total({"CNY": 1_250_000}, Rates())
    assert (t.in_base, t.mixed, t.converted, t.missing) == (1_250_000, False, (), ())
    assert total({}, Rates()).in_base == 0


def test_a_currency_without_a_rate_is_never_summed():
    t = total({"CNY": 1_000_00, "USD": 200_00}, Rates())
    assert t.in_base is None and t.missing == ("USD",) and t.by_currency == {"CNY": 1_000_00, "USD": 200_00}
    assert format_total(t.by_currency, Rates(), format_money) == "1,000 CNY + 200 USD"


def test_rates_convert_exactly_and_round_half_up_once_per_currency():
    # 200.00 USD × 7.1 = 1,420.00 CNY; 0.01 EUR × 7.85 = 0.0785 CNY → 0.08 (half up of 7.85 fen)
    t = total({"CNY": 1_000_00, "USD": 200_00, "EUR": 1}, USD_EUR)
    assert t.in_base == 1_000_00 + 1_420_00 + 8 and t.converted == ("EUR", "USD") and t.missing == ()
    assert format_total(t.by_currency, USD_EUR, format_money) == "≈2,420.08"
    # 0.02 EUR × 7.85 = 0.157 → 0.16; 12,345,678.91 USD × 7.1 = 87,654,320.261 → .26
    assert USD_EUR.convert(2, "EUR") == 16 and USD_EUR.convert(1_234_567_891, "USD") == 8_765_432_026
    # Past 2**53 (where a float would lose fen) the arithmetic stays exact.
    big = 9_007_199_254_740_993
    assert Rates("CNY", {"USD": Decimal("1.5")}).convert(big, "USD") == 13_510_798_882_111_490  # .5 rounds up


def test_one_currency_sums_in_itself_and_others_without_a_rate_stay_apart():
    from funnel_tui.domain.currency_totals import one_currency

    assert one_currency(Rates(), ["USD", "USD"]) == Rates("USD") and one_currency(USD_EUR, ["USD", "CNY"]) is USD_EUR
    assert total({"USD": 300_000}, Rates("USD")).in_base == 300_000
    assert format_total({"USD": 300_000}, Rates(), format_compact) == "3k USD"
    assert format_total({"USD": 300_000, "EUR": 100_000}, Rates(), format_compact, sep="\n") == "1k EUR\n3k USD"


def test_column_totals_keep_counts_and_the_rates_they_used():
    by = {"CNY": {"count": 2, "amount": 100_00, "weighted": 50_00}, "USD": {"count": 1, "amount": 10_00, "weighted": 1_00}}
    assert column_totals(by, Rates())["amount"] is None
    got = column_totals(by, USD_EUR)
    assert (got["count"], got["amount"], got["weighted"]) == (3, 100_00 + 71_00, 50_00 + 7_10)
    assert got["rates"] == {"USD": "7.1", "EUR": "7.85"} and got["base"] == "CNY"


@pytest.mark.parametrize("text, value", [("7.1", Decimal("7.1")), (" 0.138 ", Decimal("0.138")),
                                         ("7,25", Decimal("7.25")), ("1e2", Decimal("100"))])
def test_rates_are_read_exactly(text, value):
    assert parse_rate(text) == value and isinstance(parse_rate(text), Decimal)


@pytest.mark.parametrize("text, why", [("0", "positive"), ("-7", "positive"), ("abc", "not a rate"),
                                       ("nan", "positive"), ("inf", "positive"),
                                       ("0.00000000001", "at most 10 decimal places")])
def test_bad_rates_are_refused(text, why):
    with pytest.raises(RateError, match=why):
        parse_rate(text)


def test_codes():
    assert parse_code(" usd ") == "USD"
    with pytest.raises(RateError, match="three letters"):
        parse_code("dollars")


# --- the store -------------------------------------------------------------------------------


@pytest.fixture
def mixed(store, now, tz):
    """Open CNY and USD deals in one stage, a won EUR deal."""
    store.add_deal({"customer": "华信", "amount": "1000", "stage": "demo", "probability": "50"}, now=now, tz=tz)
    store.add_deal({"customer": "Hooli", "amount": "200", "currency": "USD", "stage": "demo", "probability": "50"},
                   now=now, tz=tz)
    won = store.add_deal({"customer": "Initech", "amount": "300", "currency": "EUR", "stage": "negotiation"},
                         now=now, tz=tz)
    store.move_deal(won, "won", now=now)
    return store


def test_board_totals_per_currency_then_at_the_rates(mixed):
    demo = mixed.board_totals()["demo"]
    assert demo["count"] == 2 and demo["amount"] is None and demo["weighted"] is None
    assert demo["by_currency"] == {"CNY": {"count": 1, "amount": 1000_00, "weighted": 500_00},
                                   "USD": {"count": 1, "amount": 200_00, "weighted": 100_00}}
    mixed.set_rate("USD", Decimal("7.1"))
    demo = mixed.board_totals()["demo"]
    assert (demo["amount"], demo["weighted"]) == (1000_00 + 1420_00, 500_00 + 710_00)
    # The won column holds euros only: it sums in euros, and says so.
    won = mixed.board_totals(status="won")["won"]
    assert (won["amount"], won["base"], won["by_currency"]["EUR"]["amount"]) == (300_00, "EUR", 300_00)
    assert format_total({"EUR": 300_00}, Rates("EUR"), format_compact) == "300 EUR"


def test_a_pipeline_in_one_other_currency_sums_in_it(store, now, tz):
    store.add_deal({"customer": "Hooli", "amount": "200", "currency": "USD"}, now=now, tz=tz)
    store.add_deal({"customer": "Initech", "amount": "50.5", "currency": "USD"}, now=now, tz=tz)
    s = store.summary(now=now)
    assert (s["open_amount"], s["currency"], s["converted_at"], s["not_converted"]) == (250_50, "USD", {}, [])
    assert store.board_totals()["lead"]["amount"] == 250_50


def test_summary_per_currency_and_converted(mixed, now):
    s = mixed.summary(now=now)
    demo = next(st for st in s["stages"] if st["key"] == "demo")
    assert demo["open_amount"] is None and demo["open_amount_by_currency"] == {"CNY": 1000_00, "USD": 200_00}
    assert s["open_amount"] is None and s["weighted_pipeline"] is None and s["won_amount"] is None
    assert s["won_amount_by_currency"] == {"EUR": 300_00}
    assert (s["currency"], s["converted_at"], s["not_converted"]) == ("CNY", {}, ["EUR", "USD"])
    mixed.set_rate("USD", Decimal("7.1"))
    mixed.set_rate("EUR", Decimal("7.85"))
    s = mixed.summary(now=now)
    assert s["open_amount"] == 1000_00 + 1420_00 and s["weighted_pipeline"] == 500_00 + 710_00
    assert s["won_amount"] == 2355_00 and s["converted_at"] == {"EUR": "7.85", "USD": "7.1"}
    assert s["not_converted"] == []


def test_summary_json_and_table_say_what_they_did(mixed, funnel, db_path):
    mixed.close()
    res = funnel("summary", "--format", "json")
    s = json.loads(res.out)
    assert s["open_amount"] is None and s["open_amount_by_currency"] == {"CNY": 1000.0, "USD": 200.0}
    assert s["not_converted"] == ["EUR", "USD"]
    out = funnel("summary").out
    assert "1,000 CNY + 200 USD" in out and "no rate for EUR, USD" in out
    assert funnel("settings", "rate", "USD", "7.10").out.strip() == (
        "1 USD = 7.10 CNY; totals across currencies are converted at it")
    assert funnel("settings", "rate", "USD").out.strip() == "1 USD = 7.10 CNY"  # kept as typed, exactly
    assert funnel("settings", "rate", "EUR", "7.85").code == 0
    out = funnel("summary").out
    assert "≈2,420" in out and "≈ converted to CNY at your rates: EUR 7.85, USD 7.10" in out
    s = json.loads(funnel("summary", "--format", "json").out)
    assert (s["open_amount"], s["won_amount"], s["converted_at"]) == (2420.0, 2355.0, {"EUR": "7.85", "USD": "7.10"})
    assert "rate: 'x' is not a rate" in funnel("settings", "rate", "USD", "x").err
    assert "CNY is the base currency" in funnel("settings", "rate", "CNY", "1").err
    assert funnel("settings", "rate", "USD", "-").out.strip() == "USD: no rate (its totals are shown apart)"


def test_the_summary_export_has_a_column_per_currency(mixed, now, tz, tmp_path):
    from funnel_tui.exchange.csv_export import export_summary

    export_summary(mixed, tmp_path / "s.csv", now=now, tz=tz)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "s.csv").read_bytes().decode("utf-8-sig"))))
    demo = next(r for r in rows if r["stage"] == "demo")
    assert (demo["open_amount"], demo["currency"], demo["open_amount_CNY"], demo["open_amount_USD"]) == (
        "", "CNY", "1000", "200")
    mixed.set_rate("USD", Decimal("7.1"))
    export_summary(mixed, tmp_path / "s.csv", now=now, tz=tz)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "s.csv").read_bytes().decode("utf-8-sig"))))
    assert next(r for r in rows if r["stage"] == "demo")["open_amount"] == "2420"
