"""A card's lines kept across a column's redraw (DealList._get_option_render) are exactly
what Textual's OptionList renders for it, its index in the meta included, before and after
a card move (issue 19: card move key-to-redraw)."""

from __future__ import annotations

from textual.geometry import Region
from textual.widgets import OptionList

from tests.test_tui_board import SIZE, board, make_app, pipeline, settle  # noqa: F401 - pipeline: a fixture
from funnel_tui.tui.widgets.stage_column import DealOption


def _lines_match_textual(column) -> int:
    """Compare every card of `column` in the plain and the highlighted style; the count."""
    cards = column.cards
    styles = [cards.get_visual_style("option-list--option"),
              cards.get_visual_style("option-list--option-highlighted")]
    compared = 0
    for option in cards.options:
        if not isinstance(option, DealOption):
            continue
        for style in styles:
            ours = cards._get_option_render(option, style)
            cards._option_render_cache.clear()  # Textual's own, from nothing
            theirs = OptionList._get_option_render(cards, option, style)
            cards._option_render_cache.clear()
            assert [list(s) for s in ours] == [list(s) for s in theirs]
            assert [s.cell_length for s in ours] == [s.cell_length for s in theirs]
            compared += 1
    return compared


async def test_kept_card_lines_are_textuals_before_and_after_a_move(store, pipeline, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    deal_id = pipeline["acme"]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        b = board(app)
        stage = store.get_deal(deal_id)["stage"]
        assert b.highlight(deal_id, stage)
        assert sum(_lines_match_textual(c) for c in b.columns) > 0
        kept = dict(b.column(stage).cards._card_strips)
        await pilot.press("L")
        await settle(pilot)
        after = store.get_deal(deal_id)["stage"]
        assert after != stage
        # The cards that stayed reuse their kept lines (the cache was not rebuilt from nothing) …
        assert set(kept) & set(b.column(stage).cards._card_strips)
        # … and every card, moved or kept, at its new index, draws as Textual draws it.
        assert _lines_match_textual(b.column(stage)) + _lines_match_textual(b.column(after)) > 0


def _frame_matches_textual(column) -> int:
    """Draw the whole list as a frame does (DealList.render_lines) and again line by line
    through OptionList's own render_lines/render_line, from empty caches; the lines drawn."""
    cards = column.cards
    region = Region(0, 0, cards.size.width, cards.size.height)
    cards._styles_cache.clear()
    ours = cards.render_lines(region)
    cards._styles_cache.clear()
    cards._option_render_cache.clear()
    theirs = OptionList.render_lines(cards, region)
    assert [list(s) for s in ours] == [list(s) for s in theirs]
    assert [s.cell_length for s in ours] == [s.cell_length for s in theirs]
    return sum(1 for s in ours if s.text.strip())


async def test_a_frame_of_the_list_is_textuals_before_and_after_a_move(store, pipeline, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    deal_id = pipeline["acme"]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        b = board(app)
        stage = store.get_deal(deal_id)["stage"]
        assert b.highlight(deal_id, stage)
        await settle(pilot)
        assert sum(_frame_matches_textual(c) for c in b.columns) > 0
        await pilot.press("L")
        await settle(pilot)
        after = store.get_deal(deal_id)["stage"]
        assert after != stage
        # The highlighted card (in the focused list) and the plain ones, in both columns.
        assert b.column(after).cards.highlighted_deal["id"] == deal_id
        assert _frame_matches_textual(b.column(stage)) + _frame_matches_textual(b.column(after)) > 0
