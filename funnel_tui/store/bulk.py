"""Bulk reads and writes for CSV export and import: many deals, flat memory, one transaction.

Export streams plain column tuples in chunks from one read transaction (a consistent
snapshot, no ORM objects). Import writes validated deals inside ONE BEGIN IMMEDIATE
transaction, all history rows under one `action` id, so `funnel undo` reverts a whole
import (Store.undo soft-deletes deals for "imported" rows): staged chunks (stage_chunk)
go in with INSERT … SELECT from an in-memory scratch table (add_staged); rows that name a
deal the database has, dry runs and other databases go row by row (add).
"""

from __future__ import annotations

import marshal
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterator, Mapping, Sequence

from sqlalchemy import String, and_, func, insert, literal_column, or_, select, type_coerce
from sqlalchemy.engine import Connection

from funnel_tui.domain.validation import FollowUpDraft
from funnel_tui.domain.vocab import DEAL_COLUMNS
from funnel_tui.store.core import (
    D,
    DATETIME_COLUMNS,
    F,
    H,
    Store,
    StoreError,
    new_action,
    to_db,
)

# --- export: streaming reads -------------------------------------------------------------

EXPORT_DB_COLUMNS: tuple[str, ...] = DEAL_COLUMNS  # the documented columns, in order


@contextmanager
def stream_deals(
    store: Store,
    *,
    owner: str | None = None,
    status: str | Sequence[str] | None = "open",
    stage: str | None = None,
    chunk: int = 5000,
) -> Iterator[Iterator[Sequence[Any]]]:
    """Yield an iterator of row chunks (tuples in EXPORT_DB_COLUMNS order), oldest id first.

    Times come back as the stored UTC text on SQLite (parsing them into datetimes would cost
    more than the whole CSV formatting); other dialects give datetimes. Dates likewise.
    """
    cols = []
    for name in EXPORT_DB_COLUMNS:
        col = D.c[name]
        if name in DATETIME_COLUMNS or name == "expected_close":
            col = type_coerce(col, String()).label(name)
        cols.append(col)
    q = _export_query(store, owner=owner, status=status, stage=stage, columns=cols)
    with store.read() as conn:
        if conn.dialect.name == "sqlite":
            # Plain driver tuples, same transaction: SQLAlchemy's Row objects cost more per row
            # than SQLite takes to produce it.
            compiled = q.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
            params = [compiled.params[name] for name in (compiled.positiontup or [])]
            cursor = conn.connection.dbapi_connection.cursor()
            cursor.arraysize = chunk
            try:
                cursor.execute(str(compiled), params)
                yield iter(cursor.fetchmany, [])
            finally:
                cursor.close()
            return
        result = conn.execution_options(yield_per=chunk).execute(q)
        yield (list(part) for part in result.partitions(chunk))


# --- export: lines built by SQLite ----------------------------------------------------------

# Separators of the lines SQLite builds for export: a text cell follows TEXT_SEP, any other
# cell NUM_SEP, so the caller can find text-cell starts (for the formula guard) with one
# regex over a whole chunk and turn both into commas with str.replace.
TEXT_SEP, NUM_SEP = "\x1f", "\x1d"


@dataclass(frozen=True)
class ExportSql:
    """What the export needs computed in SQL, in plain values (no CSV knowledge here).

    `spans`: [(utc_start_text, offset_seconds, suffix)] ascending, the first starting at
    `window[0]`; a time in `window` gets `local = utc + offset` followed by `suffix`, any other
    (or a non-standard stored form) goes to `local_fallback`. `now_us`: now as UTC
    microseconds since the epoch, for dwell days. `tier_a`/`tier_b`: the cutoffs or None.
    """

    spans: Sequence[tuple[str, int, str]]
    window: tuple[str, str]
    now_us: int
    tier_a: int | None
    tier_b: int | None
    text_columns: frozenset[str]
    time_columns: Sequence[str]
    local_fallback: Any  # str -> str, called by SQLite for the rare odd value
    dwell_fallback: Any  # str -> int | str


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _floor_div(x: str, n: int) -> str:
    """Python's x // n (floor) in SQLite, whose integer division truncates toward zero."""
    return f"(CASE WHEN ({x}) >= 0 THEN ({x}) / {n} ELSE (({x}) - ((({x}) % {n}) + {n}) % {n}) / {n} END)"


def _major(x: str) -> str:
    """Minor units → plain major units exactly like csv_export._plain: '1054' / '12.50'."""
    general = (f"CASE WHEN ({x}) % 100 = 0 THEN ({x}) / 100 "
               f"ELSE printf('%d.%02d', {_floor_div(x, 100)}, ((({x}) % 100) + 100) % 100) END")
    return (f"(CASE WHEN ({x}) >= 0 THEN (CASE WHEN ({x}) % 100 = 0 THEN ({x}) / 100 "
            f"ELSE printf('%d.%02d', ({x}) / 100, ({x}) % 100) END) ELSE ({general}) END)")


