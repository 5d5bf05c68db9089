"""`.xlsx` workbooks, read with openpyxl in read-only mode (imported only here, only then).

The first sheet, or `--sheet NAME|N`. The header is the first row that holds anything. Cells
keep their types in the model of exchange.cells: text stays text, a date-formatted cell is a
`datetime` (a `date` when it has no time of day), and a number is a Decimal — never a float.
openpyxl hands numbers over as floats; Excel keeps 15 significant digits and shows no more, so a
float becomes the Decimal of its shortest repr rounded to 15 significant digits (0.1 + 0.2
computed in a cell, 0.30000000000000004, is the 0.3 the person sees). Formula cells give their
last computed value (data_only); a formula whose value was never saved (a file written by a
program, not by Excel) refuses its row instead of reading as empty — the sheet is read a second
time, for its formulas, alongside. Line numbers are the sheet's row numbers.
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from funnel_tui.exchange.cells import Cell, ragged_row
from funnel_tui.exchange.import_read import ImportFileError
from funnel_tui.i18n import _
from funnel_tui.exchange.table_model import Record, Table

EXCEL_DIGITS = 15


def excel_number(value: float | int) -> Decimal:
    """A workbook number as the Decimal Excel shows (15 significant digits at most)."""
    if isinstance(value, int):
        return Decimal(value)
    d = Decimal(repr(value))
    if not d.is_finite():
        raise ValueError(_("{value} is not a number").format(value=repr(value)))
    if len(d.as_tuple().digits) > EXCEL_DIGITS:
        d = round(d, EXCEL_DIGITS - 1 - d.adjusted())
    return Decimal(int(d)) if d == d.to_integral_value() else d


def cell_value(value: Any) -> Cell:
    """One openpyxl value in the cell model (see the module doc)."""
    if value is None or isinstance(value, (str, bool, Decimal)):
        return value
    if isinstance(value, datetime):
        return value.date() if value.time() == time(0) else value
    if isinstance(value, (int, float)):
        return excel_number(value)
    return value  # date, time, timedelta: the readers say what they make of it


def open_workbook(path: Path, *, sheet: str | None = None) -> Table:
    try:
        from openpyxl import load_workbook
    except ImportError:  # pragma: no cover - a dependency of the package
        raise ImportFileError(_("reading .xlsx needs openpyxl (pip install openpyxl)")) from None
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
        formulas_wb = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ImportFileError(_("workbook: cannot read {name} ({why}); open it in Excel and save it "
                                "again").format(name=path.name, why=type(exc).__name__)) from None

    def close() -> None:
        wb.close()
        formulas_wb.close()

    try:
        names = wb.sheetnames
        if sheet is None:
            ws = wb[names[0]]
        elif sheet in names:
            ws = wb[sheet]
        elif sheet.isdigit() and 1 <= int(sheet) <= len(names):
            ws = wb[names[int(sheet) - 1]]
        else:
            raise ImportFileError(_("--sheet {sheet}: no such sheet; the workbook has {sheets}").format(
                sheet=repr(sheet), sheets=", ".join(repr(n) for n in names)))
        rows = _rows(ws, formulas_wb[ws.title])
        header_row = next(rows, None)
        if header_row is None:
            raise ImportFileError(_("workbook: the sheet is empty (no header row)"))
        line, header_cells = header_row
        header = [_header_text(c) for c in header_cells]
        while header and not header[-1]:
            header.pop()
        first = next(rows, None)
        if first is None:
            raise ImportFileError(_("no rows: the sheet has a header row and nothing under it"))
        records = _records(itertools_chain(first, rows), len(header))
    except BaseException:
        close()
        raise
    notes = [_("sheet {sheet} (the first of {count})").format(sheet=repr(ws.title), count=len(names))
             if sheet is None and len(names) > 1 else _("sheet {sheet}").format(sheet=repr(ws.title))]
    return Table(path, "xlsx", header, records, sheet=ws.title, notes=notes, _close=close,
                 size=ws.max_row or 0)


def itertools_chain(first, rest):
    yield first
    yield from rest


def _header_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(cell_value(value))


class _Unsaved:
    """A formula cell whose computed value is not in the file."""

    def __init__(self, formula: str):
        self.formula = formula


def _rows(ws, formulas) -> Iterator[tuple[int, list[Any]]]:
    """(row number, raw values) of the rows holding anything; a formula without a saved value
    becomes _Unsaved."""
    pairs = zip(ws.iter_rows(values_only=True), formulas.iter_rows(values_only=True))
    for number, (row, frow) in enumerate(pairs, start=1):
        values = list(row)
        for i, f in enumerate(frow):
            if i < len(values) and values[i] is None and isinstance(f, str) and f.startswith("="):
                values[i] = _Unsaved(f)
            elif i >= len(values) and isinstance(f, str) and f.startswith("="):
                values += [None] * (i - len(values)) + [_Unsaved(f)]
        while values and (values[-1] is None or values[-1] == ""):
            values.pop()
        if values:
            yield number, values


def _records(rows, width: int) -> Iterator[Record]:
    for number, values in rows:
        unsaved = next((v for v in values if isinstance(v, _Unsaved)), None)
        if unsaved is not None:
            yield Record(number, None, f"a formula ({unsaved.formula[:40]}) has no saved value; open the "
                                       "workbook in Excel and save it again")
            continue
        try:
            cells = [cell_value(v) for v in values]
        except ValueError as exc:
            yield Record(number, None, f"row {number}: {exc}")
            continue
        if len(cells) > width:
            yield Record(number, cells, ragged_row(len(cells), width))
            continue
        cells += [None] * (width - len(cells))
        yield Record(number, cells)
