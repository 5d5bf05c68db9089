"""Follow-ups and touches: plan, complete, snooze, log a contact; each in history.

A deal's next step is its earliest open follow-up, kept on the deal itself
(`next_follow_up_at`, what the board sorts by) by `refresh_next_follow_up` after every
change here. Every function works inside the caller's write transaction, so one action
(a call logged and its next follow-up planned) is one transaction and one undo step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection

from funnel_tui.domain.validation import FollowUpDraft, TouchDraft, validate_field
from funnel_tui.i18n import NP_, _, pgettext
from funnel_tui.store.engine import WRITE_OPTION
from funnel_tui.store.errors import NotFound, StoreError
from funnel_tui.store.history import apply_changes, deal_row, history_row, record, ser
from funnel_tui.store.tables import F, D, T, to_db


def refresh_next_follow_up(conn: Connection, deal_id: int) -> None:
    """Set the deal's next_follow_up_at to its earliest open follow-up (or none)."""
    nxt = (
        select(func.min(F.c.due_at))
        .where(and_(F.c.deal_id == deal_id, F.c.status == "open"))
        .scalar_subquery()
    )
    conn.execute(update(D).where(D.c.id == deal_id).values(next_follow_up_at=nxt))


def close_follow_ups(conn: Connection, deal_id: int, *, now: datetime, action: str) -> int:
    """Cancel the deal's open follow-ups (it was won or lost); returns how many."""
    ids = conn.execute(
        select(F.c.id).where(and_(F.c.deal_id == deal_id, F.c.status == "open"))
    ).scalars().all()
    if not ids:
        return 0
    conn.execute(update(F).where(F.c.id.in_(ids)).values(status="canceled", done_at=to_db(now)))
    record(conn, [history_row(deal_id, to_db(now), "followup", action, field=f"followup.{fid}.status",
                              old="open", new="canceled") for fid in ids])
    refresh_next_follow_up(conn, deal_id)
    return len(ids)


# A follow-up's status as the rep reads it ("already done").
_FOLLOW_UP_STATUS = {"done": NP_("follow-up status", "done"), "canceled": NP_("follow-up status", "canceled")}


def open_follow_up(conn: Connection, followup_id: int) -> dict:
    """The follow-up's row, refused unless it is still open.

    On a server, in a write transaction, its deal's row is locked first, then the
    follow-up's (always in that order, as every write here takes them, so two terminals never
    deadlock): a second `done` on the same follow-up waits, then finds it done and is
    refused. (SQLite's BEGIN IMMEDIATE already holds the whole file.)"""
    q = select(F).where(F.c.id == followup_id)
    row = conn.execute(q).mappings().first()
    if row is not None and conn.dialect.name != "sqlite" and conn.get_execution_options().get(WRITE_OPTION):
        deal_row(conn, row["deal_id"], include_deleted=True)
        row = conn.execute(q.with_for_update()).mappings().first()
    if row is None:
        raise NotFound(_("follow-up: no follow-up with id {id}").format(id=followup_id))
    if row["status"] != "open":
        raise StoreError(_("follow-up {id} is already {status}").format(
            id=followup_id, status=pgettext("follow-up status", _FOLLOW_UP_STATUS.get(row["status"], row["status"]))))
    return dict(row)


def add_follow_up(conn: Connection, draft: FollowUpDraft, *, now: datetime, action: str) -> int:
    """Plan a follow-up on an open or won deal; returns its id."""
    kind = validate_field("kind", draft.kind)
    note = validate_field("notes", draft.note)
    if draft.due_at.tzinfo is None:
        raise ValueError("due_at must be aware")
    deal = deal_row(conn, draft.deal_id)
    if deal["status"] == "lost":
        raise StoreError(_("deal {id} is lost; reopen it before planning a follow-up").format(id=draft.deal_id))
    fid = conn.execute(insert(F).values(
        deal_id=draft.deal_id, kind=kind, due_at=to_db(draft.due_at), note=note,
        status="open", created_at=to_db(now),
    )).inserted_primary_key[0]
    record(conn, [history_row(draft.deal_id, to_db(now), "followup", action,
                              field=f"followup.{fid}.status", new="open")])
    refresh_next_follow_up(conn, draft.deal_id)
    return int(fid)


