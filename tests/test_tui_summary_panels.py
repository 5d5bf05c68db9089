"""Pilot tests of the Summary screen's panels: each shows what the store computes on seeded data
(trend, segments, KPIs, forecast), follows the rep selector, reads in a worker thread, shows
hostile text literally, and a deal to push opens the Deal screen."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from rich.console import Console
from textual.widgets import OptionList, Select, Static, TabbedContent

from funnel_tui.store import Store
from funnel_tui.store.summary import DealSet
from funnel_tui.tui.screens.deal import DealScreen
from funnel_tui.tui.screens.summary import ALL, SummaryScreen
from funnel_tui.tui.widgets.summary_blocks import amount_text
from funnel_tui.tui.widgets.summary_trend import CohortChart
from test_tui_summary import settle


@pytest.fixture
def seeded(db_path, now):
    """22 of my deals created on Wednesday 2026-11-04 (the week of 11-02): 12 from 展会, of
    which 9 moved to Qualified five days later, and 10 from referral, of which 3 did; one of
    展会's won. A deal of someone else's with a hostile customer and source."""
    store = Store(db_path)
    store.set_setting("me", "王磊")
    created = now - timedelta(days=20)
    for i in range(22):
        source = "展会" if i < 12 else "referral"
        d = store.add_deal({"customer": f"客户{i}", "amount": "1000", "owner": "王磊", "source": source},
                           now=created + timedelta(minutes=i))
        if i < 9 or 12 <= i < 15:
            store.move_deal(d, "qualified", now=created + timedelta(days=5, minutes=i))
        if i == 0:
            store.move_deal(d, "won", now=created + timedelta(days=8))
    evil = store.add_deal({"customer": "Evil [/]", "amount": "90000", "owner": "Acme [b]", "stage": "demo",
                           "source": "[@click=app.quit]x"}, now=now - timedelta(days=2))
    store.set_setting("evil_id", str(evil))
    yield store
    store.close()


def text_of(app, selector: str) -> str:
    """A block as the rep sees it (rendered wide, so nothing wraps)."""
    content = app.screen.query_one(selector, Static).content
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()


async def open_panel(pilot, key: str) -> SummaryScreen:
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)
    return pilot.app.screen


async def test_trend_panel_draws_the_stores_cohorts(seeded, tui_host, now, tz):
    app = tui_host(SummaryScreen, store=seeded)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_panel(pilot, "2")
        assert app.screen.query_one("#panels", TabbedContent).active == "pane-trend"
        expected = seeded.trend(now=now, tz=tz, owner="王磊", weeks=12, by="week")
        shown = screen.shown["trend"]
        assert [p["conversion"] for p in shown["periods"]] == [p["conversion"] for p in expected["periods"]]
        week = next(p for p in shown["periods"] if p["label"] == "11-02")
        assert week["conversion"]["lead"] == {"n": 12, "d": 22, "ratio": 12 / 22, "small_sample": False}
        charts = text_of(app, "#trend-charts")
        assert "Lead → Qualified" in charts and "12/22" in charts and "55%" in charts and "11-02" in charts
        assert "1/12*" not in charts
        flow = text_of(app, "#trend-flow")
        row = next(line for line in flow.splitlines() if line.strip().startswith("11-02"))
        assert row.split()[:4] == ["11-02", "22", "0", "0"]  # 22 new, the win came the week after
        assert "1,000" in next(line for line in flow.splitlines() if line.strip().startswith("11-09"))


def test_the_chart_shows_the_latest_periods_that_fit():
    cells = [{"n": i, "d": 11, "ratio": i / 11, "small_sample": False} for i in range(12)]
    labels = [f"w{i:02d}" for i in range(12)]
    wide, narrow = CohortChart("A → B", cells, labels).lines(200), CohortChart("A → B", cells, labels).lines(40)
    assert "w00" in wide[-1].plain and "0/11" in wide[-2].plain and "100%" in wide[-3].plain
    assert wide[1].plain.count("█") == 3  # the top row: only 11/11 fills it
    assert wide[3].plain.count(" ") > wide[3].plain.count("█")  # the bottom row: 0/11 is blank
    # 40 columns hold five periods of six: the latest five, and a note says so.
    assert "w06" not in narrow[-2].plain and narrow[-2].plain.split()[1:] == ["w07", "w08", "w09", "w10", "w11"]
    assert "latest 5 of 12" in narrow[-1].plain
    assert all(len(line.plain) <= 40 for line in narrow[:-1])  # the note wraps as any text


async def test_segments_panel_marks_best_and_worst(seeded, tui_host, now):
    app = tui_host(SummaryScreen, store=seeded)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_panel(pilot, "3")
        expected = seeded.segments(now=now, by="source", deals=DealSet(owner="王磊"))
        assert screen.shown["segments"]["segments"] == expected["segments"]
        table = text_of(app, "#segments-table")
        fair = next(line for line in table.splitlines() if "展会" in line)
        referral = next(line for line in table.splitlines() if "referral" in line)
        assert "12" in fair.split() and "9/12 75%▲" in fair
        assert "3/10 30%▼" in referral
        screen.query_one("#segment-by", Select).value = "new_vs_existing"
        await settle(pilot)
        assert screen.shown["segments"]["by"] == "new_vs_existing"
        assert "new customer" in text_of(app, "#segments-table")


async def test_kpis_panel(seeded, tui_host):
    app = tui_host(SummaryScreen, store=seeded)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_panel(pilot, "4")
        kpis = seeded.stage_kpis(deals=DealSet(owner="王磊"))
        assert screen.shown["kpis"]["kpis"] == kpis
        lead = next(line for line in text_of(app, "#kpis-table").splitlines() if line.strip().startswith("Lead"))
        # 22 reached Lead at 1,000 each; the 12 that left it stayed 5 days (median and mean).
        assert lead.split()[1:6] == ["22", "1,000", "5.0", "d", "5.0"]
        assert kpis["lead"]["median_days_in_stage"] == pytest.approx(5.0)
        assert "Sales cycle 8.0 d" in text_of(app, "#kpis-note")


async def test_forecast_panel_and_opening_a_deal_to_push(seeded, tui_host, now):
    app = tui_host(SummaryScreen, store=seeded)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        app.screen.query_one("#rep", Select).value = ALL
        screen = await open_panel(pilot, "5")
        f = seeded.forecast(now=now)
        assert screen.shown["forecast"]["water"] == f["water"]
        headline = text_of(app, "#forecast-headline")
        assert f"{f['open_deals']} open deals" in headline
        for key in ("probability_weighted", "history_weighted", "water"):
            assert amount_text(f[key]) in headline
        push = screen.query_one("#forecast-push", OptionList)
        wanted = [str(p["deal_id"]) for s in f["stages"] for p in s["push_first"]]
        assert [push.get_option_at_index(i).id for i in range(push.option_count)] == wanted
        evil = seeded.get_setting("evil_id")
        prompt = push.get_option(evil).prompt
        assert "Evil [/]" in prompt.plain and "Acme [b]" in prompt.plain
        push.focus()
        assert push.highlighted == 0  # Enter opens the first at once
        for _step in range(wanted.index(evil)):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DealScreen) and app.screen.deal_id == int(evil)
        assert not app.quit_called


async def test_panels_follow_the_rep_and_read_off_the_ui_thread(seeded, tui_host, monkeypatch):
    threads = []
    real = seeded.trend

    def trend(**kwargs):
        threads.append(threading.current_thread() is threading.main_thread())
        return real(**kwargs)

    monkeypatch.setattr(seeded, "trend", trend)
    app = tui_host(SummaryScreen, store=seeded)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_panel(pilot, "right_square_bracket")
        assert screen.active_panel == "trend" and screen.shown["trend"]["owner"] == "王磊"
        screen.query_one("#rep", Select).value = ALL
        await settle(pilot)
        assert screen.shown["trend"]["owner"] is None  # read again for everyone
        assert threads == [False, False]
        await pilot.press("left_square_bracket")
        assert screen.active_panel == "funnel"
        await pilot.press("5")
        await settle(pilot)
        assert screen.active_panel == "forecast"
        await pilot.press("1")
        assert screen.active_panel == "funnel"
        await pilot.press("2")  # already read for this choice: not read again
        await settle(pilot)
        assert threads == [False, False]


async def test_every_panel_on_an_empty_database(db_path, tui_host):
    store = Store(db_path)
    try:
        app = tui_host(SummaryScreen, store=store)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            for key in "2345":
                await pilot.press(key)
                await settle(pilot)
            screen = app.screen
            assert all(p["conversion"]["lead"]["d"] == 0 for p in screen.shown["trend"]["periods"])
            assert screen.shown["segments"]["segments"] == []
            assert "No deals in this period." in text_of(app, "#segments-note")
            assert screen.shown["forecast"]["open_deals"] == 0
            assert "No open deals to push." in text_of(app, "#forecast-push-title")
            assert not screen.query_one("#forecast-push", OptionList).display
    finally:
        store.close()
