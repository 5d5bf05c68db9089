"""How a `funnel` process ends (cli._leave): its databases closed, Python's last collection spared.

The last collection is also what used to close connections caught in reference cycles, so
these tests run real processes and check that each leaves its SQLite file closed: nothing
left in a -wal beside it, every change in the file itself.
"""

from __future__ import annotations

import gc
import json
import sqlite3
from pathlib import Path

import pytest
from helpers_procs import run_cli

from funnel_tui import cli
from funnel_tui.store import Store
from funnel_tui.store import engine as engine_mod


def _closed(db: Path) -> bool:
    """Nothing of `db` left in a -wal: the last writer closed it, folding it into the file and
    removing it. (A read-only reader, `funnel due`'s sqlite3 path, may leave an empty one: it
    cannot remove it, and there is nothing in it.)"""
    wal = Path(f"{db}-wal")
    return not wal.exists() or wal.stat().st_size == 0


COMMANDS = [
    (["add", "华为 云", "--amount", "120000"], 0),
    (["add", "Acme", "--stage", "demo"], 0),
    (["move", "1", "qualified"], 0),
    (["follow-up", "1", "+2d"], 0),
    (["edit", "2", "--amount", "5000"], 0),
    (["list"], 0),
    (["show", "1"], 0),
    (["due"], None),
    (["due", "--count"], None),
    (["summary"], 0),
    (["trend"], 0),
    (["undo"], 0),
]


def test_every_command_leaves_its_database_closed(tmp_path):
    db = tmp_path / "f.db"
    env = {"FUNNEL_NOW": "2026-11-24T10:00:00+08:00"}
    run_cli(["--db", str(db), "settings", "me", "ann"], env=env)
    for argv, code in COMMANDS:
        done = run_cli(["--db", str(db), *argv], env=env)
        assert code is None or done.returncode == code, (argv, done.stderr.decode())
        assert _closed(db), f"`funnel {' '.join(argv)}` left changes in {db.name}-wal"
    csv = tmp_path / "deals.csv"
    assert run_cli(["--db", str(db), "export", str(csv), "--status", "all"], env=env).returncode == 0
    assert _closed(db)
    again = tmp_path / "again.db"
    done = run_cli(["--db", str(again), "import", str(csv), "--format", "json"], env=env)
    assert done.returncode == 0, done.stderr.decode()
    assert _closed(again) and json.loads(done.stdout)["inserted"] == 2
    # Every change is in the file itself (nothing left in a -wal), as the next reader finds it.
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT customer, stage, amount FROM deal ORDER BY id").fetchall()
    finally:
        con.close()
    assert rows == [("华为 云", "qualified", 12000000), ("Acme", "demo", 0)]  # undo took back the edit


def test_a_run_inside_another_program_leaves_its_collector_alone(tmp_path, capsys):
    frozen = gc.get_freeze_count()
    assert cli.main(["--db", str(tmp_path / "f.db"), "list"]) == 0
    assert gc.get_freeze_count() == frozen


def test_dispose_all_closes_every_engine_this_process_made(tmp_path):
    stores = [Store(tmp_path / f"{n}.db") for n in "ab"]
    try:
        for store in stores:
            store.stages()
            assert store.engine in set(engine_mod._MADE)
        assert any(store.engine.pool.checkedin() for store in stores)
        engine_mod.dispose_all()
        assert [store.engine.pool.checkedin() for store in stores] == [0, 0]
        for store in stores:
            assert _closed(store.path)
    finally:
        for store in stores:
            store.close()


@pytest.mark.parametrize("argv", [["--help"], ["no-such-command"]])
def test_argparse_exits_as_before(tmp_path, argv):
    done = run_cli(["--db", str(tmp_path / "f.db"), *argv])
    assert done.returncode == (0 if argv == ["--help"] else 2)
