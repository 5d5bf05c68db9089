"""The weekly review: history rows counted in week-long windows, this week against last
and the trailing four weeks, the cohort conversion of each week, and the bottlenecks
(domain.funnel.review).

One indexed range query per kind of event, less the same rows of undone actions; the cohort
query follows each week's entrants along their own path. Reads inside the caller's
transaction (SQLite: julianday and UTC text times). Everything counts as of `now`: rows after
it, and undos made after it, are not looked at, so `--as-of` replays a past Monday.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import text
from sqlalchemy.engine import Connection

from funnel_tui.domain.funnel import BOTTLENECK_THRESHOLD, review as review_math, review_weeks
from funnel_tui.domain.stage_history import SLOW_WEEKS, deal_stays, slow_stages
from funnel_tui.domain.stages import StageDef, StageMap
from funnel_tui.store.history import live_sql, skipped_actions_sql
from funnel_tui.store.summary import DealSet, position_case, set_clause
from funnel_tui.store.tables import exact_sum_sql, exact_total, from_db, utc_text

# The won amount of a week, summed in two exact parts (tables.exact_sum_sql): 64 bits are not enough.
WON_AMOUNT = "CASE WHEN h.kind = 'won' THEN d.amount END"
# A stage entry in the review: created in the stage, or moved forward into it (a back-move
# is a move, and restarts the stage clock, but it is no entry into the funnel's next step).
ENTRY = "h.kind IN ('created', 'stage') AND (h.kind = 'created' OR {to_pos} > {from_pos})"


def _window_params(smap: StageMap, *, now: datetime, tz, owner: str | None, weeks: int,
                   stage_keys: Sequence[str] | None):
    """Bind values, the week CASE over a column, the deal-set WHERE and the entry condition
    (positions read through the map: a split's or merge's relabel is no entry)."""
    windows = review_weeks(now, tz, weeks)
    params: dict[str, Any] = {"lo": utc_text(windows[-1][0]), "hi": utc_text(windows[0][1]),
                              "now": utc_text(now)}
    for i, (start, _end) in enumerate(windows):
        params[f"w{i}"] = utc_text(start)
    week = "CASE " + " ".join(f"WHEN {{col}} >= :w{i} THEN {i}" for i in range(weeks)) + " END"
    where = set_clause(DealSet(owner=owner, stages=tuple(stage_keys) if stage_keys is not None else None), params)
    to_pos = position_case("h.to_stage", smap, params, "tq")
    from_pos = position_case("h.from_stage", smap, params, "fq")
    return params, week, where, ENTRY.format(to_pos=to_pos, from_pos=from_pos)


def weekly_flow(conn: Connection, stages: Sequence[StageDef], *, now: datetime, tz, owner: str | None = None,
                weeks: int = 6, stage_keys: Sequence[str] | None = None) -> dict[str, list[int]]:
    """Counts per week (0 = this week): new_deals, wins, losses, won_amount, entered:<stage>.

    `stages` is the pipeline's stage set now, archived ones included: every week is read
    through today's map (an entry into a split stage counts for its first part)."""
    smap = StageMap.of(stages)
    params, week, where, entry = _window_params(smap, now=now, tz=tz, owner=owner, weeks=weeks,
                                                 stage_keys=stage_keys)
    out: dict[str, list[int]] = {m: [0] * weeks for m in ("new_deals", "wins", "losses", "won_amount")}
    for s in smap.counted:
        out[f"entered:{s.key}"] = [0] * weeks
    undone = conn.execute(text("SELECT 1 FROM undo WHERE at <= :now LIMIT 1"), params).first() is not None

    def counts(select: str, where_h: str, group: str):
        """Rows of the query, less the same rows of undone actions (few; index by action)."""
        q = (f"SELECT {select} FROM history h JOIN deal d ON d.id = h.deal_id "
             f"WHERE {where_h} AND h.at >= :lo AND h.at < :hi AND h.at <= :now AND {where} GROUP BY {group}")
        totals: dict[tuple, list] = {}
        for *key, n, hi, lo in conn.execute(text(q), params):
            totals[tuple(key)] = [n, exact_total(hi, lo)]
        if undone:
            # `+h.kind` keeps SQLite's planner on the action index for this small correction
            # (a server's planner has statistics, and no unary + on text).
            kind = "+h.kind" if conn.dialect.name == "sqlite" else "h.kind"
            q_undone = q.replace(f"WHERE {where_h}",
                                 f"WHERE h.action IN ({skipped_actions_sql('now')}) "
                                 f"AND {where_h.replace('h.kind', kind)}", 1)
            for *key, n, hi, lo in conn.execute(text(q_undone), params):
                totals[tuple(key)][0] -= n
                totals[tuple(key)][1] -= exact_total(hi, lo)
        return totals

    # New deals: deals created (not imported) in the week.
    for (wk,), (n, _) in counts(f"{week.format(col='h.at')}, count(*), 0, 0", "h.kind = 'created'", "1").items():
        out["new_deals"][wk] = n
    # Entries: created in a stage, or moved forward into it (a back-move is no entry).
    for (stage, wk), (n, _) in counts(f"h.to_stage, {week.format(col='h.at')}, count(*), 0, 0", entry, "1, 2").items():
        stage = smap.key(stage)
        if f"entered:{stage}" in out:
            out[f"entered:{stage}"][wk] += n
    for (kind, wk), (n, amount) in counts(
            f"h.kind, {week.format(col='h.at')}, count(*), {exact_sum_sql(WON_AMOUNT)}",
            "h.kind IN ('won', 'lost')", "1, 2").items():
        out["wins" if kind == "won" else "losses"][wk] = n
        if kind == "won":
            out["won_amount"][wk] = int(amount or 0)
    return out


