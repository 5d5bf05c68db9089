"""Where an export goes and how it is written: atomic (temp file in the same folder,
fsync, rename), private 0600, never over the database, its -wal/-shm or its backups, and
in a strict encoding (a character it cannot hold is reported with its row and column,
never replaced with "?").

Nothing is reported written before it is: a write the disk takes only in part is retried
until every byte is in (stdout included: a short write to a full disk was silently
dropped before, issue 12), stdout redirected to a file is fsynced, and a disk that says
no ends the export with ExportError naming how far it got.
"""

from __future__ import annotations

import csv
import errno
import io
import os
import stat
import sys
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Iterable, Sequence

from funnel_tui.exchange.export_format import csv_cells
from funnel_tui.exchange.export_sql import SqlLines
from funnel_tui.i18n import _

ENCODINGS = ("utf-8-sig", "utf-8", "gb18030", "gbk")


class ExportError(Exception):
    """A user-facing refusal; no file was written (or, on stdout, the output is incomplete).
    `exit_code` is the CLI's: 1 refused, 3 the disk said no."""

    def __init__(self, message: str, *, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


class FullWrites(io.RawIOBase):
    """A file descriptor every write goes into whole: a short write (a disk filling up, a
    pipe) is retried with the rest, and an error is raised, never swallowed."""

    def __init__(self, fd: int):
        super().__init__()
        self.fd = fd
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # noqa: ANN001 - bytes-like
        view = memoryview(data).cast("B")
        done = 0
        while done < len(view):
            n = os.write(self.fd, view[done:])
            done += n
            self.written += n
        return done

    def sync(self) -> None:
        """Onto the disk when the descriptor is a file (a pipe or terminal has no disk)."""
        try:
            if stat.S_ISREG(os.fstat(self.fd).st_mode):
                os.fsync(self.fd)
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.EROFS, errno.ENOTSUP):
                raise


def _disk_said_no(exc: OSError, where: str, written: int | None = None) -> ExportError:
    why = exc.strerror or str(exc)
    code = 3 if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO) else 1
    if written is None:
        return ExportError(_("cannot write {where}: {why}; nothing was written").format(where=where, why=why),
                           exit_code=code)
    return ExportError(_("cannot write {where}: {why} after {bytes} bytes; the output is incomplete").format(
        where=where, why=why, bytes=written), exit_code=code)


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path | None  # None when written to stdout
    rows: int
    encoding: str = "utf-8-sig"


# --- destinations -----------------------------------------------------------------------------


