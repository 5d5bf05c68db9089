"""Tiers by amount (source document 002), the alternative to the ABC tiers of domain.rules. Pure.

    关键 key       amount ≥ 8000万 (80,000,000 yuan)
    重点 major     2000万 ≤ amount < 8000万
    一般 regular   1000万 ≤ amount < 2000万
    维持 maintain  amount < 1000万

The thresholds are settings in whole yuan (`tier_key_min`, `tier_major_min`,
`tier_regular_min`); which tiering the pipeline uses is the setting `tiering` (`abc`, the
default, or `amount`). Either way the tier sets the follow-up cadence (domain.rules.CADENCE)
and the lowest tier (C, 维持) feeds the purge queue (domain.purge).

Money is never a float: the thresholds are kept in fen (int), and a deal in another currency
is compared at the rate the rep set (`funnel settings rate USD 7.1`), exactly — amount × rate
≥ threshold as integer arithmetic on the rate's exact fraction, no rounding. A deal in a
currency without a rate has **no tier** (None, shown `?`): it is never compared with yuan
thresholds as if it were yuan, and it is never a purge candidate.

`AmountTiers` and `domain.rules.TierCutoffs` answer the same questions (`tier_of(amount,
probability, currency)`, `codes`, `lowest`, `kind`), so the board, warnings, export and the
purge queue take either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable

from funnel_tui.domain.currency_totals import BASE_CURRENCY, Rates
from funnel_tui.i18n import NP_, _, translator

TIERINGS = ("abc", "amount")
AMOUNT_CODES = ("key", "major", "regular", "maintain")
DEFAULT_THRESHOLDS_YUAN = (80_000_000, 20_000_000, 10_000_000)
THRESHOLD_SETTINGS = ("tier_key_min", "tier_major_min", "tier_regular_min")
MAX_THRESHOLD_YUAN = 10**13  # a deal holds at most 10^15 fen (domain.money): 10^13 yuan
LABELS = {
    "key": NP_("amount tier", "key"),
    "major": NP_("amount tier", "major"),
    "regular": NP_("amount tier", "regular"),
    "maintain": NP_("amount tier", "maintain"),
}
# On a card, where a column is 24 cells wide at 80×24: short marks (the Chinese names are short).
SHORT = {
    "key": NP_("amount tier (short)", "key"),
    "major": NP_("amount tier (short)", "maj"),
    "regular": NP_("amount tier (short)", "reg"),
    "maintain": NP_("amount tier (short)", "mnt"),
}
UNRATED = "?"  # what a deal without a tier shows (a currency without a rate)


class TierSettingError(ValueError):
    """A tiering setting that cannot be used; the message names the setting and what it takes."""


@dataclass(frozen=True)
class AmountTiers:
    """Where each amount tier starts, in fen of the base currency (CNY), and the rates a deal
    in another currency is compared at."""

    key_min: int = DEFAULT_THRESHOLDS_YUAN[0] * 100
    major_min: int = DEFAULT_THRESHOLDS_YUAN[1] * 100
    regular_min: int = DEFAULT_THRESHOLDS_YUAN[2] * 100
    rates: Rates = field(default_factory=Rates)

    codes = AMOUNT_CODES
    lowest = "maintain"
    kind = "amount"

    def __post_init__(self) -> None:
        if not self.key_min > self.major_min > self.regular_min > 0:
            raise TierSettingError(_("tier thresholds: key > major > regular > 0"))

    def thresholds_in(self, currency: str | None) -> tuple[int, int, int] | None:
        """The three thresholds in minor units of `currency`: the smallest amounts whose
        value at the rate reaches each (exact: amount × p/q ≥ T ⟺ amount ≥ ⌈T·q/p⌉).
        None when the currency has no rate."""
        code = currency or BASE_CURRENCY
        mins = (self.key_min, self.major_min, self.regular_min)
        if code == self.rates.base:
            return mins
        rate = self.rates.to_base.get(code)
        if rate is None:
            return None
        p, q = Decimal(rate).as_integer_ratio()
        return tuple(-((-t * q) // p) for t in mins)  # type: ignore[return-value]

    def tier(self, amount: int, currency: str | None = None) -> str | None:
        """The tier of an amount (minor units of `currency`); None when it has no rate."""
        mins = self.thresholds_in(currency)
        if mins is None:
            return None
        for code, at_least in zip(AMOUNT_CODES, mins):
            if amount >= at_least:
                return code
        return "maintain"

    def tier_of(self, amount: int, probability: int, currency: str | None = None) -> str | None:
        """The tier of a deal by its own row (the probability does not count here)."""
        return self.tier(amount, currency)


def tier_totals(scheme: AmountTiers, rows: Iterable[tuple[str | None, str | None, int, int]]) -> dict[str, dict]:
    """Open deals per amount tier, from rows of (tier, currency, deals, Σ amount in minor units
    of that currency): {code: {"deals", "amount"}} with the amount in the base currency's minor
    units — each (tier, currency) total converted once, at the rep's rate — plus "unrated":
    {"deals", "amount_by_currency"} for deals without a tier (no rate), never mixed in."""
    sums: dict[tuple[str | None, str], list[int]] = {}
    for code, currency, n, total in rows:
        bucket = sums.setdefault((code, currency or BASE_CURRENCY), [0, 0])
        bucket[0] += n
        bucket[1] += total
    out: dict[str, dict] = {code: {"deals": 0, "amount": 0} for code in AMOUNT_CODES}
    out["unrated"] = {"deals": 0, "amount_by_currency": {}}
    for (code, currency), (n, total) in sorted(sums.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        if code is None:
            out["unrated"]["deals"] += n
            by_currency = out["unrated"]["amount_by_currency"]
            by_currency[currency] = by_currency.get(currency, 0) + total
            continue
        out[code]["deals"] += n
        out[code]["amount"] += scheme.rates.convert(total, currency) or 0  # a tier has a rate
    return out


def parse_threshold(name: str, raw: str) -> int:
    """One threshold as the rep writes it — whole yuan, `80000000`, `80,000,000`, `8000万` — in
    fen. TierSettingError naming the setting otherwise."""
    text = str(raw).strip().replace(",", "").replace("_", "").replace(" ", "")
    scale = 1
    if text.endswith("万"):
        text, scale = text[:-1], 10_000
    elif text.endswith("亿"):
        text, scale = text[:-1], 100_000_000
    try:
        yuan = Decimal(text) * scale
    except Exception:  # noqa: BLE001 - decimal.InvalidOperation and friends
        raise TierSettingError(_("{name}: {raw} is not an amount in yuan; e.g. 80000000 or 8000万").format(
            name=name, raw=repr(raw))) from None
    if not yuan.is_finite() or yuan != yuan.to_integral_value():
        raise TierSettingError(_("{name}: {raw} is not a whole number of yuan").format(name=name, raw=repr(raw)))
    if not 0 < yuan <= MAX_THRESHOLD_YUAN:
        raise TierSettingError(_("{name}: {raw} must be above 0 and at most {max} yuan").format(
            name=name, raw=repr(raw), max=MAX_THRESHOLD_YUAN))
    return int(yuan) * 100


def amount_tiers(values: dict[str, str | None], rates: Rates | None = None) -> AmountTiers:
    """The thresholds from settings (unset ones take the defaults); TierSettingError when they
    are not whole yuan or not in order (key > major > regular)."""
    minor = []
    for name, default in zip(THRESHOLD_SETTINGS, DEFAULT_THRESHOLDS_YUAN):
        raw = values.get(name)
        minor.append(default * 100 if raw is None or str(raw).strip() == "" else parse_threshold(name, raw))
    if not minor[0] > minor[1] > minor[2]:
        raise TierSettingError(_("tier thresholds: tier_key_min > tier_major_min > tier_regular_min must hold; "
                                 "now {key} / {major} / {regular}").format(
            key=minor[0] // 100, major=minor[1] // 100, regular=minor[2] // 100))
    return AmountTiers(*minor, rates=rates or Rates())


def tiering_of(value: str | None) -> str:
    """The setting `tiering`: abc (default) or amount."""
    text = (value or "abc").strip().lower()
    if text not in TIERINGS:
        raise TierSettingError(_("tiering: {value} is not a tiering; use abc or amount").format(value=repr(value)))
    return text


def tier_label(code: str | None, lang: str, *, short: bool = False) -> str:
    """What a person reads for a tier: A/B/C as they are, the amount tiers by name in `lang`
    (`short`: the card's mark), `?` for a deal without a tier."""
    if not code:
        return UNRATED
    if code in LABELS:
        if short:
            return translator(lang).pgettext("amount tier (short)", SHORT[code])
        return translator(lang).pgettext("amount tier", LABELS[code])
    return code


def tier_mark(scheme: "AmountTiers | object", deal: dict, lang: str, *, short: bool = True) -> str:
    """What a card, the Deal screen and Today show for an open deal's tier under `scheme`
    (either kind): A/B/C, or the amount tier's name, or `?` (a currency without a rate)."""
    code = scheme.tier_of(int(deal.get("amount") or 0), int(deal.get("probability") or 0),  # type: ignore[attr-defined]
                          deal.get("currency"))
    return tier_label(code, lang, short=short)
