"""Big imports read and validate in a forked child while the parent writes.

The forked reader must change nothing about the outcome (same report, same deals, same
history as reading inline), and when it dies or fails the import writes nothing.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from funnel_tui.exchange.import_read import ImportFileError, ReaderFailed
from funnel_tui.exchange.importer import import_file
from funnel_tui.store import Store

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the forked reader needs os.fork")

HEADER = ["uid", "external_id", "customer", "title", "stage", "status", "amount", "lost_reason",
          "created_at", "next_follow_up_at", "notes"]


def _write(path: Path, rows) -> Path:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADER)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode("utf-8-sig"))
    return path


def _mixed_rows(known_uid: str, n: int = 1200):
    """Every kind of row, spread over many chunks: new, rejected, duplicates in the file
    and in the database, Chinese and hostile text, lost and won deals, follow-ups."""
    rows = []
    for i in range(n):
        kind = i % 12
        uid = ext = ""
        customer, stage, status, reason, amount = f"客户 {i}", "lead", "", "", str(i)
        if kind == 1:
            customer = ""  # rejected: no customer
        elif kind == 2:
            stage, status, reason = "demo", "lost", "price"
        elif kind == 3:
            stage, status = "negotiation", "won"
        elif kind == 4:
            ext = f"pipedrive:{i // 24}"  # twice each, 12 rows apart: the second is a duplicate
        elif kind == 5:
            uid = known_uid  # the deal already in the database
        elif kind == 6:
            amount = "abc"  # rejected
        elif kind == 7:
            customer = "Acme [/] =1+1"
        elif kind == 8:
            status = "lost"  # rejected: no reason
        rows.append([uid, ext, customer, f"title {i % 5}", stage, status, amount, reason,
                     "2026-11-01T09:00:00+08:00", "2026-12-01" if i % 3 else "", "第一行\n第二行" if kind == 9 else ""])
    return rows


def _snapshot(db: Path):
    con = sqlite3.connect(db)
    try:
        deals = con.execute(
            "SELECT customer, external_id, stage, status, amount, lost_reason, created_at, next_follow_up_at, notes "
            "FROM deal ORDER BY id").fetchall()
        history = con.execute("SELECT h.kind, h.to_stage, h.new, d.customer FROM history h JOIN deal d ON d.id = h.deal_id "
                              "ORDER BY h.deal_id, h.id").fetchall()
        follow = con.execute("SELECT f.due_at, d.customer FROM followup f JOIN deal d ON d.id = f.deal_id "
                             "ORDER BY f.deal_id").fetchall()
        ids = [r[0] for r in con.execute("SELECT id FROM deal ORDER BY id")]
        return deals, history, follow, ids
    finally:
        con.close()


def _report(rep):
    return (rep.rows, rep.inserted, rep.duplicates, rep.rejected, rep.follow_ups, rep.reasons,
            rep.duplicate_lines, rep.unknown_stages)


def test_forked_reader_gives_what_the_inline_reader_gives(tmp_path, now, tz):
    results = {}
    for reader in ("inline", "fork"):
        db = tmp_path / f"{reader}.db"
        store = Store(db)
        try:
            known = store.add_deal({"customer": "Already here"}, now=now, tz=tz)
            src = _write(tmp_path / f"{reader}.csv", _mixed_rows(store.get_deal(known)["uid"]))
            rep = import_file(store, src, now=now, tz=tz, batch=100, reader=reader)
            rejected = Path(rep.rejected_file).read_bytes()
        finally:
            store.close()
        results[reader] = (_report(rep), _snapshot(db), rejected)
    inline, fork = results["inline"], results["fork"]
    assert fork == inline
    (rows, inserted, duplicates, rejected, follow_ups, *_), (deals, _h, _f, ids), _ = fork
    # Per 12 rows: 3 rejected (no customer, bad amount, lost without reason); the known
    # uid and every second pipedrive id are duplicates.
    assert (rows, inserted, duplicates, rejected) == (1200, 750, 150, 300)
    assert ids == list(range(1, 752))  # one id per new deal, no gaps
    assert ("Acme [/] =1+1",) in {(d[0],) for d in deals}


def _reader_breaks(monkeypatch, on_chunk: int, how) -> None:
    """The forked reader (which inherits this patch) meets `how` on its `on_chunk`-th chunk."""
    from funnel_tui.exchange import import_rows

    real = import_rows.RowParser.parse_columns
    calls = []

    def parse_columns(self, rows):
        calls.append(1)
        if len(calls) == on_chunk:
            how()
        return real(self, rows)

    monkeypatch.setattr(import_rows.RowParser, "parse_columns", parse_columns)


def _plain_file(path: Path) -> Path:
    return _write(path, [["", "", f"C{i}", "", "lead", "", "1", "", "", "", ""] for i in range(1000)])


def test_a_reader_that_fails_writes_nothing(tmp_path, now, tz, monkeypatch):
    store = Store(tmp_path / "f.db")
    store.add_deal({"customer": "Mine"}, now=now, tz=tz)
    src = _plain_file(tmp_path / "f.csv")

    def fail():
        raise RuntimeError("disk went away")

    _reader_breaks(monkeypatch, 4, fail)
    with pytest.raises(ReaderFailed, match="disk went away.*nothing was imported"):
        import_file(store, src, now=now, tz=tz, batch=100, reader="fork")
    assert [d["customer"] for d in store.list_deals(status="all")] == ["Mine"]
    assert not (tmp_path / "f.rejected.csv").exists()
    assert issubclass(ReaderFailed, ImportFileError)  # the CLI prints it as one line
    store.close()


def test_a_reader_that_dies_writes_nothing(tmp_path, now, tz, monkeypatch):
    store = Store(tmp_path / "d.db")
    src = _plain_file(tmp_path / "d.csv")
    _reader_breaks(monkeypatch, 3, lambda: os._exit(9))  # as if killed: no goodbye on the pipe
    with pytest.raises(ReaderFailed, match="stopped unexpectedly"):
        import_file(store, src, now=now, tz=tz, batch=100, reader="fork")
    assert store.list_deals(status="all") == []
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    store.close()


def _processes_reading(name: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if name.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(int(pid))
            except OSError:
                pass
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigkill_of_a_forked_import_leaves_none_of_it_and_no_reader_behind(tmp_path):
    from helpers_procs import REPO, worker_env

    db = tmp_path / "funnel.db"
    store = Store(db)
    store.close()
    name = "sigkill-forked-import.csv"
    src = _write(tmp_path / name, [["", "", f"big-{i}", "标题", "demo", "", str(i), "", "", "2026-12-01", "x" * 40]
                                   for i in range(60_000)])
    assert src.stat().st_size > (1 << 20)  # big enough that "auto" forks a reader
    proc = subprocess.Popen([sys.executable, "-m", "funnel_tui", "--db", str(db), "import", str(src)],
                            env=worker_env(), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while len(_processes_reading(name)) < 2:  # the parent and its forked reader
        assert proc.poll() is None and time.monotonic() < deadline, "no forked reader seen"
        time.sleep(0.01)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while _processes_reading(name):  # the reader notices the broken pipe and leaves
        assert time.monotonic() < deadline, "the forked reader outlived its writer"
        time.sleep(0.05)
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert con.execute("SELECT count(*) FROM deal").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM history").fetchone() == (0,)
    con.close()


def test_staged_chunks_write_what_the_row_writer_writes(tmp_path, now, tz):
    """add_staged (INSERT … SELECT from the scratch table) and add() (row by row) leave the
    same deals, history and follow-ups for the same validated rows."""
    from funnel_tui.exchange.import_chunks import read_chunks
    from funnel_tui.exchange.import_rows import RowParser
    from funnel_tui.exchange.importer import ImportOptions, plan_file
    from funnel_tui.store.bulk_import import DealImporter

    rows = _mixed_rows("", n=300)
    for i, row in enumerate(rows):  # every uid and external id once: nothing is a duplicate here
        if row[0] or i % 12 == 5:
            row[0] = f"00000000-0000-4000-8000-{i:012d}"
        if row[1]:
            row[1] = f"pipedrive:{i}"
    src = _write(tmp_path / "same.csv", rows)
    snapshots = []
    for staged in (True, False):
        db = tmp_path / f"same-{staged}.db"
        store = Store(db)
        with plan_file(store, src, ImportOptions(), tz=tz) as plan:
            parser = RowParser(plan, store.stages(), now, tz)
            chunks = list(read_chunks(plan.table.records, parser, parser.given, staged=staged, batch=64,
                                      estimate=lambda n: 0))
        with DealImporter(store, now=now, staged=staged, action="same") as importer:
            for chunk in chunks:
                if staged and chunk.staged is not None:
                    importer.add_staged(chunk.staged, reparse=None)  # nothing here is known yet
                elif chunk.accepted:
                    importer.add(chunk.accepted)
        con = sqlite3.connect(db)
        cols = [r[1] for r in con.execute("PRAGMA table_info(deal)") if r[1] != "uid"]
        snapshots.append((
            con.execute(f"SELECT {', '.join(cols)} FROM deal ORDER BY id").fetchall(),
            con.execute("SELECT deal_id, at, kind, from_stage, to_stage, field, old, new, action "
                        "FROM history ORDER BY deal_id, kind").fetchall(),
            con.execute("SELECT deal_id, kind, due_at, note, status, created_at, done_at FROM followup "
                        "ORDER BY deal_id").fetchall(),
            importer.counts,
        ))
        con.close()
        store.close()
    assert snapshots[0] == snapshots[1]
    deals, history, follow, counts = snapshots[0]
    assert len(deals) == counts.inserted > 150 and len(follow) == counts.follow_ups > 50
    assert {h[2] for h in history} == {"imported", "won", "lost"}
