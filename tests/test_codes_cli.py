"""Follow-up kinds and lost reasons on the command line are kept as codes (issue 14): a rep may
type the Chinese label or a synonym, scripts read the code."""

from __future__ import annotations

import pytest

from funnel_tui.store import Store

pytestmark = [pytest.mark.both_backends]


def test_kinds_typed_in_chinese_are_kept_as_codes(funnel, db_path, capsys):
    assert funnel("add", "华信科技", "--follow-up", "tomorrow 10:00", "--kind", "拜访")[0] == 0
    code, out, err = funnel("follow-up", "1", "fri 10:00", "--kind", "电话")
    assert code == 0, err
    code, out, err = funnel("log", "1", "聊了预算", "--kind", "微信")
    assert code == 0, err
    with pytest.raises(SystemExit) as refused:  # argparse refuses, with the list
        funnel("follow-up", "1", "fri 11:00", "--kind", "传真")
    err = capsys.readouterr().err
    assert refused.value.code == 2 and "传真" in err and "call" in err
    store = Store(db_path)
    try:
        assert sorted(f["kind"] for f in store.deal_follow_ups(1)) == ["call", "visit"]
        assert [t["kind"] for t in store.deal_touches(1)] == ["message"]
    finally:
        store.close()


def test_lost_reasons_are_kept_as_codes_with_the_reps_details(funnel, db_path):
    for name in ("华信科技", "中国移动", "Acme"):
        assert funnel("add", name)[0] == 0
    assert funnel("lose", "1", "预算")[0] == 0
    assert funnel("lose", "2", "竞品:", "他们便宜一半")[0] == 0
    assert funnel("lose", "3", "their", "CFO", "left")[0] == 0
    store = Store(db_path)
    try:
        assert [store.get_deal(i)["lost_reason"] for i in (1, 2, 3)] == [
            "budget", "competitor: 他们便宜一半", "their CFO left"]
    finally:
        store.close()
