"""Pilot helpers the TUI tests share: waiting for a screen to settle, and a private copy of a
seeded demo database (the snapshot tests, English and Chinese)."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from textual.worker import WorkerCancelled

from funnel_tui.exchange.demo import fill_demo
from funnel_tui.store import Store


async def settle(pilot) -> None:
    """Wait for the app's workers and the redraws they post (a worker may be cancelled by a
    newer one: then wait again)."""
    for _ in range(4):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            continue
        await pilot.pause()


def seeded_demo(path: Path, *, now: datetime, **options: Any) -> Path:
    """The demo pipeline (60 deals, seed 7) in a new file at `path`; `options` go to fill_demo
    (lang). The demo's uids are random (uuid4) and the Deal screen shows them: pinned here."""
    store = Store(path)
    fill_demo(store, deals=60, seed=7, now=now, **options)
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE deal SET uid = printf('00000000-0000-4000-8000-%012d', id)")
    conn.close()
    return path


@contextmanager
def private_copy(source: Path, tmp_path: Path) -> Iterator[Store]:
    """A Store on a private copy of `source` (SQLite's backup API: a file copy could miss the WAL)."""
    copy = tmp_path / "demo.db"
    src, dst = sqlite3.connect(source), sqlite3.connect(copy)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    store = Store(copy)
    try:
        yield store
    finally:
        store.close()
