"""Chinese text in a toast stays whole where the toast lies over the board's column edges.

The cause (funnel_tui/tui/wide_cells.py): Textual's compositor cut every line at every
widget edge beneath the toast and split a double-width character standing on such a cut into
two blanks (`8 逾   ·`). Two toasts one cell apart put every character of the message on
both sides of every cut, so whichever edges lie under them, a split would show. Checked three
ways: the full frame (what a screenshot and a first paint draw), the partial update a real
terminal gets when only the toast changes (played on a small cell grid), and a snapshot.
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.console import Console
from test_tui_snapshots import app_for, check_snapshot, demo_db, demo_store, settle  # noqa: F401

from funnel_tui.tui.wide_cells import COVERED, chop_ends, plain_text

WORDS = "逾期" * 12
MESSAGES = (WORDS, "x" + WORDS)


def full_lines(app) -> list[str]:
    return plain_text(app.screen._compositor.render_strips())


def play(update, width: int, height: int) -> list[str]:
    """What a terminal shows after `update` (a ChopsUpdate) on a blank screen: cursor moves
    and text on a grid of cells. A wide character takes two cells (the right one is ""), and
    writing over either half of one blanks the other half, as terminals do."""
    grid = [[" "] * width for _ in range(height)]
    x = y = 0
    for segment in Console(width=width, height=height, force_terminal=True).render(update):
        if segment.control:
            for control in segment.control:
                if control[0].name == "CURSOR_MOVE_TO":
                    x, y = control[1], control[2]
            continue
        for ch in segment.text:
            if ch == "\n":
                x, y = 0, y + 1
                continue
            row, cells = grid[y], [x, x + 1] if cell_len(ch) == 2 else [x]
            for c in (c for c in cells if c < width):
                if row[c] == "" and c - 1 not in cells:
                    row[c - 1] = " "  # over the right half of a wide character
                if c + 1 < width and row[c + 1] == "" and c + 1 not in cells:
                    row[c + 1] = " "  # over the left half of one
            if x < width:
                row[x] = ch
                if len(cells) == 2 and x + 1 < width:
                    row[x + 1] = ""
            x += len(cells)
    return ["".join(row) for row in grid]


async def test_a_chinese_toast_over_the_column_edges_stays_whole(demo_store, tmp_path):
    app = app_for(demo_store, "zh")
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await settle(pilot)
        for message in MESSAGES:
            app.notify(message, timeout=60)
        await settle(pilot)
        await pilot.pause(0.2)
        lines = [line for line in full_lines(app) if "逾期逾期" in line]
        assert len(lines) == 2, lines
        assert WORDS in lines[0] and "x" + WORDS in lines[1], lines
        # The toast really lies over column edges (▕ on both sides of it in the line).
        assert re.search("▕.*逾期", lines[0]) or "▕" in lines[0].split(WORDS)[0]

        # What a terminal is sent when only the toast area changes: the same, whole.
        compositor = app.screen._compositor
        width, height = app.size
        toasts = [w for w in app.screen._compositor.visible_widgets if type(w).__name__ == "Toast"]
        assert toasts
        for toast in toasts:
            compositor._dirty_regions.add(compositor.full_map[toast].region)
        screen = play(compositor.render_partial_update(), width, height)
        assert any(WORDS in row for row in screen) and any("x" + WORDS in row for row in screen), screen
        check_snapshot("toast_cjk", app.export_screenshot(title="funnel"), tmp_path)


def test_chop_ends_skip_covered_chops():
    line = {0: object(), 10: COVERED, 20: object(), 30: COVERED}
    assert chop_ends([0, 10, 20, 30, 40], line) == [20, 20, 40, 40]
    assert chop_ends([0, 10], {0: None}) == [10]
