"""What funnel checks when it opens a SQLite database, before anything reads or writes it.

In order (issue 12 measured each failure this prevents):
1. A missing or empty file where backups show a database lived is never taken for a new,
   empty database: DatabaseMissing, with the restore command.
2. Can this user write it? A read-only file, folder or disk opens read-only with the reason.
3. Does SQLite answer, and is the file sound? A read-only probe, with quick_check on every
   start up to CHECK_EVERY_START bytes — skipped when the stamp of the last passing check
   (store/check_stamp.py: device, inode, size, mtime and ctime of the file, size and mtime
   of its -wal) is identical, so only a changed file is checked again; its limit, bit rot
   that changes none of that, is found by the periodic full check with the automatic backup,
   as for bigger files —, and the full check when a process met SQLITE_CORRUPT and left its
   mark (the mark always forces it). Damage (and only what
   SQLite calls damage) → DatabaseDamaged naming the newest good backup. Anything else SQLite
   says → DatabaseUnavailable, the file untouched — except that a full disk or read-only
   folder, which only keeps SQLite from creating its -shm, still reads the file as it stands
   when no -wal holds commits and no other process has it open.
4. The automatic backup when due: its integrity_check is the periodic full check. Index-only
   damage is repaired with REINDEX once a backup exists; a database holding fewer deals than
   the newest backup is backed up too, the fuller backup kept (thinning keeps it), and the
   rep is told.
Nothing here ever moves the file: only `funnel backup restore` does, after the full check
fails.
"""

from __future__ import annotations

import shlex
import sqlite3
from datetime import datetime
from pathlib import Path

from funnel_tui.i18n import _
from funnel_tui.store import check_stamp, health
from funnel_tui.store.backup import (
    BackupError,
    BackupInfo,
    backup_due,
    create_backup,
    deal_count,
    latest,
    list_backups,
    trusted,
)
from funnel_tui.store.errors import DatabaseDamaged, DatabaseMissing, DatabaseUnavailable

CHECK_EVERY_START = 32 * 1024 * 1024


class Opened:
    """How the database may be opened, and what the rep should read about it. (A plain class,
    not a dataclass: see domain/rules.Dwell.)"""

    __slots__ = ("read_only", "immutable", "notes", "backup")

    def __init__(self, read_only: str | None = None, immutable: bool = False) -> None:
        self.read_only = read_only  # why it opens read-only (None: read-write)
        self.immutable = immutable  # read as the file stands (no -wal/-shm): see module docstring
        self.notes: list[str] = []  # one-line warnings, printed or toasted
        self.backup: BackupInfo | None = None  # the automatic backup made just now

    def without_notes(self) -> Opened:
        """The same answer with no notes (they were shown already)."""
        copy = Opened(self.read_only, self.immutable)
        copy.backup = self.backup
        return copy

    def __repr__(self) -> str:
        return (f"Opened(read_only={self.read_only!r}, immutable={self.immutable!r}, notes={self.notes!r}, "
                f"backup={self.backup!r})")


def command(db_path: Path, *args: str) -> str:
    """`funnel --db PATH ARGS…`, quoted for the rep's shell."""
    return " ".join(["funnel", "--db", shlex.quote(str(db_path)), *(shlex.quote(a) for a in args)])


def _when(b: BackupInfo) -> str:
    return f"{b.at:%Y-%m-%d %H:%M} UTC"


