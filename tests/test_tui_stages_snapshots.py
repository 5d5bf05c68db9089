"""SVG snapshots of the Stages screen and the playbook checklist, in English and Chinese:
160x45, the seeded demo pipeline (seed 7), a fixed clock. SNAPSHOT_UPDATE=1 accepts a change
(look at the new files before committing them)."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from textual.worker import WorkerCancelled

from funnel_tui.exchange.demo import fill_demo
from funnel_tui.store import Store
from funnel_tui.tui.app import FunnelApp
from funnel_tui.tui.screens.deal import DealScreen

SNAPSHOTS = Path(__file__).parent / "snapshots"
SIZE = (160, 45)
NOW = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)  # Tue 09:00 in Shanghai
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    store = Store(path)
    fill_demo(store, deals=60, seed=7, now=NOW)
    store.close()
    with sqlite3.connect(path) as conn:  # the demo's uids are random; the Deal screen shows them
        conn.execute("UPDATE deal SET uid = printf('00000000-0000-4000-8000-%012d', id)")
    conn.close()
    return path


@pytest.fixture
def demo_store(demo_db, tmp_path):
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
    stored = SNAPSHOTS / f"{name}.svg"
    if os.environ.get("SNAPSHOT_UPDATE") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        stored.write_text(svg, encoding="utf-8")
        return
    assert stored.exists(), f"no snapshot {stored}; run with SNAPSHOT_UPDATE=1 to create it"
    if stored.read_text(encoding="utf-8") != svg:
        actual = tmp_path / f"{name}.actual.svg"
        actual.write_text(svg, encoding="utf-8")
        pytest.fail(f"{name} differs from {stored}; the new rendering is {actual} (SNAPSHOT_UPDATE=1 accepts it)")


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_stages_screen(demo_store, tmp_path, lang):
    app = FunnelApp(demo_store, lambda: NOW, tz=TZ, lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.action_open_stages()
        await settle(pilot)
        await pilot.press("down", "down", "down")
        await settle(pilot)
        svg = app.export_screenshot(title="funnel")
    check_snapshot(f"stages_{lang}", svg, tmp_path)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_deal_checklist(demo_store, tmp_path, lang):
    deal = demo_store.list_deals(stage="negotiation", limit=1)[0]["id"]
    for item in ("entry.0", "actions.0"):
        demo_store.set_tick(deal, item, True, now=NOW)
    app = FunnelApp(demo_store, lambda: NOW, tz=TZ, lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(DealScreen(deal))
        await settle(pilot)
        await pilot.press("c", "down", "down")
        await settle(pilot)
        svg = app.export_screenshot(title="funnel")
    check_snapshot(f"deal_checklist_{lang}", svg, tmp_path)
