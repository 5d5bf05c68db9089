"""Issue 17, lessons on a team server: every rep reads every lesson (also of deals they cannot
see), only the author changes or removes one — the server's row-level policies say so, not
only the client."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from conftest import NOW


def test_the_team_reads_every_lesson_and_only_the_author_changes_it(team):
    from funnel_tui.store import NotFound, StoreError

    ann, bob, lea = team["ann"], team["bob"], team["lea"]
    deal = ann.add_deal({"customer": "华信科技", "stage": "demo"}, now=NOW)
    ann.lose_deal(deal, "price", now=NOW, lesson="报价前先摸清预算")
    mine = ann.lesson(deal)
    assert (mine["author"], mine["owner"], mine["reason"]) == ("ann", "ann", "price")  # signed by the server
    # bob cannot see the deal, yet reads its lesson (customer and stage kept with it).
    assert bob.list_deals(status="all") == []
    (shared,) = bob.lessons(reason="价格")
    assert (shared["customer"], shared["stage"], shared["text"]) == ("华信科技", "demo", "报价前先摸清预算")
    with pytest.raises(NotFound):
        bob.set_lesson(deal, "mine now", now=NOW)
    # Straight at the server: bob's UPDATE and DELETE touch nothing, his INSERT is refused.
    with bob.engine.begin() as conn:
        assert conn.execute(text("UPDATE lesson SET text = 'bob was here'")).rowcount == 0
        assert conn.execute(text("DELETE FROM lesson")).rowcount == 0
    with pytest.raises(Exception, match="row-level security"):
        with bob.engine.begin() as conn:
            conn.execute(text("INSERT INTO lesson (deal_id, outcome, stage, text, created_at, updated_at) "
                              "VALUES (:id, 'won', 'demo', 'forged', now(), now())"), {"id": deal + 1})
    # The lead sees the deal, and the lesson is still ann's to change.
    with pytest.raises(StoreError, match="ann's"):
        lea.set_lesson(deal, "the lead's words", now=NOW)
    with lea.engine.begin() as conn:
        assert conn.execute(text("UPDATE lesson SET text = 'lead was here'")).rowcount == 0
        assert conn.execute(text("UPDATE lesson SET author = 'lea'")).rowcount == 0
    assert ann.lesson(deal)["text"] == "报价前先摸清预算"
    # Even the database's owner, whom no policy holds, cannot rename the author: the server keeps it.
    with team["admin"].engine.begin() as conn:
        assert conn.execute(text("UPDATE lesson SET author = 'lea'")).rowcount == 1
    assert ann.lesson(deal)["author"] == "ann"
    # The author changes it; her undo takes the change back.
    ann.set_lesson(deal, "报价前先摸清预算和决策链", now=NOW)
    assert bob.lessons()[0]["text"] == "报价前先摸清预算和决策链"
    ann.undo(now=NOW)
    assert bob.lessons()[0]["text"] == "报价前先摸清预算"


def test_a_lead_writes_a_lesson_on_a_reps_deal_and_keeps_it(team):
    ann, lea = team["ann"], team["lea"]
    deal = ann.add_deal({"customer": "Acme", "stage": "negotiation"}, now=NOW)
    ann.move_deal(deal, "won", now=NOW)
    lea.set_lesson(deal, "pricing approved in one day", now=NOW)
    assert ann.lesson(deal)["author"] == "lea"
    from funnel_tui.store import StoreError

    with pytest.raises(StoreError, match="lea's"):
        ann.set_lesson(deal, "no, it was the demo", now=NOW)


def test_a_server_before_lessons_gets_them_from_team_migrate(pg_url, team_member, funnel):
    """The server step that adds lessons (LESSONS_STEP → +1): the lesson table, its author
    trigger, and (team migrate applies the team's rules again) its grants and policies; every
    deal kept. Written for the step's number, whichever it is after merges."""
    from funnel_tui.models import SCHEMA_VERSION
    from funnel_tui.store import Store
    from funnel_tui.store.pg_schema import PG_STEPS, _server_lessons

    step = next(v for v, fn in PG_STEPS.items() if fn is _server_lessons)
    admin = Store(pg_url)
    admin.add_deal({"customer": "Kept", "owner": "ann"}, now=NOW)
    with admin.engine.begin() as conn:  # back to the version before lessons
        conn.execute(text("DROP TABLE lesson"))
        conn.execute(text("DELETE FROM funnel_schema WHERE version > :v"), {"v": step})
        conn.execute(text("INSERT INTO funnel_schema (version) VALUES (:v) ON CONFLICT DO NOTHING"), {"v": step})
    admin.close()
    cli = funnel.__class__(funnel._request, pg_url)
    res = cli("team", "migrate")
    assert res.code == 0 and f"from version {step} to {SCHEMA_VERSION}" in res.out, res.out + res.err
    ann = Store(team_member("ann"))
    try:
        (deal,) = ann.list_deals()
        ann.lose_deal(deal["id"], "timing", now=NOW, lesson="下个财年再来")
        assert ann.lessons()[0]["author"] == "ann"
    finally:
        ann.close()
