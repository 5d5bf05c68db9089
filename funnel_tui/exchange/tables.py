"""A file as people have it, opened as a header and records of cells.

`open_table(path)` looks at the bytes, not the name: an `.xlsx` workbook (a zip holding
`xl/workbook.xml`) is read by exchange.workbook; anything else must be text (exchange.encodings
decides the encoding) and is read as CSV with its delimiter (`,` `;` tab, or Excel's `sep=` line)
sniffed and reported. Binary files get "this is not a CSV file or a workbook".

Broken files say what is wrong where: an unterminated quote names the lines it swallowed, a
header with nothing under it says "no rows", and a quoted cell that swallows lines looking like
rows of their own is refused with its line range rather than read as one long note.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import zipfile
from pathlib import Path
from typing import Callable, Iterator, Sequence

from funnel_tui.exchange.import_read import ImportFileError
from funnel_tui.exchange.encodings import EncodingVerdict, sniff_encoding
from funnel_tui.exchange.table_model import Record, Table
from funnel_tui.exchange.workbook import open_workbook
from funnel_tui.i18n import N_, _

csv.field_size_limit(1 << 20)
_MAGIC = {b"%PDF": N_("a PDF"), b"\x89PNG": N_("a PNG image"), b"GIF8": N_("a GIF image"),
          b"\xff\xd8\xff": N_("a JPEG image"), b"\x1f\x8b": N_("gzip-compressed"),
          b"7z\xbc\xaf": N_("a 7-Zip archive"), b"Rar!": N_("a RAR archive"),
          b"SQLite format 3": N_("an SQLite database")}
DELIMITERS = {",": N_("comma"), ";": N_("semicolon"), "\t": N_("tab")}


def what_file(path: Path) -> str:
    """"xlsx", "text", or ImportFileError naming what the file is instead."""
    with open(path, "rb") as fh:
        head = fh.read(8192)
    if not head:
        raise ImportFileError(_("import: the file is empty"))
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile:
            raise ImportFileError(_("this is not a CSV file or a workbook (a damaged zip archive)")) from None
        if "xl/workbook.xml" in names:
            return "xlsx"
        what = _("a Word document") if "word/document.xml" in names else _("a zip archive")
        raise ImportFileError(_("this is not a CSV file or a workbook ({what}); save the sheet as .xlsx or "
                                "CSV").format(what=what))
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(_("this is not a CSV file or a workbook we read: an old .xls workbook or a "
                                "password-protected one; in Excel, save it as .xlsx (without a password) or "
                                "as CSV UTF-8"))
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise ImportFileError(_("this is not a CSV file or a workbook (it is {what})").format(what=_(what)))
    # Control bytes other than tab, line ends and NUL (UTF-16 text has NULs; encodings checks).
    controls = sum(1 for b in head if b < 32 and b not in (0, 9, 10, 12, 13))
    if controls > len(head) // 100:
        raise ImportFileError(_("this is not a CSV file or a workbook (it holds binary data)"))
    return "text"


def open_table(path: str | Path, *, encoding: str = "auto", sheet: str | None = None,
               header_known: Callable[[str], bool] | None = None) -> Table:
    """Open `path` as a Table; ImportFileError saying why when it cannot be read at all."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ImportFileError(_("import: no file {path}").format(path=repr(str(path))))
    if what_file(path) == "xlsx":
        return open_workbook(path, sheet=sheet)
    if sheet is not None:
        raise ImportFileError(_("--sheet is for .xlsx workbooks; this file is CSV text"))
    verdict = sniff_encoding(path, encoding, header_known=header_known)
    fh = open(path, encoding=verdict.encoding, errors="strict", newline="")
    try:
        table = _csv_table(path, fh, verdict)
    except BaseException:
        fh.close()
        raise
    return table


def reopen(table: Table) -> Table:
    """The same file opened again, read the same way from its first row (its own handle): the
    importer's evidence pass reads a column whole while the records of the first stay put."""
    if table.kind == "xlsx":
        return open_workbook(table.path, sheet=table.sheet)
    assert table.encoding is not None
    fh = open(table.path, encoding=table.encoding.encoding, errors="strict", newline="")
    try:
        return _csv_table(table.path, fh, table.encoding)
    except BaseException:
        fh.close()
        raise


