"""The start-up quick_check runs again only when the file changed (store/check_stamp.py,
issue 19): an unchanged file is not re-checked, every change of the file or its -wal is, a
garbled stamp means "check", and a stamp that cannot be written never fails the open."""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from helpers_procs import NOW
from safety_fs import read_only_view
from test_safety_damage import garble, page_of
from test_safety_disk import seed

from funnel_tui.store import check_stamp, health
from funnel_tui.store.backup import AUTO_INTERVAL
from funnel_tui.store.errors import DatabaseDamaged
from funnel_tui.store.open_check import check_at_open

LATER = NOW + timedelta(minutes=5)  # the automatic backup is not due again yet


@pytest.fixture
def checks(monkeypatch, tmp_path):
    """The quick_checks and integrity_checks run, in order ("quick" / "full")."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    seen: list[str] = []
    real = health.check_lines

    def counting(con, *, full, limit=20):
        seen.append("full" if full else "quick")
        return real(con, full=full, limit=limit)

    monkeypatch.setattr(health, "check_lines", counting)
    return seen


@pytest.fixture
def db(tmp_path, checks) -> Path:
    """A sound database, opened once (its first automatic backup made, its stamp written)."""
    path = tmp_path / "funnel.db"
    seed(path, 5)
    check_at_open(path, now=NOW)
    assert checks == ["quick", "full"]  # the start's quick_check, the first backup's full one
    assert check_stamp.stamp_path(path).exists()
    checks.clear()
    return path


def test_an_unchanged_file_is_not_checked_again(db, checks):
    for _ in range(3):
        check_at_open(db, now=LATER)
    assert checks == []


def test_bytes_changed_under_the_same_size_and_mtime_are_still_checked(db, checks):
    """Damage written with size and mtime put back: the ctime moved, so the check runs."""
    st = db.stat()
    garble(db, page_of(db, "deal"))
    os.utime(db, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (db.stat().st_size, db.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    with pytest.raises(DatabaseDamaged):
        check_at_open(db, now=LATER)
    assert checks[0] == "quick"  # (then the backup offered in the message is checked too)
    assert not check_stamp.stamp_path(db).exists()  # found damaged: no stamp vouches for it
    with pytest.raises(DatabaseDamaged):
        check_at_open(db, now=LATER)


def test_the_limit_bit_rot_that_changes_no_stat_waits_for_the_backup_check(db, checks):
    """A flip by the disk itself changes nothing the stamp holds (forged here by writing the
    stamp after the damage): the start skips, and the periodic full check finds it."""
    garble(db, page_of(db, "deal"))
    check_stamp.stamp_path(db).write_text(check_stamp.seen(db), encoding="utf-8")
    check_at_open(db, now=LATER)  # the limit: skipped, damage unseen
    assert checks == []
    with pytest.raises(DatabaseDamaged):
        check_at_open(db, now=NOW + AUTO_INTERVAL + timedelta(minutes=1))
    assert checks and checks[0] == "quick"


def _write(db: Path) -> None:
    con = sqlite3.connect(db)
    con.execute("UPDATE deal SET customer = customer || '!' WHERE id = 1")
    con.commit()
    con.close()


def _touch(db: Path) -> None:
    st = db.stat()
    os.utime(db, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def _copy_over(db: Path) -> None:
    """A restore or a copy over the file: same bytes, same size and mtime, a new inode."""
    st = db.stat()
    tmp = db.with_name("copy.db")
    shutil.copy2(db, tmp)
    os.replace(tmp, db)
    os.utime(db, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert db.stat().st_ino != st.st_ino


def _wal(db: Path) -> None:
    wal = health.companions(db)[0]
    if wal.exists():
        st = wal.stat()
        os.utime(wal, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    else:
        wal.touch()


def _no_wal(db: Path) -> None:
    wal = health.companions(db)[0]
    wal.touch()
    check_at_open(db, now=LATER)  # checked with the -wal there: stamped so
    wal.unlink()


@pytest.mark.parametrize("change", [_write, _touch, _copy_over, _wal, _no_wal])
def test_any_change_of_the_file_or_its_wal_checks_again(db, checks, change):
    change(db)
    checks.clear()
    check_at_open(db, now=LATER)
    assert checks == ["quick"]
    check_at_open(db, now=LATER)  # and the new state is stamped
    assert checks == ["quick"]


@pytest.mark.parametrize("field", range(5))  # device, inode, size, mtime_ns, ctime_ns
def test_each_number_of_the_stamp_counts(db, checks, field):
    stamp = check_stamp.stamp_path(db)
    lines = stamp.read_text(encoding="utf-8").split("\n")
    numbers = lines[2].split()
    numbers[field] = str(int(numbers[field]) + 1)
    lines[2] = " ".join(numbers)
    stamp.write_text("\n".join(lines), encoding="utf-8")
    check_at_open(db, now=LATER)
    assert checks == ["quick"]


@pytest.mark.parametrize("garbage", [b"", b"funnel-check-stamp 1\n", b"\xff\xfe\x00garbled", b"x" * 10_000])
def test_a_garbled_stamp_means_check(db, checks, garbage):
    check_stamp.stamp_path(db).write_bytes(garbage)
    check_at_open(db, now=LATER)
    assert checks == ["quick"]
    check_at_open(db, now=LATER)  # rewritten whole
    assert checks == ["quick"]


def test_a_stamp_that_is_a_folder_or_another_databases_means_check(db, checks, tmp_path):
    other = tmp_path / "other.db"
    seed(other, 1)
    stamp = check_stamp.stamp_path(db)
    stamp.write_text(check_stamp.seen(other), encoding="utf-8")
    check_at_open(db, now=LATER)
    assert checks == ["quick"]
    stamp.unlink()
    stamp.mkdir()
    check_at_open(db, now=LATER)
    check_at_open(db, now=LATER)
    assert checks == ["quick"] * 3  # the stamp cannot be written: every start checks, and opens


def test_the_damage_mark_still_forces_the_full_check(db, checks):
    health.mark_damaged(db, "database disk image is malformed")
    check_at_open(db, now=LATER)
    assert checks == ["full"]
    assert not health.damage_mark(db).exists()


def test_a_read_only_cache_or_database_folder_still_opens(db, checks, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    shutil.rmtree(cache)
    cache.mkdir()
    with read_only_view(cache) as ro_cache:
        monkeypatch.setenv("XDG_CACHE_HOME", str(ro_cache))
        check_at_open(db, now=LATER)
        check_at_open(db, now=LATER)
        assert checks == ["quick", "quick"]  # nowhere to stamp: checked each time, opened
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    checks.clear()
    with read_only_view(db.parent) as ro:
        opened = check_at_open(ro / db.name, now=LATER)
        assert opened.read_only
        check_at_open(ro / db.name, now=LATER)
    assert checks == ["quick"]  # the stamp lives in the cache: a read-only folder is stamped too