def weekly_cohorts(conn: Connection, stages: Sequence[StageDef], *, now: datetime, tz, owner: str | None = None,
                   weeks: int = 3, stage_keys: Sequence[str] | None = None) -> dict[str, list[tuple[int, int]]]:
    """Cohort conversion per stage and week (DESIGN §3): `cohort:<stage>` → [(n, d), …],
    week 0 = this week. d = the deals that entered the stage during the week (created in it
    or moved forward into it); n = how many of them have reached the next stage since (any
    later entry at or past it), as of `now`. Undone moves count nowhere. n ≤ d always.
    Three weeks by default: the review shows this week, last week and the week before (each
    entrant costs an index seek along its own path)."""
    smap = StageMap.of(stages)  # every key read as the stage it counts as now
    params, week, where, entry = _window_params(smap, now=now, tz=tz, owner=owner, weeks=weeks,
                                                 stage_keys=stage_keys)
    order = [smap.position[s.key] for s in smap.counted]
    nxt_whens = []
    for i, (key, pos) in enumerate(sorted(smap.position.items())):
        later = [p for p in order if p > pos]
        if later:
            params[f"nk{i}"] = key
            nxt_whens.append(f"WHEN :nk{i} THEN {int(min(later))}")
    out = {f"cohort:{s.key}": [(0, 0)] * weeks for s in smap.counted}
    if not nxt_whens:
        return out
    x_pos = position_case("x.to_stage", smap, params, "xq")
    # Without undos (by then) every row stands: no look-up of each row's action.
    undone = conn.execute(text("SELECT 1 FROM undo WHERE at <= :now LIMIT 1"), params).first() is not None
    live_h = live_sql("h", "now") if undone else "1 = 1"
    live_x = live_sql("x", "now") if undone else "1 = 1"
    x_at = "+x.at" if conn.dialect.name == "sqlite" else "x.at"  # SQLite's planner hint (no + on a server's times)
    rows = conn.execute(text(f"""
        WITH entrants AS MATERIALIZED (
          SELECT h.deal_id, h.to_stage, {week.format(col='h.at')} AS wk, min(h.id) AS first_id,
                 (CASE h.to_stage {' '.join(nxt_whens)} END) AS next_pos
          FROM history h JOIN deal d ON d.id = h.deal_id
          WHERE {entry} AND h.at >= :lo AND h.at < :hi AND h.at <= :now AND {where} AND {live_h}
          GROUP BY h.deal_id, h.to_stage, wk)
        SELECT e.to_stage, e.wk, count(*),
               sum(CASE WHEN EXISTS (
                     SELECT 1 FROM history x
                     WHERE x.deal_id = e.deal_id AND x.to_stage IS NOT NULL AND x.id > e.first_id
                       AND {x_at} <= :now AND {x_pos} >= e.next_pos AND {live_x})
                   THEN 1 ELSE 0 END)
        FROM entrants e WHERE e.next_pos IS NOT NULL
        GROUP BY e.to_stage, e.wk"""), params).all()
    for stage, wk, d, n in rows:
        key = f"cohort:{smap.key(stage)}"
        if key in out and wk is not None:
            was_n, was_d = out[key][wk]
            out[key] = [*out[key][:wk], (was_n + int(n or 0), was_d + int(d)), *out[key][wk + 1:]]
    return out


