"""CSV import: forgiving about where a file comes from, honest about every row it refuses.

Pure of SQL: this module reads and checks files and produces validated rows; the store's
bulk writer (store/bulk.py) decides what is new or a duplicate and writes it.

- Encoding: a BOM first, then strict UTF-8, then GB18030 (most UTF-8 Chinese also decodes
  "successfully" as GB18030, so UTF-8 must be tried first); the detected one is reported.
- Parsing is strict (csv strict=True): ragged rows, an unterminated quote, NUL bytes and
  bad values are each reported with the line number and the reason.
- Headers: our own columns (case-, space- and underscore-insensitive), the Chinese tracking
  template (预计成交金额(万元) × 10,000), Pipedrive and HubSpot exports.
- Our own export round-trips: uid kept, the formula-guard apostrophe undone.
"""

from __future__ import annotations

import codecs
import csv
import os
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, time, timezone, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from funnel_tui.domain.dates import DEFAULT_TIME
from funnel_tui.domain.stages import StageDef
from funnel_tui.domain.validation import _EMAIL, MULTILINE, TEXT_FIELDS, FieldError, validate_field
from funnel_tui.exchange.columns import CSV_COLUMNS, EXPORT_ONLY
from funnel_tui.exchange.csv_export import guard, unguard

csv.field_size_limit(1 << 20)  # a 1 MiB cell is already absurd; the default 128 KiB is too tight for notes


class ImportError_(Exception):
    """The file cannot be imported at all (encoding, header); nothing was written."""


ImportFileError = ImportError_


class ReaderFailed(ImportError_):
    """The forked reader of a big import stopped before the end; nothing was written."""


def norm_header(text: str) -> str:
    """Header key: NFKC (full-width brackets), casefolded, without spaces or underscores."""
    t = unicodedata.normalize("NFKC", text).casefold()
    return "".join(t.split()).replace("_", "").lstrip("\ufeff")


# --- header aliases ---------------------------------------------------------------------------

# How a column's cells are turned into a field value beyond validate_field.
PLAIN, WAN, PROB_FRACTION, PIPEDRIVE_ID, HUBSPOT_ID, CLOSE_DATE = (
    "plain", "wan", "fraction", "pipedrive", "hubspot", "close_date")

