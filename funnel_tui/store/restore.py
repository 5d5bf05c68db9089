"""Putting a backup back (`funnel backup restore`), and setting a damaged file aside.

The content goes in through SQLite's backup API, over the file in place, so a terminal that has
the database open reads the restored data next. A sound current database is backed up first;
a damaged one is never overwritten: it is moved aside with its -wal/-shm (its newest commits
may be there) for `funnel backup recover`.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from funnel_tui.i18n import _
from funnel_tui.paths import ensure_private_dir, make_private_file
from funnel_tui.store import health
from funnel_tui.store.backup import BackupError, BackupInfo, copy_database, create_backup, has_data, utc_stamp

UTC = timezone.utc


@dataclass(frozen=True, slots=True)
class Restored:
    """What `restore_backup` did besides putting the backup in place."""

    saved: BackupInfo | None  # the database as it was, when it was sound
    aside: Path | None  # the damaged database, moved aside (with its -wal/-shm)


def restore_backup(db_path: Path, backup: Path, *, now: datetime | None = None) -> Restored:
    """Put `backup`'s content into `db_path`.

    A sound current database is backed up first, and the content goes in through the backup
    API, so a terminal that has the database open sees the restored data on its next read.
    A damaged one (the full check fails) is moved aside with its -wal/-shm instead, for
    `funnel backup recover`; one that cannot even be checked (I/O error, permissions) is left
    alone and nothing happens.
    """
    db_path, backup = Path(db_path), Path(backup)
    now = now or datetime.now(UTC)
    if not backup.is_file():
        raise BackupError(_("no backup file {path}").format(path=backup))
    try:
        problems = health.check(backup, full=False)
    except sqlite3.Error as exc:
        problems = [str(exc)]
    if problems:
        raise BackupError(_("{name} is damaged ({problems}); choose another (funnel backup list)").format(
            name=backup.name, problems="; ".join(problems[:3])))
    saved = aside = None
    if has_data(db_path):
        try:
            current = health.check(db_path, full=True)
        except sqlite3.Error as exc:
            problem = health.problem_of(exc, db_path)
            if problem is None or problem.kind != "damaged":
                raise BackupError(_("cannot check the current database first: {why}; nothing was "
                                    "restored").format(why=health.explain(problem, db_path) if problem else exc),
                                  kind=problem.kind if problem else "other") from None
            current = [problem.detail]
        if current:
            if health.in_use(db_path):
                raise BackupError(_("the damaged database is still open in another funnel window or "
                                    "command; close it, then restore; nothing was changed"))
            aside = move_aside(db_path, now=now)
        else:
            saved = create_backup(db_path, reason="before-restore", now=now, thin=False)
    try:
        ensure_private_dir(db_path.parent)
        if not db_path.exists():
            fd = os.open(db_path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        problems, _repaired = copy_database(backup, db_path, self_contained=False)
    except (sqlite3.Error, OSError) as exc:
        problem = health.problem_of(exc, db_path)
        raise BackupError(_("restore failed, the database is unchanged: {why}").format(
            why=health.in_words(problem) if problem else exc), kind=problem.kind if problem else "other") from None
    make_private_file(db_path)
    health.clear_damage_mark(db_path)
    if problems:
        raise BackupError(_("the restored database failed its integrity check ({problems}); the previous "
                            "one is saved as {saved}").format(problems="; ".join(problems[:3]),
                                                             saved=(saved.path if saved else aside) or "-"))
    return Restored(saved, aside)


def move_aside(db_path: Path, *, now: datetime | None = None) -> Path:
    """Rename a damaged database and its -wal/-shm to `<name>.corrupt-<stamp>[-wal|-shm]`, so
    SQLite (and `funnel backup recover`) read them together as they were."""
    db_path = Path(db_path)
    aside = db_path.with_name(f"{db_path.name}.corrupt-{utc_stamp(now)}")
    os.replace(db_path, aside)  # first: from here on nobody opens it under its old name
    for companion, moved in zip(health.companions(db_path), health.companions(aside)):
        if companion.exists():
            os.replace(companion, moved)
    make_private_file(aside)
    return aside
