"""Backups of the rep's SQLite file: create, list, thin, restore, and the checks at start.

Every copy goes through SQLite's online backup API, never a file copy: in WAL mode the
newest commits live in `funnel.db-wal` until a checkpoint, so copying `funnel.db` alone
silently loses them (tests/test_safety_backup.py shows it). Each backup is written to a
private `.part` file, passes `PRAGMA integrity_check`, and only then gets its final name,
so every `*.db` in the backups folder is a verified one.

Backups sit in `backups/` beside the database (0700), each file 0600, named
`<db stem>-<UTC stamp>-<reason>.db` so the list needs no index file.
"""

from __future__ import annotations

import os
import re
import shlex
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from funnel_tui.paths import backups_dir, ensure_private_dir, make_private_file

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

UTC = timezone.utc
STAMP = "%Y%m%dT%H%M%S%fZ"
AUTO_INTERVAL = timedelta(minutes=30)
CHECK_EVERY_START = 32 * 1024 * 1024

# Thinning: the newest KEEP_LAST, then one a day for a week, one a week for five weeks,
# one a month for a year. The newest backup is never removed.
KEEP_LAST = 10
KEEP_DAYS = 7
KEEP_WEEKS = 5
KEEP_MONTHS = 12


class BackupError(RuntimeError):
    """A backup or restore did not happen; the message says why."""


class CorruptDatabaseError(BackupError):
    """The database failed quick_check at start; it has been moved aside."""

    def __init__(self, message: str, *, moved_to: Path, offer: "BackupInfo | None"):
        super().__init__(message)
        self.moved_to = moved_to
        self.offer = offer


@dataclass(frozen=True, slots=True)
class BackupInfo:
    path: Path
    at: datetime  # aware UTC, from the file name
    reason: str
    size: int


def _uri(path: Path, mode: str) -> str:
    # as_uri percent-encodes '?', '#' and spaces, which a bare "file:" string would misread.
    return f"{path.resolve().as_uri()}?mode={mode}"


def _copy(source: Path, dest: Path, *, self_contained: bool) -> str:
    """Copy the database `source` (opened read-only) into `dest` with SQLite's online backup
    API; returns dest's integrity_check. `self_contained` leaves dest in rollback-journal
    mode, one file with no -wal/-shm companions."""
    src = sqlite3.connect(_uri(source, "ro"), uri=True, timeout=5)
    try:
        dst = sqlite3.connect(dest, timeout=5)
        try:
            src.backup(dst)
            if self_contained:
                dst.execute("PRAGMA journal_mode = DELETE")
            return dst.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dst.close()
    finally:
        src.close()


def _stamp(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).strftime(STAMP)


def backup_file(source: Path, dest: Path) -> Path:
    """Copy `source` to `dest` with the backup API, 0600, and verify it."""
    ensure_private_dir(dest.parent)
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.part")  # two terminals may start at once
    # Create the file private before SQLite writes a byte into it (SQLite would use the umask).
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.close(fd)
    try:
        # A backup is one self-contained file: reading it later must not need (or leave
        # behind) -wal/-shm companions.
        ok = _copy(Path(source), tmp, self_contained=True)
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"could not back up {source}: {exc}") from None
    if ok != "ok":
        tmp.unlink(missing_ok=True)
        raise BackupError(f"backup of {source} failed its integrity check: {ok}")
    os.replace(tmp, dest)
    make_private_file(dest)
    return dest


def backup_name(db_path: Path, reason: str, now: datetime | None = None) -> str:
    # ASCII only: list_backups must recognise every name this makes (a Chinese reason too).
    safe = "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "-" for c in reason)[:40] or "backup"
    return f"{db_path.stem}-{_stamp(now)}-{safe}.db"


def _pattern(db_path: Path) -> re.Pattern:
    return re.compile(rf"^{re.escape(db_path.stem)}-(\d{{8}}T\d{{12}}Z)-([A-Za-z0-9_-]+)\.db$")


def list_backups(db_path: Path) -> list[BackupInfo]:
    """This database's backups, newest first."""
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
            at = datetime.strptime(m.group(1), STAMP).replace(tzinfo=UTC)
            size = p.stat().st_size
        except (ValueError, OSError):
            continue
        out.append(BackupInfo(p, at, m.group(2), size))
    out.sort(key=lambda b: (b.at, b.path.name), reverse=True)
    return out


