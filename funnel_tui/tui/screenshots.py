"""Render the README screenshots: `python -m funnel_tui.tui.screenshots DIR` (`make screenshots`).

Demo data (seed 7) in a throw-away database, a pinned clock (Tue 2026-11-24 10:00 +08:00),
a pinned zone and size, so the same commit always draws the same pictures:
board.svg, deal.svg, today.svg and deal-form.svg (the form refusing bad input).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

NOW = datetime.fromisoformat("2026-11-24T10:00:00+08:00").astimezone(timezone.utc)
TZ = ZoneInfo("Asia/Shanghai")
SIZE = (160, 45)
SEED = 7


async def _settle(app, pilot) -> None:
    """Let workers (reminders, column loads) finish and the screen repaint."""
    from textual.worker import WorkerCancelled

    for _ in range(5):  # an exclusive worker may cancel another; wait for the survivors
        try:
            await app.workers.wait_for_complete()
            break
        except WorkerCancelled:
            continue
    await pilot.pause()
    await pilot.pause()


async def render(out_dir: Path) -> list[Path]:
    """Draw the four screens into `out_dir`; returns the files written."""
    from funnel_tui.exchange.demo import fill_demo
    from funnel_tui.store import Store
    from funnel_tui.tui.app import FunnelApp
    from funnel_tui.tui.forms import DealForm
    from funnel_tui.tui.screens.deal import DealScreen
    from funnel_tui.tui.screens.today import TodayScreen

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "demo.db")
        try:
            fill_demo(store, seed=SEED, now=NOW)
            app = FunnelApp(store, lambda: NOW, tz=TZ, lang="en")

            def shoot(name: str) -> None:
                path = out_dir / f"{name}.svg"
                path.write_text(app.export_screenshot(title=f"funnel · {name}"), encoding="utf-8")
                written.append(path)

            async with app.run_test(size=SIZE) as pilot:
                await _settle(app, pilot)
                shoot("board")

                # The deal most worth a look: the first overdue follow-up's deal.
                due = store.due(now=NOW, within="3d")
                deal_id = due[0].deal_id if due else store.list_deals(limit=1)[0]["id"]
                await app.push_screen(DealScreen(deal_id))
                await _settle(app, pilot)
                shoot("deal")
                app.pop_screen()

                await app.push_screen(TodayScreen())
                await _settle(app, pilot)
                shoot("today")
                app.pop_screen()

                form = DealForm(store.stages(), now=NOW, tz=TZ, lang="en")
                await app.push_screen(form)
                await _settle(app, pilot)
                form.query_one("#f-amount").value = "12 thousand"
                form.query_one("#f-probability").value = "250"
                form.query_one("#f-expected_close").value = "2024-13-01"
                await pilot.press("ctrl+s")  # refused: customer blank, errors by each field
                await _settle(app, pilot)
                shoot("deal-form")
        finally:
            store.close()
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out_dir = Path(args[0] if args else "screenshots")
    for path in asyncio.run(render(out_dir)):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
