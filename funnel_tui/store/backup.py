"""Backups of the rep's SQLite file: create, list, thin, restore.

Every copy goes through SQLite's online backup API, never a file copy: in WAL mode the
newest commits live in `funnel.db-wal` until a checkpoint, so copying `funnel.db` alone
silently loses them (tests/test_safety_backup.py shows it). Each backup is written to a
private `.part` file, passes `PRAGMA integrity_check`, and only then gets its final name,
so every `*.db` in the backups folder is a verified one. A copy whose only problems are
indexes that disagree with their tables is repaired with REINDEX (the rows are all there)
and the caller learns that the database itself needs the same repair.

Backups sit in `backups/` beside the database (0700), each file 0600, named
`<db stem>-<UTC stamp>-<reason>.db` so the list needs no index file. The stamp comes from
the clock, and clocks go wrong: a backup stamped in the future is listed, kept, and never
taken for "the newest" by the schedule, thinning or `restore latest`.
"""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from funnel_tui.i18n import _
from funnel_tui.paths import backups_dir, ensure_private_dir, make_private_file
from funnel_tui.store import health

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

UTC = timezone.utc
STAMP = "%Y%m%dT%H%M%S%fZ"
AUTO_INTERVAL = timedelta(minutes=30)
CLOCK_SLACK = timedelta(minutes=5)  # a stamp further ahead of the clock than this is not trusted

# Thinning: the newest KEEP_LAST, then one a day for a week, one a week for five weeks,
# one a month for a year. The newest backup is never removed, nor one holding a deal the
# newest backup lacks (deals are never deleted, so that deal went missing: the file was
# replaced by an older copy, say) — only the newest such copy is kept for each.
KEEP_LAST = 10
KEEP_DAYS = 7
KEEP_WEEKS = 5
KEEP_MONTHS = 12


class BackupError(RuntimeError):
    """A backup or restore did not happen; the message says why. `kind` is what stopped it
    (health.Problem kinds: full, read_only, permission, … or "other")."""

    def __init__(self, message: str, *, kind: str = "other"):
        super().__init__(message)
        self.kind = kind


class BackupInfo(NamedTuple):  # not a dataclass: see domain/rules.Dwell
    path: Path
    at: datetime  # aware UTC, from the file name
    reason: str
    size: int
    repaired_indexes: bool = False  # the copy needed REINDEX: so does the database


def copy_database(source: Path, dest: Path, *, self_contained: bool) -> tuple[list[str], bool]:
    """Copy the database `source` (opened read-only) into `dest` with SQLite's online backup
    API. Returns dest's integrity_check problems ([] when sound) and whether they were index
    problems REINDEX repaired in dest. `self_contained` leaves dest in rollback-journal mode,
    one file with no -wal/-shm companions."""
    src = health.connect(Path(source))
    try:
        dst = sqlite3.connect(dest, timeout=5)
        try:
            src.backup(dst)
            if self_contained:
                dst.execute("PRAGMA journal_mode = DELETE")
            problems = health.check_lines(dst, full=True)
            if health.index_only(problems):
                dst.execute("REINDEX")
                dst.commit()
                problems = health.check_lines(dst, full=True)
                return problems, not problems
            return problems, False
        finally:
            dst.close()
    finally:
        src.close()


def utc_stamp(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).strftime(STAMP)


def backup_file(source: Path, dest: Path) -> Path:
    """Copy `source` to `dest` with the backup API, 0600, and verify it."""
    return _backup_file(source, dest)[0]


def _backup_file(source: Path, dest: Path) -> tuple[Path, bool]:
    ensure_private_dir(dest.parent)
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.part")  # two terminals may start at once
    try:
        # Created private before SQLite writes a byte into it (SQLite would use the umask).
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        os.close(fd)
        # A backup is one self-contained file: reading it later must not need (or leave
        # behind) -wal/-shm companions.
        problems, repaired = copy_database(Path(source), tmp, self_contained=True)
        if problems:
            raise BackupError(_("the backup of {source} failed its integrity check ({problems}); the "
                                "database itself may be damaged").format(source=source,
                                                                         problems="; ".join(problems[:3])))
        os.replace(tmp, dest)
    except (sqlite3.Error, OSError) as exc:
        _discard(tmp)
        problem = health.problem_of(exc, Path(source))
        raise BackupError(_("could not back up {source}: {why}").format(
            source=source, why=health.in_words(problem) if problem else exc),
            kind=problem.kind if problem else "other") from None
    except BaseException:
        _discard(tmp)
        raise
    make_private_file(dest)
    return dest, repaired


