"""Writes to deals: add, edit, move, lose, reopen, delete and restore (DESIGN §2, §5).

The invariants live here:
- a stage move records history, resets the stage-entered time and takes the new stage's
  default probability unless the deal has its own;
- losing needs a reason and keeps the stage it was lost in;
- closing a deal (won/lost) closes its open follow-ups;
- delete is soft and restorable; every change is in history under the caller's action.
Each function runs inside the caller's write transaction and takes already-validated
values (domain.validation runs before the transaction opens).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select
from sqlalchemy.engine import Connection

from funnel_tui.domain.stages import StageDef
from funnel_tui.domain.validation import ValidationError
from funnel_tui.domain.vocab import DEAL_STATUS, column_name
from funnel_tui.i18n import _, active_lang
from funnel_tui.store.errors import StoreError
from funnel_tui.store.followups import close_follow_ups
from funnel_tui.store.history import apply_changes, deal_row, history_row, record
from funnel_tui.store.search import key_of
from funnel_tui.store.settings import stage_by_key, stage_named
from funnel_tui.store.tables import D, to_db

WON_KINDS = ("won", "post")  # stages that count as won (the win, and after it)


def insert_deal(conn: Connection, values: dict[str, Any], *, stage: StageDef, now: datetime,
                action: str) -> int:
    """Insert one validated deal into `stage`; returns its id."""
    prob = values.pop("probability", None)
    custom = prob is not None
    if prob is None:
        prob = stage.probability if stage.probability is not None else 0
    at = to_db(now)
    status = "won" if stage.kind in WON_KINDS else "open"
    row = {
        **values,
        "uid": str(uuid.uuid4()),
        "currency": values.get("currency") or "CNY",
        "amount": values.get("amount") or 0,
        "probability": prob,
        "probability_custom": custom,
        "status": status,
        "created_at": at,
        "updated_at": at,
        "stage_entered_at": at,
        "closed_at": at if status == "won" else None,
        "version": 1,
    }
    row["search_key"] = key_of(row)
    if row.get("external_id") is None:
        row.pop("external_id", None)
    if row.get("external_id"):
        dup = conn.execute(select(D.c.id).where(D.c.external_id == row["external_id"])).scalar()
        if dup is not None:
            raise StoreError(column_name("external_id") + ": " + _("{value} is already deal {id}").format(
                value=repr(row["external_id"]), id=dup))
    deal_id = conn.execute(insert(D).values(**row)).inserted_primary_key[0]
    record(conn, [history_row(deal_id, at, "created", action, to_stage=stage.key)])
    return int(deal_id)


def update_deal(conn: Connection, deal_id: int, values: dict[str, Any], *, stages: tuple[StageDef, ...],
                now: datetime, action: str, expected_version: int | None = None) -> dict:
    """Edit fields (validated, partial; not stage or status)."""
    deal = deal_row(conn, deal_id)
    if values.get("probability_custom") is False:
        stage = stage_by_key(stages, deal["stage"])
        values["probability"] = stage.probability if stage.probability is not None else deal["probability"]
    if values.get("customer") == "":
        raise ValidationError({"customer": _("is required")})
    ext = values.get("external_id")
    if ext:
        dup = conn.execute(select(D.c.id).where(and_(D.c.external_id == ext, D.c.id != deal_id))).scalar()
        if dup is not None:
            raise ValidationError({"external_id": _("{value} is already deal {id}").format(value=repr(ext), id=dup)})
    return apply_changes(conn, deal, values, now=now, action=action, expected_version=expected_version)


def _entering(deal: dict, target: StageDef, now: datetime) -> dict[str, Any]:
    """The columns a deal changes on entering `target`: stage, its clock, the default probability."""
    changes: dict[str, Any] = {"stage": target.key, "stage_entered_at": to_db(now)}
    if not deal["probability_custom"] and target.probability is not None:
        changes["probability"] = target.probability
    return changes


def _check_target(deal: dict, target: StageDef, stages: tuple[StageDef, ...]) -> None:
    """A deal moves only to a live stage of its own pipeline."""
    if target.archived:
        raise StoreError(_("stage: {key} is archived; move the deal to a live stage").format(key=target.key))
    here = next((s for s in stages if s.key == deal["stage"]), None)
    if here is not None and here.pipeline != target.pipeline:
        raise StoreError(_("stage: {key} belongs to another pipeline than deal {id} ({pipeline}); a deal "
                           "stays in its pipeline").format(key=target.key, id=deal["id"], pipeline=here.pipeline))


def move_deal(conn: Connection, deal_id: int, target: StageDef, *, now: datetime, action: str,
              expected_version: int | None = None, stages: tuple[StageDef, ...] = ()) -> dict:
    """Move a deal to another stage (won ⇒ status won; a won deal moved back reopens)."""
    deal = deal_row(conn, deal_id)
    if deal["status"] == "lost":
        raise StoreError(_("deal {id} is lost; reopen it first (funnel reopen {id})").format(id=deal_id))
    if deal["stage"] == target.key:
        raise StoreError(_("deal {id} is already in {stage}").format(id=deal_id, stage=target.label(active_lang())))
    _check_target(deal, target, stages)
    changes = _entering(deal, target, now)
    kinds = {}
    if target.kind in WON_KINDS and deal["status"] == "open":
        changes.update(status="won", closed_at=to_db(now))
        kinds["status"] = "won"
    elif target.kind == "open" and deal["status"] == "won":
        changes.update(status="open", closed_at=None)
        kinds["status"] = "reopened"
    deal = apply_changes(conn, deal, changes, now=now, action=action, kind_for=kinds,
                         expected_version=expected_version)
    if changes.get("status") == "won":
        close_follow_ups(conn, deal_id, now=now, action=action)
    return deal


def lose_deal(conn: Connection, deal_id: int, reason: str, *, now: datetime, action: str) -> dict:
    """Mark lost with a (validated, non-empty) reason; the deal keeps its stage."""
    deal = deal_row(conn, deal_id)
    if deal["status"] != "open":
        raise StoreError(_("deal {id} is already {status}").format(id=deal_id, status=DEAL_STATUS.label(deal["status"])))
    deal = apply_changes(conn, deal, {"status": "lost", "lost_reason": reason, "closed_at": to_db(now)},
                         now=now, action=action, kind_for={"status": "lost"})
    close_follow_ups(conn, deal_id, now=now, action=action)
    return deal


def reopen_deal(conn: Connection, deal_id: int, *, stages: tuple[StageDef, ...], now: datetime, action: str,
                stage: str | None = None) -> dict:
    """A lost or won deal becomes open again (in its stage, or `stage`; the last open
    stage when that one is not an open stage)."""
    deal = deal_row(conn, deal_id)
    if deal["status"] == "open":
        raise StoreError(_("deal {id} is already open").format(id=deal_id))
    changes: dict[str, Any] = {"status": "open", "closed_at": None, "lost_reason": ""}
    target = stage_named(stages, stage) if stage else stage_by_key(stages, deal["stage"])
    if target.archived and not stage:
        raise StoreError(_("deal {id}'s stage {key} is archived; reopen it into a live stage: "
                           "funnel reopen {id} --stage STAGE").format(id=deal_id, key=target.key))
    _check_target(deal, target, stages)
    if target.kind != "open":
        target = [s for s in stages if s.kind == "open" and s.pipeline == target.pipeline
                  and not s.archived][-1]
    if target.key != deal["stage"]:
        changes.update(_entering(deal, target, now))
    return apply_changes(conn, deal, changes, now=now, action=action, kind_for={"status": "reopened"})


def set_deleted(conn: Connection, deal_id: int, deleted: bool, *, now: datetime, action: str) -> dict:
    """Soft delete (hidden everywhere, never removed), or restore a deleted deal."""
    deal = deal_row(conn, deal_id, include_deleted=not deleted)
    if not deleted and deal["deleted_at"] is None:
        raise StoreError(_("deal {id} is not deleted").format(id=deal_id))
    return apply_changes(conn, deal, {"deleted_at": to_db(now) if deleted else None}, now=now, action=action,
                         kind_for={"deleted_at": "deleted" if deleted else "restored"})
