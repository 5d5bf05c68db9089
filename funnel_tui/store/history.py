"""Changes to a deal and the history that records them (DESIGN §2).

History is append-only: every change writes rows here, grouped by one `action` id per
thing the rep did, so `undo` (store/undo.py) can walk the whole action back. An undo marks
the action it took back, and the action of its own inverse rows, in the `undo` table; every
reader of history skips the rows of both (`skipped_actions_sql`, `live_sql`). A change
starts from the deal's row as read inside the write transaction (`deal_row`) and goes in
through `apply_changes`, which refuses a stale save by the row's `version`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Mapping

from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Connection

from funnel_tui.i18n import _
from funnel_tui.store.engine import WRITE_OPTION
from funnel_tui.store.errors import NotFound, StaleDealError
from funnel_tui.store.search import with_key
from funnel_tui.store.tables import DATETIME_COLUMNS, DEAL_FIELDS, UTC, D, H, to_db

# Deal columns that history tracks and undo can restore.
TRACKED = (
    "external_id", "customer", "title", "industry", "company_size", "contact_name",
    "contact_role", "contact_phone", "contact_email", "source", "lead_score", "owner",
    "stage", "status", "amount", "currency", "probability", "probability_custom",
    "expected_close", "risk_level", "risk_note", "mitigation", "budget", "decision_chain",
    "pain_points", "competitors", "lost_reason", "notes", "stage_entered_at",
    "last_contact_at", "closed_at", "deleted_at",
)


def skipped_actions_sql(as_of: str | None = None) -> str:
    """SQL for the actions whose history rows no reader counts: undone actions and the
    undos' own inverse rows (only undos made by the bind parameter `:<as_of>`, when given)."""
    when = f" WHERE undo_mark.at <= :{as_of}" if as_of else ""
    return (f"SELECT undo_mark.action FROM undo undo_mark{when} "
            f"UNION ALL SELECT undo_mark.undo_action FROM undo undo_mark{when}")


def live_sql(alias: str = "h", as_of: str | None = None) -> str:
    """SQL condition: history row `alias` belongs to an action that stands (see above)."""
    return f"{alias}.action NOT IN ({skipped_actions_sql(as_of)})"


def new_action() -> str:
    """A fresh id grouping the history rows of one thing the rep did (one undo step)."""
    return uuid.uuid4().hex[:16]


def history_row(deal_id: int, at: datetime | None, kind: str, action: str, *, field: str | None = None,
                old: str | None = None, new: str | None = None, from_stage: str | None = None,
                to_stage: str | None = None) -> dict[str, Any]:
    """One history row, every column named (executemany needs the same keys in each)."""
    return {"deal_id": deal_id, "at": at, "kind": kind, "field": field, "old": old, "new": new,
            "action": action, "from_stage": from_stage, "to_stage": to_stage}


# The connection's execution option naming who writes (Store.write sets it). On a server the
# server itself sets each row's author to the connected role, whatever this says.
AUTHOR_OPTION = "funnel_author"


def stamp_author(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give history rows (made by history_row) the writer's name, in place; returns them."""
    author = conn.get_execution_options().get(AUTHOR_OPTION, "")
    for row in rows:
        row["author"] = author
    return rows


def record(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Append history rows (made by history_row), signed by the writer."""
    if rows:
        conn.execute(insert(H), stamp_author(conn, rows))


def ser(value: Any) -> str | None:
    """A column value as history text (ISO for times, plain for the rest)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def deser(column: str, text: str | None) -> Any:
    """History text back into a value of `column` (the inverse of ser)."""
    if text is None:
        return None
    if column in DATETIME_COLUMNS:
        return to_db(datetime.fromisoformat(text))
    if column == "expected_close":
        return date.fromisoformat(text)
    if column in ("amount", "probability", "lead_score"):
        return int(text)
    if column == "probability_custom":
        return text == "1"
    return text


def deal_row(conn: Connection, deal_id: int, *, include_deleted: bool = False) -> dict:
    """The deal's whole row, for a change inside this transaction (NotFound if gone).

    In a write transaction the row is locked (SELECT … FOR UPDATE on a server; SQLite's
    BEGIN IMMEDIATE already holds the whole file): a second terminal changing the same deal
    waits for this one to commit, then reads the new row, so both changes land in turn.
    """
    q = select(*DEAL_FIELDS).where(D.c.id == deal_id)
    if conn.get_execution_options().get(WRITE_OPTION):
        q = q.with_for_update()
    row = conn.execute(q).mappings().first()
    if row is None or (row["deleted_at"] is not None and not include_deleted):
        raise NotFound(_("deal: no deal with id {id}").format(id=deal_id))
    return dict(row)


def apply_changes(
    conn: Connection,
    deal: dict,
    changes: Mapping[str, Any],
    *,
    now: datetime,
    action: str,
    kind_for: Mapping[str, str] | None = None,
    expected_version: int | None = None,
) -> dict:
    """Write `changes` to the deal, one history row per changed column; returns the new row.

    `kind_for` names the history kind of a column's row (status → "won", …); a stage
    change is always a "stage" row with its from/to stages.
    """
    if expected_version is not None and deal["version"] != expected_version:
        raise StaleDealError(_("deal {id} was changed elsewhere since you opened it (version {old} → {new}); "
                               "reload and apply again").format(id=deal["id"], old=expected_version, new=deal["version"]))
    real = {k: v for k, v in changes.items() if deal.get(k) != v}
    if not real:
        return deal
    at = to_db(now)
    kinds = kind_for or {}
    rows = []
    for column, value in real.items():
        move = column == "stage"
        rows.append(history_row(
            deal["id"], at, "stage" if move else kinds.get(column, "field"), action, field=column,
            old=ser(deal.get(column)), new=ser(value),
            from_stage=deal["stage"] if move else None, to_stage=value if move else None))
    written = with_key(deal, dict(real))  # a new customer, title or contact: a new search key
    # The version guard is repeated in SQL: it holds even across processes.
    result = conn.execute(
        update(D)
        .where(and_(D.c.id == deal["id"], D.c.version == deal["version"]))
        .values(**written, updated_at=at, version=deal["version"] + 1)
    )
    if result.rowcount != 1:
        raise StaleDealError(_("deal {id} was changed elsewhere; reload and apply again").format(id=deal["id"]))
    record(conn, rows)
    return {**deal, **written, "updated_at": at, "version": deal["version"] + 1}
