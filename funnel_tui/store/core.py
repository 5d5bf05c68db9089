"""Every read and write of deals, follow-ups, touches and history.

The invariants live here (DESIGN §2, §5):
- a stage move records history, resets the stage-entered time and takes the new stage's
  default probability unless the deal has its own;
- losing needs a reason and keeps the stage it was lost in;
- closing a deal (won/lost) closes its open follow-ups;
- delete is soft and restorable; every change is in history, grouped by action for undo;
- every write is one short BEGIN IMMEDIATE transaction; `version` refuses stale saves.

Reads use plain column selects (not ORM objects): they are several times cheaper.
Times cross this boundary as aware UTC datetimes; inside SQLite they are UTC text.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from sqlalchemy import and_, case, func, insert, literal, literal_column, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from funnel_tui.domain.rules import (
    TIER_A_SHARE,
    TIER_B_SHARE,
    WITHIN,
    TierCutoffs,
    cadence,
    due_bucket,
    dwell,
    tier_cutoffs,
)
from funnel_tui.domain.stages import StageDef, find_stage
from funnel_tui.domain.text import clean_text, escape_like
from funnel_tui.domain.validation import (
    FieldError,
    FollowUpDraft,
    TouchDraft,
    ValidationError,
    validate_deal,
    validate_field,
)
from funnel_tui.models import Deal, FollowUp, History, Setting, Stage, Touch
from funnel_tui.store.engine import WRITE_OPTION, create_engine_for, redact_url, sqlite_path
from funnel_tui.store.schema import ensure_schema

UTC = timezone.utc
OPEN = literal_column("'open'")
D = Deal.__table__
F = FollowUp.__table__
T = Touch.__table__
H = History.__table__
S = Stage.__table__
SET = Setting.__table__


class StoreError(Exception):
    """A user-facing refusal: the message says what is wrong; nothing was written."""


class NotFound(StoreError):
    pass


class DatabaseUnavailable(StoreError):
    """SQLite said no after the transaction rolled back: locked past busy_timeout, disk
    full, read-only file. Every caller (CLI, screens) reports it like any refusal."""


@contextmanager
def _unavailable_as_store_error() -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        # hide_parameters keeps customer data out of exc; .orig is SQLite's own words.
        raise DatabaseUnavailable(f"database: {exc.orig}; nothing was changed, try again") from None


class StaleDealError(StoreError):
    """The deal changed elsewhere since it was read (another terminal)."""


# Deal columns that history tracks and undo can restore.
TRACKED = (
    "external_id", "customer", "title", "industry", "company_size", "contact_name",
    "contact_role", "contact_phone", "contact_email", "source", "lead_score", "owner",
    "stage", "status", "amount", "currency", "probability", "probability_custom",
    "expected_close", "risk_level", "risk_note", "mitigation", "budget", "decision_chain",
    "pain_points", "competitors", "lost_reason", "notes", "stage_entered_at",
    "last_contact_at", "closed_at", "deleted_at",
)
DATETIME_COLUMNS = {"created_at", "updated_at", "stage_entered_at", "last_contact_at",
                    "next_follow_up_at", "closed_at", "deleted_at"}


def to_db(dt: datetime | None) -> datetime | None:
    """Aware → aware UTC (SQLModel's UTCDateTime stores it as UTC text in SQLite)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        raise ValueError("naive datetime reached the store; pass aware times")
    return dt.astimezone(UTC)


def from_db(dt: datetime | None) -> datetime | None:
    """Column values come back aware UTC already; raw SQL rows may be naive UTC."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _ser(value: Any) -> str | None:
    """A column value as history text (ISO for times, plain for the rest)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _deser(column: str, text: str | None) -> Any:
    if text is None:
        return None
    if column in DATETIME_COLUMNS:
        return to_db(datetime.fromisoformat(text))
    if column == "expected_close":
        return date.fromisoformat(text)
    if column in ("amount", "probability", "lead_score"):
        return int(text)
    if column == "probability_custom":
        return text == "1"
    return text


def new_action() -> str:
    return uuid.uuid4().hex[:16]


@dataclass(frozen=True, slots=True)
class DueItem:
    followup_id: int
    deal_id: int
    customer: str
    title: str
    stage: str
    kind: str
    due_at: datetime
    bucket: str
    note: str


@dataclass(frozen=True, slots=True)
class WarningItem:
    deal_id: int
    customer: str
    stage: str
    kind: str  # dwell_over | dwell_near | silent | no_next_step
    days: int
    limit: int | None


WARNING_ORDER = ("dwell_over", "dwell_near", "silent", "no_next_step")


class Store:
    """The rep's database. Open one per process; each method is one short transaction."""

    def __init__(self, target: str | Path, *, read_only: bool = False):
        self.target = str(target)
        self.path = sqlite_path(target)
        self.read_only = read_only
        self.engine: Engine = create_engine_for(target, read_only=read_only)
        if not read_only:
            ensure_schema(self.engine)
        self._stages: tuple[StageDef, ...] | None = None
        self._shares: tuple[float, float] | None = None

    def __repr__(self) -> str:
        return f"Store({redact_url(self.target)!r})"

    def close(self) -> None:
        self.engine.dispose()

    # --- transactions -----------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with _unavailable_as_store_error():
            with self.engine.connect() as conn:
                with conn.begin():
                    yield conn

    @contextmanager
    def write(self, *, scratch: str | None = None) -> Iterator[Connection]:
        """One write transaction, opened with BEGIN IMMEDIATE (see engine).

        `scratch` (SQLite only) attaches an empty in-memory schema of that name for the
        transaction's duration: bulk imports stage validated rows there and copy them in
        with INSERT … SELECT. SQLite attaches only outside a transaction, hence here.
        """
        if self.read_only:
            raise StoreError("this database is open read-only; nothing was written")
        with _unavailable_as_store_error():
            with self.engine.connect() as conn:
                conn = conn.execution_options(**{WRITE_OPTION: True})
                raw = None
                if scratch and conn.dialect.name == "sqlite":
                    raw = conn.connection.dbapi_connection
                    raw.execute(f"ATTACH DATABASE ':memory:' AS {scratch}")
                try:
                    with conn.begin():
                        yield conn
                finally:
                    if raw is not None:
                        raw.execute(f"DETACH DATABASE {scratch}")

    # --- stages -------------------------------------------------------------------------

    def stages(self) -> tuple[StageDef, ...]:
        if self._stages is None:
            with self.read() as conn:
                rows = conn.execute(select(S).order_by(S.c.position)).mappings().all()
            self._stages = tuple(
                StageDef(r["key"], r["position"], r["name"], r["name_zh"], r["probability"],
                         r["max_dwell_days"], r["kind"])
                for r in rows
            )
        return self._stages

    def stage(self, key_or_name: str) -> StageDef:
        try:
            return find_stage(self.stages(), key_or_name)
        except ValueError as exc:
            raise StoreError(f"stage: {exc}") from None

    def _stage_by_key(self, key: str) -> StageDef:
        for s in self.stages():
            if s.key == key:
                return s
        raise StoreError(f"stage: unknown stage {key!r}")

    # --- settings -----------------------------------------------------------------------

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        with self.read() as conn:
            value = conn.execute(select(SET.c.value).where(SET.c.key == key)).scalar()
        return default if value is None else value

    def set_setting(self, key: str, value: str) -> None:
        with self.write() as conn:
            done = conn.execute(update(SET).where(SET.c.key == key).values(value=value)).rowcount
            if not done:
                conn.execute(insert(SET).values(key=key, value=value))
        self._shares = None  # tier shares are settings too

    # --- helpers ------------------------------------------------------------------------

    def _deal_row(self, conn: Connection, deal_id: int, *, include_deleted: bool = False) -> dict:
        row = conn.execute(select(D).where(D.c.id == deal_id)).mappings().first()
        if row is None or (row["deleted_at"] is not None and not include_deleted):
            raise NotFound(f"deal: no deal with id {deal_id}")
        return dict(row)

    def _history(self, conn: Connection, rows: list[dict]) -> None:
        if rows:
            conn.execute(insert(H), rows)

    def _apply(
        self,
        conn: Connection,
        deal: dict,
        changes: Mapping[str, Any],
        *,
        now: datetime,
        action: str,
        kind_for: Mapping[str, str] | None = None,
        expected_version: int | None = None,
    ) -> dict:
        """Write `changes` to the deal, one history row per changed column."""
        if expected_version is not None and deal["version"] != expected_version:
            raise StaleDealError(
                f"deal {deal['id']} was changed elsewhere since you opened it "
                f"(version {expected_version} → {deal['version']}); reload and apply again"
            )
        real = {k: v for k, v in changes.items() if deal.get(k) != v}
        if not real:
            return deal
        at = to_db(now)
        kinds = kind_for or {}
        history = []
        for column, value in real.items():
            row = {
                "deal_id": deal["id"], "at": at, "kind": kinds.get(column, "field"),
                "field": column, "old": _ser(deal.get(column)), "new": _ser(value),
                "action": action, "from_stage": None, "to_stage": None,
            }
            if column == "stage":
                row["kind"] = "stage"
                row["from_stage"], row["to_stage"] = deal["stage"], value
            history.append(row)
        # The version guard is repeated in SQL: it holds even across processes.
        result = conn.execute(
            update(D)
            .where(and_(D.c.id == deal["id"], D.c.version == deal["version"]))
            .values(**real, updated_at=at, version=deal["version"] + 1)
        )
        if result.rowcount != 1:
            raise StaleDealError(f"deal {deal['id']} was changed elsewhere; reload and apply again")
        self._history(conn, history)
        return {**deal, **real, "updated_at": at, "version": deal["version"] + 1}

    def _refresh_next_follow_up(self, conn: Connection, deal_id: int) -> None:
        nxt = (
            select(func.min(F.c.due_at))
            .where(and_(F.c.deal_id == deal_id, F.c.status == "open"))
            .scalar_subquery()
        )
        conn.execute(update(D).where(D.c.id == deal_id).values(next_follow_up_at=nxt))

    def _close_follow_ups(self, conn: Connection, deal_id: int, *, now: datetime, action: str) -> int:
        ids = conn.execute(
            select(F.c.id).where(and_(F.c.deal_id == deal_id, F.c.status == "open"))
        ).scalars().all()
        if not ids:
            return 0
        conn.execute(update(F).where(F.c.id.in_(ids)).values(status="canceled", done_at=to_db(now)))
        self._history(conn, [
            {"deal_id": deal_id, "at": to_db(now), "kind": "followup", "field": f"followup.{fid}.status",
             "old": "open", "new": "canceled", "action": action, "from_stage": None, "to_stage": None}
            for fid in ids
        ])
        self._refresh_next_follow_up(conn, deal_id)
        return len(ids)

    # --- deals: writes ------------------------------------------------------------------

    def add_deal(self, raw: Mapping[str, Any], *, now: datetime, tz=UTC, action: str | None = None) -> int:
        """Validate and insert one deal; returns its id. Raises ValidationError."""
        values = validate_deal(raw, stages=self.stages(), now=now, tz=tz)
        return self._insert_deal(values, now=now, action=action or new_action())

    def _insert_deal(self, values: dict, *, now: datetime, action: str) -> int:
        stage = self._stage_by_key(values["stage"])
        prob = values.pop("probability", None)
        custom = prob is not None
        if prob is None:
            prob = stage.probability if stage.probability is not None else 0
        at = to_db(now)
        status = "won" if stage.kind in ("won", "post") else "open"
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
        if row.get("external_id") is None:
            row.pop("external_id", None)
        with self.write() as conn:
            if row.get("external_id"):
                dup = conn.execute(select(D.c.id).where(D.c.external_id == row["external_id"])).scalar()
                if dup is not None:
                    raise StoreError(f"external_id: {row['external_id']!r} is already deal {dup}")
            deal_id = conn.execute(insert(D).values(**row)).inserted_primary_key[0]
            self._history(conn, [{
                "deal_id": deal_id, "at": at, "kind": "created", "field": None, "old": None,
                "new": None, "from_stage": None, "to_stage": stage.key, "action": action,
            }])
        return int(deal_id)

    def update_deal(
        self,
        deal_id: int,
        raw: Mapping[str, Any],
        *,
        now: datetime,
        tz=UTC,
        expected_version: int | None = None,
    ) -> dict:
        """Edit fields (not stage or status: use move/lose/reopen). Raises ValidationError."""
        forbidden = {"stage", "status"} & set(raw)
        if forbidden:
            raise StoreError(f"{sorted(forbidden)[0]}: use move, lose or reopen to change it")
        values = validate_deal(raw, stages=self.stages(), now=now, tz=tz, partial=True)
        if "probability" in values:
            if values["probability"] is None:
                values["probability_custom"] = False
            else:
                values["probability_custom"] = True
        action = new_action()
        with self.write() as conn:
            deal = self._deal_row(conn, deal_id)
            if values.get("probability_custom") is False:
                stage = self._stage_by_key(deal["stage"])
                values["probability"] = stage.probability if stage.probability is not None else deal["probability"]
            if values.get("customer") == "":
                raise ValidationError({"customer": "is required"})
            ext = values.get("external_id")
            if ext:
                dup = conn.execute(select(D.c.id).where(and_(D.c.external_id == ext, D.c.id != deal_id))).scalar()
                if dup is not None:
                    raise ValidationError({"external_id": f"{ext!r} is already deal {dup}"})
            return self._apply(conn, deal, values, now=now, action=action, expected_version=expected_version)

    def move_deal(self, deal_id: int, to_stage: str, *, now: datetime, expected_version: int | None = None) -> dict:
        """Move a deal to another stage (won ⇒ status won; a won deal moved back reopens)."""
        target = self.stage(to_stage)
        action = new_action()
        with self.write() as conn:
            deal = self._deal_row(conn, deal_id)
            if deal["status"] == "lost":
                raise StoreError(f"deal {deal_id} is lost; reopen it first (funnel reopen {deal_id})")
            if deal["stage"] == target.key:
                raise StoreError(f"deal {deal_id} is already in {target.name}")
            changes: dict[str, Any] = {"stage": target.key, "stage_entered_at": to_db(now)}
            if not deal["probability_custom"] and target.probability is not None:
                changes["probability"] = target.probability
            kinds = {}
            if target.kind in ("won", "post") and deal["status"] == "open":
                changes.update(status="won", closed_at=to_db(now))
                kinds["status"] = "won"
            elif target.kind == "open" and deal["status"] == "won":
                changes.update(status="open", closed_at=None)
                kinds["status"] = "reopened"
            deal = self._apply(conn, deal, changes, now=now, action=action, kind_for=kinds,
                               expected_version=expected_version)
            if changes.get("status") == "won":
                self._close_follow_ups(conn, deal_id, now=now, action=action)
            return deal

    def lose_deal(self, deal_id: int, reason: str, *, now: datetime) -> dict:
        """Mark lost with a reason; the deal keeps the stage it was lost in."""
        try:
            reason = validate_field("lost_reason", reason)
        except FieldError as exc:
            raise ValidationError({exc.field: exc.message}) from None
        if not reason:
            raise ValidationError({"lost_reason": "is required: say why the deal was lost"})
        action = new_action()
        with self.write() as conn:
            deal = self._deal_row(conn, deal_id)
            if deal["status"] != "open":
                raise StoreError(f"deal {deal_id} is already {deal['status']}")
            deal = self._apply(
                conn, deal, {"status": "lost", "lost_reason": reason, "closed_at": to_db(now)},
                now=now, action=action, kind_for={"status": "lost"},
            )
            self._close_follow_ups(conn, deal_id, now=now, action=action)
            return deal

    def reopen_deal(self, deal_id: int, *, now: datetime, stage: str | None = None) -> dict:
        """A lost or won deal becomes open again (in its stage, or `stage`)."""
        action = new_action()
        with self.write() as conn:
            deal = self._deal_row(conn, deal_id)
            if deal["status"] == "open":
                raise StoreError(f"deal {deal_id} is already open")
            changes: dict[str, Any] = {"status": "open", "closed_at": None, "lost_reason": ""}
            target = self.stage(stage) if stage else self._stage_by_key(deal["stage"])
            if target.kind != "open":
                target = [s for s in self.stages() if s.kind == "open"][-1]
            if target.key != deal["stage"]:
                changes.update(stage=target.key, stage_entered_at=to_db(now))
                if not deal["probability_custom"] and target.probability is not None:
                    changes["probability"] = target.probability
            return self._apply(conn, deal, changes, now=now, action=action, kind_for={"status": "reopened"})

    def delete_deal(self, deal_id: int, *, now: datetime) -> dict:
        """Soft delete: hidden everywhere, restorable, never removed."""
        with self.write() as conn:
            deal = self._deal_row(conn, deal_id)
            return self._apply(conn, deal, {"deleted_at": to_db(now)}, now=now, action=new_action(),
                               kind_for={"deleted_at": "deleted"})

    def restore_deal(self, deal_id: int, *, now: datetime) -> dict:
        with self.write() as conn:
            deal = self._deal_row(conn, deal_id, include_deleted=True)
            if deal["deleted_at"] is None:
                raise StoreError(f"deal {deal_id} is not deleted")
            return self._apply(conn, deal, {"deleted_at": None}, now=now, action=new_action(),
                               kind_for={"deleted_at": "restored"})

    # --- follow-ups and touches -----------------------------------------------------------

    def add_follow_up(self, draft: FollowUpDraft, *, now: datetime, action: str | None = None,
                      conn: Connection | None = None) -> int:
        kind = validate_field("kind", draft.kind)
        note = validate_field("notes", draft.note)
        if draft.due_at.tzinfo is None:
            raise ValueError("due_at must be aware")
        action = action or new_action()

        def run(c: Connection) -> int:
            deal = self._deal_row(c, draft.deal_id)
            if deal["status"] == "lost":
                raise StoreError(f"deal {draft.deal_id} is lost; reopen it before planning a follow-up")
            fid = c.execute(insert(F).values(
                deal_id=draft.deal_id, kind=kind, due_at=to_db(draft.due_at), note=note,
                status="open", created_at=to_db(now),
            )).inserted_primary_key[0]
            self._history(c, [{
                "deal_id": draft.deal_id, "at": to_db(now), "kind": "followup",
                "field": f"followup.{fid}.status", "old": None, "new": "open",
                "action": action, "from_stage": None, "to_stage": None,
            }])
            self._refresh_next_follow_up(c, draft.deal_id)
            return int(fid)

        if conn is not None:
            return run(conn)
        with self.write() as c:
            return run(c)

    def _open_follow_up(self, conn: Connection, followup_id: int) -> dict:
        row = conn.execute(select(F).where(F.c.id == followup_id)).mappings().first()
        if row is None:
            raise NotFound(f"follow-up: no follow-up with id {followup_id}")
        if row["status"] != "open":
            raise StoreError(f"follow-up {followup_id} is already {row['status']}")
        return dict(row)

    def complete_follow_up(
        self,
        followup_id: int,
        *,
        now: datetime,
        note: str = "",
        next_due_at: datetime | None = None,
        next_kind: str | None = None,
        next_note: str = "",
    ) -> dict:
        """Done: logs a touch, and optionally schedules the next follow-up in the same step."""
        note = validate_field("notes", note)
        action = new_action()
        with self.write() as conn:
            fu = self._open_follow_up(conn, followup_id)
            deal = self._deal_row(conn, fu["deal_id"])
            conn.execute(update(F).where(F.c.id == followup_id).values(status="done", done_at=to_db(now)))
            touch_id = conn.execute(insert(T).values(
                deal_id=fu["deal_id"], followup_id=followup_id, kind=fu["kind"], at=to_db(now),
                note=note or fu["note"],
            )).inserted_primary_key[0]
            self._history(conn, [
                {"deal_id": fu["deal_id"], "at": to_db(now), "kind": "followup",
                 "field": f"followup.{followup_id}.status", "old": "open", "new": "done",
                 "action": action, "from_stage": None, "to_stage": None},
                {"deal_id": fu["deal_id"], "at": to_db(now), "kind": "touch",
                 "field": f"touch.{touch_id}", "old": None, "new": note or fu["note"],
                 "action": action, "from_stage": None, "to_stage": None},
            ])
            self._apply(conn, deal, {"last_contact_at": to_db(now)}, now=now, action=action)
            next_id = None
            if next_due_at is not None:
                next_id = self.add_follow_up(
                    FollowUpDraft(fu["deal_id"], next_due_at, next_kind or fu["kind"], next_note),
                    now=now, action=action, conn=conn,
                )
            self._refresh_next_follow_up(conn, fu["deal_id"])
        return {"followup_id": followup_id, "touch_id": int(touch_id), "next_followup_id": next_id,
                "deal_id": fu["deal_id"]}

    def snooze_follow_up(self, followup_id: int, due_at: datetime, *, now: datetime) -> dict:
        action = new_action()
        with self.write() as conn:
            fu = self._open_follow_up(conn, followup_id)
            conn.execute(update(F).where(F.c.id == followup_id).values(due_at=to_db(due_at)))
            self._history(conn, [{
                "deal_id": fu["deal_id"], "at": to_db(now), "kind": "followup",
                "field": f"followup.{followup_id}.due_at", "old": _ser(fu["due_at"]),
                "new": _ser(to_db(due_at)), "action": action, "from_stage": None, "to_stage": None,
            }])
            self._refresh_next_follow_up(conn, fu["deal_id"])
        return {"followup_id": followup_id, "deal_id": fu["deal_id"], "due_at": due_at}

    def log_touch(self, draft: TouchDraft, *, now: datetime) -> dict:
        """Log a contact (and optionally plan the next follow-up) in one step."""
        kind = validate_field("kind", draft.kind)
        note = validate_field("notes", draft.note)
        action = new_action()
        with self.write() as conn:
            deal = self._deal_row(conn, draft.deal_id)
            touch_id = conn.execute(insert(T).values(
                deal_id=draft.deal_id, kind=kind, at=to_db(now), note=note,
            )).inserted_primary_key[0]
            self._history(conn, [{
                "deal_id": draft.deal_id, "at": to_db(now), "kind": "touch", "field": f"touch.{touch_id}",
                "old": None, "new": note, "action": action, "from_stage": None, "to_stage": None,
            }])
            self._apply(conn, deal, {"last_contact_at": to_db(now)}, now=now, action=action)
            next_id = None
            if draft.next_due_at is not None:
                next_id = self.add_follow_up(
                    FollowUpDraft(draft.deal_id, draft.next_due_at, draft.next_kind, draft.next_note),
                    now=now, action=action, conn=conn,
                )
        return {"touch_id": int(touch_id), "deal_id": draft.deal_id, "next_followup_id": next_id}

    # --- undo ---------------------------------------------------------------------------

    def undo(self, *, now: datetime) -> dict | None:
        """Revert the newest action not yet undone, by appending its inverse to history.

        Returns {"action", "deal_ids", "rows"} or None when there is nothing to undo.
        Touches are voided (voided_at), never deleted.
        """
        with self.write() as conn:
            undone = {
                a[5:] for a in conn.execute(
                    select(H.c.action).where(H.c.action.like("undo:%")).distinct()
                ).scalars()
            }
            candidates = conn.execute(
                select(H.c.action, func.max(H.c.id).label("last"))
                .where(and_(H.c.action != "", H.c.action.notlike("undo:%")))
                .group_by(H.c.action)
                .order_by(func.max(H.c.id).desc())
                .limit(len(undone) + 1)
            ).all()
            target = next((c.action for c in candidates if c.action not in undone), None)
            if target is None:
                return None
            rows = conn.execute(
                select(H).where(H.c.action == target).order_by(H.c.id.desc())
            ).mappings().all()
            undo_action = "undo:" + target
            deal_ids: dict[int, None] = {}  # an ordered set: an import touches many deals
            imported: list[int] = []
            # Column changes are gathered per deal and written in one UPDATE, so CHECKs
            # that tie columns together (status ↔ closed_at) hold at every statement.
            restore: dict[int, dict[str, Any]] = {}
            for row in rows:  # newest first: the oldest row's "old" value wins
                deal_ids.setdefault(row["deal_id"], None)
                if row["kind"] == "imported":
                    imported.append(row["deal_id"])
                elif (row["field"] or "") in TRACKED and row["kind"] != "created":
                    restore.setdefault(row["deal_id"], {})[row["field"]] = _deser(row["field"], row["old"])
                else:
                    self._undo_row(conn, dict(row), now=now, action=undo_action)
            self._soft_delete_many(conn, imported, now=now, action=undo_action)
            for deal_id, changes in restore.items():
                deal = self._deal_row(conn, deal_id, include_deleted=True)
                kinds = {}
                if "status" in changes:
                    kinds["status"] = "reopened" if changes["status"] == "open" else changes["status"]
                if "deleted_at" in changes:
                    kinds["deleted_at"] = "restored" if changes["deleted_at"] is None else "deleted"
                self._apply(conn, deal, changes, now=now, action=undo_action, kind_for=kinds)
            skip = set(imported)  # their follow-ups did not change
            for deal_id in deal_ids:
                if deal_id not in skip:
                    self._refresh_next_follow_up(conn, deal_id)
        return {"action": target, "deal_ids": list(deal_ids), "rows": len(rows)}

    def _soft_delete_many(self, conn: Connection, ids: list[int], *, now: datetime, action: str) -> None:
        """Undo of an import: soft-delete its deals set-wise (one UPDATE per chunk, the same
        history rows `_apply` would write one deal at a time)."""
        at = to_db(now)
        for i in range(0, len(ids), 500):
            live = conn.execute(select(D.c.id).where(and_(
                D.c.id.in_(ids[i:i + 500]), D.c.deleted_at.is_(None)))).scalars().all()
            if not live:
                continue
            conn.execute(update(D).where(D.c.id.in_(live)).values(
                deleted_at=at, updated_at=at, version=D.c.version + 1))
            self._history(conn, [
                {"deal_id": d, "at": at, "kind": "deleted", "field": "deleted_at", "old": None,
                 "new": _ser(at), "action": action, "from_stage": None, "to_stage": None}
                for d in live
            ])

    def _undo_row(self, conn: Connection, row: dict, *, now: datetime, action: str) -> None:
        at = to_db(now)
        field = row["field"] or ""
        base = {"deal_id": row["deal_id"], "at": at, "action": action, "from_stage": None, "to_stage": None}
        if row["kind"] in ("created", "imported"):
            deal = self._deal_row(conn, row["deal_id"], include_deleted=True)
            if deal["deleted_at"] is None:
                self._apply(conn, deal, {"deleted_at": at}, now=now, action=action,
                            kind_for={"deleted_at": "deleted"})
            return
        if field.startswith("followup."):
            _, fid, col = field.split(".")
            if col == "status":
                old = row["old"] or "canceled"  # undoing a creation cancels it
                conn.execute(update(F).where(F.c.id == int(fid)).values(
                    status=old, done_at=None if old == "open" else at))
            else:
                conn.execute(update(F).where(F.c.id == int(fid)).values(due_at=_deser("closed_at", row["old"])))
            conn.execute(insert(H).values(**base, kind="followup", field=field, old=row["new"], new=row["old"]))
            return
        if field.startswith("touch."):
            tid = int(field.split(".")[1])
            conn.execute(update(T).where(T.c.id == tid).values(voided_at=at))
            conn.execute(insert(H).values(**base, kind="touch", field=field, old=row["new"], new=None))
            return

    # --- reads ----------------------------------------------------------------------------

    def get_deal(self, deal_id: int, *, include_deleted: bool = False) -> dict:
        with self.read() as conn:
            return _aware_row(self._deal_row(conn, deal_id, include_deleted=include_deleted))

    def deal_history(self, deal_id: int) -> list[dict]:
        with self.read() as conn:
            rows = conn.execute(select(H).where(H.c.deal_id == deal_id).order_by(H.c.id)).mappings().all()
        return [_aware_row(dict(r)) for r in rows]

    def deal_follow_ups(self, deal_id: int, *, open_only: bool = False) -> list[dict]:
        q = select(F).where(F.c.deal_id == deal_id)
        if open_only:
            q = q.where(F.c.status == "open")
        with self.read() as conn:
            rows = conn.execute(q.order_by(F.c.due_at)).mappings().all()
        return [_aware_row(dict(r)) for r in rows]

    def deal_touches(self, deal_id: int) -> list[dict]:
        with self.read() as conn:
            rows = conn.execute(
                select(T).where(and_(T.c.deal_id == deal_id, T.c.voided_at.is_(None))).order_by(T.c.at)
            ).mappings().all()
        return [_aware_row(dict(r)) for r in rows]

    def list_deals(
        self,
        *,
        status: str | None = "open",
        stage: str | None = None,
        owner: str | None = None,
        search: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict]:
        q = select(D).where(D.c.deleted_at.is_(None))
        if status and status != "all":
            q = q.where(D.c.status == status)
        if stage:
            q = q.where(D.c.stage == self.stage(stage).key)
        if owner:
            q = q.where(D.c.owner == owner)
        if search:
            q = q.where(self.search_clause(search))
        q = q.order_by(D.c.id).offset(offset)
        if limit:
            q = q.limit(limit)
        with self.read() as conn:
            return [_aware_row(dict(r)) for r in conn.execute(q).mappings()]

    @staticmethod
    def search_clause(text: str):
        """Customer, title or contact contains `text` (% and _ taken literally)."""
        needle = f"%{escape_like(clean_text(text))}%"
        return or_(*(col.like(needle, escape="\\") for col in (D.c.customer, D.c.title, D.c.contact_name)))

    def search_deals(self, text: str, *, limit: int = 20, fuzzy: bool = False) -> list[dict]:
        """Deals (any status, not deleted) matching `text`, open ones first; bounded.

        Plain: customer, title or contact contains `text` (search_clause). Fuzzy: the
        customer contains the characters of `text` in order ("acr" finds "Acme Robotics"),
        for the palette's jump-to-deal.
        """
        needle = clean_text(text)
        if not needle:
            return []
        if fuzzy:
            pattern = "%" + "%".join(escape_like(ch) for ch in needle if not ch.isspace()) + "%"
            where = D.c.customer.like(pattern, escape="\\")
        else:
            where = self.search_clause(needle)
        q = (
            select(D.c.id, D.c.customer, D.c.title, D.c.contact_name, D.c.stage, D.c.status)
            .where(and_(D.c.deleted_at.is_(None), where))
            .order_by((D.c.status == "open").desc(), D.c.id)
            .limit(limit)
        )
        with self.read() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def count_deals(self, *, status: str | None = "open") -> int:
        q = select(func.count()).select_from(D).where(D.c.deleted_at.is_(None))
        if status and status != "all":
            q = q.where(D.c.status == status)
        with self.read() as conn:
            return int(conn.execute(q).scalar() or 0)

    def due(self, *, now: datetime, within: str = "3d", owner: str | None = None) -> list[DueItem]:
        """Open follow-ups on open deals: overdue, and due within 24h / 3d / 7d."""
        with self.read() as conn:
            rows = conn.execute(self._due_query(now, within, owner)).all()
        return self._due_items(rows, now)

    def due_overview(self, *, now: datetime, within: str = "3d", owner: str | None = None,
                     limit: int = 25) -> tuple[list[DueItem], dict[str, int]]:
        """The first `limit` items of due() and how many fall in each bucket, in one read.

        For a screenful: counting in SQL and building only what is shown costs 20 ms at
        100k deals, where building all 7k items costs 120 ms.
        """
        at, h24, h72 = (to_db(now + timedelta(hours=h)) for h in (0, 24, 72))
        counts = self._due_query(now, within, owner).with_only_columns(
            func.count(case((F.c.due_at < at, 1))),
            func.count(case((and_(F.c.due_at >= at, F.c.due_at < h24), 1))),
            func.count(case((and_(F.c.due_at >= h24, F.c.due_at < h72), 1))),
            func.count(case((F.c.due_at >= h72, 1))),
        ).order_by(None)
        with self.read() as conn:
            rows = conn.execute(self._due_query(now, within, owner).limit(limit)).all()
            n = conn.execute(counts).one()
        return self._due_items(rows, now), dict(zip(("overdue", "24h", "3d", "later"), n))

    def _due_query(self, now: datetime, within: str, owner: str | None):
        horizon = to_db(now + WITHIN[within])
        q = (
            select(F.c.id, F.c.deal_id, F.c.kind, F.c.due_at, F.c.note,
                   D.c.customer, D.c.title, D.c.stage)
            .join(D, D.c.id == F.c.deal_id)
            .where(and_(F.c.status == OPEN, F.c.due_at < horizon,
                        D.c.deleted_at.is_(None), D.c.status != "lost"))
            .order_by(F.c.due_at, F.c.id)
        )
        return q.where(D.c.owner == owner) if owner else q

    @staticmethod
    def _due_items(rows, now: datetime) -> list[DueItem]:
        out = []
        for r in rows:
            due_at = from_db(r.due_at)
            bucket = due_bucket(due_at, now) or "3d"  # 7d window: beyond 72h still listed as later
            if due_at >= now + timedelta(hours=72):
                bucket = "later"
            out.append(DueItem(r.id, r.deal_id, r.customer, r.title, r.stage, r.kind, due_at, bucket, r.note))
        return out

    def _weighted_expr(self):
        # Integer arithmetic in SQL, rounded half up like domain.money.weighted_minor.
        return (D.c.amount * D.c.probability + 50) // 100

    def _open_clause(self, owner: str | None):
        # 'open' is written literally: SQLite uses a partial index (WHERE status = 'open')
        # only when the query names the value itself, not a bound parameter.
        clause = and_(D.c.status == OPEN, D.c.deleted_at.is_(None))
        return and_(clause, D.c.owner == owner) if owner else clause

    def _tier_cutoffs(self, conn: Connection, owner: str | None) -> TierCutoffs:
        if conn.dialect.name == "sqlite" and not owner:
            rows = conn.exec_driver_sql(_OPEN_WEIGHTS_SQLITE).all()
        else:
            w = self._weighted_expr().label("w")
            rows = conn.execute(
                select(w, func.count()).where(self._open_clause(owner)).group_by(w)
            ).all()
        return tier_cutoffs(((int(v or 0), n) for v, n in rows), *self.tier_shares())

    def tier_shares(self) -> tuple[float, float]:
        """Tier thresholds: settings tier_a_share / tier_b_share, else 80 % / 95 %."""
        if self._shares is None:
            a = self.get_setting("tier_a_share")
            b = self.get_setting("tier_b_share")
            self._shares = (float(a) if a else TIER_A_SHARE, float(b) if b else TIER_B_SHARE)
        return self._shares

    def tier_cutoffs(self, *, owner: str | None = None) -> TierCutoffs:
        """Where A and B start among open deals; `cutoffs.tier(weighted)` classifies one deal."""
        with self.read() as conn:
            return self._tier_cutoffs(conn, owner)

    def tiers(self, *, owner: str | None = None) -> dict[int, str]:
        """A/B/C tier of every open deal (per owner when given), on weighted value."""
        with self.read() as conn:
            cut = self._tier_cutoffs(conn, owner)
            rows = conn.execute(
                select(D.c.id, self._weighted_expr()).where(self._open_clause(owner))
            ).all()
        return {deal_id: cut.tier(int(w or 0)) for deal_id, w in rows}

    def _warning_selections(self, conn: Connection, now: datetime, owner: str | None) -> list[tuple]:
        """(kind, WHERE clause, clock column, tier column or None) for each warning query.

        The clauses restate DESIGN §2 exactly in SQL, so the rows and the counts come
        from the same definition: dwell over = stay > limit; near = 4/5 limit ≤ stay ≤
        limit; silent = quiet longer than the tier's cadence and no follow-up ahead;
        no next step = no open follow-up.
        """
        base = self._open_clause(owner)
        ts = D.c.stage_entered_at.type
        entered = D.c.stage_entered_at
        out: list[tuple] = []
        for stage in self.stages():
            if stage.kind != "open" or not stage.max_dwell_days:
                continue
            cap = timedelta(days=stage.max_dwell_days)
            over_cut = literal(to_db(now - cap), ts)
            near_cut = literal(to_db(now - cap * 4 / 5), ts)
            in_stage = and_(base, D.c.stage == stage.key)
            out.append(("dwell_over", and_(in_stage, entered < over_cut), entered, None))
            out.append(("dwell_near", and_(in_stage, entered >= over_cut, entered <= near_cut), entered, None))
        cut = self._tier_cutoffs(conn, owner)
        w = self._weighted_expr()
        a_min = cut.a_min if cut.a_min is not None else -1
        b_min = cut.b_min if cut.b_min is not None else -1
        tier_sql = case((and_(w > 0, a_min > 0, w >= a_min), "A"),
                        (and_(w > 0, b_min > 0, w >= b_min), "B"), else_="C")
        quiet_cut = case(
            (tier_sql == "A", literal(to_db(now - cadence("A")), ts)),
            (tier_sql == "B", literal(to_db(now - cadence("B")), ts)),
            else_=literal(to_db(now - cadence("C")), ts),
        )
        since = func.coalesce(D.c.last_contact_at, D.c.created_at)
        nothing_ahead = or_(D.c.next_follow_up_at.is_(None),
                            D.c.next_follow_up_at < literal(to_db(now), ts))
        out.append(("silent", and_(base, nothing_ahead, since < quiet_cut), since, tier_sql))
        out.append(("no_next_step", and_(base, D.c.next_follow_up_at.is_(None)), entered, None))
        return out

    def warnings(self, *, now: datetime, owner: str | None = None,
                 limit: int | None = None) -> list[WarningItem]:
        """Dwell over/near, silence past the tier cadence, and no next step, per open deal.

        Each kind is selected in SQL through its own index, worst first (the oldest clock
        start, ties by id), at most `limit` rows each, so the Today screen costs the same
        at 1k and 100k deals; `limit=None` gives everything.
        """
        day = timedelta(days=1)
        limits = {s.key: s.max_dwell_days for s in self.stages()}
        groups: dict[str, list[tuple[datetime, WarningItem]]] = {k: [] for k in WARNING_ORDER}
        with self.read() as conn:
            for kind, clause, clock, tier_sql in self._warning_selections(conn, now, owner):
                cols = [D.c.id, D.c.customer, D.c.stage, clock.label("clock")]
                if tier_sql is not None:
                    cols.append(tier_sql.label("tier"))
                q = select(*cols).where(clause).order_by(clock, D.c.id)
                for r in conn.execute(q.limit(limit) if limit else q):
                    start = from_db(r.clock if isinstance(r.clock, datetime)
                                    else datetime.fromisoformat(r.clock))
                    days = int((now - start) / day)
                    if kind.startswith("dwell"):
                        item = WarningItem(r.id, r.customer, r.stage, kind, days, limits[r.stage])
                    elif kind == "silent":
                        item = WarningItem(r.id, r.customer, r.stage, kind, days, cadence(r.tier).days)
                    else:
                        item = WarningItem(r.id, r.customer, r.stage, kind, days, None)
                    groups[kind].append((start, item))
        out: list[WarningItem] = []
        for kind in WARNING_ORDER:
            group = sorted(groups[kind], key=lambda pair: (pair[0], pair[1].deal_id))
            out.extend(item for _, item in (group[:limit] if limit else group))
        return out

    def warning_counts(self, *, now: datetime, owner: str | None = None) -> dict[str, int]:
        """How many open deals carry each warning (for "… N more" lines and badges)."""
        counts = {k: 0 for k in WARNING_ORDER}
        with self.read() as conn:
            for kind, clause, _clock, _tier in self._warning_selections(conn, now, owner):
                counts[kind] += int(conn.execute(select(func.count()).select_from(D).where(clause)).scalar() or 0)
        return counts

    # --- board ----------------------------------------------------------------------------

    def board_totals(self, *, status: str = "open") -> dict[str, dict[str, int]]:
        """Per stage: count, Σ amount, Σ weighted of deals with `status` (open: covering index)."""
        q = (
            select(D.c.stage, func.count(), func.sum(D.c.amount),
                   func.sum((D.c.amount * D.c.probability + 50) // 100))
            .where(and_(D.c.status == _status_literal(status), D.c.deleted_at.is_(None)))
            .group_by(D.c.stage)
        )
        with self.read() as conn:
            if status == "open" and conn.dialect.name == "sqlite":
                from sqlalchemy import text

                q = text(_OPEN_TOTALS_SQLITE)
            rows = conn.execute(q).all()
        return {r[0]: {"count": r[1], "amount": int(r[2] or 0), "weighted": int(r[3] or 0)} for r in rows}

    def board_column(self, stage: str, *, limit: int = 50, offset: int = 0, status: str = "open") -> list[dict]:
        """Top-K open deals in a stage by urgency: soonest follow-up first, then none.

        Two index-ordered LIMIT queries (dated, then undated) instead of one sort with
        NULLS LAST, so the cost does not grow with the pipeline.
        """
        cols = (D.c.id, D.c.customer, D.c.title, D.c.amount, D.c.currency, D.c.probability,
                D.c.stage, D.c.status, D.c.stage_entered_at, D.c.next_follow_up_at, D.c.risk_level,
                D.c.lead_score, D.c.owner, D.c.last_contact_at, D.c.created_at, D.c.version,
                D.c.lost_reason)
        base = and_(D.c.stage == stage, D.c.status == _status_literal(status), D.c.deleted_at.is_(None))
        with self.read() as conn:
            if status != "open":
                rows = conn.execute(select(*cols).where(base).order_by(D.c.closed_at.desc())
                                    .limit(limit).offset(offset)).mappings().all()
                return [_aware_row(dict(r)) for r in rows]
            # Counting the dated deals is only needed to page past them.
            dated_n = 0 if offset == 0 else conn.execute(select(func.count()).select_from(D).where(
                and_(base, D.c.next_follow_up_at.is_not(None)))).scalar() or 0
            out: list = []
            if offset == 0 or offset < dated_n:
                out += conn.execute(select(*cols).where(and_(base, D.c.next_follow_up_at.is_not(None)))
                                    .order_by(D.c.next_follow_up_at, D.c.id)
                                    .limit(limit).offset(offset)).mappings().all()
            rest = limit - len(out)
            if rest > 0:
                out += conn.execute(select(*cols).where(and_(base, D.c.next_follow_up_at.is_(None)))
                                    .order_by(D.c.id).limit(rest).offset(max(0, offset - dated_n))
                                    ).mappings().all()
        return [_aware_row(dict(r)) for r in out]


# SQLite's planner (no statistics) prefers seeking ix_deal_status_stage and reading every
# open deal's row to scanning the covering partial index: 6-7x slower (100 vs 16 ms at 100k
# deals, 900 vs 130 ms at 1M). It takes ix_deal_stage_money only when told (INDEXED BY),
# and can use a partial index only when the WHERE clause names 'open' literally.
_OPEN_TOTALS_SQLITE = (
    "SELECT stage, count(*), sum(amount), sum((amount * probability + 50) / 100) "
    "FROM deal INDEXED BY ix_deal_stage_money "
    "WHERE status = 'open' AND deleted_at IS NULL GROUP BY stage"
)


# The same reason: one scan of the covering index instead of a row read per open deal.
_OPEN_WEIGHTS_SQLITE = (
    "SELECT (amount * probability + 50) / 100 AS w, count(*) "
    "FROM deal INDEXED BY ix_deal_stage_money "
    "WHERE status = 'open' AND deleted_at IS NULL GROUP BY w"
)


def _status_literal(status: str):
    """A status written into the SQL (partial indexes need the literal, see OPEN)."""
    if status not in ("open", "won", "lost"):
        raise StoreError(f"status: {status!r} is not one of open, won, lost")
    return literal_column(f"'{status}'")


def _aware_row(row: dict) -> dict:
    for key in DATETIME_COLUMNS | {"due_at", "at", "done_at", "voided_at"}:
        if key in row and isinstance(row[key], datetime):
            row[key] = from_db(row[key])
    return row