def _standard_time(col: str, spec: ExportSql) -> str:
    """The stored UTC text inside the window, "YYYY-MM-DD HH:MM:SS..." (other values go to
    Python). The separator is checked only when there are spans to compare against: the
    leaf turns a "T" form into the same text, and substr() is a costly call per cell."""
    start, end = spec.window
    cond = f"{col} >= {_lit(start)} AND {col} < {_lit(end)} AND length({col}) >= 19"
    return cond + (f" AND substr({col},11,1) = ' '" if len(spec.spans) > 1 else "")


def _local_sql(col: str, spec: ExportSql) -> str:
    def leaf(offset: int, suffix: str) -> str:
        if offset == 0:
            return f"printf({_lit('%.10sT%.8s' + suffix.replace('%', '%%'))},{col},substr({col},12))"
        return f"strftime('%Y-%m-%dT%H:%M:%S',substr({col},1,19),'{offset:+d} seconds')||{_lit(suffix)}"

    def tree(lo: int, hi: int) -> str:  # binary search over the spans: a few comparisons per cell
        if lo == hi:
            return leaf(*spec.spans[lo][1:])
        mid = (lo + hi + 1) // 2
        return f"CASE WHEN {col} < {_lit(spec.spans[mid][0])} THEN {tree(lo, mid - 1)} ELSE {tree(mid, hi)} END"

    return (f"CASE WHEN {_standard_time(col, spec)} THEN {tree(0, len(spec.spans) - 1)} "
            f"WHEN {col} IS NULL OR {col} = '' THEN '' ELSE funnel_export_local({col}) END")


def _dwell_sql(spec: ExportSql) -> str:
    e = "stage_entered_at"
    micros = (f"(CAST(strftime('%s',substr({e},1,19)) AS INTEGER)*1000000"
              f"+CAST(substr({e}||'000000',21,6) AS INTEGER))")
    # int(timedelta / day) truncates toward zero, as SQLite's integer division does.
    return (f"CASE WHEN status = 'open' AND {e} IS NOT NULL THEN ("
            f"CASE WHEN {_standard_time(e, spec)} "
            f"THEN ({spec.now_us} - {micros}) / 86400000000 "
            f"ELSE funnel_export_dwell({e}) END) ELSE '' END")


def export_line_sql(spec: ExportSql) -> str:
    """The SELECT list building one export line per deal: (id, line) in EXPORT_DB_COLUMNS
    order plus weighted_amount, tier, dwell_days; text cells raw (the caller guards and
    quotes them), numbers, times and the export-only columns final."""
    args, fmt = [], []
    for i, name in enumerate(EXPORT_DB_COLUMNS):
        sep = "" if i == 0 else (TEXT_SEP if name in spec.text_columns else NUM_SEP)
        if name in spec.time_columns:
            expr = _local_sql(name, spec)
        elif name == "amount":
            expr = _major("coalesce(amount,0)")
        else:
            expr = name
        fmt.append(sep + "%s")
        args.append(expr)
    weighted = _floor_div("coalesce(amount,0)*coalesce(probability,0)+50", 100)
    tier = "'C'"
    for cutoff, name in ((spec.tier_b, "B"), (spec.tier_a, "A")):
        if cutoff is not None:
            tier = f"CASE WHEN {weighted} > 0 AND {weighted} >= {int(cutoff)} THEN '{name}' ELSE {tier} END"
    tier = f"CASE WHEN status = 'open' THEN {tier} ELSE '' END"
    fmt += [NUM_SEP + "%s"] * 3
    args += [_major(weighted), tier, _dwell_sql(spec)]
    return "printf(" + _lit("".join(fmt)) + ", " + ", ".join(args) + ")"


