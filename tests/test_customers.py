"""The same customer under another spelling (domain.customers) and the store's lookup."""

from __future__ import annotations

import pytest

from funnel_tui.domain.customers import customer_key, full_width, search_needle


@pytest.mark.parametrize("a, b", [
    ("华信科技有限公司", "华信科技"),
    ("华信科技股份有限公司", "华信科技"),
    ("华信科技（北京）有限公司", "华信科技"),
    ("华信集团", "华信"),
    ("ACME Inc.", "Acme"),
    ("ＡＣＭＥ Co., Ltd.", "acme"),
    ("Acme GmbH", "ACME"),
    ("Acme Robotics (Shanghai) Co., Ltd.", "Acme Robotics"),
    ("Stark · Industries", "Stark Industries"),
])
def test_the_same_company(a, b):
    assert customer_key(a) == customer_key(b)


@pytest.mark.parametrize("a, b", [
    ("华信科技", "华信"),
    ("北京华信", "华信"),
    ("Acme Robotics", "Acme"),
    ("Tyrell Biotech", "Tyrell Foods"),
])
def test_different_companies(a, b):
    assert customer_key(a) != customer_key(b)


def test_a_name_that_is_all_suffix_keeps_itself():
    assert customer_key("Company Inc.") == "company"
    assert customer_key("") == ""


def test_the_needle_is_the_longest_word_of_the_core():
    assert search_needle("Acme Robotics (Shanghai) Co., Ltd.") == "robotics"
    assert search_needle("华信科技有限公司") == "华信科技"
    assert full_width("acme1") == "ａｃｍｅ１"


def test_the_store_finds_the_same_customer_in_any_spelling(store, now, tz):
    ids = {name: store.add_deal({"customer": name}, now=now, tz=tz)
           for name in ("华信科技有限公司", "ＡＣＭＥ Co., Ltd.", "Acme Robotics", "华信")}
    lost = store.add_deal({"customer": "华信科技（上海）"}, now=now, tz=tz)
    store.lose_deal(lost, "price", now=now)
    found = store.similar_customers("华信科技")
    assert [r["id"] for r in found] == [ids["华信科技有限公司"], lost]  # open ones first
    assert found[1]["status"] == "lost"
    assert [r["id"] for r in store.similar_customers("acme inc")] == [ids["ＡＣＭＥ Co., Ltd."]]
    assert store.similar_customers("Kestrel") == [] and store.similar_customers("  ") == []
    store.delete_deal(ids["华信科技有限公司"], now=now)
    assert [r["id"] for r in store.similar_customers("华信科技")] == [lost]  # deleted: not offered
