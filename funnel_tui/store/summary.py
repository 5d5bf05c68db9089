"""Funnel summary and weekly review: the facts of domain.funnel, computed with SQL aggregates.

The plain path (no --as-of) reads three index-only GROUP BYs, whatever the pipeline size:
- deals grouped by rep, status, stage, source and lost reason (ix_deal_summary);
- history entries/exits grouped by (to_stage, from_stage) (ix_history_flow), minus the few
  rows that do not count (undone moves and their undo rows, deleted deals' rows);
- reached: a deal's highest stage is its current one unless it ever moved back, so only
  deals with a backward move (found by index seeks) have their path looked at.
The completed-stay sum telescopes: Σ exits − Σ entries + Σ the entries still open, and the
entry still open is each deal's `stage_entered_at` (move, reopen and import write both at the
same instant; undo restores it along with the stage).

`--as-of` replays history per deal in SQL (stage, status, amount, probability, lost reason
and closed time as they stood then) and is slower; the weekly review counts history rows
in six week-long windows with one indexed range query per kind of event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

from sqlalchemy import bindparam, text

from funnel_tui.domain.funnel import (
    BOTTLENECK_THRESHOLD,
    UNDO_PREFIX,
    DealGroup,
    FunnelFacts,
    review as review_math,
    review_weeks,
    summarize,
)
from funnel_tui.domain.money import weighted_minor
from funnel_tui.domain.stages import StageDef

UTC = timezone.utc
# Julian day of 2020-01-01: sums of julianday() offsets stay small and exact enough.
J0 = 2458849.5


@dataclass(frozen=True, slots=True)
class DealSet:
    """Which deals a summary covers: one rep (or all), created in [since, until)."""

    owner: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @property
    def everything(self) -> bool:
        return self.owner is None and self.since is None and self.until is None


def _ts(dt: datetime) -> str:
    """An aware time as SQLite stores it (UTC text of fixed width, so text order is time order)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _days(expr: str) -> str:
    return f"(julianday({expr}) - {J0})"


def _require_sqlite(store) -> None:
    """The aggregates use SQLite's julianday() and its UTC text times; say so plainly elsewhere."""
    if store.engine.dialect.name != "sqlite":
        from funnel_tui.store.core import StoreError

        raise StoreError("summary and review work on SQLite databases only so far "
                         f"(this one is {store.engine.dialect.name})")


def _set_clause(deals: DealSet, params: dict, *, as_of: datetime | None = None) -> str:
    """WHERE text over deal alias `d` selecting the set (bind values go into `params`)."""
    if as_of is None:
        parts = ["d.deleted_at IS NULL"]
    else:
        parts = ["(d.deleted_at IS NULL OR d.deleted_at > :set_as_of)"]
        params["set_as_of"] = _ts(as_of)
    if deals.owner is not None:
        parts.append("d.owner = :set_owner")
        params["set_owner"] = deals.owner
    if deals.since is not None:
        parts.append("d.created_at >= :set_since")
        params["set_since"] = _ts(deals.since)
    if deals.until is not None:
        parts.append("d.created_at < :set_until")
        params["set_until"] = _ts(deals.until)
    return " AND ".join(parts)


def _position_case(column: str, stages: Sequence[StageDef], params: dict, prefix: str) -> str:
    whens = []
    for s in stages:
        params[f"{prefix}{s.position}"] = s.key
        whens.append(f"WHEN :{prefix}{s.position} THEN {int(s.position)}")
    return f"(CASE {column} {' '.join(whens)} ELSE 0 END)"


def _undone(conn, as_of: datetime | None) -> list[str]:
    """Undo actions (up to `as_of`) and the actions they reverted: rows that are not stays."""
    q = "SELECT action FROM history WHERE action >= :lo AND action < :hi"
    params: dict[str, Any] = {"lo": UNDO_PREFIX, "hi": UNDO_PREFIX[:-1] + chr(ord(UNDO_PREFIX[-1]) + 1)}
    if as_of is not None:
        q += " AND at <= :as_of"
        params["as_of"] = _ts(as_of)
    out: set[str] = set()
    for (action,) in conn.execute(text(q + " GROUP BY action"), params):
        out.add(action)
        out.add(action[len(UNDO_PREFIX):])
    return sorted(out)


