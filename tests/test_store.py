"""Store invariants on temp-file databases (issue 2 §3)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from funnel_tui.domain.validation import FollowUpDraft, TouchDraft, ValidationError
from funnel_tui.store import NotFound, StaleDealError, Store, StoreError

# Store and command-line behaviour is the same on a SQLite file and on a team server (issue 18).
pytestmark = [*globals().get("pytestmark", []), pytest.mark.both_backends]

H = timedelta(hours=1)
REPO = Path(__file__).resolve().parents[1]


def add(store, now, **kw):
    return store.add_deal({"customer": "华信科技", "amount": "12000", **kw}, now=now)


@pytest.mark.sqlite_only  # reads the SQLite file or its pragmas
def test_engine_pragmas_on_every_connection(store):
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


@pytest.mark.sqlite_only  # reads the SQLite file or its pragmas
def test_database_file_is_private(db_path, store):
    assert (db_path.stat().st_mode & 0o777) == 0o600


def test_default_stages_seeded_with_chinese_names(store):
    stages = store.stages()
    assert [s.key for s in stages] == ["lead", "qualified", "demo", "negotiation", "won", "expansion"]
    assert [s.name_zh for s in stages][:2] == ["潜在线索", "初步意向"]
    assert [s.probability for s in stages] == [10, 25, 50, 75, 100, None]
    assert [s.max_dwell_days for s in stages] == [14, 21, 21, 15, None, None]


def test_add_deal_defaults_and_history(store, now):
    deal_id = add(store, now)
    d = store.get_deal(deal_id)
    assert (d["stage"], d["status"], d["probability"], d["amount"]) == ("lead", "open", 10, 1_200_000)
    assert d["stage_entered_at"] == now and d["created_at"] == now
    assert len(d["uid"]) == 36
    hist = store.deal_history(deal_id)
    assert [(h["kind"], h["to_stage"]) for h in hist] == [("created", "lead")]


def test_move_records_history_resets_clock_and_takes_stage_probability(store, now):
    deal_id = add(store, now)
    later = now + 48 * H
    d = store.move_deal(deal_id, "demo", now=later)
    assert (d["stage"], d["probability"]) == ("demo", 50)
    d = store.get_deal(deal_id)
    assert d["stage_entered_at"] == later and d["version"] == 2
    stage_rows = [h for h in store.deal_history(deal_id) if h["kind"] == "stage"]
    assert [(h["from_stage"], h["to_stage"], h["at"]) for h in stage_rows] == [("lead", "demo", later)]
    fields = {h["field"] for h in store.deal_history(deal_id) if h["kind"] == "field"}
    assert {"stage_entered_at", "probability"} <= fields


def test_custom_probability_survives_moves(store, now):
    deal_id = add(store, now, probability="33")
    assert store.get_deal(deal_id)["probability_custom"] is True
    assert store.move_deal(deal_id, "negotiation", now=now + H)["probability"] == 33


def test_win_closes_open_follow_ups(store, now):
    deal_id = add(store, now)
    fid = store.add_follow_up(FollowUpDraft(deal_id, now + 5 * H), now=now)
    assert store.get_deal(deal_id)["next_follow_up_at"] == now + 5 * H
    d = store.move_deal(deal_id, "won", now=now + H)
    assert (d["status"], d["closed_at"]) == ("won", now + H)
    fus = store.deal_follow_ups(deal_id)
    assert [(f["id"], f["status"]) for f in fus] == [(fid, "canceled")]
    assert store.get_deal(deal_id)["next_follow_up_at"] is None
    assert store.due(now=now) == []


def test_lose_needs_reason_and_keeps_stage(store, now):
    deal_id = add(store, now)
    store.move_deal(deal_id, "qualified", now=now + H)
    store.add_follow_up(FollowUpDraft(deal_id, now + 5 * H), now=now)
    with pytest.raises(ValidationError, match="lost_reason"):
        store.lose_deal(deal_id, "   ", now=now + 2 * H)
    assert store.get_deal(deal_id)["status"] == "open"
    d = store.lose_deal(deal_id, "price", now=now + 2 * H)
    assert (d["status"], d["stage"], d["lost_reason"]) == ("lost", "qualified", "price")
    assert [f["status"] for f in store.deal_follow_ups(deal_id)] == ["canceled"]
    with pytest.raises(StoreError, match="reopen it first"):
        store.move_deal(deal_id, "demo", now=now + 3 * H)
    d = store.reopen_deal(deal_id, now=now + 4 * H)
    assert (d["status"], d["stage"], d["lost_reason"], d["closed_at"]) == ("open", "qualified", "", None)


@pytest.mark.sqlite_only  # reads the SQLite file or its pragmas
def test_delete_is_soft_and_restorable(store, now, db_path):
    deal_id = add(store, now)
    store.delete_deal(deal_id, now=now + H)
    with pytest.raises(NotFound):
        store.get_deal(deal_id)
    assert store.list_deals() == []
    assert store.get_deal(deal_id, include_deleted=True)["deleted_at"] == now + H
    store.restore_deal(deal_id, now=now + 2 * H)
    assert store.get_deal(deal_id)["deleted_at"] is None
    # The database itself refuses a hard delete and any rewrite of history.
    con = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
        con.execute("DELETE FROM deal WHERE id = ?", (deal_id,))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("UPDATE history SET kind = 'field'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("DELETE FROM history")
    con.close()


def test_follow_up_done_with_next_in_one_step(store, now):
    deal_id = add(store, now)
    fid = store.add_follow_up(FollowUpDraft(deal_id, now - H, "call", "ring them"), now=now - 2 * H)
    res = store.complete_follow_up(fid, now=now, note="聊了预算", next_due_at=now + 26 * H, next_kind="meeting")
    d = store.get_deal(deal_id)
    assert d["last_contact_at"] == now
    assert d["next_follow_up_at"] == now + 26 * H
    touches = store.deal_touches(deal_id)
    assert [(t["kind"], t["note"]) for t in touches] == [("call", "聊了预算")]
    [item] = store.due(now=now)
    assert (item.followup_id, item.kind, item.bucket) == (res["next_followup_id"], "meeting", "3d")
    with pytest.raises(StoreError, match="already done"):
        store.complete_follow_up(fid, now=now)


def test_snooze_and_log_touch(store, now):
    deal_id = add(store, now)
    fid = store.add_follow_up(FollowUpDraft(deal_id, now - H), now=now)
    store.snooze_follow_up(fid, now + 30 * H, now=now)
    assert store.get_deal(deal_id)["next_follow_up_at"] == now + 30 * H
    res = store.log_touch(TouchDraft(deal_id, "visit", "met the CFO", now + 2 * H, "call"), now=now)
    assert store.get_deal(deal_id)["next_follow_up_at"] == now + 2 * H
    assert res["next_followup_id"] is not None


def test_due_buckets_and_lost_deals_hidden(store, now):
    a, b, c = add(store, now), add(store, now, customer="B"), add(store, now, customer="C")
    store.add_follow_up(FollowUpDraft(a, now - H), now=now)
    store.add_follow_up(FollowUpDraft(b, now + 23 * H), now=now)
    store.add_follow_up(FollowUpDraft(c, now + 71 * H), now=now)
    assert [(i.deal_id, i.bucket) for i in store.due(now=now)] == [(a, "overdue"), (b, "24h"), (c, "3d")]
    assert [i.deal_id for i in store.due(now=now, within="24h")] == [a, b]
    store.lose_deal(a, "timing", now=now)
    assert [i.deal_id for i in store.due(now=now)] == [b, c]


def test_warnings_dwell_silence_no_next_step(store, now):
    old = add(store, now - timedelta(days=20))  # lead limit 14 → over
    near = add(store, now - timedelta(days=12), customer="near")  # 12/14 ≥ 80 % → near
    planned = add(store, now - timedelta(days=1), customer="planned")
    store.add_follow_up(FollowUpDraft(planned, now + H), now=now)
    kinds = {(w.deal_id, w.kind) for w in store.warnings(now=now)}
    assert (old, "dwell_over") in kinds and (near, "dwell_near") in kinds
    assert (old, "no_next_step") in kinds and (planned, "no_next_step") not in kinds
    assert (planned, "silent") not in kinds
    over = next(w for w in store.warnings(now=now) if w.kind == "dwell_over")
    assert (over.days, over.limit) == (20, 14)


def test_stale_save_is_refused(db_path, now):
    a, b = Store(db_path), Store(db_path)
    deal_id = add(a, now)
    seen = b.get_deal(deal_id)["version"]
    a.update_deal(deal_id, {"amount": "5000"}, now=now)
    with pytest.raises(StaleDealError, match="changed elsewhere"):
        b.update_deal(deal_id, {"title": "mine"}, now=now, expected_version=seen)
    assert b.get_deal(deal_id)["title"] == ""


def test_bad_values_write_nothing(store, now, tz):
    before = store.count_deals(status="all")
    for raw, field in [
        ({"customer": ""}, "customer"),
        ({"customer": "x", "probability": "250"}, "probability"),
        ({"customer": "x", "amount": "abc"}, "amount"),
        ({"customer": "x", "stage": "closing"}, "stage"),
        ({"customer": "x", "expected_close": "2024-13-01"}, "expected_close"),
        ({"customer": "x" * 201}, "customer"),
    ]:
        with pytest.raises(ValidationError) as err:
            store.add_deal(raw, now=now, tz=tz)
        assert field in err.value.errors
    assert store.count_deals(status="all") == before


def test_control_characters_are_stripped_and_markup_kept(store, now):
    deal_id = store.add_deal({"customer": "Acme [/]\x1b[31m\x00"}, now=now)
    assert store.get_deal(deal_id)["customer"] == "Acme [/]"


def test_search_treats_percent_and_underscore_literally(store, now):
    add(store, now, customer="100%_off")
    add(store, now, customer="1000 off")
    add(store, now, customer="客户“引号”", contact_name="张伟")
    assert [d["customer"] for d in store.list_deals(search="%_")] == ["100%_off"]
    assert [d["customer"] for d in store.list_deals(search="张伟")] == ["客户“引号”"]


def test_undo_walks_back_through_actions(store, now):
    deal_id = add(store, now)
    store.move_deal(deal_id, "qualified", now=now + H)
    store.update_deal(deal_id, {"amount": "99"}, now=now + 2 * H)
    store.undo(now=now + 3 * H)
    assert store.get_deal(deal_id)["amount"] == 1_200_000
    store.undo(now=now + 4 * H)
    d = store.get_deal(deal_id)
    assert (d["stage"], d["probability"], d["stage_entered_at"]) == ("lead", 10, now)
    store.undo(now=now + 5 * H)  # the creation itself: soft-deleted
    with pytest.raises(NotFound):
        store.get_deal(deal_id)
    assert store.undo(now=now + 6 * H) is None


WRITER = """
import sys
from datetime import datetime, timezone
from funnel_tui.store import Store
s = Store(sys.argv[1])
now = datetime(2026, 11, 24, tzinfo=timezone.utc)
for i in range(int(sys.argv[3])):
    s.add_deal({"customer": f"{sys.argv[2]}-{i}"}, now=now)
