"""What SQLite says about the rep's database file, in the rep's words (SQLite files only).

A file is *damaged* only when SQLite says so: SQLITE_CORRUPT or SQLITE_NOTADB, or an
integrity check, run read-only, that reports problems. Everything else SQLite can answer —
a full disk, an I/O error, a read-only file or folder, a file of another user, a lock — is
reported as what it is, and the file stays where it is. (Issue 12: a full disk made healthy
files look damaged, and funnel moved them aside.)

Standard library only, so every start-up path can use it before any ORM is loaded.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import NamedTuple

from funnel_tui.domain.lazy_re import lazy_compile
from funnel_tui.i18n import _

# SQLite's primary result codes (the low byte of an extended code).
SQLITE_PERM, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY = 3, 5, 6, 8
SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN = 10, 11, 13, 14
SQLITE_AUTH, SQLITE_NOTADB = 23, 26

FULL_BELOW = 1024 * 1024  # free bytes under which an I/O error is reported as a full disk
# The -shm lock byte every open connection holds shared (SQLite's UNIX_SHM_DMS).
SHM_DMS_BYTE = 128
# integrity_check lines that speak of an index only: REINDEX rebuilds them from the tables.
_INDEX_LINE = lazy_compile(r"^(row \d+ missing from index |wrong # of entries in index |"
                         r"non-unique entry in index )")


class Problem(NamedTuple):  # not a dataclass: see domain/rules.Dwell
    """What SQLite answered, sorted into what the rep can do about it.

    kind: damaged | full | read_only | locked | permission | io | other."""

    kind: str
    detail: str  # SQLite's own words and code name, e.g. "disk I/O error (SQLITE_IOERR_SHMSIZE)"


def companions(path: Path) -> tuple[Path, Path]:
    """The -wal and -shm files SQLite keeps beside a WAL database."""
    return Path(f"{path}-wal"), Path(f"{path}-shm")


def uri(path: Path, *, read_only: bool = True, immutable: bool = False) -> str:
    """A file: URI for sqlite3.connect(uri=True); as_uri percent-encodes '?', '#', spaces."""
    query = "mode=ro" if read_only or immutable else "mode=rw"
    if immutable:
        query += "&immutable=1"
    return f"{Path(path).resolve().as_uri()}?{query}"


def connect(path: Path, *, read_only: bool = True, immutable: bool = False) -> sqlite3.Connection:
    return sqlite3.connect(uri(path, read_only=read_only, immutable=immutable), uri=True, timeout=5)


def disk_free(folder: Path) -> int | None:
    try:
        st = os.statvfs(folder)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def mounted_read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _unreadable_companion(path: Path) -> Path | None:
    """The file, or a -wal/-shm, this user cannot use: the file unreadable, or a companion it
    cannot read and write (another user's, 0600). On a read-only mount nothing is writable,
    and that is reported as such instead."""
    if path.exists() and not os.access(path, os.R_OK):
        return path
    if mounted_read_only(path.parent):
        return None
    for p in companions(path):
        if p.exists() and not os.access(p, os.R_OK | os.W_OK):
            return p
    return None


def problem_of(exc: BaseException, path: Path | None = None) -> Problem | None:
    """Sort a sqlite3 error (or an OSError) into a Problem; None for anything else."""
    if isinstance(exc, OSError):
        kind = {errno.ENOSPC: "full", errno.EDQUOT: "full", errno.EROFS: "read_only",
                errno.EACCES: "permission", errno.EPERM: "permission"}.get(exc.errno or 0, "io")
        return Problem(kind, exc.strerror or str(exc))
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    name = getattr(exc, "sqlite_errorname", None)
    detail = f"{exc} ({name})" if name else str(exc)
    primary = (code or 0) & 0xFF
    folder = Path(path).parent if path is not None else None
    if primary in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return Problem("damaged", detail)
    if primary == SQLITE_FULL:
        return Problem("full", detail)
    if primary in (SQLITE_BUSY, SQLITE_LOCKED):
        return Problem("locked", detail)
    if primary in (SQLITE_PERM, SQLITE_AUTH):
        return Problem("permission", detail)
    if primary == SQLITE_READONLY:
        return Problem("read_only", detail)
    if primary in (SQLITE_IOERR, SQLITE_CANTOPEN):
        if folder is not None:
            free = disk_free(folder)
            if free is not None and free < FULL_BELOW:
                return Problem("full", detail)
            if mounted_read_only(folder):
                return Problem("read_only", detail)
            if path is not None and _unreadable_companion(Path(path)) is not None:
                return Problem("permission", detail)
            if primary == SQLITE_CANTOPEN and not os.access(folder, os.W_OK):
                return Problem("read_only", detail)
        return Problem("io", detail)
    if code is None and "locked" in str(exc):
        return Problem("locked", detail)
    return Problem("other", detail)


def in_words(problem: Problem) -> str:
    """What happened, briefly, for a sentence that says the rest ("could not back up X: …")."""
    words = {"full": _("the disk is full"), "read_only": _("the disk or folder is read-only"),
             "permission": _("no permission"), "locked": _("the database is locked")}.get(problem.kind)
    return f"{words} ({problem.detail})" if words else problem.detail


def explain(problem: Problem, path: Path) -> str:
    """One line for the rep: what SQLite said, that nothing changed, and what to do."""
    where = str(path)
    if problem.kind == "full":
        return _("the disk holding {path} is full ({detail}); nothing was changed — free some space "
                 "and try again").format(path=where, detail=problem.detail)
    if problem.kind == "read_only":
        return _("{path} cannot be written ({why}); nothing was changed").format(
            path=where, why=read_only_reason(Path(path)) or problem.detail)
    if problem.kind == "locked":
        return _("the database {path} is locked by another funnel window or command; nothing was "
                 "changed — try again in a moment").format(path=where)
    if problem.kind == "permission":
        other = _unreadable_companion(Path(path))
        if other is not None:
            return _("{file} belongs to another user (uid {uid}) or is not readable by you; nothing was "
                     "changed and no file was moved — give it back to yourself (chown) or run funnel "
                     "as that user").format(file=str(other), uid=_owner(other))
        return _("no permission to use {path} ({detail}); nothing was changed").format(
            path=where, detail=problem.detail)
    if problem.kind == "damaged":
        return _("the database {path} is damaged ({detail})").format(path=where, detail=problem.detail)
    return _("the database {path} could not be used ({detail}); nothing was changed and the file is left "
             "as it is — check the disk; if funnel is open in another window, close it and try again"
             ).format(path=where, detail=problem.detail)


def _owner(path: Path) -> str:
    try:
        return str(path.stat().st_uid)
    except OSError:
        return "?"


def read_only_reason(path: Path) -> str | None:
    """Why this user cannot write the database at `path` (None: it can, as far as we can tell)."""
    path = Path(path)
    folder = path.parent
    if mounted_read_only(folder):
        return _("the disk is mounted read-only")
    if path.exists() and not os.access(path, os.W_OK):
        return _("the file is read-only for you")
    if not os.access(folder, os.W_OK):
        return _("the folder {folder} is read-only for you").format(folder=str(folder))
    return None


def quiet_companions(path: Path) -> bool:
    """No -wal with content and no other process with the database open: the main file alone
    holds every commit. Only then may it be read as an immutable file."""
    wal = companions(path)[0]
    try:
        if wal.exists() and wal.stat().st_size > 0:
            return False
    except OSError:
        return False
    return not in_use(path)


def check_lines(con: sqlite3.Connection, *, full: bool, limit: int = 20) -> list[str]:
    """[] when SQLite's check passes, else its lines (quick_check, or integrity_check when `full`).

    A SQLITE_CORRUPT/NOTADB raised while checking is itself the answer; other errors raise."""
    pragma = "integrity_check" if full else "quick_check"
    try:
        rows = con.execute(f"PRAGMA {pragma}({int(limit)})").fetchall()
    except sqlite3.Error as exc:
        p = problem_of(exc)
        if p is not None and p.kind == "damaged":
            return [p.detail]
        raise
    lines = [str(r[0]) for r in rows]
    return [] if lines == ["ok"] else (lines or ["no answer"])


def check(path: Path, *, full: bool, immutable: bool = False) -> list[str]:
    """Check the file read-only; [] when sound. Raises sqlite3.Error for I/O, locks and the like."""
    con = connect(path, immutable=immutable)
    try:
        return check_lines(con, full=full)
    finally:
        con.close()


def index_only(lines: list[str]) -> bool:
    """Every problem is an index that disagrees with its table (REINDEX repairs that)."""
    return bool(lines) and all(_INDEX_LINE.match(line) for line in lines)


def in_use(path: Path) -> bool:
    """Another process has the database open (it holds the -shm lock every connection takes)."""
    import fcntl

    shm = companions(Path(path))[1]
    try:
        fd = os.open(shm, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, SHM_DMS_BYTE)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, SHM_DMS_BYTE)
        return False
    finally:
        os.close(fd)


# --- damage seen while running ------------------------------------------------------------------
# A process that meets SQLITE_CORRUPT stops writing and leaves this mark beside the file, so the
# next start runs the full check even when the quick one would pass.


def damage_mark(path: Path) -> Path:
    return Path(f"{path}.damaged")


def mark_damaged(path: Path, detail: str) -> None:
    try:
        damage_mark(path).write_text(detail + "\n", encoding="utf-8")
    except OSError:
        pass  # a read-only folder: this process still refuses to write


def clear_damage_mark(path: Path) -> None:
    try:
        damage_mark(path).unlink()
    except OSError:
        pass


def fingerprint(path: Path) -> tuple | None:
    """What a database holds, cheaply: its schema version and each table's row count and
    highest rowid. Two files with the same fingerprint hold the same rows (funnel never
    deletes a row, and every change appends history). None: not readable."""
    try:
        con = connect(Path(path))
        try:
            tables = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "ORDER BY name")]
            counts = tuple((t, *con.execute(f'SELECT count(*), max(rowid) FROM "{t}"').fetchone())
                           for t in tables)
            return (con.execute("PRAGMA user_version").fetchone()[0], counts)
        finally:
            con.close()
    except sqlite3.Error:
        return None


# --- stored values funnel cannot read ------------------------------------------------------------

_TIME_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]*"
_DATE_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"


def unreadable_values(path: Path, *, limit: int = 5) -> list[str]:
    """Time and date cells that are not a time or date (a byte flipped on the disk, an edit by
    hand): SQLite keeps them, and reading the row then fails. "deal 17: created_at holds '…'"."""
    found: list[str] = []
    try:
        con = connect(Path(path))
    except sqlite3.Error:
        return found
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            for _cid, column, kind, *_rest in con.execute(f'PRAGMA table_info("{table}")').fetchall():
                glob = {"DATETIME": _TIME_GLOB, "DATE": _DATE_GLOB}.get(str(kind).upper())
                if glob is None:
                    continue
                rows = con.execute(
                    f'SELECT rowid, "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL AND '
                    f'(typeof("{column}") <> \'text\' OR "{column}" NOT GLOB ? OR julianday("{column}") IS NULL) '
                    f"LIMIT ?", (glob, limit - len(found))).fetchall()
                found += [_("{table} {id}: {column} holds {value}, which is not a date").format(
                    table=table, id=rowid, column=column, value=repr(value)) for rowid, value in rows]
                if len(found) >= limit:
                    return found
    except sqlite3.Error:
        pass
    finally:
        con.close()
    return found
