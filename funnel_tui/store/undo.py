"""Undo: the newest action not yet undone, walked back by appending its inverse.

History stays append-only: undo writes new rows under `undo:<action>`, marks both actions
in the `undo` table (models.Undo says why a table), and every reader skips the rows of
marked actions, so after an action and its undo every number is as it was. Deal
columns are restored through apply_changes (history-tracked, version-checked);
follow-ups get their old status or due time back; touches are voided, never deleted; an
import's deals are soft-deleted. Imported here rather than in history.py: undo needs the
follow-up rules, and they need history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, text, update
from sqlalchemy.engine import Connection

from funnel_tui.domain.funnel import UNDO_PREFIX
from funnel_tui.domain.stage_history import is_setup
from funnel_tui.domain.undo import what_was_done
from funnel_tui.store.checklist import is_tick, undo_check
from funnel_tui.store.followups import refresh_next_follow_up
from funnel_tui.store.scoring import SCORE_FIELD, is_rule_row, undo_rescore, undo_rules
from funnel_tui.store.history import TRACKED, apply_changes, deal_row, deser, history_row, live_sql, record, ser
from funnel_tui.store.lessons import is_lesson, undo_lesson
from funnel_tui.store.stage_setup import undo_setup
from funnel_tui.store.tables import D, F, H, T, U, to_db


def newest_action(conn: Connection, *, authors: tuple[str, ...] | None = None) -> str | None:
    """The newest action that stands (not undone, not an undo), of `authors` when given: walks
    history back from the end, so it costs the few rows written since, not the whole table."""
    if authors is None:
        return conn.execute(text(
            f"SELECT h.action FROM history h WHERE h.action <> '' AND {live_sql('h')} "
            "ORDER BY h.id DESC LIMIT 1")).scalar()
    return conn.execute(text(
        f"SELECT h.action FROM history h WHERE h.action <> '' AND h.author IN :authors AND {live_sql('h')} "
        "ORDER BY h.id DESC LIMIT 1").bindparams(bindparam("authors", expanding=True)),
        {"authors": list(authors)}).scalar()


def undo(conn: Connection, *, now: datetime, authors: tuple[str, ...] | None = None) -> dict | None:
    """Revert the newest action not yet undone (of `authors` when given: one's own changes,
    never a colleague's). Returns {"action", "deal_ids", "rows", "what", "customer", "fields",
    "from_stage", "to_stage", "deals"} (domain.undo), or None when there is nothing to undo."""
    target = newest_action(conn, authors=authors)
    if target is None:
        return None
    rows = conn.execute(select(H).where(H.c.action == target).order_by(H.c.id.desc())).mappings().all()
    _lock_deals(conn, sorted({r["deal_id"] for r in rows if r["deal_id"] is not None}))
    first = conn.execute(select(D.c.customer).where(D.c.id == rows[-1]["deal_id"])).scalar()
    what = what_was_done([dict(r) for r in reversed(rows)])
    action = UNDO_PREFIX + target
    if what["what"] == "rescore":  # scores only, maybe of 50k deals: set-wise, as an import's undo
        ids = undo_rescore(conn, rows, now=now, action=action)
        conn.execute(insert(U).values(action=target, undo_action=action, at=to_db(now)))
        return {"action": target, "deal_ids": ids, "rows": len(rows), "customer": first or "", **what, "setup": 0}
    deal_ids: dict[int, None] = {}  # an ordered set: an import touches many deals
    imported: list[int] = []
    # Column changes are gathered per deal and written in one UPDATE, so CHECKs that tie
    # columns together (status ↔ closed_at) hold at every statement.
    restore: dict[int, dict[str, Any]] = {}
    setup = [dict(row) for row in rows if is_setup(row)]  # stage changes: no deal
    rules = [dict(row) for row in rows if is_rule_row(row)]  # scorecard changes: no deal either
    # An import's new deals were scored with it: their scores go back set-wise, as a rescore's.
    new_deals = {row["deal_id"] for row in rows if row["kind"] == "imported"}
    new_scores = [row for row in rows if row["deal_id"] in new_deals and row["field"] in ("lead_score", SCORE_FIELD)]
    for row in rows:  # newest first: the oldest row's "old" value wins
        if is_setup(row) or is_rule_row(row):
            continue
        if new_scores and row["deal_id"] in new_deals and row["field"] in ("lead_score", SCORE_FIELD):
            continue
        deal_ids.setdefault(row["deal_id"], None)
        if is_tick(row):
            undo_check(conn, row, now=now, action=action)
        elif is_lesson(row):
            undo_lesson(conn, row, now=now, action=action)
        elif row["kind"] == "imported":
            imported.append(row["deal_id"])
        elif (row["field"] or "") in TRACKED and row["kind"] != "created":
            restore.setdefault(row["deal_id"], {})[row["field"]] = deser(row["field"], row["old"])
        else:
            _undo_row(conn, dict(row), now=now, action=action)
    _soft_delete_many(conn, imported, now=now, action=action)
    if new_scores:  # as undoing a single add: deleted, its score back to none
        undo_rescore(conn, new_scores, now=now, action=action)
    for deal_id, changes in restore.items():
        deal = deal_row(conn, deal_id, include_deleted=True)
        kinds = {}
        if "status" in changes:
            kinds["status"] = "reopened" if changes["status"] == "open" else changes["status"]
        if "deleted_at" in changes:
            kinds["deleted_at"] = "restored" if changes["deleted_at"] is None else "deleted"
        apply_changes(conn, deal, changes, now=now, action=action, kind_for=kinds)
    if setup:  # after the deals are back in their stages: a created stage can go again
        undo_setup(conn, setup, now=now, action=action)
    if rules:
        undo_rules(conn, rules, now=now, action=action)
    skip = set(imported)  # their follow-ups did not change
    for deal_id in deal_ids:
        if deal_id not in skip:
            refresh_next_follow_up(conn, deal_id)
    conn.execute(insert(U).values(action=target, undo_action=action, at=to_db(now)))
    return {"action": target, "deal_ids": list(deal_ids), "rows": len(rows), "customer": first or "", **what,
            "setup": len(setup)}


def _lock_deals(conn: Connection, ids: list[int]) -> None:
    """On a server, lock the action's deals first, in id order (as every other write locks a
    deal before its follow-ups), so an undo and a colleague's write queue instead of
    deadlocking. SQLite's BEGIN IMMEDIATE already holds the file."""
    if conn.dialect.name == "sqlite":
        return
    for i in range(0, len(ids), 500):
        conn.execute(select(D.c.id).where(D.c.id.in_(ids[i:i + 500])).order_by(D.c.id).with_for_update())


