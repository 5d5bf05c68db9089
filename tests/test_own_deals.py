"""Issue 13: the rep's own deals. New deals are `me`'s (funnel add, the TUI's `n`, imports
without an owner column); the first start asks the name once; personal settings (`me`,
`lang`, `theme`, `export_dir`) live in the user's config dir, carried over once from a
database that still holds them."""

from __future__ import annotations

import sqlite3

import pytest

from funnel_tui import config
from funnel_tui.store import Store


def test_personal_settings_live_in_the_config_file_not_the_database(store, db_path, tmp_path):
    store.set_setting("me", "王磊")
    store.set_setting("lang", "zh")
    store.set_setting("tier_a_share", "0.7")
    assert config.read() == {"me": "王磊", "lang": "zh"}
    assert config.path() == tmp_path / "xdg-config" / "funnel-tui" / "settings.toml"
    assert config.path().stat().st_mode & 0o777 == 0o600
    con = sqlite3.connect(db_path)
    assert dict(con.execute("SELECT key, value FROM setting")) == {"tier_a_share": "0.7"}
    con.close()
    other = Store(tmp_path / "other.db")  # another database: the same person
    try:
        assert (other.get_setting("me"), other.get_setting("lang")) == ("王磊", "zh")
        assert other.get_setting("tier_a_share") is None  # the pipeline's own
    finally:
        other.close()


def test_values_an_old_database_holds_are_carried_over_once(tmp_path):
    db = tmp_path / "old.db"
    Store(db).close()
    con = sqlite3.connect(db)
    con.executemany("INSERT INTO setting (key, value) VALUES (?, ?)",
                    [("me", "Sam Lee"), ("lang", "zh"), ("theme", "[bold]dark")])
    con.commit()
    con.close()
    store = Store(db)
    try:
        assert store.get_setting("me") == "Sam Lee" and store.get_setting("theme") == "[bold]dark"
        assert config.read() == {"me": "Sam Lee", "theme": "[bold]dark"}  # lang not asked for yet
        store.set_setting("me", "Sam")
        assert store.get_setting("me") == "Sam"  # the file wins from now on
    finally:
        store.close()


def test_a_demo_database_speaks_as_its_demo_rep_and_leaves_the_users_name_alone(tmp_path, now):
    from funnel_tui.exchange.demo import fill_demo

    mine = Store(tmp_path / "mine.db")
    mine.set_setting("me", "Sam Lee")
    demo = Store(tmp_path / "demo.db")
    try:
        fill_demo(demo, deals=5, now=now)
        assert demo.get_setting("me") not in (None, "Sam Lee")  # the demo's rep
        assert mine.get_setting("me") == "Sam Lee" and config.get("me") == "Sam Lee"
    finally:
        demo.close()
        mine.close()


def test_a_broken_settings_file_is_one_clear_error(store):
    from funnel_tui.store import StoreError

    config.path().write_text("me = \n", encoding="utf-8")
    with pytest.raises(StoreError, match="settings.toml is not valid TOML"):
        store.get_setting("me")


def test_strange_values_round_trip(store):
    for value in ('a "quoted" \\ name', "tab\tand DEL\x7f", "𠮷野家"):
        store.set_setting("theme", value)
        assert Store.get_setting(store, "theme") == value


def test_funnel_add_gives_new_deals_to_me(funnel, store):
    code, out, err = funnel("add", "Nobody's Co")
    assert code == 0 and "no owner" in err and "funnel settings me NAME" in err
    assert funnel("settings", "me", "王磊")[0] == 0
    code, out, err = funnel("add", "华信科技")
    assert code == 0 and "owner 王磊" in out and err == ""
    code, out, _ = funnel("add", "Theirs", "--owner", "Sam")
    deals = {d["customer"]: d["owner"] for d in store.list_deals()}
    assert deals == {"Nobody's Co": "", "华信科技": "王磊", "Theirs": "Sam"}


def test_the_store_gives_a_deal_without_owner_to_me(store, now):
    store.set_setting("me", "王磊")
    a = store.add_deal({"customer": "A"}, now=now)  # the TUI's `n` and `funnel add` both land here
    b = store.add_deal({"customer": "B", "owner": "  "}, now=now)
    c = store.add_deal({"customer": "C", "owner": "Sam"}, now=now)
    assert [store.get_deal(i)["owner"] for i in (a, b, c)] == ["王磊", "王磊", "Sam"]


def test_the_first_start_asks_the_name_once_on_a_terminal(store, monkeypatch, capsys):
    from funnel_tui.cli.common import ask_name_once

    asked = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    assert ask_name_once(store, ask=lambda prompt: asked.append(prompt) or "  王磊 ") == "王磊"
    assert asked and "Your name" in asked[0] and store.get_setting("me") == "王磊"
    assert "Saved" in capsys.readouterr().out
    store.set_setting("me", "")
    assert ask_name_once(store, ask=lambda prompt: asked.append(prompt) or "x") is None
    assert len(asked) == 1  # asked once, whatever the answer


def test_no_question_without_a_terminal(store):
    from funnel_tui.cli.common import ask_name_once

    assert ask_name_once(store, ask=lambda prompt: pytest.fail("asked")) is None
    assert store.get_setting(config.ASKED_NAME) is None  # the next terminal start still asks


def test_an_import_without_an_owner_column_gives_the_deals_to_me(funnel, store, tmp_path):
    csv_file = tmp_path / "leads.csv"
    csv_file.write_text("customer,amount\n华信科技,100\nAcme,200\n", encoding="utf-8")
    code, out, _ = funnel("import", str(csv_file))
    assert code == 0 and "no owner column and no name set" in out
    store.set_setting("me", "王磊")
    csv_file.write_text("customer,amount\n北方公司,100\n", encoding="utf-8")
    code, out, _ = funnel("import", str(csv_file))
    assert code == 0 and "no owner column: the deals are 王磊's" in out
    assert {d["customer"]: d["owner"] for d in store.list_deals()}["北方公司"] == "王磊"
    with_owner = tmp_path / "owners.csv"
    with_owner.write_text("customer,owner\n甲,Sam\n乙,\n", encoding="utf-8")
    code, out, _ = funnel("import", str(with_owner))
    assert code == 0 and "rows without an owner are 王磊's" in out
    owners = {d["customer"]: d["owner"] for d in store.list_deals()}
    assert (owners["甲"], owners["乙"]) == ("Sam", "王磊")
