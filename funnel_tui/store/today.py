"""What the rep must act on today: follow-ups due, dwell and silence warnings, A/B/C tiers.

Every query here is bounded and index-bound, so `funnel due` and the Today screen cost the
same at 1k and 100k deals (tests/test_query_plans.py, tests/test_warning_plans.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import String, and_, bindparam, case, func, literal, literal_column, or_, select, text
from sqlalchemy.engine import Connection

from funnel_tui.domain.rules import TierCutoffs, bucket_counts, cadence, tier_cutoffs
from funnel_tui.domain.stages import StageDef
from funnel_tui.domain.tiers import (
    AMOUNT_CODES,
    THRESHOLD_SETTINGS,
    AmountTiers,
    TierSettingError,
    amount_tiers,
    tiering_of,
)
from funnel_tui.store import board_sql, due_sql
from funnel_tui.store.due_sql import TIME_PARAMS, DueItem
from funnel_tui.store.errors import StoreError
from funnel_tui.store.settings import get_setting, read_rates
from funnel_tui.store.tables import WEIGHTED, D, F, from_db, open_clause, to_db

TierScheme = TierCutoffs | AmountTiers


@dataclass(frozen=True, slots=True)
class WarningItem:
    """One warning on an open deal (DESIGN §6 `warnings`)."""

    deal_id: int
    customer: str
    stage: str
    kind: str  # dwell_over | dwell_near | silent | no_next_step
    days: int
    limit: int | None


WARNING_ORDER = ("dwell_over", "dwell_near", "silent", "no_next_step")


def _due_statement(sql: str, *, rows: bool):
    """The due SQL (due_sql.py) as SQLAlchemy runs it: times bound and read through the
    due_at column's type, so SQLite and PostgreSQL each get their own form."""
    stmt = text(sql).bindparams(*(bindparam(p, type_=F.c.due_at.type) for p in TIME_PARAMS if f":{p}" in sql))
    if not rows:
        return stmt
    return stmt.columns(F.c.id, F.c.deal_id, F.c.kind, F.c.due_at, F.c.note, D.c.customer, D.c.title, D.c.stage)


def _stages(stage_keys: Sequence[str] | None) -> int | None:
    """How many stage keys select one pipeline's deals (None: every pipeline's)."""
    return None if stage_keys is None else len(stage_keys)


def due(conn: Connection, *, now: datetime, within: str = "3d", owner: str | None = None,
        stage_keys: Sequence[str] | None = None) -> list[DueItem]:
    """Open follow-ups on open deals: overdue, and due within 24h / 3d / 7d."""
    sql = due_sql.rows_sql(owner=bool(owner), limit=False, stages=_stages(stage_keys))
    params = due_sql.due_params(now, within, owner, stage_keys=stage_keys)
    rows = conn.execute(_due_statement(sql, rows=True), params).all()
    return due_sql.due_items(rows, now, from_db)


def due_overview(conn: Connection, *, now: datetime, within: str = "3d", owner: str | None = None,
                 limit: int = 25, stage_keys: Sequence[str] | None = None) -> tuple[list[DueItem], dict[str, int]]:
    """The first `limit` items of due() and how many fall in each bucket.

    For a screenful: counting in SQL and building only what is shown costs 20 ms at
    100k deals, where building all 7k items costs 120 ms.
    """
    params = due_sql.due_params(now, within, owner, limit, stage_keys=stage_keys)
    stages = _stages(stage_keys)
    rows = conn.execute(_due_statement(due_sql.rows_sql(owner=bool(owner), limit=True, stages=stages), rows=True),
                        params).all()
    total, *before_ends = conn.execute(
        _due_statement(due_sql.counts_sql(owner=bool(owner), stages=stages), rows=False), params).one()
    return due_sql.due_items(rows, now, from_db), bucket_counts(before_ends, total)