def _touch(conn: Connection, deal: dict, *, kind: str, note: str, now: datetime, action: str,
           followup_id: int | None = None, before: tuple[dict, ...] = ()) -> int:
    """A contact: the touch, its history row (after `before`), the deal's last contact."""
    row = {"deal_id": deal["id"], "kind": kind, "at": to_db(now), "note": note}
    if followup_id is not None:
        row["followup_id"] = followup_id
    touch_id = int(conn.execute(insert(T).values(**row)).inserted_primary_key[0])
    record(conn, [*before, history_row(deal["id"], to_db(now), "touch", action,
                                       field=f"touch.{touch_id}", new=note)])
    apply_changes(conn, deal, {"last_contact_at": to_db(now)}, now=now, action=action)
    return touch_id


def complete_follow_up(conn: Connection, followup_id: int, *, now: datetime, action: str, note: str = "",
                       next_due_at: datetime | None = None, next_kind: str | None = None,
                       next_note: str = "", kind: str | None = None, deal_id: int | None = None) -> dict[str, Any]:
    """Done: logs a touch (of the follow-up's kind, or `kind`), and optionally schedules the
    next follow-up in the same step. `deal_id`: refused unless the follow-up is that deal's."""
    note = validate_field("notes", note)
    fu = open_follow_up(conn, followup_id)
    if deal_id is not None and fu["deal_id"] != deal_id:
        raise StoreError(_("follow-up {id} is not on deal {deal} (it is on deal {other})").format(
            id=followup_id, deal=deal_id, other=fu["deal_id"]))
    deal = deal_row(conn, fu["deal_id"])
    conn.execute(update(F).where(F.c.id == followup_id).values(status="done", done_at=to_db(now)))
    done = history_row(fu["deal_id"], to_db(now), "followup", action,
                       field=f"followup.{followup_id}.status", old="open", new="done")
    touch_id = _touch(conn, deal, kind=kind or fu["kind"], note=note or fu["note"], now=now, action=action,
                      followup_id=followup_id, before=(done,))
    next_id = None
    if next_due_at is not None:
        next_id = add_follow_up(conn, FollowUpDraft(fu["deal_id"], next_due_at, next_kind or fu["kind"], next_note),
                                now=now, action=action)
    refresh_next_follow_up(conn, fu["deal_id"])
    return {"followup_id": followup_id, "touch_id": touch_id, "next_followup_id": next_id,
            "deal_id": fu["deal_id"]}


def snooze_follow_up(conn: Connection, followup_id: int, due_at: datetime, *, now: datetime,
                     action: str) -> dict[str, Any]:
    """Move an open follow-up to a new due time."""
    fu = open_follow_up(conn, followup_id)
    conn.execute(update(F).where(F.c.id == followup_id).values(due_at=to_db(due_at)))
    record(conn, [history_row(fu["deal_id"], to_db(now), "followup", action,
                              field=f"followup.{followup_id}.due_at", old=ser(fu["due_at"]),
                              new=ser(to_db(due_at)))])
    refresh_next_follow_up(conn, fu["deal_id"])
    return {"followup_id": followup_id, "deal_id": fu["deal_id"], "due_at": due_at}


def log_touch(conn: Connection, draft: TouchDraft, *, now: datetime, action: str) -> dict[str, Any]:
    """Log a contact (and optionally plan the next follow-up) in one step. When the draft
    `completes` one of the deal's open follow-ups, that one is done by this touch (with its
    note): the call the rep was due to make is the call they logged."""
    kind = validate_field("kind", draft.kind)
    note = validate_field("notes", draft.note)
    if draft.completes is not None:
        res = complete_follow_up(conn, draft.completes, now=now, action=action, note=note,
                                 next_due_at=draft.next_due_at, next_kind=draft.next_kind,
                                 next_note=draft.next_note, kind=kind, deal_id=draft.deal_id)
        return {"touch_id": res["touch_id"], "deal_id": draft.deal_id, "next_followup_id": res["next_followup_id"],
                "completed_followup_id": draft.completes}
    deal = deal_row(conn, draft.deal_id)
    touch_id = _touch(conn, deal, kind=kind, note=note, now=now, action=action)
    next_id = None
    if draft.next_due_at is not None:
        next_id = add_follow_up(conn, FollowUpDraft(draft.deal_id, draft.next_due_at, draft.next_kind,
                                                    draft.next_note), now=now, action=action)
    return {"touch_id": touch_id, "deal_id": draft.deal_id, "next_followup_id": next_id,
            "completed_followup_id": None}
