"""Issue 17, lessons in the TUI: the win's question and the lost form take an optional lesson
(written with the win or the loss: one undo), the Deal screen's `k` writes or changes one
later, and the Summary's Lessons panel lists them by stage and reason — literally."""

from __future__ import annotations

import io

from rich.console import Console
from textual.widgets import Input, Select

from funnel_tui.tui.forms import ConfirmDialog, LoseForm
from funnel_tui.tui.forms.lesson import LessonForm, WinDialog
from funnel_tui.tui.screens.deal import DealScreen
from funnel_tui.tui.screens.summary import SummaryScreen
from funnel_tui.tui.widgets.lessons_panel import LessonsPanel
from textual.widgets import Static
from test_tui_board import board, make_app, settle, toasts

SIZE = (160, 45)


def panel_text(app) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(app.screen.query_one(LessonsPanel).query_one("#lessons-text", Static).content)
    return console.export_text()


async def test_winning_with_a_lesson_writes_both_in_one_step(store, now, tz, tmp_path):
    deal = store.add_deal({"customer": "Acme", "stage": "negotiation"}, now=now)
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert board(app).highlight(deal, "negotiation")
        await pilot.press("L")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, WinDialog) and isinstance(dialog, ConfirmDialog)
        await pilot.press("tab")  # from Yes to the lesson
        assert dialog.focused is dialog.query_one("#f-lesson", Input)
        await pilot.press(*"CFO in the demo [b]x[/b]")
        await pilot.press("enter")  # Enter in the lesson says yes
        await settle(pilot)
        assert store.get_deal(deal)["status"] == "won"
        lesson = store.lesson(deal)
        assert (lesson["outcome"], lesson["stage"], lesson["text"]) == ("won", "negotiation", "CFO in the demo [b]x[/b]")
        await pilot.press("u")  # one undo: the win and its lesson
        await settle(pilot)
        assert store.get_deal(deal)["status"] == "open" and store.lesson(deal) is None


async def test_winning_without_a_lesson_is_as_before(store, now, tz, tmp_path):
    deal = store.add_deal({"customer": "Acme", "stage": "negotiation"}, now=now)
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert board(app).highlight(deal, "negotiation")
        await pilot.press("L")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert store.get_deal(deal)["status"] == "won" and store.lesson(deal) is None


async def test_losing_with_a_lesson(store, now, tz, tmp_path):
    deal = store.add_deal({"customer": "华信科技", "stage": "demo"}, now=now)
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert board(app).highlight(deal, "demo")
        await pilot.press("X")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, LoseForm)
        form.query_one("#f-reason", Select).value = "price"
        form.query_one("#f-lesson", Input).value = "报价前先\x1b[31m摸底"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert store.get_deal(deal)["lost_reason"] == "price"
        lesson = store.lesson(deal)
        assert (lesson["stage"], lesson["reason"], lesson["text"]) == ("demo", "price", "报价前先摸底")
        assert "华信科技: lost (price)" in toasts(app)


async def test_a_too_long_lesson_keeps_the_form_open(store, now, tz, tui_host):
    app = tui_host()
    async with app.run_test(size=SIZE) as pilot:
        form = LoseForm("Acme")
        app.open(form)
        await pilot.pause()
        form.query_one("#f-reason", Select).value = "price"
        form.query_one("#f-lesson", Input).value = "长" * 2001
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and "at most 2000" in form.error_text("lesson")


async def test_the_deal_screen_writes_and_changes_the_lesson_later(store, now, tz, tui_host):
    deal = store.add_deal({"customer": "Initech", "stage": "demo"}, now=now)
    app = tui_host(lambda: DealScreen(deal))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not app.screen.check_action("lesson", ())  # an open deal has no lesson yet
        store.lose_deal(deal, "timing", now=now)
        app.screen.reload()
        await pilot.press("k")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, LessonForm)
        await pilot.press(*"next fiscal year")
        await pilot.press("enter")
        await settle(pilot)
        assert store.lesson(deal)["text"] == "next fiscal year"
        assert "lesson: next fiscal year" in app.screen.query_one("#timeline").content.plain
        await pilot.press("k")
        await pilot.pause()
        assert app.screen.query_one("#f-lesson", Input).value == "next fiscal year"  # the form opens on it
        await pilot.press("!")
        assert app.screen.query_one("#f-lesson", Input).value == "next fiscal year!"  # typed at its end
        app.screen.query_one("#f-lesson", Input).value = ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, LessonForm) and "write what the deal taught" in app.screen.error_text("lesson")
        await pilot.press("escape")
        await pilot.pause()
        assert store.lesson(deal)["text"] == "next fiscal year"


async def test_the_summary_panel_lists_lessons_by_stage_and_reason_literally(store, now, tz, tui_host):
    a = store.add_deal({"customer": "[@click=app.quit]Evil[/]", "stage": "demo"}, now=now)
    b = store.add_deal({"customer": "华信科技", "stage": "demo"}, now=now)
    c = store.add_deal({"customer": "Acme", "stage": "negotiation"}, now=now)
    store.lose_deal(a, "price", now=now, lesson="[bold red]too[/] pricey")
    store.lose_deal(b, "预算", now=now, lesson="先确认预算")
    store.move_deal(c, "won", now=now, lesson="CFO early")
    app = tui_host(SummaryScreen)
    async with app.run_test(size=(160, 80)) as pilot:
        await settle(pilot)
        await pilot.press("6")  # the Lessons tab
        await settle(pilot)
        text = panel_text(app)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        assert lines[0] == "Lessons (复盘)"
        heads = [line for line in lines if not line.startswith("#")]
        # losses first, stages in funnel order, reasons by code (budget, price)
        assert heads[1:] == ["lost · Demo / Proposal · no budget (1)", "lost · Demo / Proposal · price (1)",
                             "won · Negotiation (1)"]
        assert f"#{a} [@click=app.quit]Evil[/] — [bold red]too[/] pricey" in lines
        assert f"#{b} 华信科技 — 先确认预算" in lines
        assert not app.quit_called


async def test_the_panel_in_chinese_and_when_empty(store, now, tz, tui_host):
    app = tui_host(SummaryScreen, lang="zh")
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        assert "还没有复盘心得" in panel_text(app)
    d = store.add_deal({"customer": "华信科技", "stage": "demo"}, now=now)
    store.lose_deal(d, "price", now=now, lesson="报价前先摸底")
    app = tui_host(SummaryScreen, lang="zh")
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        text = panel_text(app)
        assert "复盘心得" in text and "方案演示 · 价格 (1)" in text and "报价前先摸底" in text
