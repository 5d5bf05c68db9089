"""Chunks of validated import rows, read here or by a forked child while this process writes.

A big import is two jobs of about the same size: reading and validating the file (pure
Python), and writing it (SQLite, which releases the GIL). `forked` runs the first in a
child process so both cores work; `read_chunks` is the same reading either way, so the
outcome cannot depend on which ran (tests/test_import_reader.py compares them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from funnel_tui.exchange.import_read import ReaderFailed
from funnel_tui.i18n import _

FORK_BYTES = 1 << 20  # about 4k rows: below this a second process costs more than it saves


@dataclass
class Chunk:
    """What the reader made of `rows` records: rejections, in-chunk duplicates, and the
    accepted rows, staged for the writer (store/staged.stage_chunk) or as ImportRows (dry run)."""

    rows: int = 0
    rejected: list[tuple[int, list[str] | None, str]] = field(default_factory=list)
    duplicates: list[tuple[int, str]] = field(default_factory=list)
    staged: Any = None  # bulk.StagedChunk
    accepted: list[Any] = field(default_factory=list)
    cells: dict[int, list[str]] = field(default_factory=dict)
    estimate: int = 0  # rows the whole file probably holds (first chunk only)
    unknown_stages: dict[str, int] | None = None  # the last chunk only
    rounded: int = 0  # the last chunk only: probabilities rounded to a whole percent
    evidence_passes: int = 0  # the last chunk only: whole-file evidence passes the reader made


def read_chunks(records, parser, given, *, staged: bool, batch: int, estimate) -> Any:
    """Chunks of validated rows from `records` (a Table's records: tables.open_table)."""
    import pickle
    from itertools import islice

    from funnel_tui.store.staged import STAGED_COLUMNS, ImportRow, SeenInFile, stage_chunk

    first = True
    parser.plan.stage_times = staged  # UTC times' stored text cut from the cell (reading.py)
    while True:
        recs = list(islice(records, batch))
        if not recs:
            break
        chunk = Chunk(rows=len(recs))
        good = [rec for rec in recs if not rec.error]
        if len(good) != len(recs):
            chunk.rejected = [(rec.line, rec.cells, rec.error) for rec in recs if rec.error]
        parsed = parser.parse_columns([rec.cells for rec in good])
        reasons = parsed.reasons
        keep = [k for k, reason in enumerate(reasons) if reason is None]
        if len(keep) != len(good):
            chunk.rejected += [(good[k].line, good[k].cells, reason) for k, reason in enumerate(reasons)
                               if reason is not None]
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
                        # Workbook cells are Decimals and dates too: pickle, not marshal.
                        cells[k] = pickle.dumps(good[k].cells, protocol=pickle.HIGHEST_PROTOCOL)
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
                    pick(parsed.follow), pick(cells), parsed.stored_times)
        if first:
            chunk.estimate = estimate(len(recs))
            first = False
        yield chunk
    yield Chunk(unknown_stages=dict(sorted(parser.unknown_stages.items(), key=lambda kv: (-kv[1], kv[0]))),
                rounded=parser.rounded, evidence_passes=parser.evidence_passes)


def forked(produce) -> Any:
    """Run the generator `produce()` in a forked child and yield its items here (a
    ForkedReader, started at the first item and stopped when this generator ends)."""
    yield from drain(ForkedReader(produce))


def drain(reader: "ForkedReader") -> Any:
    """A ForkedReader's chunks, the reader stopped when this generator ends (closed early:
    the child is killed)."""
    try:
        yield from reader.chunks()
    finally:
        reader.stop()


