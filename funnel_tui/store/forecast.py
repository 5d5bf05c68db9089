"""The forecast (domain/forecast.py) from the database: the summary's facts split by rep and
status (store.summary.facts_now with a group expression), and the largest open deals of each
stage for the push lists. Reads inside the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from funnel_tui.domain.forecast import split_key
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
    ranking needs: an index range on (stage, amount) instead of every open deal."""
    params: dict[str, Any] = {}
    d = D.alias("d")  # typed columns: times come back as datetimes on every backend
    query = (select(d.c.id, d.c.customer, d.c.owner, d.c.stage, d.c.amount, d.c.stage_entered_at,
                    d.c.last_contact_at)
             .where(d.c.status == "open", d.c.stage == stage, text(set_clause(deals, params)))
             .order_by(d.c.amount.desc(), d.c.id).limit(limit))
    return [aware_row(dict(r)) for r in conn.execute(query, params).mappings()]
