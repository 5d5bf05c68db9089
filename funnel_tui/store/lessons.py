"""Lessons (复盘, 经验库): what a won or lost deal taught, one per deal, shared with the team.

A lesson is written when a deal is won or lost (in the same action as the win or the loss,
so one undo takes both back) or later, on a closed deal. It keeps the deal's stage — where
it was won (the open stage the deal left for the win) or lost (the stage it stayed in) —
and, for a loss, the lost reason's code (`price`; the rep's own words when the reason is no
code), with the customer and owner as they were: on a team server every rep reads every
lesson, also of deals they cannot see. Only its author changes it (the server's row-level
policies say so too: store.pg_team).

Every write is a history row of the deal (kind `field`, field `lesson`, the lesson before
and after as JSON), so undo restores the lesson as it was, or removes a new one.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Mapping, Sequence

from sqlalchemy import and_, delete, insert, select, text, update
from sqlalchemy.engine import Connection

from funnel_tui.domain.stages import StageDef
from funnel_tui.domain.text import clean_text
from funnel_tui.domain.vocab import LOST_REASON
from funnel_tui.i18n import _
from funnel_tui.models import Lesson
from funnel_tui.store.errors import StoreError
from funnel_tui.store.history import deal_row, history_row, live_sql, record
from funnel_tui.store.settings import author as writer_of
from funnel_tui.store.tables import D, to_db

L = Lesson.__table__
LESSON_FIELD = "lesson"
MAX_LESSON = 2000  # characters, as the table's CHECK says
# What a lesson row says, as history keeps it (JSON) and undo restores it.
PAYLOAD = ("outcome", "stage", "reason", "text", "customer", "owner")
WON_KINDS = ("won", "post")


def is_lesson(row: Mapping[str, Any]) -> bool:
    """A history row of a lesson written, changed or taken back."""
    return row.get("field") == LESSON_FIELD and row.get("deal_id") is not None


def clean_lesson(raw: str | None) -> str:
    """The lesson as stored: control characters out, lines kept, never empty, ≤ 2000 characters."""
    try:
        cleaned = clean_text(raw, multiline=True, max_len=MAX_LESSON)
    except ValueError as exc:
        raise StoreError(_("lesson: {problem}").format(problem=exc)) from None
    if not cleaned:
        raise StoreError(_("lesson: write what the deal taught (it is empty)"))
    return cleaned


def reason_code(lost_reason: str) -> str:
    """The reason a loss is grouped by: the code a word of the list or a synonym names
    (`budget` of `budget: 老板换了`, of `没预算`), else the rep's own words."""
    whole = (lost_reason or "").strip()
    for colon in (":", "："):
        head, sep, _rest = whole.partition(colon)
        if sep and LOST_REASON.lookup(head):
            return LOST_REASON.lookup(head)  # type: ignore[return-value]
    return LOST_REASON.lookup(whole) or whole


def won_from(conn: Connection, deal: Mapping[str, Any], stages: Sequence[StageDef]) -> str:
    """The open stage a won deal left for the win (its newest live move from an open stage
    into a won one); the deal's own stage when it was won without one (added as won)."""
    kinds = {s.key: s.kind for s in stages}
    rows = conn.execute(text(
        f"SELECT h.from_stage, h.to_stage FROM history h WHERE h.deal_id = :id AND h.kind = 'stage' "
        f"AND {live_sql('h')} ORDER BY h.id DESC LIMIT 50"), {"id": deal["id"]}).all()
    for from_stage, to_stage in rows:
        if kinds.get(to_stage) in WON_KINDS and kinds.get(from_stage) == "open":
            return from_stage
    return deal["stage"]


def lesson_of(conn: Connection, deal_id: int) -> dict | None:
    """The deal's lesson, or None."""
    row = conn.execute(select(L).where(L.c.deal_id == deal_id)).mappings().first()
    return dict(row) if row is not None else None