# The source documents' Chinese tracking template (and a few obvious extras).
TEMPLATE_ALIASES: dict[str, tuple[str, str]] = {
    "客户名称": ("customer", PLAIN), "客户": ("customer", PLAIN),
    "行业": ("industry", PLAIN), "规模": ("company_size", PLAIN),
    "联系人(经理)": ("contact_name", PLAIN), "联系人": ("contact_name", PLAIN),
    "决策角色": ("contact_role", PLAIN), "当前阶段": ("stage", PLAIN), "阶段": ("stage", PLAIN),
    "进入时间": ("stage_entered_at", PLAIN), "最近沟通时间": ("last_contact_at", PLAIN),
    "沟通内容摘要": ("notes", PLAIN), "成交概率(%)": ("probability", PLAIN),
    "成交概率": ("probability", PLAIN),
    "预计成交金额(万元)": ("amount", WAN), "预计成交金额": ("amount", PLAIN),
    "风险等级": ("risk_level", PLAIN), "风险描述": ("risk_note", PLAIN), "应对措施": ("mitigation", PLAIN),
    "跟进人": ("owner", PLAIN), "线索来源": ("source", PLAIN), "预算范围": ("budget", PLAIN),
    "决策链": ("decision_chain", PLAIN), "核心痛点": ("pain_points", PLAIN),
    "竞争对比": ("competitors", PLAIN), "下次跟进时间": ("next_follow_up_at", PLAIN),
    "联系电话": ("contact_phone", PLAIN), "电话": ("contact_phone", PLAIN), "邮箱": ("contact_email", PLAIN),
    "项目名称": ("title", PLAIN), "状态": ("status", PLAIN), "丢单原因": ("lost_reason", PLAIN),
    "预计成交日期": ("expected_close", PLAIN), "币种": ("currency", PLAIN), "线索评分": ("lead_score", PLAIN),
    "创建时间": ("created_at", PLAIN), "成交时间": ("closed_at", PLAIN), "备注": ("notes", PLAIN),
}
PIPEDRIVE_ALIASES: dict[str, tuple[str, str]] = {
    "deal-id": ("external_id", PIPEDRIVE_ID), "deal-title": ("title", PLAIN),
    "deal-organization": ("customer", PLAIN), "deal-stage": ("stage", PLAIN),
    "deal-value": ("amount", PLAIN), "deal-currencyofvalue": ("currency", PLAIN),
    "deal-status": ("status", PLAIN), "deal-probability": ("probability", PLAIN),
    "deal-owner": ("owner", PLAIN), "deal-dealcreated": ("created_at", PLAIN),
    "deal-laststagechange": ("stage_entered_at", PLAIN),
    "deal-nextactivitydate": ("next_follow_up_at", PLAIN),
    "deal-expectedclosedate": ("expected_close", PLAIN), "deal-lostreason": ("lost_reason", PLAIN),
    "deal-contactperson": ("contact_name", PLAIN), "deal-source": ("source", PLAIN),
    "deal-lastemailreceived": ("last_contact_at", PLAIN),
}
HUBSPOT_ALIASES: dict[str, tuple[str, str]] = {
    "recordid": ("external_id", HUBSPOT_ID), "dealname": ("title", PLAIN), "dealstage": ("stage", PLAIN),
    "amount": ("amount", PLAIN), "closedate": ("closed_at", CLOSE_DATE), "createdate": ("created_at", PLAIN),
    "dealowner": ("owner", PLAIN), "dealprobability": ("probability", PROB_FRACTION),
    "dateenteredcurrentstage": ("stage_entered_at", PLAIN),
    "nextactivitydate": ("next_follow_up_at", PLAIN), "closedlostreason": ("lost_reason", PLAIN),
    "associatedcompany": ("customer", PLAIN), "companyname": ("customer", PLAIN),
    "currency": ("currency", PLAIN), "lastcontacted": ("last_contact_at", PLAIN),
}
OWN_COLUMNS = tuple(c for c in CSV_COLUMNS if c != "id")
# Read but not imported: our local ids and computed columns, the `reason` of a rejected file.
IGNORED = {norm_header(c) for c in ("id", *EXPORT_ONLY, "reason", "pipeline", "line")}
# HubSpot's default pipeline ends in these two; they carry the status.
HUBSPOT_CLOSED = {"closedwon": "won", "closedlost": "lost"}


@dataclass
class HeaderMap:
    source: str  # funnel | template | pipedrive | hubspot
    fields: list[tuple[str, str] | None]  # per column: (field, how) or None (ignored)
    header: list[str]
    ignored: list[str] = field(default_factory=list)

    @property
    def given(self) -> frozenset[str]:
        return frozenset(f for f, _ in (x for x in self.fields if x))