def _stays(pairs: dict[str, dict[tuple, list]], open_entries: dict[str, dict[str, float]]) -> dict[str, dict]:
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
        stays = {}
        for stage, n in exits_n.items():
            if n > 0:
                total = exits_sum[stage] - entries_sum.get(stage, 0.0) + still_open.get(stage, 0.0)
                stays[stage] = (n, total)
        out[owner] = stays
    return out


def _add_pairs(target: dict, rows, sign: int) -> None:
    for owner, to_stage, from_stage, n, days in rows:
        bucket = target.setdefault(owner, {}).setdefault((to_stage, from_stage), [0, 0.0])
        bucket[0] += sign * n
        bucket[1] += sign * (days or 0.0)


def funnel_facts(
    store,
    *,
    deals: DealSet = DealSet(),
    now: datetime,
    as_of: datetime | None = None,
    by_owner: bool = False,
) -> dict[str | None, FunnelFacts]:
    """FunnelFacts per rep (by_owner) or for the whole set (key None)."""
    _require_sqlite(store)
    stages = store.stages()
    with store.read() as conn:
        if as_of is None:
            per_owner = _facts_now(conn, stages, deals, now, split=by_owner)
        else:
            per_owner = _facts_as_of(conn, stages, deals, now, as_of)
    if by_owner:
        return dict(sorted(per_owner.items(), key=lambda kv: kv[0] or ""))
    if None in per_owner:
        return per_owner
    total = FunnelFacts()
    for facts in per_owner.values():
        total = total.merge(facts)
    return {None: total}


