"""The trend (domain/trend.py) in SQL: the flow and the cohort conversion of each period.

Like the weekly review (store/review.py), whose queries these generalise from three or six
weeks to any run of periods: one indexed range query per kind of event, less the same rows of
undone actions, and one cohort query that follows each period's entrants along their own
path (ix_history_path). Reads inside the caller's transaction; everything counts as of `now`.

`stages` is the pipeline's stage set now, archived ones included: every period is read through
today's map, as the review reads its weeks (an entry into a split stage counts for its first
part; a split's or merge's relabel move is no entry). Won amounts are exact sums past 64 bits
(tables.exact_sum_sql).
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import Any, Iterator, Sequence

from sqlalchemy import text
from sqlalchemy.engine import Connection

from funnel_tui.domain.stages import StageDef, StageMap
from funnel_tui.domain.trend import FLOW_METRICS, Window
from funnel_tui.store.history import live_sql, skipped_actions_sql
from funnel_tui.store.summary import DealSet, position_case, set_clause
from funnel_tui.store.tables import exact_sum_sql, exact_total, utc_text

ENTRY = "h.kind IN ('created', 'stage') AND (h.kind = 'created' OR {to_pos} > {from_pos})"
JOIN_DEAL = "JOIN deal d ON d.id = h.deal_id"
COHORT_CACHE_KIB = 32 * 1024
PACK = 2 ** 32  # the cohort query's two counts in one sum: entrants + moved on × PACK
# Every deal but the deleted ones, without a look-up of each history row's deal (the bulk of
# the time at 100k deals): a deleted deal has a 'deleted' row (the index on kind finds the few),
# and is still deleted (an undone delete is not).
NOT_DELETED = ("h.deal_id NOT IN (SELECT x.deal_id FROM history x JOIN deal dx ON dx.id = x.deal_id "
               "WHERE x.kind = 'deleted' AND dx.deleted_at IS NOT NULL)")


def _params(smap: StageMap, wins: Sequence[Window], *, now: datetime, deals: DealSet):
    """Bind values, the period CASE over a column, the deal-set WHERE and the entry rule."""
    params: dict[str, Any] = {"lo": utc_text(wins[0][0]), "hi": utc_text(wins[-1][1]), "now": utc_text(now)}
    whens = []
    for i in reversed(range(len(wins))):  # newest first: the first start at or before the row
        params[f"tw{i}"] = utc_text(wins[i][0])
        whens.append(f"WHEN {{col}} >= :tw{i} THEN {i}")
    period = "CASE " + " ".join(whens) + " END"
    where = NOT_DELETED if deals.everything else set_clause(deals, params)
    to_pos = position_case("h.to_stage", smap, params, "tq")
    from_pos = position_case("h.from_stage", smap, params, "fq")
    return params, period, where, ENTRY.format(to_pos=to_pos, from_pos=from_pos)


def _undone_by(conn: Connection, params: dict) -> bool:
    return conn.execute(text("SELECT 1 FROM undo WHERE at <= :now LIMIT 1"), params).first() is not None


@contextmanager
def _roomy_cache(conn: Connection) -> Iterator[None]:
    """SQLite: up to COHORT_CACHE_KIB of page cache for the cohort walk, then the connection's
    own size again. Its seeks along 150k paths at 100k deals re-read some 64k pages through the
    2 MiB default (4k with room); other reads keep their memory ceiling."""
    if conn.dialect.name != "sqlite":
        yield
        return
    was = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{COHORT_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(was)}")


def flow(conn: Connection, stages: Sequence[StageDef], wins: Sequence[Window], *, now: datetime,
         deals: DealSet = DealSet(), entries: bool = True) -> dict[str, list]:
    """Per period (domain.trend.flow_from_rows): new_deals, wins, losses, won_amount,
    cycle_days (Σ), entered:<stage> (each stage history counts as now; left at 0 without
    `entries`: the trend counts them with the cohorts, reads_for_trend)."""
    smap = StageMap.of(stages)
    params, period, where, entry = _params(smap, wins, now=now, deals=deals)
    n = len(wins)
    out: dict[str, list] = {m: [0] * n for m in FLOW_METRICS}
    out["cycle_days"] = [0.0] * n
    for s in smap.counted:
        out[f"entered:{s.key}"] = [0] * n
    undone = _undone_by(conn, params)
    kind = "+h.kind" if conn.dialect.name == "sqlite" else "h.kind"  # keeps SQLite on the action index for this small correction

    def counts(select: str, where_h: str, group: str, needs_deal: bool = False) -> dict[tuple, list]:
        join = JOIN_DEAL if needs_deal or not deals.everything else ""
        q = (f"SELECT {select} FROM history h {join} "
             f"WHERE {where_h} AND h.at >= :lo AND h.at < :hi AND h.at <= :now AND {where} GROUP BY {group}")
        totals: dict[tuple, list] = {}
        for *key, count, hi, lo, days in conn.execute(text(q), params):
            totals[tuple(key)] = [count, exact_total(hi, lo), days or 0.0]
        if undone:
            q_undone = q.replace(f"WHERE {where_h}", f"WHERE h.action IN ({skipped_actions_sql('now')}) "
                                 f"AND {where_h.replace('h.kind', kind)}", 1)
            for *key, count, hi, lo, days in conn.execute(text(q_undone), params):
                t = totals[tuple(key)]
                t[0] -= count
                t[1] -= exact_total(hi, lo)
                t[2] -= days or 0.0
        return totals

    at = period.format(col="h.at")
    for (w,), (count, _a, _d) in counts(f"{at}, count(*), 0, 0, 0", "h.kind = 'created'", "1").items():
        out["new_deals"][w] = count
    if entries:
        for (stage, w), (count, _a, _d) in counts(f"h.to_stage, {at}, count(*), 0, 0, 0", entry, "1, 2").items():
            stage = smap.key(stage)
            if f"entered:{stage}" in out:
                out[f"entered:{stage}"][w] += count
    # Only a win needs its deal (amount, created): a loss is counted off the index alone.
    for (w,), (count, amount, days) in counts(
            f"{at}, count(*), {exact_sum_sql('d.amount')}, sum(julianday(h.at) - julianday(d.created_at))",
            "h.kind = 'won'", "1", needs_deal=True).items():
        out["wins"][w], out["won_amount"][w], out["cycle_days"][w] = count, int(amount), float(days)
    for (w,), (count, _a, _d) in counts(f"{at}, count(*), 0, 0, 0", "h.kind = 'lost'", "1").items():
        out["losses"][w] = count
    return out


def cohorts(conn: Connection, stages: Sequence[StageDef], wins: Sequence[Window], *, now: datetime,
            deals: DealSet = DealSet()) -> dict[str, list[tuple[int, int]]]:
    """`cohort:<stage>` → [(n, d) per period] (domain.trend.cohorts_from_rows): d deals entered
    the stage in the period; n of them have reached the next stage since, as of `now`. Keys
    are read through today's map, as the weekly review reads its weeks."""
    return _cohorts(conn, stages, wins, now=now, deals=deals)[0]


