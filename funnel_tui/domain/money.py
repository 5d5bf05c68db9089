"""Money as integer minor units (cents / 分), parsed and shown without floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

_SYMBOLS = "¥￥$€£"
_SCALES = {"万": Decimal(10_000), "w": Decimal(10_000), "k": Decimal(1_000), "m": Decimal(1_000_000)}
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
            raise ValueError(f"{raw!r} is not an amount; use e.g. 12500, 12,500.50, 3万") from None
        if not value.is_finite():
            raise ValueError(f"{raw!r} is not an amount; use e.g. 12500, 12,500.50, 3万")
    if value < 0:
        raise ValueError(f"{text} is negative; an amount is 0 or more")
    minor = value * 100
    if minor != minor.to_integral_value():
        raise ValueError(f"{text} has more than 2 decimal places")
    if minor > MAX_AMOUNT_MINOR:
        raise ValueError(f"{text} is too large")
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
