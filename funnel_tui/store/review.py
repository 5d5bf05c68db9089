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
from funnel_tui.domain.stage_history import SLOW_WEEKS, deal_stays, slow_stages
from funnel_tui.domain.stages import StageDef, StageMap
from funnel_tui.store.summary import DealSet, position_case, set_clause, undone_actions
from funnel_tui.store.tables import from_db, utc_text


def weekly_flow(conn: Connection, stages: Sequence[StageDef], *, now: datetime, tz, owner: str | None = None,
                weeks: int = 6, stage_keys: Sequence[str] | None = None) -> dict[str, list[int]]:
    """Counts per week (0 = this week): new_deals, wins, losses, won_amount, entered:<stage>.

    `stages` is the pipeline's stage set now, archived ones included: every week is read
    through today's map (an entry into a split stage counts for its first part)."""
    smap = StageMap.of(stages)
    windows = review_weeks(now, tz, weeks)
    params: dict[str, Any] = {"lo": utc_text(windows[-1][0]), "hi": utc_text(windows[0][1])}
    for i, (start, _end) in enumerate(windows):
        params[f"w{i}"] = utc_text(start)
    week = "CASE " + " ".join(f"WHEN {{col}} >= :w{i} THEN {i}" for i in range(weeks)) + " END"
    where = set_clause(DealSet(owner=owner, stages=tuple(stage_keys) if stage_keys is not None else None), params)
    to_pos = position_case("h.to_stage", smap, params, "tq")
    from_pos = position_case("h.from_stage", smap, params, "fq")
    out: dict[str, list[int]] = {m: [0] * weeks for m in ("new_deals", "wins", "losses", "won_amount")}
    for s in smap.counted:
        out[f"entered:{s.key}"] = [0] * weeks
    undone = undone_actions(conn, None)

    def counts(select: str, where_h: str, group: str):
        """Rows of the query, less the same rows of undone actions (few; index by action)."""
        q = (f"SELECT {select} FROM history h JOIN deal d ON d.id = h.deal_id "
             f"WHERE {where_h} AND h.at >= :lo AND h.at < :hi AND {where} GROUP BY {group}")
        totals: dict[tuple, list] = {}
        for *key, n, amount in conn.execute(text(q), params):
            totals[tuple(key)] = [n, amount or 0]
        if undone:
            # `+h.kind` keeps the planner on the action index for this small correction.
            q_undone = q.replace(f"WHERE {where_h}",
                                 f"WHERE h.action IN :undone AND {where_h.replace('h.kind', '+h.kind')}", 1)
            minus = text(q_undone).bindparams(bindparam("undone", expanding=True))
            for *key, n, amount in conn.execute(minus, {**params, "undone": undone}):
                totals[tuple(key)][0] -= n
                totals[tuple(key)][1] -= amount or 0
        return totals

    # New deals: deals created (not imported) in the week.
    for (wk,), (n, _) in counts(f"{week.format(col='h.at')}, count(*), 0", "h.kind = 'created'", "1").items():
        out["new_deals"][wk] = n
    # Entries: created in a stage, or moved forward into it (a back-move is no entry).
    for (stage, wk), (n, _) in counts(
            f"h.to_stage, {week.format(col='h.at')}, count(*), 0",
            f"h.kind IN ('created', 'stage') AND (h.kind = 'created' OR {to_pos} > {from_pos})", "1, 2").items():
        stage = smap.key(stage)
        if f"entered:{stage}" in out:
            out[f"entered:{stage}"][wk] += n
    for (kind, wk), (n, amount) in counts(
            f"h.kind, {week.format(col='h.at')}, count(*), sum(CASE WHEN h.kind = 'won' THEN d.amount END)",
            "h.kind IN ('won', 'lost')", "1, 2").items():
        out["wins" if kind == "won" else "losses"][wk] = n
        if kind == "won":
            out["won_amount"][wk] = int(amount or 0)
    return out


def review(conn: Connection, stages: Sequence[StageDef], *, now: datetime, tz, owner: str | None = None,
           threshold: float = BOTTLENECK_THRESHOLD, stage_keys: Sequence[str] | None = None) -> dict[str, Any]:
    """The weekly review: this week vs last vs the trailing 4-week average, bottlenecks, and
    the stages deals overstayed four weeks running (split suggested)."""
    weekly = weekly_flow(conn, stages, now=now, tz=tz, owner=owner, stage_keys=stage_keys)
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
        WHERE h.to_stage IS NOT NULL AND {where} AND h.deal_id IN (
            SELECT x.deal_id FROM history x WHERE x.kind = 'stage' AND x.at >= :lo AND x.at < :hi)
        ORDER BY h.deal_id, h.id"""), params).mappings().all()
    smap = StageMap.of(stages)
    undone = set(undone_actions(conn, None))
    paths: dict[int, list[dict]] = {}
    for r in rows:
        paths.setdefault(r["deal_id"], []).append({**r, "at": from_db(_when(r["at"]))})
    lo_t, hi_t = from_db(lo), from_db(hi)
    return [stay for path in paths.values() for stay in deal_stays(path, smap, undone) if lo_t <= stay[2] < hi_t]


def _when(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
