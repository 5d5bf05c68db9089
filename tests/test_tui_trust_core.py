"""Issue 13, the store/domain side as the board shows it: `u` says what it took back, `x`
writes into the export folder and says where, and the first start asks the rep's name once."""

from __future__ import annotations

import csv

from helpers_tui import settle
from textual.widgets import Input

from funnel_tui import config
from funnel_tui.tui.app import FunnelApp
from funnel_tui.tui.forms.first_run import NameForm

SIZE = (160, 45)


def notes(app) -> list[tuple[str, str]]:
    return [(n.title, n.message) for n in app._notifications]


async def test_u_titles_its_toast_with_what_it_took_back(store, now, tz):
    deal = store.add_deal({"customer": "华信科技", "stage": "negotiation"}, now=now, tz=tz)
    store.move_deal(deal, "won", now=now)
    app = FunnelApp(store, lambda: now, tz=tz, lang="en")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert store.get_deal(deal)["stage"] == "negotiation"
        assert ("Undone: the move of 华信科技 (deal 1) from Negotiation to Won",
                "Undone — 华信科技: reopened, stage Won → Negotiation") in notes(app)


async def test_x_writes_into_the_export_folder_setting_and_says_where(store, now, tz, tmp_path):
    store.add_deal({"customer": "华信科技", "amount": "12万"}, now=now, tz=tz)
    folder = tmp_path / "exports" / "funnel"  # not there yet: made by the export
    store.set_setting("export_dir", str(folder))
    app = FunnelApp(store, lambda: now, tz=tz, lang="en")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        [written] = folder.glob("funnel-deals-*.csv")
        with written.open(encoding="utf-8-sig", newline="") as fh:
            assert [r["customer"] for r in csv.DictReader(fh)] == ["华信科技"]
        assert f"Exported 1 deals to {written}" in [m for _t, m in notes(app)]


async def test_x_without_a_setting_writes_into_the_documents_folder(store, now, tz, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(tmp_path / "Documents"))
    monkeypatch.chdir(tmp_path)
    store.add_deal({"customer": "Acme"}, now=now, tz=tz)
    app = FunnelApp(store, lambda: now, tz=tz, lang="en")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
    assert len(list((tmp_path / "Documents").glob("funnel-deals-*.csv"))) == 1
    assert list(tmp_path.glob("funnel-deals-*.csv")) == []  # not the working directory


async def test_the_first_start_asks_the_name_once(store, now, tz):
    app = FunnelApp(store, lambda: now, tz=tz, lang="en", ask_name=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, NameForm)
        app.screen.query_one("#f-name", Input).value = "王磊"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, NameForm)
        assert store.get_setting("me") == "王磊" and config.get("me") == "王磊"
        await pilot.press("n")  # the New-deal form: a deal without an owner is the rep's
        await pilot.pause()
        app.screen.query_one("#f-customer", Input).focus()
        await pilot.press(*"Acme")
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert [d["owner"] for d in store.list_deals()] == ["王磊"]
    again = FunnelApp(store, lambda: now, tz=tz, lang="en", ask_name=True)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not isinstance(again.screen, NameForm)


async def test_skipping_the_name_is_not_asked_again(store, now, tz):
    app = FunnelApp(store, lambda: now, tz=tz, lang="en", ask_name=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, NameForm)
        await pilot.press("escape")
        await settle(pilot)
    assert store.get_setting("me") is None and store.get_setting(config.ASKED_NAME) == "1"
    again = FunnelApp(store, lambda: now, tz=tz, lang="en", ask_name=True)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not isinstance(again.screen, NameForm)
