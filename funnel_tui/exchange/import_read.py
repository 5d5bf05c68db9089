"""Reading an import file: bytes → text → CSV records, honest about what it cannot read.

- Encoding: a BOM first, then strict UTF-8, then GB18030 (most UTF-8 Chinese also decodes
  "successfully" as GB18030, so UTF-8 must be tried first); the detected one is reported.
- Parsing is strict (csv strict=True): ragged rows, an unterminated quote and NUL bytes are
  each reported with the line number and the reason, never swallowed.

Pure of SQL, like the rest of the import's file side: import_headers maps the header,
import_rows validates the records, importer hands them to the store.
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from funnel_tui.i18n import _

csv.field_size_limit(1 << 20)  # a 1 MiB cell is already absurd; the default 128 KiB is too tight for notes


class ImportError_(Exception):
    """The file cannot be imported at all (encoding, header); nothing was written."""


ImportFileError = ImportError_


class ReaderFailed(ImportError_):
    """The forked reader of a big import stopped before the end; nothing was written."""


# --- encoding ---------------------------------------------------------------------------------

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _decode_error_line(path: Path, encoding: str) -> tuple[int, str] | None:
    """Decode the whole file strictly in chunks; the line of the first bad byte, or None."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines = 1
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(1 << 20)
            final = not chunk
            try:
                decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                head = chunk[: max(exc.start, 0)]
                return lines + head.count(b"\n"), f"byte 0x{chunk[exc.start]:02x}" if chunk else "truncated text"
            if final:
                return None
            lines += chunk.count(b"\n")


def detect_encoding(path: Path, requested: str = "auto") -> str:
    """The encoding to read `path` with: BOM, then strict UTF-8, then strict GB18030."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    bom = next((enc for mark, enc in _BOMS if head.startswith(mark)), None)
    if requested and requested != "auto":
        try:
            name = codecs.lookup(requested).name
        except LookupError:
            raise ImportFileError(_("encoding: {name} is not an encoding Python knows; use auto, utf-8 or gb18030")
                                  .format(name=repr(requested))) from None
        enc = "utf-8-sig" if name == "utf-8" and bom == "utf-8-sig" else requested
        bad = _decode_error_line(path, enc)
        if bad:
            raise ImportFileError(_("encoding: line {line} is not valid {encoding} ({error}); try --encoding auto")
                                  .format(line=bad[0], encoding=requested, error=bad[1]))
        return enc
    if bom:
        bad = _decode_error_line(path, bom)
        if bad:
            raise ImportFileError(_("encoding: the file starts with a {bom} BOM but line {line} is not valid "
                                    "{bom} ({error})").format(bom=bom, line=bad[0], error=bad[1]))
        return bom
    bad_utf8 = _decode_error_line(path, "utf-8")
    if bad_utf8 is None:
        return "utf-8"
    bad_gb = _decode_error_line(path, "gb18030")
    if bad_gb is None:
        return "gb18030"
    raise ImportFileError(
        _("encoding: neither UTF-8 (line {line1}: {error1}) nor GB18030 (line {line2}: {error2}); "
          "save the file as UTF-8 or give --encoding").format(line1=bad_utf8[0], error1=bad_utf8[1],
                                                              line2=bad_gb[0], error2=bad_gb[1]))


# --- reading rows -----------------------------------------------------------------------------


@dataclass(slots=True)
class RawRow:
    line: int  # the line the record starts on (1 = header)
    cells: list[str] | None  # None when the record could not be parsed at all
    error: str = ""


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def read_records(fh, *, check_nul: bool = True) -> Iterator[RawRow]:
    """Records of a text stream opened with newline=""; structural errors become RawRow.error.

    `check_nul=False` when the caller knows the file holds no NUL (import_file scans the
    bytes once), which spares joining every row to look for one.
    """
    first = fh.readline()
    if first.startswith("\ufeff"):
        first = first[1:]
    delimiter = ","
    line_base = 0
    if first.strip().casefold().startswith("sep=") and len(first.strip()) == 5:
        delimiter = first.strip()[4]  # Excel's "sep=;" hint line
        line_base = 1
    else:
        delimiter = _sniff_delimiter(first)

    def lines():
        if not line_base:
            yield first
        yield from fh

    if fh.seekable():  # read the file itself again: a generator in between costs per line
        fh.seek(0)
        if line_base:
            fh.readline()
        reader = csv.reader(fh, delimiter=delimiter, strict=True)
    else:
        reader = csv.reader(lines(), delimiter=delimiter, strict=True)
    done = line_base  # lines consumed so far (reader.line_num counts from the reader's start)
    while True:
        try:
            for cells in reader:  # the common path: no per-record try, no extra calls
                start = done + 1
                done = reader.line_num + line_base
                if not cells or (len(cells) == 1 and cells[0] == ""):
                    continue  # a blank line
                if check_nul and "\x00" in "".join(cells):
                    yield RawRow(start, cells, "NUL byte in the row (is the file UTF-16 or binary?)")
                    continue
                yield RawRow(start, cells)
            return
        except csv.Error as exc:
            start = done + 1
            done = reader.line_num + line_base
            msg = str(exc)
            if "unexpected end of data" in msg or "EOF" in msg:
                yield RawRow(start, None, "unterminated quote: the quoted cell starting here never closes")
                return
            yield RawRow(start, None, f"malformed CSV ({msg})")


def has_nul(path: Path, encoding: str) -> bool:
    """Whether the file may hold a NUL character: for ASCII-compatible encodings, exactly
    when it holds a 0 byte (one fast scan); for UTF-16/32, always assumed."""
    if codecs.lookup(encoding).name not in ("utf-8", "utf-8-sig", "gb18030", "gbk", "ascii"):
        return True
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            if b"\x00" in chunk:
                return True
    return False
