"""Pilot tests: the Stages screen (from the palette), the playbook checklist on the Deal screen,
the card's progress badge, the question before moving on with key actions undone, and
switching pipelines on the board, Today and Summary."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers_tui import settle
from textual.widgets import Input, Label, OptionList, Static

from funnel_tui.domain.validation import FollowUpDraft
from funnel_tui.tui.app import FunnelApp
from funnel_tui.tui.forms import ConfirmDialog
from funnel_tui.tui.screens.board import BoardScreen
from funnel_tui.tui.screens.deal import DealScreen
from funnel_tui.tui.screens.stages import StagesScreen
from funnel_tui.tui.screens.summary import SummaryScreen
from funnel_tui.tui.screens.today import TodayScreen
from funnel_tui.tui.widgets.stage_column import DealOption

SIZE = (160, 45)


async def opened(pilot) -> None:
    """A form or dialog is up (its worker waits on it: settle() would wait forever)."""
    for _ in range(3):
        await pilot.pause()


def make_app(store, now, tz, tmp_path, lang="en") -> FunnelApp:
    return FunnelApp(store, lambda: now, tz=tz, lang=lang, export_dir=tmp_path)


def toasts(app) -> list[str]:
    return [n.message for n in app._notifications]


def listed(app) -> list[str]:
    ol = app.screen.query_one("#stage-list", OptionList)
    return [ol.get_option_at_index(i).stage.key for i in range(ol.option_count)]


def board(app) -> BoardScreen:
    return app.screen_stack[0]


def column_keys(app) -> list[str]:
    return [c.stage.key for c in board(app).columns]


@pytest.fixture
def deals(store, now, tz):
    ids = {
        "acme": store.add_deal({"customer": "Acme", "amount": "1000"}, now=now - timedelta(days=2), tz=tz),
        "nego": store.add_deal({"customer": "Globex", "stage": "negotiation"}, now=now - timedelta(days=3), tz=tz),
    }
    store.add_follow_up(FollowUpDraft(ids["acme"], now - timedelta(hours=1)), now=now - timedelta(days=1))
    return ids


async def open_stages_from_the_palette(pilot) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause()
    for ch in "Stages":
        await pilot.press(ch)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


# --- the Stages screen -------------------------------------------------------------------------


async def test_stages_screen_opens_from_the_palette_and_shows_the_playbook(store, deals, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await open_stages_from_the_palette(pilot)
        assert isinstance(app.screen, StagesScreen)
        assert listed(app) == ["lead", "qualified", "demo", "negotiation", "won", "expansion"]
        await pilot.press("down", "down", "down")
        await pilot.pause()
        pane = app.screen.query_one("#playbook", Static).content.plain
        assert "Negotiate the contract terms" in pane and "合同条款谈判" in pane and "Key actions" in pane


async def test_add_edit_move_on_the_stages_screen_write_history_and_undo(store, deals, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.action_open_stages()
        await settle(pilot)
        await pilot.press("down")  # qualified
        await pilot.press("a")
        await opened(pilot)
        form = app.screen
        form.query_one("#f-key", Input).value = "trial"
        form.query_one("#f-name", Input).value = "Trial"
        form.query_one("#f-name_zh", Input).value = "试用"
        form.query_one("#f-actions", Input).value = "Open the account; Weekly check-in"
        form.query_one("#f-max_dwell_days", Input).value = "0"
        await pilot.press("ctrl+s")
        await opened(pilot)
        assert form.error_text("max_dwell_days")  # refused in the form: nothing written
        assert "trial" not in {s.key for s in store.all_stages()}
        form.query_one("#f-max_dwell_days", Input).value = "10"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert listed(app)[:4] == ["lead", "qualified", "trial", "demo"]
        trial = store.stage("trial")
        assert (trial.name_zh, trial.max_dwell_days, trial.items("actions")) == \
            ("试用", 10, ["Open the account", "Weekly check-in"])
        await pilot.press("K")  # trial one place earlier
        await settle(pilot)
        assert listed(app)[:3] == ["lead", "trial", "qualified"]
        await pilot.press("e")
        await opened(pilot)
        app.screen.query_one("#f-name", Input).value = "Pilot"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert store.stage("trial").name == "Pilot"
        for _step in range(3):
            await pilot.press("u")
            await settle(pilot)
        assert "trial" not in {s.key for s in store.all_stages()}
        assert listed(app)[:3] == ["lead", "qualified", "demo"]
        # Back on the board, the columns follow the stages.
        await pilot.press("escape")
        await settle(pilot)
        assert column_keys(app) == ["lead", "qualified", "demo", "negotiation", "won", "expansion"]


async def test_split_on_the_stages_screen_moves_the_deals_and_the_board_follows(store, deals, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.action_open_stages()
        await settle(pilot)
        await pilot.press("down", "down", "down", "s")
        await opened(pilot)
        app.screen.query_one("#f-parts", Input).value = "terms:条款谈判 price:价格确认"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert listed(app)[3:5] == ["terms", "price"]
        assert store.get_deal(deals["nego"])["stage"] == "terms"
        assert any("split negotiation into terms, price" in t and "1 deal(s) moved" in t for t in toasts(app))
        await pilot.press("escape")
        await settle(pilot)
        assert column_keys(app)[3:5] == ["terms", "price"]
        assert deals["nego"] in [o.deal_id for o in board(app).column("terms").cards.options
                                 if isinstance(o, DealOption)]


async def test_archive_with_open_deals_is_refused_with_the_count(store, deals, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.action_open_stages()
        await settle(pilot)
        await pilot.press("down", "down", "down", "A")  # negotiation: Globex sits there
        await opened(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert not store.stage("negotiation").archived
        assert any("1 open deal(s)" in t and "funnel stages merge negotiation INTO demo" in t for t in toasts(app))
        await pilot.press("up", "A")  # demo is empty
        await opened(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert store.stage("demo").archived and "demo" not in listed(app)
        # Merge and split are offered only where they can act: won has no split.
        await pilot.press("up")
        await pilot.pause()


# --- the checklist on the Deal screen ------------------------------------------------------------


async def test_ticking_the_playbook_is_stored_in_history_and_shown_on_the_card(store, deals, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        board(app).highlight(deals["acme"], "lead")
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, DealScreen)
        assert "Playbook · Lead 0/4" in str(app.screen.query_one("#checklist-title", Label).render())
        await pilot.press("c", "down", "space")  # entry condition's line, then the first key action
        await settle(pilot)
        assert store.ticks(deals["acme"], "lead") == {"actions.0"}
        row = store.deal_history(deals["acme"])[-1]
        assert (row["kind"], row["field"], row["new"]) == ("field", "check:lead:actions.0", "1")
        assert "ticked: First needs research" in app.screen.query_one("#timeline", Static).content.plain
        assert "1/4" in str(app.screen.query_one("#checklist-title", Label).render())
        await pilot.press("escape")
        await settle(pilot)
        card = next(o for o in board(app).column("lead").cards.options
                    if isinstance(o, DealOption) and o.deal_id == deals["acme"])
        assert "☑1/4" in card.prompt.plain
        # Moving on with a key action unticked asks first; no keeps the deal where it is.
        board(app).highlight(deals["acme"], "lead")
        await pilot.press("L")
        await opened(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "key actions not done: Send the product brief; move anyway?" in app.screen.question
        await pilot.press("n")
        await settle(pilot)
        assert store.get_deal(deals["acme"])["stage"] == "lead"
        await pilot.press("L")
        await opened(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert store.get_deal(deals["acme"])["stage"] == "qualified"


async def test_a_deal_nobody_ticked_moves_without_a_question(store, deals, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        board(app).highlight(deals["acme"], "lead")
        await pilot.press("L")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        assert store.get_deal(deals["acme"])["stage"] == "qualified"


async def test_the_checklist_in_chinese(store, deals, now, tz, tui_host):
    from funnel_tui.i18n import activate

    activate("zh")  # the host stands in for the app, which does this at start (conftest resets it)
    app = tui_host(lambda: DealScreen(deals["nego"]), lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        ol = app.screen.query_one("#checklist", OptionList)
        lines = [str(ol.get_option_at_index(i).prompt) for i in range(ol.option_count)]
        assert "☐ 合同条款谈判" in lines and "关键动作" in lines


# --- pipelines -------------------------------------------------------------------------------------


@pytest.fixture
def renewals(store, now, tz, deals):
    store.add_pipeline("renewals", name="Renewals", name_zh="续费", now=now,
                       parts=[("renew-due", "Due", "到期提醒"), ("renewed", "Renewed", "续费成功")])
    old = store.add_deal({"customer": "Old Co"}, now=now - timedelta(days=1), tz=tz, pipeline="renewals")
    store.add_follow_up(FollowUpDraft(old, now - timedelta(hours=2)), now=now - timedelta(days=1))
    return old


async def test_P_switches_the_board_today_and_summary_to_the_next_pipeline(store, renewals, deals, now, tz,
                                                                            tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert column_keys(app)[0] == "lead"
        assert "New business" in str(board(app).query_one("#board-title", Static).render())
        await pilot.press("P")
        await settle(pilot)
        assert column_keys(app) == ["renew-due", "renewed"]
        assert renewals in [o.deal_id for o in board(app).column("renew-due").cards.options
                            if isinstance(o, DealOption)]
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TodayScreen)
        ol = app.screen.query_one("#today-list", OptionList)
        text = "\n".join(str(ol.get_option_at_index(i).prompt) for i in range(ol.option_count))
        assert "Old Co" in text and "Acme" not in text
        await pilot.press("P")  # back to new business, here too
        await settle(pilot)
        text = "\n".join(str(ol.get_option_at_index(i).prompt) for i in range(ol.option_count))
        assert "Acme" in text and "Old Co" not in text
        await pilot.press("escape")
        await settle(pilot)
        assert column_keys(app)[0] == "lead"
        await pilot.press("P", "s")
        await settle(pilot)
        assert isinstance(app.screen, SummaryScreen)
        assert [s["key"] for s in app.screen.shown["summary"]["stages"]] == ["renew-due", "renewed"]


async def test_with_one_pipeline_P_shows_nowhere(store, deals, now, tz, tmp_path):
    from funnel_tui.tui.help import help_rows

    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert board(app).check_action("switch_pipeline", ()) is False
        assert not any(what == "Pipeline" for _keys, what, _more in help_rows(board(app)))
        await pilot.press("P")
        await settle(pilot)
        assert column_keys(app)[0] == "lead"
