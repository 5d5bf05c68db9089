"""Property test: any sequence of rep actions (and undos) keeps the store's invariants."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel_tui.domain.validation import FollowUpDraft, TouchDraft
from funnel_tui.store import Store, StoreError

STAGES = ["lead", "qualified", "demo", "negotiation", "won", "expansion"]
actions = st.lists(
    st.one_of(
        st.tuples(st.just("move"), st.integers(0, 2), st.sampled_from(STAGES)),
        st.tuples(st.just("lose"), st.integers(0, 2), st.just("price")),
        st.tuples(st.just("reopen"), st.integers(0, 2), st.just("")),
        st.tuples(st.just("follow"), st.integers(0, 2), st.integers(-48, 96)),
        st.tuples(st.just("done"), st.integers(0, 2), st.integers(0, 72)),
        st.tuples(st.just("log"), st.integers(0, 2), st.just("called")),
        st.tuples(st.just("edit"), st.integers(0, 2), st.integers(0, 10**6)),
        st.tuples(st.just("delete"), st.integers(0, 2), st.just("")),
        st.tuples(st.just("undo"), st.integers(0, 2), st.just("")),
    ),
    max_size=25,
)


def check_invariants(path):
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        # closed_at is set exactly when the deal is closed
        assert con.execute("SELECT count(*) FROM deal WHERE (status='open') = (closed_at IS NOT NULL)").fetchone()[0] == 0
        # won/post stages hold won deals; open stages hold open or lost ones
        bad = con.execute(
            "SELECT count(*) FROM deal d JOIN stage s ON s.key = d.stage "
            "WHERE (s.kind IN ('won','post')) <> (d.status = 'won')"
        ).fetchone()[0]
        assert bad == 0
        # lost deals have a reason
        assert con.execute("SELECT count(*) FROM deal WHERE status='lost' AND lost_reason=''").fetchone()[0] == 0
        # the denormalised next follow-up equals the earliest open one
        rows = con.execute(
            "SELECT d.id, d.next_follow_up_at, (SELECT min(due_at) FROM followup f "
            "WHERE f.deal_id = d.id AND f.status='open') FROM deal d"
        ).fetchall()
        for deal_id, cached, real in rows:
            assert cached == real, (deal_id, cached, real)
        # closed deals have no open follow-ups
        assert con.execute(
            "SELECT count(*) FROM followup f JOIN deal d ON d.id=f.deal_id WHERE f.status='open' AND d.status='lost'"
        ).fetchone()[0] == 0
    finally:
        con.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=actions)
def test_any_sequence_keeps_invariants(tmp_path_factory, now, steps):
    path = tmp_path_factory.mktemp("prop") / "p.db"
    store = Store(path)
    ids = [store.add_deal({"customer": f"客户{i}", "amount": "1000"}, now=now) for i in range(3)]
    history_len = 0
    t = now
    for kind, idx, arg in steps:
        t += timedelta(minutes=30)
        deal_id = ids[idx]
        try:
            if kind == "move":
                store.move_deal(deal_id, arg, now=t)
            elif kind == "lose":
                store.lose_deal(deal_id, arg, now=t)
            elif kind == "reopen":
                store.reopen_deal(deal_id, now=t)
            elif kind == "follow":
                store.add_follow_up(FollowUpDraft(deal_id, t + timedelta(hours=arg)), now=t)
            elif kind == "done":
                fus = store.deal_follow_ups(deal_id, open_only=True)
                if fus:
                    store.complete_follow_up(fus[0]["id"], now=t, next_due_at=t + timedelta(hours=arg) if arg else None)
            elif kind == "log":
                store.log_touch(TouchDraft(deal_id, "call", arg), now=t)
            elif kind == "edit":
                store.update_deal(deal_id, {"amount": str(arg)}, now=t)
            elif kind == "delete":
                store.delete_deal(deal_id, now=t)
            elif kind == "undo":
                store.undo(now=t)
        except StoreError:
            pass  # a refusal (lost deal moved, deleted deal edited …) must write nothing
        with store.read() as conn:
            n = conn.exec_driver_sql("SELECT count(*) FROM history").scalar()
        assert n >= history_len  # history only grows
        history_len = n
        check_invariants(path)
    store.close()
