"""Money in several currencies: totals kept per currency, one number only at the rep's rates.

A pipeline holding CNY and USD deals is never summed as one number. Totals are kept per
currency (`{"CNY": 1_250_000, "USD": 300_000}`, minor units); they become one number in the
base currency (CNY, the default currency of a deal) only when every currency in them is the base
or has a rate the rep set (`funnel settings rate USD 7.1`: one US dollar is 7.1 yuan). A
conversion is exact Decimal arithmetic on integer minor units, rounded half up once per
currency total, never a float. Pure: the store reads the rates, screens and the CLI show them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Callable, Iterable, Mapping

BASE_CURRENCY = "CNY"
RATE_PREFIX = "rate:"  # settings key of a rate: rate:USD = "7.1"
_CODE = re.compile(r"^[A-Z]{3}$")
MAX_RATE = Decimal(10) ** 9


class RateError(ValueError):
    """A rate or currency code that cannot be used; the message says what is accepted."""


def parse_code(text: str) -> str:
    code = text.strip().upper()
    if not _CODE.match(code):
        raise RateError(f"{text!r} is not a currency code; use three letters such as USD, EUR, CNY")
    return code


def parse_rate(text: str) -> Decimal:
    """A rate as the rep writes it (`7.1`, `0.138`, `1/7.25` is not taken): a positive decimal
    with at most 10 places, kept exactly as written."""
    raw = text.strip().replace(",", ".") if text.count(",") == 1 and "." not in text else text.strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise RateError(f"{text!r} is not a rate; write how many of the base currency one unit "
                        "buys, e.g. 7.1") from None
    if not value.is_finite() or value <= 0:
        raise RateError(f"{text!r} is not a rate; it must be a positive number, e.g. 7.1")
    if value >= MAX_RATE or -value.as_tuple().exponent > 10:
        raise RateError(f"{text!r} is not a rate we keep (at most 10 decimal places, below 1e9)")
    return value


@dataclass(frozen=True)
class Rates:
    """The base currency and the rates the rep set (one unit of `code` = rate × base)."""

    base: str = BASE_CURRENCY
    to_base: Mapping[str, Decimal] = field(default_factory=dict)

    def convert(self, minor: int, code: str) -> int | None:
        """`minor` of `code` in the base currency's minor units (None: no rate for `code`)."""
        if code == self.base:
            return minor
        rate = self.to_base.get(code)
        if rate is None:
            return None
        return int((Decimal(minor) * rate).to_integral_value(rounding=ROUND_HALF_UP))


def one_currency(rates: Rates, codes: Iterable[str]) -> Rates:
    """The rates to total `codes` with: when they are all one currency, that currency itself (an
    all-USD pipeline sums in USD and needs no rate); otherwise `rates`."""
    found = set(codes)
    return Rates(found.pop()) if len(found) == 1 else rates


def add(into: dict[str, int], code: str, minor: int) -> None:
    into[code] = into.get(code, 0) + minor


def merged(parts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in parts:
        for code, minor in part.items():
            add(out, code, minor)
    return out


@dataclass(frozen=True)
class Total:
    """One total: per currency, and in the base currency when every currency in it converts."""

    by_currency: dict[str, int]
    base: str
    in_base: int | None  # None: some currency has no rate (never summed)
    converted: tuple[str, ...]  # currencies converted at a rate to make `in_base`
    missing: tuple[str, ...]  # currencies without a rate

    @property
    def mixed(self) -> bool:
        return any(code != self.base for code in self.by_currency)


def total(by_currency: Mapping[str, int], rates: Rates) -> Total:
    """The total of `by_currency`: in the base currency when every currency converts."""
    present = {code: minor for code, minor in by_currency.items() if minor or code == rates.base}
    in_base = 0
    converted: list[str] = []
    missing: list[str] = []
    for code in sorted(present):
        value = rates.convert(present[code], code)
        if value is None:
            missing.append(code)
            continue
        in_base += value
        if code != rates.base:
            converted.append(code)
    ordered = dict(sorted(present.items(), key=lambda kv: (kv[0] != rates.base, kv[0])))
    return Total(ordered, rates.base, None if missing else in_base, tuple(converted), tuple(missing))


def column_totals(by_currency: Mapping[str, Mapping[str, int]], rates: Rates) -> dict:
    """A board column's header: `count`, and `amount`/`weighted` in the base currency (None
    when a currency in them has no rate), from {currency: {count, amount, weighted}}; with
    the rates they were made at (`rates`, as text), so the column can keep them up to date."""
    amount = total({c: v["amount"] for c, v in by_currency.items()}, rates)
    weighted = total({c: v["weighted"] for c, v in by_currency.items()}, rates)
    return {"count": sum(v["count"] for v in by_currency.values()), "amount": amount.in_base,
            "weighted": weighted.in_base, "by_currency": {c: dict(v) for c, v in by_currency.items()},
            "base": rates.base, "rates": {c: str(r) for c, r in rates.to_base.items()}}


def rates_of_column(totals: Mapping) -> Rates:
    """The rates a column's totals (column_totals) were made at."""
    return Rates(totals.get("base") or BASE_CURRENCY,
                 {code: Decimal(rate) for code, rate in (totals.get("rates") or {}).items()})


def rates_of(summary: Mapping) -> Rates:
    """The rates a summary was converted at (its `currency` and `converted_at`)."""
    return Rates(summary.get("currency") or BASE_CURRENCY,
                 {code: Decimal(rate) for code, rate in (summary.get("converted_at") or {}).items()})


def format_total(by_currency: Mapping[str, int], rates: Rates, fmt: Callable[[int], str], *,
                 sep: str = " + ") -> str:
    """A total as a rep reads it: `12.5k` (all in CNY), `12.5k USD` (all in one other currency),
    `≈88.7k` (converted to CNY at the rep's rates), or `12.5k CNY + 3k USD` (a currency without a
    rate: never summed; `sep` "\n" puts each currency on its own line in a narrow table)."""
    t = total(by_currency, rates)
    if not t.mixed:  # one currency: CNY goes without saying, any other is named
        return fmt(t.in_base or 0) + ("" if t.base == BASE_CURRENCY else f" {t.base}")
    if t.in_base is not None:
        return "≈" + fmt(t.in_base)
    return sep.join(f"{fmt(minor)} {code}" for code, minor in t.by_currency.items())
