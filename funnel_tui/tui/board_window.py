"""How the board fits the screen, mixed into BoardScreen: a window of as many columns as fit
(←/→ move it when the cursor leaves it), compact cards on a short screen, the title that
says which stages are showing, and the guide an empty database shows.

Hidden columns are `display: none`: they keep their cards but cost the compositor nothing,
so a narrow screen draws less, not more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import events
from textual.widgets import Static

from funnel_tui.i18n import _

if TYPE_CHECKING:
    from funnel_tui.tui.context import AppContext
    from funnel_tui.tui.widgets.stage_column import StageColumn

MIN_COLUMN = 26  # cells: a card keeps its customer, amount and badges readable
COMPACT_BELOW = 30  # screen rows: below this, cards are three lines


def columns_that_fit(width: int, count: int) -> int:
    """How many columns of at least MIN_COLUMN cells fit in `width` (one at least)."""
    return max(1, min(count, width // MIN_COLUMN))


def empty_guide_text() -> Group:
    """What a rep with no deals can do next."""
    steps = Table.grid(padding=(0, 2))
    steps.add_column(no_wrap=True)
    steps.add_column()
    for key, what in (
        ("n", _("add your first deal")),
        ("funnel import FILE", _("bring in your spreadsheet or another CRM's export (CSV, xlsx)")),
        ("funnel --demo", _("try funnel on demo data first (a database of its own)")),
    ):
        steps.add_row(Text(f" {key} ", style="bold reverse"), Text(what))
    return Group(Text(_("Your funnel is empty. To start:"), style="bold"), Text(""), steps)


class BoardWindow:
    """Fitting the board to the screen; see the module docstring."""

    visible_count = 6  # columns on screen at once (on_resize fits them)
    _first_visible = 0
    compact = False  # three-line cards on a short screen

    if TYPE_CHECKING:  # what BoardScreen provides
        ctx: AppContext
        columns: list[StageColumn]
        _columns: dict[str, StageColumn]

        def query_one(self, selector: str, expect_type: type = ...) -> Static: ...

    def on_resize(self, event: events.Resize) -> None:
        """As many columns as fit at MIN_COLUMN cells (all six from 156 wide, three at 80),
        and compact cards on a short screen."""
        self.visible_count = columns_that_fit(event.size.width, len(self._columns))
        compact = event.size.height < COMPACT_BELOW
        self._show_window(self._first_visible)
        if compact != self.compact:
            self.compact = compact
            for column in self.columns:
                column.redraw_cards()

    def _show_window(self, first: int) -> None:
        """Show `visible_count` columns from `first` on (the rest are display: none)."""
        columns = self.columns
        first = max(0, min(first, len(columns) - self.visible_count))
        self._first_visible = first
        for index, column in enumerate(columns):
            column.display = first <= index < first + self.visible_count
        self.update_title()

    def update_title(self) -> None:
        self.query_one("#board-title", Static).update(self._title_text())

    def _scroll_to_column(self, column: StageColumn) -> None:
        """Bring `column` into the window, moving the window as little as possible."""
        index = self.columns.index(column)
        if index < self._first_visible:
            self._show_window(index)
        elif index >= self._first_visible + self.visible_count:
            self._show_window(index - self.visible_count + 1)

    def _title_text(self) -> Text:
        title = Text("funnel · " + _("Board"), style="bold")
        store = self.ctx.store
        if len(store.pipelines()) > 1:  # a rep with one pipeline sees nothing new
            title.append(f" · {store.pipeline(self.ctx.pipeline).label(self.ctx.lang)}", style="bold")
        if getattr(store, "view_owner", None):  # a lead on a team server looking at one rep
            title.append(" · " + _("{rep}'s deals").format(rep=store.view_owner), style="bold")
        total = len(self._columns)
        if total and self.visible_count < total:
            first = self._first_visible
            last = first + self.visible_count
            title.append("   ")
            title.append("◀ " if first > 0 else "  ", style="bold")
            title.append(_("stages {first}–{last} of {total}").format(first=first + 1, last=last, total=total))
            title.append(" ▶" if last < total else "", style="bold")
            title.append("   ← →", style="dim")
        return title

    # --- an empty database ------------------------------------------------------------------

    def empty_guide(self) -> Static:
        guide = Static(empty_guide_text(), id="board-empty")
        guide.display = False
        return guide

    def update_empty_guide(self) -> None:
        """Show the guide while the database has no deal at all (lost ones count)."""
        empty = all(column.totals["count"] == 0 and not column.lost_rows for column in self.columns)
        if empty:
            with self.ctx.reporting_errors():
                empty = self.ctx.store.count_deals(status="all") == 0
        guide = self.query_one("#board-empty", Static)
        if guide.display != empty:
            guide.display = empty
