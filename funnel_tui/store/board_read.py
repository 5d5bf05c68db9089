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
from typing import Any

from funnel_tui.domain.rules import TierCutoffs, tier_cutoffs
from funnel_tui.domain.stages import StageDef
from funnel_tui.store import board_sql, personal
from funnel_tui.store.times import from_utc_text


class BoardReader:
    """The Store's read methods the board's first frame calls (tui/board_data.read_board,
    FunnelApp's settings), answered from a read-only sqlite3 connection."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None = None) -> None:
        self.conn = conn
        self.path = path  # the database file (a demo database answers `me` as its demo rep)
        self._stages: tuple[StageDef, ...] | None = None

    def stages(self) -> tuple[StageDef, ...]:
        if self._stages is None:
            self._stages = board_sql.stage_defs(self.conn.execute(board_sql.STAGES_SQL))
        return self._stages

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

    def tier_cutoffs(self) -> TierCutoffs:
        """Where A and B start among every open deal."""
        shares = board_sql.tier_shares(self._db_setting("tier_a_share"), self._db_setting("tier_b_share"))
        rows = self.conn.execute(board_sql.open_weights_sql(sqlite=True))
        return tier_cutoffs(((int(v or 0), n) for v, n in rows), *shares)

    def close(self) -> None:
        self.conn.close()
