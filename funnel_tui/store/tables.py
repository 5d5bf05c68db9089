"""The tables as the store's SQL names them, and the values that cross into them.

- Short aliases of the model tables (D for deal, F followup, T touch, H history, U undo,
  S stage, SET setting, P pipeline, CT checklist_tick, SC scorecard_rule): the store reads plain columns, never
  ORM objects (several times cheaper).
- Times cross the store's boundary as aware UTC datetimes; inside SQLite they are UTC text
  of fixed width, so text order is time order (`utc_text`, `sqlite_value`).
- Statuses are written into the SQL literally: SQLite uses a partial index
  (WHERE status = 'open') only when the query names the value itself, not a parameter.
- The weighted value of a deal, amount × probability / 100 rounded half up, is spelled
  once for SQL (`weighted_sql`, in board_sql.py, and `WEIGHTED`); domain.money.weighted_minor is the
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
# The exact sums (past 64 bits) are spelled in board_sql, which the sqlite3 first read shares.
from funnel_tui.store.board_sql import SPLIT, exact_sum_sql, exact_total, weighted_sql  # noqa: F401 - re-exported
from funnel_tui.store.errors import StoreError
from funnel_tui.store.times import UTC_TEXT, utc_text  # noqa: F401 - re-exported for the store

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


# The same rule as a column expression for statements built with SQLAlchemy over `deal`.
WEIGHTED = literal_column(weighted_sql("deal.amount", "deal.probability"), BigInteger)


def exact_sum(column) -> tuple:
    """board_sql.exact_sum_sql's two sums for statements built with SQLAlchemy."""
    from sqlalchemy import func

    return func.sum(column // SPLIT), func.sum(column % SPLIT)


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


def sqlite_value(v: Any) -> Any:
    """A value as SQLAlchemy stores it in SQLite (UTC text for times, ISO for dates)."""
    if isinstance(v, datetime):
        return utc_text(v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, bool):
        return int(v)
    return v
