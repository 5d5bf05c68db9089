"""The weekly review: history rows counted in week-long windows, this week against last
and the trailing four weeks, the cohort conversion of each week, and the bottlenecks
(domain.funnel.review).

The counts and cohorts are store.trend's over week-long periods (one spelling of that SQL);
this module adds the stays and the review's verdicts. Reads inside the caller's
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
from funnel_tui.store import trend
from funnel_tui.store.history import live_sql
from funnel_tui.store.summary import DealSet, set_clause
from funnel_tui.store.tables import from_db, utc_text

def _weeks(now: datetime, tz, weeks: int) -> list:
    """The review's weeks oldest first, as store.trend reads periods (review_weeks is newest first)."""
    return list(reversed(review_weeks(now, tz, weeks)))


def _deals(owner: str | None, stage_keys: Sequence[str] | None) -> DealSet:
    return DealSet(owner=owner, stages=tuple(stage_keys) if stage_keys is not None else None)


def weekly_flow(conn: Connection, stages: Sequence[StageDef], *, now: datetime, tz, owner: str | None = None,
                weeks: int = 6, stage_keys: Sequence[str] | None = None) -> dict[str, list[int]]:
    """Counts per week (0 = this week): new_deals, wins, losses, won_amount, entered:<stage>.

    The trend's flow over the review's weeks (one spelling of the SQL: store.trend.flow).
    `stages` is the pipeline's stage set now, archived ones included: every week is read
    through today's map (an entry into a split stage counts for its first part)."""
    per_period = trend.flow(conn, stages, _weeks(now, tz, weeks), now=now, deals=_deals(owner, stage_keys))
    return {k: list(reversed(v)) for k, v in per_period.items() if k != "cycle_days"}


def weekly_cohorts(conn: Connection, stages: Sequence[StageDef], *, now: datetime, tz, owner: str | None = None,
                   weeks: int = 3, stage_keys: Sequence[str] | None = None) -> dict[str, list[tuple[int, int]]]:
    """Cohort conversion per stage and week (DESIGN §3): `cohort:<stage>` → [(n, d), …],
    week 0 = this week. d = the deals that entered the stage during the week (created in it
    or moved forward into it); n = how many of them have reached the next stage since (any
    later entry at or past it), as of `now`. Undone moves count nowhere. n ≤ d always.
    Three weeks by default: the review shows this week, last week and the week before (each
    entrant costs an index seek along its own path). The trend's cohorts over the review's weeks."""
    per_period = trend.cohorts(conn, stages, _weeks(now, tz, weeks), now=now, deals=_deals(owner, stage_keys))
    return {k: list(reversed(v)) for k, v in per_period.items()}


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
