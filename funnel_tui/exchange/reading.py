"""From a file to typed values, column by column: the API the importer calls.

    plan = plan_import(path, ReadOptions(tz=tz, decimal=…, date_order=…, mapping=…))
    with plan:                                   # the open file
        plan.notes                               # encoding, delimiter or sheet, profile: to report
        rows = [r.cells for r in plan.table.records if not r.error]   # (the importer chunks them)
        plan.observe(rows)                       # evidence for whole-column decisions, first
        values = plan.read_columns(rows)         # {field: [value per row]}, reasons, counts

`plan_import` opens the file (tables.open_table: workbook or CSV, encoding, delimiter), matches
its header to a profile (a saved one first, then the built-ins; `--profile` and `--map` override),
and builds one reader per mapped column (amounts, currencies, probabilities, dates, stages,
statuses, external ids, text). `read_columns` converts each distinct cell of a column once (the
hot path: stages, owners, dates and amounts repeat), then settles what spans columns on a row:
the deal's currency (the amount's own sign, a currency column, the profile, `--currency`), a
stage name that implies won or lost, and a close date that is the closing time of a closed deal.

Text fields come out as the cell's text; the row rules and text cleaning stay the importer's
(RowParser: validate_field, required customer, lost reason, uid).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timezone, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping, Sequence

from funnel_tui.domain.stages import DEFAULT_STAGES, StageDef, find_stage
from funnel_tui.exchange import profiles as P
from funnel_tui.exchange.amounts import AmountColumn, Money
from funnel_tui.exchange.calendar_dates import DateColumn
from funnel_tui.exchange.cells import Cell, FieldError, cell_text, ragged_row, shown
from funnel_tui.exchange.currencies import code_of_column, settle_currency
from funnel_tui.exchange.probabilities import ProbabilityColumn
from funnel_tui.exchange.profiles.saved import apply_map
from funnel_tui.exchange.tables import Table, ignored_line, open_table, reopen
from funnel_tui.i18n import _


@dataclass
class ReadOptions:
    """What the rep said on the command line (or the TUI import screen)."""

    tz: tzinfo
    encoding: str = "auto"
    sheet: str | None = None
    decimal: str | None = None  # "point" | "comma": --decimal-point / --decimal-comma
    date_order: str | None = None  # --date-order dmy|mdy|ymd
    currency: str | None = None  # --currency: settles $ and ¥
    profile: str | None = None  # --profile KEY
    mapping: Mapping[str, str] = field(default_factory=dict)  # --map Header=field
    stage_map: Mapping[str, str] = field(default_factory=dict)  # --stage-map, norm(old) -> key
    stages: Sequence[StageDef] = DEFAULT_STAGES
    saved: Sequence[P.Profile] = ()  # saved profiles (profiles.saved.load_saved)
    follow_up_time: time = time(0)  # what a follow-up date without a time means (the importer: 09:00)
    speculative: bool = False  # read in one pass, gathering evidence only when a value needs it


class TextReader:
    def __init__(self, field_: str):
        self.field = field_

    def observe(self, cells) -> None:
        pass

    def read(self, cell: Cell) -> str:
        return cell_text(cell).strip()


class ExternalIdReader(TextReader):
    def __init__(self, prefix: str):
        super().__init__("external_id")
        self.prefix = prefix

    def read(self, cell: Cell) -> str | None:
        text = cell_text(cell).strip()
        return f"{self.prefix}{text}" if text else None


class CurrencyReader(TextReader):
    def read(self, cell: Cell) -> str | None:
        try:
            return code_of_column(cell_text(cell))
        except ValueError as exc:
            raise FieldError(self.field, str(exc)) from None


class StageReader(TextReader):
    """A stage name as (our stage key or None, the status it implies or None): --stage-map first,
    then the profile's names, then our own keys and names (English or Chinese)."""

    def __init__(self, profile: P.Profile, stages: Sequence[StageDef], stage_map: Mapping[str, str]):
        super().__init__("stage")
        self.profile, self.stages, self.stage_map = profile, list(stages), stage_map

    def read(self, cell: Cell) -> tuple[str | None, str | None] | None:
        text = cell_text(cell).strip()
        if not text:
            return None
        key = P.norm(text)
        if key in self.stage_map:
            target = self.stage_map[key]
            return (None, "lost") if target == "lost" else (target, None)
        named = self.profile.stage_of(text)
        if named is not None:
            return named.stage, named.status
        try:
            return find_stage(self.stages, text).key, None
        except ValueError:
            raise FieldError("stage", _("unknown stage {stage} for {tool}; map it, e.g. "
                                        "--stage-map {stage}=qualified (see funnel stages)").format(
                                            stage=repr(text), tool=self.profile.name)) from None


