"""Open stays across a split or merge, for the summary's SQL (store/summary.py) and the clock
a merge puts right (stale_clocks, called by store/stage_setup.py).

A deal's open stay began at its last *counted* entry. Its `stage_entered_at` is that moment,
except when the rows after that entry are relabel moves (both ends one stage now): a move
A → B made before A was merged into B set `stage_entered_at`, yet today it is no entry — the
deal has been in B since it entered A. The summary's telescoping sum of completed stays
(Σ exits − Σ entries + Σ open entries) and the open deals' dwell must then read the last
counted entry instead. Only deals whose last live entry is a relabel differ, and only when
some stage maps to another: the plain path without splits or merges pays nothing.
A merge now sets the clock of such open deals in its own action (undone with it), so the
summary's fix meets them only in closed deals and in databases merged before that.

SQL that runs on SQLite and PostgreSQL (julianday() exists on a server: store/pg_schema.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from funnel_tui.domain.funnel import FunnelFacts
from funnel_tui.domain.stages import StageMap


def relabel_sql(smap: StageMap, params: dict, alias: str = "h", prefix: str = "rl") -> str:
    """SQL condition: history row `alias` is a split's or merge's relabel move under `smap`
    (both keys one stage now), spelled as (to, from) pairs so the history indexes holding
    (to_stage, from_stage) find them without reading the row. Only a `stage` row has both
    keys, so the kind need not be read. '1 = 0' when no stage maps to another."""
    keys = sorted(smap.target)
    pairs = [(a, b) for a in keys for b in keys if a != b and smap.same(a, b)]
    if not pairs:
        return "(1 = 0)"
    terms = []
    for i, (to_key, from_key) in enumerate(pairs):
        params[f"{prefix}t{i}"], params[f"{prefix}f{i}"] = to_key, from_key
        terms.append(f"({alias}.to_stage = :{prefix}t{i} AND {alias}.from_stage = :{prefix}f{i})")
    return f"({' OR '.join(terms)})"


def _marks_sql(smap: StageMap, binds: dict, live: str) -> str:
    """The CTE `marks`: per deal with a relabel row, the ids of its last live relabel entry
    and of its last live counted entry (`live`: the condition over history `h` that a row
    counts). A deal whose `last_relabel > last_entry` has been in its stage since that entry."""
    relabel_h = relabel_sql(smap, binds, "h", "rh")
    relabel_x = relabel_sql(smap, binds, "x", "rx")
    return f"""marks AS MATERIALIZED (
          SELECT h.deal_id,
                 max(CASE WHEN {relabel_h} THEN h.id END) AS last_relabel,
                 max(CASE WHEN {relabel_h} THEN NULL ELSE h.id END) AS last_entry
          FROM history h
          WHERE h.to_stage IS NOT NULL AND {live}
            AND h.deal_id IN (SELECT x.deal_id FROM history x WHERE {relabel_x})
          GROUP BY h.deal_id)"""


def open_stay_fixes(conn: Connection, smap: StageMap, where: str, params: dict[str, Any], grp_sql: str,
                    live: str) -> list[tuple]:
    """Deals of the set (`where` over deal `d`, its binds in `params`) whose last live entry is
    a relabel: (group, status, stage key, source, lost reason, currency, Julian day of the
    last counted entry, Julian day of `stage_entered_at`); only those where the two differ
    (a merge's own relabel keeps the clock). `live`: the condition over history `h` that its
    row stands (not undone)."""
    if not smap.relabels:
        return []
    binds = dict(params)
    return conn.execute(text(f"""
        WITH {_marks_sql(smap, binds, live)}
        SELECT {grp_sql} AS grp, d.status, d.stage, d.source, d.lost_reason, d.currency,
               julianday(e.at), julianday(d.stage_entered_at)
        FROM marks m JOIN deal d ON d.id = m.deal_id JOIN history e ON e.id = m.last_entry
        WHERE m.last_relabel > m.last_entry AND {where}
          AND julianday(e.at) <> julianday(d.stage_entered_at)"""), binds).all()


def stale_clocks(conn: Connection, smap: StageMap, stage: str, live: str, own_action: str) -> list[tuple[int, int]]:
    """The open deals in `stage` whose `stage_entered_at` is no counted entry under `smap`
    (the rule of open_stay_fixes, the same SQL): (deal id, history id of its last counted
    entry). A split or merge sets their clock to that entry (store/stage_setup.py). The rows
    of `own_action` (the change's own relabel moves) are left out: a clock only they follow
    is right already."""
    if not smap.relabels:
        return []
    binds: dict[str, Any] = {"stale_stage": stage, "own_action": own_action}
    return [(r[0], r[1]) for r in conn.execute(text(f"""
        WITH {_marks_sql(smap, binds, f"{live} AND h.action <> :own_action")}
        SELECT d.id, e.id
        FROM marks m JOIN deal d ON d.id = m.deal_id JOIN history e ON e.id = m.last_entry
        WHERE m.last_relabel > m.last_entry AND d.stage = :stale_stage AND d.status = 'open'
          AND d.deleted_at IS NULL AND julianday(e.at) <> julianday(d.stage_entered_at)
        ORDER BY d.id"""), binds).all()]


def apply_open_stay_fixes(facts: dict[Any, FunnelFacts], open_entries: dict[Any, dict[str, float]],
                          fixes: list[tuple], smap: StageMap, now_jd: float) -> None:
    """Move each fixed deal's open entry (the telescoping's Σ open entries) and, when it is
    open, its dwell (Σ max(0, now − entered) in its deal group) to its last counted entry.
    Julian days throughout: only differences reach the sums."""
    dwell: dict[tuple, float] = {}  # (owner, group key) → Δ Σ dwell
    for owner, status, stage, source, reason, currency, counted, stored in fixes:
        stage = smap.key(stage) or stage
        per = open_entries.setdefault(owner, {})
        per[stage] = per.get(stage, 0.0) + float(counted) - float(stored)
        if status == "open":
            key = (owner, (status, stage, source or "", reason or "", currency))
            delta = max(0.0, now_jd - float(counted)) - max(0.0, now_jd - float(stored))
            dwell[key] = dwell.get(key, 0.0) + delta
    for owner in {owner for owner, _key in dwell}:
        groups = facts[owner].groups
        for i, g in enumerate(groups):  # once per key: two stored keys may group as one stage
            delta = dwell.pop((owner, (g.status, g.stage, g.source, g.lost_reason, g.currency)), None)
            if delta:
                groups[i] = replace(g, dwell_days=g.dwell_days + delta)
