"""The CSV import, as one use case: a file → validated rows → the store, with a report.

Glues the pure file side (import_read: bytes to records; import_headers: what the columns
mean; import_rows: records to validated deal columns) to the store's bulk writer
(store.bulk_import.DealImporter): the file is read and validated in chunks, accepted rows are
written in batches inside one transaction, and refused rows go with their reason to
`<input>.rejected.csv`. Big files are read by a forked child while this process writes
(import_chunks). `funnel import` only parses its arguments and prints the ImportReport.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Iterator, Sequence

from funnel_tui.domain.validation import validate_field
from funnel_tui.exchange.import_chunks import FORK_BYTES, forked, read_chunks
from funnel_tui.exchange.import_headers import map_header, parse_stage_map
from funnel_tui.exchange.import_read import ImportFileError, detect_encoding, has_nul, read_records
from funnel_tui.exchange.import_rejected import RejectedWriter, rejected_path
from funnel_tui.exchange.import_rows import RowParser

BATCH = 2000  # rows per executemany: large enough to amortise, small enough to stay flat
SHOW_REASONS = 20


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
    # Rows that name no owner were given this one: the rep's own name (`me`), unless --owner.
    owner_default: str | None = None
    owner_column: bool = False  # the file has an owner column

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
    stored form), which copies it in with INSERT … SELECT (DealImporter.add_staged).
    `reader`: "fork" reads and validates in a forked child while this process writes (two cores at work), "inline" does both here, "auto"
    forks for files of FORK_BYTES or more where fork is safe (Linux).
    """
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
    if owner is None:
        owner = store.me() if hasattr(store, "me") else None  # deals without an owner are the rep's own
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
        report.owner_default, report.owner_column = owner, "owner" in header.given
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


def _str(p: Path | None) -> str | None:
    return str(p) if p is not None else None
