"""KPIs per stage in SQL (domain/kpis.py): every completed stay of the set, grouped by stage,
the deal's status and the stay's length in whole hours.

One pass over the set's stage entries in path order: each entry's previous entry (a window
function, LAG) is when the stay it closes began. Rows of undone actions are skipped before
the pairing, as every reader of history does, and so are a split's or merge's relabel moves
(both ends one stage now: no exit, no entry; domain.stage_history.deal_stays); each stay's
stage is then read through today's map. Reads inside the caller's transaction.
"""

from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import text
from sqlalchemy.engine import Connection

from funnel_tui.domain.kpis import StayFacts
from funnel_tui.domain.stages import StageDef, StageMap
from funnel_tui.store.history import live_sql
from funnel_tui.store.summary import DealSet, has_undos, position_case, set_clause


def _trunc(conn: Connection, expr: str) -> str:
    """Whole number toward zero (SQLite's CAST truncates; a server's CAST would round)."""
    return f"CAST({expr} AS INTEGER)" if conn.dialect.name == "sqlite" else f"CAST(trunc({expr}) AS BIGINT)"


def stay_facts(conn: Connection, stages: Sequence[StageDef], deals: DealSet = DealSet()) -> StayFacts:
    """The completed stays of the deals in `deals`, as domain.kpis.stays_from_rows gives them;
    `stages` is the pipeline's stage set now, archived ones included."""
    smap = StageMap.of(stages)
    params: dict[str, Any] = {}
    where = set_clause(deals, params)
    live = live_sql("h") if has_undos(conn) else "1 = 1"
    if smap.relabels:  # positions are unique in a pipeline: one position, one stage now
        to_pos = position_case("h.to_stage", smap, params, "kt")
        from_pos = position_case("h.from_stage", smap, params, "kf")
        live += f" AND NOT (h.kind = 'stage' AND {to_pos} > 0 AND {to_pos} = {from_pos})"
    days = "julianday(e.at) - julianday(e.prev_at)"
    rows = conn.execute(text(f"""
        WITH chosen AS MATERIALIZED (SELECT d.id, d.status FROM deal d WHERE {where}),
        e AS (
          SELECT h.deal_id, h.kind, h.from_stage, h.at,
                 LAG(h.at) OVER (PARTITION BY h.deal_id ORDER BY h.id) AS prev_at
          FROM chosen c JOIN history h ON h.deal_id = c.id AND h.to_stage IS NOT NULL
          WHERE h.kind IN ('created', 'imported', 'stage') AND {live})
        SELECT e.from_stage, c.status, {_trunc(conn, f"({days}) * 24 + 0.5")} AS hours, count(*), sum({days})
        FROM e JOIN chosen c ON c.id = e.deal_id
        WHERE e.kind = 'stage' AND e.from_stage IS NOT NULL AND e.prev_at IS NOT NULL
        GROUP BY e.from_stage, c.status, hours"""), params).all()
    facts = StayFacts()
    for key, status, hours, n, total in rows:
        stage = smap.key(key)
        if stage is None:
            continue  # another pipeline's key: counts nowhere here
        facts.add(stage, int(hours), int(n))
        if status == "won":
            facts.won_days[stage] = facts.won_days.get(stage, 0.0) + float(total or 0.0)
    return facts


def won_deals(conn: Connection, deals: DealSet = DealSet()) -> int:
    """How many deals of the set are won now (the cycle split's denominator)."""
    params: dict[str, Any] = {}
    return int(conn.execute(text(f"SELECT count(*) FROM deal d WHERE d.status = 'won' AND {set_clause(deals, params)}"),
                            params).scalar() or 0)
