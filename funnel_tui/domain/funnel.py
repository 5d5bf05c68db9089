"""The funnel math of DESIGN §3. Pure: rows and facts in, numbers out; `now` is passed in.

Two halves meet at `FunnelFacts`, a handful of sums per stage and per deal group:
- the store computes the facts with SQL GROUP BYs (store/summary.py), and
- `facts_from_rows` computes the very same facts from plain deal and history rows; it is
  the contract written out plainly, and the oracle the SQL is tested against.
`summarize` turns facts into the summary (amounts in minor units; the CLI shows majors).

Rules, beyond DESIGN §3, that the code below settles:
- A stage *entry* is a history row with `to_stage` (kinds created, imported, stage); an
  *exit* is a `stage` row's `from_stage`. reached(s) counts deals whose highest entry is at
  s or later, so a deliberate back-move or a reopen never lowers it. Rows of an action that
  was undone, and the undo's own inverse rows, are no entries, exits or stays: after an
  action and its undo every number is what it was before.
- A *completed stay* ends when the deal moves to another stage. A deal lost in a stage never
  completes its stay there (time to die is not time to advance). Moves that were undone,
  and the undo rows themselves, are not stays: after an undo the deal is back in its stage
  since it first entered it, exactly as its dwell clock says.
- "current" in a stage counts deals in it that are not lost (open ones, and won ones in
  the won/post stages); open and weighted amounts count open deals only.
- Weekly flow: a week runs Monday 00:00 to Monday 00:00 in the rep's zone. Entries into a
  stage are creations there and forward moves into it; wins and losses are status changes.
- Weekly conversion is a cohort: of the deals that entered a stage during the week, how
  many have reached the next stage since (a later entry at or past it); never above 100 %.

Across stage changes (stages are renamed, reordered, split, merged, archived; see
domain/stage_plan.py) history is never rewritten; it is read through the stage set:
- The stage set is the pipeline's stages *as they stood at the moment asked about*: now for
  the plain summary and the weekly review, the `--as-of` moment for a replay
  (`stages_as_of`). So `--as-of` a day before a split shows the stage that was split, with
  the numbers the rep saw that day, and the same moment after the split shows its parts;
  a plain summary (and every period it selects with --since/--until, and every week of the
  review) shows the stages as they are now, with older history mapped onto them. We chose
  "as it stood" for --as-of because its promise is that last Monday's numbers come back
  exactly; and "as mapped now" for everything else, because a period and a week-on-week
  comparison need one list of stages.
- Mapped: a history key of a split or merged stage counts as the stage it maps to (the
  split's first part, the merge's target) and at that position; a plain archived stage
  counts at its own position (not shown, but a deal that died there reached the stages
  before it). Positions are the current order, so a reorder changes reached at once.
- The move a split or merge writes for each deal (old stage → its new one) maps to the same
  stage on both ends: it is neither an entry nor an exit, so stays run on across it and the
  dwell clock is not reset (the store keeps `stage_entered_at`). Likewise a deal that moved
  between two stages before they were merged has been in the merged stage since it first
  entered either: its open stay and its dwell run from that entry, not from the move
  (domain.stage_history.open_stay_start; store/stage_stays.py).

The facts and their sums live in domain/funnel_facts.py and the plain-rows contract in
domain/funnel_rows.py; both are re-exported here, so `domain.funnel` stays the one name.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

from funnel_tui.domain.currency_totals import Rates, add, merged, one_currency, total
from funnel_tui.domain.funnel_facts import (  # noqa: F401 - re-exported: the funnel's public names
    BOTTLENECK_THRESHOLD,
    DAY,
    ENTRY_KINDS,
    SMALL_SAMPLE,
    STATUS_KINDS,
    UNDO_PREFIX,
    DealGroup,
    FunnelFacts,
    days_between,
    rate,
)
from funnel_tui.domain.funnel_rows import (  # noqa: F401 - re-exported
    deal_state_as_of,
    facts_from_rows,
    undone_actions,
)
from funnel_tui.domain.rules import TIER_A_SHARE, TIER_B_SHARE, tier_cutoffs
from funnel_tui.domain.stages import StageDef, StageMap
from funnel_tui.i18n import _


# --- the summary --------------------------------------------------------------------------


def summarize(
    stages: Sequence[StageDef],
    facts: FunnelFacts,
    *,
    owner: str | None = None,
    as_of: datetime | None = None,
    tier_shares: tuple[float, float] = (TIER_A_SHARE, TIER_B_SHARE),
    rates: Rates | None = None,
) -> dict[str, Any]:
    """The DESIGN §6 summary (amounts in minor units; `as_of` as given).

    Next to each rate are its counts (`*_n` of `*_d`) and `small_sample` when d < 10. Amounts
    are kept per currency (`*_by_currency`); each amount field is their total in `currency`: the
    one currency of every deal when they share one, else the base currency when every currency in
    it is the base or has a rate (`converted_at`), else None: deals in currencies without a rate
    (`not_converted`) are never summed with others.
    """
    rates = one_currency(rates or Rates(), (g.currency for g in facts.groups if g.amount or g.weighted))
    smap = StageMap.of(stages)
    counted = smap.counted  # where history counts, in funnel order (plain archived ones too)
    running = running_amount = 0
    reached_at: dict[str, int] = {}
    amount_at: dict[str, int] = {}
    for s in reversed(counted):  # deals whose highest stage is at or past this one
        running += facts.highest.get(s.key, 0)
        running_amount += facts.highest_amount.get(s.key, 0)
        reached_at[s.key] = running
        amount_at[s.key] = running_amount
    order = [s for s in counted if not s.archived]  # the lines shown
    reached = [reached_at[s.key] for s in order]
    reached_amount = [amount_at[s.key] for s in order]
    keys = [s.key for s in order]

    current = {k: 0 for k in keys}
    open_n = {k: 0 for k in keys}
    open_amount: dict[str, dict[str, int]] = {k: {} for k in keys}  # stage → currency → Σ
    weighted: dict[str, dict[str, int]] = {k: {} for k in keys}
    won_amount: dict[str, int] = {}
    dwell = {k: 0.0 for k in keys}
    won = lost = 0
    cycle = 0.0
    reasons: dict[str, int] = {}
    sources: dict[str, dict[str, int]] = {}
    for g in facts.groups:
        src = sources.setdefault(g.source, {"deals": 0, "won": 0, "lost": 0})
        src["deals"] += g.n
        if g.stage in current and g.status != "lost":
            current[g.stage] += g.n
        if g.status == "open" and g.stage in open_n:
            open_n[g.stage] += g.n
            add(open_amount[g.stage], g.currency, g.amount)
            add(weighted[g.stage], g.currency, g.weighted)
            dwell[g.stage] += g.dwell_days
        elif g.status == "won":
            won += g.n
            add(won_amount, g.currency, g.amount)
            cycle += g.cycle_days
            src["won"] += g.n
        elif g.status == "lost":
            lost += g.n
            src["lost"] += g.n
            reasons[g.lost_reason] = reasons.get(g.lost_reason, 0) + g.n

    converted: set[str] = set()
    missing: set[str] = set()

    def money(by_currency: dict[str, int], into: dict[str, Any], key: str) -> None:
        t = total(by_currency, rates)
        converted.update(t.converted)
        missing.update(t.missing)
        into[key] = t.in_base
        into[f"{key}_by_currency"] = t.by_currency

    out_stages = []
    for i, s in enumerate(order):
        nxt = reached[i + 1] if i + 1 < len(order) else None
        stay_n, stay_days = facts.stays.get(s.key, (0, 0.0))
        out_stages.append({
            "key": s.key,
            "name": s.name,
            "name_zh": s.name_zh,
            "reached": reached[i],
            "reached_amount": reached_amount[i],
            "avg_deal_size": None if reached[i] == 0 else reached_amount[i] / reached[i],
            "current": current[s.key],
            "conversion_to_next": None if nxt is None else rate(nxt, reached[i]),
            "conversion_n": nxt,
            "conversion_d": reached[i] if nxt is not None else None,
            "small_sample": nxt is not None and reached[i] < SMALL_SAMPLE,
            "avg_days_in_stage": None if stay_n == 0 else max(stay_days, 0.0) / stay_n,
            "completed_stays": stay_n,
            "current_avg_dwell": None if open_n[s.key] == 0 else dwell[s.key] / open_n[s.key],
            "open_count": open_n[s.key],
        })
        money(open_amount[s.key], out_stages[-1], "open_amount")
        money(weighted[s.key], out_stages[-1], "weighted_amount")

    # The leak: the lowest conversion out of an open stage (ties: the earlier stage).
    leak = None
    for i, s in enumerate(order[:-1]):
        st = out_stages[i]
        if s.kind == "open" and st["conversion_to_next"] is not None and (
                leak is None or st["conversion_to_next"] < leak["rate"]):
            leak = {"stage": s.key, "next": order[i + 1].key, "n": st["conversion_n"], "d": st["conversion_d"],
                    "rate": st["conversion_to_next"], "small_sample": st["small_sample"]}

    cut = tier_cutoffs(facts.open_weighted.items(), *tier_shares)
    tier_counts = {"A": 0, "B": 0, "C": 0}
    tier_weighted = {"A": 0, "B": 0, "C": 0}
    for value, n in facts.open_weighted.items():
        tier = cut.tier(value)
        tier_counts[tier] += n
        tier_weighted[tier] += value * n

    closed = won + lost
    amounts: dict[str, Any] = {}
    money(won_amount, amounts, "won_amount")
    money(merged(open_amount.values()), amounts, "open_amount")
    money(merged(weighted.values()), amounts, "weighted_pipeline")
    return {
        "owner": owner,
        "as_of": as_of,
        "stages": out_stages,
        "deals": sum(g.n for g in facts.groups),
        "won": won,
        "lost": lost,
        "win_rate": rate(won, closed),
        "win_rate_n": won,
        "win_rate_d": closed,
        "win_rate_small_sample": closed < SMALL_SAMPLE,
        **amounts,
        "currency": rates.base,
        "converted_at": {code: str(rates.to_base[code]) for code in sorted(converted)},
        "not_converted": sorted(missing),
        "avg_cycle_days": None if won == 0 else cycle / won,
        "weakest_step": leak,
        "tiers": tier_counts,
        "tier_weighted": tier_weighted,
        "lost_reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        "by_source": {
            name: {
                "reached_first": v["deals"],
                "won": v["won"],
                "lost": v["lost"],
                "win_rate": rate(v["won"], v["won"] + v["lost"]),
                "small_sample": v["won"] + v["lost"] < SMALL_SAMPLE,
            }
            for name, v in sorted(sources.items(), key=lambda kv: (-kv[1]["deals"], kv[0]))
        },
    }


# --- weekly review ------------------------------------------------------------------------


def week_start(moment: datetime, tz) -> datetime:
    """Monday 00:00 (in `tz`) of the week holding `moment`, as an aware datetime."""
    local = moment.astimezone(tz)
    monday = (local - timedelta(days=local.weekday())).date()
    return datetime(monday.year, monday.month, monday.day, tzinfo=tz)


def review_weeks(now: datetime, tz, weeks: int = 6) -> list[tuple[datetime, datetime]]:
    """[start, end) of this week (index 0, still running) and the `weeks - 1` before it."""
    start = week_start(now, tz)
    out = []
    for i in range(weeks):
        a = start - timedelta(weeks=i)
        # Local calendar arithmetic: a DST change keeps weeks on Monday midnight.
        a_local = datetime.combine(a.date(), datetime.min.time(), tzinfo=tz)
        b_local = datetime.combine((a_local + timedelta(days=7)).date(), datetime.min.time(), tzinfo=tz)
        out.append((a_local, b_local))
    return out


def review(
    stages: Sequence[StageDef],
    weekly: Mapping[str, Sequence[Any]],
    *,
    threshold: float = BOTTLENECK_THRESHOLD,
) -> dict[str, Any]:
    """This week vs last week vs the trailing 4-week average, and bottleneck flags.

    `weekly[metric][i]` is the count (or minor-unit sum) in week i, 0 = this week, 1 = last
    week, …; metrics: new_deals, wins, losses, won_amount and `entered:<stage>` per stage.
    `weekly["cohort:<stage>"][i]` is that week's cohort conversion as (n, d) (DESIGN §3): d
    deals entered the stage during the week, n of them have reached the next stage since.
    The trailing average is over weeks 1–4 (whole weeks). A stage is a bottleneck when its
    cohort conversion was below `threshold` in both of the last two whole weeks (weeks 1 and
    2). A cohort rate never exceeds 1: n counts deals of d.
    """

    def row(metric: str, values: Sequence[int]) -> dict[str, Any]:
        trailing = list(values[1:5])
        return {
            "metric": metric,
            "this_week": values[0] if values else 0,
            "last_week": values[1] if len(values) > 1 else 0,
            "avg_4_weeks": sum(trailing) / 4 if trailing else 0.0,
        }

    def cohort(values: Sequence[tuple[int, int]], w: int) -> dict[str, Any]:
        n, d = values[w] if len(values) > w else (0, 0)
        if n > d:
            raise ValueError(f"cohort: {n} of {d} deals cannot have moved on")
        return {"n": n, "d": d, "ratio": rate(n, d)}

    order = sorted(stages, key=lambda s: s.position)
    metrics = [row(m, weekly.get(m, [0] * 6)) for m in ("new_deals", "wins", "losses", "won_amount")]
    entries = []
    bottlenecks = []
    for i, s in enumerate(order):
        values = weekly.get(f"entered:{s.key}", [0] * 6)
        entries.append({**row(s.key, values), "stage": s.key, "name": s.name})
        if i + 1 >= len(order):
            continue
        cohorts = weekly.get(f"cohort:{s.key}", [])
        weeks = [cohort(cohorts, w) for w in (1, 2)]
        below = all(wk["ratio"] is not None and wk["ratio"] < threshold for wk in weeks)
        bottlenecks.append({
            "stage": s.key,
            "name": s.name,
            "next": order[i + 1].key,
            "this_week": cohort(cohorts, 0),
            "last_week": weeks[0],
            "week_before": weeks[1],
            "bottleneck": below,
            "small_sample": any(wk["d"] < SMALL_SAMPLE for wk in weeks),
        })
    return {"threshold": threshold, "metrics": metrics, "entries": entries, "conversion": bottlenecks}


# --- labels ---------------------------------------------------------------------------------

SMALL_MARK = "*"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def rate_label(n: int | None, d: int | None, value: float | None, small: bool, *, narrow: bool = False) -> str:
    """"12/40 · 30 %", starred when fewer than SMALL_SAMPLE deals stand behind it.

    `narrow` for terminal tables where every column counts: "12/40 30%*", and "—" when
    no deal stands behind the rate at all.
    """
    if d is None:
        return ""
    if not narrow:
        return f"{n}/{d} · {percent(value)}" + (f" {SMALL_MARK}" if small else "")
    if d == 0:
        return "—"
    shown = "—" if value is None else f"{value * 100:.0f}%"
    return f"{n}/{d} {shown}" + (SMALL_MARK if small else "")


def days_label(value: float | None) -> str:
    """`4.2 d` (`4.2 天`), or "—" when there is nothing to average."""
    # Translators: an average number of days, e.g. "4.2 d".
    return "—" if value is None else _("{days:.1f} d").format(days=value)
