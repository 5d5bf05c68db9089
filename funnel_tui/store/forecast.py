"""The forecast (domain/forecast.py) from the database: the summary's facts split by rep and
status (store.summary.facts_now with a group expression), and the largest open deals of each
stage for the push lists. Reads inside the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
import math
from typing import Any, Sequence

from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from funnel_tui.domain.forecast import RECENCY_DAYS, split_key
from funnel_tui.domain.funnel import FunnelFacts
from funnel_tui.domain.stages import StageDef
from funnel_tui.store.summary import DealSet, facts_now, set_clause
from funnel_tui.store.tables import D, aware_row

# rep|status: one GROUP BY gives each rep's open, won and lost facts (|| is standard SQL).
OWNER_STATUS = "(d.owner || '|' || d.status)"


def facts_by_owner_status(conn: Connection, stages: Sequence[StageDef], deals: DealSet,
                          now: datetime) -> dict[str, dict[str, FunnelFacts]]:
    """rep → status → the facts of that rep's deals of that status (summary.facts_now, lean:
    groups by stage and the highest stages, all the forecast reads)."""
    out: dict[str, dict[str, FunnelFacts]] = {}
    for key, facts in facts_now(conn, stages, deals, now, split=True, group=OWNER_STATUS,
                                 group_by="d.owner, d.status", lean=True).items():
        owner, status = split_key(key or "")
        out.setdefault(owner, {})[status] = facts
    return out


def open_counts(conn: Connection, deals: DealSet) -> dict[str, int]:
    """The set's open deals per stage (as stored)."""
    params: dict[str, Any] = {}
    rows = conn.execute(text(f"SELECT d.stage, count(*) FROM deal d WHERE d.status = 'open' "
                             f"AND {set_clause(deals, params)} GROUP BY d.stage"), params)
    return {stage: int(n) for stage, n in rows}


def biggest_open(conn: Connection, deals: DealSet, stage: str, limit: int) -> list[dict[str, Any]]:
    """The stage's `limit` largest open deals of the set (ties: the older), with what the push
    ranking needs. The ids are ranked on an index alone (ix_deal_stage_money: no row is read to
    sort), then only those rows are read: at 100k deals a stage has some 20k open ones."""
    params: dict[str, Any] = {"limit": limit}
    ids = text(f"SELECT d.id FROM deal d WHERE d.status = 'open' AND d.stage = :stage "
               f"AND {set_clause(deals, params)} ORDER BY d.amount DESC, d.id LIMIT :limit")
    params["stage"] = stage
    o = D.alias("o")
    return _rows(conn, o, o.c.id.in_(ids.columns(D.c.id)), params)


def push_contenders(conn: Connection, deals: DealSet, stage: str, best: float, floor: float,
                    now: datetime) -> list[dict[str, Any]]:
    """At least every open deal of the stage in the set whose push score (domain.forecast.
    push_score) could reach `floor` with probability `best`: amount × best × recency ≥ floor,
    recency from the deal's quiet days. The test runs in SQL with room to spare (an hour off
    the quiet days, a millionth off the floor), so float and julianday rounding cannot drop a
    deal; the caller ranks what comes back exactly (domain.forecast.push_lists)."""
    c = best * RECENCY_DAYS / 100  # score = amount × c / (RECENCY_DAYS + quiet)
    t = floor * (1 - 1e-6)
    params: dict[str, Any] = {
        "stage": stage, "c": c, "t": t, "r": float(RECENCY_DAYS), "slack": 1 / 24,
        "jnow": now.timestamp() / 86400 + 2440587.5,  # julianday(now)
        # quiet ≥ 0: a deal that small cannot score `floor` whenever it was last touched
        "min_amount": max(0, math.floor(t * RECENCY_DAYS / c) - 1) if c > 0 else 0,
    }
    last = ("(CASE WHEN d.last_contact_at IS NOT NULL AND julianday(d.last_contact_at) > julianday(d.stage_entered_at) "
            "THEN julianday(d.last_contact_at) ELSE julianday(d.stage_entered_at) END)")
    ids = text(f"SELECT d.id FROM deal d WHERE d.status = 'open' AND d.stage = :stage "
               f"AND {set_clause(deals, params)} AND d.amount >= :min_amount "
               f"AND d.amount * :c >= :t * (:r + :jnow - :slack - {last})")
    o = D.alias("o")
    return _rows(conn, o, o.c.id.in_(ids.columns(D.c.id)), params)


def _rows(conn: Connection, o, where, params: dict[str, Any]) -> list[dict[str, Any]]:
    # typed columns: times come back as datetimes on every backend
    query = (select(o.c.id, o.c.customer, o.c.owner, o.c.stage, o.c.amount, o.c.stage_entered_at,
                    o.c.last_contact_at).where(where).order_by(o.c.amount.desc(), o.c.id))
    return [aware_row(dict(r)) for r in conn.execute(query, params).mappings()]