class StatusReader(TextReader):
    def __init__(self, profile: P.Profile):
        super().__init__("status")
        self.profile = profile

    def read(self, cell: Cell) -> str | None:
        text = cell_text(cell).strip()
        if not text:
            return None
        status = self.profile.status_of(text) or {"open": "open", "won": "won", "lost": "lost"}.get(
            text.casefold())
        if status is None:
            raise FieldError("status", _("{cell} is not a status we read; use open, won or lost").format(
                cell=shown(text)))
        return status


def reader_for(column: P.Column, profile: P.Profile, opts: ReadOptions) -> Any:
    """The reader of one mapped column, with the rep's options over the profile's conventions."""
    o = column.opts
    kind = column.read
    guess = opts.speculative
    if kind == P.AMOUNT:
        return AmountColumn(column.field, decimal=opts.decimal or profile.decimal,
                            scale=Decimal(o.get("scale", 1)), unit_currency=o.get("unit_currency"),
                            speculative=guess)
    if kind == P.PROBABILITY:
        return ProbabilityColumn(column.field, scale=profile.probability_scale, speculative=guess)
    if kind in (P.DATE, P.MOMENT):
        clock = opts.follow_up_time if column.field == "next_follow_up_at" else time(0)
        return DateColumn(column.field, opts.tz, "date" if kind == P.DATE else "moment",
                          opts.date_order or profile.date_order, default_clock=clock, speculative=guess)
    if kind == P.CURRENCY:
        return CurrencyReader(column.field)
    if kind == P.STAGE:
        return StageReader(profile, opts.stages, opts.stage_map)
    if kind == P.STATUS:
        return StatusReader(profile)
    if kind == P.EXTERNAL_ID:
        return ExternalIdReader(profile.id_prefix)
    return TextReader(column.field)


@dataclass
class PlannedColumn:
    index: int
    header: str
    column: P.Column
    reader: Any


@dataclass
class ReadColumns:
    """Rows as typed columns: `values[field][k]` for row k (None where empty or refused),
    `reasons[k]` why row k is refused (None: accepted), and what the import should say."""

    values: dict[str, list[Any]]
    reasons: list[str | None]
    rounded_probabilities: int = 0
    unknown_stages: dict[str, int] = field(default_factory=dict)
    rounded_rows: list[int] = field(default_factory=list)  # rows whose probability was rounded
    stored_times: dict = field(default_factory=dict)  # {id: (moment, stored text)}, DateColumn.read_many


