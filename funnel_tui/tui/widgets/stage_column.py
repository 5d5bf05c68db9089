"""One board column: a header (stage, count, Σ amount, Σ weighted) over ONE OptionList.

The column only draws what the board screen hands it (rows from bounded queries); it never
reads the database. Cards are options carrying the deal id, so 100k deals cost the same
as 100: only the loaded page is ever turned into lines.
"""

from __future__ import annotations

from typing import Callable, Sequence

from rich.segment import Segment
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.containers import Vertical
from textual.strip import Strip
from textual.style import Style
from textual.visual import Padding
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from funnel_tui.domain.currency_totals import format_total, rates_of_column
from funnel_tui.domain.money import format_compact_in
from funnel_tui.domain.stages import StageDef
from funnel_tui.domain.text import truncate_to_width
from funnel_tui.i18n import N_, _, active_lang, pgettext

CardRenderer = Callable[[dict, int], Text]
CARD_STRIPS_KEPT = 2000  # card renders kept per column (a few pages of cards, in each style)


class DealOption(Option):
    """A card: the option carries the deal id and the row it was drawn from."""

    def __init__(self, prompt: Text, deal: dict):
        super().__init__(prompt)
        self.deal = deal
        self.deal_id: int = deal["id"]


class MoreOption(Option):
    """The "N more…" row: selecting it loads the next page of `status` deals."""

    def __init__(self, prompt: Text, status: str):
        super().__init__(prompt)
        self.status = status


class DealList(OptionList):
    """The cards of one stage. j/k move like the arrows."""

    BINDINGS = [
        Binding("j", "cursor_down", N_("Down"), show=False),
        Binding("k", "cursor_up", N_("Up"), show=False),
    ]

    # The list's size is fixed by CSS (1fr), so a card more or less changes only what it
    # scrolls over: its scrollbar follows (OptionList updates it), the screen needs no
    # layout pass, which would repaint every column's scrollbar on each move.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def __init__(self, stage_key: str, **kwargs):
        super().__init__(**kwargs)
        self.stage_key = stage_key
        # (id of a card's prompt, style, padding, width) -> (that prompt, its lines before meta)
        self._card_strips: dict[tuple, tuple[Text, list[Strip]]] = {}
        # (option padding, card width) while a frame draws the list: see render_lines.
        self._frame_geometry: tuple[Padding, int] | None = None

    @property
    def highlighted_deal(self) -> dict | None:
        option = self.highlighted_option
        return option.deal if isinstance(option, DealOption) else None

    def index_of(self, deal_id: int) -> int | None:
        for index, option in enumerate(self.options):
            if isinstance(option, DealOption) and option.deal_id == deal_id:
                return index
        return None

    def render_lines(self, crop: Region) -> list[Strip]:
        """OptionList's render_lines, with what every line needs worked out once per frame:
        OptionList asks each line for the list's content region, its option padding and its
        line table again (≈a third of drawing a column after a card move)."""
        self._update_lines()
        self._frame_geometry = (self.get_component_styles("option-list--option").padding,
                                self.scrollable_content_region.width - self._get_left_gutter_width())
        try:
            return super(OptionList, self).render_lines(crop)  # OptionList's adds only _update_lines
        finally:
            self._frame_geometry = None

    def render_line(self, y: int) -> Strip:
        """OptionList.render_line, reading the line table updated at the frame's start
        (tests/test_tui_card_strips.py compares the two, line by line)."""
        if self._frame_geometry is None:
            return super().render_line(y)
        try:
            option_index, line_offset = self._line_cache.lines[self.scroll_offset.y + y]
            option = self.options[option_index]
        except IndexError:
            return super().render_line(y)  # below the last card: OptionList's blank line
        if option.disabled:
            style = self.get_visual_style("option-list--option", "option-list--option-disabled")
        elif self.highlighted == option_index:
            style = self.get_visual_style("option-list--option", "option-list--option-highlighted")
        elif self._mouse_hovering_over == option_index:
            style = self.get_visual_style("option-list--option", "option-list--option-hover")
        else:
            style = self.get_visual_style("option-list--option")
        strips = self._get_option_render(option, style)
        if line_offset >= len(strips):
            return super().render_line(y)
        return strips[line_offset]

    def _get_option_render(self, option: Option, style: Style) -> list[Strip]:
        """OptionList's lines of a card, kept across `set_options` while its prompt is the
        same object (StageColumn.rebuild reuses unchanged cards): a card move redraws two
        columns, and laying their cards' text out again was a third of its key-to-redraw.
        Only the option's index in the lines' meta (what a click reports) is applied anew,
        in the order OptionList applies it (tests/test_tui_card_strips.py compares the two)."""
        if not isinstance(option, DealOption):
            return super()._get_option_render(option, style)
        if self._frame_geometry is not None:
            padding, width = self._frame_geometry
        else:
            padding = self.get_component_styles("option-list--option").padding
            width = self.scrollable_content_region.width - self._get_left_gutter_width()
        key = (id(option.prompt), style, padding, width)
        kept = self._card_strips.get(key)
        if kept is None or kept[0] is not option.prompt:
            visual = self._get_visual(option)
            if padding:
                visual = Padding(visual, padding)
            strips = [strip.extend_cell_length(width, style.rich_style)
                      for strip in visual.to_strips(self, visual, width, None, style)]
            if len(self._card_strips) > CARD_STRIPS_KEPT:
                self._card_strips.clear()
            kept = self._card_strips[key] = (option.prompt, strips)
        cache_key = (option, style, padding)
        if (shown := self._option_render_cache.get(cache_key)) is None:
            meta = {"option": self._option_to_index[option]}
            shown = [strip.apply_meta(meta) for strip in kept[1]]
            if option._divider:
                rule = self.get_visual_style("option-list--separator")
                shown.append(Strip([Segment("─" * width, rule.rich_style)], width))
            self._option_render_cache[cache_key] = shown
        return shown


