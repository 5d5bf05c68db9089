"""SVG snapshots of every screen at 80×24, 120×30 and 160×45: the seeded demo pipeline, a
fixed clock and zone.

pytest-textual-snapshot needs pytest < 9, so this is a tiny helper of our own: render,
`app.export_screenshot()`, compare with tests/snapshots/<name>.svg. One file per screen holds
its three sizes stacked (one app run, resized twice: fast, and few files). To accept a change
on purpose, run with SNAPSHOT_UPDATE=1 and look at the new files before committing them
(`rsvg-convert tests/snapshots/board.svg -o /tmp/board.png`).
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Awaitable, Callable
from zoneinfo import ZoneInfo

import pytest
from helpers_tui import private_copy, seeded_demo, settle
from textual.widgets import Input

from funnel_tui.store import Store
from funnel_tui.tui.app import FunnelApp

SNAPSHOTS = Path(__file__).parent / "snapshots"
SIZE = (160, 45)
SIZES = ((80, 24), (120, 30), (160, 45))
# FUNNEL_NOW=2026-11-24T09:00:00+08:00: a Tuesday morning in Shanghai.
NOW = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    """The demo pipeline (seed 7), built once per module."""
    return seeded_demo(tmp_path_factory.mktemp("demo") / "demo.db", now=NOW)


@pytest.fixture
def demo_store(demo_db, tmp_path):
    """A private copy per test."""
    with private_copy(demo_db, tmp_path) as store:
        yield store


def check_snapshot(name: str, svg: str, tmp_path: Path) -> None:
    """Compare with the stored SVG; SNAPSHOT_UPDATE=1 rewrites it instead."""
    stored = SNAPSHOTS / f"{name}.svg"
    if os.environ.get("SNAPSHOT_UPDATE") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        stored.write_text(svg, encoding="utf-8")
        return
    assert stored.exists(), f"no snapshot {stored}; run with SNAPSHOT_UPDATE=1 to create it"
    if stored.read_text(encoding="utf-8") != svg:
        actual = tmp_path / f"{name}.actual.svg"
        actual.write_text(svg, encoding="utf-8")
        pytest.fail(f"{name} differs from {stored}; the new rendering is {actual} "
                    "(SNAPSHOT_UPDATE=1 accepts it)")


def stack(svgs: list[str]) -> str:
    """One SVG showing several screenshots one under the other."""
    placed, y, width = [], 0.0, 0.0
    for svg in svgs:
        w, h = map(float, re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups())
        placed.append(svg.replace("<svg ", f'<svg x="0" y="{y}" width="{w}" height="{h}" ', 1))
        y, width = y + h + 20, max(width, w)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {y}" '
            f'width="{width}" height="{y}">\n' + "\n".join(placed) + "\n</svg>\n")


Prepare = Callable[[FunnelApp, object], Awaitable[None]]


async def nothing(app, pilot) -> None:
    return None


async def render(app: FunnelApp, *keys: str) -> str:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        return app.export_screenshot(title="funnel")


async def render_sizes(app: FunnelApp, prepare: Prepare = nothing, *keys: str) -> str:
    """The screen after `prepare` and `keys`, at each of SIZES (resized in one run)."""
    shots = []
    async with app.run_test(size=SIZES[0]) as pilot:
        await settle(pilot)
        await prepare(app, pilot)
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        for width, height in SIZES:
            await pilot.resize_terminal(width, height)
            await settle(pilot)
            for field in app.screen.query("Input, TextArea"):
                field.cursor_blink = False  # a blinking cursor is on or off by chance
            await pilot.pause()
            shots.append(app.export_screenshot(title=f"funnel {width}×{height}"))
    return stack(shots)


def app_for(store, lang: str = "en") -> FunnelApp:
    return FunnelApp(store, lambda: NOW, tz=TZ, lang=lang)


def pushing(make_screen) -> Prepare:
    """A `prepare` that opens a screen or form made from the app's store."""
    async def prepare(app, pilot) -> None:
        await app.push_screen(make_screen(app.store))
    return prepare


def first_due_deal(store) -> int:
    due = store.due(now=NOW, within="3d")
    return due[0].deal_id if due else store.list_deals(limit=1)[0]["id"]


# --- the board ----------------------------------------------------------------------------


async def test_board(demo_store, tmp_path):
    check_snapshot("board", await render_sizes(app_for(demo_store)), tmp_path)


async def test_board_lost_shown_cursor_in_negotiation(demo_store, tmp_path):
    svg = await render(app_for(demo_store), "right", "right", "right", "z", "j")
    check_snapshot("board_lost_negotiation", svg, tmp_path)


async def test_board_in_chinese(demo_store, tmp_path):
    check_snapshot("board_zh", await render_sizes(app_for(demo_store, "zh")), tmp_path)


async def test_board_scrolled_to_the_last_column(demo_store, tmp_path):
    """At 80×24 ← → move a window of three columns; here it shows the last three."""
    svg = await render_sizes(app_for(demo_store), nothing, *["right"] * 5)
    check_snapshot("board_last_column", svg, tmp_path)


async def test_empty_board_says_what_to_do(tmp_path):
    store = Store(tmp_path / "empty.db")
    try:
        check_snapshot("board_empty", await render_sizes(app_for(store)), tmp_path)
    finally:
        store.close()


async def test_help(demo_store, tmp_path):
    check_snapshot("board_help", await render_sizes(app_for(demo_store), nothing, "question_mark"), tmp_path)


