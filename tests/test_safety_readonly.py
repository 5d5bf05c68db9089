"""Issue 12: a read-only database, folder or disk is readable — board, list, due, summary,
export to a writable path — and every write is refused with one line that says why (exit 3).
A -wal/-shm of another user is reported as that, and the file is never moved.

Real processes: a read-only bind mount (root cannot write there either), and `funnel` run
as nobody (tests/safety_fs.py) where a folder or file is read-only by its mode.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from helpers_procs import HERE, NOW, run_cli, run_cli_many, spawn, worker_env
from safety_fs import NOBODY, as_user, chown_tree, one_line, read_only_view, run_as, shared_dir
from test_safety_disk import deals, seed

pytestmark = pytest.mark.slow
ENV = {"FUNNEL_NOW": NOW.isoformat()}
READS = (["list", "--format", "json"], ["due", "--format", "json"], ["summary", "--format", "json"],
         ["show", "1", "--format", "json"], ["backup", "list", "--format", "json"])
WRITES = (["add", "新客户"], ["move", "1", "next"], ["settings", "tier_a_share", "0.7"], ["undo"])


def _check_reads(results: list[dict], n: int) -> None:
    for r in results:
        assert r["code"] in (0, 10, 11), r["err"]
        assert b"Traceback" not in r["err"]
    assert len(json.loads(results[0]["out"])) == n
    assert json.loads(results[2]["out"])["stages"][0]["reached"] == n


def test_a_read_only_mount_reads_everything_and_refuses_writes_with_the_reason(tmp_path):
    home = tmp_path / "data"
    home.mkdir()
    db = home / "funnel.db"
    seed(db, 6, backup_after=3)
    with read_only_view(home) as ro:
        view = ro / "funnel.db"
        base = ["--db", str(view)]
        results = run_cli_many([[*base, *argv] for argv in READS]
                               + [[*base, "export", "--status", "all", str(tmp_path / "out.csv")]]
                               + [[*base, *argv] for argv in WRITES]
                               + [[*base, "backup", "create"], [*base, "import", str(tmp_path / "in.csv")]],
                               tmp_path, env=ENV)
        _check_reads(results[:len(READS)], 6)
        export = results[len(READS)]
        assert export["code"] == 0 and b"exported 6 deals" in export["out"], export["err"]
        with open(tmp_path / "out.csv", encoding="utf-8-sig") as fh:
            assert len(list(csv.DictReader(fh))) == 6
        for r in results[len(READS) + 1:-1]:
            line = one_line(r["err"])
            assert r["code"] == 3, line
            assert "read-only" in line and "retry" not in line and "try again" not in line
        (tmp_path / "in.csv").write_text("customer\n甲\n", encoding="utf-8")
        imp = run_cli([*base, "import", str(tmp_path / "in.csv")], env=ENV)
        assert imp.returncode == 3 and "read-only" in one_line(imp.stderr)

        probe = json.loads(subprocess.run([*_python(), str(HERE), "board_probe", str(view), "L"],
                                          env={**worker_env(), **ENV}, capture_output=True, timeout=120).stdout)
        assert sorted(probe["cards"]) == sorted(f"客户{k}" for k in range(6))
        assert any("read-only" in t and "changes are refused" in t for t in probe["toasts"])
        assert any("read-only" in t and "nothing was written" in t for t in probe["toasts"])  # the L key
        # A key that opens a form (log a touch) is refused before the rep types anything.
        logged = json.loads(subprocess.run([*_python(), str(HERE), "board_probe", str(view), "l"],
                                           env={**worker_env(), **ENV}, capture_output=True, timeout=120).stdout)
        assert logged["screen"] == "BoardScreen"
        assert any("read-only" in t and "nothing was written" in t for t in logged["toasts"])
        # `funnel tui` (open_for_board) words the start-up notes in the board's language (here the rep's `lang`).
        said = subprocess.run([*_python(), "-c", _TUI_NOTES, str(view)], capture_output=True, text=True,
                              env={**worker_env(), **ENV, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}, timeout=120)
        assert said.returncode == 0, said.stderr
        assert "只读（磁盘以只读方式挂载）：可以查看，修改会被拒绝" in said.stdout
    assert deals(db) == [f"客户{k}" for k in range(6)]
    assert not list(home.glob("*.corrupt-*"))


_TUI_NOTES = """
import argparse, sys
from funnel_tui import config
from funnel_tui.cli.admin import open_for_board
config.set_value("lang", "zh")
store, notes = open_for_board(argparse.Namespace(db=sys.argv[1], demo=False))
store.close()
print(chr(10).join(notes))
"""


def _python() -> list[str]:
    import sys

    return [sys.executable]


def _nobody_db(n: int = 5) -> tuple[Path, Path]:
    folder = shared_dir(NOBODY, 0o700)
    db = folder / "funnel.db"
    seed(db, n, backup_after=n - 1)
    chown_tree(folder, NOBODY)
    return folder, db


def test_a_read_only_folder_is_readable_by_its_owner_and_writes_say_why(tmp_path):
    as_user()  # skips here when nobody cannot run funnel
    folder, db = _nobody_db()
    try:
        os.chmod(folder, 0o500)  # nobody's own folder, read-only by its mode
        for argv in READS:
            res = run_as(NOBODY, ["--db", str(db), *argv], env=ENV)
            assert res.returncode in (0, 10, 11), res.stderr
            assert b"Traceback" not in res.stderr
        listed = run_as(NOBODY, ["--db", str(db), "list", "--format", "json"], env=ENV)
        assert len(json.loads(listed.stdout)) == 5
        exported = run_as(NOBODY, ["--db", str(db), "export", "--status", "all", "-"], env=ENV)
        assert exported.returncode == 0 and exported.stdout.count(b"\r\n") == 6
        for argv in WRITES:
            res = run_as(NOBODY, ["--db", str(db), *argv], env=ENV)
            line = one_line(res.stderr)
            assert res.returncode == 3, line
            assert f"the folder {folder} is read-only for you" in line and "nothing was written" in line
        os.chmod(folder, 0o700)
        os.chmod(db, 0o400)  # now the file itself
        res = run_as(NOBODY, ["--db", str(db), "add", "新客户"], env=ENV)
        assert res.returncode == 3 and "the file is read-only for you" in one_line(res.stderr)
        assert len(json.loads(run_as(NOBODY, ["--db", str(db), "list", "--format", "json"], env=ENV).stdout)) == 5
    finally:
        os.chmod(folder, 0o700)
        shutil.rmtree(folder)
    # (the data is checked through nobody's own reads above)


def test_a_wal_of_another_user_is_reported_as_that_and_nothing_moves(tmp_path):
    as_user()
    folder, db = _nobody_db(4)
    try:
        writer = spawn("hold_store", str(db), stdin=subprocess.PIPE)  # root writes, then dies:
        assert writer.stdout.readline().strip() == "ready"
        writer.stdin.write("add 后来的\n")
        writer.stdin.flush()
        assert writer.stdout.readline().strip() == "added 5"
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
        wal, shm = Path(f"{db}-wal"), Path(f"{db}-shm")
        assert wal.stat().st_size > 0
        for p in (wal, shm):
            os.chown(p, 1, 1)  # another user's (daemon's) companions, 0600
            os.chmod(p, 0o600)
        base = ["--db", str(db)]
        for argv in (["list"], ["add", "x"], ["due"]):
            res = run_as(NOBODY, [*base, *argv], env=ENV)
            line = one_line(res.stderr)
            assert res.returncode == 3, line
            assert f"{wal} belongs to another user (uid 1)" in line and "no file was moved" in line
        assert sorted(p.name for p in folder.iterdir()) == ["backups", "funnel.db", "funnel.db-shm", "funnel.db-wal"]
        for p in (wal, shm):
            os.chown(p, NOBODY, NOBODY)
        res = run_as(NOBODY, [*base, "list", "--format", "json"], env=ENV)
        assert res.returncode == 0, res.stderr
        assert [d["customer"] for d in json.loads(res.stdout)] == [f"客户{k}" for k in range(4)] + ["后来的"]
    finally:
        shutil.rmtree(folder)


def test_a_server_url_skips_the_sqlite_file_checks_cleanly(tmp_path):
    url = "postgresql://rep:secret@127.0.0.1:9/funnel"
    res = run_cli(["--db", url, "list"], env=ENV)
    line = one_line(res.stderr)
    assert res.returncode == 1, line
    assert "cannot open database postgresql://rep:***@127.0.0.1:9/funnel" in line and "secret" not in line
    for word in ("damaged", "backup", "read-only", "disk"):
        assert word not in line
    assert not list(tmp_path.iterdir())  # no file, no backups folder made for a URL
