"""The import, as one use case: a file → validated rows → the store, with a report.

One path for every file: exchange.reading plans it (tables: workbook or CSV, its encoding and
delimiter; profiles: which tool wrote it, with the rep's --map over it; one reader per column),
import_rows.RowParser turns its rows into complete deals, and the store's bulk writer
(store.bulk_import.DealImporter) writes them in batches inside one transaction. Refused rows go
with their reason to `<input>.rejected.csv`. Big files are read by a forked child while this
process writes (import_chunks). `funnel import` and the TUI's Import screen only gather the
options and show the ImportReport.

Whole-column decisions (a decimal comma, day-first dates, fractions for probabilities) are made
from the whole column before any of its ambiguous values is read: the file is read once, and
read a second time for the evidence only when such a value turns up (RowParser.read).
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

from funnel_tui.domain.dates import DEFAULT_TIME
from funnel_tui.domain.import_counts import ImportCounts
from funnel_tui.domain.stages import StageDef, find_stage
from funnel_tui.domain.validation import validate_field
from funnel_tui.exchange import profiles as P
from funnel_tui.exchange.import_chunks import FORK_BYTES, drain, forked, read_chunks
from funnel_tui.exchange.import_read import ImportFileError
from funnel_tui.exchange.import_rejected import RejectedFileError, RejectedWriter, rejected_path
from funnel_tui.exchange.import_rows import RowParser
from funnel_tui.exchange.profiles.saved import load_saved
from funnel_tui.exchange.reading import ImportPlan, ReadOptions, plan_import
from funnel_tui.i18n import N_, _

if TYPE_CHECKING:
    from funnel_tui.exchange.import_early import EarlyRead

BATCH = 2000  # rows per executemany: large enough to amortise, small enough to stay flat
SHOW_REASONS = 20
SHOW_IGNORED = 10
# The report's `source` as it was before profiles (JSON shapes only grow): the profile key otherwise.
LEGACY_SOURCE = {"template_zh": "template"}
# How the report's delimiter and encoding are named to a rep (translated where shown).
DELIMITER_NAMES = {",": N_("comma"), ";": N_("semicolon"), "\t": N_("tab")}
ENCODING_HOW = {"bom": N_("its byte-order mark"), "utf-8": N_("valid UTF-8"), "utf-16": N_("UTF-16 text"),
                "detected": N_("detected"), "given": N_("as given")}


class ImportNotDone(ImportFileError):
    """Nothing was imported: the backup before it, or the rejected-rows file, could not be
    written (exit 3: the disk said no), so the transaction was never committed."""

    exit_code = 3


@dataclass
class ImportOptions:
    """How to read a file, as the rep says it (`funnel import` options, the Import screen)."""

    encoding: str = "auto"
    sheet: str | None = None
    decimal: str | None = None  # "point" | "comma"
    date_order: str | None = None  # "dmy" | "mdy" | "ymd"
    currency: str | None = None  # settles $ and ¥; the currency of rows that name none
    profile: str | None = None  # a profile key (funnel import --profiles)
    mapping: Mapping[str, str] = field(default_factory=dict)  # header -> field ("-": ignore it)
    stage_map: Sequence[str] = ()  # OLD=NEW items (NEW may be `lost`)
    saved: Sequence[P.Profile] | None = None  # saved profiles; None: the rep's own (config dir)


@dataclass
class ImportReport(ImportCounts):
    """What an import did (its ImportCounts) and how it read the file."""

    path: str
    encoding: str = ""  # the codec the file was read with ("" for a workbook)
    source: str = ""  # the profile, as `profile` (kept for scripts: template for template_zh)
    dry_run: bool = False
    aborted: bool = False
    rows: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    unknown_stages: dict[str, int] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)  # "line N: why", the first few
    duplicate_lines: list[str] = field(default_factory=list)
    rejected_file: str | None = None
    # The import committed, but its rejected rows could not be given their file name.
    rejected_file_error: str | None = None
    backup: str | None = None
    seconds: float = 0.0
    profile: str = ""  # the profile's key (funnel import --profiles)
    profile_name: str = ""
    encoding_label: str = ""  # as people name it: UTF-8, GB18030, Big5, Windows-1252
    encoding_how: str = ""  # bom | utf-8 | utf-16 | detected | given ("" for a workbook)
    delimiter: str = ""  # "," ";" or tab ("" for a workbook)
    sheet: str = ""  # the workbook's sheet ("" for CSV)
    columns: list[list[str]] = field(default_factory=list)  # [header, field or ""] of every column, in order
    rounded_probabilities: int = 0
    evidence_passes: int = 0
    # Rows that name no owner were given this one: the rep's own name (`me`), unless --owner.
    owner_default: str | None = None
    owner_column: bool = False  # the file has an owner column
    currency_default: str = ""  # the currency rows naming none got
    preview: list[dict[str, Any]] = field(default_factory=list)  # the first rows as they would be stored

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.aborted


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic collector off for an import: it makes millions of short-lived cells, lists
    and tuples and no cycles, and the collector's passes over them cost about a quarter of
    reading and validating."""
    import gc

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _stopped_after(early: EarlyRead | None) -> Iterator[None]:
    """An early reader (import_early) stopped when the import ends, however it ends."""
    try:
        yield
    finally:
        if early is not None:
            early.reader.stop()


