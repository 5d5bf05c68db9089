"""A big import's reader forked before the store opens (exchange/import_early.py).

It reads from a guess of what the store will say (stages, the rep's name, the language); the
importer takes it only when the opened store says the same, and the outcome is then exactly
the usual one. Otherwise, or when the store refuses to open, the child is stopped and reaped.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from test_import_reader import _mixed_rows, _report, _snapshot, _write

from funnel_tui.exchange import import_early
from funnel_tui.exchange.import_chunks import FORK_BYTES
from funnel_tui.exchange.importer import BATCH, ImportOptions, import_file
from funnel_tui.store import Store

pytestmark = pytest.mark.skipif(not (hasattr(os, "fork") and sys.platform.startswith("linux")),
                                reason="the early reader forks (Linux)")


def _big_file(path: Path, known_uid: str = "") -> Path:
    """Every kind of row (_mixed_rows), padded past FORK_BYTES with long notes. Of its 1200
    rows 300 are refused and 50 repeat an earlier row (850 new deals), and 100 more are
    duplicates when `known_uid` is a deal the database has (750)."""
    rows = _mixed_rows(known_uid, n=1200)
    for i, row in enumerate(rows):
        if not row[-1]:
            row[-1] = f"备注 {i} " + "x" * 900
    src = _write(path, rows)
    assert src.stat().st_size >= FORK_BYTES
    return src


def _gone(pid: int) -> bool:
    """The child has exited and was reaped by its parent (this process)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _start(src: Path, db: Path, now, tz, *, owner: str | None = None, options: ImportOptions | None = None):
    return import_early.start(src, db, options or ImportOptions(saved=()), owner=owner, now=now, tz=tz,
                              batch=BATCH)


def _used(monkeypatch) -> list[bool]:
    """What EarlyRead.fits answered, call by call."""
    answers: list[bool] = []
    real = import_early.EarlyRead.fits

    def fits(self, **kw):
        answers.append(real(self, **kw))
        return answers[-1]

    monkeypatch.setattr(import_early.EarlyRead, "fits", fits)
    return answers


def test_an_early_reader_gives_what_the_usual_reader_gives(tmp_path, now, tz, monkeypatch):
    answers = _used(monkeypatch)
    results = {}
    for how in ("usual", "early"):
        db = tmp_path / f"{how}.db"
        store = Store(db)
        try:
            store.set_setting("me", "ann")
            known = store.add_deal({"customer": "Already here"}, now=now, tz=tz)
            src = _big_file(tmp_path / f"{how}.csv", store.get_deal(known)["uid"])
            options = ImportOptions(saved=())
            early = _start(src, db, now, tz, options=options) if how == "early" else None
            assert (early is not None) == (how == "early")
            rep = import_file(store, src, now=now, tz=tz, options=options, early=early, reader="fork")
            rejected = Path(rep.rejected_file).read_bytes()
        finally:
            store.close()
        results[how] = (_report(rep), _snapshot(db), rejected, rep.owner_default, rep.currency_default)
        if early is not None:
            assert _gone(early.reader.pid)
    assert answers == [True]
    assert results["early"] == results["usual"]
    (rows, inserted, duplicates, rejected, *_), *_rest, owner, currency = results["early"]
    assert (rows, inserted, duplicates, rejected, owner, currency) == (1200, 750, 150, 300, "ann", "CNY")


def test_a_new_database_is_read_early_with_the_stages_it_is_made_with(tmp_path, now, tz, monkeypatch):
    answers = _used(monkeypatch)
    db = tmp_path / "new.db"
    src = _big_file(tmp_path / "f.csv")
    early = _start(src, db, now, tz)
    assert early is not None and not db.exists()  # nothing written before the store opens
    store = Store(db)
    try:
        rep = import_file(store, src, now=now, tz=tz, options=early.options, early=early)
    finally:
        store.close()
    assert answers == [True]
    assert (rep.rows, rep.inserted) == (1200, 850)


def test_a_guess_the_store_contradicts_is_dropped_and_the_file_read_anew(tmp_path, now, tz, monkeypatch):
    answers = _used(monkeypatch)
    db = tmp_path / "f.db"
    Store(db).close()
    src = _big_file(tmp_path / "f.csv")
    early = _start(src, db, now, tz)
    assert early is not None and early.owner is None
    store = Store(db)
    try:
        # Between the guess and the import: the rep gave their name, and renamed a stage.
        store.set_setting("me", "bo")
        con = sqlite3.connect(db)
        with con:
            con.execute("UPDATE stage SET name = 'Fresh leads' WHERE key = 'lead'")
        con.close()
        store = Store(db)
        rep = import_file(store, src, now=now, tz=tz, options=early.options, early=early)
        owners = {r[0] for r in sqlite3.connect(db).execute("SELECT DISTINCT owner FROM deal")}
    finally:
        store.close()
    assert answers == [False]
    assert _gone(early.reader.pid)
    assert rep.owner_default == "bo" and owners == {"bo"}
    assert (rep.rows, rep.inserted) == (1200, 850)