@dataclass
class ImportPlan:
    table: Table
    match: P.Match
    columns: list[PlannedColumn]
    opts: ReadOptions
    notes: list[str] = field(default_factory=list)
    stage_times: bool = False  # read_columns gives stored_times (only stage_chunk uses them)

    def __enter__(self) -> "ImportPlan":
        return self

    def __exit__(self, *exc) -> None:
        self.table.close()

    def observe(self, rows: Sequence[Sequence[Cell]]) -> None:
        """Evidence for the whole-column decisions; call with every row before read_columns."""
        columns = self._columns(rows)
        for pc in self.columns:
            if getattr(pc.reader, "speculative", False):
                pc.reader.speculative = False  # evidence is being given: decide from it
            pc.reader.observe(set(columns[pc.index]))

    @property
    def may_need_evidence(self) -> bool:
        """Whether any column could have a value only its whole column decides (a column whose
        conventions the profile or an option fixes never does)."""
        return any(getattr(pc.reader, "speculative", False) for pc in self.columns)

    def gather_evidence(self, batch: int = 20_000) -> None:
        """The evidence pass of a speculative plan: read the whole file again (its own handle, so
        the records being read stay where they are), observe every column that may need it, and
        read from now on with readers that decide from the whole column."""
        fresh = replace(self.opts, speculative=False)
        wanted = [pc for pc in self.columns if getattr(pc.reader, "speculative", False)]
        for pc in wanted:
            pc.reader = reader_for(pc.column, self.match.profile, fresh)
        seen: dict[int, set] = {pc.index: set() for pc in wanted}
        with reopen(self.table) as again:
            for record in again.records:
                cells = record.cells
                if record.error or cells is None:
                    continue
                for i, bucket in seen.items():
                    if i < len(cells):
                        bucket.add(cells[i])
        for pc in wanted:
            pc.reader.observe(seen[pc.index])
        self.opts = fresh

    def _columns(self, rows: Sequence[Sequence[Cell]]) -> list[tuple]:
        width = len(self.table.header)
        if rows and set(map(len, rows)) != {width}:  # a ragged row (one pass in C, not a loop per row)
            rows = [list(row[:width]) + [None] * (width - len(row)) for row in rows]
        return list(zip(*rows)) if rows else [()] * width

    def read_columns(self, rows: Sequence[Sequence[Cell]], *, split_close: bool = True) -> ReadColumns:
        """Typed columns for these rows (a chunk of the file): each distinct cell of a column is
        read once, then the row rules spanning columns run over whole columns.

        `split_close=False` leaves a profile's close date as `_close` (the importer settles it
        once the deal's status is final); a speculative plan raises NeedsEvidence (cells.py)."""
        n = len(rows)
        width = len(self.table.header)
        reasons: list[str | None] = [None] * n
        errors: dict[int, list[str]] = {}
        values: dict[str, list[Any]] = {}
        rounded = 0
        unknown: dict[str, int] = {}
        clashes: list[str] = []
        columns = self._columns(rows)
        stored: dict | None = {} if self.stage_times else None
        for pc in self.columns:
            column = columns[pc.index]
            bad: dict[Any, str] = {}
            read = pc.reader.read
            many = getattr(pc.reader, "read_many", None)  # date and text columns: common shapes at once
            args = (set(column), stored) if type(pc.reader) is DateColumn else (set(column),)  # stored: UTC times
            table, rest = many(*args) if many is not None else ({}, args[0])
            for cell in rest:
                try:
                    table[cell] = read(cell)
                except FieldError as exc:
                    bad[cell] = f"{exc.field}: {exc.message}"
                    table[cell] = None
            if bad:
                for k, cell in enumerate(column):
                    if cell in bad:
                        errors.setdefault(k, []).append(bad[cell])
                        if pc.column.read == P.STAGE:
                            name = cell_text(cell).strip()
                            unknown[name] = unknown.get(name, 0) + 1
            got = list(map(table.__getitem__, column))
            if pc.column.read == P.PROBABILITY:
                rounded_rows = [k for k, v in enumerate(got) if v is not None and v.rounded]
                rounded += len(rounded_rows)
                got = [None if v is None else v.value for v in got]
            key = pc.column.field
            if pc.column.opts.get("closes"):
                key = "_close"  # the close date: expected while open, the closing time once closed
            if key in values and key in self.match.profile.twins:
                values[key] = [a if b is None else b if a is None else a if a == b else _Clash(a, b)
                               for a, b in zip(values[key], got)]
                clashes.append(key)
            else:
                values[key] = got
        if rows and set(map(len, rows)) != {width}:
            for k, row in enumerate(rows):
                if len(row) != width:
                    errors.setdefault(k, []).insert(0, ragged_row(len(row), width))
        out = ReadColumns(values, reasons, rounded, unknown, stored_times=stored or {})
        if rounded:
            out.rounded_rows = rounded_rows
        self._settle(out, errors, clashes, split_close)
        joined = _("; ")  # a row's several reasons, in the rep's punctuation
        for k, messages in errors.items():
            reasons[k] = joined.join(messages)
        return out

    def _settle(self, out: ReadColumns, errors: dict[int, list[str]], clashes: list[str],
                split_close: bool = True) -> None:
        """The rules that span columns on one row (see the module doc)."""
        v = out.values
        n = len(out.reasons)
        for name in clashes:
            got = v[name]
            for k, x in enumerate(got):
                if isinstance(x, _Clash):
                    errors.setdefault(k, []).append(_("{field}: two columns say {one} and {other}").format(
                        field=name, one=repr(x.a), other=repr(x.b)))
                    got[k] = None
        stage = v.pop("stage", None)
        if stage is not None:
            v["stage"] = [None if s is None else s[0] for s in stage]
            implied = [None if s is None else s[1] for s in stage]
            status = v.get("status", [None] * n)
            for k in range(n):
                if implied[k] and status[k] and implied[k] != status[k]:
                    errors.setdefault(k, []).append(_("status: the stage says {implied} but the status "
                                                      "column says {status}").format(
                                                          implied=implied[k], status=status[k]))
            v["status"] = [s or i for s, i in zip(status, implied)]
        amounts: list[Money | None] | None = v.get("amount")
        if amounts is not None:
            column = v.get("currency", [None] * n)
            profile = self.match.profile
            keys = list(zip(amounts, column))
            by_kind: dict[tuple, Any] = {}  # (what the amount names, the column): a few combinations
            settled: dict[tuple, Any] = {}
            for key in set(keys):
                m, c = key
                kind = (None, None, "", c) if m is None else (m.currency, m.candidates, m.sign, c)
                hit = by_kind.get(kind, _UNSETTLED)
                if hit is _UNSETTLED:
                    try:
                        hit = c if m is None else settle_currency(
                            m.currency, m.candidates, c, profile_signs=profile.signs, sign=m.sign,
                            assume=self.opts.currency)
                    except ValueError as exc:
                        hit = ValueError(_("currency: {problem}").format(problem=exc))
                    by_kind[kind] = hit
                settled[key] = hit
            currency: list[Any] = list(map(settled.__getitem__, keys))
            if any(isinstance(h, ValueError) for h in by_kind.values()):
                for k, hit in enumerate(currency):
                    if isinstance(hit, ValueError):
                        errors.setdefault(k, []).append(str(hit))
                        currency[k] = None
            minor = {m: m.minor for m in set(amounts) if m is not None}
            v["amount"] = list(map(minor.get, amounts))
            v["currency"] = currency
        close = v.pop("_close", None) if split_close else None
        if close is not None:
            status = v.get("status", [None] * n)
            tz = self.opts.tz
            v["expected_close"] = [d if s in (None, "open") else None for d, s in zip(close, status)]
            v["closed_at"] = [None if d is None or s in (None, "open") else
                              datetime.combine(d, time(0), tzinfo=tz).astimezone(timezone.utc)
                              for d, s in zip(close, status)]