def map_header(header: Sequence[str]) -> HeaderMap:
    """Map header cells to deal fields; raises ImportFileError for a header we cannot use."""
    keys = [norm_header(h) for h in header]
    if any(k.startswith("deal-") for k in keys):
        source, table = "pipedrive", PIPEDRIVE_ALIASES
    elif "recordid" in keys and ("dealname" in keys or "dealstage" in keys):
        source, table = "hubspot", HUBSPOT_ALIASES
    elif any(k in TEMPLATE_ALIASES for k in keys):
        source, table = "template", TEMPLATE_ALIASES
    else:
        source, table = "funnel", {}
    own = {norm_header(c): (c, PLAIN) for c in OWN_COLUMNS}
    fields: list[tuple[str, str] | None] = []
    ignored: list[str] = []
    seen: dict[str, str] = {}
    for raw, key in zip(header, keys):
        spec = table.get(key) or own.get(key) or TEMPLATE_ALIASES.get(key)
        if spec is None:
            fields.append(None)
            if key and key not in IGNORED:
                ignored.append(raw)
            continue
        if spec[0] in seen:
            raise ImportFileError(f"header: columns {seen[spec[0]]!r} and {raw!r} both mean {spec[0]}; "
                                  "keep one of them")
        seen[spec[0]] = raw
        fields.append(spec)
    hm = HeaderMap(source, fields, list(header), ignored)
    if "customer" not in hm.given and not (source in ("pipedrive", "hubspot") and "title" in hm.given):
        raise ImportFileError(
            "header: no customer column; name one of: customer, 客户名称, Deal - Organization, "
            "Deal Name (HubSpot). The first line of the file must be the header")
    return hm


# --- encoding ---------------------------------------------------------------------------------

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _decode_error_line(path: Path, encoding: str) -> tuple[int, str] | None:
    """Decode the whole file strictly in chunks; the line of the first bad byte, or None."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines = 1
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(1 << 20)
            final = not chunk
            try:
                decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                head = chunk[: max(exc.start, 0)]
                return lines + head.count(b"\n"), f"byte 0x{chunk[exc.start]:02x}" if chunk else "truncated text"
            if final:
                return None
            lines += chunk.count(b"\n")


def detect_encoding(path: Path, requested: str = "auto") -> str:
    """The encoding to read `path` with: BOM, then strict UTF-8, then strict GB18030."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    bom = next((enc for mark, enc in _BOMS if head.startswith(mark)), None)
    if requested and requested != "auto":
        try:
            name = codecs.lookup(requested).name
        except LookupError:
            raise ImportFileError(f"encoding: {requested!r} is not an encoding Python knows; "
                                  "use auto, utf-8 or gb18030") from None
        enc = "utf-8-sig" if name == "utf-8" and bom == "utf-8-sig" else requested
        bad = _decode_error_line(path, enc)
        if bad:
            raise ImportFileError(f"encoding: line {bad[0]} is not valid {requested} ({bad[1]}); "
                                  "try --encoding auto")
        return enc
    if bom:
        bad = _decode_error_line(path, bom)
        if bad:
            raise ImportFileError(f"encoding: the file starts with a {bom} BOM but line {bad[0]} is not "
                                  f"valid {bom} ({bad[1]})")
        return bom
    bad_utf8 = _decode_error_line(path, "utf-8")
    if bad_utf8 is None:
        return "utf-8"
    bad_gb = _decode_error_line(path, "gb18030")
    if bad_gb is None:
        return "gb18030"
    raise ImportFileError(
        f"encoding: neither UTF-8 (line {bad_utf8[0]}: {bad_utf8[1]}) nor GB18030 "
        f"(line {bad_gb[0]}: {bad_gb[1]}); save the file as UTF-8 or give --encoding")


# --- reading rows -----------------------------------------------------------------------------