def _may_hold_nul(path: Path, encoding: str) -> bool:
    """Whether a text file may hold a NUL character: for encodings that write ASCII as itself,
    exactly when a 0 byte is in the file (one fast scan that spares a check per row); for
    UTF-16 and UTF-32, always."""
    if codecs.lookup(encoding).name in ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"):
        return True
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            if b"\x00" in chunk:
                return True
    return False


def _sniff_delimiter(line: str) -> str:
    """The delimiter of a header line: the most frequent of `,` `;` tab outside quotes."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _csv_table(path: Path, fh, verdict: EncodingVerdict) -> Table:
    first = fh.readline()
    if first.startswith("\ufeff"):
        first = first[1:]
    notes = [_("encoding {encoding} (detected)").format(encoding=verdict.label) if verdict.how == "detected"
             else _("encoding {encoding}").format(encoding=verdict.label)]
    base = 0
    bare = first.strip()
    if bare.casefold().startswith("sep=") and len(bare) == 5:
        delimiter, base = bare[4], 1  # Excel's "sep=;" hint line
        named = _(DELIMITERS[delimiter]) if delimiter in DELIMITERS else repr(delimiter)
        notes.append(_("delimiter {delimiter} (from the sep= line)").format(delimiter=named))
        header_text = fh.readline()
    else:
        delimiter = _sniff_delimiter(first)
        notes.append(_("delimiter {delimiter} (sniffed)").format(delimiter=_(DELIMITERS[delimiter])))
        header_text = first
    if not header_text.strip():
        raise ImportFileError(_("import: the file is empty (no header line)"))
    fh.seek(0)  # read the file itself again: a generator in between would cost per line
    if base:
        fh.readline()
    records = _records(fh, delimiter, base, check_nul=_may_hold_nul(path, verdict.encoding))
    head = next(records)
    if head.cells is None or head.error:
        raise ImportFileError(_("header: line {line}: {problem}").format(line=head.line, problem=head.error))
    header = [str(c) for c in head.cells]
    first_row = next(records, None)
    if first_row is None:
        raise ImportFileError(_("no rows: the file has a header line and nothing under it"))
    return Table(path, "csv", header, itertools.chain([first_row], records), verdict, delimiter,
                 notes=notes, _close=fh.close, size=path.stat().st_size, tell=fh.buffer.tell)


def _looks_like_rows(cell: str, delimiter: str, width: int) -> bool:
    """Whether a multi-line cell holds lines shaped like rows of the file (a stray quote)."""
    need = max(width - 1, 1)
    return sum(1 for ln in cell.split("\n")[1:] if ln.count(delimiter) >= need) >= 1


def _records(lines, delimiter: str, base: int, *, check_nul: bool = True) -> Iterator[Record]:
    """Records of a CSV text, strict: a structural error becomes a Record with `error`."""
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    done = base
    width = 0
    while True:
        try:
            for cells in reader:
                start = done + 1
                done = reader.line_num + base
                if not cells or (len(cells) == 1 and cells[0] == ""):
                    continue
                if not width:
                    width = len(cells)
                elif done - start >= 2 and any("\n" in c and _looks_like_rows(c, delimiter, width)
                                              for c in cells):
                    yield Record(start, cells, f"a quoted cell on line {start} runs to line {done} and "
                                               f"swallows lines shaped like rows ({start + 1}–{done}); "
                                               "check the quotes")
                    continue
                if check_nul and "\x00" in "".join(cells):
                    yield Record(start, cells, "NUL byte in the row (is the file UTF-16 or binary?)")
                    continue
                yield Record(start, cells)
            return
        except csv.Error as exc:
            start = done + 1
            done = reader.line_num + base
            msg = str(exc)
            if "unexpected end of data" in msg or "EOF" in msg:
                yield Record(start, None, f"unterminated quote: the quoted cell starting on line {start} "
                                          f"never closes and swallowed lines {start}–{done} (the rest "
                                          "of the file); close the quote and import again")
                return
            yield Record(start, None, f"malformed CSV ({msg})")


def ignored_line(columns: Sequence[str], shown: int = 10) -> str:
    """The report line for columns no field reads: the first ten by name, then a count."""
    names = ", ".join(repr(c) for c in columns[:shown])
    more = f" and {len(columns) - shown} more" if len(columns) > shown else ""
    return f"ignored {len(columns)} column{'s' if len(columns) != 1 else ''}: {names}{more}"
