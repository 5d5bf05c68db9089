"""Key to redraw on the board, headless (Pilot), run by the bench in its own process.

    python -m bench.probe_keys DB [--cursor N] [--moves N]

Every frame the app hands to its driver is time-stamped (a wrapper on `App._display`,
which runs whether or not the terminal is real). A cursor move is timed from the key to
the first frame after it; a card move from the key to the first frame after the store's
`move_deal` returned (the frame that shows the card in its new column). Between keys
the app is left to go idle (background workers done), so samples do not overlap.
Prints one line: BENCH-RESULT {json}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time


async def _idle(app, pilot, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            return
        await asyncio.sleep(0.005)


async def _first_frame_after(frames: list[float], since: float, timeout: float = 3.0) -> float | None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        later = [f for f in frames if f >= since]
        if later:
            return later[0]
        await asyncio.sleep(0.0005)
    return None


async def measure(db: str, cursor_n: int, moves_n: int) -> dict:
    from textual.widgets import OptionList

    from bench.seed import NOW
    from funnel_tui.store import Store
    from funnel_tui.tui.app import FunnelApp

    store = Store(db)
    moved: list[float] = []
    real_move = store.move_deal

    def move_deal(*args, **kwargs):
        result = real_move(*args, **kwargs)
        moved.append(time.monotonic())
        return result

    store.move_deal = move_deal
    app = FunnelApp(store, lambda: NOW)
    frames: list[float] = []
    real_display = app._display

    def display(screen, renderable):
        if renderable is not None:
            frames.append(time.monotonic())
        return real_display(screen, renderable)

    app._display = display
    out: dict = {"cursor_ms": [], "move_ms": []}
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        end = time.monotonic() + 120
        while True:
            focused = app.focused
            if isinstance(focused, OptionList) and focused.option_count > 12:
                break
            if time.monotonic() > end:
                return {"error": "no column with cards got the focus within 120 s"}
            await asyncio.sleep(0.01)
        await _idle(app, pilot)
        cards = app.focused
        keys = (["j"] * 10 + ["k"] * 10) * (cursor_n // 20 + 1)
        for key in keys[:cursor_n]:
            before = cards.highlighted
            t0 = time.monotonic()
            await pilot.press(key)
            frame = await _first_frame_after(frames, t0)
            if frame is None or cards.highlighted == before:
                return {"error": f"key {key!r} did not move the cursor and redraw"}
            out["cursor_ms"].append((frame - t0) * 1000)
            await _idle(app, pilot)
        for i in range(moves_n):
            key = "L" if i % 2 == 0 else "H"  # lead -> qualified and back: no Won dialog
            n = len(moved)
            t0 = time.monotonic()
            await pilot.press(key)
            if len(moved) == n:
                return {"error": f"key {key!r} did not move the highlighted card"}
            frame = await _first_frame_after(frames, moved[-1])
            if frame is None:
                return {"error": f"no redraw after moving a card with {key!r}"}
            out["move_ms"].append((frame - t0) * 1000)
            await _idle(app, pilot)
    store.close()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("db")
    p.add_argument("--cursor", type=int, default=40)
    p.add_argument("--moves", type=int, default=30)
    args = p.parse_args(argv)
    try:
        result = asyncio.run(measure(args.db, args.cursor, args.moves))
    except Exception as exc:  # noqa: BLE001 - reported as the measurement's n/a reason
        result = {"error": f"{type(exc).__name__}: {exc}"}
    print("BENCH-RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
