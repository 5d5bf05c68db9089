"""Issue 16 on a team server (issue 18): the lead sets up the stages, reps read them (and
the stage changes in history, for `--as-of`), and each rep ticks their own deals' playbooks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import NOW


def test_the_lead_changes_the_stages_reps_read_them_and_tick_their_own(team):
    from funnel_tui.store import NotFound, StoreError

    ann, bob, lea = team["ann"], team["bob"], team["lea"]
    deal = ann.add_deal({"customer": "Ann Co", "amount": "100"}, now=NOW)
    ann.move_deal(deal, "negotiation", now=NOW + timedelta(days=1))

    # A rep cannot change the stages: the server refuses, nothing changes.
    with pytest.raises(StoreError, match="no permission"):
        ann.add_stage("intro", now=NOW, name="Intro", after="lead")
    assert "intro" not in {s.key for s in ann.all_stages()}

    # The lead splits the stage ann's deal sits in: the deal moves, in history.
    lea.split_stage("negotiation", [("terms", "Terms", "条款谈判"), ("price", "Price", "价格确认")],
                    now=NOW + timedelta(days=2))
    ann.forget_stages()
    assert ann.get_deal(deal)["stage"] == "terms"
    assert [s.key for s in ann.stages()][3:5] == ["terms", "price"]
    # The rep reads the stage change (a history row without a deal): --as-of before the split
    # shows the stages as they stood.
    before = ann.summary(now=NOW + timedelta(days=3), as_of=NOW + timedelta(days=1, hours=1))
    assert "negotiation" in [x["key"] for x in before["stages"]]
    assert before["stages"][3]["current"] == 1

    # Ticks: ann on her own deal; bob cannot see it, so cannot tick it.
    item = ann.stage("terms").checklist()[0][0]  # the split's first part keeps the playbook
    assert ann.set_tick(deal, item, True, now=NOW + timedelta(days=3))
    assert ann.ticks(deal, "terms") == {item}
    with pytest.raises(NotFound):
        bob.set_tick(deal, item, True, now=NOW + timedelta(days=3))
    assert bob.tick_counts([{"id": deal, "stage": "terms"}]) == {}
    ann.undo(now=NOW + timedelta(days=3))  # her own tick
    assert ann.ticks(deal, "terms") == set()

    # The lead takes the split back (her own change); the deal is where it was.
    while (res := lea.undo(now=NOW + timedelta(days=4))) is not None and not res.get("setup"):
        pass
    assert res is not None and res["setup"] > 0
    ann.forget_stages()
    assert ann.get_deal(deal)["stage"] == "negotiation"
    assert "terms" not in {s.key for s in ann.all_stages()}
