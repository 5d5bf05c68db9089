"""The import's row rules written plainly, one row at a time: the reference the columnar
RowParser.parse_columns is checked against (tests/test_import_columns.py).

This was RowParser._complete before the import went column-wise; keep it as the readable
statement of the rules, and change both together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from funnel_tui.domain.pinyin import deal_search_key
from funnel_tui.domain.validation import TEXT_FIELDS, FieldError
from funnel_tui.exchange.import_rows import RowParser, RowRejected, _check_uid


def parse_row(parser: RowParser, cells: list[str]) -> tuple[dict[str, Any], datetime | None] | str:
    """One row through the per-cell converters and the row rules; a str is the reason."""
    if len(cells) != parser._width:
        return f"{len(cells)} cells but the header has {parser._width} (ragged row)"
    errors: list[str] = []
    raw: dict[str, Any] = {}
    status_from_stage = None
    for (i, name, _how), key, convert in zip(parser._cols, parser._keys, parser._converters):
        try:
            value = convert(cells[i])
        except FieldError as exc:
            if name == "stage":  # the report lists stages the file names that we lack
                parser._count_unknown_stage(cells[i], 1)
            errors.append(f"{exc.field}: {exc.message}")
            continue
        if name == "stage":
            value, status_from_stage = value
        raw[key] = value
    if errors:
        return "; ".join(errors)
    try:
        return complete_row(parser, raw, status_from_stage)
    except RowRejected as exc:
        return str(exc)


def complete_row(self: RowParser, raw: dict[str, Any], status_from_stage: str | None) -> tuple[dict, datetime | None]:
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
    status = raw.get("status") or status_from_stage or "open"
    if "status" not in raw and status_from_stage is None and stage.kind in ("won", "post"):
        status = "won"
    if status == "won" and stage.kind == "open" and self._won is not None:
        stage = self._won  # other CRMs keep a won deal in its last open stage
    prob = raw.get("probability")
    default_prob = stage.probability if stage.probability is not None else 0
    # A deal cannot have been created after it entered its stage, nor closed before.
    entered = raw.get("stage_entered_at") or raw.get("created_at") or self.now
    created = raw.get("created_at") or entered
    closed = None
    if status != "open":
        closed = raw.get("closed_at") or raw.get("_close") or raw.get("stage_entered_at") or self.now
    if status == "lost" and not deal["lost_reason"]:
        raise RowRejected("lost_reason: is required when status is lost")
    expected = raw.get("expected_close")
    if expected is None and status == "open" and raw.get("_close") is not None:
        expected = raw["_close"].astimezone(self.tz).date()  # HubSpot's Close Date on an open deal
    deal.update(
        uid=raw.get("uid") or None,
        lead_score=raw.get("lead_score"),
        stage=stage.key,
        status=status,
        amount=raw.get("amount") or 0,
        currency=raw.get("currency") or "CNY",
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
