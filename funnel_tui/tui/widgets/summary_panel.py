"""What every panel of the Summary screen is: a scrollable widget that reads its numbers in a
thread worker through the store (`read`, no widget touched there) and draws them (`show`, in
the UI thread). The screen owns the selectors and the workers; a panel only knows its own
option (the trend's period length, the segment dimension), which the screen hands to `read`
as `request`.

The list of panels is `summary_panels.PANELS`; a new panel (lessons, say) is a subclass of
`SummaryPanel` listed there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, ClassVar

from rich import box
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static


@dataclass(frozen=True, slots=True)
class Choice:
    """What the selectors say, resolved in the worker: whose deals (owner None = everyone the
    rep may see), created in [since, until), of which pipeline, as of `now`, and each stage
    key's name in the rep's language."""

    owner: str | None
    side_by_side: bool
    since: datetime | None
    until: datetime | None
    pipeline: str | None
    now: datetime
    tz: tzinfo
    labels: dict[str, str]

    def deals(self):
        """The summary's deal set for this choice (one rep or all, the period)."""
        from funnel_tui.store.summary import DealSet

        return DealSet(owner=self.owner, since=self.since, until=self.until)


class SummaryPanel(VerticalScroll):
    """One panel of the Summary screen (a tab)."""

    panel_id: ClassVar[str] = ""
    title: ClassVar[str] = ""  # marked with N_(), translated when the tab is made
    key: ClassVar[str] = ""  # the digit that shows it (the screen binds it)

    DEFAULT_CSS = """
    SummaryPanel { padding: 0 1; }
    SummaryPanel .block { margin-bottom: 1; height: auto; }
    SummaryPanel Select { width: 30; }
    """

    class Asked(Message):
        """The panel's own option changed: read it again."""

        def __init__(self, panel: SummaryPanel) -> None:
            super().__init__()
            self.panel = panel

    def __init__(self) -> None:
        super().__init__(id=self.panel_id)
        self.data: Any = None  # what it shows (also handy for tests)

    def request(self) -> Any:
        """The panel's own option, read in the UI thread and handed to `read`."""
        return None

    @staticmethod
    def read(store: Any, choice: Choice, request: Any) -> Any:
        """The numbers, in a thread worker: store calls only."""
        raise NotImplementedError

    def show(self, data: Any) -> None:
        """Draw `data` (what `read` answered)."""
        raise NotImplementedError

    def waiting(self) -> None:
        """Shown while the numbers are read."""


def block(block_id: str) -> Static:
    """An empty block of a panel, filled by `show`."""
    return Static(Text(""), id=block_id, classes="block")


def panel_table(title: str | None = None) -> Table:
    """A panel's table: a bold title on the left, a light rule under the header (few columns
    spent on borders, so it fits 80)."""
    return Table(title=Text(title, style="bold") if title else None, title_justify="left", header_style="bold",
                 pad_edge=False, box=box.SIMPLE_HEAD)