@contextmanager
def stream_export_lines(
    store: Store,
    spec: ExportSql,
    *,
    owner: str | None = None,
    status: str | Sequence[str] | None = "open",
    stage: str | None = None,
    chunk: int = 10000,
    as_bytes: bool = False,
) -> Iterator[tuple[Iterator[list[tuple[int, str]]], Any]] | None:
    """SQLite only: yield (chunks of (id, line) rows, raw) from one read transaction, where
    raw(ids) gives those deals as stream_deals tuples (for lines the caller cannot split).
    Lines are str, or UTF-8 bytes with `as_bytes`.

    Building the line in SQLite (one printf per row) costs about half of handing 34 values
    per row to Python; yields None on other dialects.
    """
    with store.read() as conn:
        if conn.dialect.name != "sqlite":
            yield None
            return
        line = export_line_sql(spec)
        if as_bytes:
            line = f"CAST({line} AS BLOB)"  # the stored UTF-8 as is: no str objects to build
        q = _export_query(store, owner=owner, status=status, stage=stage,
                          columns=[D.c.id, type_coerce(literal_column(line), String()).label("line")])
        compiled = q.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        params = [compiled.params[name] for name in (compiled.positiontup or [])]
        raw_con = conn.connection.dbapi_connection
        raw_con.create_function("funnel_export_local", 1, spec.local_fallback, deterministic=True)
        raw_con.create_function("funnel_export_dwell", 1, spec.dwell_fallback, deterministic=True)
        cursor = raw_con.cursor()
        cursor.arraysize = chunk

        def raw(ids: Sequence[int]) -> list[tuple]:
            cols = ", ".join(EXPORT_DB_COLUMNS)
            out: list[tuple] = []
            for i in range(0, len(ids), _IN_CHUNK):
                part = list(ids[i:i + _IN_CHUNK])
                out += raw_con.execute(f"SELECT {cols} FROM deal WHERE id IN ({', '.join('?' * len(part))}) "
                                       "ORDER BY id", part).fetchall()
            return out

        try:
            cursor.execute(str(compiled), params)
            yield iter(cursor.fetchmany, []), raw
        finally:
            cursor.close()


def _export_query(store: Store, *, owner, status, stage, columns):
    q = select(*columns).where(D.c.deleted_at.is_(None))
    statuses = (status,) if isinstance(status, str) or status is None else tuple(status)
    if statuses and None not in statuses and "all" not in statuses:
        q = q.where(D.c.status.in_(statuses))
    if stage:
        q = q.where(D.c.stage == store.stage(stage).key)
    if owner:
        q = q.where(D.c.owner == owner)
    return q.order_by(D.c.id)


# --- import: bulk writes -------------------------------------------------------------------

# Columns an import may set on an existing deal (--update); identity and clocks of the
# database itself (id, uid, version, updated_at, deleted_at) are never taken from a file.
UPDATABLE: tuple[str, ...] = (
    "external_id", "customer", "title", "industry", "company_size", "contact_name",
    "contact_role", "contact_phone", "contact_email", "source", "lead_score", "owner",
    "stage", "status", "amount", "currency", "probability", "expected_close", "risk_level",
    "risk_note", "mitigation", "budget", "decision_chain", "pain_points", "competitors",
    "lost_reason", "notes", "created_at", "stage_entered_at", "last_contact_at", "closed_at",
)
_IN_CHUNK = 400  # identities per IN (...) list; far below SQLite's variable limit
BIG_IMPORT = 20_000  # rows from which rebuilding indexes once beats updating them per row
# Indexes a big import keeps up to date instead of rebuilding: they lead with deal_id or the
# import's one action id, so every new entry lands at their end (an append, cheap while the
# writer waits for the reader), and the rebuild after the load, which nothing overlaps, is
# shorter (measured: 0.2 s of ~5 s for 100k rows).
KEPT_DURING_IMPORT = frozenset({"ix_history_deal", "ix_history_path", "ix_history_action", "ix_followup_deal"})


@dataclass(slots=True)
class ImportRow:
    """One validated row: `deal` holds every deal column an insert needs.

    `given` names the columns the file actually carried (only those are applied by an
    update); `follow_up_at` is the open follow-up to create (aware UTC) or None.
    """

    line: int
    deal: dict[str, Any]
    given: frozenset[str]
    follow_up_at: datetime | None = None


@dataclass(slots=True)
class Outcome:
    line: int
    kind: str  # inserted | updated | unchanged | duplicate | rejected
    detail: str = ""
    deal_id: int | None = None


@dataclass
class BulkCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0
    follow_ups: int = 0


class SeenInFile:
    """The file's rows that named a deal (uid or external_id), by line: a later row naming
    the same deal is a duplicate of the first. Used per batch by add() and per chunk by the
    import's reader, so both say the same thing."""

    def __init__(self) -> None:
        self._uid: dict[str, int] = {}
        self._ext: dict[str, int] = {}

    def clear(self) -> None:
        self._uid.clear()
        self._ext.clear()

    def duplicate(self, line: int, uid: str | None, ext: str | None) -> str | None:
        """Why the row on `line` repeats an earlier one, or None (and remember it)."""
        earlier = (uid and self._uid.get(uid)) or (ext and self._ext.get(ext))
        if earlier:
            return f"same deal as line {earlier} of this file"
        if uid:
            self._uid[uid] = line
        if ext:
            self._ext[ext] = line
        return None


