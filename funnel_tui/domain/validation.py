"""Validation schemas for what a rep types or imports, checked before the database.

One clear message per bad field, naming the field and what is accepted. The TUI's form
validators and the CLI both call `validate_field`, so a form never accepts what the
command line would reject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any, Mapping, Sequence

from funnel_tui.domain.dates import parse_date, parse_timestamp
from funnel_tui.domain.money import parse_amount
from funnel_tui.domain.stages import StageDef, find_stage
from funnel_tui.domain.text import clean_text
from funnel_tui.domain.vocab import (
    DEAL_STATUSES,
    FOLLOWUP_KIND,
    FOLLOWUP_KINDS,
    LOST_REASON,
    RISK_LEVELS,
    column_name,
)
from funnel_tui.i18n import _


class FieldError(ValueError):
    """One bad field: `field` names it, the message says what is accepted (in the rep's
    language, as is the field's name in the full text: `customer: is required`, `客户: 必填`)."""

    def __init__(self, field: str, message: str):
        super().__init__(_("{field}: {message}").format(field=column_name(field), message=message))
        self.field = field
        self.message = message


class ValidationError(ValueError):
    """Several bad fields at once (forms show each next to its input)."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__(_("; ").join(_("{field}: {message}").format(field=column_name(k), message=v)
                                      for k, v in self.errors.items()))


# Text fields and their maximum lengths (after cleaning).
SHORT = 200
LONG = 4000
TEXT_FIELDS: dict[str, int] = {
    "customer": SHORT,
    "title": SHORT,
    "industry": 100,
    "company_size": 100,
    "contact_name": 100,
    "contact_role": 100,
    "contact_phone": 50,
    "contact_email": 200,
    "source": 100,
    "owner": 100,
    "risk_note": LONG,
    "mitigation": LONG,
    "budget": 200,
    "decision_chain": LONG,
    "pain_points": LONG,
    "competitors": LONG,
    "lost_reason": 500,
    "notes": LONG,
    "external_id": 200,
}
MULTILINE = {"risk_note", "mitigation", "decision_chain", "pain_points", "competitors", "notes"}
REQUIRED = {"customer"}

# Everything a deal form / `add` / import may set, in CSV column order.
DEAL_INPUT_FIELDS: tuple[str, ...] = (
    "external_id", "customer", "title", "industry", "company_size", "contact_name",
    "contact_role", "contact_phone", "contact_email", "source", "lead_score", "owner",
    "stage", "amount", "currency", "probability", "expected_close", "risk_level",
    "risk_note", "mitigation", "budget", "decision_chain", "pain_points", "competitors",
    "lost_reason", "notes",
)

_RISK_ALIASES = {"high": "high", "medium": "medium", "med": "medium", "low": "low",
                 "高": "high", "中": "medium", "低": "low", "h": "high", "m": "medium", "l": "low"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _int_in(field: str, value: Any, lo: int, hi: int) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip().rstrip("%").strip()
    try:
        n = int(text)
    except ValueError:
        raise FieldError(field, _("{value} is not a whole number; use {lo}–{hi}").format(
            value=repr(value), lo=lo, hi=hi)) from None
    if not lo <= n <= hi:
        raise FieldError(field, _("{n} is out of range; use a whole number from {lo} to {hi}").format(n=n, lo=lo, hi=hi))
    return n


def lost_without_reason() -> str:
    """Why a lost deal without a reason is refused, in the rep's language: an imported row
    (exchange/import_rows) or an --update that would lose a deal (store/bulk_import)."""
    return str(FieldError("lost_reason", _("is required when status is lost")))


def validate_field(
    field: str,
    value: Any,
    *,
    stages: Sequence[StageDef] = (),
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> Any:
    """Clean and check one field; raises FieldError naming the field."""
    if field in TEXT_FIELDS:
        try:
            cleaned = clean_text(
                None if value is None else str(value),
                multiline=field in MULTILINE,
                max_len=TEXT_FIELDS[field],
            )
        except ValueError as exc:
            raise FieldError(field, str(exc)) from None
        if field in REQUIRED and not cleaned:
            raise FieldError(field, _("is required"))
        if field == "contact_email" and cleaned and not _EMAIL.match(cleaned):
            raise FieldError(field, _("{value} is not an email address").format(value=repr(cleaned)))
        if field == "external_id":
            return cleaned or None
        if field == "lost_reason":  # a word of the list is kept as its code (`没预算` -> budget)
            return LOST_REASON.canonical(cleaned)
        return cleaned
    if field == "stage":
        try:
            return find_stage(list(stages), str(value or "")).key
        except ValueError as exc:
            raise FieldError(field, str(exc)) from None
    if field == "amount":
        try:
            return parse_amount(value if not isinstance(value, float) else str(value))
        except ValueError as exc:
            raise FieldError(field, str(exc)) from None
    if field == "probability":
        return _int_in(field, value, 0, 100)
    if field == "lead_score":
        return _int_in(field, value, 0, 10)
    if field == "currency":
        text = str(value or "").strip().upper() or "CNY"
        if text in ("RMB", "¥", "￥", "元"):
            text = "CNY"
        if not _CURRENCY.match(text):
            raise FieldError(field, _("{value} is not a currency code; use three letters such as CNY, USD, EUR")
                             .format(value=repr(value)))
        return text
    if field == "risk_level":
        text = str(value or "").strip().casefold()
        if not text:
            return None
        if text not in _RISK_ALIASES:
            raise FieldError(field, _("{value} is not a risk level; use one of: {choices}").format(
                value=repr(value), choices=", ".join(RISK_LEVELS)))
        return _RISK_ALIASES[text]
    if field == "expected_close":
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if now is None or tz is None:
            raise TypeError("expected_close needs now and tz")
        try:
            return parse_date(str(value), now=now, tz=tz)
        except ValueError as exc:
            raise FieldError(field, str(exc)) from None
    if field == "status":
        text = str(value or "").strip().casefold() or "open"
        if text not in DEAL_STATUSES:
            raise FieldError(field, _("{value} is not a status; use one of: {choices}").format(
                value=repr(value), choices=", ".join(DEAL_STATUSES)))
        return text
    if field == "kind":  # the code, an English or Chinese label, or a synonym (`电话`, `phone`)
        code = FOLLOWUP_KIND.lookup(str(value or "").strip() or "call")
        if code is None:
            raise FieldError(field, _("{value} is not a kind; use one of: {choices}").format(
                value=repr(value), choices=", ".join(FOLLOWUP_KINDS)))
        return code
    if field.endswith("_at"):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, datetime):
            return value
        if tz is None:
            raise TypeError(f"{field} needs tz")
        try:
            return parse_timestamp(str(value), tz=tz)
        except ValueError as exc:
            raise FieldError(field, str(exc)) from None
    raise FieldError(field, _("is not a field of a deal"))


def validate_deal(
    raw: Mapping[str, Any],
    *,
    stages: Sequence[StageDef],
    now: datetime,
    tz: tzinfo,
    partial: bool = False,
) -> dict[str, Any]:
    """Validate a whole deal draft; collects every bad field before raising.

    With partial=True only the given keys are checked (edits); otherwise `customer` is
    required and `stage` defaults to the first stage.
    """
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    fields = list(raw) if partial else list(dict.fromkeys([*DEAL_INPUT_FIELDS, *raw]))
    for field in fields:
        if not partial and field not in raw:
            if field in REQUIRED:
                errors[field] = _("is required")
            continue
        try:
            out[field] = validate_field(field, raw[field], stages=stages, now=now, tz=tz)
        except FieldError as exc:
            errors[exc.field] = exc.message
    if not partial and "stage" not in out and "stage" not in errors:
        out["stage"] = sorted(stages, key=lambda s: s.position)[0].key
    if errors:
        raise ValidationError(errors)
    return out


@dataclass(frozen=True, slots=True)
class FollowUpDraft:
    """What a follow-up form or `funnel follow-up` hands to the store."""

    deal_id: int
    due_at: datetime  # aware UTC
    kind: str = "call"
    note: str = ""


@dataclass(frozen=True, slots=True)
class TouchDraft:
    deal_id: int
    kind: str = "call"
    note: str = ""
    next_due_at: datetime | None = None  # schedule the next follow-up in the same step
    next_kind: str = "call"
    next_note: str = ""
    completes: int | None = None  # this open follow-up of the deal is done by the touch (Today's `l`)
