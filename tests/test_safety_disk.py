"""Issue 12: a full disk never costs the rep a deal, and every report tells the truth.

Real processes on a real, small tmpfs (tests/safety_fs.py; root, as in CI). Before: with
under 32 KiB free and no -shm, SQLite said "disk I/O error", funnel called the healthy file
damaged and moved it aside (even for `list`), and the next start opened an empty one; an
import committed and then reported failure; `export -` said "exported 3000" after 323 rows.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from helpers_procs import NOW, REPO, run_cli, run_cli_many, worker_env
from safety_fs import fill, one_line, tmpfs, unfill

pytestmark = pytest.mark.slow
ENV = {"FUNNEL_NOW": NOW.isoformat()}


def seed(db: Path, n: int, *, backup_after: int | None = None, tag: str = "客户") -> None:
    """`n` deals by the store itself; a verified backup after the first `backup_after`."""
    from funnel_tui.store import Store
    from funnel_tui.store.backup import create_backup

    store = Store(db)
    for k in range(n):
        if k == backup_after:
            create_backup(db, reason="manual", now=NOW)
        store.add_deal({"customer": f"{tag}{k}", "amount": str(1000 + k)}, now=NOW)
    store.close()


def deals(db: Path, *, immutable: bool = False) -> list[str]:
    """The customers in the file (immutable: as the file stands, for a full disk where SQLite
    cannot make its -shm; only when nothing else has it open)."""
    con = sqlite3.connect(f"file:{db}?mode=ro{'&immutable=1' if immutable else ''}", uri=True)
    try:
        return [r[0] for r in con.execute("SELECT customer FROM deal ORDER BY id")]
    finally:
        con.close()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if ".corrupt-" in p.name or p.name.endswith(".part"))


def test_a_full_disk_keeps_the_database_readable_whole_and_in_place(tmp_path):
    with tmpfs("4m") as disk:
        db = disk / "funnel.db"
        seed(db, 8, backup_after=5)  # 8 acknowledged deals, the newest backup holds 5
        assert not Path(f"{db}-shm").exists()  # the state after every clean exit
        assert fill(disk) < 32 * 1024
        base = ["--db", str(db)]
        out_file = disk / "deals.csv"
        results = run_cli_many([
            [*base, "list", "--format", "json"],
            [*base, "due", "--format", "json"],
            [*base, "summary", "--format", "json"],
            [*base, "show", "1"],
            [*base, "export", "--status", "all", str(tmp_path / "to-a-roomy-disk.csv")],
            [*base, "add", "新客户"],
            [*base, "backup", "create"],
            [*base, "export", "--status", "all", str(out_file)],
        ], tmp_path, env=ENV)
        (lst, due, summary, show, export_ok, add, backup, export_full) = results
        for r in (lst, summary, show, export_ok):
            assert r["code"] == 0, r["err"]
            assert "full" in one_line(r["err"])  # "the disk … is full: reading only …"
        assert due["code"] in (0, 10, 11), due["err"]
        assert [d["customer"] for d in json.loads(lst["out"])] == [f"客户{k}" for k in range(8)]
        assert json.loads(summary["out"])["stages"][0]["reached"] == 8
        with open(tmp_path / "to-a-roomy-disk.csv", encoding="utf-8-sig") as fh:
            assert len(list(csv.DictReader(fh))) == 8
        assert add["code"] == 3 and "the disk is full" in one_line(add["err"])
        assert "nothing was written" in one_line(add["err"])
        assert backup["code"] == 3 and "the disk is full" in one_line(backup["err"])
        assert export_full["code"] == 3 and "No space left" in one_line(export_full["err"])
        assert b"exported" not in export_full["out"] + export_full["err"]
        assert not out_file.exists()
        assert leftovers(disk) == []  # nothing moved aside, no half-written file
        assert deals(db, immutable=True) == [f"客户{k}" for k in range(8)]

        unfill(disk)  # space again: the same file, every deal, and writes work
        again = run_cli_many([[*base, "add", "新客户"], [*base, "list", "--format", "json"]], tmp_path, env=ENV)
        assert [r["code"] for r in again] == [0, 0], [r["err"] for r in again]
        assert len(json.loads(again[1]["out"])) == 9


def test_export_to_a_full_disk_fails_loudly_buffered_or_not(tmp_path):
    db = tmp_path / "funnel.db"
    _csv(tmp_path / "deals.csv", 3000)
    made = run_cli(["--db", str(db), "import", str(tmp_path / "deals.csv")], env=ENV)
    assert made.returncode == 0, made.stderr
    whole = run_cli(["--db", str(db), "export", "--status", "all", "-"], env=ENV)
    assert whole.returncode == 0 and b"exported 3000 deals" in whole.stderr
    with tmpfs("4m") as disk:
        fill(disk, leave=200 * 1024)  # room for a part of the 3000 rows
        for unbuffered in ("1", ""):
            target = disk / f"out{unbuffered}.csv"
            env = {**worker_env(), **ENV, "PYTHONUNBUFFERED": unbuffered}
            with open(target, "wb") as out:
                res = subprocess.run([sys.executable, "-m", "funnel_tui", "--db", str(db), "export",
                                      "--status", "all", "-"], stdout=out, stderr=subprocess.PIPE,
                                     env=env, cwd=str(REPO), timeout=120)
            line = one_line(res.stderr)
            assert res.returncode == 3, line
            assert "No space left on device" in line and "the output is incomplete" in line
            written = target.stat().st_size
            assert f"after {written} bytes" in line  # says exactly how far it got
            assert "exported" not in line
            target.unlink()
        unfill(disk)
        with open(disk / "out.csv", "wb") as out:  # with room, the same command tells the truth too
            res = subprocess.run([sys.executable, "-m", "funnel_tui", "--db", str(db), "export", "--status",
                                  "all", "-"], stdout=out, stderr=subprocess.PIPE, env={**worker_env(), **ENV},
                                 cwd=str(REPO), timeout=120)
        assert res.returncode == 0 and b"exported 3000 deals" in res.stderr
        assert (disk / "out.csv").read_bytes() == whole.stdout


def _csv(path: Path, n: int, *, start: int = 0, bad: int = 0) -> list[str]:
    """Our own export format with a uid per row (so a second import finds them), `bad` rows
    with an amount no one can read; returns the uids of the good rows."""
    uids = []
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["uid", "customer", "stage", "amount", "notes"])
        for k in range(start, start + n):
            u = str(uuid.uuid4())
            uids.append(u)
            w.writerow([u, f"导入客户{k}", "lead", str(100 + k), "备注 " * 20])
        for k in range(bad):
            w.writerow([str(uuid.uuid4()), f"坏行{k}", "lead", "not money", ""])
    return uids


def test_import_on_a_full_disk_commits_nothing_and_a_rerun_duplicates_nothing(tmp_path):
    src = tmp_path / "deals.csv"
    uids = _csv(src, 4000, bad=3)
    with tmpfs("16m") as disk:
        db = disk / "funnel.db"
        seed(db, 5)
        base = ["--db", str(db)]
        # Room for the backup taken first, not for 4000 rows.
        fill(disk, leave=2 * db.stat().st_size + 160 * 1024)
        first = run_cli([*base, "import", str(src)], env=ENV)
        line = one_line(first.stderr)
        assert first.returncode == 3, line
        assert "full" in line and "nothing was changed" in line
        assert len(deals(db, immutable=True)) == 5  # nothing committed
        assert not (tmp_path / "deals.rejected.csv").exists() and leftovers(tmp_path) == []

        unfill(disk)
        fill(disk, leave=db.stat().st_size // 2)  # not even room for the backup
        nobackup = run_cli([*base, "import", str(src)], env=ENV)
        line = one_line(nobackup.stderr)
        assert nobackup.returncode == 3 and "backup failed" in line and "nothing was imported" in line
        assert len(deals(db, immutable=True)) == 5

        unfill(disk)
        again = run_cli([*base, "import", str(src)], env=ENV)
        assert again.returncode == 1, again.stderr  # 3 rows rejected: exit 1, the rest imported
        assert b"4000 new" in again.stdout and b"3 rejected" in again.stdout
        assert len(deals(db)) == 4005
        twice = run_cli([*base, "import", str(src)], env=ENV)
        assert b"0 new" in twice.stdout and b"4000 duplicates skipped" in twice.stdout
        assert len(deals(db)) == 4005
        con = sqlite3.connect(db)
        assert {r[0] for r in con.execute("SELECT uid FROM deal")} >= set(uids)
        con.close()


def test_rejected_rows_that_cannot_be_written_before_the_commit_mean_no_import(tmp_path):
    db = tmp_path / "funnel.db"
    seed(db, 2)
    with tmpfs("4m") as disk:
        src = disk / "deals.csv"
        _csv(src, 300, bad=400)
        fill(disk)  # the input's folder, where the rejected rows go, is full
        res = run_cli(["--db", str(db), "import", str(src)], env=ENV)
        line = one_line(res.stderr)
        assert res.returncode == 3, line
        assert "could not write the rejected rows" in line and "nothing was imported" in line
        assert len(deals(db)) == 2
        assert leftovers(disk) == []


def test_an_import_that_committed_says_so_even_when_its_rejected_file_fails_after(tmp_path):
    db = tmp_path / "funnel.db"
    seed(db, 2)
    src = tmp_path / "deals.csv"
    _csv(src, 300, bad=2)
    (tmp_path / "deals.rejected.csv").mkdir()  # the rejected rows cannot take their name
    res = run_cli(["--db", str(db), "import", str(src)], env=ENV)
    line = one_line(res.stderr)
    assert res.returncode == 5, line
    assert "could not write the rejected rows" in line
    out = res.stdout.decode()
    assert "imported: 300 new" in out and "the import is committed (do not import the file again)" in out
    assert len(deals(db)) == 302
    rerun = run_cli(["--db", str(db), "import", str(src)], env=ENV)
    assert b"300 duplicates skipped" in rerun.stdout and len(deals(db)) == 302


def test_a_failed_upgrade_says_why_and_its_retry_fits_on_a_nearly_full_disk(tmp_path):
    from helpers_procs import run_worker

    with tmpfs("4m") as disk:
        db = disk / "funnel.db"
        seed(db, 40)
        from funnel_tui.models import SCHEMA_VERSION as real

        first = json.loads(run_worker("cli_v2_failing", str(db), "list"))
        assert first["code"] == 3, first["err"]
        assert f"the upgrade from schema version {real} to {real + 1} failed" in first["err"]
        assert "no_such_function" in first["err"]  # the cause, not "MigrationError"
        backups = sorted((disk / "backups").iterdir())
        assert [b.name.endswith(f"-migrate-v{real}-to-v{real + 1}.db") for b in backups].count(True) == 1
        fill(disk, leave=db.stat().st_size // 2)  # no room for a second copy
        retry = json.loads(run_worker("cli_v2_failing", str(db), "list"))
        assert retry["code"] == 3 and "no_such_function" in retry["err"], retry["err"]
        assert "backup failed" not in retry["err"]
        assert sorted((disk / "backups").iterdir()) == backups
        assert len(deals(db, immutable=True)) == 40