"""


def test_two_processes_adding_deals_lose_nothing(db_path):
    Store(db_path).close()
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(db_path), name, "150"], env=env,
                              stderr=subprocess.PIPE) for name in ("a", "b")]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    s = Store(db_path)
    names = {d["customer"] for d in s.list_deals(limit=None)}
    assert len(names) == 300
    with s.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM history WHERE kind='created'").scalar() == 300


def test_warnings_match_the_domain_rules_on_a_random_pipeline(store, now):
    """The SQL-side warnings equal a plain-Python reading of DESIGN §2 over every deal."""
    import random

    from funnel_tui.domain.money import weighted_minor
    from funnel_tui.domain.rules import abc_tiers, dwell, silence

    rng = random.Random(3)
    for i in range(120):
        created = now - timedelta(days=rng.uniform(0, 60))
        deal_id = store.add_deal({"customer": f"c{i}", "amount": str(rng.choice([0, 5, 50, 500, 5000])),
                                  "stage": rng.choice(["lead", "qualified", "demo", "negotiation"])}, now=created)
        if rng.random() < 0.5:
            store.log_touch(TouchDraft(deal_id, "call", "x"), now=created + timedelta(days=rng.uniform(0, 1)))
        if rng.random() < 0.5:
            store.add_follow_up(FollowUpDraft(deal_id, now + timedelta(hours=rng.uniform(-100, 100))), now=created)
    limits = {s.key: s.max_dwell_days for s in store.stages()}
    deals = store.list_deals()
    tiers = abc_tiers([(d["id"], weighted_minor(d["amount"], d["probability"])) for d in deals])
    expected, since = set(), {}
    for d in deals:
        dw = dwell(d["stage_entered_at"], now, limits[d["stage"]])
        if dw.state != "ok":
            expected.add((d["id"], f"dwell_{dw.state}", dw.whole_days))
            since[d["id"], f"dwell_{dw.state}"] = d["stage_entered_at"]
        quiet = silence(d["last_contact_at"], d["created_at"], now, tiers[d["id"]], d["next_follow_up_at"])
        if quiet is not None:
            expected.add((d["id"], "silent", int(quiet)))
            since[d["id"], "silent"] = d["last_contact_at"] or d["created_at"]
        if d["next_follow_up_at"] is None:
            expected.add((d["id"], "no_next_step", int((now - d["stage_entered_at"]) / timedelta(days=1))))
            since[d["id"], "no_next_step"] = d["stage_entered_at"]
    got = {(w.deal_id, w.kind, w.days) for w in store.warnings(now=now)}
    assert got == expected
    counts = store.warning_counts(now=now)
    assert counts == {k: sum(1 for _, kind, _ in expected if kind == k)
                      for k in ("dwell_over", "dwell_near", "silent", "no_next_step")}
    assert {"dwell_over", "silent", "no_next_step"} <= {k for _, k, _ in got}
    limited = store.warnings(now=now, limit=3)
    for kind in ("dwell_over", "silent", "no_next_step"):
        worst = sorted((since[i, k], i) for i, k, _ in expected if k == kind)[:3]
        assert [w.deal_id for w in limited if w.kind == kind] == [i for _, i in worst]


@pytest.mark.sqlite_only  # reads the SQLite file or its pragmas
def test_a_locked_database_is_a_store_refusal_with_nothing_written(db_path, now):
    """busy_timeout run out: the rep reads one line (CLI) or a toast (TUI), not a traceback."""
    from funnel_tui.store.errors import DatabaseUnavailable

    a = Store(db_path)
    deal_id = add(a, now)
    blocker = sqlite3.connect(db_path, isolation_level=None, timeout=0)
    blocker.execute("BEGIN IMMEDIATE")  # another terminal holds the write lock
    a.engine.dispose()
    from sqlalchemy import event

    @event.listens_for(a.engine, "connect")
    def short_wait(dbapi_connection, _record):  # don't wait the full 5 s in a test
        dbapi_connection.execute("PRAGMA busy_timeout = 50")

    try:
        with pytest.raises(DatabaseUnavailable, match="database is locked; nothing was changed"):
            a.move_deal(deal_id, "demo", now=now)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert a.get_deal(deal_id)["stage"] == "lead"


@pytest.mark.sqlite_only
def test_no_target_is_refused_not_a_file_named_none(tmp_path, monkeypatch):
    """str(None) once became a database file called "None" in the working folder."""
    from funnel_tui.store.engine import create_engine_for

    monkeypatch.chdir(tmp_path)
    with pytest.raises(TypeError):
        create_engine_for(None)
    assert not (tmp_path / "None").exists()