class DealImporter:
    """Write batches of ImportRow in one transaction (or only classify them: dry_run).

        with DealImporter(store, now=now, update=False) as imp:
            for batch in batches:
                outcomes = imp.add(batch)
            imp.abort()   # optional: roll everything back on leaving

    New deals are inserted with executemany; duplicates (same uid or external_id as a deal
    in the database, or as an earlier row of the same file) are skipped, or applied with
    `update=True` through the store's own history-keeping update.
    """

    def __init__(self, store: Store, *, now: datetime, update: bool = False, dry_run: bool = False,
                 action: str | None = None, staged: bool = False):
        self.store = store
        # add_staged() copies staged chunks (stage_chunk) in with INSERT … SELECT.
        self.staged = staged and not dry_run and store.engine.dialect.name == "sqlite"
        self.now = now
        self.at = to_db(now)
        self.update = update
        self.dry_run = dry_run
        self.action = action or new_action()
        self.counts = BulkCounts()
        self._stages = {s.key: s for s in store.stages()}
        # Identities seen in the file: per batch, and across batches only in a dry run (a real
        # import finds earlier rows in the database instead, so memory stays flat).
        self._seen = SeenInFile()
        self._first_new_id = 0  # deals with an id from here on were inserted by this import
        self._updated: set[int] = set()
        self._aborted = False
        self._dropped: list[tuple[str, str]] = []
        self._cm = None
        self._scratch_ready = False
        self.conn: Connection | None = None

    def __enter__(self) -> "DealImporter":
        self._cm = self.store.read() if self.dry_run else \
            self.store.write(scratch=STAGE_SCHEMA if self.staged else None)
        self.conn = self._cm.__enter__()
        # Deals are never hard-deleted, so every id above today's maximum is ours.
        self._first_new_id = (self.conn.execute(select(func.max(D.c.id))).scalar() or 0) + 1
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None and (self._aborted or self.dry_run):
            # Leave by raising inside the transaction so it rolls back, then swallow it.
            try:
                self._cm.__exit__(_Rollback, _Rollback(), None)
            except _Rollback:
                pass
            return False
        if exc_type is None:
            try:
                self._rebuild_indexes()
            except BaseException as err:  # the transaction rolls back, indexes and all
                self._cm.__exit__(type(err), err, err.__traceback__)
                raise
        return bool(self._cm.__exit__(exc_type, exc, tb))

    # -- big imports: rebuild secondary indexes once instead of updating them per row -----

    def expect(self, rows: int) -> bool:
        """Told roughly how many rows are coming: a big import into a smaller table drops the
        non-unique indexes of deal/history/followup now and rebuilds them before commit.

        SQLite's DDL is transactional, so a rollback (abort, crash, error) restores them;
        sorting once is much cheaper than updating ten indexes per row. Unique indexes (uid,
        external_id) stay: duplicate detection needs them; so do KEPT_DURING_IMPORT. Returns
        True when it dropped any.
        """
        if self.dry_run or self._dropped or self.conn.dialect.name != "sqlite" or rows < BIG_IMPORT:
            return False
        existing = self.conn.execute(select(func.count()).select_from(D)).scalar() or 0
        if rows < existing:
            return False
        found = self.conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('deal', 'history', 'followup')").all()
        self._dropped = [(n, q) for n, q in found
                         if not q.upper().startswith("CREATE UNIQUE") and n not in KEPT_DURING_IMPORT]
        for name, _ in self._dropped:
            self.conn.exec_driver_sql(f'DROP INDEX "{name}"')
        return bool(self._dropped)

    def _rebuild_indexes(self) -> None:
        for _, sql in self._dropped:
            self.conn.exec_driver_sql(sql)
        self._dropped = []

    def abort(self) -> None:
        """Roll back everything on leaving the `with` block."""
        self._aborted = True

    # -- per batch --------------------------------------------------------------------

    def _existing(self, uids: list[str], exts: list[str]) -> tuple[dict[str, dict], dict[str, dict]]:
        cols = [D.c[c] for c in ("id", "uid", "external_id", "deleted_at", "version", "probability_custom",
                                 *[c for c in UPDATABLE if c != "external_id"])]
        by_uid: dict[str, dict] = {}
        by_ext: dict[str, dict] = {}
        for i in range(0, max(len(uids), len(exts)), _IN_CHUNK):
            conds = []
            if uids[i:i + _IN_CHUNK]:
                conds.append(D.c.uid.in_(uids[i:i + _IN_CHUNK]))
            if exts[i:i + _IN_CHUNK]:
                conds.append(D.c.external_id.in_(exts[i:i + _IN_CHUNK]))
            for r in self.conn.execute(select(*cols).where(or_(*conds))).mappings():
                row = dict(r)
                by_uid[row["uid"]] = row
                if row["external_id"]:
                    by_ext[row["external_id"]] = row
        return by_uid, by_ext

    def add(self, batch: Sequence[ImportRow]) -> list[Outcome]:
        """Classify and (unless dry-run) write one batch; returns one Outcome per row."""
        uids = [r.deal["uid"] for r in batch if r.deal.get("uid")]
        exts = [r.deal["external_id"] for r in batch if r.deal.get("external_id")]
        by_uid, by_ext = self._existing(uids, exts) if (uids or exts) else ({}, {})
        outcomes: list[Outcome] = []
        new: list[ImportRow] = []
        if not self.dry_run:
            self._seen.clear()
        for row in batch:
            uid, ext = row.deal.get("uid"), row.deal.get("external_id")
            repeat = self._seen.duplicate(row.line, uid, ext)
            if repeat:
                self.counts.duplicates += 1
                outcomes.append(Outcome(row.line, "duplicate", repeat))
                continue
            m_uid = by_uid.get(uid) if uid else None
            m_ext = by_ext.get(ext) if ext else None
            if m_uid and m_ext and m_uid["id"] != m_ext["id"]:
                self.counts.rejected += 1
                outcomes.append(Outcome(row.line, "rejected",
                                        f"uid matches deal {m_uid['id']} but external_id matches deal {m_ext['id']}"))
                continue
            match = m_uid or m_ext
            if match is None:
                new.append(row)
                continue
            if match["id"] >= self._first_new_id or match["id"] in self._updated:
                self.counts.duplicates += 1
                outcomes.append(Outcome(row.line, "duplicate",
                                        f"same deal as an earlier row of this file (deal {match['id']})", match["id"]))
                continue
            if match["deleted_at"] is not None:
                self.counts.duplicates += 1
                outcomes.append(Outcome(row.line, "duplicate",
                                        f"deal {match['id']} (deleted; `funnel restore {match['id']}` first)",
                                        match["id"]))
                continue
            if not self.update:
                self.counts.duplicates += 1
                outcomes.append(Outcome(row.line, "duplicate", f"already deal {match['id']}", match["id"]))
                continue
            outcomes.append(self._update(match, row))
        outcomes.extend(self._insert(new))
        return outcomes

    def add_staged(self, data: "StagedChunk",
                   reparse: Callable[[list[tuple[int, list[str]]]], list[ImportRow | Outcome]]) -> list[Outcome]:
        """Write one chunk made by stage_chunk(): its rows are validated, complete and in
        their stored form, so they go into a scratch table in one executemany and SQLite
        copies them in with INSERT … SELECT, constant columns as bound values.

        Rows carrying a uid or external_id that the database already has go the way of
        add() (duplicate, or --update): `reparse([(line, cells), …])` turns their cells back
        into ImportRows (or rejections), all at once. Returns the outcomes of every row not simply
        inserted; inserted rows are counted in `counts`.
        """
        conn = self.conn
        raw = conn.connection.dbapi_connection
        st = STAGE_SCHEMA
        if not self._scratch_ready:
            raw.execute(f"CREATE TABLE {st}.d (id INTEGER, line, cells, follow_up_at, {', '.join(STAGED_COLUMNS)})")
            self._scratch_ready = True
        raw.execute(f"DELETE FROM {st}.d")
        names = list(data.columns)
        raw.executemany(f"INSERT INTO {st}.d ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                        zip(*data.columns.values()))
        const = data.const

        def col(name: str) -> str:  # a staged column, or its one value as a bound parameter
            return f":{name}" if name in const else name

        outcomes: list[Outcome] = []
        if const.get("cells", "") is not None:
            # Qualified: inside EXISTS a bare external_id would be main.deal's own column.
            ext = ":external_id" if "external_id" in const else "s.external_id"
            known = raw.execute(
                f"SELECT s.line, s.cells FROM {st}.d AS s WHERE s.cells IS NOT NULL AND ("
                f"EXISTS (SELECT 1 FROM main.deal AS m WHERE m.uid = s.uid) OR ({ext} IS NOT NULL AND "
                f"EXISTS (SELECT 1 FROM main.deal AS m WHERE m.external_id = {ext})))", const).fetchall()
        else:
            known = []
        if known:
            again: list[ImportRow] = []
            for row in reparse([(line, marshal.loads(cells)) for line, cells in known]):
                if isinstance(row, Outcome):
                    self.counts.rejected += 1
                    outcomes.append(row)
                else:
                    again.append(row)
            outcomes += self.add(again)
            for i in range(0, len(known), _IN_CHUNK):
                part = [line for line, _ in known[i:i + _IN_CHUNK]]
                raw.execute(f"DELETE FROM {st}.d WHERE line IN ({', '.join('?' * len(part))})", part)
        # New ids in line order from max + 1 (nobody else inserts inside our BEGIN IMMEDIATE).
        first = (raw.execute("SELECT max(id) FROM main.deal").fetchone()[0] or 0) + 1
        raw.execute(f"UPDATE {st}.d SET id = ? + rowid - 1", (first,))
        if known:  # rows were taken out: close the gaps
            raw.execute(f"UPDATE {st}.d SET id = ? + r.k - 1 FROM (SELECT line, row_number() OVER (ORDER BY line) "
                        f"AS k FROM {st}.d) AS r WHERE r.line = d.line", (first,))
        params = {**const, "at": _sqlite_value(self.at), "action": self.action}
        cols = ", ".join(STAGED_COLUMNS)
        raw.execute(f"INSERT INTO main.deal (id, {cols}, updated_at, version, next_follow_up_at, deleted_at) "
                    f"SELECT id, {', '.join(col(c) for c in STAGED_COLUMNS)}, :at, 1, "
                    f"CASE WHEN {col('status')} = 'open' THEN {col('follow_up_at')} END, NULL "
                    f"FROM {st}.d ORDER BY id", params)
        inserted = raw.execute("SELECT changes()").fetchone()[0]
        # The same history and follow-up rows _insert() writes, per deal in id order.
        raw.execute("INSERT INTO main.history (deal_id, at, kind, from_stage, to_stage, field, old, new, action) "
                    f"SELECT id, {col('stage_entered_at')}, 'imported', NULL, {col('stage')}, NULL, NULL, NULL, "
                    f":action FROM {st}.d ORDER BY id", params)
        # field stays NULL: undo soft-deletes the deal instead of reopening it.
        raw.execute("INSERT INTO main.history (deal_id, at, kind, from_stage, to_stage, field, old, new, action) "
                    f"SELECT id, {col('closed_at')}, {col('status')}, NULL, NULL, NULL, 'open', {col('status')}, "
                    f":action FROM {st}.d WHERE {col('status')} <> 'open' ORDER BY id", params)
        raw.execute("INSERT INTO main.followup (deal_id, kind, due_at, note, status, created_at, done_at) "
                    f"SELECT id, 'call', {col('follow_up_at')}, '', 'open', :at, NULL FROM {st}.d "
                    f"WHERE {col('status')} = 'open' AND {col('follow_up_at')} IS NOT NULL ORDER BY id", params)
        self.counts.follow_ups += raw.execute("SELECT changes()").fetchone()[0]
        self.counts.inserted += inserted
        return outcomes

    def _insert(self, rows: list[ImportRow]) -> list[Outcome]:
        if not rows:
            return []
        deals = []
        fresh = iter(new_uids(sum(1 for r in rows if not r.deal.get("uid"))))
        for r in rows:
            d = r.deal  # completed in place: the row is not used again
            d["uid"] = d.get("uid") or next(fresh)
            d["updated_at"] = self.at
            d["version"] = 1
            d["next_follow_up_at"] = r.follow_up_at if d["status"] == "open" else None
            deals.append(d)
        if self.dry_run:
            self.counts.inserted += len(rows)
            self.counts.follow_ups += sum(1 for d in deals if d["next_follow_up_at"] is not None)
            return [Outcome(r.line, "inserted") for r in rows]
        self._executemany(D, deals)
        ids = self._new_ids(deals)
        history: list[dict] = []
        follow_ups: list[dict] = []
        for deal_id, d in zip(ids, deals):
            history.append({"deal_id": deal_id, "at": d["stage_entered_at"], "kind": "imported",
                            "from_stage": None, "to_stage": d["stage"], "field": None, "old": None,
                            "new": None, "action": self.action})
            if d["status"] != "open":
                # field stays None: undo soft-deletes the deal instead of reopening it.
                history.append({"deal_id": deal_id, "at": d["closed_at"], "kind": d["status"],
                                "from_stage": None, "to_stage": None, "field": None, "old": "open",
                                "new": d["status"], "action": self.action})
            if d["next_follow_up_at"] is not None:
                follow_ups.append({"deal_id": deal_id, "kind": "call", "due_at": d["next_follow_up_at"],
                                   "note": "", "status": "open", "created_at": self.at, "done_at": None})
        self._executemany(H, history)
        if follow_ups:
            self._executemany(F, follow_ups)
        self.counts.inserted += len(ids)
        self.counts.follow_ups += len(follow_ups)
        return [Outcome(r.line, "inserted", deal_id=i) for r, i in zip(rows, ids)]

    def _new_ids(self, deals: list[dict]) -> list[int]:
        """The ids just given to `deals`, in order.

        Inside our BEGIN IMMEDIATE nobody else inserts, and SQLite numbers new rows max+1,
        so one executemany gets consecutive ids ending at last_insert_rowid(); checked by
        uid at both ends, else looked up by uid.
        """
        if self.conn.dialect.name == "sqlite":
            last = self.conn.exec_driver_sql("SELECT last_insert_rowid()").scalar()
            first = last - len(deals) + 1
            got = {i: u for i, u in self.conn.execute(select(D.c.id, D.c.uid).where(D.c.id.in_([first, last])))}
            if got.get(first) == deals[0]["uid"] and got.get(last) == deals[-1]["uid"]:
                count = self.conn.execute(select(func.count()).select_from(D).where(
                    and_(D.c.id >= first, D.c.id <= last))).scalar()
                if count == len(deals):
                    return list(range(first, last + 1))
        uids = [d["uid"] for d in deals]
        id_of: dict[str, int] = {}
        for i in range(0, len(uids), _IN_CHUNK):
            part = uids[i:i + _IN_CHUNK]
            id_of.update((u, n) for u, n in self.conn.execute(select(D.c.uid, D.c.id).where(D.c.uid.in_(part))))
        return [id_of[u] for u in uids]

    def _executemany(self, table, rows: list[dict]) -> None:
        """INSERT many rows: straight to the sqlite3 driver with values already in their
        stored form (SQLAlchemy's per-value type processing costs more than SQLite itself);
        through Core elsewhere."""
        if not rows:
            return
        if self.conn.dialect.name != "sqlite":
            self.conn.execute(insert(table), rows)
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
                    values[i] = _UTC_TEXT % (v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond)
                else:
                    values[i] = _sqlite_value(v)
            data.append(tuple(values))
        self.conn.exec_driver_sql(sql, data)

    def _update(self, existing: dict, row: ImportRow) -> Outcome:
        """Apply the file's columns to an existing deal (history-tracked, undoable)."""
        d = row.deal
        changes = {c: d[c] for c in row.given if c in UPDATABLE and c in d and _differs(existing.get(c), d[c])}
        if "probability" not in row.given and "stage" in changes and not existing["probability_custom"]:
            changes["probability"] = d["probability"]
        if "probability" in changes:
            changes["probability_custom"] = "probability" in row.given
        if "stage" in changes and "stage_entered_at" not in row.given:
            changes["stage_entered_at"] = self.at
        status = changes.get("status", existing["status"])
        if "status" in changes:
            if status == "open":
                changes["closed_at"] = None
            elif "closed_at" not in row.given or d.get("closed_at") is None:
                changes["closed_at"] = d.get("closed_at") or self.at
        if status == "lost" and not changes.get("lost_reason", existing["lost_reason"]):
            self.counts.rejected += 1
            return Outcome(row.line, "rejected", "lost_reason: is required when status is lost", existing["id"])
        changes = {k: v for k, v in changes.items() if existing.get(k) != v}
        want_follow_up = row.follow_up_at is not None and status == "open"
        if want_follow_up:
            due = to_db(row.follow_up_at)  # files carry times to the second
            have = self.conn.execute(select(func.count()).select_from(F).where(and_(
                F.c.deal_id == existing["id"], F.c.status == "open",
                F.c.due_at >= due, F.c.due_at < due + timedelta(seconds=1),
            ))).scalar()
            want_follow_up = not have
        if not changes and not want_follow_up:
            self.counts.unchanged += 1
            return Outcome(row.line, "unchanged", f"deal {existing['id']} already has these values", existing["id"])
        self.counts.updated += 1
        self._updated.add(existing["id"])
        if self.dry_run:
            return Outcome(row.line, "updated", ", ".join(sorted(changes)), existing["id"])
        store, conn = self.store, self.conn
        deal = dict(store._deal_row(conn, existing["id"]))
        kinds: dict[str, str] = {}
        if "status" in changes:
            kinds["status"] = "reopened" if status == "open" else status
        store._apply(conn, deal, changes, now=self.now, action=self.action, kind_for=kinds)
        if changes.get("status") in ("won", "lost"):
            store._close_follow_ups(conn, existing["id"], now=self.now, action=self.action)
        if want_follow_up:
            store.add_follow_up(FollowUpDraft(existing["id"], row.follow_up_at), now=self.now,
                                action=self.action, conn=conn)
            self.counts.follow_ups += 1
        return Outcome(row.line, "updated", ", ".join(sorted(changes)), existing["id"])


def _differs(old: Any, new: Any) -> bool:
    """A file's value differs from the stored one (files carry times to the second)."""
    if isinstance(old, datetime) and isinstance(new, datetime):
        old = old if old.tzinfo else old.replace(tzinfo=timezone.utc)
        return old.replace(microsecond=0) != new.replace(microsecond=0)
    return old != new


# SQLAlchemy's stored form of a UTC datetime in SQLite; %-formatting is faster than isoformat.
_UTC_TEXT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


def new_uids(n: int) -> list[str]:
    """n new time-ordered UUIDs (version 7, RFC 9562) as text, ascending.

    48 bits of Unix milliseconds, then 74 random bits (one urandom call), sorted: a big
    import then appends to the uid index instead of writing all over it (random version-4
    uids cost SQLite a B-tree descent to a different page per deal). The clock only orders
    identifiers here; no rule of the product reads it.
    """
    if n <= 0:
        return []
    prefix = f"{time.time_ns() // 1_000_000 & 0xFFFF_FFFF_FFFF:012x}"
    raw = os.urandom(10 * n).hex()
    variant = "89ab89ab89ab89ab"  # the first hex digit of the 4th group: 10xx
    return sorted(f"{prefix[:8]}-{prefix[8:]}-7{t[1:4]}-{variant[int(t[4], 16)]}{t[5:8]}-{t[8:]}"
                  for t in (raw[i:i + 20] for i in range(0, 20 * n, 20)))


# --- import: staged chunks --------------------------------------------------------------------

STAGE_SCHEMA = "import_stage"  # the in-memory schema an import attaches (Store.write(scratch=…))
# What a validated import row (csv_import.RowParser) gives for a new deal, in table order;
# id, updated_at, version, next_follow_up_at and deleted_at are the importer's to set.
STAGED_COLUMNS: tuple[str, ...] = tuple(
    c for c in D.columns.keys() if c not in ("id", "updated_at", "version", "next_follow_up_at", "deleted_at"))
_STAGED_TIMES = frozenset(c for c in STAGED_COLUMNS if c in DATETIME_COLUMNS)


@dataclass(slots=True)
class StagedChunk:
    """Validated new-deal rows in their stored form, column by column, for add_staged():
    `columns` holds the columns whose values vary (line and uid always), `const` the
    columns with one value throughout (an empty notes column, one currency). Plain lists
    and values, so a forked reader can pickle it to the writer cheaply."""

    columns: dict[str, list[Any]]
    const: dict[str, Any]

    def __len__(self) -> int:
        return len(self.columns["line"])


def stage_chunk(lines: Sequence[int], columns: Mapping[str, Sequence[Any]], follow: Sequence[Any],
                cells: Sequence[bytes | None]) -> StagedChunk:
    """Validated rows, given as columns (`columns[name][k]` for each of STAGED_COLUMNS, the
    follow-up due, the marshalled cells of rows that carry a uid or external_id, else
    None), converted to their stored form (UTC text, ISO dates, ints). Rows without a uid
    get a new one here. No database is touched: the forked reader runs this."""
    n = len(lines)
    uids = list(columns["uid"])
    missing = [k for k, u in enumerate(uids) if not u]
    for k, u in zip(missing, new_uids(len(missing))):
        uids[k] = u
    values: dict[str, Sequence[Any]] = {"line": list(lines), "cells": cells, "follow_up_at": follow,
                                        **{c: columns[c] for c in STAGED_COLUMNS}, "uid": uids}
    varying: dict[str, list[Any]] = {}
    const: dict[str, Any] = {}
    utc = timezone.utc
    for name, col in values.items():
        first = col[0] if n else None
        # cells stays a column unless empty throughout: the writer reads it row by row.
        single = name not in ("line", "uid") and (not n or col.count(first) == n) and \
            (name != "cells" or first is None)
        if single:
            col = [first]
        if name in _STAGED_TIMES or name == "follow_up_at":
            # Stored form: UTC text with microseconds ("2026-01-02 03:04:05.000000").
            col = [v if v is None else v.isoformat(" ", "microseconds")[:26] if v.tzinfo is utc
                   else _sqlite_value(v) for v in col]
        elif name == "expected_close":
            col = [v if v is None else v.isoformat() for v in col]
        if single:
            const[name] = int(col[0]) if isinstance(col[0], bool) else col[0]
        else:
            varying[name] = col if isinstance(col, list) else list(col)
    return StagedChunk(varying, const)


def _sqlite_value(v: Any) -> Any:
    """A value as SQLAlchemy stores it in SQLite (UTC text for times, ISO for dates)."""
    if v.__class__ is datetime:
        if v.tzinfo is not timezone.utc:
            v = v.astimezone(timezone.utc)
        return v.isoformat(" ", "microseconds")[:26]
    if isinstance(v, datetime):
        if v.tzinfo is not timezone.utc:
            v = v.astimezone(timezone.utc)
        return v.isoformat(" ", "microseconds")[:26]  # without the "+00:00"
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, bool):
        return int(v)
    return v


class _Rollback(Exception):
    """Raised into the transaction's context manager to roll it back."""


__all__ = [
    "BulkCounts", "DealImporter", "EXPORT_DB_COLUMNS", "ImportRow", "Outcome", "SeenInFile", "StoreError",
    "UPDATABLE", "stream_deals",
]
