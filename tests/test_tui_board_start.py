"""How the board opens: the first read started before Textual, the first screenful of cards,
then the rest of each page. Real FunnelApp, temp-file store, fixed clock and zone."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import Future
from datetime import timedelta

from funnel_tui.domain.rules import TierCutoffs
from funnel_tui.tui.app import FunnelApp
from funnel_tui.tui.board_data import PAGE, FirstRead, read_board
from funnel_tui.tui.screens.board import BoardScreen
from funnel_tui.tui.widgets.stage_column import DealOption, MoreOption

SIZE = (160, 45)


def fill(store, now, tz, n: int = 57) -> None:
    amounts = [1000 * (k + 1) for k in range(n)]
    for k, amount in enumerate(amounts):
        store.add_deal({"customer": f"Lead {k:02d}", "amount": str(amount)}, now=now - timedelta(minutes=k), tz=tz)
    store.add_deal({"customer": "Qual One", "amount": "500000", "stage": "qualified"}, now=now, tz=tz)


def deal_options(app, stage: str) -> list[DealOption]:
    board = app.screen_stack[0]
    assert isinstance(board, BoardScreen)
    return [o for o in board.column(stage).cards.options if isinstance(o, DealOption)]


def record_frames(app) -> list[dict[str, int]]:
    """Per frame the app draws: how many cards each column holds at that moment."""
    frames: list[dict[str, int]] = []
    real = app._display

    def display(screen, renderable):
        if renderable is not None and isinstance(screen, BoardScreen):
            frames.append({c.stage.key: sum(isinstance(o, DealOption) for o in c.cards.options)
                           for c in screen.columns})
        return real(screen, renderable)

    app._display = display
    return frames


async def settle(pilot) -> None:
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def test_the_first_frame_has_cards_and_tiers_when_the_first_read_is_done(store, now, tz):
    fill(store, now, tz)
    first = FirstRead(store)
    first.board.result(timeout=10)
    tiers = first.tiers.result(timeout=10)
    assert tiers != TierCutoffs(None, None)
    app = FunnelApp(store, lambda: now, tz=tz, lang="en", first_read=first)
    frames = record_frames(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert frames, "no frame drawn"
        # The very first frame: a screenful of cards (not all 50), the tier marks already on.
        assert 9 <= frames[0]["lead"] < PAGE
        assert frames[0]["qualified"] == 1
        board = app.screen_stack[0]
        assert board.tiers == tiers
        assert app.first_read is None  # taken once
        await settle(pilot)
        # Then the whole first page, and the "more" row counts what is left.
        lead = deal_options(app, "lead")
        assert [o.deal["customer"] for o in lead] == [f"Lead {k:02d}" for k in range(PAGE)]
        more = [o for o in board.column("lead").cards.options if isinstance(o, MoreOption)]
        assert len(more) == 1 and more[0].prompt.plain.startswith("▼ 7 more")
        # Qual One has the highest weighted value: tier A, drawn without waiting for a re-read.
        assert deal_options(app, "qualified")[0].prompt.plain.split("\n")[0].endswith(" A")


async def test_a_failed_first_read_is_read_again(store, now, tz):
    fill(store, now, tz, n=3)
    first = FirstRead.__new__(FirstRead)  # a read that failed in its thread
    first.board, first.tiers = Future(), Future()
    first.board.set_exception(RuntimeError("disk I/O error"))
    first.tiers.set_exception(RuntimeError("disk I/O error"))
    app = FunnelApp(store, lambda: now, tz=tz, lang="en", first_read=first)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert [o.deal["customer"] for o in deal_options(app, "lead")] == ["Lead 00", "Lead 01", "Lead 02"]
        assert app.screen_stack[0].tiers != TierCutoffs(None, None)  # read after the cards


async def test_without_a_first_read_the_board_loads_itself(store, now, tz):
    fill(store, now, tz, n=3)
    app = FunnelApp(store, lambda: now, tz=tz, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert len(deal_options(app, "lead")) == 3


def test_read_board_is_what_the_columns_show(store, now, tz):
    fill(store, now, tz, n=3)
    data = read_board(store, False, {"lead": 2})
    rows, totals, lost = data["lead"]
    assert [r["customer"] for r in rows] == ["Lead 00", "Lead 01"]
    assert totals["count"] == 3 and totals["amount"] == 600_000  # minor units
    assert lost == []
    assert set(data) == {s.key for s in store.stages()}


def test_the_first_read_module_does_not_load_textual():
    code = "import sys, funnel_tui.tui.board_data; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_a_column_that_outgrows_the_screen_scrolls_without_a_screen_layout(store, now, tz):
    fill(store, now, tz, n=2)
    app = FunnelApp(store, lambda: now, tz=tz, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        board = app.screen_stack[0]
        cards = board.column("lead").cards
        assert not cards.show_vertical_scrollbar and cards.max_scroll_y == 0
        for k in range(20):
            store.add_deal({"customer": f"More {k:02d}"}, now=now - timedelta(hours=1, minutes=k), tz=tz)
        board._reload_columns("lead")
        await settle(pilot)
        assert len(deal_options(app, "lead")) == 22
        assert cards.show_vertical_scrollbar and cards.max_scroll_y > 0
        cards.highlighted = cards.option_count - 1  # the last card: the list scrolls to it
        await settle(pilot)
        assert cards.scroll_y == cards.max_scroll_y


async def test_a_collector_paused_for_start_up_runs_again_once_the_board_is_up(store, now, tz):
    import gc

    fill(store, now, tz, n=2)
    gc.disable()  # what `funnel tui` does before opening the store
    try:
        app = FunnelApp(store, lambda: now, tz=tz, lang="en")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert len(deal_options(app, "lead")) == 2
            assert gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_the_board_starts_without_forms_other_screens_or_the_exporter():
    """What the first frame does not need is imported by the action that opens it (the
    Pilot tests of each action show it still arrives)."""
    code = ("import sys, funnel_tui.tui.app, funnel_tui.tui.screens.board\n"
            "prefixes = ('funnel_tui.tui.forms', 'funnel_tui.tui.screens.', 'funnel_tui.tui.help',\n"
            "            'funnel_tui.tui.keys', 'funnel_tui.exchange')\n"
            "print(sorted(m for m in sys.modules if m.startswith(prefixes)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['funnel_tui.tui.screens.board', 'funnel_tui.tui.screens.board_loading']"
