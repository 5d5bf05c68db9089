"""Badges a rep can read: every built-in theme's badge colours reach WCAG AA on the cards."""

from __future__ import annotations

import pytest
from textual.theme import BUILTIN_THEMES

from funnel_tui.tui.app import FunnelApp
from funnel_tui.tui.contrast import MINIMUM, contrast, readable


def test_contrast_is_the_wcag_ratio():
    assert round(contrast("#000000", "#FFFFFF"), 1) == 21.0
    assert contrast("#777777", "#777777") == 1.0
    assert round(contrast("#FEA62B", "#D8D8D8"), 2) == 1.38  # textual-light's warning on its surface


@pytest.mark.parametrize("colour, background", [("#FEA62B", "#D8D8D8"), ("#B93C5B", "#1E1E1E"),
                                                ("#4EBF71", "#FFFFFF"), ("#FFFFFF", "#FFFFFF")])
def test_readable_reaches_the_minimum_and_leaves_good_colours_alone(colour, background):
    fixed = readable(colour, background)
    assert contrast(fixed, background) >= MINIMUM
    if contrast(colour, background) >= MINIMUM:
        assert fixed.upper() == colour.upper()


async def test_every_theme_gives_the_board_readable_badges(store, now, tz):
    app = FunnelApp(store, lambda: now, tz=tz, lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        board = app.screen_stack[0]
        for name in BUILTIN_THEMES:
            app.theme = name
            await pilot.pause()
            surface = app.get_css_variables()["surface"]
            colours = board.colours
            for badge in (colours.error, colours.warning, colours.success, colours.accent):
                assert contrast(badge, surface) >= MINIMUM, (name, badge, surface)
        app.theme = "textual-light"
        await pilot.pause()
        assert board.colours.warning.upper() != "#FEA62B"  # the light theme's orange was darkened
