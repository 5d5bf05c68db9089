"""The one error path of the deal flows, on every screen that runs them, and what help and
the palette learn from the screen in front.

A refusal (another terminal got there first, the deal is gone) is one error toast, shown
as literal text, and the screen reads the database again: nothing is written, and what the
rep sees is what the database has now. Real store on a temp file, fixed clock.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import Input, OptionList

from funnel_tui.domain.validation import FollowUpDraft, ValidationError
from funnel_tui.store import Store
from funnel_tui.tui.app import FunnelApp
from funnel_tui.tui.forms import TouchForm
from funnel_tui.tui.screens.deal import DealScreen
from funnel_tui.tui.screens.today import TodayScreen

SIZE = (160, 45)


def errors(app) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error" and not n.markup]


@pytest.fixture
def overdue(store, now, tz):
    """A deal with one overdue follow-up: (deal id, follow-up id)."""
    deal_id = store.add_deal({"customer": "Acme [/]", "amount": "9000"}, now=now - timedelta(days=2), tz=tz)
    fid = store.add_follow_up(FollowUpDraft(deal_id, now - timedelta(hours=2), "call", "chase PO"),
                              now=now - timedelta(days=1))
    return deal_id, fid


@pytest.fixture
def deal_host(tui_host, overdue):
    """The deal screen of `overdue`, in the test host: (app, deal id, follow-up id)."""
    deal_id, fid = overdue
    return tui_host(lambda: DealScreen(deal_id)), deal_id, fid


def done_elsewhere(db_path, fid, now) -> None:
    """Another terminal completes the follow-up after this screen read it."""
    other = Store(db_path)
    other.complete_follow_up(fid, now=now, note="done on the phone")
    other.close()


async def test_deal_screen_refusal_is_a_toast_and_a_reread(store, db_path, now, deal_host):
    app, deal_id, fid = deal_host
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        followups = app.screen.query_one("#followups", OptionList)
        assert "chase PO" in str(followups.get_option_at_index(0).prompt)
        done_elsewhere(db_path, fid, now)
        await pilot.press("1")  # snooze what is no longer open (1 snoozes a day on every screen)
        await pilot.pause()
        assert errors(app) == [f"follow-up {fid} is already done"]
        assert store.deal_follow_ups(deal_id, open_only=True) == []  # nothing written
        # The screen read again: the follow-up is gone, the touch from elsewhere is there.
        assert followups.option_count == 1 and "no open follow-up" in str(followups.get_option_at_index(0).prompt)
        assert "done on the phone" in app.screen.query_one("#timeline").content.plain
        assert isinstance(app.screen, DealScreen) and app.is_running


async def test_today_refusal_after_a_form_is_a_toast_and_a_reread(store, db_path, now, tui_host, overdue):
    deal_id, fid = overdue
    app = tui_host(TodayScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert app.screen.current().followup_id == fid
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, TouchForm)
        done_elsewhere(db_path, fid, now)  # while the rep is typing
        await pilot.press(*"PO promised")
        app.screen.query_one("#f-next", Input).value = ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert errors(app) == [f"follow-up {fid} is already done"]
        assert [t["note"] for t in store.deal_touches(deal_id)] == ["done on the phone"]  # ours not written
        ol = app.screen.query_one("#today-list", OptionList)
        overdue_rows = [str(ol.get_option_at_index(i).prompt) for i in range(ol.option_count)]
        assert "  nothing overdue" in overdue_rows  # read again after the refusal
        assert isinstance(app.screen, TodayScreen)


async def test_board_refusal_is_a_toast_and_the_board_reread(store, db_path, now, tz, tmp_path, overdue):
    deal_id, _ = overdue
    app = FunnelApp(store, lambda: now, tz=tz, lang="en", export_dir=tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        board = app.screen
        assert board.current_deal["id"] == deal_id
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, TouchForm)
        other = Store(db_path)
        other.delete_deal(deal_id, now=now)  # gone while the rep types
        other.close()
        await pilot.press(*"hello")
        await pilot.press("ctrl+s")
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert len(errors(app)) == 1 and str(deal_id) in errors(app)[0]
        assert store.deal_touches(deal_id) == []
        assert board.column("lead").cards.highlighted_deal is None  # the board read again: no card
        assert app.screen is board and app.is_running


async def test_the_error_path_is_the_apps_own(tui_host, store):
    app = tui_host()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        with app.reporting_errors() as report:
            raise ValidationError({"amount": "not an amount: [b]x[/b]"})
        await pilot.pause()
        assert isinstance(report.error, ValidationError)
        assert errors(app) == ["amount: not an amount: [b]x[/b]"]
        with app.reporting_errors() as report:
            pass
        assert report.error is None
        with pytest.raises(KeyError):  # a bug is not a refusal: it is not swallowed
            with app.reporting_errors():
                raise KeyError("bug")


async def test_help_lists_the_keys_of_the_screen_in_front(tui_host, overdue):
    from funnel_tui.tui.help import HelpScreen

    app = tui_host(TodayScreen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        described = [what for _, what, _ in app.screen.rows]
        assert described[:3] == ["Done", "+1d", "+3d"] and "Next stage" in described
        assert "Cards" not in described  # the board's column keys are the board's


async def test_palette_offers_the_actions_of_the_screen_in_front(store, now, tz, tmp_path, overdue):
    from textual.command import CommandList

    deal_id, fid = overdue
    app = FunnelApp(store, lambda: now, tz=tz, lang="en", export_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")  # the deal
        await pilot.pause()
        assert isinstance(app.screen, DealScreen)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Snooze")
        await pilot.pause(0.3)
        prompts = [str(o.prompt) for o in app.screen.query_one(CommandList).options]
        assert any(p.startswith("Snooze +1d") for p in prompts)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert store.deal_follow_ups(deal_id, open_only=True)[0]["due_at"] == now + timedelta(days=1)
