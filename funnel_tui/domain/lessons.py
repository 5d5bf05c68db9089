"""Lessons grouped as the rep reads them (`funnel lessons`, the Summary's Lessons panel): by
outcome (losses first: 复盘 starts with where deals are lost), stage in funnel order, reason.
Pure: rows and stages in, groups out."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Sequence

from funnel_tui.domain.stages import StageDef
from funnel_tui.domain.vocab import LOST_REASON


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def group_lessons(rows: Sequence[Mapping[str, Any]], stages: Sequence[StageDef], lang: str) -> list[dict]:
    """Groups {outcome, stage, stage_name, reason, reason_label, count, lessons: [{deal_id,
    customer, owner, author, text, created_at, updated_at}]}, names in `lang`; the lessons
    keep the rows' order (newest first)."""
    first = stages[0].pipeline if stages else None
    order = {s.key: (s.pipeline != first, s.position) for s in stages}
    names = {s.key: s.label(lang) for s in stages}
    groups: dict[tuple[str, str, str], dict] = {}
    for r in rows:
        group = groups.setdefault((r["outcome"], r["stage"], r["reason"]), {
            "outcome": r["outcome"], "stage": r["stage"], "stage_name": names.get(r["stage"], r["stage"]),
            "reason": r["reason"], "reason_label": LOST_REASON.label(r["reason"], lang) if r["reason"] else "",
            "count": 0, "lessons": []})
        group["count"] += 1
        group["lessons"].append({
            "deal_id": r["deal_id"], "customer": r["customer"], "owner": r["owner"], "author": r["author"],
            "text": r["text"], "created_at": _iso(r["created_at"]), "updated_at": _iso(r["updated_at"])})
    return sorted(groups.values(), key=lambda g: (
        g["outcome"] != "lost", order.get(g["stage"], (True, 1 << 30)), g["stage"], g["reason"]))
