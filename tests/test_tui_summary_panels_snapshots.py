"""SVG snapshots of the Summary screen's panels (trend, segments, KPIs, forecast) at 80×24 and
160×45, in English on the demo pipeline and in Chinese on the Chinese one (seed 7, the clock
fixed at Tuesday 2026-11-24 09:00 in Shanghai); the Chinese ones show no English word but
the rep's own data.

The helpers are tests/test_tui_snapshots.py's; SNAPSHOT_UPDATE=1 accepts a change (look at
the PNG first: `rsvg-convert tests/snapshots/summary_trend_zh.svg -o /tmp/x.png`).
"""

from __future__ import annotations

import pytest

from funnel_tui.tui.app import FunnelApp
from funnel_tui.tui.screens.summary import SummaryScreen
from test_tui_snapshots import NOW, TZ, check_snapshot, demo_db, demo_store, settle, stack  # noqa: F401
from test_tui_snapshots_zh import DATA_WORDS, UI_WORDS, screen_words, zh_demo_db, zh_store  # noqa: F401

SIZES = ((80, 24), (160, 45))
PANELS = (("trend", "2"), ("segments", "3"), ("kpis", "4"), ("forecast", "5"))


async def panel_svg(store, lang: str, key: str) -> str:
    """The Summary screen with the panel of `key` in front, at each of SIZES (one run)."""
    app = FunnelApp(store, lambda: NOW, tz=TZ, lang=lang)
    shots = []
    async with app.run_test(size=SIZES[0]) as pilot:
        await settle(pilot)
        await app.push_screen(SummaryScreen())
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        for width, height in SIZES:
            await pilot.resize_terminal(width, height)
            await settle(pilot)
            await pilot.pause()
            shots.append(app.export_screenshot(title=f"funnel {width}×{height}"))
    return stack(shots)


@pytest.mark.parametrize(("panel", "key"), PANELS, ids=[p for p, _k in PANELS])
async def test_panel_in_english(demo_store, tmp_path, panel, key):
    check_snapshot(f"summary_{panel}_en", await panel_svg(demo_store, "en", key), tmp_path)


@pytest.mark.parametrize(("panel", "key"), PANELS, ids=[p for p, _k in PANELS])
async def test_panel_in_chinese(zh_store, tmp_path, panel, key):
    svg = await panel_svg(zh_store, "zh", key)
    english = screen_words(svg) - DATA_WORDS - UI_WORDS
    assert english == set(), f"{panel} shows English: {sorted(english)}"
    check_snapshot(f"summary_{panel}_zh", svg, tmp_path)
