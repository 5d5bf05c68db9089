"""`funnel export` and `funnel import`: CSV for the team lead and for onboarding.

`import_file` glues the pure CSV reader (exchange.csv_import) to the store's bulk writer
(store.bulk): stream the file, validate each row, write accepted rows in batches inside
one transaction, and put refused rows with their reason in `<input>.rejected.csv`.

Exit codes: 0 done; 1 refused, or some rows were rejected (the report says which).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Iterator, Sequence

from funnel_tui.cli import EXIT_ERROR, EXIT_OK, CliError, _tz, now_utc, open_store, safe

BATCH = 2000  # rows per executemany: large enough to amortise, small enough to stay flat
SHOW_REASONS = 20
SOURCE_NAMES = {"funnel": "funnel-tui columns", "template": "Chinese tracking template",
                "pipedrive": "Pipedrive export", "hubspot": "HubSpot export"}


@dataclass
class ImportReport:
    path: str
    encoding: str = ""
    source: str = ""
    dry_run: bool = False
    aborted: bool = False
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0
    follow_ups: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    unknown_stages: dict[str, int] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)  # "line N: why", the first few
    duplicate_lines: list[str] = field(default_factory=list)
    rejected_file: str | None = None
    backup: str | None = None
    seconds: float = 0.0

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
) -> ImportReport:
    """Import one CSV file; raises ImportFileError when the file cannot be read at all.

    The file is read and validated in chunks of `batch` rows (RowParser.parse_columns); a
    real import hands each chunk to the writer staged (bulk.stage_chunk: columns in their
    stored form), which copies it in with INSERT … SELECT (DealImporter.add_staged). `reader`: "fork" reads and validates in a forked
    child while this process writes (two cores at work), "inline" does both here, "auto"
    forks for files of FORK_BYTES or more where fork is safe (Linux).
    """
    from funnel_tui.domain.validation import validate_field
    from funnel_tui.exchange.csv_import import (
        ImportFileError,
        RejectedWriter,
        RowParser,
        detect_encoding,
        has_nul,
        map_header,
        parse_stage_map,
        read_records,
        rejected_path,
    )
    from funnel_tui.store.backup import backup_before
    from funnel_tui.store.bulk_import import DealImporter, ImportRow, Outcome

    started = time.perf_counter()
    src = Path(path).expanduser()
    if not src.is_file():
        raise ImportFileError(f"import: no file {str(src)!r}")
    if on_error not in ("skip", "abort"):
        raise ImportFileError(f"on-error: {on_error!r}; use skip or abort")
    if reader not in ("auto", "fork", "inline"):
        raise ValueError(f"reader: {reader!r}")
    report = ImportReport(str(src), dry_run=dry_run)
    stages = store.stages()
    mapping = parse_stage_map(stage_map, stages)
    owner = validate_field("owner", owner) if owner else None
    report.encoding = detect_encoding(src, encoding)
    size = src.stat().st_size
    with open(src, encoding=report.encoding, errors="strict", newline="") as fh:
        records = read_records(fh, check_nul=has_nul(src, report.encoding))
        first = next(records, None)
        if first is None:
            raise ImportFileError("import: the file is empty (no header line)")
        if first.cells is None or first.error:
            raise ImportFileError(f"header: line {first.line}: {first.error}")
        header = map_header(first.cells)
        report.source, report.ignored_columns = header.source, header.ignored
        parser = RowParser(header, stages, now, tz, mapping, owner)
        given = header.given

        rejected = None
        if not dry_run:
            report.backup = _str(backup_before(store.engine, reason="import"))
            rejected = RejectedWriter(rejected_path(src), first.cells)

        def refuse(line: int, cells: list[str] | None, reason: str) -> None:
            report.rejected += 1
            if len(report.reasons) < SHOW_REASONS:
                report.reasons.append(f"line {line}: {reason}")
            if rejected is not None:
                rejected.add(cells, reason)
            if on_error == "abort":
                report.aborted = True
                importer.abort()

        cells_at: dict[int, list[str]] = {}  # cells of the rows a chunk's writer may still refuse

        def reparse(rows: list[tuple[int, list[str]]]) -> list[Any]:
            """Staged rows the database already knows, as add() takes them."""
            out = []
            for (line, cells), result in zip(rows, parser.parse_many([cells for _, cells in rows])):
                cells_at[line] = cells
                out.append(Outcome(line, "rejected", result) if isinstance(result, str)
                           else ImportRow(line, result[0], given, result[1]))
            return out

        importer = DealImporter(store, now=now, update=update, dry_run=dry_run, staged=True)
        staged = importer.staged  # a real import into SQLite
        fork = staged and hasattr(os, "fork") and (
            reader == "fork" or (reader == "auto" and size >= FORK_BYTES and sys.platform.startswith("linux")))

        def produce():
            return read_chunks(records, parser, given, staged=staged, batch=batch,
                               estimate=lambda rows: int(rows * size / max(fh.buffer.tell(), 1)))

        duplicates = 0
        try:
            # closing(): on an error the forked reader is stopped at once, not when the
            # traceback that still holds this frame is freed.
            with importer, _gc_paused(), closing(forked(produce) if fork else produce()) as chunks:
                expected = False
                for chunk in chunks:
                    report.rows += chunk.rows
                    if chunk.unknown_stages is not None:
                        report.unknown_stages = chunk.unknown_stages
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
                        outcomes = importer.add(chunk.accepted)
                    else:
                        outcomes = []
                    for o in outcomes:
                        if o.kind == "rejected":
                            report.rejected -= 1  # counted again by refuse()
                            refuse(o.line, cells_at.get(o.line), o.detail)
                        elif o.kind == "duplicate":
                            seen_twice.append((o.line, o.detail))
                    for line, detail in sorted(seen_twice)[:SHOW_REASONS - len(report.duplicate_lines)]:
                        report.duplicate_lines.append(f"line {line}: {detail}")
                c = importer.counts
                report.rejected += c.rejected
                if not report.aborted:
                    report.inserted, report.updated, report.unchanged = c.inserted, c.updated, c.unchanged
                    report.duplicates, report.follow_ups = c.duplicates + duplicates, c.follow_ups
        except BaseException:
            if rejected is not None:
                rejected.discard()
            raise
        if rejected is not None:
            if report.aborted:
                rejected.discard()
            else:
                report.rejected_file = _str(rejected.finish())
    report.seconds = time.perf_counter() - started
    return report


# --- reading in chunks, here or in a forked reader ----------------------------------------------

FORK_BYTES = 1 << 20  # about 4k rows: below this a second process costs more than it saves


@dataclass
class Chunk:
    """What the reader made of `rows` records: rejections, in-chunk duplicates, and the
    accepted rows, staged for the writer (bulk.stage_chunk) or as ImportRows (dry run)."""

    rows: int = 0
    rejected: list[tuple[int, list[str] | None, str]] = field(default_factory=list)
    duplicates: list[tuple[int, str]] = field(default_factory=list)
    staged: Any = None  # bulk.StagedChunk
    accepted: list[Any] = field(default_factory=list)
    cells: dict[int, list[str]] = field(default_factory=dict)
    estimate: int = 0  # rows the whole file probably holds (first chunk only)
    unknown_stages: dict[str, int] | None = None  # the last chunk only


def read_chunks(records, parser, given, *, staged: bool, batch: int, estimate) -> Any:
    """Chunks of validated rows from `records` (csv_import.read_records after the header)."""
    import marshal
    from itertools import islice

    from funnel_tui.store.bulk_import import ImportRow, SeenInFile
    from funnel_tui.store.bulk_rows import STAGED_COLUMNS, stage_chunk

    first = True
    while True:
        recs = list(islice(records, batch))
        if not recs:
            break
        chunk = Chunk(rows=len(recs))
        good = []
        for rec in recs:
            if rec.error:
                chunk.rejected.append((rec.line, rec.cells, rec.error))
            else:
                good.append(rec)
        parsed = parser.parse_columns([rec.cells for rec in good])
        keep = []
        for k, reason in enumerate(parsed.reasons):
            if reason is None:
                keep.append(k)
            else:
                chunk.rejected.append((good[k].line, good[k].cells, reason))
        chunk.rejected.sort(key=lambda r: r[0])  # in file order, as the rep reads them
        columns = parsed.columns
        if not staged:
            names = list(columns)
            for k in keep:
                deal = {name: columns[name][k] for name in names}
                chunk.accepted.append(ImportRow(good[k].line, deal, given, parsed.follow[k]))
                chunk.cells[good[k].line] = good[k].cells
        else:
            uids, exts = columns["uid"], columns["external_id"]
            cells: list[bytes | None] = [None] * len(good)
            if any(uids) or any(exts):
                # Rows naming a deal: the writer checks them against the database; a second
                # row of the chunk for the same deal is a duplicate (its INSERT would fail).
                seen = SeenInFile()
                unique = []
                for k in keep:
                    uid, ext, line = uids[k], exts[k], good[k].line
                    if uid or ext:
                        repeat = seen.duplicate(line, uid, ext)
                        if repeat:
                            chunk.duplicates.append((line, repeat))
                            continue
                        cells[k] = marshal.dumps(good[k].cells)
                    unique.append(k)
                keep = unique
            if keep:
                if len(keep) == len(good):
                    pick = list
                else:
                    at = keep
                    pick = lambda col: [col[k] for k in at]  # noqa: E731
                chunk.staged = stage_chunk(
                    [good[k].line for k in keep], {c: pick(columns[c]) for c in STAGED_COLUMNS},
                    pick(parsed.follow), pick(cells))
        if first:
            chunk.estimate = estimate(len(recs))
            first = False
        yield chunk
    yield Chunk(unknown_stages=dict(sorted(parser.unknown_stages.items(), key=lambda kv: (-kv[1], kv[0]))))


def forked(produce) -> Any:
    """Run the generator `produce()` in a forked child and yield its items here.

    The child inherits the open file and parser as they are, reads and validates, and
    pickles each chunk into a pipe; a thread here queues up to four chunks (then the
    child's writes block, so memory stays flat). The child never touches the database:
    it freezes what existed before the fork (so no inherited connection is ever finalised
    there) and leaves with os._exit. If this side stops early, the child is killed.
    """
    import gc
    import pickle
    import queue
    import signal
    import threading

    from funnel_tui.exchange.csv_import import ReaderFailed

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the reader
        code = 0
        try:
            os.close(r)
            gc.freeze()
            with os.fdopen(w, "wb") as out:
                try:
                    for item in produce():
                        pickle.dump(item, out, protocol=pickle.HIGHEST_PROTOCOL)
                    pickle.dump("end", out)
                except Exception as exc:  # noqa: BLE001 - reported to the writer, which rolls back
                    pickle.dump(("failed", f"{type(exc).__name__}: {exc}"), out)
                    code = 1
        except BaseException:  # noqa: BLE001 - the writer went away (broken pipe) or Ctrl-C
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    # A thread here takes chunks off the pipe as soon as the reader has them, so the reader
    # never waits for the writer to finish a chunk (a pipe holds 64 KiB, a chunk ~1 MiB).
    # Reading the pipe and SQLite's work both release the GIL; the queue bounds memory.
    chunks: queue.Queue = queue.Queue(maxsize=4)

    def pump() -> None:
        try:
            with os.fdopen(r, "rb") as inp:
                while True:
                    try:
                        item = pickle.load(inp)
                    except EOFError:
                        item = ("failed", "the file reader stopped unexpectedly")
                    chunks.put(item)
                    if not isinstance(item, Chunk):
                        return
        except BaseException as exc:  # noqa: BLE001 - handed to the writer, which rolls back
            chunks.put(("failed", f"{type(exc).__name__}: {exc}"))

    thread = threading.Thread(target=pump, name="import-pipe", daemon=True)
    thread.start()
    done = False
    try:
        while True:
            item = chunks.get()
            if item == "end":
                done = True
                return
            if isinstance(item, tuple):
                raise ReaderFailed(f"import: reading the file failed ({item[1]}); nothing was imported")
            yield item
    finally:
        if not done:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            while thread.is_alive():  # let the pump see the end of the pipe
                try:
                    chunks.get(timeout=0.1)
                except queue.Empty:
                    pass
        os.waitpid(pid, 0)


def _str(p: Path | None) -> str | None:
    return str(p) if p is not None else None


# --- printing --------------------------------------------------------------------------------


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _print_report(r: ImportReport) -> None:
    out = sys.stdout
    name = safe(Path(r.path).name)
    print(f"import: {name} ({r.encoding}, {SOURCE_NAMES.get(r.source, r.source)})", file=out)
    if r.ignored_columns:
        print("  ignored columns: " + ", ".join(safe(c) for c in r.ignored_columns), file=out)
    if r.aborted:
        print(f"  {_n(r.rows, 'row')} read; {r.rejected} rejected; --on-error abort: nothing was imported",
              file=out)
    else:
        verb = "would import" if r.dry_run else "imported"
        parts = [f"{r.inserted} new"]
        if r.updated or r.unchanged:
            parts.append(f"{r.updated} updated, {r.unchanged} unchanged")
        parts += [f"{r.duplicates} duplicates skipped" if r.duplicates else "no duplicates",
                  f"{r.rejected} rejected"]
        print(f"  {_n(r.rows, 'row')} read; {verb}: {', '.join(parts)}"
              + (f"; {_n(r.follow_ups, 'follow-up')} planned" if r.follow_ups else ""), file=out)
    for line in r.reasons:
        print(f"  rejected {safe(line)}", file=out)
    if r.rejected > len(r.reasons):
        print(f"  … and {r.rejected - len(r.reasons)} more rejected", file=out)
    if r.unknown_stages:
        listed = ", ".join(f"{safe(k)!r} ({n} row{'s' if n != 1 else ''})" for k, n in r.unknown_stages.items())
        example = next(iter(r.unknown_stages))
        print(f"  unknown stages: {listed}; map them, e.g. --stage-map {safe(example)!r}=qualified "
              "(see `funnel stages`)", file=out)
    for line in r.duplicate_lines[:5]:
        print(f"  duplicate {safe(line)}", file=out)
    if r.rejected_file:
        print(f"  rejected rows, with a reason column, to fix and import again: {safe(r.rejected_file)}", file=out)
    if r.dry_run:
        print("  dry run: nothing was written", file=out)
    elif r.backup:
        print(f"  backup first: {safe(r.backup)}", file=out)
    if not r.dry_run and not r.aborted and (r.inserted or r.updated):
        print("  undo the whole import with: funnel undo", file=out)


# --- commands ---------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    from funnel_tui.exchange.csv_export import ExportError, export_deals, export_summary

    store = open_store(args)
    now, tz = now_utc(), _tz()
    dest = args.path if args.path is not None else Path.cwd()
    try:
        if args.summary:
            res = export_summary(store, dest, now=now, tz=tz, owner=args.owner, encoding=args.encoding)
            what = "stages"
        else:
            res = export_deals(store, dest, now=now, tz=tz, owner=args.owner, status=args.status,
                               stage=args.stage, encoding=args.encoding)
            what = "deals"
    except ExportError as exc:
        raise CliError(f"export: {exc}") from None
    where = "stdout" if res.path is None else str(res.path)
    print(f"exported {res.rows} {what} to {safe(where)} ({res.encoding})",
          file=sys.stderr if res.path is None else sys.stdout)
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    import json

    from funnel_tui.exchange.csv_import import ImportFileError

    store = open_store(args)
    try:
        report = import_file(
            store, args.path, now=now_utc(), tz=_tz(), dry_run=args.dry_run, encoding=args.encoding,
            on_error=args.on_error, update=args.update, stage_map=args.stage_map or (), owner=args.owner,
        )
    except ImportFileError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"import: cannot read {safe(args.path)}: {exc.strerror or type(exc).__name__}") from None
    if getattr(args, "format", "table") == "json":
        json.dump({**asdict(report), "ok": report.ok}, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        _print_report(report)
    return EXIT_OK if report.ok else EXIT_ERROR


def register(cmd, fmt) -> None:
    sp = cmd("export", cmd_export, "export deals to CSV for Excel (UTF-8 with BOM, formula-safe)")
    sp.add_argument("path", nargs="?", metavar="PATH|-",
                    help="file or folder to write (default: a dated file here); - for stdout")
    sp.add_argument("--owner", help="only this rep's deals")
    sp.add_argument("--status", choices=("open", "won", "lost", "all"), default="open",
                    help="which deals (default open)")
    sp.add_argument("--stage", help="only this stage (key or name)")
    sp.add_argument("--encoding", choices=("utf-8-sig", "utf-8", "gb18030", "gbk"), default="utf-8-sig",
                    help="utf-8-sig (default: Excel reads Chinese correctly), utf-8, or gb18030/gbk "
                         "for old Excel; characters an encoding cannot hold are reported, never replaced")
    sp.add_argument("--summary", action="store_true", help="write the per-stage summary table instead")

    sp = cmd("import", cmd_import,
             "import deals from CSV: our export, the Chinese template, Pipedrive or HubSpot "
             "(exit 1 if any row was rejected)")
    sp.add_argument("path", help="the CSV file")
    sp.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
    sp.add_argument("--encoding", default="auto",
                    help="auto (BOM, then UTF-8, then GB18030; the default), utf-8, gb18030, …")
    sp.add_argument("--on-error", choices=("skip", "abort"), default="skip",
                    help="skip: import the good rows, write the bad ones to <file>.rejected.csv "
                         "(default); abort: one bad row means nothing is imported")
    sp.add_argument("--update", action="store_true",
                    help="update deals whose uid/external_id already exist (default: skip them)")
    sp.add_argument("--stage-map", action="append", metavar="OLD=NEW",
                    help="map a stage name in the file to one of ours (repeatable), "
                         "e.g. --stage-map 'Contact Made=qualified'")
    sp.add_argument("--owner", help="owner for rows that name none")
    sp.add_argument("--format", choices=("table", "json"), default="table",
                    help="table: a report for people; json: the counts and reasons for scripts")
