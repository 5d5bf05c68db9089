"""Pinyin search through the store, the command line and an upgrade (issue 14): the stored key
follows every write of customer, title or contact, and the same query finds the same deals on a
SQLite file and on a team server.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from funnel_tui.store import Store

pytestmark = [pytest.mark.both_backends]


@pytest.fixture
def deals(store, now, tz) -> dict[str, int]:
    add = lambda **v: store.add_deal(v, now=now, tz=tz)  # noqa: E731
    return {
        "hua": add(customer="华信科技", title="数据平台", contact_name="张三"),
        "cmcc": add(customer="中国移动", title="5G专网", contact_name="李四"),
        "cq": add(customer="重庆山城机电", title="ERP", contact_name="曾伟"),
        "acme": add(customer="Acme Robotics", title="CRM 年度订阅", contact_name="Sam Lee"),
        "bank": add(customer="招商银行", title="华信接口", contact_name="王五"),
    }


def ids(rows) -> list[int]:
    return [r["id"] for r in rows]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("huaxin", ["hua", "bank"]),  # full pinyin, in a customer and in a title
        ("hxkj", ["hua"]),  # initials
        ("zgyd", ["cmcc"]),
        ("华x", ["hua", "bank"]),  # mixed
        ("华xinke", ["hua"]),
        ("zs", ["hua", "bank"]),  # a contact by initials (张三), and 招商银行
        ("zhangsan", ["hua"]),  # and in full
        ("chongqing", ["cq"]),  # 重 read in context
        ("zengwei", ["cq"]),  # 曾 read as a surname in a contact
        ("yinhang", ["bank"]),  # 行 read in context
        ("acme", ["acme"]),
        ("crm", ["acme"]),
        ("科技", ["hua"]),
        ("uaxin", []),  # a spelling starts where a character starts
        ("zzqx", []),
    ],
)
def test_search_finds_by_pinyin(store, deals, query, found):
    assert ids(store.search_deals(query)) == [deals[k] for k in found]
    assert ids(store.list_deals(search=query)) == [deals[k] for k in found]


def test_found_rows_are_the_deal_as_the_store_hands_it_out(store, deals):
    (row,) = store.search_deals("hxkj")
    assert set(row) == {"id", "customer", "title", "contact_name", "stage", "status"}
    (deal,) = store.list_deals(search="hxkj")
    assert "search_key" not in deal and deal == store.get_deal(deals["hua"])


def test_the_key_follows_every_write_of_customer_title_or_contact(store, deals, now):
    later = now + timedelta(minutes=1)
    store.update_deal(deals["acme"], {"customer": "东方制造", "contact_name": "单立新"}, now=later)
    assert ids(store.search_deals("dfzz")) == [deals["acme"]]
    assert ids(store.search_deals("shanlixin")) == [deals["acme"]]  # 单 read as a surname
    assert store.search_deals("acme") == []
    store.undo(now=later + timedelta(minutes=1))  # the true inverse: found by the old name again
    assert ids(store.search_deals("acme")) == [deals["acme"]]
    assert store.search_deals("dfzz") == []
    store.update_deal(deals["hua"], {"amount": "30万"}, now=later)  # other fields keep the key
    assert ids(store.search_deals("hxkj")) == [deals["hua"]]


def test_status_order_filters_and_pages(store, deals, now):
    store.lose_deal(deals["hua"], "预算", now=now)
    assert ids(store.search_deals("华x")) == [deals["bank"], deals["hua"]]  # open ones first
    assert ids(store.list_deals(search="华x")) == [deals["bank"]]  # open only by default
    assert ids(store.list_deals(search="华x", status="all")) == [deals["hua"], deals["bank"]]
    assert ids(store.list_deals(search="华x", status="all", limit=1, offset=1)) == [deals["bank"]]
    assert ids(store.search_deals("华x", limit=1)) == [deals["bank"]]
    store.delete_deal(deals["bank"], now=now)
    assert ids(store.search_deals("huaxin")) == [deals["hua"]]  # deleted deals are not found
    assert store.get_deal(deals["hua"])["lost_reason"] == "budget"  # a word of the list: its code


def test_the_palette_adds_fuzzy_customer_matches_after_the_pinyin_ones(store, deals):
    assert ids(store.search_deals("acr", fuzzy=True)) == [deals["acme"]]  # A-c-r in order
    assert ids(store.search_deals("acr")) == []
    assert ids(store.search_deals("hx", fuzzy=True)) == [deals["hua"], deals["bank"]]
    assert ids(store.search_deals("hx", fuzzy=True, limit=1)) == [deals["hua"]]
    assert store.search_deals("smle", fuzzy=True) == []  # in order in a contact (Sam Lee): not the customer
    assert ids(store.search_deals("ACMEbts", fuzzy=True)) == [deals["acme"]]  # any case


def test_funnel_list_search(funnel, store, deals):
    code, out, _err = funnel("list", "--search", "zhangsan", "--format", "json")
    assert code == 0 and [d["id"] for d in json.loads(out)] == [deals["hua"]]
    code, out, _err = funnel("list", "--search", "hxkj")
    assert code == 0 and "华信科技" in out and "招商银行" not in out
    code, out, _err = funnel("list", "--search", "zzqx")
    assert code == 0 and "zzqx" in out and "pinyin" in out  # says nothing matched, and what is searched
    code, out, _err = funnel("list", "--search", "zzqx", "--format", "json")
    assert code == 0 and json.loads(out) == []


def test_an_import_writes_the_keys(funnel, store, tmp_path):
    csv = tmp_path / "deals.csv"
    csv.write_text("customer,title,contact_name\n华信科技,数据平台,张三\n中国移动,专网,李四\n", encoding="utf-8")
    code, _out, err = funnel("import", str(csv))
    assert code == 0, err
    assert [r["customer"] for r in store.search_deals("zgyd")] == ["中国移动"]
    assert [r["customer"] for r in store.search_deals("zhangsan")] == ["华信科技"]


@pytest.mark.sqlite_only
def test_keys_of_other_rules_are_built_again_on_open_after_a_backup(db_path, deals):
    """A funnel-tui whose readings differ (domain.pinyin.KEY_VERSION) rebuilds every key once."""
    with Store(db_path).write() as conn:
        conn.exec_driver_sql("UPDATE deal SET search_key = 'stale'")
        conn.exec_driver_sql("INSERT INTO setting (key, value) VALUES ('search_key_version', '0')")
    backups = db_path.parent / "backups"
    before = set(backups.glob("*")) if backups.exists() else set()
    reopened = Store(db_path)
    try:
        assert ids(reopened.search_deals("hxkj")) == [deals["hua"]]
        assert reopened.get_setting("search_key_version") == "1"
    finally:
        reopened.close()
    assert set(backups.glob("*")) - before  # a backup first
