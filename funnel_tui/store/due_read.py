"""`funnel due` on the standard library's sqlite3: the due query (due_sql.py) read from a
SQLite file opened read-only, without SQLAlchemy, so a shell prompt gets its answer in
tens of milliseconds. `open_plain` serves the board's first read too (board_read.py).

It reads only the plain case and hands everything else to the store: `open_plain` returns
None — the caller then opens the Store as every other command does — when the file is not
a plain, current database it can read: a server URL, a missing or empty file, a schema
version other than the one this code was written for (older: the store migrates it;
newer: the store opens it read-only and says so), any error SQLite raises while opening
or reading. The checks at start (damage, automatic backup) are not made here: the caller
runs the same ones the store path runs, before this (cli/plain.py).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from funnel_tui.domain.rules import bucket_counts
from funnel_tui.store import due_sql
from funnel_tui.store.due_sql import DueItem
from funnel_tui.store.times import from_utc_text, utc_text

# The schema version the due and board SQL have been checked against; a file at any other
# version goes through the store (which upgrades an older one, and opens a newer one
# read-only). A schema step that lands moves models.SCHEMA_VERSION past this, and
# tests/test_due_read.py::test_reads_schema_version_is_the_schema_version fails until someone
# decides: read every statement of due_sql.py and board_sql.py against the new step (the
# columns of deal, followup, stage, pipeline, setting and checklist_tick they name, and the
# indexes they hint), then set this to the new version. Steps that only add tables (7: the
# scorecard, 8: lessons, this session) need nothing else. v5: stages per pipeline, archived
# stages, playbook ticks. v6: deal.search_key (not read), lost reasons as codes (read as
# stored; shown as labels by the same code on both paths). v7: the scorecard's table only. v8: the lesson table only.
READS_SCHEMA_VERSION = 8
# The tables those statements read; a file at the right version without one is no funnel's.
READ_TABLES = ("deal", "followup", "stage", "pipeline", "setting", "checklist_tick")
BUSY_TIMEOUT_S = 5.0  # as the store's engine: a writer in another terminal is waited for
# The due join looks up thousands of deal rows scattered over the file (6,800 at 100k deals);
# reading them through a memory map instead of one read() each takes about a third less CPU.
# Read-only, and only for `funnel due`'s short process (the board's first read scans indexes
# instead, and mapped pages would stay in the board's resident memory).
MMAP_BYTES = 1 << 30


def open_plain(path: Path, *, mmap: bool = False) -> sqlite3.Connection | None:
    """A read-only connection to `path` when it is a current funnel database, else None;
    `mmap`: read it through a memory map (see MMAP_BYTES)."""
    try:
        if path.stat().st_size == 0:
            return None
    except OSError:
        return None
    try:
        # as_uri percent-encodes '?', '#' and spaces, which a bare "file:" string would misread.
        # check_same_thread off: the board's first read opens it here and reads in a thread.
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                               check_same_thread=False)
    except (sqlite3.Error, ValueError, OSError):
        return None
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        names = ", ".join(f"'{t}'" for t in READ_TABLES)
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                              f"AND name IN ({names})").fetchone()[0]
        if version == READS_SCHEMA_VERSION and tables == len(READ_TABLES):
            if mmap:
                conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
            return conn
    except sqlite3.Error:
        pass
    conn.close()
    return None


def stage_keys(conn: sqlite3.Connection, pipeline: str | None) -> tuple[str, ...] | None:
    """Store.stage_keys, read with sqlite3: the stage keys of the pipeline named (archived
    stages included), None for every pipeline. Raises the domain's StageChangeError for a
    pipeline nobody keeps (the caller then lets the store say so)."""
    if pipeline is None:
        return None  # every pipeline's deals: nothing to read
    from funnel_tui.domain.stage_plan import pipeline_stage_keys
    from funnel_tui.store import board_sql

    return pipeline_stage_keys(board_sql.stage_defs(named_rows(conn, board_sql.STAGES_SQL)),
                               board_sql.pipeline_defs(named_rows(conn, board_sql.PIPELINES_SQL)), pipeline)


def named_rows(conn: sqlite3.Connection, sql: str) -> list[dict]:
    """The rows of `sql` as dicts by column name (what SQLAlchemy's `.mappings()` gives)."""
    cursor = conn.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


def _stages(keys: tuple[str, ...] | None) -> int | None:
    return None if keys is None else len(keys)


def _params(now: datetime, within: str, owner: str | None, limit: int | None = None,
            keys: tuple[str, ...] | None = None) -> dict:
    params = due_sql.due_params(now, within, owner, limit, stage_keys=keys)
    for name in due_sql.TIME_PARAMS:
        params[name] = utc_text(params[name])
    return params


def due(conn: sqlite3.Connection, *, now: datetime, within: str = "3d",
        owner: str | None = None, pipeline: str | None = None) -> list[DueItem]:
    """Store.due, read with sqlite3."""
    keys = stage_keys(conn, pipeline)
    rows = conn.execute(due_sql.rows_sql(owner=bool(owner), limit=False, stages=_stages(keys)),
                        _params(now, within, owner, keys=keys))
    return due_sql.due_items(rows, now, from_utc_text)


def due_counts(conn: sqlite3.Connection, *, now: datetime, within: str = "3d",
               owner: str | None = None, pipeline: str | None = None,
               keys: tuple[str, ...] | None = None) -> dict[str, int]:
    """How many fall in each bucket (the counts of Store.due_overview); `keys`: the
    pipeline's stage keys when the caller has read them already."""
    if keys is None:
        keys = stage_keys(conn, pipeline)
    total, *before_ends = conn.execute(due_sql.counts_sql(owner=bool(owner), stages=_stages(keys)),
                                       _params(now, within, owner, keys=keys)).fetchone()
    return bucket_counts(before_ends, total)


def due_overview(conn: sqlite3.Connection, *, now: datetime, within: str = "3d", owner: str | None = None,
                 limit: int = 25, pipeline: str | None = None) -> tuple[list[DueItem], dict[str, int]]:
    """Store.due_overview, read with sqlite3."""
    keys = stage_keys(conn, pipeline)
    rows = conn.execute(due_sql.rows_sql(owner=bool(owner), limit=True, stages=_stages(keys)),
                        _params(now, within, owner, limit, keys=keys))
    items = due_sql.due_items(rows, now, from_utc_text)
    return items, due_counts(conn, now=now, within=within, owner=owner, keys=keys)
