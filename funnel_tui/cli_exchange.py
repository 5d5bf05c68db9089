"""`funnel export` and `funnel import`: CSV for the team lead and for onboarding.

`import_file` glues the pure CSV reader (exchange.csv_import) to the store's bulk writer
(store.bulk): stream the file, validate each row, write accepted rows in batches inside
one transaction, and put refused rows with their reason in `<input>.rejected.csv`.

Exit codes: 0 done; 1 refused, or some rows were rejected (the report says which).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Sequence

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
) -> ImportReport:
    """Import one CSV file; raises ImportFileError when the file cannot be read at all."""
    from funnel_tui.domain.validation import validate_field
    from funnel_tui.exchange.csv_import import (
        ImportFileError,
        RejectedWriter,
        RowParser,
        RowRejected,
        detect_encoding,
        map_header,
        parse_stage_map,
        read_records,
        rejected_path,
    )
    from funnel_tui.store.backup import backup_before
    from funnel_tui.store.bulk import DealImporter, ImportRow

    started = time.perf_counter()
    src = Path(path).expanduser()
    if not src.is_file():
        raise ImportFileError(f"import: no file {str(src)!r}")
    if on_error not in ("skip", "abort"):
        raise ImportFileError(f"on-error: {on_error!r}; use skip or abort")
    report = ImportReport(str(src), dry_run=dry_run)
    stages = store.stages()
    mapping = parse_stage_map(stage_map, stages)
    owner = validate_field("owner", owner) if owner else None
    report.encoding = detect_encoding(src, encoding)
    with open(src, encoding=report.encoding, errors="strict", newline="") as fh:
        records = read_records(fh)
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

        try:
            with DealImporter(store, now=now, update=update, dry_run=dry_run) as importer:
                pending: list[ImportRow] = []
                flushed = False
                size = src.stat().st_size
                cells_at: dict[int, list[str]] = {}

                def flush() -> None:
                    outcomes = importer.add(pending) if not report.aborted else []
                    for o in outcomes:
                        if o.kind == "rejected":
                            report.rejected -= 1  # counted again by refuse()
                            refuse(o.line, cells_at.get(o.line), o.detail)
                        elif o.kind == "duplicate" and len(report.duplicate_lines) < SHOW_REASONS:
                            report.duplicate_lines.append(f"line {o.line}: {o.detail}")
                    pending.clear()
                    cells_at.clear()

                for rec in records:
                    report.rows += 1
                    if rec.error:
                        refuse(rec.line, rec.cells, rec.error)
                        continue
                    try:
                        deal, follow = parser.parse(rec.cells)
                    except RowRejected as exc:
                        refuse(rec.line, rec.cells, str(exc))
                        continue
                    except Exception as exc:  # FieldError from a completion step
                        from funnel_tui.domain.validation import FieldError

                        if not isinstance(exc, FieldError):
                            raise
                        refuse(rec.line, rec.cells, str(exc))
                        continue
                    if report.aborted:
                        continue  # keep validating to report every bad row; write nothing
                    pending.append(ImportRow(rec.line, deal, given, follow))
                    cells_at[rec.line] = rec.cells
                    if len(pending) >= batch:
                        if not flushed:
                            # A big file: tell the writer how many rows to expect.
                            done = max(fh.buffer.tell(), 1)
                            importer.expect(int(report.rows * size / done))
                            flushed = True
                        flush()
                if pending:
                    flush()
                c = importer.counts
                report.rejected += c.rejected
                if not report.aborted:
                    report.inserted, report.updated, report.unchanged = c.inserted, c.updated, c.unchanged
                    report.duplicates, report.follow_ups = c.duplicates, c.follow_ups
        except BaseException:
            if rejected is not None:
                rejected.discard()
            raise
        if rejected is not None:
            if report.aborted:
                rejected.discard()
            else:
                report.rejected_file = _str(rejected.finish())
    report.unknown_stages = dict(sorted(parser.unknown_stages.items(), key=lambda kv: (-kv[1], kv[0])))
    report.seconds = time.perf_counter() - started
    return report


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
