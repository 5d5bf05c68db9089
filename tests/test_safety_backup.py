"""Issue 5 item 4: backups through the SQLite backup API, automatic ones at start, thinning,
private files, restore (current database backed up first), and a damaged database at start.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path


from helpers_procs import NOW, run_cli, run_cli_many

UTC = timezone.utc


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def count_deals(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT count(*) FROM deal").fetchone()[0]
    finally:
        con.close()


def at(minutes: float) -> dict:
    """FUNNEL_NOW for a CLI run `minutes` after the test's clock."""
    return {"FUNNEL_NOW": (NOW + timedelta(minutes=minutes)).isoformat()}


def test_a_file_copy_of_a_wal_database_misses_commits_the_backup_api_keeps(tmp_path):
    # Why backup_file never copies files: the newest commits are still in funnel.db-wal.
    from funnel_tui.store import Store
    from funnel_tui.store.backup import backup_file

    db = tmp_path / "funnel.db"
    store = Store(db)  # stays open, as the TUI would: no checkpoint folds the WAL in
    for k in range(5):
        store.add_deal({"customer": f"客户{k}"}, now=NOW)
    assert Path(f"{db}-wal").stat().st_size > 0

    copied = tmp_path / "copy.db"
    shutil.copyfile(db, copied)
    try:
        copy_count = count_deals(copied)
    except sqlite3.OperationalError:  # not even the tables made it
        copy_count = 0
    assert copy_count < 5

    backed = backup_file(db, tmp_path / "b" / "backup.db")
    assert count_deals(backed) == 5
    assert mode(backed) == 0o600 and mode(backed.parent) == 0o700
    assert not Path(f"{backed}-wal").exists()  # one self-contained file
    store.close()


def test_files_and_folders_are_private(tmp_path):
    # Default location (platformdirs under XDG_DATA_HOME), a umask that would allow 0644.
    data_home = tmp_path / "xdg"
    env = {"XDG_DATA_HOME": str(data_home)}
    old = os.umask(0o022)
    try:
        assert run_cli(["add", "Acme"], env=env).returncode == 0
        assert run_cli(["backup", "create"], env=env).returncode == 0
    finally:
        os.umask(old)
    data = data_home / "funnel-tui"
    assert mode(data) == 0o700
    assert mode(data / "funnel.db") == 0o600
    assert mode(data / "backups") == 0o700
    backups = list((data / "backups").iterdir())
    assert backups and all(mode(b) == 0o600 for b in backups)


def test_wal_companions_are_private_too(tmp_path):
    from funnel_tui.store import Store

    db = tmp_path / "funnel.db"
    old = os.umask(0o022)
    try:
        store = Store(db)
        store.add_deal({"customer": "Acme"}, now=NOW)
        for companion in (Path(f"{db}-wal"), Path(f"{db}-shm")):
            assert mode(companion) == 0o600, companion
        store.close()
    finally:
        os.umask(old)


def test_automatic_backup_at_start_when_changed_and_half_an_hour_old(tmp_path):
    db = tmp_path / "funnel.db"
    base = ["--db", str(db)]
    runs = [
        {"argv": [*base, "add", "Acme"], "env": at(0)},          # new file: nothing to back up yet
        {"argv": [*base, "list"], "env": at(1)},                 # data, no backup yet: auto #1
        {"argv": [*base, "add", "华为"], "env": at(10)},           # 10 min later: none
        {"argv": [*base, "list"], "env": at(45)},                # changed, 44 min: auto #2
        {"argv": [*base, "list"], "env": at(120)},               # unchanged since #2: none
    ]
    results = run_cli_many(runs, tmp_path)
    assert [r["code"] for r in results] == [0] * 5, [r["err"] for r in results]
    names = sorted(p.name for p in (tmp_path / "backups").iterdir())
    stamps = [n.split("-")[1] for n in names]
    assert all(n.endswith("-auto.db") for n in names), names
    assert stamps == ["20261124T020100000000Z", "20261124T024500000000Z"]
    con = sqlite3.connect(tmp_path / "backups" / names[1])
    assert [r[0] for r in con.execute("SELECT customer FROM deal ORDER BY id")] == ["Acme", "华为"]
    con.close()


def _fake_backups(tmp_path: Path, stamps: list[datetime]) -> Path:
    """Files named as backups taken at `stamps`: thinning goes by the names alone."""
    from funnel_tui.store.backup import backup_name

    db = tmp_path / "funnel.db"
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700, exist_ok=True)
    for s in stamps:
        (folder / backup_name(db, "auto", s)).write_bytes(b"stand-in")
    return db


