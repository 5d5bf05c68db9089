"""The board's reads: per-stage totals for the column headers, and a column's top cards.

Both stay index-bound at any pipeline size (tests/test_query_plans.py). The SQL is in
board_sql.py, shared with the board's first read, which runs it through sqlite3 before
SQLAlchemy has loaded (board_read.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from funnel_tui.store import board_sql
from funnel_tui.store.settings import read_rates
from funnel_tui.store.tables import D, aware_row, status_literal

CARD_COLUMNS = tuple(D.c[c] for c in board_sql.CARD_COLUMNS)


def _cards(sql: str):
    return text(sql).columns(*CARD_COLUMNS)


def board_totals(conn: Connection, *, status: str = "open", owner: str | None = None) -> dict[str, dict[str, Any]]:
    """Per stage: count, Σ amount, Σ weighted of deals with `status` (open: covering index), of
    one rep when `owner` is given; per currency (`by_currency`) and in the base currency at the
    rep's rates (`amount` and `weighted`; None when a currency in the column has no rate: never
    summed as one number)."""
    status_literal(status)  # a refusal the rep can read for an unknown status
    sql = board_sql.totals_sql(status, sqlite=conn.dialect.name == "sqlite", owner=owner is not None)
    return board_sql.totals(conn.execute(text(sql), {"owner": owner}).all(), lambda: read_rates(conn))


def board_column(conn: Connection, stage: str, *, limit: int = 50, offset: int = 0,
                 status: str = "open", owner: str | None = None) -> list[dict]:
    """Top-K deals in a stage: open ones by urgency (soonest follow-up first, then none),
    won and lost ones newest closed first; of one rep when `owner` is given."""
    status_literal(status)
    mine = owner is not None
    params = {"stage": stage, "limit": limit, "offset": offset, "owner": owner}
    if status != "open":
        rows = conn.execute(_cards(board_sql.closed_sql(status, owner=mine)), params).mappings().all()
        return [aware_row(dict(r)) for r in rows]
    dated_n = 0 if offset == 0 else conn.execute(text(board_sql.open_dated_count_sql(owner=mine)),
                                                 params).scalar() or 0
    out: list = []
    if offset == 0 or offset < dated_n:
        out += conn.execute(_cards(board_sql.open_dated_sql(owner=mine)), params).mappings().all()
    rest = limit - len(out)
    if rest > 0:
        undated = {**params, "limit": rest, "offset": max(0, offset - dated_n)}
        out += conn.execute(_cards(board_sql.open_undated_sql(owner=mine)), undated).mappings().all()
    return [aware_row(dict(r)) for r in out]
