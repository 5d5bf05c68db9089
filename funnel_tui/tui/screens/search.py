"""`/` on the board: find deals by customer, title or contact, then jump to one.

Each keystroke runs one bounded query in a thread worker (`store.search_deals`: as typed, with
`%` and `_` taken literally, or in pinyin — `huaxin`, `hxkj`, `华x`); results are options
carrying the deal id, drawn as plain Text; a search that finds nothing says so.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from funnel_tui.domain.text import truncate_to_width
from funnel_tui.domain.vocab import DEAL_STATUS
from funnel_tui.i18n import N_, _
from funnel_tui.tui.context import HasContext
from funnel_tui.tui.key_table import localise_bindings

LIMIT = 30


class FoundDeal(Option):
    def __init__(self, prompt: Text, deal_id: int):
        super().__init__(prompt)
        self.deal_id = deal_id


class SearchScreen(HasContext, ModalScreen[int | None]):
    """Type to search; Enter jumps to the highlighted deal; Escape goes back."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", N_("Back")),
        Binding("down", "focus_results", N_("Results"), show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        localise_bindings(self)

    def compose(self) -> ComposeResult:
        with Vertical(id="search-box", classes="dialog"):
            yield Static(Text(_("Search"), style="bold"))
            yield Input(placeholder=_("customer, title or contact"), id="search-input")
            yield OptionList(id="search-results")

    @on(Input.Changed, "#search-input")
    def _changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    @work(thread=True, exclusive=True, group="search")
    def _search(self, text: str) -> None:
        rows = self.ctx.store.search_deals(text, limit=LIMIT) if text.strip() else []
        self.app.call_from_thread(self._show, rows, text.strip())

    def _show(self, rows: list[dict], text: str = "") -> None:
        if not self.is_attached:  # closed while the query ran
            return
        stages = {s.key: s.label(self.ctx.lang) for s in self.ctx.store.all_stages()}
        results = self.query_one("#search-results", OptionList)
        options = []
        for row in rows:
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(truncate_to_width(row["customer"], 30), style="bold")
            line.append("  ")
            line.append(truncate_to_width(row["title"] or "", 30))
            line.append(f"  {stages.get(row['stage'], row['stage'])}", style="dim")
            if row["status"] != "open":
                line.append(f" ({DEAL_STATUS.label(row['status'])})", style="italic")
            if row["contact_name"]:
                line.append("  · ")
                line.append(truncate_to_width(row["contact_name"], 16), style="dim")
            options.append(FoundDeal(line, row["id"]))
        if text and not options:  # say so, where the results would be (a line that cannot be chosen)
            options.append(Option(Text(_("No deal matches “{query}”. Try part of the customer, title or "
                                         "contact, in Chinese or in pinyin: huaxin, hxkj, 华x.").format(query=text),
                                        style="italic"), id="no-results", disabled=True))
        results.set_options(options)
        if options and not options[0].disabled:
            results.highlighted = 0

    @on(Input.Submitted, "#search-input")
    def _submitted(self) -> None:
        results = self.query_one("#search-results", OptionList)
        option = results.highlighted_option
        if isinstance(option, FoundDeal):
            self.dismiss(option.deal_id)

    @on(OptionList.OptionSelected, "#search-results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if isinstance(event.option, FoundDeal):
            self.dismiss(event.option.deal_id)

    def action_focus_results(self) -> None:
        self.query_one("#search-results", OptionList).focus()
