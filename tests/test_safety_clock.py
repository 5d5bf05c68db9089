"""Issue 12: backups survive the clock, never lose the fuller copy, and leave no `.part`.

Real processes with the clock set by FUNNEL_NOW: one start ten years ahead used to leave a
"newest" backup from the future, and no automatic backup was made until the clock caught up;
a database with fewer deals than its newest backup was backed up over it; killed backups left
their `.part` files for ever; and a clock behind the stage entry showed a negative dwell.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from helpers_procs import NOW, REPO, run_cli, run_cli_many, worker_env
from safety_fs import one_line
from test_safety_disk import deals, seed

pytestmark = pytest.mark.slow


def at(minutes: float = 0, *, years: int = 0) -> dict:
    return {"FUNNEL_NOW": (NOW + timedelta(minutes=minutes, days=365 * years)).isoformat()}


def backups(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "backups").glob("*.db"))


def test_one_start_with_the_clock_ten_years_ahead_does_not_stop_the_backups(tmp_path):
    db = tmp_path / "funnel.db"
    base = ["--db", str(db)]
    runs = [
        {"argv": [*base, "add", "甲"], "env": at(0)},
        {"argv": [*base, "list"], "env": at(1)},             # auto backup, today
        {"argv": [*base, "add", "乙"], "env": at(2)},
        {"argv": [*base, "list"], "env": at(3, years=10)},   # the clock ten years ahead: a 2036 backup
        {"argv": [*base, "add", "丙"], "env": at(40)},        # the clock right again: due, the 2036
        {"argv": [*base, "list"], "env": at(45)},            # backup does not count (then 丙 added)
        {"argv": [*base, "add", "丁"], "env": at(90)},        # and again after half an hour
        {"argv": [*base, "list"], "env": at(95)},
        {"argv": [*base, "backup", "list", "--format", "json"], "env": at(96)},
    ]
    results = run_cli_many(runs, tmp_path)
    assert [r["code"] for r in results] == [0] * len(runs), [r["err"] for r in results]
    stamps = [n.split("-")[1] for n in backups(tmp_path)]
    assert stamps == ["20261124T020100000000Z", "20261124T024000000000Z", "20261124T033000000000Z",
                      "20361121T020300000000Z"]
    listed = json.loads(results[-1]["out"])
    assert [b["future"] for b in listed] == [True, False, False, False]  # listed, marked
    assert listed[1]["deals"] == 3  # 甲 乙 丙: taken before 丁 was added

    restore = run_cli([*base, "backup", "restore", "latest"], env=at(100))
    assert restore.returncode == 0, restore.stderr
    assert b"from funnel-20261124T033000000000Z-auto.db (3 deals)" in restore.stdout  # not the 2036 one

    # Thinning by a clock that is right: the 2036 backup is kept, never counted as the newest.
    for k in range(14):
        assert run_cli([*base, "backup", "create"], env=at(200 + 60 * 24 * k)).returncode == 0
    names = backups(tmp_path)
    assert any(n.startswith("funnel-2036") for n in names)
    assert any(n.startswith("funnel-20261207") for n in names)  # the newest by a true clock


def test_a_database_with_fewer_deals_than_its_newest_backup_keeps_both(tmp_path):
    db = tmp_path / "funnel.db"
    seed(db, 5)
    early = tmp_path / "early.db"
    shutil.copy(db, early)  # an old copy, 5 deals
    from funnel_tui.store import Store

    store = Store(db)
    for k in range(3):
        store.add_deal({"customer": f"后加{k}"}, now=NOW)
    store.close()
    assert run_cli(["--db", str(db), "list"], env=at(1)).returncode == 0  # auto backup: 8 deals
    fuller = backups(tmp_path)[0]
    shutil.copy(early, db)  # the file is replaced by the older copy
    Path(f"{db}-wal").unlink(missing_ok=True)
    Path(f"{db}-shm").unlink(missing_ok=True)
    os.utime(db)  # "changed" since the backup
    res = run_cli(["--db", str(db), "list"], env=at(40))
    assert res.returncode == 0
    line = one_line(res.stderr)
    assert f"this database has 5 deals, the backup {fuller} of 2026-11-24 02:01 UTC has 8; both are kept" in line
    assert f"backup restore {fuller}" in line
    # Many automatic backups later, thinning still keeps the one with the 8 deals.
    runs = []
    for k in range(14):
        runs += [{"argv": ["--db", str(db), "add", f"新{k}"], "env": at(100 + 40 * k)},
                 {"argv": ["--db", str(db), "list"], "env": at(120 + 40 * k)}]
    assert all(r["code"] == 0 for r in run_cli_many(runs, tmp_path))
    assert fuller in backups(tmp_path) and len(backups(tmp_path)) > 10
    assert len(deals(tmp_path / "backups" / fuller)) == 8
    back = run_cli(["--db", str(db), "backup", "restore", fuller], env=at(2000))
    assert back.returncode == 0 and len(deals(db)) == 8


def _big(db: Path, rows: int) -> None:
    """A database of `rows` deals with 1.2 KB of notes each (about 30 MB for 20,000): a backup
    of it takes long enough to be killed half-way."""
    seed(db, 1)
    con = sqlite3.connect(db)
    cols = ", ".join(r[1] for r in con.execute("PRAGMA table_info(deal)") if r[1] not in ("id", "uid", "notes"))
    copy = (f"INSERT INTO deal (uid, notes, {cols}) SELECT lower(hex(randomblob(16))), hex(randomblob(600)), "
            f"{cols} FROM deal WHERE id = 1")
    con.executemany(copy, [()] * rows)
    con.commit()
    con.close()


def test_a_killed_backup_leaves_a_part_file_the_next_backup_removes(tmp_path):
    db = tmp_path / "funnel.db"
    _big(db, 20000)
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    # A .part of a process that is gone, and one of a process that is alive (this one).
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead_part = folder / f"funnel-20261124T010000000000Z-auto.db.{gone.pid}.part"
    live_part = folder / f"funnel-20261124T010000000000Z-auto.db.{os.getpid()}.part"
    for p in (dead_part, live_part):
        p.write_bytes(b"\0" * 4096)
    # And a real one: `backup create` killed while it copies.
    proc = subprocess.Popen([sys.executable, "-m", "funnel_tui", "--db", str(db), "backup", "create"],
                            env={**worker_env(), **at(5)}, cwd=str(REPO), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    killed = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        parts = [p for p in folder.glob(f"*.{proc.pid}.part")]
        if parts:
            proc.send_signal(signal.SIGKILL)
            killed = parts[0]
            break
        time.sleep(0.002)
    proc.wait(10)
    if killed is None:
        pytest.skip("the backup finished before it could be killed (machine too fast for this size)")
    assert killed.exists()
    res = run_cli(["--db", str(db), "backup", "create"], env=at(10))
    assert res.returncode == 0, res.stderr
    left = sorted(p.name for p in folder.glob("*.part"))
    assert left == [live_part.name]  # the dead ones gone, a running backup's kept
    assert len(backups(tmp_path)) == 1


def test_a_clock_behind_the_stage_entry_shows_no_negative_dwell(tmp_path):
    from funnel_tui.domain.rules import dwell

    assert dwell(NOW, NOW - timedelta(days=5), 14).days == 0
    db = tmp_path / "funnel.db"
    seed(db, 3)
    behind = {"FUNNEL_NOW": (NOW - timedelta(days=5)).isoformat()}
    for tz in ("Asia/Shanghai", "UTC"):  # the SQL export path, and the Python one
        res = run_cli(["--db", str(db), "export", "-"], env={**behind, "TZ": tz})
        assert res.returncode == 0, res.stderr
        rows = list(csv.DictReader(io.StringIO(res.stdout.decode("utf-8-sig"), newline="")))
        assert [r["dwell_days"] for r in rows] == ["0", "0", "0"]
    summary = json.loads(run_cli(["--db", str(db), "summary", "--format", "json"], env=behind).stdout)
    assert all((s["current_avg_dwell"] or 0) >= 0 for s in summary["stages"])
