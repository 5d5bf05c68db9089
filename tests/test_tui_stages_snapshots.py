"""SVG snapshots of the Stages screen and the playbook checklist, in English and Chinese:
160x45, the seeded demo pipeline (seed 7), a fixed clock. SNAPSHOT_UPDATE=1 accepts a change
(look at the new files before committing them)."""

from __future__ import annotations

import pytest

from funnel_tui.tui.app import FunnelApp
from funnel_tui.tui.screens.deal import DealScreen
# The demo (seed 7, 60 deals, fixed uids), its private copy per test, the settle and the SVG check
# are test_tui_snapshots' own.
from test_tui_snapshots import NOW, SIZE, TZ, check_snapshot, demo_db, demo_store, settle  # noqa: F401


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