@dataclass(slots=True)
class RawRow:
    line: int  # the line the record starts on (1 = header)
    cells: list[str] | None  # None when the record could not be parsed at all
    error: str = ""


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def read_records(fh, *, check_nul: bool = True) -> Iterator[RawRow]:
    """Records of a text stream opened with newline=""; structural errors become RawRow.error.

    `check_nul=False` when the caller knows the file holds no NUL (import_file scans the
    bytes once), which spares joining every row to look for one.
    """
    first = fh.readline()
    if first.startswith("\ufeff"):
        first = first[1:]
    delimiter = ","
    line_base = 0
    if first.strip().casefold().startswith("sep=") and len(first.strip()) == 5:
        delimiter = first.strip()[4]  # Excel's "sep=;" hint line
        line_base = 1
    else:
        delimiter = _sniff_delimiter(first)

    def lines():
        if not line_base:
            yield first
        yield from fh

    if fh.seekable():  # read the file itself again: a generator in between costs per line
        fh.seek(0)
        if line_base:
            fh.readline()
        reader = csv.reader(fh, delimiter=delimiter, strict=True)
    else:
        reader = csv.reader(lines(), delimiter=delimiter, strict=True)
    done = line_base  # lines consumed so far (reader.line_num counts from the reader's start)
    while True:
        try:
            for cells in reader:  # the common path: no per-record try, no extra calls
                start = done + 1
                done = reader.line_num + line_base
                if not cells or (len(cells) == 1 and cells[0] == ""):
                    continue  # a blank line
                if check_nul and "\x00" in "".join(cells):
                    yield RawRow(start, cells, "NUL byte in the row (is the file UTF-16 or binary?)")
                    continue
                yield RawRow(start, cells)
            return
        except csv.Error as exc:
            start = done + 1
            done = reader.line_num + line_base
            msg = str(exc)
            if "unexpected end of data" in msg or "EOF" in msg:
                yield RawRow(start, None, "unterminated quote: the quoted cell starting here never closes")
                return
            yield RawRow(start, None, f"malformed CSV ({msg})")


def has_nul(path: Path, encoding: str) -> bool:
    """Whether the file may hold a NUL character: for ASCII-compatible encodings, exactly
    when it holds a 0 byte (one fast scan); for UTF-16/32, always assumed."""
    if codecs.lookup(encoding).name not in ("utf-8", "utf-8-sig", "gb18030", "gbk", "ascii"):
        return True
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            if b"\x00" in chunk:
                return True
    return False


# --- validating rows --------------------------------------------------------------------------


class RowRejected(ValueError):
    pass


# How parse() treats a plain column: the common cases skip the general validator when the
# result is provably the same (tests compare the fast paths with validate_field).
_TEXT, _TIME, _CACHED = "text", "time", "cached"
_FAST_TEXT = {f: (n, f in MULTILINE) for f, n in TEXT_FIELDS.items()
              if f not in ("contact_email", "external_id")}
# Fields whose plain ASCII cells need nothing but trimming (email must still be checked).
_ASCII_FAST = {f: n for f, (n, _) in _FAST_TEXT.items()}
_ASCII_FAST["contact_email"] = -1
_TIME_FIELDS = {"created_at", "stage_entered_at", "last_contact_at", "closed_at"}
_NO_EMPTY = object()  # a column whose empty cell goes through its converter


def _plan(name: str, how: str) -> str:
    if how != PLAIN:
        return how
    if name in _FAST_TEXT or name == "contact_email":
        return _TEXT
    if name in _TIME_FIELDS:
        return _TIME
    if name in ("uid", "stage", "next_follow_up_at"):
        return how
    return _CACHED


def fast_text(name: str, cell: str) -> str | None:
    """clean_text's result when it can only trim (printable, NFC, short), else None.

    `str.isprintable` is False for every control, format, surrogate and line/paragraph
    separator character and for tabs, so such text has nothing for clean_text to remove.
    """
    if name == "contact_email":
        value = fast_text("contact_name", cell) if len(cell) <= TEXT_FIELDS[name] else None
        return value if value is not None and (not value or _EMAIL.match(value)) else None
    limit, multiline = _FAST_TEXT[name]
    if len(cell) > limit:
        return None
    if not (cell.isprintable() or (multiline and cell.replace("\n", "").isprintable())):
        return None
    if not cell.isascii() and not unicodedata.is_normalized("NFC", cell):
        return None
    return cell.strip()


def fast_timestamp(cell: str) -> datetime | None:
    """Our own export's timestamp shape (ISO with offset) parsed directly, else None."""
    if not cell:
        return None
    # The shape by its separators; fromisoformat then refuses anything but ASCII digits
    # in the digit places (cheaper than a regex over every timestamp of a big file).
    if len(cell) == 25 and cell[10] == "T" and cell[4] == cell[7] == "-" and cell[13] == cell[16] == cell[22] == ":" \
            and cell[19] in "+-" and cell.isascii():
        try:
            return datetime.fromisoformat(cell).astimezone(timezone.utc)
        except ValueError:  # the right shape, no such moment (Feb 30, 25:00): the validator says why
            return None
    return None


