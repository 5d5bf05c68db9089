"""An opened import file as the readers see it: its header and its records, CSV or workbook.

Its own module so that `tables` (which opens files) and `workbook` (which `tables` opens
lazily) can both build it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from funnel_tui.exchange.cells import Cell
from funnel_tui.exchange.encodings import EncodingVerdict


@dataclass(slots=True)
class Record:
    """One record: the line (CSV) or row (workbook) it starts on, its cells, or why it is broken."""

    line: int
    cells: list[Cell] | None
    error: str = ""


@dataclass
class Table:
    """An opened file: what it is, its header, and its records (an iterator, read once)."""

    path: Path
    kind: str  # "csv" | "xlsx"
    header: list[str]
    records: Iterator[Record]
    encoding: EncodingVerdict | None = None
    delimiter: str | None = None
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)  # what was sniffed, to report
    _close: Callable[[], None] | None = None
    size: int = 0  # bytes in the file (CSV) or rows the sheet says it has (workbook)
    tell: Callable[[], int] | None = None  # how far reading has got, in the unit of `size`

    def rows_expected(self, rows_read: int) -> int:
        """Roughly how many records the whole file holds, from how far `rows_read` took us."""
        if self.kind == "xlsx":
            return max(self.size - 1, rows_read)
        done = self.tell() if self.tell is not None else 0
        return int(rows_read * self.size / max(done, 1))

    def close(self) -> None:
        if self._close is not None:
            self._close()
            self._close = None

    def __enter__(self) -> "Table":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