def write_lesson(conn: Connection, deal_id: int, raw: str, *, stages: Sequence[StageDef], now: datetime,
                 action: str) -> dict:
    """Write (or change) the lesson of a won or lost deal; returns the lesson's row. Refused
    on an open deal, and on a lesson someone else wrote."""
    lesson_text = clean_lesson(raw)
    deal = deal_row(conn, deal_id)
    if deal["status"] not in ("won", "lost"):
        raise StoreError(_("lesson: deal {id} is open; a lesson is written when a deal is won or lost").format(
            id=deal_id))
    me = writer_of(conn)
    old = lesson_of(conn, deal_id)
    if old is not None and old["author"] and old["author"] != me:
        raise StoreError(_("lesson: the lesson of deal {id} is {author}'s; only they can change it").format(
            id=deal_id, author=old["author"]))
    won = deal["status"] == "won"
    payload = {
        "outcome": deal["status"],
        "stage": won_from(conn, deal, stages) if won else deal["stage"],
        "reason": "" if won else reason_code(deal["lost_reason"]),
        "text": lesson_text, "customer": deal["customer"], "owner": deal["owner"] or "",
    }
    before = {k: old[k] for k in PAYLOAD} if old is not None else None
    if before == payload:
        return old  # type: ignore[return-value]
    at = to_db(now)
    if old is None:
        conn.execute(insert(L).values(deal_id=deal_id, author=me, created_at=at, updated_at=at, **payload))
    else:
        done = conn.execute(update(L).where(L.c.deal_id == deal_id).values(updated_at=at, **payload))
        if done.rowcount != 1:  # the server's policy: someone else's lesson
            raise StoreError(_("lesson: the lesson of deal {id} is {author}'s; only they can change it").format(
                id=deal_id, author=old["author"]))
    record(conn, [history_row(deal_id, at, "field", action, field=LESSON_FIELD,
                              old=_as_json(before), new=_as_json(payload))])
    return lesson_of(conn, deal_id)  # type: ignore[return-value]


def undo_lesson(conn: Connection, row: Mapping[str, Any], *, now: datetime, action: str) -> None:
    """The inverse of one lesson row: the lesson back as it was, or gone when it was new."""
    at = to_db(now)
    deal_id = row["deal_id"]
    before = json.loads(row["old"]) if row["old"] else None
    if before is None:
        conn.execute(delete(L).where(L.c.deal_id == deal_id))
    elif conn.execute(update(L).where(L.c.deal_id == deal_id).values(updated_at=at, **before)).rowcount == 0:
        conn.execute(insert(L).values(deal_id=deal_id, author=writer_of(conn), created_at=at, updated_at=at,
                                      **before))
    record(conn, [history_row(deal_id, at, "field", action, field=LESSON_FIELD, old=row["new"], new=row["old"])])


def lesson_text(history_value: str | None) -> str:
    """The lesson's words in a history row's old/new (for the timeline)."""
    if not history_value:
        return ""
    try:
        return str(json.loads(history_value).get("text", ""))
    except (ValueError, AttributeError):
        return history_value


def _as_json(payload: Mapping[str, Any] | None) -> str | None:
    return None if payload is None else json.dumps(dict(payload), ensure_ascii=False, sort_keys=True)


def list_lessons(conn: Connection, *, stages: Sequence[str] | None = None, reason: str | None = None,
                 owner: str | None = None, outcome: str | None = None, limit: int | None = None) -> list[dict]:
    """Lessons, newest first (the caller groups them by stage and reason); those of deleted
    deals left out. `stages`: any of these stage keys; `reason`: a code or the rep's words."""
    deleted = select(D.c.id).where(and_(D.c.id == L.c.deal_id, D.c.deleted_at.is_not(None))).exists()
    q = select(L).where(~deleted)
    if stages is not None:
        q = q.where(L.c.stage.in_(list(stages)))
    if reason is not None:
        q = q.where(L.c.reason == reason)
    if owner is not None:
        q = q.where(L.c.owner == owner)
    if outcome is not None:
        q = q.where(L.c.outcome == outcome)
    q = q.order_by(L.c.updated_at.desc(), L.c.deal_id.desc())
    if limit is not None:
        q = q.limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]