def _facts_now(conn, stages, deals: DealSet, now: datetime, *, split: bool) -> dict[str, FunnelFacts]:
    """Per rep when `split`; otherwise {None: facts} for the whole set."""
    fast_all = deals.everything and not split  # history sums need no join to deal
    # julianday(:now) once, in Python: SQLite would parse the bound text on every row.
    params: dict[str, Any] = {"now_jd": now.timestamp() / 86400 + 2440587.5}
    where = _set_clause(deals, params)
    facts: dict[str, FunnelFacts] = {}
    open_entries: dict[str, dict[str, float]] = {}
    current_at: dict[str, dict[str, int]] = {}
    rows = conn.execute(text(f"""
        SELECT d.owner, d.status, d.stage, d.source, d.lost_reason, count(*), sum(d.amount),
               sum((d.amount * d.probability + 50) / 100),
               sum(CASE WHEN d.status = 'won' THEN julianday(d.closed_at) - julianday(d.created_at) END),
               sum(CASE WHEN d.status = 'open' THEN :now_jd - julianday(d.stage_entered_at) END),
               sum({_days('d.stage_entered_at')})
        FROM deal d WHERE {where}
        GROUP BY d.owner, d.status, d.stage, d.source, d.lost_reason"""), params).all()
    for owner, status, stage, source, reason, n, amount, weighted, cycle, dwell, entered in rows:
        f = facts.setdefault(owner, FunnelFacts())
        f.groups.append(DealGroup(status, stage, source or "", reason or "", n, int(amount or 0),
                                  int(weighted or 0), float(cycle or 0.0), float(dwell or 0.0)))
        per = open_entries.setdefault(owner, {})
        per[stage] = per.get(stage, 0.0) + float(entered or 0.0)
        cur = current_at.setdefault(owner, {})
        cur[stage] = cur.get(stage, 0) + n

    # Reached: the current stage, except for deals that moved back. A deal below its highest
    # stage left that stage by a backward move, so its highest is the highest stage it ever
    # moved back from: index seeks on the (few) backward rows, no walk along each path.
    pos_params: dict[str, Any] = {}
    from_case = _position_case("h.from_stage", stages, pos_params, "fp")
    backward = []
    for s in stages:
        later = [t.key for t in stages if t.position > s.position]
        if later:
            pos_params[f"bk{s.position}"] = s.key
            names = []
            for i, key in enumerate(later):
                pos_params[f"bf{s.position}_{i}"] = key
                names.append(f":bf{s.position}_{i}")
            backward.append(f"SELECT h.deal_id, {from_case} AS fp FROM history h "
                            f"WHERE h.to_stage = :bk{s.position} AND h.from_stage IN ({', '.join(names)})")
    moved_back = conn.execute(text(f"""
        SELECT d.owner, d.stage, max(b.fp)
        FROM ({' UNION ALL '.join(backward) or 'SELECT NULL AS deal_id, 0 AS fp'}) b
        JOIN deal d ON d.id = b.deal_id
        WHERE {where}
        GROUP BY b.deal_id"""), {**params, **pos_params}).all()
    by_position = {s.position: s.key for s in stages}
    position = {s.key: s.position for s in stages}
    for owner, cur in current_at.items():
        facts[owner].highest = dict(cur)
    for owner, stage, top in moved_back:
        if top > position.get(stage, 0) and top in by_position:
            highest = facts[owner].highest
            highest[stage] -= 1
            highest[by_position[top]] = highest.get(by_position[top], 0) + 1

    # Completed stays from entry/exit sums, less the rows that are not stays.
    undone = _undone(conn, None)
    pairs: dict[str, dict] = {}
    days_at = _days("h.at")
    if fast_all:
        total = conn.execute(text(f"""
            SELECT h.to_stage, h.from_stage, count(*), sum({days_at})
            FROM history h WHERE h.to_stage IS NOT NULL
            GROUP BY h.to_stage, h.from_stage""")).all()
        # Every deal's rows, read in index order without a join; deleted deals' rows come off.
        _add_pairs(pairs, [(None, *r) for r in total], +1)
        gone = conn.execute(text(f"""
            SELECT h.to_stage, h.from_stage, count(*), sum({days_at})
            FROM history h
            WHERE h.to_stage IS NOT NULL AND h.deal_id IN (
                SELECT x.deal_id FROM history x JOIN deal d ON d.id = x.deal_id
                WHERE x.kind = 'deleted' AND d.deleted_at IS NOT NULL)
            GROUP BY h.to_stage, h.from_stage""")).all()
        _add_pairs(pairs, [(None, *r) for r in gone], -1)
    else:
        # The set's (id, rep) pairs first, from the summary index: joining each history row
        # to the wide deal row instead costs a table look-up per row.
        rows = conn.execute(text(f"""
            WITH chosen AS MATERIALIZED (SELECT d.id, d.owner FROM deal d WHERE {where})
            SELECT chosen.owner, h.to_stage, h.from_stage, count(*), sum({days_at})
            FROM chosen JOIN history h ON h.deal_id = chosen.id AND h.to_stage IS NOT NULL
            GROUP BY chosen.owner, h.to_stage, h.from_stage"""), params).all()
        _add_pairs(pairs, rows, +1)
    if undone:
        rows = conn.execute(text(f"""
            SELECT d.owner, h.to_stage, h.from_stage, count(*), sum({days_at})
            FROM history h JOIN deal d ON d.id = h.deal_id
            WHERE h.action IN :undone AND h.to_stage IS NOT NULL AND {where}
            GROUP BY d.owner, h.to_stage, h.from_stage""").bindparams(bindparam("undone", expanding=True)),
            {**params, "undone": undone}).all()
        if fast_all:
            rows = [(None, *r[1:]) for r in rows]
        _add_pairs(pairs, rows, -1)
    if fast_all:
        merged: dict[str, float] = {}
        for per in open_entries.values():
            for stage, v in per.items():
                merged[stage] = merged.get(stage, 0.0) + v
        stays_all = _stays(pairs, {None: merged}).get(None, {})
    else:
        for owner, stays in _stays(pairs, open_entries).items():
            facts.setdefault(owner, FunnelFacts()).stays = stays

    # ABC tiers need the open deals' weighted values: how many deals have each value.
    weighted = "(d.amount * d.probability + 50) / 100"
    if fast_all:
        values = conn.execute(text(
            f"SELECT NULL, {weighted} AS w, count(*) FROM deal d "
            f"WHERE d.status = 'open' AND d.deleted_at IS NULL GROUP BY w")).all()
    else:
        values = conn.execute(text(
            f"SELECT d.owner, {weighted} AS w, count(*) FROM deal d "
            f"WHERE d.status = 'open' AND {where} GROUP BY d.owner, w"), params).all()
    for owner, w, n in values:
        per = facts.setdefault(owner, FunnelFacts()).open_weighted
        per[int(w)] = per.get(int(w), 0) + n
    if split:
        return facts
    total = FunnelFacts()
    for f in facts.values():
        total = total.merge(f)
    if fast_all:
        total.stays = stays_all
    return {None: total}


AS_OF_FIELDS = ("amount", "probability", "lost_reason", "closed_at")


