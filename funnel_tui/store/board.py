"""The board's reads: per-stage totals for the column headers, and a column's top cards.

Both stay index-bound at any pipeline size (tests/test_query_plans.py): the board's first
frame reads these before Textual has finished loading (tui/board_data.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select, text
from sqlalchemy.engine import Connection

from funnel_tui.domain.currency_totals import Rates, column_totals, one_currency
from funnel_tui.store.settings import read_rates
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
    f"SELECT stage, currency, count(*), {exact_sum_sql('amount')}, {exact_sum_sql(weighted_sql())} "
    "FROM deal INDEXED BY ix_deal_stage_money "
    "WHERE status = 'open' AND deleted_at IS NULL GROUP BY stage, currency"
)

CARD_COLUMNS = (D.c.id, D.c.customer, D.c.title, D.c.amount, D.c.currency, D.c.probability,
                D.c.stage, D.c.status, D.c.stage_entered_at, D.c.next_follow_up_at, D.c.risk_level,
                D.c.lead_score, D.c.owner, D.c.last_contact_at, D.c.created_at, D.c.version,
                D.c.lost_reason)


def board_totals(conn: Connection, *, status: str = "open", owner: str | None = None) -> dict[str, dict[str, Any]]:
    """Per stage: count, Σ amount, Σ weighted of deals with `status` (open: covering index), of
    one rep when `owner` is given; per currency (`by_currency`) and in the base currency at the
    rep's rates (`amount` and `weighted`; None when a currency in the column has no rate: never
    summed as one number)."""
    if status == "open" and conn.dialect.name == "sqlite" and owner is None:
        q = text(_OPEN_TOTALS_SQLITE)
    else:
        q = (
            select(D.c.stage, D.c.currency, func.count(), *exact_sum(D.c.amount), *exact_sum(WEIGHTED))
            .where(and_(D.c.status == status_literal(status), D.c.deleted_at.is_(None)))
            .group_by(D.c.stage, D.c.currency)
        )
        if owner is not None:
            q = q.where(D.c.owner == owner)
    per: dict[str, dict[str, dict[str, int]]] = {}
    for stage, currency, n, a_hi, a_lo, w_hi, w_lo in conn.execute(q).all():
        # Exact past 64 bits: SQLite's sum() would overflow at 10^13 yuan in one column.
        per.setdefault(stage, {})[currency] = {"count": n, "amount": exact_total(a_hi, a_lo),
                                               "weighted": exact_total(w_hi, w_lo)}
    # One currency on the whole board sums in it; the rates matter only when there are several
    # (most pipelines: one query).
    codes = {code for by_currency in per.values() for code in by_currency}
    rates = one_currency(read_rates(conn) if len(codes) > 1 else Rates(), codes)
    return {stage: column_totals(by_currency, rates) for stage, by_currency in per.items()}


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
