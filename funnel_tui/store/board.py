"""The board's reads: per-stage totals for the column headers, and a column's top cards.

Both stay index-bound at any pipeline size (tests/test_query_plans.py): the board's first
frame reads these before Textual has finished loading (tui/board_data.py).
"""

from __future__ import annotations

from sqlalchemy import and_, func, select, text
from sqlalchemy.engine import Connection

from funnel_tui.store.tables import (
    WEIGHTED,
    D,
    aware_row,
    exact_sum,
    exact_sum_sql,
    exact_total,
    status_literal,
    weighted_sql,
)

# SQLite's planner (no statistics) prefers seeking ix_deal_status_stage and reading every
# open deal's row to scanning the covering partial index: 6-7x slower (100 vs 16 ms at 100k
# deals, 900 vs 130 ms at 1M). It takes ix_deal_stage_money only when told (INDEXED BY),
# and can use a partial index only when the WHERE clause names 'open' literally.
_OPEN_TOTALS_SQLITE = (
    f"SELECT stage, count(*), {exact_sum_sql('amount')}, {exact_sum_sql(weighted_sql())} "
    "FROM deal INDEXED BY ix_deal_stage_money "
    "WHERE status = 'open' AND deleted_at IS NULL GROUP BY stage"
)

CARD_COLUMNS = (D.c.id, D.c.customer, D.c.title, D.c.amount, D.c.currency, D.c.probability,
                D.c.stage, D.c.status, D.c.stage_entered_at, D.c.next_follow_up_at, D.c.risk_level,
                D.c.lead_score, D.c.owner, D.c.last_contact_at, D.c.created_at, D.c.version,
                D.c.lost_reason)


def board_totals(conn: Connection, *, status: str = "open", owner: str | None = None) -> dict[str, dict[str, int]]:
    """Per stage: count, Σ amount, Σ weighted of deals with `status` (open: covering index),
    of one rep when `owner` is given."""
    if status == "open" and conn.dialect.name == "sqlite" and owner is None:
        q = text(_OPEN_TOTALS_SQLITE)
    else:
        q = (
            select(D.c.stage, func.count(), *exact_sum(D.c.amount), *exact_sum(WEIGHTED))
            .where(and_(D.c.status == status_literal(status), D.c.deleted_at.is_(None)))
            .group_by(D.c.stage)
        )
        if owner is not None:
            q = q.where(D.c.owner == owner)
    rows = conn.execute(q).all()
    return {r[0]: {"count": r[1], "amount": exact_total(r[2], r[3]), "weighted": exact_total(r[4], r[5])}
            for r in rows}


def board_column(conn: Connection, stage: str, *, limit: int = 50, offset: int = 0,
                 status: str = "open", owner: str | None = None) -> list[dict]:
    """Top-K deals in a stage: open ones by urgency (soonest follow-up first, then none),
    won and lost ones newest closed first.

    Two index-ordered LIMIT queries (dated, then undated) instead of one sort with
    NULLS LAST, so the cost does not grow with the pipeline.
    """
    base = and_(D.c.stage == stage, D.c.status == status_literal(status), D.c.deleted_at.is_(None))
    if owner is not None:
        base = and_(base, D.c.owner == owner)
    if status != "open":
        rows = conn.execute(select(*CARD_COLUMNS).where(base).order_by(D.c.closed_at.desc())
                            .limit(limit).offset(offset)).mappings().all()
        return [aware_row(dict(r)) for r in rows]
    # Counting the dated deals is only needed to page past them.
    dated_n = 0 if offset == 0 else conn.execute(select(func.count()).select_from(D).where(
        and_(base, D.c.next_follow_up_at.is_not(None)))).scalar() or 0
    out: list = []
    if offset == 0 or offset < dated_n:
        out += conn.execute(select(*CARD_COLUMNS).where(and_(base, D.c.next_follow_up_at.is_not(None)))
                            .order_by(D.c.next_follow_up_at, D.c.id)
                            .limit(limit).offset(offset)).mappings().all()
    rest = limit - len(out)
    if rest > 0:
        out += conn.execute(select(*CARD_COLUMNS).where(and_(base, D.c.next_follow_up_at.is_(None)))
                            .order_by(D.c.id).limit(rest).offset(max(0, offset - dated_n))
                            ).mappings().all()
    return [aware_row(dict(r)) for r in out]
