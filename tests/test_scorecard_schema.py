"""Issue 17, the scorecard's schema step (6 → 7) on SQLite and on a server, and the scorecard
on a team server: the lead changes the rules, reps read them and their writes are scored."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from conftest import NOW
from funnel_tui.domain.scorecard import DEFAULT_RULES
from funnel_tui.domain.validation import TouchDraft

FIXTURE = Path(__file__).parent / "fixtures" / "schema_v1.db"


def test_an_old_file_gets_the_default_scorecard_and_keeps_its_scores(tmp_path):
    from funnel_tui.models import SCHEMA_VERSION
    from funnel_tui.store import Store

    db = tmp_path / "funnel.db"
    shutil.copyfile(FIXTURE, db)
    con = sqlite3.connect(db)
    con.execute("UPDATE deal SET lead_score = 3, company_size = '120', contact_role = 'CEO' WHERE id = 10")
    con.execute("UPDATE deal SET company_size = '120', contact_role = 'CEO' WHERE id = 11")
    con.commit()
    con.close()
    store = Store(db)
    assert SCHEMA_VERSION >= 7
    assert [(r.kind, r.field, r.pattern, r.points) for r in store.scorecard()] == [
        (r.kind, r.field, r.pattern, r.points) for r in DEFAULT_RULES]
    # A score from before the scorecard was the rep's: it holds (by hand).
    assert store.get_deal(10)["lead_score"] == 3 and store.explain_score(10)["by_hand"] is True
    store.log_touch(TouchDraft(10, "meeting", "demo"), now=NOW)
    assert store.get_deal(10)["lead_score"] == 3
    # A deal without one is scored at its next write: 2 (50–200) + 2 (CEO) + 1 (its old visit
    # touch) + 3 (demo).
    assert store.get_deal(11)["lead_score"] is None
    store.log_touch(TouchDraft(11, "meeting", "demo"), now=NOW)
    assert store.get_deal(11)["lead_score"] == 8
    store.close()


def test_a_v6_server_is_upgraded_to_the_scorecard_by_the_admin(pg_empty_url, funnel):
    """A server at schema 6 (no scorecard_rule): `funnel team migrate` adds the table and the
    default scorecard, keeps every deal, and the server's versions say 7."""
    from sqlalchemy import create_engine

    from funnel_tui.models import SCHEMA_VERSION, SQLModel
    from funnel_tui.store import Store
    from funnel_tui.store.pg_schema import install_extensions, install_rules
    from funnel_tui.store.schema import seed_stages

    engine = create_engine(pg_empty_url)
    with engine.begin() as conn:
        install_extensions(conn)
        for t in SQLModel.metadata.sorted_tables:
            if t.name != "scorecard_rule":
                t.create(conn)
        seed_stages(conn)
        install_rules(conn)
        conn.execute(text("INSERT INTO funnel_schema (version) VALUES (6)"))
        conn.execute(text(
            "INSERT INTO deal (uid, customer, title, industry, company_size, contact_name, contact_role, "
            "contact_phone, contact_email, source, lead_score, owner, stage, status, amount, currency, probability, "
            "probability_custom, risk_note, mitigation, budget, decision_chain, pain_points, competitors, "
            "lost_reason, notes, created_at, updated_at, stage_entered_at, version, search_key) VALUES ('u1', "
            "'Kept', '', '', '120', '', 'CEO', '', '', '', 8, 'ann', 'lead', 'open', 100, 'CNY', 10, false, '', '', "
            "'', '', '', '', '', '', now(), now(), now(), 1, '')"))
    engine.dispose()
    cli = funnel.__class__(funnel._request, pg_empty_url)
    res = cli("team", "migrate")
    assert res.code == 0 and f"from version 6 to {SCHEMA_VERSION}" in res.out, res.out + res.err
    store = Store(pg_empty_url)
    assert len(store.scorecard()) == len(DEFAULT_RULES)
    (deal,) = store.list_deals()
    assert deal["lead_score"] == 8 and store.explain_score(deal["id"])["by_hand"] is True
    store.close()


@pytest.fixture
def team(team_member):
    """ann (rep) and lea (lead) on a fresh database."""
    from funnel_tui.store import Store

    urls = {name: team_member(name, lead=lead) for name, lead in (("ann", False), ("lea", True))}
    stores = {name: Store(url) for name, url in urls.items()}
    yield stores
    for s in stores.values():
        s.close()


def test_the_lead_keeps_the_scorecard_and_a_reps_writes_are_scored_by_it(team):
    from funnel_tui.store import StoreError

    ann, lea = team["ann"], team["lea"]
    deal = ann.add_deal({"customer": "Ann Co", "company_size": "80", "contact_role": "总经理"}, now=NOW)
    assert ann.get_deal(deal)["lead_score"] == 4  # the rep reads the rules her write is scored by
    with pytest.raises(StoreError, match="no permission"):
        ann.add_rule("attribute", "source", "referral", 2, now=NOW)
    assert len(ann.scorecard()) == len(DEFAULT_RULES)
    lea.add_rule("attribute", "source", "referral|转介绍", 2, now=NOW)
    ann.update_deal(deal, {"source": "转介绍"}, now=NOW)
    assert ann.get_deal(deal)["lead_score"] == 6
    ann.log_touch(TouchDraft(deal, "meeting", "demo"), now=NOW)
    assert ann.get_deal(deal)["lead_score"] == 9
    # The lead rescores every deal she sees; ann's hand score would hold.
    lea.edit_rule(7, {"points": 1}, now=NOW)
    done = lea.rescore(now=NOW)
    assert done["changed"] == 1 and ann.get_deal(deal)["lead_score"] == 7
    assert lea.undo(now=NOW)["what"] == "rescore"
    assert ann.get_deal(deal)["lead_score"] == 9
