"""`funnel due` on sqlite3 (store/due_read.py) returns exactly what the Store returns, and
hands every unusual file to the Store (issue 19).

The data is random: owners (with "" and the literal "me"), open, won, lost and deleted deals,
open, done and canceled follow-ups, due times on and around every bucket edge (to the
microsecond) and clocks on both sides of daylight-saving changes; the command's output is
compared whole, in zones that change their clocks.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel_tui.domain.rules import BUCKET_ENDS, LISTED_BUCKETS, WITHIN
from funnel_tui.store import Store, due_read
from funnel_tui.store.search import key_of
from funnel_tui.store.times import utc_text

UTC = timezone.utc
OWNERS = ("王磊", "Alex Chen", "", "me")
STAGES = ("lead", "qualified", "demo", "negotiation", "won", "expansion")
# Clocks at daylight-saving edges (UTC instants): New York springs forward on 2026-03-08 at
# 07:00 UTC and falls back on 2026-11-01 at 06:00 UTC; Berlin on 2026-03-29 01:00 UTC.
CLOCKS = (
    datetime(2026, 3, 8, 6, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
    datetime(2026, 10, 31, 6, 30, tzinfo=UTC),
    datetime(2026, 11, 1, 5, 59, 59, tzinfo=UTC),
    datetime(2026, 3, 28, 1, 0, tzinfo=UTC),
    datetime(2026, 11, 24, 2, 0, tzinfo=UTC),
)
# Offsets from now at which follow-ups fall due: every edge of every bucket and window, a
# microsecond either side, and anything within ±10 days.
EDGES = sorted({*BUCKET_ENDS.values(), *WITHIN.values()})
ON_EDGES = [e + timedelta(microseconds=d) for e in EDGES for d in (-1, 0, 1)]
on_edge = st.sampled_from(ON_EDGES)
offsets = st.one_of(on_edge, on_edge, on_edge,
                    st.timedeltas(min_value=timedelta(days=-10), max_value=timedelta(days=10)))
deals = st.lists(
    st.fixed_dictionaries({
        "owner": st.sampled_from(OWNERS),
        "status": st.sampled_from(("open", "open", "won", "lost")),
        "deleted": st.booleans(),
        "stage": st.sampled_from(STAGES),
        "followups": st.lists(st.tuples(offsets, st.sampled_from(("open", "open", "done", "canceled"))),
                              max_size=3),
    }),
    max_size=14,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """An empty database with the current schema (copied for each example: fast)."""
    path = tmp_path_factory.mktemp("due-read") / "template.db"
    Store(path).close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = DELETE")  # one self-contained file to copy
    con.close()
    return path


def _filler(con: sqlite3.Connection, table: str, now: datetime) -> dict:
    """A value for every NOT NULL column without a default (a migration may add some)."""
    row = {}
    for _cid, name, kind, notnull, default, pk in con.execute(f"PRAGMA table_info({table})"):
        if notnull and default is None and not pk:
            kind = kind.upper()
            row[name] = utc_text(now) if "DATE" in kind or "TIME" in kind else (0 if "INT" in kind else "")
    return row


# Schema v6 as reps fill it: kinds as codes (any word the rep types becomes one), lost reasons
# as codes or the rep's own words where no code fits; customers, titles and notes in Chinese
# and English, markup-like text.
KINDS = ("call", "email", "meeting", "visit", "message", "task")
LOST_REASONS = ("price", "budget", "competitor: 华为", "budget: CFO left", "went_silent", "客户内部调整")
NOTES = ("聊了预算，下周给报价", "Sent proposal v2", "", "[b]not markup[/b]", "客户需要内部评审（法务）")


def fill(template: Path, folder: Path, data: list[dict], now: datetime) -> Path:
    """A copy of the template holding `data`, written as the store stores it (UTC text), with
    the codes and words of schema v6 (KINDS, LOST_REASONS) and Chinese text."""
    path = folder / f"due-{time.monotonic_ns()}.db"
    shutil.copyfile(template, path)
    con = sqlite3.connect(path)
    deal_base, fu_base = _filler(con, "deal", now), _filler(con, "followup", now)
    fu_id = 0
    for n, d in enumerate(data, start=1):
        row = {**deal_base, "id": n, "uid": f"uid-{n}", "customer": f"客户 {n} [/]" if n % 3 else f"东方制造{n}",
               "title": f"T{n}" if n % 2 else f"华东区续约 {n}",
               "owner": d["owner"], "stage": d["stage"], "status": d["status"], "currency": "CNY",
               "version": 1, "closed_at": None if d["status"] == "open" else utc_text(now),
               "lost_reason": LOST_REASONS[n % len(LOST_REASONS)] if d["status"] == "lost" else "",
               "deleted_at": utc_text(now - timedelta(hours=1)) if d["deleted"] else None}
        row["search_key"] = key_of(row)  # the pinyin key the store keeps (schema v6)
        con.execute(f"INSERT INTO deal ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
        for offset, status in d["followups"]:
            fu_id += 1
            fu = {**fu_base, "id": fu_id, "deal_id": n, "kind": KINDS[fu_id % len(KINDS)],
                  "due_at": utc_text(now + offset), "note": f"{NOTES[fu_id % len(NOTES)]} {fu_id}", "status": status}
            con.execute(f"INSERT INTO followup ({', '.join(fu)}) VALUES ({', '.join('?' * len(fu))})",
                        list(fu.values()))
    con.commit()
    con.close()
    return path


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=deals, now=st.sampled_from(CLOCKS), within=st.sampled_from(tuple(WITHIN)),
       owner=st.sampled_from((None, *OWNERS)), limit=st.integers(0, 6))
def test_the_sqlite3_read_returns_exactly_what_the_store_returns(template, tmp_path, data, now, within, owner,
                                                                   limit):
    path = fill(template, tmp_path, data, now)
    store = Store(path)
    con = due_read.open_plain(path)
    assert con is not None
    try:
        expected = store.due(now=now, within=within, owner=owner)
        assert due_read.due(con, now=now, within=within, owner=owner) == expected
        overview = store.due_overview(now=now, within=within, owner=owner, limit=limit)
        assert due_read.due_overview(con, now=now, within=within, owner=owner, limit=limit) == overview
        assert due_read.due_counts(con, now=now, within=within, owner=owner) == overview[1]
        # and both agree with the rules, worked out here from the data itself
        horizon = now + WITHIN[within]
        live = [(n, fu) for n, d in enumerate(data, start=1) for fu in d["followups"]
                if d["status"] != "lost" and not d["deleted"] and (not owner or d["owner"] == owner)
                and fu[1] == "open" and now + fu[0] < horizon]
        assert len(expected) == len(live)
        assert set(overview[1]) == set(LISTED_BUCKETS) and sum(overview[1].values()) == len(live)
    finally:
        con.close()
        store.close()


@pytest.mark.parametrize("now", CLOCKS)
def test_every_edge_on_both_paths(template, tmp_path, now):
    """Follow-ups on every bucket and window edge and a microsecond either side, on deals of
    every kind, read for every window and owner: the same on both paths."""
    data = [{"owner": owner, "status": status, "deleted": deleted, "stage": "demo",
             "followups": [(offset, fu_status) for offset in ON_EDGES for fu_status in ("open", "done")]}
            for owner in OWNERS for status in ("open", "won", "lost") for deleted in (False, True)]
    path = fill(template, tmp_path, data, now)
    store = Store(path)
    con = due_read.open_plain(path)
    try:
        for within in WITHIN:
            for owner in (None, *OWNERS):
                expected = store.due(now=now, within=within, owner=owner)
                assert due_read.due(con, now=now, within=within, owner=owner) == expected
                assert due_read.due_counts(con, now=now, within=within, owner=owner) == \
                    store.due_overview(now=now, within=within, owner=owner, limit=0)[1]
                live = 2 * (len(OWNERS) if not owner else 1)  # open and won, not deleted
                assert len(expected) == live * sum(1 for o in ON_EDGES if o < WITHIN[within])
    finally:
        con.close()
        store.close()


# --- the whole command, both paths, in zones that change their clocks ---------------------------------


@pytest.mark.parametrize(("zone", "lang"), [("America/New_York", "en_US.UTF-8"), ("Europe/Berlin", "en_US.UTF-8"),
                                            ("Asia/Shanghai", "zh_CN.UTF-8"), ("America/New_York", "zh_CN.UTF-8")])
@pytest.mark.parametrize("argv", [["--format", "json", "--within", "7d"], ["--format", "csv"], [],
                                  ["--count"], ["--count", "--format", "json", "--within", "7d"],
                                  ["--owner", "王磊", "--limit", "2"], ["--within", "24h", "--count"]])
def test_the_command_prints_the_same_on_both_paths(template, tmp_path, monkeypatch, capsys, zone, lang, argv):
    """Kinds and stages in the rep's language (labels of the codes, stage names), times as the
    rep reads them, the table drawn without Rich: the same whether sqlite3 or the Store read it."""
    from funnel_tui.cli import main

    now = CLOCKS[3]  # 01:59:59 in New York, a second before the clocks go back
    data = [{"owner": OWNERS[n % 4], "status": ("open", "won", "lost")[n % 3], "deleted": n % 7 == 0,
             "stage": STAGES[n % 6], "followups": [(timedelta(hours=h), "open") for h in (-30, -1, 1, 23, 25, 70, 100)
                                                   if (h + n) % 3]}
            for n in range(1, 20)]
    path = fill(template, tmp_path, data, now)
    monkeypatch.setenv("FUNNEL_NOW", now.isoformat())
    monkeypatch.setenv("TZ", zone)
    monkeypatch.setenv("LANG", lang)
    monkeypatch.setenv("COLUMNS", "200")
    time.tzset()
    try:
        fast = (main(["--db", str(path), "due", *argv]), *capsys.readouterr())
        with monkeypatch.context() as m:
            m.setattr(due_read, "open_plain", lambda p, **kw: None)
            slow = (main(["--db", str(path), "due", *argv]), *capsys.readouterr())
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert fast == slow
    assert fast[0] in (10, 11) and fast[1].strip()
    if lang.startswith("zh") and argv in ([], ["--owner", "王磊", "--limit", "2"]):
        store = Store(path)
        names = [s.label("zh") for s in store.stages()]
        store.close()
        assert any(name in fast[1] for name in names)  # stage names
        assert re.search("电话|邮件|会议|拜访|消息|待办", fast[1])  # kinds as labels


def test_count_prints_one_line_and_keeps_the_exit_codes(funnel):
    assert funnel("due", "--count") == (0, "0 overdue · 0 due in 24h · 0 due in 3d\n", "")
    funnel("add", "Later Co", "--follow-up", "+5d")
    assert funnel("due", "--count", "--within", "7d") == (
        10, "0 overdue · 0 due in 24h · 0 due in 3d · 1 later\n", "")
    funnel("add", "Soon Co", "--follow-up", "+2h")
    assert funnel("due", "--count")[:2] == (10, "0 overdue · 1 due in 24h · 0 due in 3d\n")
    funnel("add", "Late Co", "--follow-up", "today 09:00", "--past")
    code, out, _ = funnel("due", "--count")
    assert (code, out) == (11, "1 overdue · 1 due in 24h · 0 due in 3d\n")
    assert json.loads(funnel("due", "--count", "--format", "json").out) == {"overdue": 1, "24h": 1, "3d": 0}
    assert funnel("due", "--count", "--format", "csv").out == "overdue,24h,3d\n1,1,0\n"


def test_count_in_chinese(funnel, monkeypatch):
    funnel("add", "华信科技", "--follow-up", "today 09:00", "--past")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert funnel("due", "--count").out == "1 项逾期 · 0 项24小时内到期 · 0 项3天内到期\n"


# --- every unusual file goes to the store, which decides as for any command -------------------------


def test_a_newer_database_is_read_by_the_store_and_said_so(funnel, db_path):
    funnel("add", "Acme", "--follow-up", "today 09:00", "--past")
    con = sqlite3.connect(db_path)
    con.execute(f"PRAGMA user_version = {due_read.READS_SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    assert due_read.open_plain(db_path) is None
    code, out, err = funnel("due", "--count")
    assert (code, out) == (11, "1 overdue · 0 due in 24h · 0 due in 3d\n")
    assert "newer than this funnel-tui" in err and "read-only" in err


def test_missing_and_empty_files_go_to_the_store(funnel, db_path):
    assert due_read.open_plain(db_path) is None  # missing
    db_path.touch()
    assert due_read.open_plain(db_path) is None  # zero-length
    assert funnel("due", "--count")[:2] == (0, "0 overdue · 0 due in 24h · 0 due in 3d\n")
    assert due_read.open_plain(db_path) is not None  # the store made it a database


def test_a_damaged_file_gets_the_checks_every_command_gets(funnel, db_path):
    """store.open_check runs first: exit 4 with the restore named, the file left where it is."""
    db_path.write_bytes(b"SQLite format 3\x00" + b"\x07" * 5000)
    code, out, err = funnel("due", "--count")
    assert code == 4 and out == ""
    assert "is damaged" in err and "left where it is" in err
    assert db_path.exists() and not list(db_path.parent.glob("funnel.db.corrupt-*"))


def test_a_sqlite_error_while_reading_falls_back_to_the_store(funnel, monkeypatch):
    funnel("add", "Acme", "--follow-up", "today 09:00", "--past")

    def broken(*_a, **_kw):
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(due_read, "due_counts", broken)
    assert funnel("due", "--count")[:2] == (11, "1 overdue · 0 due in 24h · 0 due in 3d\n")


def test_the_automatic_backup_is_taken_on_the_fast_path_too(funnel, db_path):
    funnel("add", "Acme", "--follow-up", "today 09:00", "--past")
    for old in (db_path.parent / "backups").glob("*.db"):
        old.unlink()
    assert funnel("due", "--count")[0] == 11
    assert len(list((db_path.parent / "backups").glob("funnel-*-auto.db"))) == 1


def test_a_read_only_file_is_read(funnel, db_path):
    funnel("add", "Acme", "--follow-up", "today 09:00", "--past")
    db_path.chmod(0o400)
    try:
        assert funnel("due", "--count")[:2] == (11, "1 overdue · 0 due in 24h · 0 due in 3d\n")
    finally:
        db_path.chmod(0o600)


def test_owner_me_is_the_reps_name_on_both_paths(funnel, monkeypatch):
    """`--owner me` is the `me` setting (as `summary --owner me` reads it), on the sqlite3 path
    as through the store."""
    funnel("settings", "me", "王磊")
    funnel("add", "Mine", "--owner", "王磊", "--follow-up", "today 09:00", "--past")
    funnel("add", "Theirs", "--owner", "Alex", "--follow-up", "today 09:00", "--past")
    opened = []
    real = due_read.open_plain
    monkeypatch.setattr(due_read, "open_plain", lambda path, **kw: opened.append(path) or real(path, **kw))
    fast = funnel("due", "--count", "--owner", "me")
    assert len(opened) == 1  # read with sqlite3
    monkeypatch.setattr(due_read, "open_plain", lambda path, **kw: None)
    slow = funnel("due", "--count", "--owner", "me")
    assert fast[:2] == slow[:2] == (11, "1 overdue · 0 due in 24h · 0 due in 3d\n")
    assert json.loads(funnel("due", "--owner", "me", "--format", "json").out)[0]["customer"] == "Mine"


def test_funnel_db_and_funnel_now_are_honoured(funnel, db_path, monkeypatch, capsys):
    from funnel_tui.cli import main

    funnel("add", "Acme", "--follow-up", "today 09:00", "--past")
    monkeypatch.setenv("FUNNEL_DB", str(db_path))
    assert main(["due", "--count"]) == 11
    monkeypatch.setenv("FUNNEL_NOW", "2026-11-24T08:00:00+08:00")  # an hour before it falls due
    assert main(["due", "--count"]) == 10
    assert capsys.readouterr().out.splitlines() == ["1 overdue · 0 due in 24h · 0 due in 3d",
                                                    "0 overdue · 1 due in 24h · 0 due in 3d"]


def test_reads_schema_version_is_the_schema_version():
    """A schema step moved models.SCHEMA_VERSION: someone decides whether the sqlite3 reads
    still hold. Until due_read.READS_SCHEMA_VERSION is set to the new version, every file of
    it takes the store's path (right, but the prompt and the board's first frame lose their
    speed), so this fails rather than let that pass unnoticed. To accept: read due_sql.py and
    board_sql.py against the new step (the columns they name of deal, followup, stage,
    pipeline, setting and checklist_tick, and the indexes they hint), then bump the constant.
    A step that only adds tables (this session's scorecard and lessons) needs nothing else."""
    from funnel_tui.models import SCHEMA_VERSION

    assert due_read.READS_SCHEMA_VERSION == SCHEMA_VERSION, (
        f"schema is v{SCHEMA_VERSION}, the sqlite3 reads accept v{due_read.READS_SCHEMA_VERSION}: "
        "check store/due_sql.py and store/board_sql.py against the new step(s), then set "
        "store/due_read.READS_SCHEMA_VERSION")


def test_a_file_at_another_version_takes_the_store_path(template, tmp_path):
    """Older (the store upgrades it first) and newer (read-only, said so): never sqlite3."""
    for version in (due_read.READS_SCHEMA_VERSION - 1, due_read.READS_SCHEMA_VERSION + 1):
        path = fill(template, tmp_path, [], CLOCKS[0])
        con = sqlite3.connect(path)
        con.execute(f"PRAGMA user_version = {version}")
        con.commit()
        con.close()
        assert due_read.open_plain(path) is None
    assert due_read.open_plain(fill(template, tmp_path, [], CLOCKS[0])) is not None


def test_english_never_reads_the_catalog(template, tmp_path):
    """The fast path costs nothing for English: no catalog file is opened."""
    import subprocess
    import sys

    path = fill(template, tmp_path, [{"owner": "", "status": "open", "deleted": False, "stage": "lead",
                                       "followups": [(timedelta(hours=-1), "open")]}], CLOCKS[-1])
    code = ("import sys\nfrom funnel_tui import i18n\nfrom funnel_tui.cli import main\n"
            "rc = main(sys.argv[1:])\nprint('LOADED', sorted(i18n._loaded), rc)\n")
    env = {"PATH": "/usr/bin:/bin", "LANG": "en_US.UTF-8", "FUNNEL_NOW": CLOCKS[-1].isoformat(),
           "XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for argv in (["due", "--count"], ["due"], ["due", "--format", "json"]):
        proc = subprocess.run([sys.executable, "-c", code, "--db", str(path), *argv], capture_output=True,
                              text=True, env=env, timeout=120)
        assert proc.stdout.strip().splitlines()[-1] == "LOADED ['en'] 11", (argv, proc.stdout, proc.stderr)