class StageColumn(Vertical):
    """Header plus cards of one stage; `status` is "open" for the funnel, "won" after it."""

    def __init__(self, stage: StageDef, status: str, label: str, render_card: CardRenderer):
        super().__init__(id=f"column-{stage.key}", classes="stage-column")
        self.stage = stage
        self.status = status
        self.stage_label = label
        self.render_card = render_card
        self.rows: list[dict] = []
        self.lost_rows: list[dict] = []
        self.lost_more = False
        self.totals: dict = {"count": 0, "amount": 0, "weighted": 0}
        self.show_lost = False
        self.header = Static(classes="column-header")
        self.cards = DealList(stage.key, classes="deal-list")

    def compose(self):
        yield self.header
        yield self.cards

    def on_mount(self) -> None:
        self.update_header()

    @property
    def card_width(self) -> int:
        """Columns available to a card, measured once laid out (estimated before)."""
        width = self.cards.scrollable_content_region.width
        if width <= 2:
            screen_width = self.app.size.width or 160
            # Hidden columns (narrow screens show a window of them) are not laid out yet.
            columns = max(getattr(self.screen, "visible_count", 0) or len(self.screen.query(StageColumn)), 1)
            width = screen_width // columns - 3  # border, padding, scrollbar (app.tcss)
        return max(width - 1, 8)

    @property
    def more_count(self) -> int:
        return max(self.totals["count"] - len(self.rows), 0)

    def update_header(self) -> None:
        width = max(self.size.width - 2, 12) if self.size.width else 24
        count = self.totals["count"]
        head = Text(no_wrap=True, overflow="ellipsis", end="")
        name = truncate_to_width(self.stage_label, max(width - len(str(count)) - 1, 4))
        head.append(name, style="bold")
        head.append(" " * max(width - Text(name).cell_len - len(str(count)), 1))
        head.append(str(count), style="bold")
        head.append("\n")
        lang = active_lang()

        def short(minor: int) -> str:
            return format_compact_in(minor, lang)

        by_currency, rates = self.totals.get("by_currency") or {}, rates_of_column(self.totals)
        amount = format_total({c: v["amount"] for c, v in by_currency.items()}, rates, short)
        head.append(f"Σ {amount}")
        # In several currencies without a rate the amounts alone fill the line.
        if self.status == "open" and not (len(by_currency) > 1 and self.totals.get("amount") is None):
            weighted = format_total({c: v["weighted"] for c, v in by_currency.items()}, rates, short)
            # Translators: the column header's weighted total, e.g. "w 12.5k" (short: columns are narrow).
            head.append("  " + pgettext("column header", "w {amount}").format(amount=weighted), style="italic")
        # The header's size is fixed by CSS: no layout pass (that would redraw every column).
        self.header.update(head, layout=False)

    def set_data(self, rows: Sequence[dict], totals: dict, lost_rows: Sequence[dict] = (),
                 lost_more: bool = False, show_lost: bool = False) -> None:
        self.rows = list(rows)
        self.totals = dict(totals)
        self.lost_rows = list(lost_rows)
        self.lost_more = lost_more
        self.show_lost = show_lost
        self.update_header()
        self.rebuild()

    def rebuild(self) -> None:
        """Redraw every option, keeping the highlighted deal highlighted when it is still here."""
        cards = self.cards
        keep = cards.highlighted_deal
        keep_index = cards.highlighted
        width = self.card_width
        # Options whose card did not change are reused: their measured lines are kept.
        previous = {id(o.prompt): o for o in cards.options if isinstance(o, DealOption)}

        def option_for(row: dict) -> DealOption:
            prompt = self.render_card(row, width)
            option = previous.get(id(prompt))
            if option is None or option.deal_id != row["id"]:
                return DealOption(prompt, row)
            option.deal = row
            option._divider = False
            return option

        options: list[Option | None] = []
        for row in self.rows:
            options.append(option_for(row))
            options.append(None)
        if self.more_count:
            options.append(MoreOption(Text(_("▼ {n} more…").format(n=self.more_count), style="italic"), self.status))
            options.append(None)
        if self.show_lost and self.lost_rows:
            for row in self.lost_rows:
                options.append(option_for(row))
                options.append(None)
            if self.lost_more:
                options.append(MoreOption(Text(_("▼ more lost…"), style="italic"), "lost"))
        while options and options[-1] is None:
            options.pop()
        with self.app.batch_update():
            cards.set_options(options)
            if cards.option_count:
                index = cards.index_of(keep["id"]) if keep else None
                if index is None and keep_index is not None:
                    index = min(keep_index, cards.option_count - 1)
                cards.highlighted = index if index is not None else 0

    def redraw_cards(self) -> None:
        """New prompts for the same rows (tiers, theme or width changed)."""
        width = self.card_width
        for index, option in enumerate(self.cards.options):
            if isinstance(option, DealOption):
                self.cards.replace_option_prompt_at_index(index, self.render_card(option.deal, width))

    def on_resize(self) -> None:
        self.update_header()
        if self.cards.option_count:
            self.redraw_cards()