def _protected(db_path: Path | None) -> list[Path]:
    if db_path is None:
        return []
    db = db_path.resolve()
    return [db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")]


def check_destination(dest: Path, db_path: Path | None) -> None:
    """Refuse to write over the database, its companions, or anything in its backups."""
    if db_path is None:
        return
    target = dest.resolve()
    if target in _protected(db_path):
        raise ExportError(_("refusing to write over the database {path}; choose another file").format(path=db_path))
    backups = (db_path.resolve().parent / "backups").resolve()
    if target == backups or backups in target.parents:
        raise ExportError(_("refusing to write into the backups folder {path}; choose another file").format(path=backups))


def default_name(now: datetime, tz: tzinfo, kind: str = "deals") -> str:
    return f"funnel-{kind}-{now.astimezone(tz).strftime('%Y%m%d-%H%M%S')}.csv"


def resolve_destination(dest: str | os.PathLike | None, *, now: datetime, tz: tzinfo,
                        db_path: Path | None, kind: str = "deals", folder: bool = False) -> Path | None:
    """None for stdout ("-" or None). A folder — one that exists, one written with a trailing
    slash, or any `dest` when `folder` — gets a dated file name inside it (the folder is made
    when the file is written). A path that cannot be written is refused here, with the
    reason, before anything is read: a file where a folder must be, a folder or a device
    where the file must be."""
    if dest is None or str(dest) == "-":
        return None
    raw = os.fspath(dest)
    try:
        path = Path(raw).expanduser()
        if folder or raw.endswith(("/", os.sep)) or path.is_dir():
            if path.exists() and not path.is_dir():
                raise ExportError(_("{path} is a file, not a folder; give a folder or a new file name").format(
                    path=path))
            _folder_can_be(path)
            path = _fresh_name(path, default_name(now, tz, kind))
        else:
            _folder_can_be(path.parent)
            if path.exists() and not path.is_file():
                raise ExportError(_("{path} is not a regular file; give a file name to write").format(path=path))
        check_destination(path, db_path)
    except OSError as exc:
        raise ExportError(_("cannot write to {path}: {reason}").format(
            path=raw, reason=exc.strerror or type(exc).__name__)) from None
    except ValueError as exc:  # an embedded NUL, say
        raise ExportError(_("cannot write to {path}: {reason}").format(path=repr(raw), reason=exc)) from None
    return path


def _folder_can_be(folder: Path) -> None:
    """Refuse a folder path whose nearest existing part is a file (it could never be made)."""
    for part in (folder, *folder.parents):
        if part.exists():
            if not part.is_dir():
                raise ExportError(_("{path} is a file, not a folder; give a folder or a new file name").format(
                    path=part))
            return


def _fresh_name(folder: Path, name: str) -> Path:
    """`name` in `folder`, numbered when taken (two exports in one second keep both files)."""
    path, n = folder / name, 2
    while path.exists():
        path = folder / f"{name[:-4]}-{n}.csv"
        n += 1
    return path


def _unencodable(rows_cells: Iterable[tuple[int, Sequence[Any]]], header: Sequence[str], encoding: str,
                 limit: int = 10) -> list[str]:
    problems = []
    for rowno, cells in rows_cells:
        for col, cell in zip(header, cells):
            if not isinstance(cell, str):
                continue
            try:
                cell.encode(encoding)
            except UnicodeEncodeError as exc:
                ch = cell[exc.start]
                problems.append(_("row {row}, column {column}: {char} (U+{code})").format(
                    row=rowno, column=col, char=repr(ch), code=f"{ord(ch):04X}"))
                if len(problems) >= limit:
                    return problems
    return problems


def write_csv(
    dest: Path | None,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    encoding: str = "utf-8-sig",
    stdout: Any = None,
) -> int:
    """Write header + rows atomically (or to stdout); strict encoding; returns the row count."""
    if encoding not in ENCODINGS:
        raise ExportError(_("encoding: {value} is not offered; use one of: {choices}").format(
            value=repr(encoding), choices=", ".join(ENCODINGS)))
    if dest is None:
        return _write_stdout(stdout or sys.stdout, header, rows, encoding)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError as exc:
        raise _disk_said_no(exc, str(dest)) from None
    try:
        # BufferedWriter retries a short write itself and raises on ENOSPC.
        with os.fdopen(fd, "w", encoding=encoding, errors="strict", newline="") as fh:
            n = _write_rows(fh, header, rows, encoding)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _disk_said_no(exc, str(dest)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dfd = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return n


def _write_stdout(out: Any, header: Sequence[str], rows: Iterable[Sequence[Any]], encoding: str) -> int:
    """To stdout: every byte written whole (FullWrites), fsynced when stdout is a file."""
    try:
        fd = out.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    if fd is None:  # an in-memory stream (a test's capture): no disk to get onto
        raw = getattr(out, "buffer", None)
        if raw is None:  # text only (StringIO): its own encoding applies
            return _write_rows(out, header, rows, encoding, check_encoding=True)
        out.flush()
        text = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="", write_through=False)
        try:
            return _write_rows(text, header, rows, encoding)
        finally:
            text.flush()
            text.detach()
    sink = FullWrites(fd)
    try:
        out.flush()
        text = io.TextIOWrapper(io.BufferedWriter(sink, 1 << 16), encoding=encoding, errors="strict",
                                newline="", write_through=False)
        try:
            n = _write_rows(text, header, rows, encoding)
            text.flush()
        finally:
            text.detach()
        sink.sync()
    except OSError as exc:
        raise _disk_said_no(exc, "stdout", sink.written) from None
    return n


def _encoding_error(encoding: str, problems: list[str]) -> ExportError:
    text = (_("encoding: {encoding} cannot hold these characters: {problems}; nothing was written — "
              "export with --encoding utf-8-sig") if len(problems) < 10 else
            _("encoding: {encoding} cannot hold these characters (first 10 shown): {problems}; nothing was "
              "written — export with --encoding utf-8-sig"))
    return ExportError(text.format(encoding=encoding, problems="; ".join(problems)))


def _write_text_chunks(fh: Any, header: Sequence[str], chunks: "SqlLines", encoding: str,
                       *, check_encoding: bool = False) -> int:
    """Write pre-formatted CSV text, one write per chunk; strict encoding reported per cell."""
    fh.write(csv_cells(header))
    write = fh.write
    binary = chunks.as_bytes and hasattr(fh, "buffer")
    if binary:  # UTF-8 bytes from SQLite go under the text layer (after its BOM and header)
        fh.flush()
        write = fh.buffer.write
    n = 0
    it = iter(chunks)
    for k, text in it:
        if chunks.as_bytes and not binary:
            text = text.decode("utf-8")
        try:
            if check_encoding:
                text.encode(encoding)
            write(text)
        except UnicodeEncodeError:
            problems: list[str] = []
            for k2, text2 in [(k, text), *it]:
                if isinstance(text2, bytes):
                    text2 = text2.decode("utf-8")
                try:
                    text2.encode(encoding)
                except UnicodeEncodeError:
                    cells = csv.reader(io.StringIO(text2, newline=""))
                    problems += _unencodable(((n + 1 + i, c) for i, c in enumerate(cells)), header, encoding,
                                             limit=10 - len(problems))
                n += k2
                if len(problems) >= 10:
                    break
            raise _encoding_error(encoding, problems[:10]) from None
        n += k
    return n


def _write_rows(fh: Any, header: Sequence[str], rows: Iterable[Sequence[Any]], encoding: str,
                *, check_encoding: bool = False) -> int:
    if isinstance(rows, SqlLines):
        return _write_text_chunks(fh, header, rows, encoding, check_encoding=check_encoding)
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow(header)
    n = 0
    it = iter(rows)
    for cells in it:
        n += 1
        try:
            if check_encoding:
                "".join(c for c in cells if isinstance(c, str)).encode(encoding)
            writer.writerow(cells)
        except UnicodeEncodeError:
            rest = ((n + 1 + i, c) for i, c in enumerate(it))
            problems = _unencodable([(n, cells)], header, encoding)
            problems += _unencodable(rest, header, encoding, limit=10 - len(problems))
            raise _encoding_error(encoding, problems) from None
    return n
