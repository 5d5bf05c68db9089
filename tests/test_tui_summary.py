"""Pilot tests of the Summary screen: what it shows for me, all reps, side by side, a period."""

from __future__ import annotations

import io

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console
from textual.widgets import Select, Static

from funnel_tui.store import Store
from funnel_tui.tui.screens.summary import ALL, COMPARE, ME, SummaryScreen

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)  # Tuesday 10:00 in Shanghai
TZ = ZoneInfo("Asia/Shanghai")


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture
def filled(db_path):
    store = Store(db_path)
    store.set_setting("me", "王磊")
    a = store.add_deal({"customer": "华信科技", "amount": "1054", "owner": "王磊", "source": "展会"}, now=ago(400))
    store.move_deal(a, "negotiation", now=ago(395))
    store.move_deal(a, "won", now=ago(390))
    for i in range(3):
        d = store.add_deal({"customer": f"Lead {i}", "amount": "1000", "owner": "王磊", "source": "referral"},
                           now=ago(10 + i))
        if i == 0:
            store.move_deal(d, "qualified", now=ago(8))
    lost = store.add_deal({"customer": "B", "amount": "500", "owner": "王磊", "stage": "demo"}, now=ago(12))
    store.lose_deal(lost, "price", now=ago(1))
    evil = store.add_deal({"customer": "Evil [/]", "amount": "80", "owner": "Acme [/]",
                           "source": "[@click=app.quit]x"}, now=ago(2))
    store.lose_deal(evil, "[bold]pricey[/bold]", now=ago(1))
    yield store
    store.close()


async def settle(pilot) -> None:
    for _ in range(4):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def shown(app, block: str) -> str:
    """The block's text as the rep sees it (rendered wide, so nothing wraps)."""
    content = app.screen.query_one(f"#{block}", Static).content
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()


async def test_opens_on_my_funnel(filled, tui_host):
    app = tui_host(SummaryScreen, store=filled)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SummaryScreen)
        assert screen.query_one("#rep", Select).value == ME
        status = shown(app, "status")
        assert "王磊" in status and "5 deals" in status and "All time" in status
        funnel = shown(app, "funnel")
        # 5 of mine reached Lead; 3 Qualified (won one, lost one in demo, one moved); 2 Demo.
        assert "Lead" in funnel and "↓ 3/5 · 60 % *" in funnel and "↓ 2/3 · 67 % *" in funnel
        assert "Weakest step: Demo / Proposal → Negotiation  1/2 · 50 % *" in funnel
        stages = shown(app, "stages")
        assert "Negotiation" in stages and "1/2 · 50 % *" in stages
        totals = shown(app, "totals")
        assert "1 / 1" in totals and "1/2 · 50 % *" in totals and "1,054" in totals
        assert "Tiers" in totals
        breakdown = shown(app, "breakdown")
        assert "price" in breakdown and "展会" in breakdown and "referral" in breakdown
        assert "Acme" not in breakdown  # someone else's deal
        week = shown(app, "week")
        assert "This week" in week and "Wins" in week and "Losses" in week


async def test_all_reps_shows_hostile_text_literally(filled, tui_host):
    app = tui_host(SummaryScreen, store=filled)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot)
        app.screen.query_one("#rep", Select).value = ALL
        await settle(pilot)
        assert "6 deals" in shown(app, "status")
        breakdown = shown(app, "breakdown")
        assert "[bold]pricey[/bold]" in breakdown and "[@click=app.quit]x" in breakdown
        assert app.is_running  # nothing ran from the hostile source name
        assert app.screen.shown["summary"]["lost"] == 2


async def test_reps_side_by_side(filled, tui_host):
    app = tui_host(SummaryScreen, store=filled)
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        app.screen.query_one("#rep", Select).value = COMPARE
        await settle(pilot)
        table = shown(app, "funnel")
        assert "Reps side by side" in table
        lines = [line for line in table.splitlines() if "王磊" in line or "Acme [/]" in line]
        assert len(lines) == 2
        mine = next(line for line in lines if "王磊" in line)
        assert "1,054" in mine and "3/5 · 60 % *" in mine
        assert shown(app, "stages").strip() == ""


async def test_one_rep_and_a_period(filled, tui_host):
    app = tui_host(SummaryScreen, store=filled)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot)
        rep = app.screen.query_one("#rep", Select)
        assert "Acme [/]" in [value for _, value in rep._options]
        rep.value = "Acme [/]"
        await settle(pilot)
        assert "Acme [/]" in shown(app, "status") and "1 deals" in shown(app, "status")
        rep.value = ME
        app.screen.query_one("#period", Select).value = "30d"
        await settle(pilot)
        status = shown(app, "status")
        assert "Last 30 days" in status and "4 deals" in status  # the 400-day-old win is out
        assert app.screen.shown["summary"]["won"] == 0


async def test_keys_and_back(filled, tui_host):
    app = tui_host(SummaryScreen, store=filled)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        assert app.focused is app.screen.query_one("#period", Select)
        await pilot.press("r")
        assert app.focused is app.screen.query_one("#rep", Select)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, SummaryScreen)


async def test_empty_database_and_no_me(db_path, tui_host):
    store = Store(db_path)
    try:
        app = tui_host(SummaryScreen, store=store)
        async with app.run_test(size=(160, 60)) as pilot:
            await settle(pilot)
            assert app.screen.query_one("#rep", Select).value == ALL  # no "me" set: everyone
            assert "0 deals" in shown(app, "status")
            assert "No bottleneck" in shown(app, "week")
    finally:
        store.close()


async def test_summary_speaks_chinese_stage_names_in_zh(store, now, tz):
    from funnel_tui.tui.app import FunnelApp

    store.add_deal({"customer": "华信科技", "amount": "1000", "stage": "demo"}, now=now - timedelta(days=3))
    app = FunnelApp(store, lambda: now, tz=tz, lang="zh")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        app.push_screen(SummaryScreen())
        await settle(pilot)
        text = shown(app, "funnel") + shown(app, "stages")
        assert "潜在线索" in text and "方案演示" in text
        assert "Demo / Proposal" not in text
        assert app.sub_title == "汇总"
