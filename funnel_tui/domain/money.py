"""Money as integer minor units (cents / 分), parsed and shown without floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from funnel_tui.i18n import _

_SYMBOLS = "¥￥$€£"
_SCALES = {"万": Decimal(10_000), "w": Decimal(10_000), "k": Decimal(1_000), "m": Decimal(1_000_000),
           "亿": Decimal(100_000_000)}
MAX_AMOUNT_MINOR = 10**15  # a quadrillion cents: far past any real deal, far below int64


def parse_amount(text: str | int | Decimal | None) -> int:
    """'12,500.50' / '¥3万' / '2.5k' -> minor units. Raises ValueError with what is accepted."""
    if text is None:
        return 0
    if isinstance(text, int):
        value = Decimal(text)
    elif isinstance(text, Decimal):
        value = text
    else:
        raw = text.strip()
        s = raw.replace(",", "").replace("_", "").replace(" ", "").replace("，", "")
        if not s:
            return 0
        s = s.lstrip(_SYMBOLS)
        scale = Decimal(1)
        if s and s[-1].lower() in _SCALES:
            scale = _SCALES[s[-1].lower()]
            s = s[:-1]
        try:
            value = Decimal(s) * scale
        except InvalidOperation:
            raise ValueError(_("{text} is not an amount; use e.g. 12500, 12,500.50, 3万").format(text=repr(raw))) from None
        if not value.is_finite():
            raise ValueError(_("{text} is not an amount; use e.g. 12500, 12,500.50, 3万").format(text=repr(raw)))
    if value < 0:
        raise ValueError(_("{text} is negative; an amount is 0 or more").format(text=text))
    minor = value * 100
    if minor != minor.to_integral_value():
        raise ValueError(_("{text} has more than 2 decimal places").format(text=text))
    if minor > MAX_AMOUNT_MINOR:
        raise ValueError(_("{text} is too large").format(text=text))
    return int(minor)


def minor_to_decimal(minor: int) -> Decimal:
    return (Decimal(minor) / 100).quantize(Decimal("0.01"))


def format_plain(minor: int) -> str:
    """Plain number for CSV/JSON-ish text: '1054.00' -> '1054', '12.5' -> '12.50'."""
    d = minor_to_decimal(minor)
    return str(int(d)) if minor % 100 == 0 else f"{d:.2f}"


def format_money(minor: int, currency: str = "") -> str:
    """Grouped for screens: 1,234,567 (cents shown only when present)."""
    d = minor_to_decimal(minor)
    body = f"{int(d):,}" if minor % 100 == 0 else f"{d:,.2f}"
    return f"{body} {currency}".rstrip() if currency else body


def format_compact(minor: int) -> str:
    """Short form for narrow cards and column headers: 950, 12.5k, 3.4M."""
    units = minor // 100
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if units >= size:
            whole, rest = divmod(units * 10 // size, 10)
            return f"{whole}.{rest}{suffix}" if whole < 100 and rest else f"{whole}{suffix}"
    return str(units)


def weighted_minor(amount_minor: int, probability: int) -> int:
    """amount × probability / 100, rounded half up, in minor units (integer arithmetic)."""
    return (amount_minor * probability + 50) // 100


# Chinese counts money in 万 (10^4) and 亿 (10^8), and 万亿 (10^12) beyond: sizes in minor units.
_ZH_UNITS = ((10**6, "万"), (10**10, "亿"), (10**14, "万亿"))


def format_compact_zh(minor: int) -> str:
    """Short Chinese form for cards, headers and the summary: 8,000 · 12.5万 · 3.2亿 · 1.5万亿.

    Below 1万 the whole amount, grouped (cents dropped). From 1万 on, one decimal of the unit,
    without a trailing .0. Rounding is half away from zero at the shown precision (12,350 ->
    1.2万, 12,550 -> 1.3万, 9,999.50 -> 1万), and a value that rounds up to 10000 of a unit is
    shown in the next one (99,999,999 -> 1亿, never 10000万). Negative amounts (differences)
    keep their sign; any integer is accepted, far past 64 bits.
    """
    sign = "-" if minor < 0 else ""
    m = abs(minor)
    yuan = (m + 50) // 100
    if yuan < 10_000:
        return f"{sign}{yuan:,}" if yuan else "0"
    for size, unit in _ZH_UNITS:
        tenths = (m * 10 + size // 2) // size
        if tenths < 100_000 or unit == _ZH_UNITS[-1][1]:
            break
    whole, tenth = divmod(tenths, 10)
    body = f"{whole:,}" if whole >= 10_000 else str(whole)
    return f"{sign}{body}.{tenth}{unit}" if tenth else f"{sign}{body}{unit}"


def format_compact_in(minor: int, lang: str) -> str:
    """The short form in the rep's language: `format_compact_zh` for "zh", else `format_compact`."""
    return format_compact_zh(minor) if lang == "zh" else format_compact(minor)
