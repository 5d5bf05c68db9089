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
                 (their Store methods: deals_api (DealMethods: deals, follow-ups, touches,
                 undo) and reads_api (ReadMethods: reads, today, board, export streams))
    summary      funnel facts (+ summary_as_of, review, segments, forecast, kpis, trend;
                 their Store methods: analytics_api, mixed in: AnalyticsMethods)
    bulk_export  export streams             bulk_import the import writer (+ bulk_rows)

The concern modules take a Connection and compose inside one transaction; none imports
this one. Every write opens with BEGIN IMMEDIATE (engine.py); times cross this boundary
as aware UTC datetimes.
"""

from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Iterator

from sqlalchemy.engine import Connection, Engine

from funnel_tui.domain.currency_totals import Rates
from funnel_tui.store import health, settings
from funnel_tui.store.analytics_api import AnalyticsMethods
from funnel_tui.store.deals_api import DealMethods
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
    unavailable_as_store_error,
)
from funnel_tui.store.history import AUTHOR_OPTION
from funnel_tui.store.lessons_api import LessonMethods
from funnel_tui.store.purge import PurgeMethods
from funnel_tui.store.reads_api import ReadMethods
from funnel_tui.store.schema import check_readable_schema, ensure_schema
from funnel_tui.store.scorecard_api import ScorecardMethods
from funnel_tui.store.stages_api import StageMethods


class Store(DealMethods, ReadMethods, StageMethods, AnalyticsMethods, PurgeMethods, ScorecardMethods,
            LessonMethods):
    """The rep's database. Open one per process; each method is one short transaction.
    Here: opening, transactions, settings; the rest is mixed in from the *_api modules."""

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