def check_at_open(db_path: Path, *, now: datetime) -> Opened:
    """Run before the Store opens `db_path` (see the module docstring for the order)."""
    db_path = Path(db_path)
    try:
        size = db_path.stat().st_size
    except FileNotFoundError:
        size = None
    except OSError as exc:
        raise DatabaseUnavailable(health.explain(health.problem_of(exc, db_path), db_path)) from None
    if not size:
        missing = missing_message(db_path, now, empty=size == 0)
        if missing:
            raise DatabaseMissing(missing)
        return Opened()  # a new database
    opened = Opened(read_only=health.read_only_reason(db_path))
    marked = health.damage_mark(db_path).exists()
    due = opened.read_only is None and backup_due(db_path, now=now)
    check = marked or due or size <= CHECK_EVERY_START
    stamp = check_stamp.seen(db_path) if check and size <= CHECK_EVERY_START else None
    if check and not marked and not due and check_stamp.unchanged(db_path, stamp):
        check = False  # checked already, and nothing about the file changed since
        stamp = None
    problems = _probe(db_path, opened, check=check, full=marked)
    if problems:
        check_stamp.forget(db_path)
    elif stamp is not None:
        check_stamp.remember(db_path, stamp)
    if problems and health.index_only(problems) and opened.read_only is None:
        _repair_indexes(db_path, now, opened, reason="before-reindex")
        return opened
    if problems:
        raise DatabaseDamaged(damage_message(db_path, problems, now))
    if marked:
        health.clear_damage_mark(db_path)  # the full check passed: what was met is gone
    if due and opened.read_only is None:
        _auto_backup(db_path, now, opened)
    return opened


def _probe(db_path: Path, opened: Opened, *, check: bool, full: bool) -> list[str]:
    """Open read-only, read the schema, and check when asked; the problems found ([] sound)."""
    try:
        return _read(db_path, immutable=False, check=check, full=full)
    except sqlite3.Error as exc:
        problem = health.problem_of(exc, db_path)
        if problem.kind == "damaged":
            return [problem.detail]
        if problem.kind in ("full", "read_only") and health.quiet_companions(db_path):
            # SQLite could not create its -shm, so it cannot share the file; nobody else has
            # it open and every commit is in the main file: read it as it stands.
            try:
                problems = _read(db_path, immutable=True, check=check, full=full)
            except sqlite3.Error as exc2:
                problem = health.problem_of(exc2, db_path) or problem
                if problem.kind == "damaged":
                    return [problem.detail]
                raise DatabaseUnavailable(health.explain(problem, db_path), kind=problem.kind) from None
            opened.immutable = True
            opened.read_only = opened.read_only or (
                _("the disk is full") if problem.kind == "full" else problem.detail)
            if problem.kind == "full":
                opened.notes.append(_("the disk holding {path} is full: reading only, nothing can be saved "
                                      "until you free some space").format(path=db_path))
            return problems
        raise DatabaseUnavailable(health.explain(problem, db_path), kind=problem.kind) from None


def _read(db_path: Path, *, immutable: bool, check: bool, full: bool) -> list[str]:
    con = health.connect(db_path, immutable=immutable)
    try:
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return health.check_lines(con, full=full) if check else []
    finally:
        con.close()


def _auto_backup(db_path: Path, now: datetime, opened: Opened) -> None:
    newest = latest(db_path, now)
    before = deal_count(db_path) if newest is not None else None
    try:
        opened.backup = create_backup(db_path, reason="auto", now=now)
    except BackupError as exc:
        # The copy failing its check may mean the database is damaged: ask the database.
        try:
            problems = health.check(db_path, full=True)
        except sqlite3.Error:
            problems = []
        if problems and health.index_only(problems):
            _repair_indexes(db_path, now, opened, reason="before-reindex")
            return
        if problems:
            raise DatabaseDamaged(damage_message(db_path, problems, now)) from None
        opened.notes.append(_("warning: automatic backup failed: {why}").format(why=exc))
        return
    if opened.backup.repaired_indexes:
        repair_after(db_path, now, opened, opened.backup)
    had = deal_count(newest.path) if newest is not None and before is not None else None
    if had is not None and before < had and newest.reason != "before-restore":
        opened.notes.append(_(
            "warning: this database has {now} deals, the backup {name} of {when} has {had}; both are kept. "
            "If deals are missing, restore that backup: {command}").format(
            now=before, had=had, name=newest.path.name, when=_when(newest),
            command=command(db_path, "backup", "restore", newest.path.name)))


def _repair_indexes(db_path: Path, now: datetime, opened: Opened, *, reason: str) -> None:
    """Index-only damage: back up (the copy gets REINDEX and passes its check), then REINDEX
    the database itself and check it again."""
    try:
        info = create_backup(db_path, reason=reason, now=now)
    except BackupError as exc:
        raise DatabaseDamaged(_("the database {path} has damaged indexes, and no backup could be made "
                                "before repairing them ({why}); nothing was changed").format(
            path=db_path, why=exc)) from None
    opened.backup = info
    repair_after(db_path, now, opened, info)


