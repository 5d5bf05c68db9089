"""`funnel export` / `funnel import` through cli.main: exit codes, messages, database contents."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from funnel_tui.store import Store

# Store and command-line behaviour is the same on a SQLite file and on a team server (issue 18).
pytestmark = [*globals().get("pytestmark", []), pytest.mark.both_backends]

DATA = Path(__file__).parent / "data"


@pytest.fixture
def env(tmp_path, monkeypatch, funnel):
    """The test's folder, as the working directory, at the test clock (conftest's funnel)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def run(funnel):
    """`run(db, *argv)` -> the exit code; the output stays for capsys/capsysbinary."""
    return funnel.code


def deals(db):
    s = Store(db)
    try:
        return s.list_deals(status="all")
    finally:
        s.close()


def test_export_then_import_round_trip(env, run, capsys):
    a, b = env / "a.db", env / "b.db"
    assert run(a, "add", "=cmd|' /C calc'!A0", "--amount", "3万", "--title", "华信科技 𠮷") == 0
    assert run(a, "add", "Acme [/]", "--stage", "demo", "--owner", "王磊") == 0
    capsys.readouterr()
    assert run(a, "export", str(env / "out.csv"), "--status", "all") == 0
    assert capsys.readouterr().out.strip() == f"exported 2 deals to {env / 'out.csv'} (utf-8-sig)"
    raw = (env / "out.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b",'=cmd|' /C calc'!A0," in raw
    assert os.stat(env / "out.csv").st_mode & 0o777 == 0o600

    assert run(b, "import", str(env / "out.csv")) == 0
    out = capsys.readouterr().out
    assert "import: out.csv (utf-8-sig, funnel-tui columns)" in out
    assert "2 rows read; imported: 2 new, no duplicates, 0 rejected" in out
    assert "backup first:" in out and "funnel undo" in out
    assert sorted(d["customer"] for d in deals(b)) == ["=cmd|' /C calc'!A0", "Acme [/]"]
    assert {d["uid"] for d in deals(a)} == {d["uid"] for d in deals(b)}

    assert run(b, "import", str(env / "out.csv")) == 0
    assert "imported: 0 new, 2 duplicates skipped, 0 rejected" in capsys.readouterr().out
    assert len(deals(b)) == 2


def test_export_to_stdout_and_default_file(env, run, capsysbinary):
    db = env / "a.db"
    run(db, "add", "北辰医疗", "--amount", "100")
    capsysbinary.readouterr()
    assert run(db, "export", "-") == 0
    cap = capsysbinary.readouterr()
    assert cap.out.startswith(b"\xef\xbb\xbfid,uid,") and "北辰医疗".encode() in cap.out
    assert b"exported 1 deals to stdout" in cap.err
    assert run(db, "export") == 0
    assert (env / "funnel-deals-20261124-100000.csv").exists()
    capsysbinary.readouterr()
    assert run(db, "export", "-", "--summary") == 0
    assert capsysbinary.readouterr().out.splitlines()[0].startswith(b"\xef\xbb\xbfstage,name,")


def test_export_refusals(env, run, capsys):
    db = env / "a.db"
    run(db, "add", "Ramen 🍜")
    capsys.readouterr()
    assert run(db, "export", str(db)) == 1
    err = capsys.readouterr().err
    assert err.startswith("funnel: export: refusing to write over the database") and err.count("\n") == 1
    assert run(db, "export", str(env / "x.csv"), "--encoding", "gbk") == 1
    err = capsys.readouterr().err
    assert "row 1, column customer: '🍜' (U+1F35C)" in err and not (env / "x.csv").exists()
    assert run(db, "export", str(env / "y.csv"), "--stage", "nowhere") == 1
    assert "stage: unknown stage 'nowhere'" in capsys.readouterr().err


def test_import_partially_bad_file(env, run, capsys):
    db = env / "a.db"
    src = env / "p.csv"
    src.write_text("customer,amount,stage\nGood,1,lead\nBad,abc,lead\nWho,1,Contact Made\n", encoding="utf-8")
    assert run(db, "import", str(src)) == 1
    out = capsys.readouterr().out
    assert "3 rows read; imported: 1 new, no duplicates, 2 rejected" in out
    assert "rejected line 3: amount: 'abc' is not an amount" in out
    assert "unknown stages: 'Contact Made' (1 row); map them" in out
    assert f"to fix and import again: {env / 'p.rejected.csv'}" in out
    assert [d["customer"] for d in deals(db)] == ["Good"]
    assert run(db, "import", str(env / "p.rejected.csv"), "--stage-map", "Contact Made=qualified") == 1
    out = capsys.readouterr().out
    assert "2 rows read; imported: 1 new, no duplicates, 1 rejected" in out
    assert {d["customer"]: d["stage"] for d in deals(db)} == {"Good": "lead", "Who": "qualified"}


def test_import_abort_dry_run_json_and_undo(env, run, capsys):
    db = env / "a.db"
    src = env / "t.csv"
    shutil.copy(DATA / "template_zh.gb18030.csv", src)
    assert run(db, "import", str(src), "--dry-run") == 0
    out = capsys.readouterr().out
    assert "(gb18030, Chinese tracking template)" in out and "would import: 3 new" in out
    assert "dry run: nothing was written" in out and deals(db) == []
    assert run(db, "import", str(src), "--format", "json", "--owner", "Alex") == 0
    rep = json.loads(capsys.readouterr().out)
    assert (rep["inserted"], rep["rejected"], rep["ok"], rep["encoding"]) == (3, 0, True, "gb18030")
    assert {d["owner"] for d in deals(db)} == {"王磊", "李娜"}  # --owner fills only empty owners
    # The scorecard scores each new deal as `funnel add` does (issue 17): its creation plus
    # the score's two rows (lead_score, scorecard), so one undo takes back 3 × 3 changes.
    assert all(d["lead_score"] is not None for d in deals(db))
    assert run(db, "undo") == 0
    assert capsys.readouterr().out.startswith("undone: 9 change(s) on deal 3, 2, 1 — the import of 3 deals")
    assert deals(db) == []

    bad = env / "bad.csv"
    bad.write_text("customer,probability\nA,10\nB,250\nC,20\n", encoding="utf-8")
    assert run(db, "import", str(bad), "--on-error", "abort") == 1
    out = capsys.readouterr().out
    assert "3 rows read; 1 rejected; --on-error abort: nothing was imported" in out
    assert "rejected line 3: probability: 250 is out of range" in out
    assert deals(db) == [] and not (env / "bad.rejected.csv").exists()


def test_import_refusals(env, run, capsys):
    db = env / "a.db"
    assert run(db, "import", str(env / "missing.csv")) == 1
    assert "no file" in capsys.readouterr().err
    (env / "h.csv").write_text("name\nx\n", encoding="utf-8")
    assert run(db, "import", str(env / "h.csv")) == 1
    assert "funnel: header: no customer column" in capsys.readouterr().err
    assert run(db, "import", str(env / "h.csv"), "--stage-map", "nonsense") == 1
    assert "stage-map: 'nonsense' is not OLD=NEW" in capsys.readouterr().err
    assert deals(db) == []