def _soft_delete_many(conn: Connection, ids: list[int], *, now: datetime, action: str) -> None:
    """Undo of an import: soft-delete its deals set-wise (one UPDATE per chunk, the same
    history rows apply_changes would write one deal at a time)."""
    at = to_db(now)
    for i in range(0, len(ids), 500):
        live = conn.execute(select(D.c.id).where(and_(
            D.c.id.in_(ids[i:i + 500]), D.c.deleted_at.is_(None)))).scalars().all()
        if not live:
            continue
        conn.execute(update(D).where(D.c.id.in_(live)).values(
            deleted_at=at, updated_at=at, version=D.c.version + 1))
        record(conn, [history_row(d, at, "deleted", action, field="deleted_at", new=ser(at)) for d in live])


def _undo_row(conn: Connection, row: dict, *, now: datetime, action: str) -> None:
    """The inverse of one row that is not a deal column: a creation, a follow-up, a touch."""
    at = to_db(now)
    field = row["field"] or ""
    if row["kind"] in ("created", "imported"):
        deal = deal_row(conn, row["deal_id"], include_deleted=True)
        if deal["deleted_at"] is None:
            apply_changes(conn, deal, {"deleted_at": at}, now=now, action=action, kind_for={"deleted_at": "deleted"})
        return
    if field.startswith("followup."):
        _, fid, col = field.split(".")
        if col == "status":
            old = row["old"] or "canceled"  # undoing a creation cancels it
            conn.execute(update(F).where(F.c.id == int(fid)).values(
                status=old, done_at=None if old == "open" else at))
        else:
            conn.execute(update(F).where(F.c.id == int(fid)).values(due_at=deser("closed_at", row["old"])))
        record(conn, [history_row(row["deal_id"], at, "followup", action, field=field,
                                  old=row["new"], new=row["old"])])
        return
    if field.startswith("touch."):
        tid = int(field.split(".")[1])
        conn.execute(update(T).where(T.c.id == tid).values(voided_at=at))
        record(conn, [history_row(row["deal_id"], at, "touch", action, field=field, old=row["new"])])
