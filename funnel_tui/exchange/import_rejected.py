"""The rejected rows of an import, beside the file, ready to fix in Excel and import again."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Sequence

from funnel_tui.exchange.cells import cell_text
from funnel_tui.exchange.formula_guard import guard
from funnel_tui.exchange.profiles import norm
from funnel_tui.i18n import _


def rejected_path(path: Path) -> Path:
    return path.with_name(path.name + ".rejected.csv") if not path.name.endswith(".csv") else \
        path.with_name(path.name[:-4] + ".rejected.csv")


class RejectedFileError(Exception):
    """The rejected-rows file could not be written (a full disk, a read-only folder)."""

    def __init__(self, path: Path, exc: OSError):
        super().__init__(_("could not write the rejected rows to {path}: {why}").format(
            path=path, why=exc.strerror or exc))
        self.path = path
        self.errno = exc.errno


def _writing(method):
    """Every file error of the writer as a RejectedFileError naming the file."""
    def wrapped(self, *args):
        try:
            return method(self, *args)
        except OSError as exc:
            raise RejectedFileError(self.path, exc) from None
    wrapped.__doc__ = method.__doc__
    return wrapped


class RejectedWriter:
    """Rejected rows with a `reason` column, written atomically (0600) next to the input.

    Cells are written as read, formula-guarded (the guard is undone when the file is
    imported again), so the rep can fix them in Excel and import this file. `sync` puts the
    rows on the disk (the import calls it before it commits); `finish` then gives the file
    its name.
    """

    @_writing
    def __init__(self, path: Path, header: Sequence[str]):
        self.path = path
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
        cols = list(header)
        self.reason_at = next((i for i, h in enumerate(cols) if norm(h) == "reason"), None)
        if self.reason_at is None:
            cols.append("reason")
        self.width = len(header)
        fd = os.open(self.tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        self.fh = os.fdopen(fd, "w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.fh, lineterminator="\r\n")
        self.writer.writerow([guard(c) for c in cols])
        self.count = 0

    @_writing
    def add(self, cells: list | None, reason: str) -> None:
        """One refused row: its cells as read (a workbook's numbers and dates as text), and why."""
        row = [guard(cell_text(c).replace("\x00", "")) for c in (cells or [])]
        if self.reason_at is not None:
            row += [""] * (self.width - len(row))
            row[self.reason_at] = guard(reason)
        else:
            row = row[: self.width] + [""] * (self.width - len(row)) + [guard(reason)]
        self.writer.writerow(row)
        self.count += 1

    @_writing
    def sync(self) -> None:
        """Every row added so far on the disk (fsync)."""
        if not self.fh.closed:
            self.fh.flush()
            os.fsync(self.fh.fileno())

    @_writing
    def finish(self) -> Path | None:
        self.sync()
        self.fh.close()
        if not self.count:
            os.unlink(self.tmp)
            return None
        os.replace(self.tmp, self.path)
        return self.path

    def discard(self) -> None:
        try:
            if not self.fh.closed:
                self.fh.close()
        except OSError:
            pass  # what could not be flushed is being thrown away anyway
        try:
            os.unlink(self.tmp)
        except FileNotFoundError:
            pass
