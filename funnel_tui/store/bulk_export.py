"""The export half of bulk work: every deal streamed in flat memory from one read.

Plain column tuples in chunks (`deal_chunks`), or, on SQLite, whole CSV lines built by
SQLite itself (`export_lines`, from an ExportSql the exporter computes). No ORM objects,
no CSV knowledge here (exchange/csv_export.py writes the file). Both run inside the
caller's read transaction (Store.stream_deals, Store.stream_export_lines), a consistent
snapshot.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from sqlalchemy import Integer, String, bindparam, literal_column, select, type_coerce
from sqlalchemy.engine import Connection

from funnel_tui.domain.vocab import DEAL_COLUMNS
from funnel_tui.store.reads import chosen_deals
from funnel_tui.store.tables import DATETIME_COLUMNS, IN_CHUNK, D, weighted_sql

EXPORT_DB_COLUMNS: tuple[str, ...] = DEAL_COLUMNS  # the documented columns, in order


@contextmanager
def deal_chunks(
    conn: Connection,
    *,
    owner: str | None = None,
    status: str | Sequence[str] | None = "open",
    stage_key: str | None = None,
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
    q = _export_query(owner=owner, status=status, stage_key=stage_key, columns=cols)
    if conn.dialect.name == "sqlite":
        # Plain driver tuples, same transaction: SQLAlchemy's Row objects cost more per row
        # than SQLite takes to produce it.
        with _fetching(conn.connection.dbapi_connection, *_compiled(conn, q), chunk) as chunks:
            yield chunks
        return
    result = conn.execution_options(yield_per=chunk).execute(q)
    yield (list(part) for part in result.partitions(chunk))


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
    tier_case: str | None = None  # amount tiering: the tier as SQL (store.today.amount_tier_sql)


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
    # int(timedelta / day) truncates toward zero, as SQLite's integer division does; a clock
    # behind the stage entry gives 0, never a negative dwell.
    return (f"CASE WHEN status = 'open' AND {e} IS NOT NULL THEN ("
            f"CASE WHEN {_standard_time(e, spec)} "
            f"THEN max({spec.now_us} - {micros}, 0) / 86400000000 "
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
    weighted = weighted_sql()
    tier = "'C'"
    for cutoff, name in ((spec.tier_b, "B"), (spec.tier_a, "A")):
        if cutoff is not None:
            tier = f"CASE WHEN {weighted} > 0 AND {weighted} >= {int(cutoff)} THEN '{name}' ELSE {tier} END"
    if spec.tier_case is not None:  # amount tiers; a currency without a rate: '?'
        tier = f"coalesce({spec.tier_case}, '?')"
    tier = f"CASE WHEN status = 'open' THEN {tier} ELSE '' END"
    fmt += [NUM_SEP + "%s"] * 3
    args += [_major(weighted), tier, _dwell_sql(spec)]
    return "printf(" + _lit("".join(fmt)) + ", " + ", ".join(args) + ")"


@contextmanager
def export_lines(
    conn: Connection,
    spec: ExportSql,
    *,
    owner: str | None = None,
    status: str | Sequence[str] | None = "open",
    stage_key: str | None = None,
    chunk: int = 10000,
    as_bytes: bool = False,
) -> Iterator[tuple[Iterator[tuple[int, Any, Any]], Any]]:
    """SQLite only: yield (chunks, raw). Each chunk is (k, joined, lines): k deals' lines
    joined with LINE_SEP in id order, and lines() giving them as (id, line) rows (for a
    chunk the caller cannot take whole). raw(ids) gives deals as deal_chunks tuples (for
    lines the caller cannot split). Lines are str, or UTF-8 bytes with `as_bytes`.

    Building the line in SQLite (one printf per row) costs about half of handing 34 values
    per row to Python; joining a chunk's lines there too (group_concat over the next
    `chunk` ids) saves a Python row, id and string per deal.
    """
    line = export_line_sql(spec)
    cast = (lambda sql: f"CAST({sql} AS BLOB)") if as_bytes else (lambda sql: sql)  # the stored UTF-8 as is
    cols = [D.c.id, type_coerce(literal_column(cast(line)), String()).label("line")]
    after = D.c.id > bindparam("after", 0, type_=Integer())
    page = _export_query(owner=owner, status=status, stage_key=stage_key, columns=cols).where(after).limit(chunk)
    span = _export_query(owner=owner, status=status, stage_key=stage_key, columns=cols).where(after).where(
        D.c.id <= bindparam("upto", 0, type_=Integer()))
    page_sql, page_params = _compiled_named(conn, page)
    # The subquery keeps its ORDER BY id ... LIMIT (SQLite never flattens a LIMIT subquery
    # into an aggregate), so group_concat sees the lines in id order.
    joined_sql = (f"SELECT count(*), max(id), {cast(f'group_concat(line, char({ord(LINE_SEP)}))')} "
                  f"FROM ({page_sql})")
    span_sql, span_params = _compiled_named(conn, span)
    raw_con = conn.connection.dbapi_connection
    raw_con.create_function("funnel_export_local", 1, spec.local_fallback, deterministic=True)
    raw_con.create_function("funnel_export_dwell", 1, spec.dwell_fallback, deterministic=True)

    def raw(ids: Sequence[int]) -> list[tuple]:
        cols = ", ".join(EXPORT_DB_COLUMNS)
        out: list[tuple] = []
        for i in range(0, len(ids), IN_CHUNK):
            part = list(ids[i:i + IN_CHUNK])
            out += raw_con.execute(f"SELECT {cols} FROM deal WHERE id IN ({', '.join('?' * len(part))}) "
                                   "ORDER BY id", part).fetchall()
        return out

    def lines_of(lo: int, hi: int):
        return lambda: raw_con.execute(span_sql, span_params(after=lo, upto=hi)).fetchall()

    def chunks() -> Iterator[tuple[int, Any, Any]]:
        last = -(1 << 63)
        while True:
            k, top, joined = raw_con.execute(joined_sql, page_params(after=last)).fetchone()
            if not k:
                return
            yield k, joined, lines_of(last, top)
            last = top

    yield chunks(), raw


# Between the lines of one chunk (export_lines); never stored in a cell either.
LINE_SEP = "\x1e"


def _compiled_named(conn: Connection, q):
    """The statement as SQLite's driver takes it, and a function giving its positional
    parameters with the named bind parameters filled in."""
    compiled = q.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    names = list(compiled.positiontup or [])
    fixed = dict(compiled.params)

    def params(**given: Any) -> list:
        return [given[n] if n in given else fixed[n] for n in names]

    return str(compiled), params


def _export_query(*, owner, status, stage_key, columns):
    return chosen_deals(select(*columns), status=status, stage_key=stage_key, owner=owner)


def _compiled(conn: Connection, q) -> tuple[str, list]:
    """The statement as SQLite's driver takes it: text and positional parameters."""
    compiled = q.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    return str(compiled), [compiled.params[name] for name in (compiled.positiontup or [])]


@contextmanager
def _fetching(raw_con, sql: str, params: list, chunk: int) -> Iterator[Iterator[list[tuple]]]:
    """Plain driver tuples in chunks of `chunk` rows, inside the caller's transaction."""
    cursor = raw_con.cursor()
    cursor.arraysize = chunk
    try:
        cursor.execute(sql, params)
        yield iter(cursor.fetchmany, [])
    finally:
        cursor.close()