class ForkedReader:
    """The generator `produce()` run in a forked child, its items handed to this process.

    The child inherits the open file and parser as they are, reads and validates, and
    pickles each chunk into a pipe; a thread here takes up to QUEUED chunks off it (then
    the child's writes block, so memory stays flat). The child never touches a database:
    it freezes what existed before the fork (so no inherited connection is ever finalised
    there) and leaves with os._exit. `stop()` kills a child that has not finished and
    reaps it; it is safe to call twice, and runs at exit if nobody did (a reader started
    before the store opened, whose command then failed: exchange/import_early.py).
    """

    QUEUED = 16  # ~16 chunks of 2000 rows: what an early reader gets ahead while the store opens

    def __init__(self, produce) -> None:
        import atexit
        import queue
        import threading

        r, w = os.pipe()
        _widen(w)
        self.pid = os.fork()
        if self.pid == 0:
            _child(produce, r, w)  # never returns
        os.close(w)
        self._done = self._stopped = False
        # A thread here takes chunks off the pipe as soon as the reader has them, so the reader
        # never waits for the writer to finish a chunk (a pipe holds 64 KiB, a chunk ~1 MiB).
        # Reading the pipe and SQLite's work both release the GIL; the queue bounds memory.
        self._queue: queue.Queue = queue.Queue(maxsize=self.QUEUED)
        self._thread = threading.Thread(target=self._pump, args=(r,), name="import-pipe", daemon=True)
        self._thread.start()
        atexit.register(self.stop)

    def _pump(self, r: int) -> None:
        import pickle

        try:
            with os.fdopen(r, "rb", buffering=PIPE_BYTES) as inp:  # a chunk in a read or two
                while True:
                    try:
                        item = pickle.load(inp)
                    except EOFError:
                        item = ("failed", "the file reader stopped unexpectedly")
                    self._queue.put(item)
                    if not isinstance(item, Chunk):
                        return
        except BaseException as exc:  # noqa: BLE001 - handed to the writer, which rolls back
            self._queue.put(("failed", f"{type(exc).__name__}: {exc}"))

    def chunks(self) -> Any:
        """The child's chunks in order; ReaderFailed if it stopped before the end."""
        while True:
            item = self._queue.get()
            if item == "end":
                self._done = True
                return
            if isinstance(item, tuple):
                raise ReaderFailed(_("import: reading the file failed ({why}); nothing was imported").format(
                    why=item[1]))
            yield item

    def stop(self) -> None:
        """Kill the child unless it finished, let the pump see the pipe's end, reap the child."""
        import atexit
        import queue
        import signal

        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        if not self._done:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            while self._thread.is_alive():
                try:
                    self._queue.get(timeout=0.1)
                except queue.Empty:
                    pass
        os.waitpid(self.pid, 0)


PIPE_BYTES = 1 << 20  # Linux's pipe-max-size for anyone (the default pipe holds 64 KiB)


def _widen(fd: int) -> None:
    """Give the pipe room for a whole chunk (~0.75 MiB), where Linux allows it.

    The pump thread needs the GIL for every read, and the writer's Python holds it for up to
    a switch interval (5 ms) at a time: through a 64 KiB pipe, read 8 KiB at a time, a chunk
    took dozens of such waits, and the reader spent them blocked. With room for a chunk,
    and 1 MiB buffers on both ends, the reader writes it at once and goes on reading the
    file, and the pump takes it in a read or two."""
    import fcntl

    try:
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except OSError:
        pass  # a smaller limit (pipe-max-size, a user's pipe quota): the default stays


def _child(produce, r: int, w: int) -> None:
    """The forked reader: every item of produce() pickled into `w`, then "end"."""
    import gc
    import pickle

    code = 0
    try:
        os.close(r)
        gc.freeze()
        gc.disable()  # as importer._gc_paused, also for a reader forked before it (import_early)
        # A chunk leaves in one write (into a pipe that holds it: _widen), as soon as it is read.
        with os.fdopen(w, "wb", buffering=PIPE_BYTES) as out:
            try:
                for item in produce():
                    pickle.dump(item, out, protocol=pickle.HIGHEST_PROTOCOL)
                    out.flush()
                pickle.dump("end", out)
            except Exception as exc:  # noqa: BLE001 - reported to the writer, which rolls back
                pickle.dump(("failed", f"{type(exc).__name__}: {exc}"), out)
                code = 1
    except BaseException:  # noqa: BLE001 - the writer went away (broken pipe) or Ctrl-C
        code = 1
    finally:
        os._exit(code)