def _facts_as_of(conn, stages, deals: DealSet, now: datetime, as_of: datetime) -> dict[str, FunnelFacts]:
    """Replay: each deal as it stood at `as_of`, set-based.

    A column's value then is the `old` of its first change after `as_of`, or its value now
    when it has not changed since (history rows chain: each `old` is the previous `new`).
    The stage is that of the last entry up to `as_of`; the stay began at the last entry
    that was not undone by then.
    """
    params: dict[str, Any] = {"as_of": _ts(as_of)}
    where = _set_clause(deals, params, as_of=as_of)
    undone = _undone(conn, as_of) or [""]
    params["undone"] = undone
    top_case = _position_case("h.to_stage", stages, params, "tp")
    joins, columns = [], []
    for i, column in enumerate(AS_OF_FIELDS):
        params[f"af{i}"] = column
        joins.append(f"LEFT JOIN after_fields f{i} ON f{i}.deal_id = d.id AND f{i}.field = :af{i}")
        value = f"CASE WHEN f{i}.deal_id IS NULL THEN d.{column} ELSE f{i}.old END"
        if column in ("amount", "probability"):
            value = f"CAST({value} AS INTEGER)"
        columns.append(f"{value} AS {column}")
    rows = conn.execute(text(f"""
        WITH entries AS MATERIALIZED (
          SELECT h.deal_id, max(h.id) AS last_id, max({top_case}) AS top
          FROM history h WHERE h.to_stage IS NOT NULL AND h.at <= :as_of GROUP BY h.deal_id),
        after_fields AS MATERIALIZED (  -- min(): SQLite takes `old` from the first row
          SELECT h.deal_id, h.field, min(h.id) AS first_id, h.old
          FROM history h WHERE h.kind = 'field' AND h.at > :as_of
            AND h.field IN ({', '.join(f':af{i}' for i in range(len(AS_OF_FIELDS)))})
          GROUP BY h.deal_id, h.field),
        after_status AS MATERIALIZED (
          SELECT h.deal_id, min(h.id) AS first_id, h.old
          FROM history h WHERE h.kind IN ('won', 'lost', 'reopened') AND h.at > :as_of GROUP BY h.deal_id),
        undone_deals AS MATERIALIZED (
          SELECT DISTINCT h.deal_id FROM history h WHERE h.action IN :undone),
        state AS MATERIALIZED (
          SELECT d.id, d.owner, d.source, d.created_at, last.to_stage AS stage, e.top,
            CASE WHEN u.deal_id IS NULL THEN last.at ELSE
              (SELECT h.at FROM history h WHERE h.deal_id = d.id AND h.to_stage IS NOT NULL AND h.at <= :as_of
                 AND h.action NOT IN :undone ORDER BY h.id DESC LIMIT 1) END AS entered,
            CASE WHEN st.deal_id IS NULL THEN d.status ELSE st.old END AS status,
            {', '.join(columns)}
          FROM deal d
          JOIN entries e ON e.deal_id = d.id
          JOIN history last ON last.id = e.last_id
          LEFT JOIN after_status st ON st.deal_id = d.id
          LEFT JOIN undone_deals u ON u.deal_id = d.id
          {' '.join(joins)}
          WHERE {where}
        )
        SELECT owner, source, stage, top, status, amount, probability, lost_reason,
               CASE WHEN status = 'won' AND closed_at IS NOT NULL AND closed_at <> ''
                    THEN julianday(closed_at) - julianday(created_at) END,
               julianday(:as_of) - julianday(COALESCE(entered, created_at)),
               {_days('COALESCE(entered, created_at)')}
        FROM state""").bindparams(bindparam("undone", expanding=True)), params).all()
    by_position = {s.position: s.key for s in stages}
    facts: dict[str, FunnelFacts] = {}
    groups: dict[str, dict[tuple, list]] = {}
    open_entries: dict[str, dict[str, float]] = {}
    for owner, source, stage, top, status, amount, prob, reason, cycle, dwell, entered in rows:
        f = facts.setdefault(owner, FunnelFacts())
        top_key = by_position.get(top, stage)
        f.highest[top_key] = f.highest.get(top_key, 0) + 1
        w = weighted_minor(int(amount or 0), int(prob or 0))
        g = groups.setdefault(owner, {}).setdefault(
            (status, stage, source or "", (reason or "") if status == "lost" else ""), [0, 0, 0, 0.0, 0.0])
        g[0] += 1
        g[1] += int(amount or 0)
        g[2] += w
        if status == "won":
            g[3] += float(cycle or 0.0)
        if status == "open":
            g[4] += float(dwell or 0.0)
            f.open_weighted[w] = f.open_weighted.get(w, 0) + 1
        per = open_entries.setdefault(owner, {})
        per[stage] = per.get(stage, 0.0) + float(entered or 0.0)
    for owner, per in groups.items():
        facts[owner].groups = [DealGroup(*k, *v) for k, v in per.items()]

    pairs: dict[str, dict] = {}
    rows = conn.execute(text(f"""
        SELECT d.owner, h.to_stage, h.from_stage, count(*), sum({_days('h.at')})
        FROM deal d JOIN history h ON h.deal_id = d.id AND h.to_stage IS NOT NULL AND h.at <= :as_of
        WHERE {where} AND h.action NOT IN :undone
        GROUP BY d.owner, h.to_stage, h.from_stage""").bindparams(bindparam("undone", expanding=True)),
        params).all()
    _add_pairs(pairs, rows, +1)
    for owner, stays in _stays(pairs, open_entries).items():
        if owner in facts:
            facts[owner].stays = stays
    return facts