def _discard(tmp: Path) -> None:
    try:
        tmp.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only disk refuses even to remove what is not there


def backup_name(db_path: Path, reason: str, now: datetime | None = None) -> str:
    # ASCII only: list_backups must recognise every name this makes (a Chinese reason too).
    safe = "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "-" for c in reason)[:40] or "backup"
    return f"{db_path.stem}-{utc_stamp(now)}-{safe}.db"


def _pattern(db_path: Path) -> re.Pattern:
    return re.compile(rf"^{re.escape(db_path.stem)}-(\d{{8}}T\d{{12}}Z)-([A-Za-z0-9_-]+)\.db$")


def stamp_time(text: str) -> datetime:
    """`datetime.strptime(text, STAMP)` in UTC for a stamp of STAMP's fixed width (`_pattern`
    matched it), by slicing: strptime would load its locale machinery (~6 ms) on every start,
    which lists the backups (tests/test_safety_backup.py compares the two)."""
    return datetime(int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[9:11]), int(text[11:13]),
                    int(text[13:15]), int(text[15:21]), tzinfo=UTC)


def list_backups(db_path: Path) -> list[BackupInfo]:
    """This database's backups, newest stamp first (see `trusted` for what the clock allows)."""
    folder = db_path.parent / "backups"
    if not folder.is_dir():
        return []
    pat = _pattern(db_path)
    out = []
    for p in folder.iterdir():
        m = pat.match(p.name)
        if not m:
            continue
        try:
            at = stamp_time(m.group(1))
            size = p.stat().st_size
        except (ValueError, OSError):
            continue
        out.append(BackupInfo(p, at, m.group(2), size))
    out.sort(key=lambda b: (b.at, b.path.name), reverse=True)
    return out


def is_future(b: BackupInfo, now: datetime) -> bool:
    """Stamped later than the clock allows: made while the clock ran ahead."""
    return b.at > now + CLOCK_SLACK


def trusted(backups: list[BackupInfo], now: datetime) -> list[BackupInfo]:
    """The backups whose stamp the clock can vouch for (newest first)."""
    return [b for b in backups if not is_future(b, now)]


def latest(db_path: Path, now: datetime) -> BackupInfo | None:
    """The newest backup the clock vouches for; a future-stamped one only if nothing else."""
    backups = list_backups(Path(db_path))
    return next(iter(trusted(backups, now) or backups), None)


def deal_uids(path: Path) -> frozenset[str] | None:
    """The uids of the deals in a backup (None: not readable as one)."""
    try:
        con = health.connect(Path(path))
        try:
            return frozenset(r[0] for r in con.execute("SELECT uid FROM deal"))
        finally:
            con.close()
    except sqlite3.Error:
        return None