def tier_cutoffs_of(conn: Connection, shares: tuple[float, float], owner: str | None = None) -> TierCutoffs:
    """Where A and B start among open deals (per owner when given); `shares` are the
    tier thresholds (settings.tier_shares)."""
    if not owner:
        rows = conn.execute(text(board_sql.open_weights_sql(sqlite=conn.dialect.name == "sqlite"))).all()
    else:
        w = WEIGHTED.label("w")
        rows = conn.execute(select(w, func.count()).where(open_clause(owner)).group_by(w)).all()
    return tier_cutoffs(((int(v or 0), n) for v, n in rows), *shares)


def tier_scheme_of(conn: Connection, shares: tuple[float, float], owner: str | None = None) -> TierScheme:
    """The tiers in force (setting `tiering`): the ABC cutoffs among open deals, or the amount
    tiers with their thresholds and the rep's exchange rates (domain.tiers)."""
    try:
        if tiering_of(get_setting(conn, "tiering")) == "amount":
            return amount_tiers({k: get_setting(conn, k) for k in THRESHOLD_SETTINGS}, read_rates(conn))
    except TierSettingError as exc:
        raise StoreError(str(exc)) from None
    return tier_cutoffs_of(conn, shares, owner)


def amount_tier_sql(scheme: AmountTiers, amount: str = "deal.amount", currency: str = "deal.currency") -> str:
    """A deal's amount tier as SQL text (NULL for a currency without a rate): the thresholds
    in each currency's own minor units, so no conversion runs per row and nothing is a float.
    Codes come from validated settings (three capital letters), thresholds are ints."""
    branches = []
    for code in (scheme.rates.base, *sorted(scheme.rates.to_base)):
        mins = scheme.thresholds_in(code)
        if mins is None or not (len(code) == 3 and code.isascii() and code.isalpha() and code.isupper()):
            continue
        steps = " ".join(f"WHEN {amount} >= {int(m)} THEN '{tier}'" for m, tier in zip(mins, AMOUNT_CODES))
        branches.append(f"WHEN '{code}' THEN (CASE {steps} ELSE 'maintain' END)")
    return f"(CASE {currency} {' '.join(branches)} ELSE NULL END)"


def tier_expression(scheme: TierScheme):
    """The tier of the row of `deal` as a SQL expression, for either scheme."""
    if isinstance(scheme, AmountTiers):
        return literal_column(amount_tier_sql(scheme), String)
    w = WEIGHTED
    a_min = scheme.a_min if scheme.a_min is not None else -1
    b_min = scheme.b_min if scheme.b_min is not None else -1
    return case((and_(w > 0, a_min > 0, w >= a_min), "A"),
                (and_(w > 0, b_min > 0, w >= b_min), "B"), else_="C")


def tiers(conn: Connection, shares: tuple[float, float], owner: str | None = None) -> dict[int, str | None]:
    """The tier of every open deal (per owner when given), by the tiering in force."""
    scheme = tier_scheme_of(conn, shares, owner)
    rows = conn.execute(select(D.c.id, D.c.amount, D.c.probability, D.c.currency).where(open_clause(owner))).all()
    return {deal_id: scheme.tier_of(int(a or 0), int(p or 0), c) for deal_id, a, p, c in rows}


