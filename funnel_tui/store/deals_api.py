"""Deals, follow-ups, touches and undo: the part of the Store that writes what a rep does to
a deal (mixed into core.Store, as analytics_api.AnalyticsMethods is). Each method is one short
transaction over the concern modules (deals, followups, scoring, lessons, undo).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from funnel_tui.domain.validation import (
    FieldError,
    FollowUpDraft,
    TouchDraft,
    ValidationError,
    validate_deal,
    validate_field,
)
from funnel_tui.domain.vocab import column_name
from funnel_tui.i18n import _, active_lang
from funnel_tui.store import deals, followups, lessons, scoring, settings, undo
from funnel_tui.store.errors import StoreError
from funnel_tui.store.history import new_action

UTC = timezone.utc


class DealMethods:
    """What a rep does to a deal: the part of the Store it needs is named below."""

    # provided by Store (and StageMethods)
    write: Callable[..., Any]
    me: Callable[..., Any]
    stages: Callable[..., Any]
    stage: Callable[..., Any]
    all_stages: Callable[..., Any]
    forget_stages: Callable[..., Any]
    server: bool
    author: str

    # --- deals ------------------------------------------------------------------------------

    def add_deal(self, raw: Mapping[str, Any], *, now: datetime, tz=UTC, action: str | None = None,
                 pipeline: str | None = None, follow_up: FollowUpDraft | None = None) -> int:
        """Validate and insert one deal (into `pipeline`'s first stage unless it names a
        stage; the default pipeline's by default); returns its id. Raises ValidationError.
        A deal that names no owner is the rep's own (`me`), when the rep has said their name.

        `follow_up` (its deal_id is ignored) is the deal's first follow-up, planned in the
        same transaction and the same undo step: both are written, or neither."""
        if not str(raw.get("owner") or "").strip():
            me = self.me()
            if me:
                raw = {**raw, "owner": me}
        stages = self.stages(pipeline)
        if raw.get("stage") and pipeline is None:  # a key or name of any pipeline's stage
            try:
                stages = self.stages(self.stage(str(raw["stage"])).pipeline)
            except StoreError:
                pass  # validation names the field
        values = validate_deal(raw, stages=stages, now=now, tz=tz)
        stage = settings.stage_by_key(stages, values["stage"])
        with self.write() as conn:
            action = action or new_action()
            deal_id = deals.insert_deal(conn, values, stage=stage, now=now, action=action)
            if follow_up is not None:
                followups.add_follow_up(conn, replace(follow_up, deal_id=deal_id), now=now, action=action)
            scoring.apply_scorecard(conn, deal_id, now=now, action=action)  # a given score holds
            return deal_id

    def update_deal(self, deal_id: int, raw: Mapping[str, Any], *, now: datetime, tz=UTC,
                    expected_version: int | None = None) -> dict:
        """Edit fields (not stage or status: use move/lose/reopen). Raises ValidationError."""
        forbidden = {"stage", "status"} & set(raw)
        if forbidden:
            raise StoreError(_("{field}: use move, lose or reopen to change it").format(
                field=column_name(sorted(forbidden)[0])))
        values = validate_deal(raw, stages=self.stages(), now=now, tz=tz, partial=True)
        if "probability" in values:  # None: back to the stage's default
            values["probability_custom"] = values["probability"] is not None
        with self.write() as conn:
            action = new_action()
            deal = deals.update_deal(conn, deal_id, values, stages=self.all_stages(), now=now, action=action,
                                     expected_version=expected_version)
            # A score typed by hand holds; cleared (None), the scorecard scores the deal again.
            cleared = "lead_score" in values and values["lead_score"] is None
            if cleared or (scoring.changes_to_score(values) and "lead_score" not in values):
                deal = scoring.apply_scorecard(conn, deal_id, now=now, action=action, cleared=cleared) or deal
            return deal

    def move_deal(self, deal_id: int, to_stage: str, *, now: datetime, expected_version: int | None = None,
                  lesson: str | None = None) -> dict:
        """Move a deal to another stage (won ⇒ status won; a won deal moved back reopens).
        `lesson`: what the win taught, written with it (one undo step); only into a won stage."""
        target = self.stage(to_stage)
        stages = self.all_stages()
        if lesson:
            lessons.clean_lesson(lesson)
        with self.write() as conn:
            action = new_action()
            deal = deals.move_deal(conn, deal_id, target, now=now, action=action,
                                   expected_version=expected_version, stages=stages)
            if lesson:
                if deal["status"] != "won":
                    raise StoreError(_("lesson: a lesson goes with a win or a loss; {stage} is not a won stage")
                                     .format(stage=target.label(active_lang())))
                lessons.write_lesson(conn, deal_id, lesson, stages=stages, now=now, action=action)
            return deal

    def lose_deal(self, deal_id: int, reason: str, *, now: datetime, lesson: str | None = None) -> dict:
        """Mark lost with a reason; the deal keeps the stage it was lost in. `lesson`: what the
        loss taught, written with it (one undo step)."""
        try:
            reason = validate_field("lost_reason", reason)
        except FieldError as exc:
            raise ValidationError({exc.field: exc.message}) from None
        if not reason:
            raise ValidationError({"lost_reason": _("is required: say why the deal was lost")})
        if lesson:
            lessons.clean_lesson(lesson)
        stages = self.all_stages() if lesson else ()
        with self.write() as conn:
            action = new_action()
            deal = deals.lose_deal(conn, deal_id, reason, now=now, action=action)
            if lesson:
                lessons.write_lesson(conn, deal_id, lesson, stages=stages, now=now, action=action)
            return deal

    def reopen_deal(self, deal_id: int, *, now: datetime, stage: str | None = None) -> dict:
        """A lost or won deal becomes open again (in its stage, or `stage`)."""
        stages = self.all_stages()
        target = self.stage(stage).key if stage else None
        with self.write() as conn:
            return deals.reopen_deal(conn, deal_id, stages=stages, now=now, action=new_action(), stage=target)

    def delete_deal(self, deal_id: int, *, now: datetime) -> dict:
        """Soft delete: hidden everywhere, restorable, never removed."""
        with self.write() as conn:
            return deals.set_deleted(conn, deal_id, True, now=now, action=new_action())

    def restore_deal(self, deal_id: int, *, now: datetime) -> dict:
        with self.write() as conn:
            return deals.set_deleted(conn, deal_id, False, now=now, action=new_action())

    # --- follow-ups and touches -------------------------------------------------------------

    def add_follow_up(self, draft: FollowUpDraft, *, now: datetime, action: str | None = None) -> int:
        with self.write() as conn:
            return followups.add_follow_up(conn, draft, now=now, action=action or new_action())

    def complete_follow_up(self, followup_id: int, *, now: datetime, note: str = "",
                           next_due_at: datetime | None = None, next_kind: str | None = None,
                           next_note: str = "") -> dict:
        """Done: logs a touch, and optionally schedules the next follow-up in the same step."""
        with self.write() as conn:
            action = new_action()
            done = followups.complete_follow_up(conn, followup_id, now=now, action=action, note=note,
                                                next_due_at=next_due_at, next_kind=next_kind, next_note=next_note)
            scoring.apply_scorecard(conn, done["deal_id"], now=now, action=action)  # a touch is a behaviour
            return done

    def snooze_follow_up(self, followup_id: int, due_at: datetime, *, now: datetime) -> dict:
        with self.write() as conn:
            return followups.snooze_follow_up(conn, followup_id, due_at, now=now, action=new_action())

    def log_touch(self, draft: TouchDraft, *, now: datetime) -> dict:
        """Log a contact (and optionally plan the next follow-up) in one step."""
        with self.write() as conn:
            action = new_action()
            done = followups.log_touch(conn, draft, now=now, action=action)
            scoring.apply_scorecard(conn, done["deal_id"], now=now, action=action)  # a touch is a behaviour
            return done

    def undo(self, *, now: datetime) -> dict | None:
        """Revert the newest action not yet undone, by appending its inverse to history.

        Returns {"action", "deal_ids", "rows"} or None when there is nothing to undo.
        """
        # One's own changes only: on a server the role's; on SQLite this person's and the
        # rows written before authors were kept (or by the bulk import path), signed ''.
        authors = (self.author,) if self.server else (self.author, "")
        with self.write() as conn:
            result = undo.undo(conn, now=now, authors=authors)
        if result and result.get("setup"):
            self.forget_stages()
        return result
