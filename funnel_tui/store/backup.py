"""Backups through SQLite's online backup API (a file copy would miss the WAL)."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from funnel_tui.paths import backups_dir, make_private_file

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


class BackupError(RuntimeError):
    pass


def backup_file(source: Path, dest: Path) -> Path:
    """Copy `source` to `dest` with the backup API, 0600, and verify it."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    # Create the file private before SQLite writes a byte into it.
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.close(fd)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=5)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
            ok = dst.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dst.close()
    finally:
        src.close()
    if ok != "ok":
        tmp.unlink(missing_ok=True)
        raise BackupError(f"backup of {source} failed its integrity check: {ok}")
    os.replace(tmp, dest)
    make_private_file(dest)
    return dest


def backup_name(db_path: Path, reason: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S%fZ")
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in reason)[:40]
    return f"{db_path.stem}-{stamp}-{safe}.db"


def backup_before(engine: "Engine", *, reason: str) -> Path | None:
    """A verified backup of the engine's SQLite file before a risky step (None for servers)."""
    db = engine.url.database
    if engine.dialect.name != "sqlite" or not db or db.startswith("file:"):
        db = db[5:].split("?", 1)[0] if db and db.startswith("file:") else db
    if engine.dialect.name != "sqlite" or not db:
        return None
    path = Path(db)
    if not path.exists() or path.stat().st_size == 0:
        return None
    return backup_file(path, backups_dir(path) / backup_name(path, reason))
