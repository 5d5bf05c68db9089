"""CSV export for the team lead: opens cleanly in Excel, runs no formula, streams any size.

- Columns: CSV_COLUMNS + EXPORT_ONLY (DESIGN §6), the same values `deal_record` gives.
- UTF-8 with BOM by default (Excel needs it to read Chinese), CRLF, ISO dates with the
  local offset, plain major-unit numbers.
- OWASP CSV-injection guard: a text cell starting with = + - @ tab CR (or full-width
  ＝＋－＠) gets a leading apostrophe. A text cell that already starts with apostrophes
  followed by a trigger gets one more, so import can undo the guard exactly.
- Atomic (temp file in the same folder, fsync, rename), 0600, never over the database,
  its -wal/-shm or its backups.
- Strict encodings: a character the chosen encoding cannot hold is reported with its row
  and column, never replaced with "?".
- Rows are streamed from the store in chunks and formatted here without building
  datetimes per cell more than once, so memory stays flat at any pipeline size.
"""

from __future__ import annotations

import csv
import io
import os
import re
import sys
from dataclasses import dataclass
from operator import itemgetter
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from funnel_tui.domain.money import weighted_minor
from funnel_tui.domain.rules import TierCutoffs
from funnel_tui.exchange.columns import CSV_COLUMNS, EXPORT_ONLY, TIME_COLUMNS

EXPORT_COLUMNS: tuple[str, ...] = CSV_COLUMNS + EXPORT_ONLY
ENCODINGS = ("utf-8-sig", "utf-8", "gb18030", "gbk")
# Columns that are numbers: written as numbers, never guarded.
NUMERIC_COLUMNS = frozenset({"id", "lead_score", "amount", "probability", "weighted_amount", "dwell_days"})
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
# A text cell (joined with \x1f, which clean_text never stores) that may need the guard.
_FIRST = frozenset("'=+-@\t\r＝＋－＠")
_SUSPECT = re.compile("(?:^|\x1f)[='+\\-@\t\r＝＋－＠]")
UTC = timezone.utc


