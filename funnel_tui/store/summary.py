"""Funnel summary: the facts of domain.funnel, computed with SQL aggregates (SQLite).

The plain path (no --as-of) reads three index-only GROUP BYs, whatever the pipeline size:
- deals grouped by rep, status, stage, source and lost reason (ix_deal_summary);
- history entries/exits grouped by (to_stage, from_stage) (ix_history_flow), minus the few
  rows that do not count (undone moves and their undo rows, deleted deals' rows);
- reached: a deal's highest stage is its current one unless it ever moved back, so only
  deals with a backward move (found by index seeks) have their path looked at. A move that
  was undone, and the undo's own inverse move, are no moves: they are skipped there too.
The completed-stay sum telescopes: Σ exits − Σ entries + Σ the entries still open, and the
entry still open is each deal's `stage_entered_at` (move, reopen and import write both at the
same instant; undo restores it along with the stage) — unless a relabel move followed it
(a move A → B made before A was merged into B): then its last counted entry
(store/stage_stays.py).

`--as-of` replays history instead (store/summary_as_of.py); the weekly review counts
history rows per week (store/review.py). Both share the SQL pieces here. Every function
reads inside the caller's transaction.

Stage changes (domain/funnel.py says how they count): SQL groups by the stored stage keys and
Python reads each key through the StageMap — a split's or merge's old key counts as its new
stage, and the relabel moves they wrote (both ends one stage now) are dropped from the
entry/exit sums, which is exact: such a move's exit and entry fall at the same instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Sequence

from sqlalchemy import text
from sqlalchemy.engine import Connection

from funnel_tui.domain.funnel import DealGroup, FunnelFacts
from funnel_tui.domain.stages import StageDef, StageMap
from funnel_tui.store.history import live_sql, skipped_actions_sql
from funnel_tui.store.stage_stays import apply_open_stay_fixes, open_stay_fixes
from funnel_tui.store.tables import exact_sum_sql, exact_total, utc_text, weighted_sql

# Julian day of 2020-01-01: sums of julianday() offsets stay small and exact enough.
J0 = 2458849.5


@dataclass(frozen=True, slots=True)
class DealSet:
    """Which deals a summary covers: one rep (or all), created in [since, until), sitting in
    one of `stages` (a pipeline's keys; None: every deal)."""

    owner: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    stages: tuple[str, ...] | None = None

    @property
    def everything(self) -> bool:
        return self.owner is None and self.since is None and self.until is None and self.stages is None


def days_sql(expr: str) -> str:
    """Days since J0 of a stored time, in SQL."""
    return f"(julianday({expr}) - {J0})"


def set_clause(deals: DealSet, params: dict, *, as_of: datetime | None = None) -> str:
    """WHERE text over deal alias `d` selecting the set (bind values go into `params`)."""
    if as_of is None:
        parts = ["d.deleted_at IS NULL"]
    else:
        parts = ["(d.deleted_at IS NULL OR d.deleted_at > :set_as_of)"]
        params["set_as_of"] = utc_text(as_of)
    if deals.owner is not None:
        parts.append("d.owner = :set_owner")
        params["set_owner"] = deals.owner
    if deals.since is not None:
        parts.append("d.created_at >= :set_since")
        params["set_since"] = utc_text(deals.since)
    if deals.until is not None:
        parts.append("d.created_at < :set_until")
        params["set_until"] = utc_text(deals.until)
    if deals.stages is not None:
        names = []
        for i, key in enumerate(deals.stages):
            params[f"set_stage{i}"] = key
            names.append(f":set_stage{i}")
        parts.append(f"d.stage IN ({', '.join(names) or 'NULL'})")
    return " AND ".join(parts)


def position_case(column: str, stages: Sequence[StageDef] | StageMap, params: dict, prefix: str) -> str:
    """SQL giving the funnel position of the stage key in `column` (0 for none): the position
    of the stage the key counts as now (StageMap)."""
    smap = stages if isinstance(stages, StageMap) else StageMap.of(stages)
    whens = []
    for i, (key, position) in enumerate(sorted(smap.position.items())):
        params[f"{prefix}{i}"] = key
        whens.append(f"WHEN :{prefix}{i} THEN {int(position)}")
    return f"(CASE {column} {' '.join(whens) or 'WHEN NULL THEN 0'} ELSE 0 END)"


def mapped_pairs(smap: StageMap, rows) -> list[tuple]:
    """Rows of (owner, to, from, count, Σ days) read through the map; relabels dropped."""
    out = []
    for owner, to_stage, from_stage, n, days in rows:
        if from_stage is not None and smap.same(to_stage, from_stage):
            continue  # a split's or merge's move: neither an entry nor an exit
        out.append((owner, smap.key(to_stage) or to_stage, smap.key(from_stage) if from_stage else None, n, days))
    return out


def has_undos(conn: Connection) -> bool:
    """Whether anything was ever undone (then a few rows come off the plain sums)."""
    return conn.execute(text("SELECT 1 FROM undo LIMIT 1")).first() is not None


def completed_stays(pairs: dict[str, dict[tuple, list]],
                    open_entries: dict[str, dict[str, float]]) -> dict[str, dict]:
    """Per owner: stage → (completed stays, Σ days) from entry/exit sums (telescoping)."""
    out: dict[str, dict[str, tuple[int, float]]] = {}
    for owner in set(pairs) | set(open_entries):
        exits_n: dict[str, int] = {}
        exits_sum: dict[str, float] = {}
        entries_sum: dict[str, float] = {}
        for (to_stage, from_stage), (n, days) in pairs.get(owner, {}).items():
            entries_sum[to_stage] = entries_sum.get(to_stage, 0.0) + days
            if from_stage is not None:
                exits_n[from_stage] = exits_n.get(from_stage, 0) + n
                exits_sum[from_stage] = exits_sum.get(from_stage, 0.0) + days
        still_open = open_entries.get(owner, {})
        done = {}
        for stage, n in exits_n.items():
            if n > 0:
                total = exits_sum[stage] - entries_sum.get(stage, 0.0) + still_open.get(stage, 0.0)
                done[stage] = (n, total)
        out[owner] = done
    return out


def add_pairs(target: dict, rows, sign: int) -> None:
    """Add (sign +1) or take off (-1) rows of (owner, to, from, count, Σ days) per owner."""
    for owner, to_stage, from_stage, n, days in rows:
        bucket = target.setdefault(owner, {}).setdefault((to_stage, from_stage), [0, 0.0])
        bucket[0] += sign * n
        bucket[1] += sign * (days or 0.0)


def facts_now(conn: Connection, stages: Sequence[StageDef], deals: DealSet, now: datetime, *,
              split: bool, group: str | None = None, group_by: str | None = None,
              lean: bool = False, hint: str = "") -> dict[str | None, FunnelFacts]:
    """Per rep when `split`; otherwise {None: facts} for the whole set. `group`: an SQL
    expression over the deal `d` to split by instead of the rep (a segment: store/segments.py).
    `group_by`: the columns `group` is made of, when it is an expression over the summary
    index's leading columns (owner, status): grouping by them reads that index in order, where
    grouping by the expression makes SQLite sort every deal. `lean` reads the groups without
    days and the highest stages — no completed stays, no ABC values: what the forecast needs
    (the stays walk all history, the bulk of the time at 100k deals). `hint`: SQLite's table
    hint for the groups' read (store/segments.py; "" on a server)."""
    grp_sql = group or "d.owner"
    split = split or group is not None
    fast_all = deals.everything and not split  # history sums need no join to deal
    smap = StageMap.of(stages)
    # julianday(:now) once, in Python: SQLite would parse the bound text on every row.
    params: dict[str, Any] = {"now_jd": now.timestamp() / 86400 + 2440587.5}
    where = set_clause(deals, params)
    w_sql = weighted_sql("d.amount", "d.probability")
    facts: dict[str, FunnelFacts] = {}
    open_entries: dict[str, dict[str, float]] = {}
    current_at: dict[str, dict[str, int]] = {}
    days = "0, 0, 0" if lean else f"""
               sum(CASE WHEN d.status = 'won' THEN julianday(d.closed_at) - julianday(d.created_at) END),
               sum(CASE WHEN d.status = 'open' AND :now_jd > julianday(d.stage_entered_at)
                        THEN :now_jd - julianday(d.stage_entered_at) ELSE 0 END),
               sum({days_sql('d.stage_entered_at')})"""
    rows = conn.execute(text(f"""
        SELECT {grp_sql} AS grp, d.status, d.stage, d.source, d.lost_reason, d.currency, count(*),
               {exact_sum_sql('d.amount')}, {exact_sum_sql(w_sql)},
               {days}
        FROM deal d{hint} WHERE {where}
        GROUP BY {group_by or 'grp'}, d.status, d.stage, d.source, d.lost_reason, d.currency"""), params).all()
    amount_at: dict[str, dict[str, int]] = {}  # Σ amount per stage (exact): average deal size
    for owner, status, stage, source, reason, currency, n, a_hi, a_lo, w_hi, w_lo, cycle, dwell, entered in rows:
        stage = smap.key(stage) or stage
        f = facts.setdefault(owner, FunnelFacts())
        f.groups.append(DealGroup(status, stage, source or "", reason or "", n, exact_total(a_hi, a_lo),
                                  exact_total(w_hi, w_lo), float(cycle or 0.0), float(dwell or 0.0), currency))
        per = open_entries.setdefault(owner, {})
        per[stage] = per.get(stage, 0.0) + float(entered or 0.0)
        cur = current_at.setdefault(owner, {})
        cur[stage] = cur.get(stage, 0) + n
        money = amount_at.setdefault(owner, {})
        money[stage] = money.get(stage, 0) + exact_total(a_hi, a_lo)
    if not lean and smap.relabels:  # open stays that began before a relabel (store/stage_stays.py)
        live = live_sql("h") if has_undos(conn) else "1 = 1"
        fixes = open_stay_fixes(conn, smap, where, params, grp_sql, live)
        apply_open_stay_fixes(facts, open_entries, fixes, smap, params["now_jd"])

    # Reached: the current stage, except for deals that moved back. A deal below its highest
    # stage left that stage by a backward move, so its highest is the highest stage it ever
    # moved back from: index seeks on the (few) backward rows, no walk along each path.
    # "Backward" and "highest" read positions through the map (a relabel is neither).
    pos_params: dict[str, Any] = {}
    from_case = position_case("h.from_stage", smap, pos_params, "fp")
    backward = []
    keys = sorted(smap.position)
    for j, key in enumerate(keys):
        later = [k for k in keys if smap.position[k] > smap.position[key]]
        if later:
            pos_params[f"bk{j}"] = key
            names = []
            for i, other in enumerate(later):
                pos_params[f"bf{j}_{i}"] = other
                names.append(f":bf{j}_{i}")
            backward.append(f"SELECT h.deal_id, h.action, {from_case} AS fp FROM history h "
                            f"WHERE h.to_stage = :bk{j} AND h.from_stage IN ({', '.join(names)})")
    # Counted per (group, stage, highest) in SQL: thousands of deals move back at 100k.
    moved_back = conn.execute(text(f"""
        SELECT m.grp, m.stage, m.top, count(*), {exact_sum_sql('m.amount')}
        FROM (SELECT {grp_sql} AS grp, d.stage AS stage, max(b.fp) AS top, d.amount AS amount
              FROM ({' UNION ALL '.join(backward) or "SELECT NULL AS deal_id, '' AS action, 0 AS fp"}) b
              JOIN deal d ON d.id = b.deal_id
              WHERE {where} AND {live_sql('b')}
              GROUP BY b.deal_id, grp, d.stage, d.amount) m
        GROUP BY m.grp, m.stage, m.top"""), {**params, **pos_params}).all()
    by_position = {smap.position[s.key]: s.key for s in smap.counted}
    for owner, cur in current_at.items():
        facts[owner].highest = dict(cur)
        facts[owner].highest_amount = dict(amount_at[owner])
    for owner, stage, top, n, a_hi, a_lo in moved_back:
        stage = smap.key(stage) or stage
        if top > smap.position.get(stage, 0) and top in by_position:
            highest, money = facts[owner].highest, facts[owner].highest_amount
            amount = exact_total(a_hi, a_lo)
            highest[stage] -= n
            highest[by_position[top]] = highest.get(by_position[top], 0) + n
            money[stage] -= amount
            money[by_position[top]] = money.get(by_position[top], 0) + amount

    if lean:
        return facts if split else {None: merged(facts.values())}
    # Completed stays from entry/exit sums, less the rows that are not stays.
    undone = has_undos(conn)
    pairs: dict[str, dict] = {}
    days_at = days_sql("h.at")
    if fast_all:
        total = conn.execute(text(f"""
            SELECT h.to_stage, h.from_stage, count(*), sum({days_at})
            FROM history h WHERE h.to_stage IS NOT NULL
            GROUP BY h.to_stage, h.from_stage""")).all()
        # Every deal's rows, read in index order without a join; deleted deals' rows come off.
        add_pairs(pairs, mapped_pairs(smap, [(None, *r) for r in total]), +1)
        gone = conn.execute(text(f"""
            SELECT h.to_stage, h.from_stage, count(*), sum({days_at})
            FROM history h
            WHERE h.to_stage IS NOT NULL AND h.deal_id IN (
                SELECT x.deal_id FROM history x JOIN deal d ON d.id = x.deal_id
                WHERE x.kind = 'deleted' AND d.deleted_at IS NOT NULL)
            GROUP BY h.to_stage, h.from_stage""")).all()
        add_pairs(pairs, mapped_pairs(smap, [(None, *r) for r in gone]), -1)
    else:
        # The set's (id, rep) pairs first, from the summary index: joining each history row
        # to the wide deal row instead costs a table look-up per row.
        rows = conn.execute(text(f"""
            WITH chosen AS MATERIALIZED (SELECT d.id, {grp_sql} AS owner FROM deal d WHERE {where})
            SELECT chosen.owner, h.to_stage, h.from_stage, count(*), sum({days_at})
            FROM chosen JOIN history h ON h.deal_id = chosen.id AND h.to_stage IS NOT NULL
            GROUP BY chosen.owner, h.to_stage, h.from_stage"""), params).all()
        add_pairs(pairs, mapped_pairs(smap, rows), +1)
    if undone:
        rows = conn.execute(text(f"""
            SELECT {grp_sql} AS grp, h.to_stage, h.from_stage, count(*), sum({days_at})
            FROM history h JOIN deal d ON d.id = h.deal_id
            WHERE h.action IN ({skipped_actions_sql()}) AND h.to_stage IS NOT NULL AND {where}
            GROUP BY grp, h.to_stage, h.from_stage"""), params).all()
        if fast_all:
            rows = [(None, *r[1:]) for r in rows]
        add_pairs(pairs, mapped_pairs(smap, rows), -1)
    if fast_all:
        open_all: dict[str, float] = {}
        for per in open_entries.values():
            for stage, v in per.items():
                open_all[stage] = open_all.get(stage, 0.0) + v
        stays_all = completed_stays(pairs, {None: open_all}).get(None, {})
    else:
        for owner, stays in completed_stays(pairs, open_entries).items():
            facts.setdefault(owner, FunnelFacts()).stays = stays

    # ABC tiers need the open deals' weighted values: how many deals have each value.
    if fast_all:
        values = conn.execute(text(
            f"SELECT NULL, {w_sql} AS w, count(*) FROM deal d "
            f"WHERE d.status = 'open' AND d.deleted_at IS NULL GROUP BY w")).all()
    else:
        values = conn.execute(text(
            f"SELECT {grp_sql} AS grp, {w_sql} AS w, count(*) FROM deal d "
            f"WHERE d.status = 'open' AND {where} GROUP BY grp, w"), params).all()
    for owner, w, n in values:
        per = facts.setdefault(owner, FunnelFacts()).open_weighted
        per[int(w)] = per.get(int(w), 0) + n
    if split:
        return facts
    total = merged(facts.values())
    if fast_all:
        total.stays = stays_all
    return {None: total}


def combine(per_owner: dict[str | None, FunnelFacts], *, by_owner: bool) -> dict[str | None, FunnelFacts]:
    """Facts per rep sorted by rep (by_owner), or merged into one under the key None."""
    if by_owner:
        return dict(sorted(per_owner.items(), key=lambda kv: kv[0] or ""))
    if None in per_owner:
        return per_owner
    return {None: merged(per_owner.values())}


def merged(parts: Iterable[FunnelFacts]) -> FunnelFacts:
    """The facts of several reps as one."""
    total = FunnelFacts()
    for facts in parts:
        total = total.merge(facts)
    return total


def owners(conn: Connection) -> list[str]:
    """Every rep with a deal (the summary's rep selector), from the summary index."""
    return [r[0] for r in conn.execute(text(
        "SELECT DISTINCT d.owner FROM deal d WHERE d.deleted_at IS NULL ORDER BY d.owner"))]
