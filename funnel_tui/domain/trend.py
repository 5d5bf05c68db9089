"""Trends (DESIGN §3, source document 003): the funnel period by period. Pure.

For each period (a week, Monday 00:00 to Monday 00:00 in the rep's zone, or a calendar month):
- **cohort conversion(s → next, period)**: of the deals that entered stage s during the period
  (created in it, or moved forward into it: a back-move is no entry), how many have reached
  the next stage since — a later entry at or past it, up to now (or `--as-of`). It counts
  deals of the cohort, so it can never exceed 100 %; it comes with its counts and a
  small-sample mark (fewer than 10 deals behind it);
- the flow: new deals, entries into each stage, wins, losses, the won amount (of the deals
  won in the period), and the cycle time: the mean days from a deal's creation to its win,
  over the wins of the period.
Rows of undone actions, and the undos' own rows, count nowhere (undos made after the moment
asked about are not known yet). Wins and losses are status changes (history rows `won`,
`lost`), as in the weekly review.

Across stage changes the periods are read through today's stages (domain/funnel.py, as the
weekly review reads its weeks): `stages` is the pipeline's stage set now, archived ones
included; a key of a split or merged stage counts as the stage it maps to, at that position, so
a split's or merge's relabel move is no entry (both ends at one position); an entry into a
plain archived stage counts for it (not shown) and its position counts in "reached since".

`windows` makes the periods; `flow_from_rows` and `cohorts_from_rows` are the contract over
plain deal and history rows (the SQL in store/trend.py is tested against them); `trend`
puts the answer together.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping, Sequence

from funnel_tui.domain.funnel import SMALL_SAMPLE, days_between, rate, undone_actions, week_start
from funnel_tui.domain.stages import StageDef, StageMap

BY = ("week", "month")
Window = tuple[datetime, datetime]
FLOW_METRICS = ("new_deals", "wins", "losses", "won_amount", "cycle_days")


def windows(now: datetime, tz, *, weeks: int = 12, by: str = "week") -> list[Window]:
    """[start, end) of each period, oldest first; the last one holds `now` (still running).

    week: the last `weeks` weeks. month: the calendar months those weeks touch, each whole."""
    if by not in BY:
        raise ValueError(f"by: {by!r}; use week or month")
    if weeks < 1:
        raise ValueError("weeks: at least 1")
    this_week = week_start(now, tz)
    first = _local_midnight(this_week.date() - timedelta(weeks=weeks - 1), tz)
    if by == "week":
        out = []
        for i in range(weeks):
            a = _local_midnight(first.date() + timedelta(weeks=i), tz)
            out.append((a, _local_midnight(a.date() + timedelta(weeks=1), tz)))
        return out
    local_now = now.astimezone(tz)
    month = date(first.year, first.month, 1)
    out = []
    while month <= date(local_now.year, local_now.month, 1):
        nxt = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        out.append((_local_midnight(month, tz), _local_midnight(nxt, tz)))
        month = nxt
    return out


def _local_midnight(day: date, tz) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def period_label(window: Window, by: str, tz) -> str:
    """`11-16` (a week, by its Monday) or `2026-11` (a month)."""
    start = window[0].astimezone(tz)
    return f"{start:%Y-%m}" if by == "month" else f"{start:%m-%d}"


def _which(at: datetime, wins: Sequence[Window]) -> int | None:
    for i, (a, b) in enumerate(wins):
        if a <= at < b:
            return i
    return None


def _positions(smap: StageMap) -> tuple[dict[str, int], dict[str, int]]:
    """Each stage key's position (that of the stage it counts as now), and for each key with
    a stage after it, the position of the next stage history counts in."""
    order = [smap.position[s.key] for s in smap.counted]
    nxt = {}
    for key, pos in smap.position.items():
        later = [p for p in order if p > pos]
        if later:
            nxt[key] = min(later)
    return dict(smap.position), nxt


def is_entry(h: Mapping[str, Any], pos: Mapping[str, int]) -> bool:
    """A stage entry of the trend and the review: created in a stage, or moved forward."""
    if h["kind"] == "created":
        return bool(h.get("to_stage"))
    return h["kind"] == "stage" and pos.get(h.get("to_stage") or "", 0) > pos.get(h.get("from_stage") or "", 0)


def _live(deals: Iterable[Mapping[str, Any]], history: Iterable[Mapping[str, Any]], now: datetime):
    chosen = {d["id"]: d for d in deals if d.get("deleted_at") is None}
    rows = sorted((h for h in history if h.get("deal_id") in chosen), key=lambda h: h["id"])
    undone = undone_actions(history, now)
    live = [h for h in rows if h["at"] <= now and (h.get("action") or "") not in undone]
    return chosen, live


def flow_from_rows(stages: Sequence[StageDef], deals: Iterable[Mapping[str, Any]],
                   history: Iterable[Mapping[str, Any]], wins: Sequence[Window], *,
                   now: datetime) -> dict[str, list]:
    """Per period: new_deals, wins, losses, won_amount (Σ the won deals' amounts, minor
    units), cycle_days (Σ days creation → win, over the period's wins) and `entered:<stage>`."""
    history = list(history)
    smap = StageMap.of(stages)
    pos, _nxt = _positions(smap)
    chosen, live = _live(deals, history, now)
    n = len(wins)
    out: dict[str, list] = {m: [0] * n for m in FLOW_METRICS}
    out["cycle_days"] = [0.0] * n
    for s in smap.counted:
        out[f"entered:{s.key}"] = [0] * n
    for h in live:
        w = _which(h["at"], wins)
        if w is None:
            continue
        deal = chosen[h["deal_id"]]
        if h["kind"] == "created":
            out["new_deals"][w] += 1
        if is_entry(h, pos) and f"entered:{smap.key(h['to_stage'])}" in out:
            out[f"entered:{smap.key(h['to_stage'])}"][w] += 1
        if h["kind"] == "won":
            out["wins"][w] += 1
            out["won_amount"][w] += deal["amount"]
            out["cycle_days"][w] += days_between(deal["created_at"], h["at"])
        elif h["kind"] == "lost":
            out["losses"][w] += 1
    return out


def cohorts_from_rows(stages: Sequence[StageDef], deals: Iterable[Mapping[str, Any]],
                      history: Iterable[Mapping[str, Any]], wins: Sequence[Window], *,
                      now: datetime) -> dict[str, list[tuple[int, int]]]:
    """`cohort:<stage>` → [(n, d) per period]: d deals entered the stage in the period, n of
    them have reached the next stage since (up to `now`)."""
    history = list(history)
    smap = StageMap.of(stages)
    pos, nxt = _positions(smap)
    _chosen, live = _live(deals, history, now)
    by_deal: dict[int, list[Mapping[str, Any]]] = {}
    for h in live:
        by_deal.setdefault(h["deal_id"], []).append(h)
    first: dict[tuple[int, str, int], int] = {}
    for h in live:
        w = _which(h["at"], wins)
        if w is not None and is_entry(h, pos) and h["to_stage"] in nxt:
            first.setdefault((h["deal_id"], h["to_stage"], w), h["id"])
    counts = {s.key: [[0, 0] for _ in wins] for s in smap.counted}
    for (deal_id, key, w), first_id in first.items():  # per key as written, then as it counts now
        moved_on = any(x["id"] > first_id and x.get("to_stage") and pos.get(x["to_stage"], 0) >= nxt[key]
                       for x in by_deal[deal_id])
        stage = smap.key(key)
        counts[stage][w][1] += 1
        counts[stage][w][0] += int(moved_on)
    return {f"cohort:{k}": [(n, d) for n, d in v] for k, v in counts.items()}


def cohort(n: int, d: int) -> dict[str, Any]:
    """A cohort rate with its counts; refused if it could exceed 100 %."""
    if n > d:
        raise ValueError(f"cohort: {n} of {d} deals cannot have moved on")
    return {"n": n, "d": d, "ratio": rate(n, d), "small_sample": d < SMALL_SAMPLE}


def trend(stages: Sequence[StageDef], wins: Sequence[Window], flow: Mapping[str, Sequence],
          cohorts: Mapping[str, Sequence[tuple[int, int]]], *, by: str, now: datetime, tz,
          owner: str | None = None) -> dict[str, Any]:
    """The trend: one entry per period (oldest first) and the steps it follows, over the live
    stages (`stages` may hold archived ones). Amounts in minor units; times aware."""
    order = [s for s in StageMap.of(stages).counted if not s.archived]
    steps = [{"stage": s.key, "name": s.name, "next": order[i + 1].key} for i, s in enumerate(order[:-1])]
    periods = []
    for w, (start, end) in enumerate(wins):
        wins_n = int(flow["wins"][w])
        periods.append({
            "start": start,
            "end": end,
            "label": period_label((start, end), by, tz),
            "partial": start <= now < end,
            "new_deals": int(flow["new_deals"][w]),
            "wins": wins_n,
            "losses": int(flow["losses"][w]),
            "won_amount": int(flow["won_amount"][w]),
            "avg_cycle_days": None if wins_n == 0 else float(flow["cycle_days"][w]) / wins_n,
            "entered": {s.key: int(flow.get(f"entered:{s.key}", [0] * len(wins))[w]) for s in order},
            "conversion": {st["stage"]: cohort(*cohorts.get(f"cohort:{st['stage']}", [(0, 0)] * len(wins))[w])
                           for st in steps},
        })
    return {"owner": owner, "by": by, "as_of": now, "steps": steps, "periods": periods}


def series(t: Mapping[str, Any], stage: str) -> list[dict[str, Any]]:
    """One step's cohort rates, oldest period first (for a chart)."""
    return [p["conversion"][stage] for p in t["periods"]]
