"""Import rows in their stored form, written past SQLAlchemy's per-value processing.

The import's reader (possibly a forked process) turns validated rows into a StagedChunk
with `stage_chunk`: columns in their stored form, constants pulled out, no database
touched. The writer (bulk_import.DealImporter) puts a chunk into an in-memory scratch
table attached to its write transaction (Store.write(scratch=STAGE_SCHEMA)), and
`copy_in` copies it into deal, history and followup with INSERT … SELECT (SQLite only).
Rows that go one by one are inserted with `insert_many`, their ids found by
`inserted_ids`; a big import drops and rebuilds indexes with `drop_indexes` /
`create_indexes`. Every function works inside the writer's one transaction.
"""

from __future__ import annotations

from datetime import datetime, timezone
from operator import itemgetter
from typing import Any, Mapping, Sequence

from sqlalchemy import and_, func, insert, select
from sqlalchemy.engine import Connection

# The staged form of a chunk lives in staged.py (no SQLAlchemy: the reader, possibly forked
# before SQLAlchemy loads, makes it); re-exported for the writer.
from funnel_tui.store.staged import STAGED_COLUMNS, StagedChunk
from funnel_tui.store.tables import (
    DATETIME_COLUMNS,
    IN_CHUNK,
    UTC_TEXT,
    D,
    sqlite_value,
)

STAGE_SCHEMA = "import_stage"  # the in-memory schema an import attaches (Store.write(scratch=…))


# --- the writer, row by row: stored form straight to the driver ---------------------------

def inserted_ids(conn: Connection, deals: list[dict]) -> list[int]:
    """The ids just given to `deals`, in order.

    Inside our BEGIN IMMEDIATE nobody else inserts, and SQLite numbers new rows max+1,
    so one executemany gets consecutive ids ending at last_insert_rowid(); checked by
    uid at both ends, else looked up by uid.
    """
    if conn.dialect.name == "sqlite":
        last = conn.exec_driver_sql("SELECT last_insert_rowid()").scalar()
        first = last - len(deals) + 1
        got = {i: u for i, u in conn.execute(select(D.c.id, D.c.uid).where(D.c.id.in_([first, last])))}
        if got.get(first) == deals[0]["uid"] and got.get(last) == deals[-1]["uid"]:
            count = conn.execute(select(func.count()).select_from(D).where(
                and_(D.c.id >= first, D.c.id <= last))).scalar()
            if count == len(deals):
                return list(range(first, last + 1))
    uids = [d["uid"] for d in deals]
    id_of: dict[str, int] = {}
    for i in range(0, len(uids), IN_CHUNK):
        part = uids[i:i + IN_CHUNK]
        id_of.update((u, n) for u, n in conn.execute(select(D.c.uid, D.c.id).where(D.c.uid.in_(part))))
    return [id_of[u] for u in uids]


