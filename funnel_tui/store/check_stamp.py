"""The stamp of the last quick_check that passed, so an unchanged file is not checked again.

quick_check costs ~55 ms of CPU near 32 MiB, more than the whole Python floor of `funnel due
--count` (issue 19). The stamp records what the check saw: the main file's device, inode,
size, mtime_ns and ctime_ns, and the -wal file's size and mtime_ns (or its absence). The next
start skips the check only when all of it is identical; any write, any change of the -wal, a
restore, a copy over the file (new inode) or even an mtime set back by hand (ctime moves)
changes it. Its limit: bit rot that changes no byte of that stat — the disk itself flipping a
bit — is found by the periodic full check with the automatic backup, as for big files.

The stamp never lives inside the database (a read must not write it): one small file per
database in the user's cache dir, named after the database's real path and holding that
path, written atomically (temp + rename). Missing, unreadable, garbled or another path's →
check. Failing to write it never fails the open.
"""

from __future__ import annotations

import binascii
import os
from pathlib import Path

from funnel_tui.paths import cache_dir_unmade

VERSION = "funnel-check-stamp 1"


def seen(db_path: Path) -> str | None:
    """What a check run now would see, as one line (None: the file cannot be stat'ed)."""
    real = os.path.realpath(db_path)
    try:
        st = os.stat(real)
    except OSError:
        return None
    try:
        w = os.stat(f"{real}-wal")
        wal = f"wal {w.st_size} {w.st_mtime_ns}"
    except FileNotFoundError:
        wal = "no wal"
    except OSError:
        return None
    return (f"{VERSION}\n{real}\n{st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} "
            f"{st.st_ctime_ns}\n{wal}\n")


def stamp_path(db_path: Path) -> Path:
    """The stamp's file: keyed by the real path (a collision only costs a check: the stamp
    holds the path it is for)."""
    real = os.path.realpath(db_path)
    key = binascii.crc32(real.encode("utf-8", "surrogateescape"))
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in os.path.basename(real))[:80]
    return cache_dir_unmade() / "checked" / f"{key:08x}-{name}.stamp"


def unchanged(db_path: Path, now_seen: str | None) -> bool:
    """The last passing check saw exactly `now_seen` (anything unreadable: False, check)."""
    if now_seen is None:
        return False
    try:
        with open(stamp_path(db_path), encoding="utf-8") as f:
            return f.read(4096) == now_seen
    except (OSError, UnicodeDecodeError, ValueError):
        return False


def remember(db_path: Path, checked: str | None) -> None:
    """The check that saw `checked` passed: keep what the file looks like now, when that is
    still what was checked — the same, or with the empty -wal the check's own connection
    created where there was none (a write during the check leaves no stamp). Never raises."""
    now_seen = seen(db_path)
    if checked is None or now_seen is None:
        return
    if now_seen != checked:
        before, after = checked.split("\n"), now_seen.split("\n")
        if not (before[:3] == after[:3] and before[3] == "no wal" and after[3].startswith("wal 0 ")):
            return
    path = stamp_path(db_path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding="utf-8") as f:
            f.write(now_seen)
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass


def forget(db_path: Path) -> None:
    """Drop the stamp (the file was found damaged): the next start checks whatever it sees."""
    try:
        stamp_path(db_path).unlink()
    except OSError:
        pass
