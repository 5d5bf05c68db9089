"""The funnel summary as it stood at a past moment (`--as-of`): history replayed in SQL.

Slower than the plain path (store/summary.py), since every deal's rows are looked at; it
reads inside the caller's transaction and shares that module's SQL pieces.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import text
from sqlalchemy.engine import Connection

from funnel_tui.domain.currency_totals import BASE_CURRENCY
from funnel_tui.domain.funnel import DealGroup, FunnelFacts
from funnel_tui.domain.money import weighted_minor
from funnel_tui.domain.stages import StageDef, StageMap
from funnel_tui.store.summary import (
    DealSet,
    add_pairs,
    completed_stays,
    days_sql,
    mapped_pairs,
    position_case,
    set_clause,
)
from funnel_tui.store.history import live_sql, skipped_actions_sql
from funnel_tui.store.tables import utc_text


AS_OF_FIELDS = ("amount", "probability", "lost_reason", "closed_at", "currency")


def facts_as_of(conn: Connection, stages: Sequence[StageDef], deals: DealSet, as_of: datetime, *,
                open_amounts: dict[str, dict[tuple[int, str], int]] | None = None) -> dict[str | None, FunnelFacts]:
    """Replay: each deal as it stood at `as_of`, set-based. `open_amounts`, when given, is
    filled with rep → (amount, currency) → how many deals were open then with that amount
    (the amount tiers of a replayed summary: store/summary_tiers.py).

    A column's value then is the `old` of its first change after `as_of`, or its value now
    when it has not changed since (history rows chain: each `old` is the previous `new`).
    The stage is that of the last entry up to `as_of`; the stay began at the last entry
    that was not undone by then, and the highest stage counts only entries not undone by then.
    """
    params: dict[str, Any] = {"as_of": utc_text(as_of)}
    where = set_clause(deals, params, as_of=as_of)
    live = live_sql("h", "as_of")
    smap = StageMap.of(stages)  # the stages as they stood at as_of (the caller's stage_set)
    top_case = position_case("h.to_stage", smap, params, "tp")
    # A split's or merge's relabel move does not start a stay: when there are any, the stay
    # began at the last entry that is neither undone nor such a move.
    relabel = "(1 = 0)"
    if smap.relabels:
        relabel = (f"(h.kind = 'stage' AND h.from_stage IS NOT NULL AND "
                   f"{position_case('h.from_stage', smap, params, 'rf')} = "
                   f"{position_case('h.to_stage', smap, params, 'rt')})")
    joins, columns = [], []
    server = conn.dialect.name != "sqlite"
    for i, column in enumerate(AS_OF_FIELDS):
        params[f"af{i}"] = column
        joins.append(f"LEFT JOIN after_fields f{i} ON f{i}.deal_id = d.id AND f{i}.field = :af{i}")
        # History keeps values as text: back to the column's type (a server's CASE needs one type).
        old = f"f{i}.old"
        if column in ("amount", "probability"):
            old = f"CAST({old} AS BIGINT)"
        elif column == "closed_at" and server:
            old = f"CAST(NULLIF({old}, '') AS timestamptz)"
        columns.append(f"CASE WHEN f{i}.deal_id IS NULL THEN d.{column} ELSE {old} END AS {column}")
    closed = "closed_at IS NOT NULL" + ("" if server else " AND closed_at <> ''")
    rows = conn.execute(text(f"""
        WITH entries AS MATERIALIZED (
          SELECT h.deal_id, max(h.id) AS last_id, max(CASE WHEN {live} THEN {top_case} END) AS top
          FROM history h WHERE h.to_stage IS NOT NULL AND h.at <= :as_of GROUP BY h.deal_id),
        after_fields AS MATERIALIZED (  -- each field's first change after as_of, and its `old`
          SELECT x.deal_id, x.field, x.first_id, fh.old FROM (
            SELECT h.deal_id, h.field, min(h.id) AS first_id
            FROM history h WHERE h.kind = 'field' AND h.at > :as_of
              AND h.field IN ({', '.join(f':af{i}' for i in range(len(AS_OF_FIELDS)))})
            GROUP BY h.deal_id, h.field) x JOIN history fh ON fh.id = x.first_id),
        after_status AS MATERIALIZED (
          SELECT x.deal_id, x.first_id, sh.old FROM (
            SELECT h.deal_id, min(h.id) AS first_id
            FROM history h WHERE h.kind IN ('won', 'lost', 'reopened') AND h.at > :as_of
            GROUP BY h.deal_id) x JOIN history sh ON sh.id = x.first_id),
        undone_deals AS MATERIALIZED (
          SELECT DISTINCT h.deal_id FROM history h WHERE h.action IN ({skipped_actions_sql("as_of")})
            OR (h.to_stage IS NOT NULL AND h.at <= :as_of AND {relabel})),
        state AS MATERIALIZED (
          SELECT d.id, d.owner, d.source, d.created_at, last.to_stage AS stage, e.top,
            CASE WHEN u.deal_id IS NULL THEN last.at ELSE
              (SELECT h.at FROM history h WHERE h.deal_id = d.id AND h.to_stage IS NOT NULL AND h.at <= :as_of
                 AND {live} AND NOT {relabel} ORDER BY h.id DESC LIMIT 1) END AS entered,
            CASE WHEN st.deal_id IS NULL THEN d.status ELSE st.old END AS status,
            {', '.join(columns)}
          FROM deal d
          JOIN entries e ON e.deal_id = d.id
          JOIN history last ON last.id = e.last_id
          LEFT JOIN after_status st ON st.deal_id = d.id
          LEFT JOIN undone_deals u ON u.deal_id = d.id
          {' '.join(joins)}
          WHERE {where}
        )
        SELECT owner, source, stage, top, status, amount, probability, lost_reason, currency,
               CASE WHEN status = 'won' AND {closed}
                    THEN julianday(closed_at) - julianday(created_at) END,
               julianday(:as_of) - julianday(COALESCE(entered, created_at)),
               {days_sql('COALESCE(entered, created_at)')}
        FROM state"""), params).all()
    by_position = {smap.position[s.key]: s.key for s in smap.counted}
    position = smap.position
    facts: dict[str, FunnelFacts] = {}
    groups: dict[str, dict[tuple, list]] = {}
    open_entries: dict[str, dict[str, float]] = {}
    for owner, source, stage, top, status, amount, prob, reason, currency, cycle, dwell, entered in rows:
        stage = smap.key(stage) or stage
        f = facts.setdefault(owner, FunnelFacts())
        top_key = by_position.get(top, stage)
        if position.get(stage, 0) > position.get(top_key, 0):
            top_key = stage  # every entry up to then was undone but the one it stands in
        f.highest[top_key] = f.highest.get(top_key, 0) + 1
        f.highest_amount[top_key] = f.highest_amount.get(top_key, 0) + int(amount or 0)
        w = weighted_minor(int(amount or 0), int(prob or 0))
        g = groups.setdefault(owner, {}).setdefault(
            (status, stage, source or "", (reason or "") if status == "lost" else "", currency or BASE_CURRENCY),
            [0, 0, 0, 0.0, 0.0])
        g[0] += 1
        g[1] += int(amount or 0)
        g[2] += w
        if status == "won":
            g[3] += float(cycle or 0.0)
        if status == "open":
            g[4] += float(dwell or 0.0)
            f.open_weighted[w] = f.open_weighted.get(w, 0) + 1
            if open_amounts is not None:
                counted = open_amounts.setdefault(owner, {})
                key = (int(amount or 0), currency or BASE_CURRENCY)
                counted[key] = counted.get(key, 0) + 1
        per = open_entries.setdefault(owner, {})
        per[stage] = per.get(stage, 0.0) + float(entered or 0.0)
    for owner, per in groups.items():
        facts[owner].groups = [DealGroup(*k[:4], *v, currency=k[4]) for k, v in per.items()]

    pairs: dict[str, dict] = {}
    rows = conn.execute(text(f"""
        SELECT d.owner, h.to_stage, h.from_stage, count(*), sum({days_sql('h.at')})
        FROM deal d JOIN history h ON h.deal_id = d.id AND h.to_stage IS NOT NULL AND h.at <= :as_of
        WHERE {where} AND {live}
        GROUP BY d.owner, h.to_stage, h.from_stage"""), params).all()
    add_pairs(pairs, mapped_pairs(smap, rows), +1)
    for owner, stays in completed_stays(pairs, open_entries).items():
        if owner in facts:
            facts[owner].stays = stays
    return facts