class ExportError(Exception):
    """A user-facing refusal; no file was written."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path | None  # None when written to stdout
    rows: int
    encoding: str = "utf-8-sig"


# --- the formula guard (import undoes it with `unguard`) -------------------------------------


def needs_guard(text: str) -> bool:
    """True when a spreadsheet could read `text` as a formula (or it is an already-guarded one)."""
    return bool(text) and text.lstrip("'").startswith(FORMULA_TRIGGERS)


def guard(text: str) -> str:
    return "'" + text if needs_guard(text) else text


def unguard(text: str) -> str:
    """Inverse of `guard`: drop the one apostrophe it added (apostrophes then a trigger)."""
    if text.startswith("'") and needs_guard(text):
        return text[1:]
    return text


# --- fast formatting --------------------------------------------------------------------------


def _plain(minor: int) -> str:
    """format_plain without Decimal: '1054' / '12.50'."""
    whole, cents = divmod(minor, 100)
    return str(whole) if cents == 0 else f"{whole}.{cents:02d}"


class _LocalTime:
    """UTC text or datetime → ISO local with offset, exactly like `iso_local`, but fast.

    Per UTC hour the zone's offset is looked up once (and checked at both ends of the hour,
    so a transition inside it falls back to the exact conversion). With a whole-hour offset
    the stored text "YYYY-MM-DD HH:MM:SS.ffffff" needs only the hour part rewritten, so
    most cells are a string concatenation.
    """

    def __init__(self, tz: tzinfo):
        self.tz = tz
        # UTC hour "YYYY-MM-DD HH" -> (local "YYYY-MM-DDTHH" or None, offset suffix, timezone or None)
        self._hours: dict[str, tuple[str | None, str, timezone | None]] = {}

    def _hour(self, key: str) -> tuple[str | None, str, timezone | None]:
        start = datetime.fromisoformat(key + ":00:00").replace(tzinfo=UTC)
        a = start.astimezone(self.tz).utcoffset()
        b = (start + timedelta(minutes=59, seconds=59)).astimezone(self.tz).utcoffset()
        if a != b:
            entry: tuple = (None, "", None)
        else:
            off = timezone(a)
            local = (start + a).replace(tzinfo=off)
            suffix = local.isoformat()[19:]
            whole_hour = a % timedelta(hours=1) == timedelta(0)
            entry = (local.isoformat()[:13] if whole_hour else None, suffix, off)
        if len(self._hours) > 100_000:
            self._hours.clear()
        self._hours[key] = entry
        return entry

    def __call__(self, value: Any) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, str) and len(value) >= 19 and value[10] == " ":
            key = value[:13]
            entry = self._hours.get(key) or self._hour(key)
            if entry[0] is not None:
                return entry[0] + value[13:19] + entry[1]
            naive = datetime.fromisoformat(value[:19])
        elif isinstance(value, str):
            naive = datetime.fromisoformat(value).replace(microsecond=0)
        else:
            naive = (value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value).replace(microsecond=0)
        entry = self._hours.get(naive.isoformat(" ")[:13]) or self._hour(naive.isoformat(" ")[:13])
        off = entry[2]
        if off is None:
            return naive.replace(tzinfo=UTC).astimezone(self.tz).isoformat()
        return (naive + off.utcoffset(None)).replace(tzinfo=off).isoformat()


def _naive_utc(value: Any) -> datetime:
    if isinstance(value, str):
        return datetime.fromisoformat(value)  # stored UTC text carries no offset
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _formatter(*, now: datetime, tz: tzinfo, tiers: TierCutoffs) -> Callable[[Sequence[Any]], list]:
    """Build the row → cells function for rows in bulk.EXPORT_DB_COLUMNS order."""
    local = _LocalTime(tz)
    now_naive = now.astimezone(UTC).replace(tzinfo=None)
    index = {c: i for i, c in enumerate(CSV_COLUMNS)}
    time_idx = [index[c] for c in TIME_COLUMNS]
    text_idx = [i for c, i in index.items() if c not in NUMERIC_COLUMNS and c not in TIME_COLUMNS
                and c != "expected_close"]
    i_id, i_amount, i_prob = index["id"], index["amount"], index["probability"]
    i_status, i_entered, i_close = index["status"], index["stage_entered_at"], index["expected_close"]
    i_lead = index["lead_score"]
    day = timedelta(days=1)

    texts = itemgetter(*text_idx)
    hours = local._hours  # the converter's per-hour table, read inline for speed

    def fmt(row: Sequence[Any]) -> list:
        # None is written as "" by the csv module, so only the formula guard touches text;
        # one regex over the joined text cells finds the rare row that needs it.
        cells = list(row)
        entered = cells[i_entered]
        if _SUSPECT.search("\x1f".join(map(str, texts(row)))):
            for i in text_idx:
                v = cells[i]
                if v and v[0] in _FIRST and needs_guard(v):
                    cells[i] = "'" + v
        for i in time_idx:
            v = cells[i]
            if v:
                entry = hours.get(v[:13]) if v.__class__ is str and v[10:11] == " " else None
                cells[i] = entry[0] + v[13:19] + entry[1] if entry and entry[0] else local(v)
        close = cells[i_close]
        if close is not None and not isinstance(close, str):
            cells[i_close] = close.isoformat()
        amount = row[i_amount] or 0
        prob = row[i_prob] or 0
        cells[i_amount] = _plain(amount)
        dwell = ""
        if row[i_status] == "open" and entered is not None:
            dwell = int((now_naive - _naive_utc(entered)) / day)
        weighted = weighted_minor(amount, prob)
        tier = tiers.tier(weighted) if row[i_status] == "open" else ""
        cells.extend((_plain(weighted), tier, dwell))
        return cells

    return fmt


# --- lines built by SQLite (the fast path on SQLite) -------------------------------------------

_EPOCH = datetime(1970, 1, 1)
SQL_WINDOW = (datetime(1970, 1, 1), datetime(2100, 1, 1))  # times outside go through _LocalTime
# Where a text cell that needs_guard starts: a literal replacement keeps re.sub in C.
_GUARD_AT = re.compile("\x1f(?='*[=+\\-@\t\r＝＋－＠])")
_QUOTE_NEEDED = re.compile('[,"\n\r]')  # what makes the csv module quote a cell
_ANY_SEP = re.compile("[\x1d\x1f]")


def _suffix(offset: timedelta) -> str:
    return datetime(2000, 1, 1, tzinfo=timezone(offset)).isoformat()[19:]


def offset_spans(tz: tzinfo, start: datetime = SQL_WINDOW[0], end: datetime = SQL_WINDOW[1]
                 ) -> list[tuple[str, int, str]] | None:
    """The zone's UTC offsets over [start, end) as (utc start "YYYY-MM-DD HH:MM:SS", offset
    seconds, ISO suffix) spans, for SQLite to convert times in a few comparisons.

    Sampled daily, each change located to the second by bisection (zone changes happen on
    whole seconds, never twice within a day). None when an offset is not whole seconds.
    """
    def off(t: datetime) -> timedelta:
        return t.replace(tzinfo=UTC).astimezone(tz).utcoffset()

    cur, cur_off = start, off(start)
    changes = [(cur, cur_off)]
    if not isinstance(tz, timezone):  # a fixed offset never changes
        day, second = timedelta(days=1), timedelta(seconds=1)
        t = start
        while t < end:
            nxt = min(t + day, end)
            while off(nxt) != cur_off:  # a change in (cur, nxt]: find its second
                lo, hi = cur, nxt
                while hi - lo > second:
                    mid = (lo + (hi - lo) // 2).replace(microsecond=0)
                    lo, hi = (mid, hi) if off(mid) == cur_off else (lo, mid)
                cur, cur_off = hi, off(hi)
                changes.append((cur, cur_off))
            t = cur = nxt
    if any(o % timedelta(seconds=1) for _, o in changes):
        return None
    return [(t.isoformat(" "), int(o.total_seconds()), _suffix(o)) for t, o in changes]


def _csv_cells(cells: Sequence[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(cells)
    return buf.getvalue()


def _csv_line(line: str) -> str:
    """One SQL-built line (already guarded) as a CSV line, quoted like the csv module."""
    if _QUOTE_NEEDED.search(line) is None:
        return line.replace("\x1f", ",").replace("\x1d", ",") + "\r\n"
    return _csv_cells(_ANY_SEP.split(line))


def _bytes_guard() -> re.Pattern:
    """_GUARD_AT for UTF-8 bytes: one-byte triggers in a class, the full-width ones spelled out."""
    single = b"".join(t.encode() for t in FORMULA_TRIGGERS if len(t.encode()) == 1)
    multi = b"|".join(re.escape(t.encode()) for t in FORMULA_TRIGGERS if len(t.encode()) > 1)
    return re.compile(b"\x1f(?='*(?:[" + re.escape(single) + b"]|" + multi + b"))")


_GUARD_AT_BYTES = _bytes_guard()


class _SqlLines:
    """Chunks of (id, line) from bulk.stream_export_lines → CSV, one string per chunk.

    The common chunk is three regex/replace passes over one joined string (UTF-8 bytes
    straight from SQLite when the file is UTF-8: no decoding and encoding of 300 MB); a
    chunk with a cell that needs quoting goes line by line through the csv module; a deal
    whose text holds one of the separators (clean_text never stores them) is formatted
    from its raw values instead.
    """

    def __init__(self, chunks, raw, fmt: Callable[[Sequence[Any]], list], n_text: int, n_num: int,
                 *, as_bytes: bool = False):
        self.chunks, self.raw, self.fmt = chunks, raw, fmt
        self.n_text, self.n_num = n_text, n_num
        self.as_bytes = as_bytes  # lines (and so chunks) are UTF-8 bytes

    def __iter__(self):
        n_text, n_num = self.n_text, self.n_num
        if self.as_bytes:
            us, gs, rs, comma, crlf = b"\x1f", b"\x1d", b"\x1e", b",", b"\r\n"
            guard_at, guarded, quotes = _GUARD_AT_BYTES, b"\x1f'", (b",", b'"', b"\n", b"\r")
        else:
            us, gs, rs, comma, crlf = "\x1f", "\x1d", "\x1e", ",", "\r\n"
            guard_at, guarded, quotes = _GUARD_AT, "\x1f'", (",", '"', "\n", "\r")
        for rows in self.chunks:
            k = len(rows)
            big = rs.join([r[1] for r in rows])
            # Every separator is ours (no cell holds one) and no cell needs quotes.
            if big.count(rs) == k - 1 and big.count(us) == n_text * k and big.count(gs) == n_num * k:
                big = guard_at.sub(guarded, big)
                if not any(q in big for q in quotes):
                    yield k, big.replace(us, comma).replace(gs, comma).replace(rs, crlf) + crlf
                    continue
            text = self._by_line([(i, line.decode("utf-8")) for i, line in rows] if self.as_bytes else rows)
            yield k, text.encode("utf-8") if self.as_bytes else text

    def _by_line(self, rows: Sequence[tuple[int, str]]) -> str:
        n_text, n_num = self.n_text, self.n_num
        odd = [i for i, line in rows if line.count("\x1f") != n_text or line.count("\x1d") != n_num or "\x1e" in line]
        fixed = {r[0]: r for r in self.raw(odd)} if odd else {}
        out = []
        for i, line in rows:
            if i in fixed:
                out.append(_csv_cells(self.fmt(fixed[i])))
            else:
                out.append(_csv_line(_GUARD_AT.sub("\x1f'", line)))
        return "".join(out)


# --- destinations -----------------------------------------------------------------------------


def _protected(db_path: Path | None) -> list[Path]:
    if db_path is None:
        return []
    db = db_path.resolve()
    return [db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")]


def check_destination(dest: Path, db_path: Path | None) -> None:
    """Refuse to write over the database, its companions, or anything in its backups."""
    if db_path is None:
        return
    target = dest.resolve()
    if target in _protected(db_path):
        raise ExportError(f"refusing to write over the database {db_path}; choose another file")
    backups = (db_path.resolve().parent / "backups").resolve()
    if target == backups or backups in target.parents:
        raise ExportError(f"refusing to write into the backups folder {backups}; choose another file")


def default_name(now: datetime, tz: tzinfo, kind: str = "deals") -> str:
    return f"funnel-{kind}-{now.astimezone(tz).strftime('%Y%m%d-%H%M%S')}.csv"


def resolve_destination(dest: str | os.PathLike | None, *, now: datetime, tz: tzinfo,
                        db_path: Path | None, kind: str = "deals") -> Path | None:
    """None for stdout ("-" or None); a folder gets a dated file name inside it."""
    if dest is None or str(dest) == "-":
        return None
    path = Path(dest).expanduser()
    if path.is_dir():
        folder, name = path, default_name(now, tz, kind)
        path = folder / name
        n = 2
        while path.exists():  # two exports in one second keep both files
            path = folder / f"{name[:-4]}-{n}.csv"
            n += 1
    check_destination(path, db_path)
    return path


def _unencodable(rows_cells: Iterable[tuple[int, Sequence[Any]]], header: Sequence[str], encoding: str,
                 limit: int = 10) -> list[str]:
    problems = []
    for rowno, cells in rows_cells:
        for col, cell in zip(header, cells):
            if not isinstance(cell, str):
                continue
            try:
                cell.encode(encoding)
            except UnicodeEncodeError as exc:
                ch = cell[exc.start]
                problems.append(f"row {rowno}, column {col}: {ch!r} (U+{ord(ch):04X})")
                if len(problems) >= limit:
                    return problems
    return problems


def write_csv(
    dest: Path | None,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    encoding: str = "utf-8-sig",
    stdout: Any = None,
) -> int:
    """Write header + rows atomically (or to stdout); strict encoding; returns the row count."""
    if encoding not in ENCODINGS:
        raise ExportError(f"encoding: {encoding!r} is not offered; use one of: {', '.join(ENCODINGS)}")
    if dest is None:
        out = stdout or sys.stdout
        raw = getattr(out, "buffer", None)
        if raw is not None:
            out.flush()
            text = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="",
                                    write_through=False)
            try:
                return _write_rows(text, header, rows, encoding)
            finally:
                text.flush()
                text.detach()
        # A text-only stream (e.g. a test's StringIO): its own encoding applies.
        return _write_rows(out, header, rows, encoding, check_encoding=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "w", encoding=encoding, errors="strict", newline="") as fh:
            n = _write_rows(fh, header, rows, encoding)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dfd = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return n


def _encoding_error(encoding: str, problems: list[str]) -> ExportError:
    more = "" if len(problems) < 10 else " (first 10 shown)"
    return ExportError(
        f"encoding: {encoding} cannot hold these characters{more}: {'; '.join(problems)}; "
        "nothing was written — export with --encoding utf-8-sig"
    )


def _write_text_chunks(fh: Any, header: Sequence[str], chunks: "_SqlLines", encoding: str,
                       *, check_encoding: bool = False) -> int:
    """Write pre-formatted CSV text, one write per chunk; strict encoding reported per cell."""
    fh.write(_csv_cells(header))
    write = fh.write
    binary = chunks.as_bytes and hasattr(fh, "buffer")
    if binary:  # UTF-8 bytes from SQLite go under the text layer (after its BOM and header)
        fh.flush()
        write = fh.buffer.write
    n = 0
    it = iter(chunks)
    for k, text in it:
        if chunks.as_bytes and not binary:
            text = text.decode("utf-8")
        try:
            if check_encoding:
                text.encode(encoding)
            write(text)
        except UnicodeEncodeError:
            problems: list[str] = []
            for k2, text2 in [(k, text), *it]:
                if isinstance(text2, bytes):
                    text2 = text2.decode("utf-8")
                try:
                    text2.encode(encoding)
                except UnicodeEncodeError:
                    cells = csv.reader(io.StringIO(text2, newline=""))
                    problems += _unencodable(((n + 1 + i, c) for i, c in enumerate(cells)), header, encoding,
                                             limit=10 - len(problems))
                n += k2
                if len(problems) >= 10:
                    break
            raise _encoding_error(encoding, problems[:10]) from None
        n += k
    return n


def _write_rows(fh: Any, header: Sequence[str], rows: Iterable[Sequence[Any]], encoding: str,
                *, check_encoding: bool = False) -> int:
    if isinstance(rows, _SqlLines):
        return _write_text_chunks(fh, header, rows, encoding, check_encoding=check_encoding)
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow(header)
    n = 0
    it = iter(rows)
    for cells in it:
        n += 1
        try:
            if check_encoding:
                "".join(c for c in cells if isinstance(c, str)).encode(encoding)
            writer.writerow(cells)
        except UnicodeEncodeError:
            rest = ((n + 1 + i, c) for i, c in enumerate(it))
            problems = _unencodable([(n, cells)], header, encoding)
            problems += _unencodable(rest, header, encoding, limit=10 - len(problems))
            raise _encoding_error(encoding, problems) from None
    return n


# --- the two exports --------------------------------------------------------------------------


def export_deals(
    store: Any,
    dest: str | os.PathLike | None,
    *,
    now: datetime,
    tz: tzinfo,
    owner: str | None = None,
    status: str | Sequence[str] = "open",
    stage: str | None = None,
    encoding: str = "utf-8-sig",
    stdout: Any = None,
) -> ExportResult:
    """Export deals (all DESIGN §6 columns) to `dest` (a file, a folder, or "-"/None for stdout)."""
    from funnel_tui.store.core import stream_deals, stream_export_lines

    statuses = (status,) if isinstance(status, str) else tuple(status)
    if not statuses or any(s not in ("open", "won", "lost", "all") for s in statuses):
        raise ExportError(f"status: {status!r} is not a status; use open, won, lost or all")
    path = resolve_destination(dest, now=now, tz=tz, db_path=getattr(store, "path", None))
    # Cutoffs, not a per-deal map: a tier is one comparison and memory stays flat at 1M.
    tiers = store.tier_cutoffs(owner=owner)
    fmt = _formatter(now=now, tz=tz, tiers=tiers)
    spec = _export_sql(now=now, tz=tz, tiers=tiers)
    if spec is not None:
        as_bytes = encoding in ("utf-8", "utf-8-sig")  # SQLite's own text is the file's bytes
        with stream_export_lines(store, spec, owner=owner, status=status, stage=stage, as_bytes=as_bytes) as found:
            if found is not None:
                lines = _SqlLines(*found, fmt, len(spec.text_columns), len(EXPORT_COLUMNS) - 1 - len(spec.text_columns),
                                  as_bytes=as_bytes)
                n = write_csv(path, EXPORT_COLUMNS, lines, encoding=encoding, stdout=stdout)
                return ExportResult(path, n, encoding)
    with stream_deals(store, owner=owner, status=status, stage=stage) as chunks:
        rows = (fmt(r) for chunk in chunks for r in chunk)
        n = write_csv(path, EXPORT_COLUMNS, rows, encoding=encoding, stdout=stdout)
    return ExportResult(path, n, encoding)


def _export_sql(*, now: datetime, tz: tzinfo, tiers: TierCutoffs):
    """What SQLite needs to build the export lines itself (None: use the Python formatter)."""
    from funnel_tui.store.bulk_export import ExportSql

    spans = offset_spans(tz)
    if spans is None:
        return None
    local = _LocalTime(tz)
    now_naive = now.astimezone(UTC).replace(tzinfo=None)
    text = frozenset(c for c in CSV_COLUMNS if c not in NUMERIC_COLUMNS and c not in TIME_COLUMNS
                     and c != "expected_close")

    def dwell(entered: str) -> int:
        return int((now_naive - _naive_utc(entered)) / timedelta(days=1))

    return ExportSql(
        spans=spans, window=(SQL_WINDOW[0].isoformat(" "), SQL_WINDOW[1].isoformat(" ")),
        now_us=(now_naive - _EPOCH) // timedelta(microseconds=1),
        tier_a=tiers.a_min, tier_b=tiers.b_min, text_columns=text, time_columns=TIME_COLUMNS,
        local_fallback=local, dwell_fallback=dwell,
    )


SUMMARY_COLUMNS = ("stage", "name", "name_zh", "count", "amount", "weighted_amount")


def summary_rows(store: Any, *, now: datetime, owner: str | None = None) -> tuple[list[str], list[list]]:
    """The per-stage table: from store.summary when it is there, else the board totals."""
    try:
        from funnel_tui.store.core import summary  # the analytics
        from funnel_tui.store.summary import DealSet
    except ImportError:
        summary = None
    if summary is not None:
        data = summary(store, now=now, deals=DealSet(owner=owner))
        header = ["stage", "name", "reached", "current", "conversion_to_next", "avg_days_in_stage",
                  "open_amount", "weighted_amount"]
        rows = []
        for st in data.get("stages", []):
            row = []
            for col in header:
                v = st.get("key" if col == "stage" else col)
                if col in ("open_amount", "weighted_amount") and isinstance(v, int):
                    v = _plain(v)
                elif isinstance(v, float):
                    v = round(v, 4)
                row.append(_summary_cell(v))
            rows.append(row)
        return header, rows
    totals = store.board_totals()
    out = []
    for s in store.stages():
        t = totals.get(s.key, {"count": 0, "amount": 0, "weighted": 0})
        out.append([s.key, guard(s.name), guard(s.name_zh), t["count"], _plain(t["amount"]),
                    _plain(t["weighted"])])
    return list(SUMMARY_COLUMNS), out


def _summary_cell(v: Any) -> Any:
    if v is None:
        return ""
    return guard(v) if isinstance(v, str) else v


def export_summary(
    store: Any,
    dest: str | os.PathLike | None,
    *,
    now: datetime,
    tz: tzinfo,
    owner: str | None = None,
    encoding: str = "utf-8-sig",
    stdout: Any = None,
) -> ExportResult:
    """The per-stage summary table as CSV (same encoding, guard and atomic write)."""
    path = resolve_destination(dest, now=now, tz=tz, db_path=getattr(store, "path", None), kind="summary")
    header, rows = summary_rows(store, now=now, owner=owner)
    n = write_csv(path, header, rows, encoding=encoding, stdout=stdout)
    return ExportResult(path, n, encoding)
