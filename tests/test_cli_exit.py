"""How `funnel import` ends (cli._leave_at_once): at once, with os._exit, but only after doing
what Python's exit would have done for it. Real processes, since that is the only place it acts.

Each test checks one thing the quick exit must not lose: the report (flushed whole, even into
a pipe or a file), the database (closed: nothing left in a -wal, every row in the file itself),
the rejected rows' file, the exit code, and a forked reader (reaped, not left running).
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from helpers_procs import REPO, run_cli, worker_env

from funnel_tui import cli
from funnel_tui.store import Store
from funnel_tui.store import engine as engine_mod

NOW = {"FUNNEL_NOW": "2026-11-24T10:00:00+08:00"}


def _closed(db: Path) -> bool:
    """Nothing of `db` left in a -wal: its last connection closed it, folding it into the file."""
    wal = Path(f"{db}-wal")
    return not wal.exists() or wal.stat().st_size == 0


def _rows(db: Path) -> list[tuple]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)  # reads the file alone: no -wal is used
    try:
        return con.execute("SELECT customer, stage, amount FROM deal ORDER BY id").fetchall()
    finally:
        con.close()


def _csv(path: Path, rows: list[list[str]], header: tuple[str, ...] = ("customer", "title", "stage", "amount")) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def test_an_import_leaves_its_report_whole_and_its_database_closed(tmp_path):
    db = tmp_path / "f.db"
    src = _csv(tmp_path / "deals.csv", [["华为 云", "Cloud", "demo", "1200"], ["Acme", "Kit", "lead", "5"]])
    done = run_cli(["--db", str(db), "import", str(src), "--format", "json"], env=NOW)
    assert done.returncode == 0, done.stderr.decode()
    report = json.loads(done.stdout)  # the whole report: the last byte was flushed before the exit
    assert report["inserted"] == 2 and report["ok"] is True
    assert _closed(db)
    assert _rows(db) == [("华为 云", "demo", 120000), ("Acme", "lead", 500)]


def test_a_report_into_a_file_is_flushed_whole(tmp_path):
    """Block-buffered stdout (a file, not a terminal): os._exit would drop what the buffer holds."""
    db, out = tmp_path / "f.db", tmp_path / "report.txt"
    src = _csv(tmp_path / "deals.csv", [[f"客户{n}", "t", "lead", str(n)] for n in range(50)])
    with open(out, "wb") as fh:
        done = subprocess.run([sys.executable, "-m", "funnel_tui", "--db", str(db), "import", str(src),
                               "--format", "json"], env=worker_env(PYTHONUNBUFFERED="", **NOW), stdout=fh,
                              stderr=subprocess.PIPE, timeout=60, cwd=str(REPO))
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(out.read_text(encoding="utf-8"))["inserted"] == 50
    assert _closed(db) and len(_rows(db)) == 50


def test_refused_rows_keep_their_exit_code_and_their_file(tmp_path):
    db = tmp_path / "f.db"
    src = _csv(tmp_path / "deals.csv", [["Acme", "Kit", "lead", "5"], ["", "no customer", "lead", "1"]])
    done = run_cli(["--db", str(db), "import", str(src)], env=NOW)
    assert done.returncode == 1, done.stderr.decode()  # a row was rejected: exit 1, as documented
    rejected = tmp_path / "deals.rejected.csv"
    lines = rejected.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2 and "no customer" in lines[1]  # the header and the refused row, whole
    assert _closed(db) and _rows(db) == [("Acme", "lead", 500)]


def test_a_file_that_cannot_be_read_says_so_and_exits_as_before(tmp_path):
    done = run_cli(["--db", str(tmp_path / "f.db"), "import", str(tmp_path / "missing.csv")], env=NOW)
    assert done.returncode == 1
    assert b"missing.csv" in done.stderr


def test_output_that_cannot_be_written_is_still_an_error(tmp_path):
    """stdout on a full disk: the flush fails, so the quick exit stands aside and Python's exit
    reports it (a non-zero code), as before; the import itself had committed."""
    db = tmp_path / "f.db"
    src = _csv(tmp_path / "deals.csv", [["Acme", "Kit", "lead", "5"]])
    with open("/dev/full", "wb") as full:
        done = subprocess.run([sys.executable, "-m", "funnel_tui", "--db", str(db), "import", str(src)],
                              env=worker_env(PYTHONUNBUFFERED="", **NOW), stdout=full, stderr=subprocess.PIPE,
                              timeout=60, cwd=str(REPO))
    assert done.returncode != 0
    assert b"No space left" in done.stderr
    assert _closed(db) and _rows(db) == [("Acme", "lead", 500)]


def test_a_big_import_leaves_no_reader_behind(tmp_path):
    """A file of FORK_BYTES or more is read by a forked child: it is reaped before the exit."""
    db = tmp_path / "f.db"
    src = _csv(tmp_path / "big.csv", [[f"客户 {n:06d} 有限公司", "t", "lead", str(n), "备注" * 100] for n in range(6000)],
               header=("customer", "title", "stage", "amount", "notes"))
    assert src.stat().st_size >= (1 << 20)
    proc = subprocess.Popen([sys.executable, "-m", "funnel_tui", "--db", str(db), "import", str(src),
                             "--format", "json"], env=worker_env(**NOW), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=str(REPO), start_new_session=True)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    assert json.loads(out)["inserted"] == 6000
    # Nothing of its process group is left running (a child not reaped would still be there).
    alive = [p for p in os.listdir("/proc") if p.isdigit() and _pgid(int(p)) == proc.pid]
    assert alive == []
    assert _closed(db) and len(_rows(db)) == 6000


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def test_a_run_inside_another_program_returns(tmp_path, capsys):
    """Only the `funnel` process itself leaves at once; a caller of main(argv) gets its code back."""
    src = _csv(tmp_path / "deals.csv", [["Acme", "Kit", "lead", "5"]])
    assert cli.main(["--db", str(tmp_path / "f.db"), "import", str(src)]) == 0
    assert "Acme" not in capsys.readouterr().err


def test_dispose_all_closes_every_engine_this_process_made(tmp_path):
    stores = [Store(tmp_path / f"{n}.db") for n in "ab"]
    try:
        for store in stores:
            store.stages()
            assert store.engine in set(engine_mod._MADE)
        assert any(store.engine.pool.checkedin() for store in stores)
        engine_mod.dispose_all()
        assert [store.engine.pool.checkedin() for store in stores] == [0, 0]
        assert all(_closed(store.path) for store in stores)
    finally:
        for store in stores:
            store.close()


def test_an_import_to_a_server_leaves_at_once_with_its_rows_committed(tmp_path, pg_url):
    """On PostgreSQL too (its engine is among those dispose_all closes): the report whole, the rows there."""
    src = _csv(tmp_path / "deals.csv", [["华为 云", "Cloud", "demo", "1200"], ["Acme", "Kit", "lead", "5"]])
    done = run_cli(["--db", pg_url, "import", str(src), "--format", "json"], env=NOW)
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["inserted"] == 2
    store = Store(pg_url)
    try:
        assert sorted(d["customer"] for d in store.list_deals()) == ["Acme", "华为 云"]
    finally:
        store.close()
