"""Pilot tests of Today's "to review" section (the purge queue) and its keys: `k` keeps a deal
with a note (a touch: off the list), `x` removes it (lost: purged, with the note); both in the
database, both undone by `u` elsewhere, and the keys only where they can act."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers_today import highlight, lines, section
from textual.widgets import Input

from funnel_tui.tui.forms.purge_note import PurgeNoteForm
from funnel_tui.tui.screens.today import TodayScreen

HEADER = "To review: quiet deals of the lowest tier"


@pytest.fixture
def queue(store, now, tz):
    store.set_setting("tiering", "amount")
    old = now - timedelta(days=70)
    ids = {c: store.add_deal({"customer": c, "amount": a}, now=old, tz=tz)
           for c, a in (("Acme [/]", "5000"), ("华信科技", "50万"), ("Big Co", "1000万"))}
    return ids


async def test_to_review_lists_the_queue_and_keep_takes_a_note(store, now, tz, queue, tui_host):
    app = tui_host(TodayScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        rows = section(app, HEADER)
        assert f"{HEADER} · 2" in lines(app)
        assert rows[0].startswith("Acme [/]  · Lead · maintain  no change for 70d")  # literal, never markup
        assert "华信科技" in rows[1] and not any("Big Co" in r for r in rows)  # 1000万 is regular
        highlight(app, f"purge-{queue['Acme [/]']}")
        assert app.screen.check_action("keep", ()) and app.screen.check_action("remove", ())
        await pilot.press("k")
        await pilot.pause()
        assert isinstance(app.screen, PurgeNoteForm)
        await pilot.press("ctrl+s")  # an empty note is refused under the field
        assert "required" in app.screen.error_text("note")
        await pilot.press(*"budget in Q1")
        assert app.screen.query_one("#f-note", Input).value == "budget in Q1", app.screen.focused
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, TodayScreen)
        assert [t["note"] for t in store.deal_touches(queue["Acme [/]"])] == ["budget in Q1"]
        assert not any("Acme" in r for r in section(app, HEADER))
        assert f"{HEADER} · 1" in lines(app)


async def test_remove_marks_lost_purged_and_undo_brings_it_back(store, now, tz, queue, tui_host):
    app = tui_host(TodayScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        highlight(app, f"purge-{queue['华信科技']}")
        await pilot.press("x")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, PurgeNoteForm)
        form.query_one("#f-note", Input).value = "客户已转向自研"
        await pilot.press("ctrl+s")
        await pilot.pause()
        deal = store.get_deal(queue["华信科技"])
        assert (deal["status"], deal["lost_reason"]) == ("lost", "purged: 客户已转向自研")
        assert not any("华信科技" in r for r in section(app, HEADER))
    assert store.undo(now=now)["what"] == "purge"
    assert store.get_deal(queue["华信科技"])["status"] == "open"


async def test_keep_and_remove_only_on_rows_of_the_queue(store, now, tz, queue, tui_host):
    app = tui_host(TodayScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        highlight(app, f"no_next_step-{queue['Big Co']}")
        assert app.screen.check_action("keep", ()) is False
        assert app.screen.check_action("remove", ()) is False
        await pilot.press("k", "x")
        await pilot.pause()
        assert isinstance(app.screen, TodayScreen)
        assert store.get_deal(queue["Big Co"])["status"] == "open"


async def test_to_review_in_chinese(store, now, tz, queue, tui_host):
    app = tui_host(TodayScreen, lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        rows = section(app, "待审视：最低分级的静默商机")
        assert len(rows) == 2 and "维持" in rows[0] and "70天没有变化" in rows[0]