def review(conn: Connection, stages: Sequence[StageDef], *, now: datetime, tz, owner: str | None = None,
           threshold: float = BOTTLENECK_THRESHOLD, stage_keys: Sequence[str] | None = None) -> dict[str, Any]:
    """The weekly review: this week vs last vs the trailing 4-week average, cohort
    conversion per week, bottlenecks, and the stages deals overstayed four weeks running
    (split suggested)."""
    weekly: dict[str, Any] = dict(weekly_flow(conn, stages, now=now, tz=tz, owner=owner, stage_keys=stage_keys))
    weekly.update(weekly_cohorts(conn, stages, now=now, tz=tz, owner=owner, stage_keys=stage_keys))
    windows = review_weeks(now, tz, 6)
    current = [s for s in stages if not s.archived]
    out = review_math(current, weekly, threshold=threshold)
    out["owner"] = owner
    out["week_start"] = windows[0][0]
    out["last_week_start"] = windows[1][0]
    stays = completed_stays_in(conn, stages, windows[SLOW_WEEKS][0], windows[1][1], owner=owner,
                               stage_keys=stage_keys)
    out["slow_stages"] = slow_stages(current, stays, windows)
    return out


def completed_stays_in(conn: Connection, stages: Sequence[StageDef], lo: datetime, hi: datetime, *,
                       owner: str | None = None, stage_keys: Sequence[str] | None = None) -> list[tuple]:
    """Completed stays (stage as it counts now, entered, left) that ended in [lo, hi): the
    paths of the deals with a move in that span, walked by domain.funnel.deal_stays."""
    params: dict[str, Any] = {"lo": utc_text(lo), "hi": utc_text(hi)}
    where = set_clause(DealSet(owner=owner, stages=tuple(stage_keys) if stage_keys is not None else None), params)
    rows = conn.execute(text(f"""
        SELECT h.id, h.deal_id, h.at, h.kind, h.to_stage, h.from_stage, h.action
        FROM history h JOIN deal d ON d.id = h.deal_id
        WHERE h.to_stage IS NOT NULL AND {where} AND {live_sql('h')} AND h.deal_id IN (
            SELECT x.deal_id FROM history x WHERE x.kind = 'stage' AND x.at >= :lo AND x.at < :hi)
        ORDER BY h.deal_id, h.id"""), params).mappings().all()
    smap = StageMap.of(stages)
    undone: set[str] = set()  # undone actions' rows are left out by the query (live_sql)
    paths: dict[int, list[dict]] = {}
    for r in rows:
        paths.setdefault(r["deal_id"], []).append({**r, "at": from_db(_when(r["at"]))})
    lo_t, hi_t = from_db(lo), from_db(hi)
    return [stay for path in paths.values() for stay in deal_stays(path, smap, undone) if lo_t <= stay[2] < hi_t]


def _when(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
