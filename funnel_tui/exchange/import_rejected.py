"""The rejected rows of an import, beside the file, ready to fix in Excel and import again."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Sequence

from funnel_tui.exchange.cells import cell_text
from funnel_tui.exchange.formula_guard import guard
from funnel_tui.exchange.profiles import norm


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
        self.reason_at = next((i for i, h in enumerate(cols) if norm(h) == "reason"), None)
        if self.reason_at is None:
            cols.append("reason")
        self.width = len(header)
        fd = os.open(self.tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        self.fh = os.fdopen(fd, "w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.fh, lineterminator="\r\n")
        self.writer.writerow([guard(c) for c in cols])
        self.count = 0

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