def _warning_selections(conn: Connection, stages: tuple[StageDef, ...], shares: tuple[float, float],
                        now: datetime, owner: str | None, stage_keys: Sequence[str] | None = None) -> list[tuple]:
    """(kind, WHERE clause, clock column, tier column or None) for each warning query.

    The clauses restate DESIGN §2 exactly in SQL, so the rows and the counts come
    from the same definition: dwell over = stay > limit; near = 4/5 limit ≤ stay ≤
    limit; silent = quiet longer than the tier's cadence and no follow-up ahead;
    no next step = no open follow-up.
    """
    base = open_clause(owner)
    if stage_keys is not None:  # one pipeline of several
        base = and_(base, D.c.stage.in_(list(stage_keys)))
    ts = D.c.stage_entered_at.type
    entered = D.c.stage_entered_at
    out: list[tuple] = []
    for stage in stages:
        if stage.kind != "open" or not stage.max_dwell_days:
            continue
        cap = timedelta(days=stage.max_dwell_days)
        over_cut = literal(to_db(now - cap), ts)
        near_cut = literal(to_db(now - cap * 4 / 5), ts)
        in_stage = and_(base, D.c.stage == stage.key)
        out.append(("dwell_over", and_(in_stage, entered < over_cut), entered, None))
        out.append(("dwell_near", and_(in_stage, entered >= over_cut, entered <= near_cut), entered, None))
    scheme = tier_scheme_of(conn, shares, owner)
    tier_sql = tier_expression(scheme)
    # Each tier its cadence; the lowest tier, and a deal without a tier, the monthly one.
    quiet_cut = case(
        *((tier_sql == code, literal(to_db(now - cadence(code)), ts)) for code in scheme.codes[:-1]),
        else_=literal(to_db(now - cadence(scheme.lowest)), ts),
    )
    since = func.coalesce(D.c.last_contact_at, D.c.created_at)
    nothing_ahead = or_(D.c.next_follow_up_at.is_(None), D.c.next_follow_up_at < literal(to_db(now), ts))
    out.append(("silent", and_(base, nothing_ahead, since < quiet_cut), since, tier_sql))
    out.append(("no_next_step", and_(base, D.c.next_follow_up_at.is_(None)), entered, None))
    return out


def warnings(conn: Connection, stages: tuple[StageDef, ...], shares: tuple[float, float], *, now: datetime,
             owner: str | None = None, limit: int | None = None,
             stage_keys: Sequence[str] | None = None) -> list[WarningItem]:
    """Dwell over/near, silence past the tier cadence, and no next step, per open deal.

    Each kind is selected in SQL through its own index, worst first (the oldest clock
    start, ties by id), at most `limit` rows each, so the Today screen costs the same
    at 1k and 100k deals; `limit=None` gives everything.
    """
    day = timedelta(days=1)
    limits = {s.key: s.max_dwell_days for s in stages}
    groups: dict[str, list[tuple[datetime, WarningItem]]] = {k: [] for k in WARNING_ORDER}
    for kind, clause, clock, tier_sql in _warning_selections(conn, stages, shares, now, owner, stage_keys):
        cols = [D.c.id, D.c.customer, D.c.stage, clock.label("clock")]
        if tier_sql is not None:
            cols.append(tier_sql.label("tier"))
        q = select(*cols).where(clause).order_by(clock, D.c.id)
        for r in conn.execute(q.limit(limit) if limit else q):
            start = from_db(r.clock if isinstance(r.clock, datetime) else datetime.fromisoformat(r.clock))
            days = int((now - start) / day)
            if kind.startswith("dwell"):
                item = WarningItem(r.id, r.customer, r.stage, kind, days, limits[r.stage])
            elif kind == "silent":
                item = WarningItem(r.id, r.customer, r.stage, kind, days, cadence(r.tier).days)
            else:
                item = WarningItem(r.id, r.customer, r.stage, kind, days, None)
            groups[kind].append((start, item))
    out: list[WarningItem] = []
    for kind in WARNING_ORDER:
        group = sorted(groups[kind], key=lambda pair: (pair[0], pair[1].deal_id))
        out.extend(item for _, item in (group[:limit] if limit else group))
    return out


def warning_counts(conn: Connection, stages: tuple[StageDef, ...], shares: tuple[float, float], *,
                   now: datetime, owner: str | None = None,
                   stage_keys: Sequence[str] | None = None) -> dict[str, int]:
    """How many open deals carry each warning (for "… N more" lines and badges)."""
    counts = {k: 0 for k in WARNING_ORDER}
    for kind, clause, _clock, _tier in _warning_selections(conn, stages, shares, now, owner, stage_keys):
        counts[kind] += int(conn.execute(select(func.count()).select_from(D).where(clause)).scalar() or 0)
    return counts