@dataclass(slots=True)
class ParsedRows:
    """Rows as columns: `columns[name][k]` is deal column `name` of row k (junk where
    `reasons[k]` says why the row is rejected); `follow[k]` its follow-up due or None."""

    columns: dict[str, list[Any]]
    follow: list[Any]
    reasons: list[str | None]


@dataclass
class RowParser:
    """Turns the cells of one row into a complete deal (or RowRejected with the reason)."""

    header: HeaderMap
    stages: Sequence[StageDef]
    now: datetime
    tz: tzinfo
    stage_map: Mapping[str, str] = field(default_factory=dict)  # norm(old) -> new
    owner: str | None = None
    unknown_stages: dict[str, int] = field(default_factory=dict)
    _cache: dict = field(default_factory=dict)

    def __post_init__(self):
        self._by_key = {s.key: s for s in self.stages}
        self._first = sorted(self.stages, key=lambda s: s.position)[0]
        self._won = next((s for s in self.stages if s.kind == "won"), None)
        self._cols = [(i, f, _plan(f, how)) for i, spec in enumerate(self.header.fields) if spec
                      for f, how in [spec]]
        self._width = len(self.header.header)
        self._foreign = self.header.source in ("pipedrive", "hubspot")
        self._stages_seen: dict[str, tuple[str, str | None]] = {}
        # What an empty cell means per plain column, asked of the validator once.
        self._empty: dict[str, Any] = {}
        for _, name, how in self._cols:
            if how in (_TEXT, _TIME, _CACHED):
                try:
                    self._empty[name] = self._field(name, "")
                except FieldError:
                    self._empty[name] = ""  # customer: required, checked once the row is complete
        self._converters = [self._converter(name, how) for _, name, how in self._cols]
        self._keys = ["_close" if how == CLOSE_DATE else name for _, name, how in self._cols]

    def _field(self, name: str, value: str) -> Any:
        """validate_field, memoised: repeated values (stage, owner, dates) are checked once."""
        key = (name, value)
        hit = self._cache.get(key, self)
        if hit is not self:
            return hit
        result = validate_field(name, value, stages=self.stages, now=self.now, tz=self.tz)
        if len(self._cache) > 50_000:
            self._cache.clear()
        self._cache[key] = result
        return result

    def parse(self, cells: list[str]) -> tuple[dict[str, Any], datetime | None]:
        """One row: (deal columns, follow-up due), or RowRejected with every reason."""
        result = self.parse_many([cells])[0]
        if isinstance(result, str):
            raise RowRejected(result)
        return result

    def parse_many(self, rows: Sequence[list[str]]) -> list[tuple[dict[str, Any], datetime | None] | str]:
        """parse() for many rows: (deal columns, follow-up due) per row, or the reason (str)
        a row is rejected. The same answers as parse() row by row (a test compares them)."""
        parsed = self.parse_columns(rows)
        names = list(parsed.columns)
        out: list[Any] = []
        for reason, values, follow in zip(parsed.reasons, zip(*parsed.columns.values()), parsed.follow):
            out.append(reason if reason is not None else (dict(zip(names, values)), follow))
        return out

    def parse_columns(self, rows: Sequence[list[str]]) -> "ParsedRows":
        """Many rows at once, column by column: the import's hot path.

        Each distinct cell of a column is converted once (stages, owners, dates, amounts
        repeat a lot), then the row rules (_complete_columns) run over whole columns. Rejected
        rows keep their place (with junk values) and a reason.
        """
        n = len(rows)
        reasons: list[str | None] = [None] * n
        width = self._width
        if any(len(cells) != width for cells in rows):
            for j, cells in enumerate(rows):
                if len(cells) != width:
                    reasons[j] = f"{len(cells)} cells but the header has {width} (ragged row)"
            rows = [cells if len(cells) == width else [""] * width for cells in rows]
        columns = list(zip(*rows)) if n else [()] * width
        errors: dict[int, list[str]] = {}
        raw: dict[str, list[Any]] = {}
        for (i, name, _how), key, convert in zip(self._cols, self._keys, self._converters):
            column = columns[i]
            table: dict[str, Any] = {}
            bad: dict[str, str] = {}
            for cell in set(column):
                try:
                    table[cell] = convert(cell)
                except FieldError as exc:
                    bad[cell] = f"{exc.field}: {exc.message}"
            if bad:
                for k, cell in enumerate(column):
                    if cell in bad and reasons[k] is None:
                        errors.setdefault(k, []).append(bad[cell])
                if name == "stage":
                    for cell in bad:
                        self._count_unknown_stage(cell, sum(1 for k, c in enumerate(column)
                                                            if c == cell and reasons[k] is None))
            values = list(map(table.get, column))
            if name == "stage":
                raw["_status_from_stage"] = [None if v is None else v[1] for v in values]
                values = [None if v is None else v[0] for v in values]
            raw[key] = values
        for k, messages in errors.items():
            reasons[k] = "; ".join(messages)
        return self._complete_columns(raw, reasons, n)

    def _complete_columns(self, raw: dict[str, list[Any]], reasons: list[str | None], n: int) -> "ParsedRows":
        """Fill defaults and apply the deal invariants over whole columns; the first rule a
        row breaks is its reason (customer, then lost reason, then uid). The same rules
        written row by row are tests/reference_import.py; a property test compares them."""
        absent = [None] * n

        def given(name: str, default: Any = None) -> list[Any]:
            return raw[name] if name in raw else (absent if default is None else [default] * n)

        deal: dict[str, list[Any]] = {f: given(f, "") for f in TEXT_FIELDS}
        deal["external_id"] = given("external_id")
        customer = deal["customer"]
        if self._foreign:
            customer = deal["customer"] = [c or t for c, t in zip(customer, deal["title"])]
        if self.owner:
            deal["owner"] = [o or self.owner for o in deal["owner"]]
        # Stage and status from the few (stage, status, status-from-stage) combinations.
        has_status = "status" in raw
        combos: dict[tuple, tuple[str, str, int]] = {}

        def settle(stage_key: Any, status: Any, from_stage: Any) -> tuple[str, str, int]:
            stage = self._by_key[stage_key or self._first.key]
            status = status or from_stage or "open"
            if not has_status and from_stage is None and stage.kind in ("won", "post"):
                status = "won"
            if status == "won" and stage.kind == "open" and self._won is not None:
                stage = self._won  # other CRMs keep a won deal in its last open stage
            return stage.key, status, stage.probability if stage.probability is not None else 0

        settled = []
        for combo in zip(given("stage"), given("status"), given("_status_from_stage")):
            hit = combos.get(combo)
            if hit is None:
                hit = combos[combo] = settle(*combo)
            settled.append(hit)
        stages, statuses, defaults = ([list(c) for c in zip(*settled)] if settled else ([], [], []))
        prob = given("probability")
        # A deal cannot have been created after it entered its stage, nor closed before.
        now = self.now
        entered_raw, created_raw = given("stage_entered_at"), given("created_at")
        entered = [e or c or now for e, c in zip(entered_raw, created_raw)]
        created = [c or e for c, e in zip(created_raw, entered)]
        close_ = given("_close")
        closed = [None if s == "open" else (c or h or e or now)
                  for s, c, h, e in zip(statuses, given("closed_at"), close_, entered_raw)]
        expected = given("expected_close")
        if "_close" in raw:
            tz = self.tz
            expected = [x if x is not None or s != "open" or h is None else h.astimezone(tz).date()
                        for x, s, h in zip(expected, statuses, close_)]
        uids = [u or None for u in given("uid")]
        lost_reason = deal["lost_reason"]
        for k in range(n):
            if reasons[k] is not None:
                continue
            if not customer[k]:
                reasons[k] = "customer: is required"
            elif statuses[k] == "lost" and not lost_reason[k]:
                reasons[k] = "lost_reason: is required when status is lost"
            elif uids[k] is not None:
                try:
                    uids[k] = _check_uid(uids[k])
                except RowRejected as exc:
                    reasons[k] = str(exc)
        deal.update(
            uid=uids,
            lead_score=given("lead_score"),
            stage=stages,
            status=statuses,
            amount=[a or 0 for a in given("amount")],
            currency=[c or "CNY" for c in given("currency")],
            probability=[d if p is None else p for p, d in zip(prob, defaults)],
            probability_custom=[p is not None and p != d for p, d in zip(prob, defaults)],
            expected_close=expected,
            risk_level=given("risk_level"),
            created_at=created,
            stage_entered_at=entered,
            last_contact_at=given("last_contact_at"),
            closed_at=closed,
            deleted_at=absent,
        )
        follow = [f if s == "open" else None for f, s in zip(given("next_follow_up_at"), statuses)]
        return ParsedRows(deal, follow, reasons)

    # -- per-cell converters: one per plain column, shared by parse() and parse_many() ------

    def _converter(self, name: str, how: str):
        """The function turning one cell of this column into its field value (or FieldError)."""
        empty = self._empty
        blank = empty.get(name, _NO_EMPTY)

        def with_empty(convert):
            if blank is _NO_EMPTY:
                return convert
            return lambda cell: blank if not cell else convert(cell)

        if how is _TEXT:
            limit = _ASCII_FAST[name]

            def text(cell: str) -> str:
                if cell[:1] == "'":
                    cell = unguard(cell)
                # Plain short ASCII is the common case: clean_text would only trim it.
                if cell.isascii() and cell.isprintable() and len(cell) <= limit:
                    return cell.strip()
                value = fast_text(name, cell)
                return self._field(name, cell) if value is None else value

            return with_empty(text)
        if how is _TIME:
            def moment(cell: str):
                value = fast_timestamp(cell)
                return self._field(name, cell) if value is None else value

            return with_empty(moment)
        if how is _CACHED:
            return with_empty(lambda cell: self._field(name, cell))
        if how == PIPEDRIVE_ID or how == HUBSPOT_ID:
            def ident(cell: str):
                cell = cell.strip()
                return self._field(name, f"{how}:{cell}" if cell else "")

            return ident
        if how == WAN:
            return self._wan
        if how == PROB_FRACTION:
            return self._fraction
        if name == "uid":
            return lambda cell: cell.strip() or None
        if name == "stage":
            return self._stage
        if name == "next_follow_up_at":
            return self._follow_up
        if how == CLOSE_DATE:
            return lambda cell: self._field("closed_at", cell)
        return lambda cell: self._field(name, cell)

    def _count_unknown_stage(self, cell: str, times: int) -> None:
        key = cell.strip()
        self.unknown_stages[key] = self.unknown_stages.get(key, 0) + times

    def _wan(self, cell: str) -> int:
        text = cell.strip().replace(",", "").replace("，", "")
        if not text:
            return 0
        try:
            value = Decimal(text) * 10_000
            if not value.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            raise FieldError("amount", f"{cell!r} is not a number of 万元; use e.g. 12.5") from None
        return self._field("amount", format(value, "f"))

    def _fraction(self, cell: str) -> int | None:
        text = cell.strip()
        if not text:
            return None
        try:
            value = Decimal(text)
            if not value.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            raise FieldError("probability", f"{cell!r} is not a probability; HubSpot gives 0–1, e.g. 0.4") from None
        if not 0 <= value <= 1:
            raise FieldError("probability", f"{cell!r} is out of range; HubSpot gives 0–1, e.g. 0.4")
        return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def _stage(self, cell: str) -> tuple[str, str | None]:
        hit = self._stages_seen.get(cell)
        if hit is None:
            hit = self._stages_seen[cell] = self._stage_uncached(cell)
        return hit

    def _stage_uncached(self, cell: str) -> tuple[str, str | None]:
        text = cell.strip()
        key = norm_header(text)
        status = HUBSPOT_CLOSED.get(key) if self.header.source == "hubspot" else None
        if key in self.stage_map:
            text = self.stage_map[key]
        elif status == "won" and self._won is not None:
            text = self._won.key
        elif status == "lost":
            text = self._first.key  # the stage it was lost in is not in the file
        if not text:
            return self._first.key, status
        return self._field("stage", text), status

    def _follow_up(self, cell: str) -> datetime | None:
        text = cell.strip()
        fast = fast_timestamp(text)  # our own export's form
        if fast is not None:
            return fast
        if len(text) == 10:  # a bare date: the start of the working day, as elsewhere
            d = self._field("next_follow_up_at", text)
            if d is not None:
                local = d.astimezone(self.tz)
                if local.time() == time(0, 0):
                    return datetime.combine(local.date(), DEFAULT_TIME, tzinfo=self.tz).astimezone(d.tzinfo)
            return d
        return self._field("next_follow_up_at", text)

