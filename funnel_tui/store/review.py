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
from funnel_tui.domain.stages import StageDef
from funnel_tui.store.history import live_sql, skipped_actions_sql
from funnel_tui.store.summary import position_case
from funnel_tui.store.tables import utc_text

# A stage entry in the review: created in the stage, or moved forward into it (a back-move
# is a move, and restarts the stage clock, but it is no entry into the funnel's next step).
ENTRY = "h.kind IN ('created', 'stage') AND (h.kind = 'created' OR {to_pos} > {from_pos})"


def _window_params(stages: Sequence[StageDef], *, now: datetime, tz, owner: str | None, weeks: int):
    """Bind values, the week CASE over a column, the deal-set WHERE and the position CASEs."""
    windows = review_weeks(now, tz, weeks)
    params: dict[str, Any] = {"lo": utc_text(windows[-1][0]), "hi": utc_text(windows[0][1]),
                              "now": utc_text(now)}
    for i, (start, _end) in enumerate(windows):
        params[f"w{i}"] = utc_text(start)
    week = "CASE " + " ".join(f"WHEN {{col}} >= :w{i} THEN {i}" for i in range(weeks)) + " END"
    where = "d.deleted_at IS NULL" + (" AND d.owner = :owner" if owner is not None else "")
    if owner is not None:
        params["owner"] = owner
    to_pos = position_case("h.to_stage", stages, params, "tq")
    from_pos = position_case("h.from_stage", stages, params, "fq")
    return params, week, where, ENTRY.format(to_pos=to_pos, from_pos=from_pos)


def weekly_flow(conn: Connection, stages: Sequence[StageDef], *, now: datetime, tz, owner: str | None = None,
                weeks: int = 6) -> dict[str, list[int]]:
    """Counts per week (0 = this week): new_deals, wins, losses, won_amount, entered:<stage>."""
    params, week, where, entry = _window_params(stages, now=now, tz=tz, owner=owner, weeks=weeks)
    out: dict[str, list[int]] = {m: [0] * weeks for m in ("new_deals", "wins", "losses", "won_amount")}
    for s in stages:
        out[f"entered:{s.key}"] = [0] * weeks
    undone = conn.execute(text("SELECT 1 FROM undo WHERE at <= :now LIMIT 1"), params).first() is not None

    def counts(select: str, where_h: str, group: str):
        """Rows of the query, less the same rows of undone actions (few; index by action)."""
        q = (f"SELECT {select} FROM history h JOIN deal d ON d.id = h.deal_id "
             f"WHERE {where_h} AND h.at >= :lo AND h.at < :hi AND h.at <= :now AND {where} GROUP BY {group}")
        totals: dict[tuple, list] = {}
        for *key, n, amount in conn.execute(text(q), params):
            totals[tuple(key)] = [n, amount or 0]
        if undone:
            # `+h.kind` keeps SQLite's planner on the action index for this small correction
            # (a server's planner has statistics, and no unary + on text).
            kind = "+h.kind" if conn.dialect.name == "sqlite" else "h.kind"
            q_undone = q.replace(f"WHERE {where_h}",
                                 f"WHERE h.action IN ({skipped_actions_sql('now')}) "
                                 f"AND {where_h.replace('h.kind', kind)}", 1)
            for *key, n, amount in conn.execute(text(q_undone), params):
                totals[tuple(key)][0] -= n
                totals[tuple(key)][1] -= amount or 0
        return totals

    # New deals: deals created (not imported) in the week.
    for (wk,), (n, _) in counts(f"{week.format(col='h.at')}, count(*), 0", "h.kind = 'created'", "1").items():
        out["new_deals"][wk] = n
    # Entries: created in a stage, or moved forward into it (a back-move is no entry).
    for (stage, wk), (n, _) in counts(f"h.to_stage, {week.format(col='h.at')}, count(*), 0", entry, "1, 2").items():
        if f"entered:{stage}" in out:
            out[f"entered:{stage}"][wk] = n
    for (kind, wk), (n, amount) in counts(
            f"h.kind, {week.format(col='h.at')}, count(*), sum(CASE WHEN h.kind = 'won' THEN d.amount END)",
            "h.kind IN ('won', 'lost')", "1, 2").items():
        out["wins" if kind == "won" else "losses"][wk] = n
        if kind == "won":
            out["won_amount"][wk] = int(amount or 0)
    return out


def weekly_cohorts(conn: Connection, stages: Sequence[StageDef], *, now: datetime, tz, owner: str | None = None,
                   weeks: int = 3) -> dict[str, list[tuple[int, int]]]:
    """Cohort conversion per stage and week (DESIGN §3): `cohort:<stage>` → [(n, d), …],
    week 0 = this week. d = the deals that entered the stage during the week (created in it
    or moved forward into it); n = how many of them have reached the next stage since (any
    later entry at or past it), as of `now`. Undone moves count nowhere. n ≤ d always.
    Three weeks by default: the review shows this week, last week and the week before (each
    entrant costs an index seek along its own path)."""
    order = sorted(stages, key=lambda s: s.position)
    params, week, where, entry = _window_params(stages, now=now, tz=tz, owner=owner, weeks=weeks)
    nxt_whens = []
    for i, s in enumerate(order[:-1]):
        params[f"nk{i}"] = s.key
        nxt_whens.append(f"WHEN :nk{i} THEN {int(order[i + 1].position)}")
    out = {f"cohort:{s.key}": [(0, 0)] * weeks for s in stages}
    if not nxt_whens:
        return out
    x_pos = position_case("x.to_stage", stages, params, "xq")
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
        key = f"cohort:{stage}"
        if key in out and wk is not None:
            out[key] = [*out[key][:wk], (int(n or 0), int(d)), *out[key][wk + 1:]]
    return out


def review(conn: Connection, stages: Sequence[StageDef], *, now: datetime, tz, owner: str | None = None,
           threshold: float = BOTTLENECK_THRESHOLD) -> dict[str, Any]:
    """The weekly review: this week vs last vs the trailing 4-week average, cohort
    conversion per week, bottlenecks."""
    weekly: dict[str, Any] = dict(weekly_flow(conn, stages, now=now, tz=tz, owner=owner))
    weekly.update(weekly_cohorts(conn, stages, now=now, tz=tz, owner=owner))
    windows = review_weeks(now, tz, 6)
    out = review_math(stages, weekly, threshold=threshold)
    out["owner"] = owner
    out["week_start"] = windows[0][0]
    out["last_week_start"] = windows[1][0]
    return out
