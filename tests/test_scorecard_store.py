"""Issue 17, lead scoring in the store, on a SQLite file and on a PostgreSQL server: a deal is
scored when it or a touch is written (one transaction, one action), a hand score holds until
cleared, undo is a true inverse, rule changes are in history and undo, a rescore takes a
backup and one undo takes it back."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from funnel_tui.domain.validation import FollowUpDraft, TouchDraft

pytestmark = pytest.mark.both_backends

# The default scorecard: 50–200 → 2, over 200 → 3, industry → 1, decision maker → 2,
# visit → 1, download → 1, demo → 3.
ACME = {"customer": "Acme", "company_size": "120人", "contact_role": "CEO"}  # 2 + 2 = 4


def score_rows(store, deal_id: int) -> list[tuple[str, str | None, str | None, str]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT field, old, new, action FROM history WHERE deal_id = :d AND field IN ('lead_score', 'scorecard') "
            "ORDER BY id"), {"d": deal_id})]


def test_a_new_deal_is_scored_in_its_own_action(store, now):
    deal = store.add_deal(ACME, now=now)
    assert store.get_deal(deal)["lead_score"] == 4
    rows = score_rows(store, deal)
    assert [r[:3] for r in rows][0] == ("lead_score", None, "4")
    field, old, new, action = rows[1]
    assert field == "scorecard" and old is None
    assert json.loads(new)["score"] == 4
    assert [r["id"] for r in json.loads(new)["rules"]] == [1, 4]
    with store.engine.connect() as conn:  # the same action as the creation: one undo
        created = conn.execute(text("SELECT action FROM history WHERE deal_id = :d AND kind = 'created'"),
                               {"d": deal}).scalar()
    assert created == action
    store.undo(now=now)
    with pytest.raises(Exception, match="no deal"):
        store.get_deal(deal)


def test_a_deal_no_rule_matches_has_no_score_and_a_given_score_holds(store, now):
    plain = store.add_deal({"customer": "Plain"}, now=now)
    assert store.get_deal(plain)["lead_score"] is None and score_rows(store, plain) == []
    given = store.add_deal({**ACME, "customer": "Given", "lead_score": "8"}, now=now)
    assert store.get_deal(given)["lead_score"] == 8
    assert store.explain_score(given)["by_hand"] is True
    store.log_touch(TouchDraft(given, "meeting", "demo"), now=now)
    assert store.get_deal(given)["lead_score"] == 8  # the rep's 8 holds


def test_a_touch_scores_the_deal_and_undo_takes_exactly_that_back(store, now):
    deal = store.add_deal(ACME, now=now)
    version = store.get_deal(deal)["version"]
    store.log_touch(TouchDraft(deal, "meeting", "产品演示"), now=now + timedelta(hours=1))
    assert store.get_deal(deal)["lead_score"] == 7  # 4 + 3 (attended a demo)
    assert store.explain_score(deal)["by_hand"] is False
    store.undo(now=now + timedelta(hours=2))
    after = store.get_deal(deal)
    assert after["lead_score"] == 4 and after["last_contact_at"] is None
    assert store.explain_score(deal)["by_hand"] is False
    assert after["version"] > version  # undo writes forward, never rewinds
    # A follow-up done is a touch too: a visit → +1.
    fid = store.add_follow_up(FollowUpDraft(deal, now + timedelta(days=1), "visit", "上门"), now=now)
    store.complete_follow_up(fid, now=now + timedelta(days=1))
    assert store.get_deal(deal)["lead_score"] == 5


def test_an_edit_of_an_attribute_rescores_and_its_undo_restores(store, now, tz):
    deal = store.add_deal(ACME, now=now)
    saved = store.update_deal(deal, {"company_size": "500"}, now=now, tz=tz)
    assert saved["lead_score"] == 5 and store.get_deal(deal)["version"] == saved["version"]  # 3 + 2
    store.update_deal(deal, {"notes": "called"}, now=now, tz=tz)  # not an attribute: no score row
    assert len(score_rows(store, deal)) == 4
    store.undo(now=now)
    store.undo(now=now)
    assert store.get_deal(deal)["lead_score"] == 4 and store.get_deal(deal)["company_size"] == "120人"


def test_a_hand_score_holds_until_cleared_and_undo_of_each_step_is_exact(store, now, tz):
    deal = store.add_deal(ACME, now=now)
    store.update_deal(deal, {"lead_score": "9"}, now=now, tz=tz)
    assert store.explain_score(deal)["by_hand"] is True
    store.log_touch(TouchDraft(deal, "meeting", "demo"), now=now)  # would give 7: the 9 holds
    store.update_deal(deal, {"company_size": "20"}, now=now, tz=tz)
    assert store.get_deal(deal)["lead_score"] == 9
    assert store.explain_score(deal)["now"].value == 5  # what the scorecard would give: 2 + 3
    store.update_deal(deal, {"lead_score": ""}, now=now, tz=tz)  # cleared: scored at once
    assert store.get_deal(deal)["lead_score"] == 5 and store.explain_score(deal)["by_hand"] is False
    store.undo(now=now)  # the clearing: the hand 9 is back, and holds again
    assert store.get_deal(deal)["lead_score"] == 9 and store.explain_score(deal)["by_hand"] is True
    for _ in range(3):  # the size edit, the touch, the hand score
        store.undo(now=now)
    assert store.get_deal(deal)["lead_score"] == 4 and store.explain_score(deal)["by_hand"] is False


def test_rules_change_in_history_and_undo_puts_them_back(store, now):
    before = store.scorecard()
    assert len(before) == 7 and before[-1].points == 3
    added = store.add_rule("attribute", "source", "referral|转介绍", 2, now=now, label_zh="转介绍")
    assert added.id == 8 and added.position == 8
    store.edit_rule(7, {"points": 4}, now=now)
    store.remove_rule(1, now=now)
    assert [r.id for r in store.scorecard()] == [2, 3, 4, 5, 6, 7, 8]
    with pytest.raises(ValueError, match="points"):
        store.edit_rule(7, {"points": 12}, now=now)
    with pytest.raises(Exception, match="no rule with id 99"):
        store.remove_rule(99, now=now)
    assert store.undo(now=now)["what"] == "scorecard"  # the removal: rule 1 back under its id
    assert store.scorecard()[0] == before[0]
    store.undo(now=now)
    assert store.scorecard()[6].points == 3
    store.undo(now=now)
    assert store.scorecard() == before
    # A rule added after the undos gets an id no standing rule has (SQLite may hand out 8
    # again: the history rows of the undone rule 8 are skipped, and carry that rule whole).
    new = store.add_rule("behaviour", "call", "价格", 1, now=now)
    assert new.id not in {r.id for r in before} and store.scorecard()[-1] == new


def test_a_rescore_takes_a_backup_keeps_hand_scores_and_undoes_as_one(store, now, tz, tmp_path):
    a = store.add_deal(ACME, now=now)
    b = store.add_deal({**ACME, "customer": "Hand"}, now=now)
    store.update_deal(b, {"lead_score": "2"}, now=now, tz=tz)
    c = store.add_deal({"customer": "Quiet", "company_size": "300"}, now=now)
    lost = store.add_deal({**ACME, "customer": "Lost"}, now=now)
    store.lose_deal(lost, "price", now=now)
    store.edit_rule(1, {"points": 4}, now=now)  # 50–200 is worth 4 now
    store.edit_rule(2, {"points": -1}, now=now)  # over 200 costs a point
    done = store.rescore(now=now)
    assert (done["deals"], done["changed"], done["by_hand"]) == (3, 2, 1)
    assert done["backup"]  # a verified backup first
    assert [store.get_deal(i)["lead_score"] for i in (a, b, c, lost)] == [6, 2, 0, 4]
    again = store.rescore(now=now)
    assert again["changed"] == 0  # nothing to do: no rows, no undo step
    result = store.undo(now=now)
    assert result["what"] == "rescore" and sorted(result["deal_ids"]) == [a, c]
    assert [store.get_deal(i)["lead_score"] for i in (a, b, c)] == [4, 2, 3]