def repair_after(db_path: Path, now: datetime, opened: Opened, info: BackupInfo) -> None:
    """The backup `info` needed REINDEX in its copy: repair the database itself the same way."""
    try:
        con = health.connect(db_path, read_only=False)
        try:
            con.isolation_level = None
            con.execute("BEGIN IMMEDIATE")
            con.execute("REINDEX")
            con.execute("COMMIT")
        finally:
            con.close()
        problems = health.check(db_path, full=True)
    except sqlite3.Error as exc:
        problem = health.problem_of(exc, db_path)
        raise DatabaseUnavailable(_("the database {path} has damaged indexes and they could not be "
                                    "repaired now: {why}").format(path=db_path, why=problem.detail),
                                  kind=problem.kind) from None
    if problems:
        raise DatabaseDamaged(damage_message(db_path, problems, now))
    health.clear_damage_mark(db_path)
    opened.notes.append(_("repaired damaged indexes (REINDEX) after backing up to {name}").format(
        name=info.path.name))


def newest_good_backup(db_path: Path, now: datetime) -> BackupInfo | None:
    """The newest backup the clock vouches for whose quick_check passes."""
    backups = list_backups(Path(db_path))
    for b in trusted(backups, now) or backups:
        try:
            if not health.check(b.path, full=False, immutable=True):
                return b
        except sqlite3.Error:
            continue
    return None


def damage_message(db_path: Path, problems: list[str], now: datetime) -> str:
    """One line: what SQLite found, that nothing moved, and the way back."""
    text = _("the database {path} is damaged (SQLite: {problems}); nothing was changed and the file is "
             "left where it is.").format(path=db_path, problems="; ".join(problems[:3]))
    offer = newest_good_backup(db_path, now)
    if offer is None:
        return text + " " + _(
            "No good backup was found. Set it aside and start a new database with: {command} — it prints "
            "the command that copies every readable deal back (funnel backup recover)").format(
            command=command(db_path, "backup", "start-empty"))
    deals = deal_count(offer.path)
    return text + " " + _(
        "The newest good backup is from {when} ({deals} deals); restore it with: {command} — restore "
        "keeps the damaged file beside it, because it may hold changes newer than the backup, and prints "
        "the command that copies them back (funnel backup recover)").format(
        when=_when(offer), deals=deals if deals is not None else "?",
        command=command(db_path, "backup", "restore", offer.path.name))


def missing_message(db_path: Path, now: datetime, *, empty: bool) -> str | None:
    """Why a missing or empty file is not a new database (None: nothing says it held data)."""
    state = _("is empty (0 bytes)") if empty else _("is missing")
    offer = latest(db_path, now)
    if offer is not None:
        deals = deal_count(offer.path)
        return _("the database {path} {state}, but it held data: {n} backups of it exist, the newest from "
                 "{when} ({deals} deals). Nothing was created. Restore it with: {command} — or, to start "
                 "an empty database here on purpose: {fresh}").format(
            path=db_path, state=state, n=len(list_backups(db_path)), when=_when(offer),
            deals=deals if deals is not None else "?",
            command=command(db_path, "backup", "restore", offer.path.name),
            fresh=command(db_path, "backup", "start-empty"))
    asides = sorted(db_path.parent.glob(f"{db_path.name}.corrupt-*[0-9]Z"))
    if asides:
        return _("the database {path} {state}, but the damaged file {found} was set aside, so it held "
                 "data. Nothing was created. Start a new database and copy every readable deal back with: "
                 "{fresh} and then {recover}").format(
            path=db_path, state=state, found=asides[-1], fresh=command(db_path, "backup", "start-empty"),
            recover=command(db_path, "backup", "recover", str(asides[-1])))
    wal = health.companions(db_path)[0]
    if wal.exists() and wal.stat().st_size > 0:
        return _("the database {path} {state}, but its {wal} ({size} bytes) is still there, so it held "
                 "data. Nothing was created. Put the database file back where it was, or restore a backup "
                 "(funnel backup list)").format(path=db_path, state=state, wal=wal.name,
                                                size=wal.stat().st_size)
    return None
