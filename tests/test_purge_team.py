"""The purge queue on a team server: the lead sets the tiering, each rep sees and purges only
their own quiet deals (row-level security), after a pg_dump, and undoes only their own purge."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from conftest import NOW

TZ = ZoneInfo("Asia/Shanghai")
OLD = NOW - timedelta(days=90)


def test_each_rep_purges_their_own_and_undoes_their_own(team):
    from funnel_tui.store import StoreError

    ann, bob, lea = team["ann"], team["bob"], team["lea"]
    with pytest.raises(StoreError, match="no permission"):
        ann.set_setting("tiering", "amount")  # a pipeline setting: the lead's
    lea.set_setting("tiering", "amount")
    a = [ann.add_deal({"customer": f"Ann {i}", "amount": "100"}, now=OLD) for i in range(2)]
    b = bob.add_deal({"customer": "Bob 1", "amount": "100"}, now=OLD)
    assert [c.deal_id for c in ann.purge_candidates(now=NOW, tz=TZ)] == a
    assert [c.deal_id for c in bob.purge_candidates(now=NOW, tz=TZ)] == [b]
    assert sorted(c.deal_id for c in lea.purge_candidates(now=NOW, tz=TZ)) == sorted([*a, b])
    done = ann.purge_all(now=NOW, tz=TZ, note="cleanup")
    assert done["deal_ids"] == a and done["backup"].endswith(".dump")
    assert bob.get_deal(b)["status"] == "open"  # ann's purge never reaches bob's deals
    with pytest.raises(StoreError):
        ann.purge_remove(b, "not mine", now=NOW, tz=TZ)
    assert bob.undo(now=NOW)["deal_ids"] == [b]  # bob's own last change (his add), not ann's purge
    res = ann.undo(now=NOW)
    assert res["what"] == "purge" and sorted(res["deal_ids"]) == a
    assert {ann.get_deal(d)["status"] for d in a} == {"open"}
