"""The documented CSV columns (DESIGN §6) and a deal as one record of them.

`list --format json|csv`, `show`, and `export` all speak these names, so a script written
against one works against the others.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any, Mapping

from funnel_tui.domain.dates import iso_local
from funnel_tui.domain.money import format_plain, weighted_minor
from funnel_tui.domain.vocab import DEAL_COLUMNS

CSV_COLUMNS: tuple[str, ...] = DEAL_COLUMNS
EXPORT_ONLY: tuple[str, ...] = ("weighted_amount", "tier", "dwell_days")
EXPORT_COLUMNS: tuple[str, ...] = CSV_COLUMNS + EXPORT_ONLY  # what `funnel export` writes
TIME_COLUMNS = ("created_at", "stage_entered_at", "last_contact_at", "next_follow_up_at", "closed_at")


def deal_record(
    deal: Mapping[str, Any],
    *,
    tz: tzinfo,
    now: datetime | None = None,
    tier: str | None = None,
    export_columns: bool = False,
    amounts_as_text: bool = True,
) -> dict[str, Any]:
    """One deal (a store row with aware datetimes) as the documented columns.

    Amounts are plain major units ("1054" / "12.50") as text, or numbers for JSON when
    amounts_as_text=False; times are ISO 8601 with the local offset.
    """
    rec: dict[str, Any] = {}
    for col in CSV_COLUMNS:
        value = deal.get(col)
        if col in TIME_COLUMNS:
            value = iso_local(value, tz) if value is not None else ""
        elif col == "expected_close":
            value = value.isoformat() if value else ""
        elif col == "amount":
            value = format_plain(value or 0) if amounts_as_text else (value or 0) / 100
        elif value is None:
            value = ""
        rec[col] = value
    if export_columns:
        w = weighted_minor(deal.get("amount") or 0, deal.get("probability") or 0)
        rec["weighted_amount"] = format_plain(w) if amounts_as_text else w / 100
        rec["tier"] = tier or ""
        entered = deal.get("stage_entered_at")
        if now is not None and entered is not None and deal.get("status") == "open":
            rec["dwell_days"] = int((now - entered) / timedelta(days=1))
        else:
            rec["dwell_days"] = ""
    return rec
