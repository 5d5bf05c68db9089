"""The due query, spelled once: SQL text that the store runs through SQLAlchemy (today.py,
with `text()` and typed parameters, on SQLite and PostgreSQL) and `funnel due` runs through
the standard library's sqlite3 (due_read.py). The buckets come from the domain
(rules.BUCKETS, BUCKET_ENDS): SQL counts how many are due before each bucket's end, and
rules.bucket_counts turns that into counts per bucket; rows get their bucket from
rules.listed_bucket.

No SQLAlchemy here: this module is on `funnel due`'s fast path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterable, NamedTuple, Sequence

from funnel_tui.domain.rules import BUCKET_ENDS, BUCKETS, WITHIN, listed_bucket

# Open follow-ups due before the horizon, on deals neither deleted nor lost. The statuses are
# literals: SQLite uses the partial index ix_followup_open_due (WHERE status = 'open') only
# when the query names the value itself (tests/test_query_plans.py).
_WHERE = (
    "FROM followup JOIN deal ON deal.id = followup.deal_id "
    "WHERE followup.status = 'open' AND followup.due_at < :horizon "
    "AND deal.deleted_at IS NULL AND deal.status != 'lost'"
)
_OWNER = " AND deal.owner = :owner"

# The columns of a due row, in order (DueItem is built from them).
DUE_COLUMNS = ("id", "deal_id", "kind", "due_at", "note", "customer", "title", "stage")
DUE_ROWS_SQL = (
    "SELECT followup.id, followup.deal_id, followup.kind, followup.due_at, followup.note, "
    "deal.customer, deal.title, deal.stage " + _WHERE + "{owner}{stages} "
    "ORDER BY followup.due_at, followup.id{limit}"
)
# count(*), then how many are due before the end of each bucket, in BUCKETS order.
DUE_COUNTS_SQL = (
    "SELECT count(*), "
    + ", ".join(f"count(CASE WHEN followup.due_at < :end_{b} THEN 1 END)" for b in BUCKETS)
    + " " + _WHERE + "{owner}{stages}"
)
# The parameters that hold times (typed as the due_at column where the store binds them).
TIME_PARAMS = ("horizon", *(f"end_{b}" for b in BUCKETS))


def _in_stages(stages: int | None) -> str:
    """Deals in one pipeline: its `stages` stage keys bound as :stage_0 … (None: every deal)."""
    if stages is None:
        return ""
    if stages == 0:
        return " AND 1 = 0"
    return " AND deal.stage IN (" + ", ".join(f":stage_{i}" for i in range(stages)) + ")"


def rows_sql(*, owner: bool, limit: bool, stages: int | None = None) -> str:
    """DUE_ROWS_SQL for one rep's deals or everyone's, all rows or the first :limit, of every
    pipeline or of one (`stages`: how many stage keys select it, see due_params)."""
    return DUE_ROWS_SQL.format(owner=_OWNER if owner else "", limit=" LIMIT :limit" if limit else "",
                               stages=_in_stages(stages))


def counts_sql(*, owner: bool, stages: int | None = None) -> str:
    """DUE_COUNTS_SQL for one rep's deals or everyone's, of every pipeline or of one."""
    return DUE_COUNTS_SQL.format(owner=_OWNER if owner else "", stages=_in_stages(stages))


def due_params(now: datetime, within: str, owner: str | None, limit: int | None = None,
               stage_keys: Sequence[str] | None = None) -> dict[str, Any]:
    """The parameters of both statements; times as aware datetimes (the caller stores them
    as its driver needs: typed binds in the store, UTC text on the sqlite3 path).
    `stage_keys`: one pipeline's stages, archived ones included (Store.stage_keys)."""
    params: dict[str, Any] = {"horizon": now + WITHIN[within]}
    for i, key in enumerate(stage_keys or ()):
        params[f"stage_{i}"] = key
    for bucket in BUCKETS:
        params[f"end_{bucket}"] = now + BUCKET_ENDS[bucket]
    if owner:
        params["owner"] = owner
    if limit is not None:
        params["limit"] = limit
    return params


class DueItem(NamedTuple):  # not a dataclass: see domain/rules.Dwell
    """One open follow-up on an open deal, with its due bucket (DESIGN §6 `due`)."""

    followup_id: int
    deal_id: int
    customer: str
    title: str
    stage: str
    kind: str
    due_at: datetime
    bucket: str
    note: str


def due_items(rows: Iterable[tuple], now: datetime, when: Callable[[Any], datetime]) -> list[DueItem]:
    """DueItems from rows in DUE_COLUMNS order; `when` turns the stored due_at into an aware
    UTC datetime (the column type has done it in the store, sqlite3 gives text)."""
    out = []
    for fid, deal_id, kind, due_at, note, customer, title, stage in rows:
        at = when(due_at)
        out.append(DueItem(fid, deal_id, customer, title, stage, kind, at, listed_bucket(at, now), note))
    return out
