"""Amounts as tools and locales write them, read to integer minor units (never a float).

Read: `USD 485,000.00`, `485,000.00 USD`, `RMB 120000`, `CN¥1,200`, `¥ 1.200`, `€ 12.000,00`,
`$1,234.56`, `US$ 99`, `1.234,56`, `12 000,50` (plain, no-break or narrow no-break spaces),
`1'234.56`, `12.5万`, `3亿`, `12k`, `3w`, `1.2E+05`, and negatives as `-5`, `−5`, `(5)` and
`5-` (refused for a deal amount, read for the property test and other fields).

Which of `.` and `,` is the decimal mark is decided per value where the value itself shows it
(`1,234.56`, `12,50`, `1.234.567`), and otherwise from the whole column: `12.000` or `1,234`
alone can be read two ways, so they follow the column (a column holding `1.234,56` uses a
decimal comma). A column that shows nothing, or shows both, refuses its ambiguous values with
a message naming `--decimal-comma` and `--decimal-point`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field as dc_field
from decimal import Decimal, InvalidOperation
from typing import Iterable, NamedTuple

from funnel_tui.domain.money import MAX_AMOUNT_MINOR
from funnel_tui.i18n import N_, _
from funnel_tui.exchange.cells import Cell, FieldError, NeedsEvidence, normal_text, shown
from funnel_tui.exchange.currencies import SHARED, SIGNS, currency_of

INT64_MAX = (1 << 63) - 1
POINT, COMMA = "point", "comma"
DECIMAL_HINT = N_("say which with --decimal-comma or --decimal-point")
SCALES: dict[str, Decimal] = {"万": Decimal(10_000), "w": Decimal(10_000), "W": Decimal(10_000),
                               "亿": Decimal(100_000_000), "千": Decimal(1_000), "k": Decimal(1_000),
                               "K": Decimal(1_000), "百万": Decimal(1_000_000)}


class Money(NamedTuple):
    """An amount read from one cell: minor units, the currency it names (ISO code) or the
    candidates of a shared sign (`$`, `¥`), settled per row by currencies.settle_currency."""

    minor: int
    currency: str | None = None
    candidates: tuple[str, ...] = ()
    sign: str = ""


_TOKENS = sorted([*SIGNS, *SHARED], key=len, reverse=True)
_CUR = "|".join(re.escape(t) for t in _TOKENS) + r"|[A-Za-z]{3}(?![A-Za-z])"
_PREFIX = re.compile(rf"^({_CUR})\s*")
_SUFFIX = re.compile(rf"\s*({_CUR})$")
_SCALE = re.compile(r"\s*(百万|万|亿|千|[kKwW])$")
_SCI = re.compile(r"^(\d+(?:[.,]\d+)?)[eE]([-+]?\d{1,3})$")
_BODY = re.compile(r"^(?:\d[\d.,' ’]*\d|\d|[.,]\d+)$")
_GROUPED = re.compile(r"^\d{1,3}(?:X\d{3})+$")

# Kinds of value, as evidence for the column's decimal mark.
NEUTRAL, AMBIGUOUS = "neutral", "ambiguous"


@dataclass(slots=True)
class _Parts:
    negative: bool
    currency: str | None
    candidates: tuple[str, ...]
    sign: str
    scale: Decimal
    kind: str  # NEUTRAL | AMBIGUOUS | POINT | COMMA
    point: Decimal | None  # the value with '.' as the decimal mark (None: impossible)
    comma: Decimal | None
    scientific: bool = False


class _Bad(ValueError):
    pass


def _take_currency(match: re.Match[str] | None) -> tuple[str | None, tuple[str, ...], str] | None:
    if match is None:
        return None
    token = match.group(1)
    code, candidates = currency_of(token)
    if code is None and not candidates:
        raise _Bad(_("names {token}, which is not a currency code we know").format(token=repr(token)))
    return code, candidates, token


def _digits_grouped(text: str, sep: str) -> bool:
    return bool(_GROUPED.match(text.replace(sep, "X")))


def _classify(body: str) -> tuple[str, Decimal | None, Decimal | None]:
    """(kind, value read with a decimal point, value read with a decimal comma)."""
    body = body.replace("’", "'")
    if not _BODY.match(body):
        raise _Bad(_("is not an amount"))
    seps = [c for c in body if not c.isdigit()]
    if not seps:
        v = Decimal(body)
        return NEUTRAL, v, v
    kinds = list(dict.fromkeys(seps))
    if len(kinds) > 2:
        raise _Bad(_("mixes too many separators"))
    if len(kinds) == 2:
        group, mark = kinds[0], kinds[1]
        if seps.count(mark) != 1 or body.rfind(mark) < body.rfind(group) or mark in " '":
            raise _Bad(_("has its separators in an order no locale writes"))
        whole, frac = body.split(mark)
        if not _digits_grouped(whole, group):
            raise _Bad(_("groups its digits wrongly around {sep}").format(sep=repr(group)))
        v = Decimal(whole.replace(group, "") + "." + frac)
        return (POINT, v, None) if mark == "." else (COMMA, None, v)
    sep = kinds[0]
    if sep in " '":
        if not _digits_grouped(body, sep):
            raise _Bad(_("groups its digits wrongly"))
        v = Decimal(body.replace(sep, ""))
        return NEUTRAL, v, v
    other = COMMA if sep == "." else POINT
    if len(seps) > 1:  # only a thousands separator repeats
        if not _digits_grouped(body, sep):
            raise _Bad(_("groups its digits wrongly around {sep}").format(sep=repr(sep)))
        v = Decimal(body.replace(sep, ""))
        return (other, v, None) if other == POINT else (other, None, v)
    whole, frac = body.split(sep)
    as_decimal = Decimal((whole or "0") + "." + frac)
    if len(frac) == 3 and 1 <= len(whole) <= 3 and not (len(whole) > 1 and whole[0] == "0") and whole != "0":
        as_group = Decimal(whole + frac)
        return (AMBIGUOUS, as_decimal, as_group) if sep == "." else (AMBIGUOUS, as_group, as_decimal)
    mine = POINT if sep == "." else COMMA
    return (mine, as_decimal, None) if mine == POINT else (mine, None, as_decimal)


def plain_minor(cell: str) -> int | None:
    """Minor units of the commonest shape, ASCII `12500` or `12500.5`/`12500.50` (our export,
    HubSpot, Pipedrive, workbooks saved as CSV), without regexes or Decimals; None otherwise."""
    if not cell.isascii():
        return None
    head, dot, tail = cell.partition(".")
    if not head.isdigit() or (dot and not (tail.isdigit() and len(tail) <= 2)):
        return None
    return int(head) * 100 + (int(tail.ljust(2, "0")) if tail else 0)


def parse_parts(text: str) -> _Parts:
    """Take one written amount apart; raises _Bad (a reason) for text that is no amount."""
    t = normal_text(text).replace("\u2212", "-")
    if not any(c.isdigit() for c in t):  # `abc`, `USD`, `-`: no number at all
        code, candidates = currency_of(t)
        if code is None and not candidates and t.isalpha():
            raise _Bad(_("is not an amount (no number, and not a currency code we know)"))
        raise _Bad(_("is not an amount (it has no number)"))
    negative = False
    if t.startswith("(") and t.endswith(")"):
        negative, t = True, t[1:-1].strip()
    if t[:1] and t[0] in "-+":
        negative, t = negative or t[0] == "-", t[1:].lstrip()
    cur = _take_currency(_PREFIX.match(t))
    if cur is not None:
        t = t[_PREFIX.match(t).end():]  # type: ignore[union-attr]
        if t[:1] and t[0] in "-+":
            negative, t = negative or t[0] == "-", t[1:].lstrip()
    m = _SUFFIX.search(t)
    if m is not None and not t[: m.start()].rstrip().endswith(("e", "E")):
        after = _take_currency(m)
        if cur is not None and after is not None:
            a, b = cur[0] or cur[1], after[0] or after[1]
            both = set([a] if isinstance(a, str) else a) & set([b] if isinstance(b, str) else b)
            if not both:
                raise _Bad(_("names two currencies, {one} and {other}").format(one=repr(cur[2]), other=repr(after[2])))
            if cur[0] is None:
                cur = after
        cur = cur or after
        t = t[: m.start()]
    if t.endswith("-"):
        negative, t = True, t[:-1].rstrip()
    scale = Decimal(1)
    m = _SCALE.search(t)
    if m is not None:
        scale, t = SCALES[m.group(1)], t[: m.start()]
    t = t.strip()
    code, candidates, sign = cur if cur is not None else (None, (), "")
    if not t:
        raise _Bad(_("has no number"))
    sci = _SCI.match(t)
    if sci is not None:
        mantissa, exp = sci.group(1).replace(",", "."), int(sci.group(2))
        value = Decimal(f"{mantissa}E{exp}")
        if value >= Decimal("1E11"):
            raise _Bad(_("is in the form Excel shortens numbers of 12 digits or more to when it saves "
                         "a CSV (digits may be lost); format the column as Number in Excel and save again"))
        return _Parts(negative, code, candidates, sign, scale, NEUTRAL, value, value, True)
    kind, point, comma = _classify(t)
    return _Parts(negative, code, candidates, sign, scale, kind, point, comma)


@dataclass
class AmountColumn:
    """Reads one amount column (see the module doc).

    `decimal`: POINT or COMMA when the rep said so (`--decimal-point`/`--decimal-comma`) or the
    profile knows its tool; None to decide from the column. `scale`: 10,000 for a 万元 column.
    `unit_currency`: the currency the header itself names (`金额(万元)` is CNY).
    """

    field: str = "amount"
    decimal: str | None = None
    scale: Decimal = Decimal(1)
    unit_currency: str | None = None
    allow_negative: bool = False
    max_minor: int = MAX_AMOUNT_MINOR
    speculative: bool = False  # no evidence yet: NeedsEvidence instead of deciding (cells.py)
    _seen: dict[str, str] = dc_field(default_factory=dict)  # kind -> first example
    _decided: str | None = None
    _frozen: bool = False

    def observe(self, cells: Iterable[Cell]) -> None:
        """Evidence from more cells of the column (cells that are no amount are skipped: their
        rows are refused when read)."""
        if self._frozen:
            raise RuntimeError("observe() after read(): the column was already decided")
        seen = self._seen
        for cell in cells:
            if not isinstance(cell, str) or not cell.strip():
                continue
            if plain_minor(cell) is not None:  # 12500 says nothing; 12500.5 says a decimal point
                if "." in cell and POINT not in seen:
                    seen[POINT] = cell
                continue
            try:
                kind = parse_parts(cell).kind
            except _Bad:
                continue
            if kind != NEUTRAL and kind not in seen:
                seen[kind] = cell

    @property
    def decided(self) -> str | None:
        """The decimal mark the column uses (POINT, COMMA) or None while it cannot say."""
        if self.decimal is not None:
            return self.decimal
        point, comma = POINT in self._seen, COMMA in self._seen
        return POINT if point and not comma else COMMA if comma and not point else None

    def read(self, cell: Cell) -> Money | None:
        """One cell as Money (None for an empty cell); FieldError with the reason otherwise."""
        self._frozen = True
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            return None
        if isinstance(cell, bool) or not isinstance(cell, (str, int, Decimal)):
            raise FieldError(self.field, _("{cell} is not an amount").format(cell=shown(cell)))
        if not isinstance(cell, str):
            return self._money(Decimal(cell), None, (), "", cell)
        if self.scale == 1 and (self.decimal != COMMA or "." not in cell):
            minor = plain_minor(cell)  # the hot path: no regex, no Decimal
            if minor is not None and minor <= min(self.max_minor, INT64_MAX):
                return Money(minor, self.unit_currency)
        try:
            parts = parse_parts(cell)
        except _Bad as exc:
            raise FieldError(self.field, _("{cell} {problem}; write e.g. 12500, 12,500.50, "
                                           "USD 485,000.00, 12.5万").format(cell=shown(cell), problem=exc)) from None
        value = self._pick(parts, cell)
        if parts.scale != 1 and self.scale != 1:
            raise FieldError(self.field, _("{cell} has its own scale but the column is already "
                                           "in units of {scale}; write the plain number").format(
                                               cell=shown(cell), scale=f"{self.scale:,}"))
        value *= parts.scale
        return self._money(-value if parts.negative else value, parts.currency, parts.candidates,
                           parts.sign, cell)

    def _pick(self, parts: _Parts, cell: str) -> Decimal:
        kind = parts.kind
        if kind == NEUTRAL:
            return parts.point  # type: ignore[return-value]
        if self.decimal is not None:
            value = parts.point if self.decimal == POINT else parts.comma
            if value is None:
                other = _("comma") if self.decimal == POINT else _("point")
                raise FieldError(self.field, _("{cell} is written with a decimal {mark}, but "
                                               "{option} was given").format(
                                                   cell=shown(cell), mark=other, option=f"--decimal-{self.decimal}"))
            return value
        if kind in (POINT, COMMA):
            return parts.point if kind == POINT else parts.comma  # type: ignore[return-value]
        if self.speculative:
            raise NeedsEvidence(self.field)
        decided = self.decided
        if decided is None:
            both = POINT in self._seen and COMMA in self._seen
            why = (_("this column has both {one} and {other}").format(
                       one=repr(self._seen[POINT]), other=repr(self._seen[COMMA])) if both
                   else _("nothing else in this column tells which"))
            raise FieldError(self.field, _("{cell} can be {one} or {other} and {why}; {hint}").format(
                cell=shown(cell), one=plain(parts.point), other=plain(parts.comma), why=why, hint=_(DECIMAL_HINT)))
        return parts.point if decided == POINT else parts.comma  # type: ignore[return-value]

    def _money(self, value: Decimal, code: str | None, candidates: tuple[str, ...], sign: str,
               cell: Cell) -> Money:
        try:
            minor_d = value * self.scale * 100
            if not minor_d.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            raise FieldError(self.field, _("{cell} is not an amount").format(cell=shown(cell))) from None
        if minor_d != minor_d.to_integral_value():
            raise FieldError(self.field, _("{cell} has more than 2 decimal places").format(cell=shown(cell)))
        minor = int(minor_d)
        if abs(minor) > INT64_MAX:
            raise FieldError(self.field, _("{cell} is too large for 64-bit money").format(cell=shown(cell)))
        if minor < 0 and not self.allow_negative:
            raise FieldError(self.field, _("{cell} is negative; an amount is 0 or more").format(cell=shown(cell)))
        if abs(minor) > self.max_minor:
            raise FieldError(self.field, _("{cell} is too large (the most is {most})").format(
                cell=shown(cell), most=f"{self.max_minor // 100:,}"))
        if self.unit_currency is not None:
            if code is not None and code != self.unit_currency:
                raise FieldError(self.field, _("{cell} is in {code} but the column is in {column}").format(
                    cell=shown(cell), code=code, column=self.unit_currency))
            if candidates and self.unit_currency not in candidates:
                raise FieldError(self.field, _("{cell}: {sign} cannot be {column}").format(
                    cell=shown(cell), sign=repr(sign), column=self.unit_currency))
            code, candidates = self.unit_currency, ()
        return Money(minor, code, candidates, sign)


def plain(value: Decimal | None) -> str:
    """A Decimal as a person writes it: 12000, 12.5 (no exponent, no trailing zeros)."""
    if value is None:
        return "?"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