_UNSETTLED = object()


@dataclass(frozen=True, slots=True)
class _Clash:
    a: Any
    b: Any


def plan_import(path: str | Path, opts: ReadOptions) -> ImportPlan:
    """Open `path` and plan how each column is read (see the module doc). Raises
    ImportFileError (the file), ProfileUnclear (the header) or SavedProfileError (--map)."""
    def header_known(line: str) -> bool:
        cells = [c.strip().strip('"') for c in line.replace(";", ",").replace("\t", ",").split(",")]
        try:
            P.recognise(cells, saved=opts.saved)
            return True
        except P.ProfileUnclear:
            return False

    table = open_table(path, encoding=opts.encoding, sheet=opts.sheet, header_known=header_known)
    return plan_table(table, opts)


def plan_table(table: Table, opts: ReadOptions) -> ImportPlan:
    """Plan how each column of an opened table is read (closes the table if that fails)."""
    try:
        try:
            match = P.recognise(table.header, saved=opts.saved, choose=opts.profile)
        except P.ProfileUnclear:
            if not opts.mapping:
                raise
            match = None
        if opts.mapping:
            match = apply_map(match, table.header, opts.mapping)
        assert match is not None
        columns = [PlannedColumn(i, table.header[i], c, reader_for(c, match.profile, opts))
                   for i, c in enumerate(match.columns) if c is not None]
        notes = [*table.notes, f"profile {match.profile.name}"]
        if match.ignored:
            notes.append(ignored_line(match.ignored))
        return ImportPlan(table, match, columns, opts, notes)
    except BaseException:
        table.close()
        raise