def deal_count(path: Path) -> int | None:
    """Deals in a database or backup (None: not readable as one)."""
    try:
        con = health.connect(Path(path))
        try:
            return int(con.execute("SELECT count(*) FROM deal").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return None


def has_data(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


def remove_orphan_parts(folder: Path) -> list[Path]:
    """`.part` files left by a backup whose process is gone (killed mid-copy)."""
    removed = []
    if not folder.is_dir():
        return removed
    for p in folder.glob("*.part"):
        pid = p.name.rsplit(".", 2)[-2] if p.name.count(".") >= 2 else ""
        if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            continue  # another terminal is backing up right now
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def create_backup(db_path: Path, *, reason: str = "manual", now: datetime | None = None,
                  thin: bool = True) -> BackupInfo:
    """A verified backup of `db_path` in its backups folder (then thin the old ones)."""
    db_path = Path(db_path)
    if not has_data(db_path):
        raise BackupError(_("nothing to back up: {path} does not exist or is empty").format(path=db_path))
    now = now or datetime.now(UTC)
    try:
        folder = backups_dir(db_path)
    except OSError as exc:
        raise BackupError(_("could not create the backups folder beside {path}: {why}").format(
            path=db_path, why=exc.strerror or exc), kind=health.problem_of(exc).kind) from None
    remove_orphan_parts(folder)
    dest = folder / backup_name(db_path, reason, now)
    n = 1
    while dest.exists():  # two backups in the same microsecond (pinned clocks in tests)
        dest = dest.with_name(backup_name(db_path, f"{reason}-{n}", now))
        n += 1
    dest, repaired = _backup_file(db_path, dest)
    if thin:
        thin_backups(db_path, now=now)
    return BackupInfo(dest, now.astimezone(UTC), reason, dest.stat().st_size, repaired)


def backup_before(engine: "Engine", *, reason: str) -> Path | None:
    """A verified backup of the engine's database before a risky step: the SQLite file's, or a
    server's pg_dump (store/pg_backup.py)."""
    if engine.dialect.name != "sqlite":
        from funnel_tui.store.pg_backup import ServerBackupError, dump_engine

        try:
            return dump_engine(engine, reason=reason).path
        except ServerBackupError as exc:
            raise BackupError(str(exc)) from None
    db = engine.url.database or ""
    if db.startswith("file:"):
        db = db[5:].split("?", 1)[0]
    if not db:
        return None
    path = Path(db)
    if not has_data(path):
        return None
    return create_backup(path, reason=reason).path


def keep_set(backups: list[BackupInfo], *, now: datetime, holds=None) -> set[Path]:
    """Which backups thinning keeps (the rest may go). `backups` newest first; `holds(path)`
    gives a backup's deal uids (None: unknown) for the missing-deal rule."""
    future = [b for b in backups if is_future(b, now)]
    backups = trusted(backups, now)
    keep = {b.path for b in future}  # the clock cannot say how old they are: kept, never counted
    keep.update(b.path for b in backups[:KEEP_LAST])
    if backups:
        keep.add(backups[0].path)  # the newest verified backup, always
    buckets: dict[tuple, Path] = {}
    for b in backups:  # newest first: the first seen in a bucket is its newest
        age = now - b.at
        day = b.at.date()
        keys = []
        if age < timedelta(days=KEEP_DAYS):
            keys.append(("day", day))
        if age < timedelta(weeks=KEEP_WEEKS):
            keys.append(("week", *day.isocalendar()[:2]))
        if age < timedelta(days=31 * KEEP_MONTHS):
            keys.append(("month", day.year, day.month))
        for key in keys:
            if key not in buckets:
                buckets[key] = b.path
    keep.update(buckets.values())
    removable = [b for b in backups if b.path not in keep]
    if holds is not None and removable and backups:
        seen = set(holds(backups[0].path) or ())
        for b in removable:  # newest first: the newest copy of a missing deal is the one kept
            mine = holds(b.path)
            if mine and not mine <= seen:
                keep.add(b.path)
                seen |= mine
    return keep


def thin_backups(db_path: Path, *, now: datetime | None = None) -> list[Path]:
    """Remove the backups `keep_set` does not keep; returns what was removed."""
    backups = list_backups(Path(db_path))
    keep = keep_set(backups, now=now or datetime.now(UTC), holds=deal_uids)
    removed = []
    for b in backups:
        if b.path not in keep:
            try:
                b.path.unlink()
                removed.append(b.path)
            except OSError:
                pass
    return removed


def _last_change(db_path: Path) -> float:
    times = [db_path.stat().st_mtime]
    wal = Path(f"{db_path}-wal")
    if wal.exists():
        times.append(wal.stat().st_mtime)
    return max(times)


def backup_due(db_path: Path, *, now: datetime, interval: timedelta = AUTO_INTERVAL) -> bool:
    """True when the file changed since the newest trusted backup and that one is `interval`
    old. A future-stamped backup does not count: it would postpone every backup until the
    clock caught up with it."""
    db_path = Path(db_path)
    if not has_data(db_path):
        return False
    backups = trusted(list_backups(db_path), now)
    if not backups:
        return True
    newest = backups[0]
    if now - newest.at < interval:
        return False
    try:
        return _last_change(db_path) > newest.path.stat().st_mtime  # else nothing written since
    except OSError:
        return True
