"""The Store: the rep's database, and the one door to it (a thin facade).

Each method is one short transaction — validate, open it, call the module that owns the
concern, return plain values:

    errors       the refusals               tables      aliases, conversions, weighted SQL
    settings     stages and settings        history     history rows, applying a change
    stages_api   stage and pipeline changes, playbook ticks (mixed in: StageMethods;
                 stage_plan in domain plans, stage_setup writes, checklist ticks)
    deals        add/edit/move/lose/...     followups   follow-ups and touches
    undo         walking an action back     reads       deals, timelines, lists, search
    today        due, warnings, tiers       board       column totals and top cards
    summary      funnel facts (+ summary_as_of, review, segments, forecast, kpis, trend;
                 their Store methods: analytics_api, mixed in: AnalyticsMethods)
    bulk_export  export streams             bulk_import the import writer (+ bulk_rows)

The concern modules take a Connection and compose inside one transaction; none imports
this one. Every write opens with BEGIN IMMEDIATE (engine.py); times cross this boundary
as aware UTC datetimes.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

from sqlalchemy.engine import Connection, Engine

from funnel_tui.domain.currency_totals import Rates
from funnel_tui.domain.rules import TierCutoffs
from funnel_tui.domain.stages import StageDef
from funnel_tui.domain.tiers import AmountTiers
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
from funnel_tui.store import (
    board,
    deals,
    followups,
    health,
    lessons,
    reads,
    scoring,
    settings,
    today,
    undo,
)
from funnel_tui.store.analytics_api import AnalyticsMethods
from funnel_tui.store.lessons_api import LessonMethods
from funnel_tui.store.scorecard_api import ScorecardMethods
from funnel_tui.store.engine import (
    WRITE_OPTION,
    create_engine_for,
    keep_wal_in_place,
    redact_url,
    sqlite_path,
)
from funnel_tui.store.errors import (
    DatabaseDamaged,
    DatabaseReadOnly,
    StoreError,
    unavailable_as_store_error,
)
from funnel_tui.store.history import AUTHOR_OPTION, new_action
from funnel_tui.store.schema import check_readable_schema, ensure_schema
from funnel_tui.store.purge import PurgeMethods
from funnel_tui.store.stages_api import StageMethods
from funnel_tui.store.today import DueItem, WarningItem

if TYPE_CHECKING:
    from funnel_tui.store.bulk_export import ExportSql

UTC = timezone.utc


class Store(StageMethods, AnalyticsMethods, PurgeMethods, ScorecardMethods, LessonMethods):
    """The rep's database. Open one per process; each method is one short transaction."""

    def __init__(self, target: str | Path, *, read_only: bool | str = False, immutable: bool = False):
        """`read_only`: True, or the reason the rep reads when a write is refused (a read-only
        folder, a full disk). `immutable` (SQLite, read-only): the file is read as it stands,
        without -wal/-shm — only when the start-up check found no other process using it."""
        self.target = str(target)
        self.path = sqlite_path(target)
        self.read_only = bool(read_only or immutable)
        self.read_only_reason = read_only if isinstance(read_only, str) else None
        self.damaged: str | None = None  # set when SQLite said the file is damaged: no more writes
        self.engine: Engine = create_engine_for(target, read_only=self.read_only, immutable=immutable)
        # Team mode: a PostgreSQL server (store/pg_*.py holds what is particular to it).
        self.server = self.engine.dialect.name == "postgresql"
        self._author: str | None = None
        if self.server:
            from funnel_tui.store.pg_schema import open_server  # team mode's own rules

            open_server(self.engine, read_only=self.read_only)
        else:
            with unavailable_as_store_error(self.path):
                if not self.read_only:
                    ensure_schema(self.engine)
                else:
                    check_readable_schema(self.engine)
        self._shares: tuple[float, float] | None = None
        self._role: tuple[str | None] | None = None
        # Whose deals the board and Today show: None for everything the database shows this
        # person (on a team server, a rep's own deals; a lead's, everyone's), or one rep's
        # name — a lead's choice (the palette's "Show … deals").
        self.view_owner: str | None = None
        self._me: str | None = None

    def __repr__(self) -> str:
        return f"Store({redact_url(self.target)!r})"

    def close(self) -> None:
        self.engine.dispose()

    # --- transactions ---------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with unavailable_as_store_error(self.path, on_damage=self._damaged_now):
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
        self.check_writable()
        with unavailable_as_store_error(self.path, on_damage=self._damaged_now):
            with self.engine.connect() as conn:
                # On a server the server signs history itself (pg_schema): no name to send.
                author = "" if self.server else self.author
                conn = conn.execution_options(**{WRITE_OPTION: True, AUTHOR_OPTION: author})
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
        if self.path is not None:
            keep_wal_in_place(self.engine, self.path)

    def check_writable(self) -> None:
        """Raise the refusal a write would meet now (damaged, read-only), else nothing."""
        if self.damaged:
            raise DatabaseDamaged(self.damaged)
        if self.read_only:
            raise DatabaseReadOnly.of(redact_url(self.target), self.read_only_reason)

    def _damaged_now(self, exc: DatabaseDamaged) -> None:
        """Damage met at any time stops this process's writes and marks the file for the
        next start's full check."""
        self.damaged = str(exc)
        if self.path is not None:
            health.mark_damaged(self.path, str(exc))

    # --- settings (stages: stages_api.StageMethods) ------------------------------------------

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        """A setting: the rep's own (`me`, `lang`, `theme`, `export_dir`: on SQLite the user's
        config file, on a team server the connected role's own, see store.settings) or the
        pipeline's (tier shares: this database)."""
        with self.read() as conn:
            value = settings.read_setting(conn, key, db_path=self.path)
        return default if value is None else value

    def set_setting(self, key: str, value: str) -> None:
        """Change a setting where it lives (see get_setting); the one API for both kinds."""
        self._me = None
        if settings.is_personal(key) and settings.personal_in_config(self.engine.dialect.name):
            settings.write_personal(key, value)
            return
        with self.write() as conn:
            settings.set_setting(conn, key, value, personal=self.server and settings.is_personal(key))
        self._shares = None  # tier shares are settings too

    def rates(self) -> Rates:
        """The base currency and the exchange rates the rep set (domain.currency_totals)."""
        with self.read() as conn:
            return settings.read_rates(conn)

    def set_rate(self, code: str, rate: Decimal | None) -> None:
        """One currency's rate in the base currency (None removes it): `settings rate USD 7.1`."""
        with self.write() as conn:
            settings.set_rate(conn, code, rate)

    def team_role(self) -> str | None:
        """On a team server: 'lead' (sees and reassigns every deal), 'rep' (their own deals),
        or None (no team, or SQLite)."""
        if not self.server:
            return None
        if self._role is None:
            from funnel_tui.store.pg_team import team_role

            with self.read() as conn:
                self._role = (team_role(conn),)
        return self._role[0]

    def seen_as(self, owner: str | None) -> str | None:
        """Whose deals a heading names: `owner`; for every deal (None) on a team server, a rep
        sees only their own, so their own name; None when it is every deal there is."""
        if owner is None and self.team_role() == "rep":
            return self.author
        return owner

    def _viewed(self, owner: str | None) -> str | None:
        return owner if owner is not None else self.view_owner

    @property
    def author(self) -> str:
        """Who writes: the connected role on a server; on SQLite the OS user (stable, where
        the `me` setting may be renamed), else `me`. History rows carry it, and undo takes
        back only this person's changes."""
        if self._author is None:
            with self.read() as conn:
                self._author = settings.author(conn)
        return self._author

    def me(self) -> str | None:
        """The rep's name as deal owner (setting `me`), read once per Store."""
        if self._me is None:
            self._me = self.get_setting("me") or ""
        return self._me or None

    def tier_shares(self) -> tuple[float, float]:
        """Tier thresholds: settings tier_a_share / tier_b_share, else 80 % / 95 %."""
        if self._shares is None:
            with self.read() as conn:
                self._shares = settings.tier_shares(conn)
        return self._shares

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

    # --- reads ------------------------------------------------------------------------------

    def get_deal(self, deal_id: int, *, include_deleted: bool = False) -> dict:
        with self.read() as conn:
            return reads.get_deal(conn, deal_id, include_deleted=include_deleted)

    def deal_history(self, deal_id: int) -> list[dict]:
        """Every history row of the deal, undone ones and undo rows too (the audit record)."""
        with self.read() as conn:
            return reads.deal_history(conn, deal_id)

    def deal_timeline(self, deal_id: int, *, newest: int | None = None) -> list[dict]:
        """The deal's history without undone actions and undo rows (what the rep reads), oldest
        first; `newest`: only that many of the latest rows (a long history is paged)."""
        with self.read() as conn:
            return reads.deal_timeline(conn, deal_id, newest=newest)

    def count_timeline(self, deal_id: int) -> int:
        with self.read() as conn:
            return reads.count_timeline(conn, deal_id)

    def deal_follow_ups(self, deal_id: int, *, open_only: bool = False) -> list[dict]:
        with self.read() as conn:
            return reads.deal_follow_ups(conn, deal_id, open_only=open_only)

    def deal_touches(self, deal_id: int) -> list[dict]:
        with self.read() as conn:
            return reads.deal_touches(conn, deal_id)

    def list_deals(self, *, status: str | None = "open", stage: str | None = None, owner: str | None = None,
                   search: str | None = None, limit: int | None = None, offset: int = 0,
                   pipeline: str | None = None) -> list[dict]:
        stage_key = self.stage(stage, pipeline).key if stage else None
        keys = self.stage_keys(pipeline)
        with self.read() as conn:
            return reads.list_deals(conn, status=status, stage_key=stage_key, owner=owner, search=search,
                                    limit=limit, offset=offset, stage_keys=keys)

    def search_deals(self, text: str, *, limit: int = 20, fuzzy: bool = False) -> list[dict]:
        """Deals (any status, not deleted) matching `text`, open ones first; bounded."""
        with self.read() as conn:
            return reads.search_deals(conn, text, limit=limit, fuzzy=fuzzy)

    def similar_customers(self, name: str, *, limit: int = 5) -> list[dict]:
        """Deals whose customer is the same company as `name` (华信科技有限公司 = 华信科技);
        for the new-deal form's warning. Bounded."""
        with self.read() as conn:
            return reads.similar_customers(conn, name, limit=limit)

    def count_deals(self, *, status: str | None = "open") -> int:
        with self.read() as conn:
            return reads.count_deals(conn, status=status)

    # --- today: due, warnings, tiers --------------------------------------------------------

    def due(self, *, now: datetime, within: str = "3d", owner: str | None = None,
            pipeline: str | None = None) -> list[DueItem]:
        """Open follow-ups on open deals: overdue, and due within 24h / 3d / 7d."""
        keys = self.stage_keys(pipeline)
        with self.read() as conn:
            return today.due(conn, now=now, within=within, owner=self._viewed(owner), stage_keys=keys)

    def due_overview(self, *, now: datetime, within: str = "3d", owner: str | None = None,
                     limit: int = 25, pipeline: str | None = None) -> tuple[list[DueItem], dict[str, int]]:
        """The first `limit` items of due() and how many fall in each bucket, in one read."""
        keys = self.stage_keys(pipeline)
        with self.read() as conn:
            return today.due_overview(conn, now=now, within=within, owner=self._viewed(owner), limit=limit,
                                      stage_keys=keys)

    def tier_cutoffs(self, *, owner: str | None = None) -> TierCutoffs | AmountTiers:
        """The tiers in force (setting `tiering`): where A and B start among open deals, or the
        amount tiers; `scheme.tier_of(amount, probability, currency)` classifies one deal."""
        shares = self.tier_shares()
        with self.read() as conn:
            return today.tier_scheme_of(conn, shares, self._viewed(owner))

    def tiers(self, *, owner: str | None = None) -> dict[int, str | None]:
        """The tier of every open deal (per owner when given), by the tiering in force."""
        shares = self.tier_shares()
        with self.read() as conn:
            return today.tiers(conn, shares, self._viewed(owner))

    def warnings(self, *, now: datetime, owner: str | None = None, limit: int | None = None,
                 pipeline: str | None = None) -> list[WarningItem]:
        """Dwell over/near, silence past the tier cadence, and no next step, per open deal
        (of one pipeline when named)."""
        stages, shares = self._warning_stages(pipeline), self.tier_shares()
        keys = self.stage_keys(pipeline)
        with self.read() as conn:
            return today.warnings(conn, stages, shares, now=now, owner=self._viewed(owner), limit=limit,
                                  stage_keys=keys)

    def warning_counts(self, *, now: datetime, owner: str | None = None,
                       pipeline: str | None = None) -> dict[str, int]:
        """How many open deals carry each warning (for "… N more" lines and badges)."""
        stages, shares = self._warning_stages(pipeline), self.tier_shares()
        keys = self.stage_keys(pipeline)
        with self.read() as conn:
            return today.warning_counts(conn, stages, shares, now=now, owner=self._viewed(owner), stage_keys=keys)

    def _warning_stages(self, pipeline: str | None) -> tuple[StageDef, ...]:
        return self.live_stages() if pipeline is None else self.stages(pipeline)

    # --- the board --------------------------------------------------------------------------

    def board_totals(self, *, status: str = "open") -> dict[str, dict[str, Any]]:
        """Per stage: count, Σ amount and Σ weighted of deals with `status` (of view_owner), per
        currency and in the base currency (None when a currency in it has no rate)."""
        with self.read() as conn:
            return board.board_totals(conn, status=status, owner=self.view_owner)

    def board_column(self, stage: str, *, limit: int = 50, offset: int = 0, status: str = "open") -> list[dict]:
        """Top-K deals in a stage, open ones by urgency (soonest follow-up first)."""
        with self.read() as conn:
            return board.board_column(conn, stage, limit=limit, offset=offset, status=status,
                                      owner=self.view_owner)

    # --- export streams (one read transaction each; modules loaded on first use) ------------

    @contextmanager
    def stream_deals(self, *, owner: str | None = None, status: str | Sequence[str] | None = "open",
                     stage: str | None = None, chunk: int = 5000) -> Iterator[Iterator[Sequence[Any]]]:
        """An iterator of row chunks (bulk_export.EXPORT_DB_COLUMNS order), oldest id first."""
        from funnel_tui.store.bulk_export import deal_chunks

        stage_key = self.stage(stage).key if stage else None
        with self.read() as conn:
            with deal_chunks(conn, owner=owner, status=status, stage_key=stage_key, chunk=chunk) as chunks:
                yield chunks

    @contextmanager
    def stream_export_lines(self, spec: ExportSql, *, owner: str | None = None,
                            status: str | Sequence[str] | None = "open", stage: str | None = None,
                            chunk: int = 10000, as_bytes: bool = False) -> Iterator[tuple | None]:
        """SQLite: (chunks of (id, CSV line), raw) built by SQLite (bulk_export.export_lines);
        None on other databases."""
        from funnel_tui.store.bulk_export import export_lines

        stage_key = self.stage(stage).key if stage else None
        with self.read() as conn:
            if conn.dialect.name != "sqlite":
                yield None
                return
            with export_lines(conn, spec, owner=owner, status=status, stage_key=stage_key, chunk=chunk,
                              as_bytes=as_bytes) as found:
                yield found