def test_thinning_keeps_recent_days_weeks_and_months(tmp_path):
    from funnel_tui.store.backup import list_backups, thin_backups

    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    # Every 2 h for two days, then daily back 500 days (file creation is slow here: keep it few).
    stamps = [now - timedelta(hours=2 * k) for k in range(24)] + [now - timedelta(days=d) for d in range(2, 500)]
    db = _fake_backups(tmp_path, stamps)
    removed = thin_backups(db, now=now)
    kept = list_backups(db)
    assert len(kept) + len(removed) == len(stamps)
    assert kept[0].at == now  # the newest survives
    assert [b.at for b in kept[:10]] == stamps[:10]  # the last 10 all kept
    days = {b.at.date() for b in kept}
    assert all((now - timedelta(days=d)).date() in days for d in range(7))
    weeks = {b.at.isocalendar()[:2] for b in kept}
    assert all((now - timedelta(weeks=w)).isocalendar()[:2] in weeks for w in range(5))
    months = {(b.at.year, b.at.month) for b in kept}
    assert all(((now.month - 1 - m) // 12 + now.year, (now.month - 1 - m) % 12 + 1) in months for m in range(12))
    assert len(kept) <= 10 + 7 + 5 + 12
    assert min(b.at for b in kept) > now - timedelta(days=31 * 12 + 1)  # older ones go


def test_thinning_never_removes_the_newest_backup(tmp_path):
    from funnel_tui.store.backup import list_backups, thin_backups

    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    old = [now - timedelta(days=900 + k) for k in range(15)]  # all far outside every window
    db = _fake_backups(tmp_path, old)
    thin_backups(db, now=now)
    kept = list_backups(db)
    assert kept[0].at == old[0]
    assert len(kept) == 10  # the last 10 rule; the newest among them


def test_backup_create_list_restore_backs_up_the_current_database_first(tmp_path):
    db = tmp_path / "funnel.db"
    base = ["--db", str(db)]
    results = run_cli_many([
        [*base, "add", "Acme [/]"],
        [*base, "backup", "create"],
        [*base, "add", "华为"],
        [*base, "backup", "restore", "latest"],
        [*base, "list", "--format", "json"],
        [*base, "backup", "list", "--format", "json"],
    ], tmp_path, env={"FUNNEL_NOW": NOW.isoformat()})
    assert [r["code"] for r in results] == [0] * 6, [r["err"] for r in results]
    assert b"verified" in results[1]["out"]
    assert "the database as it was is saved as" in results[3]["out"].decode()
    assert [d["customer"] for d in json.loads(results[4]["out"])] == ["Acme [/]"]
    listed = json.loads(results[5]["out"])
    saved = [b for b in listed if b["reason"] == "before-restore"]
    assert len(saved) == 1
    con = sqlite3.connect(saved[0]["path"])
    assert {r[0] for r in con.execute("SELECT customer FROM deal")} == {"Acme [/]", "华为"}
    con.close()
    # Restoring that one brings 华为 back: a restore is itself undoable.
    back = run_cli(["--db", str(db), "backup", "restore", saved[0]["file"]])
    assert back.returncode == 0, back.stderr
    assert count_deals(db) == 2
    assert mode(db) == 0o600


def test_restore_refuses_a_damaged_backup_and_keeps_the_database(tmp_path):
    db = tmp_path / "funnel.db"
    assert run_cli(["--db", str(db), "add", "Acme"]).returncode == 0
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00" + os.urandom(8000))
    res = run_cli(["--db", str(db), "backup", "restore", str(bad)])
    assert res.returncode == 1
    assert b"damaged" in res.stderr or b"not a database" in res.stderr
    assert count_deals(db) == 1


def _corrupt(path: Path) -> None:
    """Overwrite pages 2.. with garbage: quick_check (or opening at all) must notice."""
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    data[page: page * 4] = bytes((7 * i) % 251 for i in range(page * 3))
    path.write_bytes(bytes(data))


def test_a_damaged_database_at_start_is_left_in_place_and_a_restore_offered(tmp_path):
    # Issue 12 changed this: a read command never moves the file (it used to, on any open
    # error); the restore command sets the damaged file aside, with its -wal/-shm.
    from funnel_tui.store import Store

    db = tmp_path / "funnel.db"
    store = Store(db)
    for k in range(30):
        store.add_deal({"customer": f"客户{k}", "notes": "备注 " * 50}, now=NOW)
    store.close()
    assert run_cli(["--db", str(db), "backup", "create"]).returncode == 0
    _corrupt(db)

    res = run_cli(["--db", str(db), "list"])
    err = res.stderr.decode()
    assert res.returncode == 4
    assert "damaged" in err and "nothing was changed and the file is left where it is" in err
    assert f"funnel --db {db} backup restore " in err
    assert db.exists() and not list(tmp_path.glob("funnel.db.corrupt-*"))  # nothing moved by a read

    command = err.split("restore it with: ", 1)[1].split(" — ")[0].split()
    assert command[:4] == ["funnel", "--db", str(db), "backup"]
    restored = run_cli(command[1:])
    assert restored.returncode == 0, restored.stderr
    assert count_deals(db) == 30
    aside = list(tmp_path.glob("funnel.db.corrupt-*"))
    assert len([a for a in aside if a.name.endswith("Z")]) == 1 and all(mode(a) == 0o600 for a in aside)
    assert b"backup recover" in restored.stdout  # the way back to what only the damaged file holds
    again = run_cli(["--db", str(db), "list", "--format", "json"])
    assert again.returncode == 0 and len(json.loads(again.stdout)) == 30


def test_any_reason_gives_a_listed_backup(tmp_path):
    from funnel_tui.store import Store
    from funnel_tui.store.backup import create_backup, list_backups

    db = tmp_path / "funnel.db"
    Store(db).close()
    made = create_backup(db, reason="迁移前 before/../x", now=NOW)
    assert [b.path for b in list_backups(db)] == [made.path]
    assert made.path.parent == tmp_path / "backups"
