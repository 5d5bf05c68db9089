"""The board's first read on the standard library's sqlite3: what `funnel tui` draws its
first frame from while SQLAlchemy has not loaded (the Store opens right after that frame).

The SQL and the row shapes are board_sql.py's, the same the store runs; the connection is
due_read.open_plain's (read-only, a current plain SQLite file, else None: then the Store
opens first, as for any command). tests/test_board_read.py holds every answer here equal
to the Store's.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from funnel_tui.domain.rules import TierCutoffs, tier_cutoffs
from funnel_tui.domain.stages import PipelineDef, StageDef, of_pipeline
from funnel_tui.store import board_sql, personal
from funnel_tui.store.due_read import named_rows
from funnel_tui.store.errors import StoreError
from funnel_tui.store.times import from_utc_text

if TYPE_CHECKING:
    from funnel_tui.domain.tiers import AmountTiers


class BoardReader:
    """The Store's read methods the board's first frame calls (tui/board_data.read_board,
    FunnelApp's settings), answered from a read-only sqlite3 connection."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None = None) -> None:
        self.conn = conn
        self.path = path  # the database file (a demo database answers `me` as its demo rep)
        self._all_stages: tuple[StageDef, ...] | None = None
        self._pipelines: tuple[PipelineDef, ...] | None = None
        self._any_ticks: bool | None = None

    def all_stages(self) -> tuple[StageDef, ...]:
        """Every stage of every pipeline, archived ones included (Store.all_stages)."""
        if self._all_stages is None:
            self._all_stages = board_sql.stage_defs(named_rows(self.conn, board_sql.STAGES_SQL))
        return self._all_stages

    def pipelines(self) -> tuple[PipelineDef, ...]:
        if self._pipelines is None:
            self._pipelines = board_sql.pipeline_defs(named_rows(self.conn, board_sql.PIPELINES_SQL))
        return self._pipelines

    def pipeline(self, text: str | None = None) -> PipelineDef:
        """A pipeline by key or name; None is the default one (Store.pipeline; an unknown one
        raises the domain's StageChangeError, which the Store words as a StoreError)."""
        if not text:  # the default one: as find_pipeline answers it, without loading stage_plan
            return next(p for p in self.pipelines() if p.is_default)
        from funnel_tui.domain.stage_plan import find_pipeline

        return find_pipeline(self.pipelines(), text)

    def stages(self, pipeline: str | None = None) -> tuple[StageDef, ...]:
        """The live stages of a pipeline (the default one unless named), in funnel order:
        archived stages are no columns (Store.stages)."""
        key = self.pipeline(pipeline).key
        return tuple(s for s in of_pipeline(self.all_stages(), key) if not s.archived)

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        """A setting from where it lives (personal.py: the rep's own in the config file)."""
        value = personal.read_setting(self._db_setting, key, dialect="sqlite", db_path=self.path)
        return default if value is None else value

    def _db_setting(self, key: str) -> str | None:
        row = self.conn.execute(board_sql.SETTING_SQL, {"key": key}).fetchone()
        return None if row is None else row[0]

    def board_totals(self, *, status: str = "open") -> dict[str, dict[str, Any]]:
        return board_sql.totals(self.conn.execute(board_sql.totals_sql(status, sqlite=True)),
                                lambda: board_sql.rates(self.conn.execute(board_sql.RATES_SQL)))

    def board_column(self, stage: str, *, limit: int = 50, status: str = "open") -> list[dict]:
        """The first page of a column (the board's first read pages no further)."""
        params = {"stage": stage, "limit": limit, "offset": 0}
        if status != "open":
            return board_sql.cards(self.conn.execute(board_sql.closed_sql(status), params), from_utc_text)
        rows = self.conn.execute(board_sql.open_dated_sql(), params).fetchall()
        if len(rows) < limit:
            rest = {"stage": stage, "limit": limit - len(rows), "offset": 0}
            rows += self.conn.execute(board_sql.open_undated_sql(), rest).fetchall()
        return board_sql.cards(rows, from_utc_text)

    def tick_counts(self, deals: Sequence[Mapping[str, Any]]) -> dict[int, int]:
        """Items ticked per deal in its current stage (the cards' 2/3), as Store.tick_counts:
        nothing is read past one look when no deal has a tick."""
        if not deals:
            return {}
        if self._any_ticks is None:
            self._any_ticks = self.conn.execute(board_sql.ANY_TICK_SQL).fetchone() is not None
        if not self._any_ticks:
            return {}
        by_id = {d["id"]: d["stage"] for d in deals}
        out: dict[int, int] = {}
        for sql, params in board_sql.tick_queries(list(by_id)):
            out.update(board_sql.tick_counts(by_id, self.conn.execute(sql, params)))
        return out

    def tier_cutoffs(self) -> TierCutoffs | AmountTiers:
        """The tiers in force, as Store.tier_cutoffs: the amount tiers when the `tiering`
        setting says so, else where A and B start among every open deal."""
        from funnel_tui.domain.tiers import THRESHOLD_SETTINGS, TierSettingError, amount_tiers, tiering_of

        if tiering_of(self._db_setting("tiering")) == "amount":
            try:
                return amount_tiers({k: self._db_setting(k) for k in THRESHOLD_SETTINGS},
                                    board_sql.rates(self.conn.execute(board_sql.RATES_SQL)))
            except TierSettingError as exc:
                raise StoreError(str(exc)) from None
        shares = board_sql.tier_shares(self._db_setting("tier_a_share"), self._db_setting("tier_b_share"))
        rows = self.conn.execute(board_sql.open_weights_sql(sqlite=True))
        return tier_cutoffs(((int(v or 0), n) for v, n in rows), *shares)

    def close(self) -> None:
        self.conn.close()