async def test_search_results(demo_store, tmp_path):
    async def search(app, pilot) -> None:
        await pilot.press("slash")
        await pilot.pause()
        field = app.screen.query_one(Input)
        field.cursor_blink = False
        field.value = "科技"

    check_snapshot("board_search", await render_sizes(app_for(demo_store), search), tmp_path)


# --- the other screens ---------------------------------------------------------------------


async def test_deal_screen(demo_store, tmp_path):
    from funnel_tui.tui.screens.deal import DealScreen

    svg = await render_sizes(app_for(demo_store), pushing(lambda store: DealScreen(first_due_deal(store))))
    check_snapshot("deal", svg, tmp_path)


async def test_today_screen(demo_store, tmp_path):
    from funnel_tui.tui.screens.today import TodayScreen

    check_snapshot("today", await render_sizes(app_for(demo_store), pushing(lambda store: TodayScreen())), tmp_path)


async def test_summary_screen(demo_store, tmp_path):
    from funnel_tui.tui.screens.summary import SummaryScreen

    svg = await render_sizes(app_for(demo_store), pushing(lambda store: SummaryScreen()))
    check_snapshot("summary", svg, tmp_path)


async def test_import_screen_in_chinese(demo_store, tmp_path, monkeypatch):
    """The Chinese template as Excel saves it (GBK, 2024/6/14 15:16): profile, encoding, the
    columns named in Chinese, the first rows as they will be stored; nothing written."""
    from funnel_tui.tui.screens.import_file import ImportScreen

    monkeypatch.chdir(Path(__file__).parent.parent)  # the path field shows a path that is the same on every machine
    before = len(demo_store.list_deals(status="all"))
    app = app_for(demo_store, "zh")
    svg = await render_sizes(app, pushing(lambda store: ImportScreen("tests/data/crm/template_zh_excel_gbk.csv")))
    check_snapshot("import_zh", svg, tmp_path)
    assert len(demo_store.list_deals(status="all")) == before


# --- forms and dialogs ---------------------------------------------------------------------


async def test_new_deal_form_warns_of_the_same_customer(demo_store, tmp_path):
    """Typed 华信科技 beside the demo's 华信科技 deals: the warning, and a first follow-up."""
    from funnel_tui.tui.forms import DealForm

    async def fill(app, pilot) -> None:
        store = app.store
        form = DealForm(store.stages(), now=NOW, tz=TZ, lang="en",
                        similar=lambda name: store.similar_customers(name, limit=3))
        await app.push_screen(form)
        await pilot.pause()
        for wid, value in (("#f-customer", "华信科技有限公司"), ("#f-first-when", "fri 10:00"),
                           ("#f-first-note", "send the pilot proposal")):
            field = form.query_one(wid, Input)
            field.cursor_blink = False
            field.value = value
        await pilot.pause(0.5)  # the lookup waits for typing to stop

    check_snapshot("deal_form", await render_sizes(app_for(demo_store), fill), tmp_path)


async def test_log_form(demo_store, tmp_path):
    from funnel_tui.tui.forms import TouchForm

    svg = await render_sizes(app_for(demo_store), pushing(
        lambda store: TouchForm(1, store.get_deal(1)["customer"], now=NOW, tz=TZ, default_next=NOW)))
    check_snapshot("log_form", svg, tmp_path)


async def test_follow_up_form(demo_store, tmp_path):
    from funnel_tui.tui.forms import FollowUpForm

    svg = await render_sizes(app_for(demo_store), pushing(
        lambda store: FollowUpForm(1, store.get_deal(1)["customer"], now=NOW, tz=TZ)))
    check_snapshot("follow_up_form", svg, tmp_path)


async def test_lose_and_confirm_dialogs(demo_store, tmp_path):
    from funnel_tui.tui.forms import ConfirmDialog, LoseForm

    svg = await render_sizes(app_for(demo_store), pushing(lambda store: LoseForm(store.get_deal(1)["customer"])))
    check_snapshot("lose_form", svg, tmp_path)
    svg = await render_sizes(app_for(demo_store), pushing(lambda store: ConfirmDialog("Mark 华信科技 as won (Won)?")))
    check_snapshot("confirm_dialog", svg, tmp_path)


def test_snapshot_helper_can_fail(tmp_path, monkeypatch):
    """The comparison really compares (a changed rendering fails and is kept for a look)."""
    monkeypatch.setattr(f"{__name__}.SNAPSHOTS", tmp_path)
    monkeypatch.delenv("SNAPSHOT_UPDATE", raising=False)
    (tmp_path / "x.svg").write_text("<svg>old</svg>", encoding="utf-8")
    with pytest.raises(pytest.fail.Exception, match="x differs"):
        check_snapshot("x", "<svg>new</svg>", tmp_path)
    assert (tmp_path / "x.actual.svg").read_text(encoding="utf-8") == "<svg>new</svg>"
    check_snapshot("x", "<svg>old</svg>", tmp_path)


def test_stacked_snapshots_keep_each_size():
    one = '<svg class="rich-terminal" viewBox="0 0 100 50" xmlns="http://www.w3.org/2000/svg"></svg>'
    two = '<svg class="rich-terminal" viewBox="0 0 200 80" xmlns="http://www.w3.org/2000/svg"></svg>'
    out = stack([one, two])
    assert 'viewBox="0 0 200.0 170.0"' in out
    assert 'y="0.0" width="100.0" height="50.0"' in out and 'y="70.0" width="200.0" height="80.0"' in out
