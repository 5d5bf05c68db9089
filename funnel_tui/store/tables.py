"""The tables as the store's SQL names them, and the values that cross into them.

- Short aliases of the model tables (D for deal, F followup, T touch, H history, U undo,
  S stage, SET setting, P pipeline, CT checklist_tick, SC scorecard_rule): the store reads plain columns, never
  ORM objects (several times cheaper).
- Times cross the store's boundary as aware UTC datetimes; inside SQLite they are UTC text
  of fixed width, so text order is time order (`utc_text`, `sqlite_value`).
- Statuses are written into the SQL literally: SQLite uses a partial index
  (WHERE status = 'open') only when the query names the value itself, not a parameter.
- The weighted value of a deal, amount × probability / 100 rounded half up, is spelled
  here once for SQL (`weighted_sql`, `WEIGHTED`); domain.money.weighted_minor is the
  Python spelling, and tests/test_store_tables.py holds the two to the same numbers.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import BigInteger, and_, literal_column

from funnel_tui.models import (
    ChecklistTick,
    Deal,
    FollowUp,
    History,
    Pipeline,
    ScorecardRule,
    Setting,
    Stage,
    Touch,
    Undo,
)
from funnel_tui.store.errors import StoreError

UTC = timezone.utc
D = Deal.__table__
F = FollowUp.__table__
T = Touch.__table__
H = History.__table__
S = Stage.__table__
SET = Setting.__table__
U = Undo.__table__
P = Pipeline.__table__
CT = ChecklistTick.__table__
SC = ScorecardRule.__table__

# A deal as the store hands it out: every column but the search key (store.search reads that
# one), so a database opened read-only before its upgrade still lists and shows its deals.
DEAL_FIELDS = tuple(c for c in D.columns if c.name != "search_key")

DATETIME_COLUMNS = frozenset({"created_at", "updated_at", "stage_entered_at", "last_contact_at",
                              "next_follow_up_at", "closed_at", "deleted_at"})
# Every time column of every table the store reads (rows leave the store aware).
ALL_TIME_COLUMNS = DATETIME_COLUMNS | {"due_at", "at", "done_at", "voided_at"}
IN_CHUNK = 400  # identities per IN (...) list; far below SQLite's variable limit

STATUSES = ("open", "won", "lost")
OPEN = literal_column("'open'")


def status_literal(status: str):
    """A deal status written into the SQL (partial indexes need the literal, see OPEN)."""
    if status not in STATUSES:
        raise StoreError(f"status: {status!r} is not one of open, won, lost")
    return literal_column(f"'{status}'")


def open_clause(owner: str | None = None):
    """Open, not deleted deals (of one rep when `owner` is given)."""
    clause = and_(D.c.status == OPEN, D.c.deleted_at.is_(None))
    return and_(clause, D.c.owner == owner) if owner else clause


def weighted_sql(amount: str = "amount", probability: str = "probability") -> str:
    """amount × probability / 100, rounded half up, as SQL text over two integer column
    expressions. Integer arithmetic; amounts are ≥ 0 and probabilities 0–100 (CHECKs), so
    SQL's truncating division is Python's floor, as in domain.money.weighted_minor."""
    return f"(({amount} * {probability} + 50) / 100)"


# The same rule as a column expression for statements built with SQLAlchemy over `deal`.
WEIGHTED = literal_column(weighted_sql("deal.amount", "deal.probability"), BigInteger)

# Money is 64-bit per deal, but a sum of many deals is not: 9,224 deals of ¥10^13 (the most
# one deal may hold) overflow SQLite's SUM ("integer overflow", issue 12's Summary screen).
# Each sum is taken in two parts, the billions and the rest, each far from the limit, and
# joined in Python, whose integers have no limit: exact, never a float.
SPLIT = 10**9


def exact_sum_sql(expr: str) -> str:
    """Two SQL sums (SELECT-list text) that `exact_total` joins into Σ expr, exactly; `expr`
    is a non-negative integer expression (amounts and weighted values are)."""
    return f"sum(({expr}) / {SPLIT}), sum(({expr}) % {SPLIT})"


def exact_sum(column) -> tuple:
    """The same two sums for statements built with SQLAlchemy."""
    from sqlalchemy import func

    return func.sum(column // SPLIT), func.sum(column % SPLIT)


def exact_total(high: int | None, low: int | None) -> int:
    return int(high or 0) * SPLIT + int(low or 0)


def to_db(dt: datetime | None) -> datetime | None:
    """Aware → aware UTC (SQLModel's UTCDateTime stores it as UTC text in SQLite)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        raise ValueError("naive datetime reached the store; pass aware times")
    return dt.astimezone(UTC)


def from_db(dt: datetime | None) -> datetime | None:
    """Column values come back aware UTC already; raw SQL rows may be naive UTC."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def aware_row(row: dict) -> dict:
    """A row as it leaves the store: every time aware UTC (changed in place, returned)."""
    for key in ALL_TIME_COLUMNS:
        if key in row and isinstance(row[key], datetime):
            row[key] = from_db(row[key])
    return row


# SQLAlchemy's stored form of a UTC datetime in SQLite, for loops where every call counts
# (%-formatting the fields is faster than isoformat); utc_text is the same text.
UTC_TEXT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


def utc_text(dt: datetime) -> str:
    """An aware time as SQLite stores it: UTC text with microseconds, no offset."""
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    return dt.isoformat(" ", "microseconds")[:26]


def sqlite_value(v: Any) -> Any:
    """A value as SQLAlchemy stores it in SQLite (UTC text for times, ISO for dates)."""
    if isinstance(v, datetime):
        return utc_text(v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, bool):
        return int(v)
    return v