def insert_many(conn: Connection, table, rows: list[dict]) -> None:
    """INSERT many rows: straight to the sqlite3 driver with values already in their
    stored form (SQLAlchemy's per-value type processing costs more than SQLite itself);
    through Core elsewhere."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), rows)
        return
    cols = list(rows[0])
    sql = (f"INSERT INTO {table.name} ({', '.join(cols)}) "
           f"VALUES ({', '.join('?' for _ in cols)})")
    # Only time and date columns need converting (sqlite3 takes bools as ints).
    convert = [i for i, c in enumerate(cols) if c in DATETIME_COLUMNS or c in ("at", "due_at", "done_at")
               or c == "expected_close"]
    get = itemgetter(*cols)
    data = []
    utc = timezone.utc
    for r in rows:
        values = list(get(r))
        for i in convert:
            v = values[i]
            if v is None:
                continue
            if v.__class__ is datetime and v.tzinfo is utc:  # the common case, inline
                values[i] = UTC_TEXT % (v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond)
            else:
                values[i] = sqlite_value(v)
        data.append(tuple(values))
    conn.exec_driver_sql(sql, data)


def drop_indexes(conn: Connection, *, keep: frozenset[str]) -> list[tuple[str, str]]:
    """Drop the non-unique indexes of deal, history and followup but `keep`; returns their
    (name, CREATE statement) for create_indexes. Inside the transaction: a rollback
    restores them (SQLite's DDL is transactional)."""
    found = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('deal', 'history', 'followup')").all()
    dropped = [(n, q) for n, q in found if not q.upper().startswith("CREATE UNIQUE") and n not in keep]
    for name, _ in dropped:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return dropped


def create_indexes(conn: Connection, dropped: list[tuple[str, str]]) -> None:
    """Build again the indexes drop_indexes dropped (one sort each)."""
    for _, sql in dropped:
        conn.exec_driver_sql(sql)


# --- the writer, staged: scratch table → deal, history, followup ----------------------------

def load(raw, data: StagedChunk, *, create: bool) -> None:
    """Put the chunk's varying columns into the scratch table (created when `create`)."""
    st = STAGE_SCHEMA
    if create:
        raw.execute(f"CREATE TABLE {st}.d (id INTEGER, line, cells, follow_up_at, {', '.join(STAGED_COLUMNS)})")
    raw.execute(f"DELETE FROM {st}.d")
    names = list(data.columns)
    raw.executemany(f"INSERT INTO {st}.d ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                    zip(*data.columns.values()))


def _col(name: str, const: Mapping[str, Any]) -> str:
    """A staged column, or its one value as a bound parameter."""
    return f":{name}" if name in const else name


def known_rows(raw, const: Mapping[str, Any]) -> list[tuple[int, bytes]]:
    """(line, pickled cells) of the staged rows naming a deal the database already has."""
    if const.get("cells", "") is None:
        return []  # no row carries a uid or external_id
    # Qualified: inside EXISTS a bare external_id would be main.deal's own column.
    ext = ":external_id" if "external_id" in const else "s.external_id"
    return raw.execute(
        f"SELECT s.line, s.cells FROM {STAGE_SCHEMA}.d AS s WHERE s.cells IS NOT NULL AND ("
        f"EXISTS (SELECT 1 FROM main.deal AS m WHERE m.uid = s.uid) OR ({ext} IS NOT NULL AND "
        f"EXISTS (SELECT 1 FROM main.deal AS m WHERE m.external_id = {ext})))", const).fetchall()


def drop_lines(raw, lines: Sequence[int]) -> None:
    """Take rows out of the scratch table (they went the row-by-row way)."""
    for i in range(0, len(lines), IN_CHUNK):
        part = list(lines[i:i + IN_CHUNK])
        raw.execute(f"DELETE FROM {STAGE_SCHEMA}.d WHERE line IN ({', '.join('?' * len(part))})", part)


def copy_in(raw, const: Mapping[str, Any], *, at: str, action: str, gaps: bool) -> tuple[int, int]:
    """Copy the scratch table into deal, with the rows the row-by-row path writes: an
    "imported" history row per deal (and its won/lost row), its open follow-up. `at` is
    the stored form of now; `gaps` says rows were taken out. Returns (deals, follow-ups)."""
    st = STAGE_SCHEMA
    # New ids in line order from max + 1 (nobody else inserts inside our BEGIN IMMEDIATE).
    first = (raw.execute("SELECT max(id) FROM main.deal").fetchone()[0] or 0) + 1
    raw.execute(f"UPDATE {st}.d SET id = ? + rowid - 1", (first,))
    if gaps:
        raw.execute(f"UPDATE {st}.d SET id = ? + r.k - 1 FROM (SELECT line, row_number() OVER (ORDER BY line) "
                    f"AS k FROM {st}.d) AS r WHERE r.line = d.line", (first,))
    params = {**const, "at": at, "action": action}
    cols = ", ".join(STAGED_COLUMNS)
    raw.execute(f"INSERT INTO main.deal (id, {cols}, updated_at, version, next_follow_up_at, deleted_at) "
                f"SELECT id, {', '.join(_col(c, const) for c in STAGED_COLUMNS)}, :at, 1, "
                f"CASE WHEN {_col('status', const)} = 'open' THEN {_col('follow_up_at', const)} END, NULL "
                f"FROM {st}.d ORDER BY id", params)
    inserted = raw.execute("SELECT changes()").fetchone()[0]
    raw.execute("INSERT INTO main.history (deal_id, at, kind, from_stage, to_stage, field, old, new, action) "
                f"SELECT id, {_col('stage_entered_at', const)}, 'imported', NULL, {_col('stage', const)}, "
                f"NULL, NULL, NULL, :action FROM {st}.d ORDER BY id", params)
    # field stays NULL: undo soft-deletes the deal instead of reopening it.
    status = _col("status", const)
    raw.execute("INSERT INTO main.history (deal_id, at, kind, from_stage, to_stage, field, old, new, action) "
                f"SELECT id, {_col('closed_at', const)}, {status}, NULL, NULL, NULL, 'open', {status}, "
                f":action FROM {st}.d WHERE {status} <> 'open' ORDER BY id", params)
    follow = _col("follow_up_at", const)
    raw.execute("INSERT INTO main.followup (deal_id, kind, due_at, note, status, created_at, done_at) "
                f"SELECT id, 'call', {follow}, '', 'open', :at, NULL FROM {st}.d "
                f"WHERE {status} = 'open' AND {follow} IS NOT NULL ORDER BY id", params)
    return inserted, raw.execute("SELECT changes()").fetchone()[0]