@pytest.mark.parametrize("change", ["language", "clock", "options"])
def test_any_other_difference_drops_the_early_reader(tmp_path, now, tz, monkeypatch, change):
    from datetime import timedelta

    from funnel_tui.i18n import activate, active_lang

    answers = _used(monkeypatch)
    db = tmp_path / "f.db"
    Store(db).close()
    src = _big_file(tmp_path / "f.csv")
    early = _start(src, db, now, tz)
    options, when, lang = early.options, now, active_lang()
    if change == "language":
        activate("en" if lang != "en" else "zh")
    elif change == "clock":
        when = now + timedelta(seconds=1)
    else:
        options = ImportOptions(saved=(), currency="USD")
    store = Store(db)
    try:
        rep = import_file(store, src, now=when, tz=tz, options=options, early=early)
    finally:
        store.close()
        activate(lang)
    assert answers == [False] and _gone(early.reader.pid)
    assert rep.inserted == 850


def test_no_early_reader_where_it_cannot_help(tmp_path, now, tz):
    small = _write(tmp_path / "small.csv", _mixed_rows("", n=20))
    assert _start(small, tmp_path / "a.db", now, tz) is None  # below FORK_BYTES
    big = _big_file(tmp_path / "big.csv")
    assert import_early.start(big, None, ImportOptions(saved=()), owner=None, now=now, tz=tz,
                              batch=BATCH) is None  # a server
    assert _start(tmp_path / "missing.csv", tmp_path / "a.db", now, tz) is None
    not_ours = tmp_path / "other.db"
    sqlite3.connect(not_ours).execute("CREATE TABLE t (x)").connection.close()
    assert _start(big, not_ours, now, tz) is None  # not a current funnel database: the store decides
    assert _start(big, tmp_path / "a.db", now, tz, owner="x" * 300) is None  # a bad --owner: said as usual


def test_the_early_reader_starts_before_sqlalchemy_loads(tmp_path):
    src = _big_file(tmp_path / "f.csv")
    code = ("import sys\nfrom datetime import datetime, timezone\n"
            "from pathlib import Path\n"
            "from funnel_tui.exchange import import_early\n"
            "from funnel_tui.exchange.importer import BATCH, ImportOptions\n"
            f"e = import_early.start(Path({str(src)!r}), Path({str(tmp_path / 'n.db')!r}), ImportOptions(saved=()), "
            "owner=None, now=datetime.now(timezone.utc), tz=timezone.utc, batch=BATCH)\n"
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sqlmodel'))\n"
            "print(e is not None, loaded)\n"
            "e.cancel()\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True []"


def test_a_store_that_refuses_to_open_stops_the_early_reader(tmp_path, monkeypatch, capsys):
    from funnel_tui import cli
    from funnel_tui.exchange.import_chunks import ForkedReader

    db = tmp_path / "f.db"
    Store(db).close()
    con = sqlite3.connect(db)
    con.execute("PRAGMA user_version = 99")  # a newer funnel's database: refused
    con.close()
    src = _big_file(tmp_path / "f.csv")
    pids: list[int] = []
    real = ForkedReader.__init__

    def init(self, produce):
        real(self, produce)
        pids.append(self.pid)

    monkeypatch.setattr(ForkedReader, "__init__", init)
    # The guess cannot read a newer database; say it could, so a reader is forked.
    monkeypatch.setattr(import_early, "_as_the_store_will_say", lambda db: _default_guess())
    code = cli.main(["--db", str(db), "import", str(src)])
    assert code != 0
    assert len(pids) == 1 and _gone(pids[0])
    assert "newer" in capsys.readouterr().err
    assert sqlite3.connect(db).execute("SELECT count(*) FROM deal").fetchone()[0] == 0


def _default_guess():
    from funnel_tui.domain.stages import DEFAULT_PIPELINE_DEF, DEFAULT_STAGES, of_pipeline

    return tuple(s for s in of_pipeline(DEFAULT_STAGES, DEFAULT_PIPELINE_DEF.key) if not s.archived), None
