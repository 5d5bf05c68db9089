"""Pilot tests of issue 13's TUI half, on the screen AND in the database: the board at 80×24,
`?`/`q` first in every key bar, the empty-database guide, one snooze scheme, the next step's
note in Done/Log, the new deal's first follow-up, the same-customer warning and the palette's
screenshot folder. Real FunnelApp, temp-file store, fixed clock and zone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers_tui import settle
from textual.widgets import Input, Static, TextArea

from funnel_tui.domain.validation import FollowUpDraft
from funnel_tui.tui.app import FunnelApp
from funnel_tui.tui.screens.board import BoardScreen
from funnel_tui.tui.widgets.key_bar import KeyBar
from funnel_tui.tui.wide_cells import plain_text
from funnel_tui.tui.widgets.stage_column import DealOption


def make_app(store, now, tz, lang: str = "en") -> FunnelApp:
    return FunnelApp(store, lambda: now, tz=tz, lang=lang)


async def pause(pilot, n: int = 4) -> None:
    """Pauses only: a form opened by a key is awaited by a worker, so no waiting on workers."""
    for _ in range(n):
        await pilot.pause()


def board(app) -> BoardScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, BoardScreen)
    return screen


def card_text(app, stage: str, index: int = 0) -> str:
    options = [o for o in board(app).column(stage).cards.options if isinstance(o, DealOption)]
    return options[index].prompt.plain


@pytest.fixture
def rotting(store, now, tz):
    """A lead 20 days in stage (limit 14) whose call is two days overdue."""
    deal_id = store.add_deal({"customer": "华信科技有限公司", "amount": "80000"}, now=now - timedelta(days=20), tz=tz)
    store.add_follow_up(FollowUpDraft(deal_id, now - timedelta(days=2), "call", "price"), now=now - timedelta(days=3))
    return deal_id


# --- any screen from 80×24 up ------------------------------------------------------------------


async def test_at_80x24_the_board_shows_three_columns_and_arrows_move_the_window(store, now, tz, rotting):
    app = make_app(store, now, tz)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = board(app)
        shown = [c.stage.key for c in screen.columns if c.display]
        assert shown == ["lead", "qualified", "demo"]
        assert "stages 1–3 of 6" in str(screen.query_one("#board-title", Static).render())
        # A compact card keeps the customer, the amount and both numbers.
        lines = card_text(app, "lead").split("\n")
        assert lines[0].startswith("华信科技有限公司") and lines[1].startswith("80k")
        assert "⏰ 2d" in lines[2] and "⌛ 20/14d" in lines[2]
        for _ in range(3):
            await pilot.press("right")
        await settle(pilot)
        assert [c.stage.key for c in screen.columns if c.display] == ["qualified", "demo", "negotiation"]
        assert screen.focused_column.stage.key == "negotiation"
        assert "stages 2–4 of 6" in str(screen.query_one("#board-title", Static).render())
        await pilot.press("h", "h", "h")
        await settle(pilot)
        assert [c.stage.key for c in screen.columns if c.display] == ["lead", "qualified", "demo"]
        await pilot.resize_terminal(160, 45)
        await settle(pilot)
        assert all(c.display for c in screen.columns)
        assert "overdue 2d" in card_text(app, "lead") and "over 20d (max 14)" in card_text(app, "lead")


async def test_every_key_bar_starts_with_help_and_quit(store, now, tz, rotting):
    from funnel_tui.tui.screens.deal import DealScreen
    from funnel_tui.tui.screens.summary import SummaryScreen
    from funnel_tui.tui.screens.today import TodayScreen

    app = make_app(store, now, tz)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for screen in (None, DealScreen(rotting), TodayScreen(), SummaryScreen()):
            if screen is not None:
                await app.push_screen(screen)
                await settle(pilot)
            await pause(pilot)
            shown = app.screen.query_one(KeyBar).shown
            assert [key for key, _what in shown[:2]] == ["?", "q"], (type(app.screen).__name__, shown)


# --- an empty database ---------------------------------------------------------------------------


async def test_an_empty_database_says_what_to_do_until_the_first_deal(store, now, tz):
    app = make_app(store, now, tz)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        guide = board(app).query_one("#board-empty", Static)
        assert guide.display
        text = "\n".join(plain_text(app.screen._compositor.render_strips()))
        assert "add your first deal" in text and "funnel import FILE" in text and "funnel --demo" in text
        await pilot.press("n")
        await pause(pilot)
        app.screen.query_one("#f-customer", Input).value = "Kestrel Foods"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not guide.display
        assert store.count_deals(status="all") == 1


async def test_the_guide_stays_away_when_only_lost_deals_exist(store, now, tz):
    deal_id = store.add_deal({"customer": "Osprey"}, now=now, tz=tz)
    store.lose_deal(deal_id, "price", now=now)
    app = make_app(store, now, tz)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert not board(app).query_one("#board-empty", Static).display


# --- one snooze scheme ---------------------------------------------------------------------------


async def test_snooze_keys_are_the_same_on_board_deal_and_today(store, now, tz, rotting):
    from funnel_tui.tui.keys import SCREENS

    for _title, screen in SCREENS[:3]:  # Board, Deal, Today
        keys = {b.key: b.action for b in screen.BINDINGS}
        assert (keys["1"], keys["3"], keys["w"]) == ("snooze(1)", "snooze(3)", "snooze(7)"), screen
    app = make_app(store, now, tz)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("1")  # overdue: a day from now
        await settle(pilot)
        assert store.deal_follow_ups(rotting, open_only=True)[0]["due_at"] == now + timedelta(days=1)
        await pilot.press("w")  # a week after that
        await settle(pilot)
        assert store.deal_follow_ups(rotting, open_only=True)[0]["due_at"] == now + timedelta(days=8)
        await pilot.press("z")  # z still shows lost deals on the board
        await settle(pilot)
        assert board(app).show_lost


# --- the next step's note ------------------------------------------------------------------------


async def test_log_takes_a_note_for_the_next_step(store, now, tz, rotting):
    app = make_app(store, now, tz)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await pause(pilot)
        form = app.screen
        form.query_one("#f-note", TextArea).text = "谈了价格"
        form.query_one("#f-next", Input).value = "2026-11-27 10:00"
        form.query_one("#f-next-note", Input).value = "发报价单"
        await pilot.press("ctrl+s")
        await settle(pilot)
    notes = [f["note"] for f in store.deal_follow_ups(rotting, open_only=True)]
    assert "发报价单" in notes


async def test_done_takes_a_note_for_the_next_step(store, now, tz, rotting):
    from funnel_tui.tui.screens.deal import DealScreen

    app = make_app(store, now, tz)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(DealScreen(rotting))
        await settle(pilot)
        await pilot.press("d")
        await pause(pilot)
        form = app.screen
        form.query_one("#f-note", TextArea).text = "called"
        form.query_one("#f-next", Input).value = "fri 10:00"
        form.query_one("#f-next-note", Input).value = "send the contract"
        await pilot.press("ctrl+s")
        await settle(pilot)
    open_ = store.deal_follow_ups(rotting, open_only=True)
    assert [f["note"] for f in open_] == ["send the contract"]


# --- the new deal: first follow-up, same customer ---------------------------------------------


async def test_a_new_deal_takes_its_first_follow_up_in_one_step(store, now, tz):
    app = make_app(store, now, tz)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pause(pilot)
        form = app.screen
        form.query_one("#f-customer", Input).value = "Kestrel Foods"
        form.query_one("#f-first-when", Input).value = "2026-11-25 10:00"
        form.query_one("#f-first-note", Input).value = "intro call"
        await pilot.press("ctrl+s")
        await settle(pilot)
        deal = store.list_deals(limit=1)[0]
        (fu,) = store.deal_follow_ups(deal["id"], open_only=True)
        assert fu["note"] == "intro call" and fu["kind"] == "call"
        assert fu["due_at"].astimezone(tz).strftime("%Y-%m-%d %H:%M") == "2026-11-25 10:00"
        assert "◷" in card_text(app, "lead")  # the card shows the next step, not "no next step"
        await pilot.press("u")  # one undo takes back the deal and its follow-up
        await settle(pilot)
    assert store.count_deals(status="all") == 0


async def test_a_bad_first_follow_up_keeps_the_form_open_and_writes_nothing(store, now, tz):
    app = make_app(store, now, tz)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pause(pilot)
        form = app.screen
        form.query_one("#f-customer", Input).value = "Kestrel Foods"
        form.query_one("#f-first-when", Input).value = "someday"
        await pilot.press("ctrl+s")
        await pause(pilot)
        assert app.screen is form and form.error_text("first-when")
    assert store.count_deals(status="all") == 0


def test_the_store_writes_a_deal_and_its_first_follow_up_or_neither(store, now, tz):
    with pytest.raises(ValueError):
        store.add_deal({"customer": "Kestrel"}, now=now, tz=tz,
                       follow_up=FollowUpDraft(0, now.replace(tzinfo=None), "call", ""))  # naive: refused
    assert store.count_deals(status="all") == 0


async def test_the_same_customer_is_named_and_can_be_opened(store, now, tz, rotting):
    from funnel_tui.tui.screens.deal import DealScreen

    app = make_app(store, now, tz)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pause(pilot)
        form = app.screen
        form.query_one("#f-customer", Input).value = "华信科技"
        await pilot.pause(0.6)
        await pause(pilot)
        warning = form.query_one("#same-customer")
        assert warning.has_class("shown")
        assert "华信科技有限公司" in str(form.query_one("#same-text", Static).render())
        await pilot.press("ctrl+o")
        await pause(pilot, 6)
        assert isinstance(app.screen, DealScreen) and app.screen.deal_id == rotting
    assert store.count_deals(status="all") == 1  # nothing added


async def test_the_warning_never_blocks_saving(store, now, tz, rotting):
    app = make_app(store, now, tz)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pause(pilot)
        app.screen.query_one("#f-customer", Input).value = "华信科技"
        await pilot.pause(0.6)
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert store.count_deals(status="all") == 2


# --- the palette's screenshot --------------------------------------------------------------------


async def test_a_screenshot_goes_to_a_folder_that_exists_and_the_toast_says_where(store, now, tz, tmp_path,
                                                                                 monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/Downloads, no ~/Documents
    (tmp_path / "home").mkdir()
    app = make_app(store, now, tz)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        app.deliver_screenshot()
        await pause(pilot)
        files = list((tmp_path / "xdg-data" / "funnel-tui" / "screenshots").glob("*.svg"))
        assert len(files) == 1 and files[0].read_text(encoding="utf-8").startswith("<svg")
        assert any(str(files[0]) in n.message for n in app._notifications)
        (tmp_path / "home" / "Downloads").mkdir()
        app.deliver_screenshot()
        await pause(pilot)
        assert len(list((tmp_path / "home" / "Downloads").glob("*.svg"))) == 1