def parse_stage_map(items: Sequence[str], stages: Sequence[StageDef]) -> dict[str, str]:
    """--stage-map OLD=NEW (repeatable) → {normalised OLD: stage key, or "lost"}."""
    out: dict[str, str] = {}
    for item in items:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise ImportFileError(_("stage-map: {item} is not OLD=NEW, e.g. 'Contact Made=qualified' "
                                    "or 'Gone=lost'").format(item=repr(item)))
        target = new.strip()
        if target.casefold() == "lost":
            out[P.norm(old)] = "lost"
            continue
        try:
            out[P.norm(old)] = find_stage(list(stages), target).key
        except ValueError as exc:
            raise ImportFileError(_("stage-map: {problem}; or `lost`").format(problem=exc)) from None
    return out


def plan_file(store: Any, path: str | Path, opts: ImportOptions, *, tz: tzinfo,
              speculative: bool = True) -> ImportPlan:
    """Open and plan `path` as the importer reads it (ImportFileError, ProfileUnclear or
    SavedProfileError say why it cannot be)."""
    return plan_stages(store.stages(), path, opts, tz=tz, speculative=speculative)


def plan_stages(stages: Sequence[StageDef], path: str | Path, opts: ImportOptions, *, tz: tzinfo,
                speculative: bool = True) -> ImportPlan:
    """plan_file for the live stages `stages` (an early reader plans before the store opens)."""
    stage_map = parse_stage_map(opts.stage_map, stages)
    saved = opts.saved if opts.saved is not None else load_saved()[0]
    src = Path(path).expanduser()
    if not src.is_file():
        raise ImportFileError(_("import: no file {path}").format(path=repr(str(src))))
    read = ReadOptions(tz=tz, encoding=opts.encoding, sheet=opts.sheet, decimal=opts.decimal,
                       date_order=opts.date_order, currency=opts.currency, profile=opts.profile,
                       mapping=dict(opts.mapping), stage_map=stage_map, stages=stages, saved=saved,
                       follow_up_time=DEFAULT_TIME, speculative=speculative)
    try:
        return plan_import(src, read)
    except ValueError as exc:  # ProfileUnclear, SavedProfileError: the header or the --map
        if isinstance(exc, ImportFileError):
            raise
        raise ImportFileError(str(exc)) from None


def resolve_owner(owner: str | None, me: Callable[[], str | None]) -> str | None:
    """The owner of rows that name none: --owner, checked, else the rep (`me()`)."""
    return validate_field("owner", owner) if owner else me()


def new_parser(plan: ImportPlan, stages: Sequence[StageDef], now: datetime, tz: tzinfo, owner: str | None,
               opts: ImportOptions) -> RowParser:
    """The reader of a planned file's rows (the currency of rows naming none: --currency,
    else the profile's, else CNY)."""
    currency = opts.currency or plan.match.profile.currency or "CNY"
    return RowParser(plan, stages, now, tz, owner=owner, currency=currency,
                     no_reason=_("not in the imported file"))


