"""The import's row rules written plainly, one row at a time: the reference the columnar
RowParser.parse_columns is checked against (tests/test_import_columns.py).

Each row is read by the same column readers (the plan's, one row at a time), then the rules
below make it a deal. Keep this the readable statement of the rules, and change both together.
"""

from __future__ import annotations

from datetime import datetime, time, timezone
from typing import Any, Sequence

from funnel_tui.domain.pinyin import deal_search_key
from funnel_tui.domain.validation import TEXT_FIELDS
from funnel_tui.domain.vocab import LOST_REASON
from funnel_tui.exchange.import_rows import RowParser, RowRejected, _check_uid


def parse_row(parser: RowParser, cells: Sequence[Any]) -> tuple[dict[str, Any], datetime | None] | str:
    """One row through the column readers and the row rules; a str is the reason."""
    read = parser.plan.read_columns([cells], split_close=False)
    for name, times in read.unknown_stages.items():  # the report lists stages the file names that we lack
        parser.unknown_stages[name] = parser.unknown_stages.get(name, 0) + times
    if read.reasons[0] is not None:
        return read.reasons[0]
    parser.rounded += len(read.rounded_rows)
    raw = {name: column[0] for name, column in read.values.items()}
    try:
        return complete_row(parser, raw)
    except RowRejected as exc:
        return str(exc)


def complete_row(self: RowParser, raw: dict[str, Any]) -> tuple[dict, datetime | None]:
    """Fill defaults and apply the deal invariants; returns (deal columns, follow-up due)."""
    deal = {f: raw.get(f, "") for f in TEXT_FIELDS}
    deal["external_id"] = raw.get("external_id")
    if self._foreign and not deal["customer"]:
        deal["customer"] = deal["title"]  # a CRM deal with no organisation: its name
    if not deal["customer"]:
        raise RowRejected("customer: is required")
    if self.owner and not deal["owner"]:
        deal["owner"] = self.owner
    stage = self._by_key[raw.get("stage") or self._first.key]
    status = raw.get("status")  # the file's status, or the one its stage name implies
    if status is None:
        status = "won" if stage.kind in ("won", "post") else "open"
    if status == "won" and stage.kind == "open" and self._won is not None:
        stage = self._won  # other CRMs keep a won deal in its last open stage
    prob = raw.get("probability")
    default_prob = stage.probability if stage.probability is not None else 0
    # A deal cannot have been created after it entered its stage, nor closed before.
    entered = raw.get("stage_entered_at") or raw.get("created_at") or self.now
    created = raw.get("created_at") or entered
    expected, closed_at, close = raw.get("expected_close"), raw.get("closed_at"), raw.get("_close")
    if close is not None:  # a profile's close date: expected while open, the closing day once closed
        if expected is None and status == "open":
            expected = close
        if closed_at is None and status != "open":
            closed_at = datetime.combine(close, time(0), tzinfo=self.tz).astimezone(timezone.utc)
    closed = None
    if status != "open":
        closed = closed_at or raw.get("stage_entered_at") or self.now
    if "lost_reason" not in raw:  # the file has no column for it: say so, in words
        deal["lost_reason"] = self.no_reason if status == "lost" else ""
    else:  # a word of the list is kept as its code (issue 14)
        deal["lost_reason"] = LOST_REASON.canonical(deal["lost_reason"])
    if status == "lost" and not deal["lost_reason"]:
        raise RowRejected("lost_reason: is required when status is lost")
    deal.update(
        uid=raw.get("uid") or None,
        lead_score=raw.get("lead_score"),
        stage=stage.key,
        status=status,
        amount=raw.get("amount") or 0,
        currency=raw.get("currency") or self.currency,
        probability=default_prob if prob is None else prob,
        probability_custom=prob is not None and prob != default_prob,
        expected_close=expected,
        risk_level=raw.get("risk_level"),
        created_at=created,
        stage_entered_at=entered,
        last_contact_at=raw.get("last_contact_at"),
        closed_at=closed,
        deleted_at=None,
        search_key=deal_search_key(deal["customer"], deal["title"], deal["contact_name"]),
    )
    if deal["uid"] is not None:
        deal["uid"] = _check_uid(deal["uid"])
    follow = raw.get("next_follow_up_at") if status == "open" else None
    return deal, follow