def reads_for_trend(conn: Connection, stages: Sequence[StageDef], wins: Sequence[Window], *, now: datetime,
                    deals: DealSet = DealSet()) -> tuple[dict[str, list], dict[str, list[tuple[int, int]]]]:
    """(flow, cohorts) as `flow` and `cohorts` give them, the entries counted once: the
    cohorts' scan of the entry rows (grouped per deal) also gives entered:<stage>."""
    out = flow(conn, stages, wins, now=now, deals=deals, entries=False)
    cohort, entered = _cohorts(conn, stages, wins, now=now, deals=deals)
    for key, values in entered.items():
        if key in out:
            out[key] = values
    return out, cohort


def _cohorts(conn: Connection, stages: Sequence[StageDef], wins: Sequence[Window], *, now: datetime,
             deals: DealSet) -> tuple[dict[str, list[tuple[int, int]]], dict[str, list[int]]]:
    """(cohorts, entered:<stage> → entries per period): one scan of the entry rows."""
    smap = StageMap.of(stages)
    params, period, where, entry = _params(smap, wins, now=now, deals=deals)
    order = [smap.position[s.key] for s in smap.counted]
    nxt_whens = []
    for i, (key, pos) in enumerate(sorted(smap.position.items())):
        later = [p for p in order if p > pos]
        if later:
            params[f"nk{i}"] = key
            nxt_whens.append(f"WHEN :nk{i} THEN {int(min(later))}")
    out = {f"cohort:{s.key}": [(0, 0)] * len(wins) for s in smap.counted}
    entered = {f"entered:{s.key}": [0] * len(wins) for s in smap.counted}
    next_pos = f"(CASE h.to_stage {' '.join(nxt_whens)} END)" if nxt_whens else "NULL"
    x_pos = position_case("x.to_stage", smap, params, "xq")
    y_entry = ENTRY.replace("h.", "y.").format(to_pos=position_case("y.to_stage", smap, params, "yt"),
                                               from_pos=position_case("y.from_stage", smap, params, "yf"))
    undone = _undone_by(conn, params)
    live_h = live_sql("h", "now") if undone else "1 = 1"
    live_x = live_sql("x", "now") if undone else "1 = 1"
    live_y = live_sql("y", "now") if undone else "1 = 1"
    # SQLite's planner hint: walk each deal's path, not the time index (no + on a server's times).
    x_at, y_at = ("+x.at", "+y.at") if conn.dialect.name == "sqlite" else ("x.at", "y.at")
    wk_h, wk_y = period.format(col="h.at"), period.format(col="y.at")
    # An entrant is a deal's first entry into the stage in the period: no earlier entry row of
    # the same deal, stage and period (a seek on its path; such repeats are rare). That keeps
    # each entry row one row of a single GROUP BY, not a group of its own to sort first.
    first = f"""NOT EXISTS (
                 SELECT 1 FROM history y
                 WHERE y.deal_id = h.deal_id AND y.to_stage = h.to_stage AND y.id < h.id
                   AND {y_at} >= :lo AND {y_at} < :hi AND {y_at} <= :now AND {wk_y} = {wk_h}
                   AND {y_entry} AND {live_y})"""
    moved_on = f"""EXISTS (
                 SELECT 1 FROM history x
                 WHERE x.deal_id = h.deal_id AND x.to_stage IS NOT NULL AND x.id > h.id
                   AND {x_at} <= :now AND {x_pos} >= {next_pos} AND {live_x})"""
    # Per (stage, period): the entry rows, and the entrants packed with those that moved on
    # since as one sum (d + n·2³²), so each row's two look-ups run once.
    with _roomy_cache(conn):
        rows = conn.execute(text(f"""
        SELECT h.to_stage, {wk_h}, count(*),
               sum(CASE WHEN {next_pos} IS NULL OR NOT {first} THEN 0
                        WHEN {moved_on} THEN {PACK + 1} ELSE 1 END)
        FROM history h {'' if deals.everything else JOIN_DEAL}
        WHERE {entry} AND h.at >= :lo AND h.at < :hi AND h.at <= :now AND {where} AND {live_h}
        GROUP BY 1, 2"""), params).all()
    rows = [(stage, w, entries, int(packed or 0) % PACK, int(packed or 0) // PACK) for stage, w, entries, packed in rows]
    for stage, w, entries, d, n in rows:
        if w is None:
            continue
        key = smap.key(stage)
        if f"entered:{key}" in entered:
            entered[f"entered:{key}"][int(w)] += int(entries)
        if d and f"cohort:{key}" in out:
            values = list(out[f"cohort:{key}"])
            was_n, was_d = values[int(w)]
            values[int(w)] = (was_n + int(n or 0), was_d + int(d))
            out[f"cohort:{key}"] = values
    return out, entered