def _has_data(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


def create_backup(db_path: Path, *, reason: str = "manual", now: datetime | None = None,
                  thin: bool = True) -> BackupInfo:
    """A verified backup of `db_path` in its backups folder (then thin the old ones)."""
    db_path = Path(db_path)
    if not _has_data(db_path):
        raise BackupError(f"nothing to back up: {db_path} does not exist or is empty")
    now = now or datetime.now(UTC)
    dest = backups_dir(db_path) / backup_name(db_path, reason, now)
    n = 1
    while dest.exists():  # two backups in the same microsecond (pinned clocks in tests)
        dest = dest.with_name(backup_name(db_path, f"{reason}-{n}", now))
        n += 1
    backup_file(db_path, dest)
    if thin:
        thin_backups(db_path, now=now)
    info = next((b for b in list_backups(db_path) if b.path == dest), None)
    return info or BackupInfo(dest, now.astimezone(UTC), reason, dest.stat().st_size)


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
    if not _has_data(path):
        return None
    return create_backup(path, reason=reason).path


def keep_set(backups: list[BackupInfo], *, now: datetime) -> set[Path]:
    """Which backups thinning keeps (the rest may go). `backups` newest first."""
    keep = {b.path for b in backups[:KEEP_LAST]}
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
    return keep


def thin_backups(db_path: Path, *, now: datetime | None = None) -> list[Path]:
    """Remove the backups `keep_set` does not keep; returns what was removed."""
    backups = list_backups(Path(db_path))
    keep = keep_set(backups, now=now or datetime.now(UTC))
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
    """True when the file changed since the newest backup and that one is `interval` old."""
    db_path = Path(db_path)
    if not _has_data(db_path):
        return False
    backups = list_backups(db_path)
    if not backups:
        return True
    newest = backups[0]
    if now - newest.at < interval:
        return False
    try:
        return _last_change(db_path) > newest.path.stat().st_mtime  # else nothing written since
    except OSError:
        return True


def auto_backup(db_path: Path, *, now: datetime, interval: timedelta = AUTO_INTERVAL) -> BackupInfo | None:
    """At start: back up when the file changed since the newest backup and it is `interval` old."""
    if not backup_due(db_path, now=now, interval=interval):
        return None
    return create_backup(Path(db_path), reason="auto", now=now)


def quick_check(db_path: Path) -> str:
    """"ok", or what SQLite's quick_check (or opening the file at all) reported."""
    try:
        con = sqlite3.connect(_uri(Path(db_path), "rw"), uri=True, timeout=5)
        try:
            rows = con.execute("PRAGMA quick_check").fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        return str(exc)
    text = "; ".join(str(r[0]) for r in rows[:3])
    return "ok" if text == "ok" else text or "no answer"


def newest_good_backup(db_path: Path) -> BackupInfo | None:
    for b in list_backups(Path(db_path)):
        if quick_check(b.path) == "ok":
            return b
    return None


def move_aside(db_path: Path, *, now: datetime | None = None) -> Path:
    """Rename a damaged database (and its -wal) to `<name>.corrupt-<stamp>`; keep it for rescue."""
    db_path = Path(db_path)
    aside = db_path.with_name(f"{db_path.name}.corrupt-{_stamp(now)}")
    os.replace(db_path, aside)
    for suffix in ("-wal", "-shm"):
        companion = Path(f"{db_path}{suffix}")
        if companion.exists():
            os.replace(companion, Path(f"{aside}{suffix}"))
    make_private_file(aside)
    return aside


def check_at_open(db_path: Path, *, now: datetime) -> BackupInfo | None:
    """Run at start: quick_check the file, then the automatic backup.

    A damaged file is moved aside and CorruptDatabaseError raised, naming the newest good
    backup: restoring is the rep's decision, never done silently.
    """
    db_path = Path(db_path)
    if not _has_data(db_path):
        return None
    due = backup_due(db_path, now=now)
    # quick_check reads every page: ~35 ms for 2,000 deals (6 MB), ~0.5 s at 60 MB. Past
    # CHECK_EVERY_START bytes it runs with each automatic backup instead of every start.
    problem = quick_check(db_path) if due or db_path.stat().st_size <= CHECK_EVERY_START else "ok"
    if problem != "ok":
        try:
            aside = move_aside(db_path, now=now)
        except OSError as exc:
            raise CorruptDatabaseError(
                f"the database {db_path} is damaged ({problem}) and could not be moved aside ({exc}); "
                f"see `funnel backup list` and `funnel backup restore`", moved_to=db_path, offer=None) from None
        offer = newest_good_backup(db_path)
        msg = f"the database {db_path} is damaged ({problem}); it was moved aside to {aside.name}."
        if offer is not None:
            msg += (f" The newest good backup is from {offer.at:%Y-%m-%d %H:%M} UTC; restore it with: "
                    f"funnel --db {shlex.quote(str(db_path))} backup restore {shlex.quote(str(offer.path))}")
        else:
            msg += " No good backup was found; a new, empty database will be created on the next start."
        raise CorruptDatabaseError(msg, moved_to=aside, offer=offer)
    return create_backup(db_path, reason="auto", now=now) if due else None


def restore_backup(db_path: Path, backup: Path, *, now: datetime | None = None) -> BackupInfo | None:
    """Put `backup`'s content into `db_path`. Returns the backup of what was there before.

    The current database is backed up first (when it is readable), and the content goes in
    through the backup API too, so a terminal that has the database open sees the restored
    data on its next read instead of a file swapped under it.
    """
    db_path, backup = Path(db_path), Path(backup)
    now = now or datetime.now(UTC)
    if not backup.is_file():
        raise BackupError(f"no backup file {backup}")
    problem = quick_check(backup)
    if problem != "ok":
        raise BackupError(f"{backup.name} is damaged ({problem}); choose another (funnel backup list)")
    saved = None
    if _has_data(db_path) and quick_check(db_path) == "ok":
        saved = create_backup(db_path, reason="before-restore", now=now, thin=False)
    ensure_private_dir(db_path.parent)
    if not db_path.exists():
        fd = os.open(db_path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    try:
        ok = _copy(backup, db_path, self_contained=False)
    except sqlite3.Error as exc:
        raise BackupError(f"restore failed, the database is unchanged: {exc}") from None
    make_private_file(db_path)
    if ok != "ok":
        raise BackupError(f"the restored database failed its integrity check ({ok}); "
                          f"the previous one is saved as {saved.path if saved else 'nothing'}")
    return saved
