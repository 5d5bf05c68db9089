"""The Chinese demo pipeline (exchange/demo.py, lang="zh"). The English one is guarded by the
snapshot tests, which need it byte for byte."""

from __future__ import annotations

import re

from funnel_tui.domain.pinyin import field_keys, matches
from funnel_tui.domain.vocab import LOST_REASON
from funnel_tui.exchange.demo import ZH_CUSTOMERS, ZH_LOST_REASONS, fill_demo

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_chinese_demo(store, now):
    assert fill_demo(store, deals=40, seed=7, now=now, lang="zh") == 40
    deals = store.list_deals(status="all")
    assert len(deals) == 40
    assert store.get_setting("me") == "王磊"
    for deal in deals:
        for field in ("customer", "owner", "contact_name", "industry", "source", "contact_role"):
            assert HAN.search(deal[field]), (field, deal[field])
        assert deal["currency"] == "CNY"
        assert deal["amount"] % 500_000 == 0  # whole 5,000s of yuan: 3万, 12.5万 …
        assert deal["risk_note"] and deal["mitigation"] and deal["pain_points"] and deal["decision_chain"]
    lost = [d for d in deals if d["status"] == "lost"]
    assert lost and all(LOST_REASON.lookup(d["lost_reason"]) for d in lost)
    # Past the 30 firms come their branches, in cities whose names test the readings.
    assert any(d["customer"] == "华信科技（北京）" for d in deals)
    assert "重庆山城机电" in ZH_CUSTOMERS and matches("chongqing", field_keys("重庆山城机电"))


def test_chinese_demo_repeats_for_a_seed(tmp_path, now):
    from funnel_tui.store import Store

    rows = []
    for name in ("a.db", "b.db"):
        s = Store(tmp_path / name)
        fill_demo(s, deals=12, seed=3, now=now, lang="zh")
        rows.append([(d["customer"], d["title"], d["amount"], d["stage"], d["status"])
                     for d in s.list_deals(status="all")])
        s.close()
    assert rows[0] == rows[1]


def test_chinese_demo_lost_reasons_are_vocabulary_words():
    for reason in ZH_LOST_REASONS:
        assert LOST_REASON.lookup(reason) is not None, reason
