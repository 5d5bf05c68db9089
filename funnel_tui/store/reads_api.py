"""Reads: deals, timelines and lists, Today's due items, warnings and tiers, the board's
columns and the export streams — the part of the Store that only reads (mixed into core.Store,
as analytics_api.AnalyticsMethods is). Each method is one read transaction.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from funnel_tui.domain.rules import TierCutoffs
from funnel_tui.domain.stages import StageDef
from funnel_tui.domain.tiers import AmountTiers
from funnel_tui.store import board, reads, today
from funnel_tui.store.today import DueItem, WarningItem

if TYPE_CHECKING:
    from funnel_tui.store.bulk_export import ExportSql


class ReadMethods:
    """Deals, Today, the board and exports read: the part of the Store it needs is named below."""

    # provided by Store (and StageMethods)
    read: Callable[..., Any]
    stage: Callable[..., Any]
    stages: Callable[..., Any]
    stage_keys: Callable[..., Any]
    live_stages: Callable[..., Any]
    tier_shares: Callable[..., Any]
    _viewed: Callable[..., Any]
    view_owner: str | None

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
        """SQLite: (chunks of (k, joined lines, lines()), raw) built by SQLite (bulk_export.export_lines);
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