def owners(store) -> list[str]:
    """Every rep with a deal (the summary's rep selector), from the summary index."""
    with store.read() as conn:
        return [r[0] for r in conn.execute(text(
            "SELECT DISTINCT d.owner FROM deal d WHERE d.deleted_at IS NULL ORDER BY d.owner"))]


def summary(
    store,
    *,
    now: datetime,
    deals: DealSet = DealSet(),
    as_of: datetime | None = None,
    by_owner: bool = False,
) -> dict[str, Any] | list[dict[str, Any]]:
    """The DESIGN §6 summary (amounts in minor units), or one per rep with by_owner."""
    stages = store.stages()
    per = funnel_facts(store, deals=deals, now=now, as_of=as_of, by_owner=by_owner)
    moment = as_of or now
    if not by_owner:
        return summarize(stages, per[None], owner=deals.owner, as_of=moment, tier_shares=store.tier_shares())
    return [summarize(stages, facts, owner=owner, as_of=moment, tier_shares=store.tier_shares())
            for owner, facts in per.items()]


def weekly_flow(store, *, now: datetime, tz, owner: str | None = None, weeks: int = 6) -> dict[str, list[int]]:
    """Counts per week (0 = this week): new_deals, wins, losses, won_amount, entered:<stage>."""
    _require_sqlite(store)
    stages = store.stages()
    windows = review_weeks(now, tz, weeks)
    params: dict[str, Any] = {"lo": _ts(windows[-1][0]), "hi": _ts(windows[0][1])}
    for i, (start, _end) in enumerate(windows):
        params[f"w{i}"] = _ts(start)
    week = "CASE " + " ".join(f"WHEN {{col}} >= :w{i} THEN {i}" for i in range(weeks)) + " END"
    where = "d.deleted_at IS NULL" + (" AND d.owner = :owner" if owner is not None else "")
    if owner is not None:
        params["owner"] = owner
    to_pos = _position_case("h.to_stage", stages, params, "tq")
    from_pos = _position_case("h.from_stage", stages, params, "fq")
    out: dict[str, list[int]] = {m: [0] * weeks for m in ("new_deals", "wins", "losses", "won_amount")}
    for s in stages:
        out[f"entered:{s.key}"] = [0] * weeks
    with store.read() as conn:
        undone = _undone(conn, None)

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
            if f"entered:{stage}" in out:
                out[f"entered:{stage}"][wk] = n
        for (kind, wk), (n, amount) in counts(
                f"h.kind, {week.format(col='h.at')}, count(*), sum(CASE WHEN h.kind = 'won' THEN d.amount END)",
                "h.kind IN ('won', 'lost')", "1, 2").items():
            out["wins" if kind == "won" else "losses"][wk] = n
            if kind == "won":
                out["won_amount"][wk] = int(amount or 0)
    return out


def review(store, *, now: datetime, tz, owner: str | None = None,
           threshold: float = BOTTLENECK_THRESHOLD) -> dict[str, Any]:
    """The weekly review: this week vs last vs the trailing 4-week average, bottlenecks."""
    weekly = weekly_flow(store, now=now, tz=tz, owner=owner)
    windows = review_weeks(now, tz, 6)
    out = review_math(store.stages(), weekly, threshold=threshold)
    out["owner"] = owner
    out["week_start"] = windows[0][0]
    out["last_week_start"] = windows[1][0]
    return out
