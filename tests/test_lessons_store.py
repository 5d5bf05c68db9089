"""Issue 17, lessons (复盘): a lesson on a won or lost deal, tied to its stage and lost reason code,
in history and undone as a true inverse — on a SQLite file and on a server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from funnel_tui.store import StoreError

pytestmark = [pytest.mark.both_backends]


@pytest.fixture
def closed(store, now):
    """Acme won from negotiation, 华信科技 lost in demo for budget, Open Co still open."""
    acme = store.add_deal({"customer": "Acme", "stage": "qualified", "owner": "ann"}, now=now)
    store.move_deal(acme, "negotiation", now=now)
    hua = store.add_deal({"customer": "华信科技", "stage": "demo", "owner": "bob"}, now=now)
    open_ = store.add_deal({"customer": "Open Co"}, now=now)
    return {"acme": acme, "hua": hua, "open": open_}


def test_a_win_and_a_loss_keep_their_lesson_with_the_stage_and_reason(store, closed, now):
    later = now + timedelta(hours=1)
    store.move_deal(closed["acme"], "won", now=later, lesson="CFO in the demo\n— then it went fast")
    store.lose_deal(closed["hua"], "没预算: 老板换了", now=later, lesson="先确认预算")
    won = store.lesson(closed["acme"])
    assert (won["outcome"], won["stage"], won["reason"]) == ("won", "negotiation", "")  # where it was won from
    assert won["text"] == "CFO in the demo\n— then it went fast" and won["created_at"] == later
    lost = store.lesson(closed["hua"])
    assert (lost["outcome"], lost["stage"], lost["reason"], lost["customer"], lost["owner"]) == (
        "lost", "demo", "budget", "华信科技", "bob")  # the code, not 没预算 nor the details
    assert store.get_deal(closed["hua"])["lost_reason"] == "没预算: 老板换了"  # the deal keeps the words
    assert store.lesson(closed["open"]) is None
    # The win and its lesson, the loss and its lesson: one action each.
    actions = {h["action"] for h in store.deal_history(closed["hua"]) if h["kind"] != "created"}
    assert len(actions) == 1


def test_filters_by_stage_reason_and_owner_in_either_language(store, closed, now):
    store.move_deal(closed["acme"], "won", now=now, lesson="multi-threaded early")
    store.lose_deal(closed["hua"], "price", now=now, lesson="报价前先摸底")
    ids = lambda rows: [r["deal_id"] for r in rows]  # noqa: E731
    assert ids(store.lessons()) == [closed["hua"], closed["acme"]]  # newest first
    assert ids(store.lessons(stage="方案演示")) == ids(store.lessons(stage="demo")) == [closed["hua"]]
    assert ids(store.lessons(stage="Negotiation")) == [closed["acme"]]
    assert ids(store.lessons(reason="价格")) == ids(store.lessons(reason="too expensive")) == [closed["hua"]]
    assert ids(store.lessons(reason="budget")) == []
    assert ids(store.lessons(owner="ann")) == [closed["acme"]]
    assert ids(store.lessons(outcome="won")) == [closed["acme"]]
    with pytest.raises(StoreError):
        store.lessons(stage="no such stage")


def test_refusals_write_nothing(store, closed, now):
    with pytest.raises(StoreError, match="is open"):
        store.set_lesson(closed["open"], "too early", now=now)
    with pytest.raises(StoreError, match="empty"):
        store.lose_deal(closed["hua"], "price", now=now, lesson=" \x1b[31m\x07 ")
    assert store.get_deal(closed["hua"])["status"] == "open"  # refused before the loss
    with pytest.raises(StoreError, match="at most 2000"):
        store.lose_deal(closed["hua"], "price", now=now, lesson="长" * 2001)
    with pytest.raises(StoreError, match="not a won stage"):
        store.move_deal(closed["acme"], "demo", now=now, lesson="a lesson needs a win")
    assert store.get_deal(closed["acme"])["stage"] == "negotiation"  # the move rolled back with it
    assert store.lessons() == []


def test_control_characters_are_cleaned_and_markup_kept_as_text(store, closed, now):
    store.lose_deal(closed["hua"], "price", now=now, lesson="\x1b]0;pwned\x07[b]bold[/b]\u202eevil\x00 ok")
    assert store.lesson(closed["hua"])["text"] == "[b]bold[/b]evil ok"


def test_writing_later_changing_and_undo_are_true_inverses(store, closed, now):
    store.lose_deal(closed["hua"], "competitor", now=now)
    first = store.set_lesson(closed["hua"], "竞品早就进场了", now=now + timedelta(minutes=1))
    assert first["reason"] == "competitor"
    store.set_lesson(closed["hua"], "竞品早就进场了；下次早点做 POC", now=now + timedelta(minutes=2))
    undone = store.undo(now=now + timedelta(minutes=3))
    assert undone["what"] == "lesson"
    assert store.lesson(closed["hua"])["text"] == "竞品早就进场了"
    store.undo(now=now + timedelta(minutes=4))
    assert store.lesson(closed["hua"]) is None  # a new lesson undone is gone
    assert store.get_deal(closed["hua"])["status"] == "lost"  # the loss itself stands
    store.undo(now=now + timedelta(minutes=5))
    assert store.get_deal(closed["hua"])["status"] == "open"


def test_undo_of_a_loss_with_its_lesson_takes_both_back(store, closed, now):
    store.lose_deal(closed["hua"], "price", now=now, lesson="too late on price")
    store.undo(now=now)
    assert store.lesson(closed["hua"]) is None and store.get_deal(closed["hua"])["status"] == "open"
    rows = [h for h in store.deal_history(closed["hua"]) if h["field"] == "lesson"]
    assert [(r["old"] is None, r["new"] is None) for r in rows] == [(True, False), (False, True)]  # appended


def test_a_deleted_deals_lesson_is_left_out(store, closed, now):
    store.lose_deal(closed["hua"], "price", now=now, lesson="x")
    store.delete_deal(closed["hua"], now=now)
    assert store.lessons() == []
    store.restore_deal(closed["hua"], now=now)
    assert len(store.lessons()) == 1


def test_the_table_refuses_an_empty_lesson_and_a_bad_outcome(store, closed, now):
    from sqlalchemy.exc import DBAPIError, IntegrityError

    store.lose_deal(closed["hua"], "price", now=now, lesson="x")
    for sql in ("UPDATE lesson SET text = ''", "UPDATE lesson SET outcome = 'maybe'"):
        with pytest.raises((IntegrityError, DBAPIError)):
            with store.engine.begin() as conn:
                conn.execute(text(sql))
    assert store.lesson(closed["hua"])["text"] == "x"


@pytest.mark.sqlite_only
def test_the_v1_fixture_upgrades_and_takes_lessons(tmp_path, now):
    import shutil
    from pathlib import Path

    from funnel_tui.models import SCHEMA_VERSION
    from funnel_tui.store import Store

    db = tmp_path / "data" / "funnel.db"
    db.parent.mkdir()
    shutil.copyfile(Path(__file__).parent / "fixtures" / "schema_v1.db", db)
    store = Store(db)
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA user_version").scalar() == SCHEMA_VERSION
            assert conn.exec_driver_sql("SELECT count(*) FROM lesson").scalar() == 0
        deal = next(d for d in store.list_deals() if d["customer"] == "华为技术有限公司")
        store.lose_deal(deal["id"], "价格", now=now, lesson="早点找到决策人")
        assert store.lessons(reason="price")[0]["customer"] == "华为技术有限公司"
    finally:
        store.close()


@pytest.mark.sqlite_only
def test_the_panels_newest_lessons_read_in_index_order(store, closed, now):
    """The Summary panel's bounded read walks ix_lesson_updated: no sort of every lesson."""
    from sqlalchemy import and_, select

    from funnel_tui.store.lessons import L
    from funnel_tui.store.tables import D

    store.lose_deal(closed["hua"], "price", now=now, lesson="x")
    deleted = select(D.c.id).where(and_(D.c.id == L.c.deal_id, D.c.deleted_at.is_not(None))).exists()
    q = select(L).where(~deleted).order_by(L.c.updated_at.desc(), L.c.deal_id.desc()).limit(201)
    with store.read() as conn:
        sql = str(q.compile(conn, compile_kwargs={"literal_binds": True}))
        plan = " / ".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    assert "USING INDEX ix_lesson_updated" in plan and "TEMP B-TREE" not in plan, plan
