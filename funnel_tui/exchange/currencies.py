"""Currency codes, signs and words as exports write them, and how a deal's currency is settled.

A sign that belongs to one currency (`€`, `US$`, `CN¥`, `RMB`, `元`) names it. A sign shared by
several (`$`: USD, CAD, AUD, …; `¥`: CNY and JPY) is never guessed: it is settled by a
currency column on the same row, by the profile of the tool that wrote the file (a Chinese
CRM's `¥` is CNY), or by `--currency`; otherwise the row is refused naming those.
"""

from __future__ import annotations

from typing import Mapping

from funnel_tui.i18n import _

# ISO 4217 codes in use (the ones a CRM export can plausibly carry).
ISO_CODES = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS
GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW
KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD
NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
SHP SLE SOS SRD SSP STN SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND
VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
""".split())

# Signs and words that name exactly one currency (after NFKC: full-width ￥ is ¥, ＄ is $).
SIGNS: dict[str, str] = {
    "US$": "USD", "U$S": "USD", "CN¥": "CNY", "RMB¥": "CNY", "JP¥": "JPY", "HK$": "HKD",
    "NT$": "TWD", "A$": "AUD", "AU$": "AUD", "C$": "CAD", "CA$": "CAD", "S$": "SGD",
    "NZ$": "NZD", "MX$": "MXN", "R$": "BRL", "€": "EUR", "£": "GBP", "₩": "KRW", "₹": "INR",
    "₽": "RUB", "₺": "TRY", "₫": "VND", "฿": "THB", "₱": "PHP", "₪": "ILS",
    "RMB": "CNY", "人民币": "CNY", "元": "CNY", "美元": "USD", "欧元": "EUR", "港元": "HKD",
    "港币": "HKD", "日元": "JPY", "英镑": "GBP", "新台币": "TWD", "韩元": "KRW",
}
# Signs shared by several currencies: the candidates, most common first.
SHARED: dict[str, tuple[str, ...]] = {
    "$": ("USD", "CAD", "AUD", "HKD", "SGD", "NZD", "TWD", "MXN"),
    "¥": ("CNY", "JPY"),
}


def currency_of(token: str) -> tuple[str | None, tuple[str, ...]]:
    """(ISO code, ()) for a sign or code naming one currency, (None, candidates) for a
    shared sign, (None, ()) for something that is not a currency."""
    if token in SIGNS:
        return SIGNS[token], ()
    if token in SHARED:
        return None, SHARED[token]
    upper = token.upper()
    if upper == token and upper in ISO_CODES:
        return upper, ()
    if upper == "RMB":
        return "CNY", ()
    return None, ()


def code_of_column(cell: str) -> str | None:
    """A currency column's cell (`USD`, `usd`, `RMB`, `人民币`, `€`) as an ISO code, None if empty.

    Raises ValueError for anything else, shared signs included.
    """
    text = cell.strip()
    if not text:
        return None
    code, candidates = currency_of(text if text in SIGNS or text in SHARED else text.upper())
    if code is None:
        if candidates:
            raise ValueError(_("{sign} is the sign of {codes}; write the code, e.g. {code}").format(
                sign=repr(text), codes=", ".join(candidates), code=candidates[0]))
        raise ValueError(_("{text} is not a currency code; use three letters such as CNY, USD, EUR").format(
            text=repr(text)))
    return code


def settle_currency(
    written: str | None,
    candidates: tuple[str, ...],
    column: str | None,
    *,
    profile_signs: Mapping[str, str] | None = None,
    sign: str = "",
    assume: str | None = None,
) -> str | None:
    """The deal's currency from what one row says; raises ValueError with the reason.

    `written`: the code the amount itself names (`USD 485,000.00`); `candidates`: what a
    shared sign in the amount may mean; `column`: the row's currency column; `assume`: the
    `--currency` option. None means nothing on the row names a currency (the importer's
    default applies).
    """
    if written is not None:
        if column is not None and column != written:
            raise ValueError(_("the amount says {written} but the currency column says {column}").format(
                written=written, column=column))
        return written
    if not candidates:
        return column
    if column is not None:
        if column not in candidates:
            raise ValueError(_("the amount's {sign} cannot be {column} (the currency column)").format(
                sign=repr(sign), column=column))
        return column
    if profile_signs and sign in profile_signs:
        return profile_signs[sign]
    if assume is not None and assume in candidates:
        return assume
    raise ValueError(_("{sign} is the sign of {codes}; say which with --currency {code} (or a currency "
                       "column)").format(sign=repr(sign), codes=", ".join(candidates), code=candidates[0]))