def describe_plan(report: ImportReport, plan: ImportPlan) -> None:
    """What the report says about how the file was read."""
    table, match = plan.table, plan.match
    if table.encoding is not None:
        report.encoding = table.encoding.encoding
        report.encoding_label = table.encoding.label
        report.encoding_how = table.encoding.how
    report.delimiter = table.delimiter or ""
    report.sheet = table.sheet or ""
    report.profile = match.profile.key
    report.profile_name = match.profile.name
    report.source = LEGACY_SOURCE.get(match.profile.key, match.profile.key)
    report.ignored_columns = list(match.ignored)
    report.columns = [[header, column.field if column is not None else ""]
                      for header, column in zip(match.header, match.columns)]


def import_file(
    store: Any,
    path: str | Path,
    *,
    now: datetime,
    tz: tzinfo,
    dry_run: bool = False,
    encoding: str = "auto",
    on_error: str = "skip",
    update: bool = False,
    stage_map: Sequence[str] = (),
    owner: str | None = None,
    batch: int = BATCH,
    reader: str = "auto",
    options: ImportOptions | None = None,
    preview: int = 0,
    early: EarlyRead | None = None,
) -> ImportReport:
    """Import one file; raises ImportFileError when it cannot be read at all.

    `options` says how to read it (ImportOptions; `encoding` and `stage_map` are its two oldest
    fields, kept as keywords). The file is read and validated in chunks of `batch` rows
    (RowParser.parse_columns); a real import hands each chunk to the writer staged
    (store/staged.stage_chunk: columns in their stored form), which copies it in with INSERT … SELECT
    (DealImporter.add_staged). `reader`: "fork" reads and validates in a forked child while this
    process writes (two cores at work), "inline" does both here, "auto" forks for files of
    FORK_BYTES or more where fork is safe (Linux). `preview`: keep the first N accepted rows as
    they would be stored (a dry run's, for the Import screen). `early`: a reader `funnel import`
    forked before the store opened (import_early.start), used only if it fits what the store
    says, else stopped.
    """
    from funnel_tui.store.backup import BackupError, backup_before
    from funnel_tui.store.bulk_import import DealImporter, ImportRow, Outcome

    started = time.perf_counter()
    if on_error not in ("skip", "abort"):
        raise ImportFileError(_("on-error: {value}; use skip or abort").format(value=repr(on_error)))
    if reader not in ("auto", "fork", "inline"):
        raise ValueError(f"reader: {reader!r}")
    opts = replace(options) if options is not None else ImportOptions()
    if options is None or encoding != "auto":
        opts.encoding = encoding
    if stage_map:
        opts.stage_map = [*opts.stage_map, *stage_map]
    src = Path(path).expanduser()
    report = ImportReport(str(src), dry_run=dry_run)
    stages = store.stages()
    # Deals without an owner are the rep's own.
    owner = resolve_owner(owner, lambda: store.me() if hasattr(store, "me") else None)
    if early is not None and (dry_run or reader == "inline" or store.engine.dialect.name != "sqlite"
                              or not early.fits(options=opts, stages=stages, owner=owner, now=now, tz=tz,
                                                batch=batch)):
        early.cancel()  # it guessed otherwise than the store says: read the file anew
        early = None
    plan = early.plan if early is not None else plan_file(store, src, opts, tz=tz)
    with plan, _stopped_after(early):
        describe_plan(report, plan)
        parser = early.parser if early is not None else new_parser(plan, stages, now, tz, owner, opts)
        report.owner_default, report.owner_column = owner, "owner" in plan.match.fields
        report.currency_default = parser.currency
        given = parser.given
        header = plan.table.header

        rejected = None
        if not dry_run:
            store.check_writable()  # a read-only database: refused before the backup
            try:
                report.backup = _str(backup_before(store.engine, reason="import"))
            except BackupError as exc:
                raise ImportNotDone(_("import: no import without a backup, and the backup failed: {why}; "
                                      "nothing was imported").format(why=exc)) from None
            try:
                rejected = RejectedWriter(rejected_path(src), header)
            except RejectedFileError as exc:
                raise ImportNotDone(_("import: {why}; nothing was imported").format(why=exc)) from None

        def refuse(line: int, cells: list | None, reason: str) -> None:
            report.rejected += 1
            if len(report.reasons) < SHOW_REASONS:
                report.reasons.append(_("line {line}: {reason}").format(line=line, reason=reason))
            if rejected is not None:
                rejected.add(cells, reason)
            if on_error == "abort":
                report.aborted = True
                importer.abort()

        cells_at: dict[int, list] = {}  # cells of the rows a chunk's writer may still refuse

        def reparse(rows: list[tuple[int, list]]) -> list[Any]:
            """Staged rows the database already knows, as add() takes them."""
            out = []
            for (line, cells), result in zip(rows, parser.parse_many([cells for _line, cells in rows])):
                cells_at[line] = cells
                out.append(Outcome(line, "rejected", result) if isinstance(result, str)
                           else ImportRow(line, result[0], given, result[1]))
            return out

        importer = DealImporter(store, now=now, update=update, dry_run=dry_run, staged=True)
        staged = importer.staged  # a real import into SQLite
        big = plan.table.kind == "csv" and plan.table.size >= FORK_BYTES
        fork = staged and hasattr(os, "fork") and (
            reader == "fork" or (reader == "auto" and big and sys.platform.startswith("linux")))

        def produce():
            return read_chunks(plan.table.records, parser, given, staged=staged, batch=batch,
                               estimate=plan.table.rows_expected)

        duplicates = 0
        try:
            # closing(): on an error the forked reader is stopped at once, not when the
            # traceback that still holds this frame is freed.
            source = drain(early.reader) if early is not None else forked(produce) if fork else produce()
            with importer, _gc_paused(), closing(source) as chunks:
                expected = False
                for chunk in chunks:
                    report.rows += chunk.rows
                    if chunk.unknown_stages is not None:
                        report.unknown_stages = chunk.unknown_stages
                        report.rounded_probabilities = chunk.rounded
                        report.evidence_passes = chunk.evidence_passes
                    for line, cells, reason in chunk.rejected:
                        refuse(line, cells, reason)
                    if report.aborted:
                        continue  # keep validating to report every bad row; write nothing
                    duplicates += len(chunk.duplicates)
                    seen_twice = list(chunk.duplicates)
                    if not expected and chunk.estimate:
                        importer.expect(chunk.estimate)  # a big file: the writer may drop indexes
                        expected = True
                    cells_at.clear()
                    if chunk.staged is not None:
                        outcomes = importer.add_staged(chunk.staged, reparse)
                    elif chunk.accepted:
                        cells_at.update(chunk.cells)
                        # Copied before add(), which completes new rows in place; kept after it,
                        # for the rows it would store (not a repeat, not a deal already there).
                        shown = [{"line": row.line, **row.deal, "next_follow_up_at": row.follow_up_at}
                                 for row in chunk.accepted] if len(report.preview) < preview else []
                        outcomes = importer.add(chunk.accepted)
                        stored = {o.line for o in outcomes if o.kind in ("inserted", "updated")}
                        report.preview += [row for row in shown if row["line"] in stored][
                            :max(preview - len(report.preview), 0)]
                    else:
                        outcomes = []
                    for o in outcomes:
                        if o.kind == "rejected":
                            report.rejected -= 1  # counted again by refuse()
                            refuse(o.line, cells_at.get(o.line), o.detail)
                        elif o.kind == "duplicate":
                            seen_twice.append((o.line, o.detail))
                    for line, detail in sorted(seen_twice)[:SHOW_REASONS - len(report.duplicate_lines)]:
                        report.duplicate_lines.append(_("line {line}: {detail}").format(line=line, detail=detail))
                if report.aborted:  # nothing was written: only the refusals count
                    report.rejected += importer.counts.rejected
                else:
                    report.add_counts(importer.counts)
                    report.duplicates += duplicates
                    if rejected is not None:
                        rejected.sync()  # the rejected rows on the disk before the commit, or no commit
        except RejectedFileError as exc:
            rejected.discard()
            raise ImportNotDone(_("import: {why}; nothing was imported").format(why=exc)) from None
        except BaseException:
            if rejected is not None:
                rejected.discard()
            raise
        # Committed. From here on a failure is reported beside the import, never as one.
        if rejected is not None:
            if report.aborted:
                rejected.discard()
            else:
                try:
                    report.rejected_file = _str(rejected.finish())
                except RejectedFileError as exc:
                    rejected.discard()
                    report.rejected_file_error = str(exc)
    report.seconds = time.perf_counter() - started
    return report


def _str(p: Path | None) -> str | None:
    return str(p) if p is not None else None
