"""SVG snapshots of stable board states: 160x45, the seeded demo pipeline, a fixed clock.

pytest-textual-snapshot needs pytest < 9, so this is a tiny helper of our own: render,
`app.export_screenshot()`, compare with tests/snapshots/<name>.svg. To accept a change on
purpose, run with SNAPSHOT_UPDATE=1 and look at the new files before committing them.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from textual.widgets import Input
from textual.worker import WorkerCancelled

from funnel_tui.exchange.demo import fill_demo
from funnel_tui.store import Store
from funnel_tui.tui.app import FunnelApp

SNAPSHOTS = Path(__file__).parent / "snapshots"
SIZE = (160, 45)
# FUNNEL_NOW=2026-11-24T09:00:00+08:00: a Tuesday morning in Shanghai.
NOW = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    """The demo pipeline (seed 7), built once per module."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    store = Store(path)
    fill_demo(store, deals=60, seed=7, now=NOW)
    store.close()
    return path


@pytest.fixture
def demo_store(demo_db, tmp_path):
    """A private copy per test (SQLite's backup API: a file copy could miss the WAL)."""
    copy = tmp_path / "demo.db"
    src, dst = sqlite3.connect(demo_db), sqlite3.connect(copy)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    store = Store(copy)
    yield store
    store.close()


async def settle(pilot) -> None:
    for _ in range(4):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            continue
        await pilot.pause()


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


async def render(app: FunnelApp, *keys: str) -> str:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        return app.export_screenshot(title="funnel")


def app_for(store, lang: str = "en") -> FunnelApp:
    return FunnelApp(store, lambda: NOW, tz=TZ, lang=lang)


async def test_board(demo_store, tmp_path):
    check_snapshot("board", await render(app_for(demo_store)), tmp_path)


async def test_board_lost_shown_cursor_in_negotiation(demo_store, tmp_path):
    svg = await render(app_for(demo_store), "right", "right", "right", "z", "j")
    check_snapshot("board_lost_negotiation", svg, tmp_path)


async def test_board_in_chinese(demo_store, tmp_path):
    check_snapshot("board_zh", await render(app_for(demo_store, "zh")), tmp_path)


async def test_help(demo_store, tmp_path):
    check_snapshot("board_help", await render(app_for(demo_store), "question_mark"), tmp_path)


async def test_search_results(demo_store, tmp_path):
    app = app_for(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.pause()
        field = app.screen.query_one(Input)
        field.cursor_blink = False
        field.value = "科技"
        await settle(pilot)
        svg = app.export_screenshot(title="funnel")
    check_snapshot("board_search", svg, tmp_path)


def test_snapshot_helper_can_fail(tmp_path, monkeypatch):
    """The comparison really compares (a changed rendering fails and is kept for a look)."""
    monkeypatch.setattr(f"{__name__}.SNAPSHOTS", tmp_path)
    monkeypatch.delenv("SNAPSHOT_UPDATE", raising=False)
    (tmp_path / "x.svg").write_text("<svg>old</svg>", encoding="utf-8")
    with pytest.raises(pytest.fail.Exception, match="x differs"):
        check_snapshot("x", "<svg>new</svg>", tmp_path)
    assert (tmp_path / "x.actual.svg").read_text(encoding="utf-8") == "<svg>new</svg>"
    check_snapshot("x", "<svg>old</svg>", tmp_path)