def _check_uid(text: str) -> str:
    import uuid

    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        raise RowRejected(f"uid: {text!r} is not a UUID (leave it empty for a new deal)") from None


def parse_stage_map(items: Sequence[str], stages: Sequence[StageDef]) -> dict[str, str]:
    """--stage-map OLD=NEW (repeatable) → {normalised OLD: stage key}."""
    out: dict[str, str] = {}
    for item in items:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise ImportFileError(f"stage-map: {item!r} is not OLD=NEW, e.g. 'Contact Made=qualified'")
        try:
            key = validate_field("stage", new.strip(), stages=stages)
        except FieldError as exc:
            raise ImportFileError(f"stage-map: {exc.message}") from None
        out[norm_header(old)] = key
    return out


# --- the rejected rows file -------------------------------------------------------------------


def rejected_path(path: Path) -> Path:
    return path.with_name(path.name + ".rejected.csv") if not path.name.endswith(".csv") else \
        path.with_name(path.name[:-4] + ".rejected.csv")


class RejectedWriter:
    """Rejected rows with a `reason` column, written atomically (0600) next to the input.

    Cells are written as read, formula-guarded (the guard is undone when the file is
    imported again), so the rep can fix them in Excel and import this file.
    """

    def __init__(self, path: Path, header: Sequence[str]):
        self.path = path
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
        cols = list(header)
        self.reason_at = next((i for i, h in enumerate(cols) if norm_header(h) == "reason"), None)
        if self.reason_at is None:
            cols.append("reason")
        self.width = len(header)
        fd = os.open(self.tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        self.fh = os.fdopen(fd, "w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.fh, lineterminator="\r\n")
        self.writer.writerow([guard(c) for c in cols])
        self.count = 0

    def add(self, cells: list[str] | None, reason: str) -> None:
        row = [guard(c.replace("\x00", "")) for c in (cells or [])]
        if self.reason_at is not None:
            row += [""] * (self.width - len(row))
            row[self.reason_at] = guard(reason)
        else:
            row = row[: self.width] + [""] * (self.width - len(row)) + [guard(reason)]
        self.writer.writerow(row)
        self.count += 1

    def finish(self) -> Path | None:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        if not self.count:
            os.unlink(self.tmp)
            return None
        os.replace(self.tmp, self.path)
        return self.path

    def discard(self) -> None:
        if not self.fh.closed:
            self.fh.close()
        try:
            os.unlink(self.tmp)
        except FileNotFoundError:
            pass
