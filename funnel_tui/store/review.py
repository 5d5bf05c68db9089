"""The weekly review: history rows counted in week-long windows, this week against last
and the trailing four weeks, and the bottlenecks (domain.funnel.review).

One indexed range query per kind of event, less the same rows of undone actions; reads
inside the caller's transaction (SQLite: julianday and UTC text times).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from funnel_tui.domain.funnel import BOTTLENECK_THRESHOLD, review as review_math, review_weeks
from funnel_tui.domain.stages import StageDef
from funnel_tui.store.summary import position_case, undone_actions
from funnel_tui.store.tables import exact_sum_sql, exact_total, utc_text

WON_AMOUNT = "CASE WHEN h.kind = 'won' THEN d.amount END"


def weekly_flow(conn: Connection, stages: Sequence[StageDef], *, now: datetime, tz, owner: str | None = None,
                weeks: int = 6) -> dict[str, list[int]]:
    """Counts per week (0 = this week): new_deals, wins, losses, won_amount, entered:<stage>."""
    windows = review_weeks(now, tz, weeks)
    params: dict[str, Any] = {"lo": utc_text(windows[-1][0]), "hi": utc_text(windows[0][1])}
    for i, (start, _end) in enumerate(windows):
        params[f"w{i}"] = utc_text(start)
    week = "CASE " + " ".join(f"WHEN {{col}} >= :w{i} THEN {i}" for i in range(weeks)) + " END"
    where = "d.deleted_at IS NULL" + (" AND d.owner = :owner" if owner is not None else "")
    if owner is not None:
        params["owner"] = owner
    to_pos = position_case("h.to_stage", stages, params, "tq")
    from_pos = position_case("h.from_stage", stages, params, "fq")
    out: dict[str, list[int]] = {m: [0] * weeks for m in ("new_deals", "wins", "losses", "won_amount")}
    for s in stages:
        out[f"entered:{s.key}"] = [0] * weeks
    undone = undone_actions(conn, None)

    def counts(select: str, where_h: str, group: str):
        """Rows of the query, less the same rows of undone actions (few; index by action)."""
        q = (f"SELECT {select} FROM history h JOIN deal d ON d.id = h.deal_id "
             f"WHERE {where_h} AND h.at >= :lo AND h.at < :hi AND {where} GROUP BY {group}")
        totals: dict[tuple, list] = {}
        for *key, n, hi, lo in conn.execute(text(q), params):
            totals[tuple(key)] = [n, exact_total(hi, lo)]
        if undone:
            # `+h.kind` keeps the planner on the action index for this small correction.
            q_undone = q.replace(f"WHERE {where_h}",
                                 f"WHERE h.action IN :undone AND {where_h.replace('h.kind', '+h.kind')}", 1)
            minus = text(q_undone).bindparams(bindparam("undone", expanding=True))
            for *key, n, hi, lo in conn.execute(minus, {**params, "undone": undone}):
                totals[tuple(key)][0] -= n
                totals[tuple(key)][1] -= exact_total(hi, lo)
        return totals

    # New deals: deals created (not imported) in the week.
    for (wk,), (n, _) in counts(f"{week.format(col='h.at')}, count(*), 0, 0", "h.kind = 'created'", "1").items():
        out["new_deals"][wk] = n
    # Entries: created in a stage, or moved forward into it (a back-move is no entry).
    for (stage, wk), (n, _) in counts(
            f"h.to_stage, {week.format(col='h.at')}, count(*), 0, 0",
            f"h.kind IN ('created', 'stage') AND (h.kind = 'created' OR {to_pos} > {from_pos})", "1, 2").items():
        if f"entered:{stage}" in out:
            out[f"entered:{stage}"][wk] = n
    for (kind, wk), (n, amount) in counts(
            f"h.kind, {week.format(col='h.at')}, count(*), {exact_sum_sql(WON_AMOUNT)}",
            "h.kind IN ('won', 'lost')", "1, 2").items():
        out["wins" if kind == "won" else "losses"][wk] = n
        if kind == "won":
            out["won_amount"][wk] = int(amount or 0)
    return out


def review(conn: Connection, stages: Sequence[StageDef], *, now: datetime, tz, owner: str | None = None,
           threshold: float = BOTTLENECK_THRESHOLD) -> dict[str, Any]:
    """The weekly review: this week vs last vs the trailing 4-week average, bottlenecks."""
    weekly = weekly_flow(conn, stages, now=now, tz=tz, owner=owner)
    windows = review_weeks(now, tz, 6)
    out = review_math(stages, weekly, threshold=threshold)
    out["owner"] = owner
    out["week_start"] = windows[0][0]
    out["last_week_start"] = windows[1][0]
    return out
