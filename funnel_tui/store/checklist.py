"""The stage playbook as a checklist on each deal: ticks stored per (deal, stage, item), every
tick and untick a history row (kind `field`, field `check:<stage>:<item>`, "1"/"0"), so undo
walks it back like anything else. A deal that returns to a stage finds its ticks there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping

from sqlalchemy import and_, insert, select, text, update
from sqlalchemy.engine import Connection

from funnel_tui.store import board_sql
from funnel_tui.store.errors import StoreError
from funnel_tui.store.history import deal_row, history_row, record
from funnel_tui.store.tables import CT, to_db

CHECK_KIND = "field"
CHECK_FIELD = "check:"


def is_tick(row: Mapping[str, Any]) -> bool:
    """A history row of a checklist tick."""
    return (row.get("field") or "").startswith(CHECK_FIELD) and row.get("deal_id") is not None


def ticks(conn: Connection, deal_id: int, stage: str) -> set[str]:
    """The items ticked on a deal in a stage."""
    rows = conn.execute(select(CT.c.item).where(and_(
        CT.c.deal_id == deal_id, CT.c.stage == stage, CT.c.done.is_(True)))).scalars()
    return set(rows)


def any_ticks(conn: Connection) -> bool:
    """Whether any item is ticked on any deal (most reps never tick: then nothing is read)."""
    return conn.execute(text(board_sql.ANY_TICK_SQL)).first() is not None


def tick_counts(conn: Connection, deals: Iterable[Mapping[str, Any]]) -> dict[int, int]:
    """How many items each deal has ticked in its current stage (for the cards' badge; the
    board's first read runs the same SQL: board_sql)."""
    by_id = {d["id"]: d["stage"] for d in deals}
    out: dict[int, int] = {}
    for sql, params in board_sql.tick_queries(list(by_id)):
        out.update(board_sql.tick_counts(by_id, conn.execute(text(sql), params)))
    return out


def set_tick(conn: Connection, deal_id: int, stage: str, item: str, done: bool, *, now: datetime,
             action: str) -> bool:
    """Tick or untick one item of the deal's playbook in `stage`; False when nothing changed."""
    deal_row(conn, deal_id)  # NotFound for a deal that is gone
    at = to_db(now)
    current = conn.execute(select(CT.c.done).where(and_(
        CT.c.deal_id == deal_id, CT.c.stage == stage, CT.c.item == item))).first()
    was = bool(current[0]) if current is not None else False
    if was == done:
        return False
    if current is None:
        conn.execute(insert(CT).values(deal_id=deal_id, stage=stage, item=item, done=done, at=at))
    else:
        conn.execute(update(CT).where(and_(CT.c.deal_id == deal_id, CT.c.stage == stage, CT.c.item == item))
                     .values(done=done, at=at))
    record(conn, [history_row(deal_id, at, CHECK_KIND, action, field=f"{CHECK_FIELD}{stage}:{item}",
                              old="1" if was else "0", new="1" if done else "0")])
    return True


def undo_check(conn: Connection, row: Mapping[str, Any], *, now: datetime, action: str) -> None:
    """The inverse of one tick row: the item back as it was, recorded."""
    field = row["field"] or ""
    try:
        _prefix, stage, item = field.split(":", 2)
    except ValueError:
        raise StoreError(f"undo: cannot read checklist row {field!r}") from None
    at = to_db(now)
    done = row["old"] == "1"
    conn.execute(update(CT).where(and_(CT.c.deal_id == row["deal_id"], CT.c.stage == stage, CT.c.item == item))
                 .values(done=done, at=at))
    record(conn, [history_row(row["deal_id"], at, CHECK_KIND, action, field=field, old=row["new"], new=row["old"])])
