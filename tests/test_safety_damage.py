"""Issue 12: damage is what SQLite calls damage; it never costs the rep a deal.

Real processes, real files: pages overwritten, a file truncated, a byte flipped in a stored
date, an index that disagrees with its table, damage met by a running process, a -wal
deleted under an open store, a zero-length or missing file where backups show data lived.
Each time: one line and its exit code (4 damaged/missing, 3 cannot be used now), the file
left where it is by every read, and the restore (+ recover) bringing every acknowledged
deal back.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from pathlib import Path

import pytest

from helpers_procs import NOW, run_cli, run_cli_many, spawn
from safety_fs import one_line
from test_safety_disk import deals, seed

pytestmark = pytest.mark.slow
ENV = {"FUNNEL_NOW": NOW.isoformat()}


def page_of(db: Path, name: str) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
    finally:
        con.close()


def garble(db: Path, page: int) -> None:
    """Overwrite one page of the main file with a pattern no b-tree page has."""
    size = int.from_bytes(db.read_bytes()[16:18], "big") or 65536
    with open(db, "r+b") as fh:
        fh.seek((page - 1) * size)
        fh.write(bytes((7 * i + 3) % 251 for i in range(size)))


class Holder:
    """tests/helpers_procs.py hold_store: a store kept open in its own process."""

    def __init__(self, db: Path):
        self.proc = spawn("hold_store", str(db), stdin=__import__("subprocess").PIPE)
        assert self.proc.stdout.readline().strip() == "ready", self.proc.stderr.read()

    def ask(self, line: str) -> str:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


def test_damage_is_reported_left_in_place_restored_and_what_is_newer_recovered(tmp_path):
    db = tmp_path / "funnel.db"
    seed(db, 30, backup_after=30)  # the backup holds 30 deals
    from funnel_tui.store.backup import create_backup

    create_backup(db, reason="manual", now=NOW)
    holder = Holder(db)  # the board, still open: its last commits stay in the -wal
    acked = [holder.ask(f"add 新{k}") for k in range(3)]
    assert acked == ["added 31", "added 32", "added 33"]
    assert holder.ask("edit 2 改过的备注") == "edited 2"
    assert holder.ask("follow 31").startswith("followed")
    holder.kill()
    assert Path(f"{db}-wal").stat().st_size > 0
    garble(db, page_of(db, "sqlite_autoindex_stage_2"))  # the main file's page, not in the -wal

    base = ["--db", str(db)]
    reads = run_cli_many([[*base, "list"], [*base, "due"], [*base, "summary"], [*base, "add", "x"]], tmp_path,
                         env=ENV)
    for r in reads:
        line = one_line(r["err"])
        assert r["code"] == 4, line
        assert "is damaged (SQLite:" in line and "the file is left where it is" in line
        assert "restore it with: funnel --db" in line and "may hold changes newer than the backup" in line
    assert db.exists() and not list(tmp_path.glob("*.corrupt-*"))  # nothing moved by anyone

    restore = run_cli([*base, "backup", "restore", "latest"], env=ENV)
    assert restore.returncode == 0, restore.stderr
    out = restore.stdout.decode()
    aside = Path(out.split("the damaged file is kept as ", 1)[1].split(";", 1)[0])
    assert aside.exists() and Path(f"{aside}-wal").stat().st_size > 0  # the -wal went with it
    assert len(deals(db)) == 30
    recover_line = out.split("copy them back with: ", 1)[1].strip()
    assert recover_line == f"funnel --db {db} backup recover {aside}"
    recovered = run_cli(recover_line.split()[1:], env=ENV)
    assert recovered.returncode == 0, recovered.stderr
    assert b"3 new deals, 1 deals brought up to date" in recovered.stdout
    assert deals(db) == [f"客户{k}" for k in range(30)] + ["新0", "新1", "新2"]
    shown = json.loads(run_cli([*base, "show", "2", "--format", "json"], env=ENV).stdout)
    assert shown["notes"] == "改过的备注" and any(h["new"] == "改过的备注" for h in shown["history"])
    assert [f["note"] for f in json.loads(run_cli([*base, "show", "31", "--format", "json"]).stdout)["followups"]] \
        == ["回访"]
    again = run_cli(recover_line.split()[1:], env=ENV)  # twice: nothing more to copy
    assert b"0 new deals, 0 deals brought up to date, 0 history rows" in again.stdout
    assert len(deals(db)) == 33


def test_a_truncated_file_is_damage_and_start_empty_then_recover_keeps_what_is_readable(tmp_path):
    db = tmp_path / "funnel.db"
    seed(db, 200)
    os.truncate(db, db.stat().st_size * 4 // 5 // 4096 * 4096)  # the last fifth torn off
    res = run_cli(["--db", str(db), "list"], env=ENV)
    line = one_line(res.stderr)
    assert res.returncode == 4 and "database disk image is malformed" in line
    assert "No good backup was found" in line and "backup start-empty" in line
    fresh = run_cli(["--db", str(db), "backup", "start-empty"], env=ENV)
    assert fresh.returncode == 0, fresh.stderr
    aside = Path(fresh.stdout.decode().split("the damaged file is kept as ", 1)[1].split(";", 1)[0])
    assert deals(db) == [] and aside.exists()
    rec = run_cli(["--db", str(db), "backup", "recover", str(aside)], env=ENV)
    assert rec.returncode == 0, rec.stderr
    got = deals(db)
    assert 100 < len(got) < 200 and set(got) <= {f"客户{k}" for k in range(200)}  # the readable ones, none invented
    refused = run_cli(["--db", str(db), "backup", "start-empty"], env=ENV)
    assert refused.returncode == 1 and "holds a sound database" in one_line(refused.stderr)


def test_a_flipped_byte_in_a_stored_date_is_one_line_naming_the_cell(tmp_path):
    db = tmp_path / "funnel.db"
    seed(db, 5)
    con = sqlite3.connect(db)
    con.execute("UPDATE deal SET created_at = '2026-1\x01-24 02:00:00.000000' WHERE id = 3")  # as a flip leaves it
    con.commit()
    con.close()
    for argv in (["list"], ["list", "--format", "json"], ["show", "3"]):
        res = run_cli(["--db", str(db), *argv], env=ENV)
        line = one_line(res.stderr)
        assert res.returncode == 4, line
        assert "deal 3: created_at holds" in line and "not a date" in line and "backup restore" in line
    assert len(deals(db)) == 5


@pytest.mark.parametrize("seed_byte", [11, 97, 4099, 20000])
def test_a_flipped_bit_anywhere_is_never_a_traceback_and_never_moves_the_file(tmp_path, seed_byte):
    db = tmp_path / "funnel.db"
    seed(db, 40)
    data = bytearray(db.read_bytes())
    at = seed_byte % len(data)
    data[at] ^= 0x10
    db.write_bytes(bytes(data))
    results = run_cli_many([["--db", str(db), "list", "--format", "json"], ["--db", str(db), "summary"]],
                           tmp_path, env=ENV)
    for r in results:
        assert b"Traceback" not in r["err"], r["err"]
        assert r["code"] in (0, 3, 4), r["err"]
        if r["code"]:
            one_line(r["err"])
    assert db.exists() and not list(tmp_path.glob("*.corrupt-*"))


def _break_an_index(db: Path) -> None:
    """Index-only damage: rows added while ix_deal_owner_status is declared on other columns,
    then its declaration put back. Every table is intact; the index disagrees with deal."""
    con = sqlite3.connect(db)
    sql = con.execute("SELECT sql FROM sqlite_master WHERE name = 'ix_deal_owner_status'").fetchone()[0]
    con.execute("PRAGMA writable_schema = ON")
    con.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'ix_deal_owner_status'",
                (sql.replace("(owner, status)", "(customer, status)"),))
    con.commit()
    con.close()
    con = sqlite3.connect(db)
    con.execute("UPDATE deal SET owner = 'zz' || id")  # entries keyed by customer, not owner
    con.execute("PRAGMA writable_schema = ON")
    con.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'ix_deal_owner_status'", (sql,))
    con.commit()
    con.close()


def test_index_only_damage_is_found_by_the_periodic_full_check_and_repaired_after_a_backup(tmp_path):
    db = tmp_path / "funnel.db"
    seed(db, 12)
    _break_an_index(db)
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA quick_check").fetchone()[0] == "ok"  # the quick check cannot see it
    assert "missing from index ix_deal_owner_status" in con.execute("PRAGMA integrity_check").fetchone()[0]
    con.close()
    res = run_cli(["--db", str(db), "list", "--format", "json", "--owner", "zz3"], env=ENV)  # a backup is due
    assert res.returncode == 0, res.stderr
    line = one_line(res.stderr)
    assert "repaired damaged indexes (REINDEX) after backing up to funnel-" in line
    assert [d["customer"] for d in json.loads(res.stdout)] == ["客户2"]  # the index answers right again
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    backups = sorted((tmp_path / "backups").glob("*.db"))
    assert backups and all(sqlite3.connect(b).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                           for b in backups)
    assert len(deals(backups[0])) == 12
    later = run_cli(["--db", str(db), "add", "新客户"], env=ENV)  # no warning on every start any more
    assert later.returncode == 0 and b"index" not in later.stderr and b"backup" not in later.stderr


def test_damage_met_while_running_stops_writes_and_the_next_start_says_so(tmp_path):
    db = tmp_path / "funnel.db"
    seed(db, 20, backup_after=20)
    from funnel_tui.store.backup import create_backup

    create_backup(db, reason="manual", now=NOW)
    holder = Holder(db)
    garble(db, page_of(db, "ix_deal_owner_status"))  # under the open store's feet
    size = db.stat().st_size
    answer = holder.ask("owner x")
    assert answer.startswith("refused 4 ") and "is damaged" in answer
    refused = holder.ask("add 不该写入")
    assert refused.startswith("refused 4 ") and "nothing was written" in refused
    assert holder.ask("count") == "count 20"  # reads that do not touch the damage still work
    holder.kill()
    assert Path(f"{db}.damaged").exists() and db.stat().st_size == size
    res = run_cli(["--db", str(db), "list"], env=ENV)
    line = one_line(res.stderr)
    assert res.returncode == 4 and "is damaged" in line and "backup restore" in line
    assert len(deals(db)) == 20


def test_a_wal_deleted_under_an_open_store_loses_no_acknowledged_write(tmp_path):
    db = tmp_path / "funnel.db"
    seed(db, 3)
    holder = Holder(db)
    assert holder.ask("add 甲") == "added 4"
    Path(f"{db}-wal").unlink()  # by hand, or a cleaner
    assert holder.ask("add 乙") == "added 5"  # noticed after this commit: folded into the main file
    during = run_cli(["--db", str(db), "list", "--format", "json"], env=ENV)
    assert during.returncode in (0, 3), during.stderr
    if during.returncode:
        assert "nothing was changed and the file is left as it is" in one_line(during.stderr)
    assert holder.ask("add 丙") == "added 6"
    holder.kill()  # no clean close, no final checkpoint
    assert not list(tmp_path.glob("*.corrupt-*"))
    after = run_cli(["--db", str(db), "list", "--format", "json"], env=ENV)
    assert after.returncode == 0, after.stderr
    assert [d["customer"] for d in json.loads(after.stdout)] == ["客户0", "客户1", "客户2", "甲", "乙", "丙"]


def test_a_zero_length_or_missing_file_is_never_a_new_database_when_backups_exist(tmp_path):
    db = tmp_path / "funnel.db"
    seed(db, 8, backup_after=8)
    from funnel_tui.store.backup import create_backup

    create_backup(db, reason="manual", now=NOW)
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        p.unlink(missing_ok=True)
    db.write_bytes(b"")
    base = ["--db", str(db)]
    empty = run_cli_many([[*base, "list"], [*base, "add", "x"], [*base, "due"]], tmp_path, env=ENV)
    for r in empty:
        line = one_line(r["err"])
        assert r["code"] == 4, line
        assert "is empty (0 bytes), but it held data" in line and "(8 deals)" in line
        assert "Nothing was created" in line and "backup restore funnel-" in line
    assert db.stat().st_size == 0  # not taken for a new database
    db.unlink()
    missing = run_cli([*base, "list"], env=ENV)
    assert missing.returncode == 4 and "is missing, but it held data" in one_line(missing.stderr)
    assert not db.exists()
    back = run_cli([*base, "backup", "restore", "latest"], env=ENV)
    assert back.returncode == 0, back.stderr
    assert len(deals(db)) == 8
    db.unlink()
    fresh = run_cli([*base, "backup", "start-empty"], env=ENV)  # on purpose: the one way
    assert fresh.returncode == 0 and deals(db) == []
    assert run_cli([*base, "add", "新的开始"], env=ENV).returncode == 0


async def test_the_board_meets_damage_with_a_toast_and_writes_nothing_more(tmp_path, now, tz):
    from textual.worker import WorkerCancelled

    from funnel_tui.store import Store
    from funnel_tui.tui.app import FunnelApp

    db = tmp_path / "funnel.db"
    seed(db, 12)
    store = Store(db)
    app = FunnelApp(store, lambda: now, tz=tz, lang="en", export_dir=tmp_path)

    async def settle(pilot) -> None:
        for _ in range(4):
            try:
                await app.workers.wait_for_complete()
            except WorkerCancelled:
                continue
            await pilot.pause()

    try:
        async with app.run_test(size=(160, 45), notifications=True) as pilot:
            await settle(pilot)
            garble(db, page_of(db, "ix_deal_board"))
            store.engine.dispose()  # no page of the old file left in a pooled connection's cache
            await pilot.press("t")  # Today, and back: the board reads every column again
            await settle(pilot)
            await pilot.press("escape")
            await settle(pilot)
            toasts = [n.message for n in app._notifications]
            assert app.is_running and any("is damaged" in t for t in toasts), toasts
            assert store.damaged
            with pytest.raises(Exception, match="is damaged"):
                store.add_deal({"customer": "不该写入"}, now=now)
    finally:
        store.close()
    assert Path(f"{db}.damaged").exists()


def test_demo_reset_is_a_new_database_on_purpose_not_a_lost_one(tmp_path):
    db = tmp_path / "demo.db"
    runs = [["--db", str(db), "demo", "--reset", "--deals", "6"],
            ["--db", str(db), "list", "--status", "all", "--format", "json"]] * 2
    results = run_cli_many(runs, tmp_path, env=ENV)
    assert [r["code"] for r in results] == [0, 0, 0, 0], [r["err"] for r in results]
    assert len(json.loads(results[3]["out"])) == 6 and results[3]["err"] == b""
