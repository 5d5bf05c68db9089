"""The Summary screen at 1k and 100k deals: time to the first frame and to the numbers.

The screen composes at once ("Reading the funnel…") and a thread worker reads the numbers;
both moments are timed with Textual's Pilot in a headless app. Uses the pipelines that
bench/bench_summary.py builds (and builds them if missing).

    PYTHONPATH=. python bench/bench_summary_screen.py [--dir /tmp/funnel-bench]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from make_pipeline import NOW, build  # noqa: E402


async def measure(db: Path) -> tuple[float, float]:
    from textual.app import App
    from textual.widgets import Static

    from funnel_tui.store import Store
    from funnel_tui.tui.screens.summary import SummaryScreen

    store = Store(db)

    class Host(App):
        def __init__(self):
            super().__init__()
            self.store, self.tz = store, ZoneInfo("Asia/Shanghai")

        def now(self):
            return NOW

    app = Host()
    async with app.run_test(size=(160, 50)) as pilot:
        t0 = time.perf_counter()
        screen = SummaryScreen()
        await app.push_screen(screen)
        first = time.perf_counter() - t0
        while "deals" not in str(screen.query_one("#status", Static).content):
            await asyncio.sleep(0.005)
        numbers = time.perf_counter() - t0
    store.close()
    return first, numbers


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--dir", default="/tmp/funnel-bench")
    opts = p.parse_args()
    out = Path(opts.dir)
    out.mkdir(parents=True, exist_ok=True)
    for label, n in (("1k", 1_000), ("100k", 100_000)):
        db = out / f"pipeline-{label}.db"
        if not db.exists():
            build(str(db), n)
        runs = [asyncio.run(measure(db)) for _ in range(3)]
        first = min(r[0] for r in runs)
        numbers = min(r[1] for r in runs)
        print(f"Summary screen @ {label:>4}: first frame {first * 1000:6.0f} ms, numbers shown {numbers * 1000:6.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
