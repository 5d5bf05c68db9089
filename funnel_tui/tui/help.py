"""The key table, generated from BINDINGS, so help, footer and README never disagree."""

from __future__ import annotations

from typing import Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from funnel_tui.tui.i18n import tr

NAMES = {"question_mark": "?", "slash": "/", "left": "←", "right": "→", "up": "↑", "down": "↓",
         "shift+left": "shift+←", "shift+right": "shift+→", "ctrl+p": "ctrl+p", "enter": "Enter",
         "escape": "Esc"}


def key_rows(bindings: Iterable[Binding | tuple]) -> list[tuple[str, str, str]]:
    """(keys, what, longer help) for every binding with a description, in order."""
    rows = []
    for b in bindings:
        if not isinstance(b, Binding):
            b = Binding(*b)
        if not b.description:
            continue
        keys = " ".join(NAMES.get(k.strip(), k.strip()) for k in b.key.split(","))
        rows.append((keys, b.description, b.tooltip or ""))
    return rows


def markdown_table(bindings: Iterable[Binding | tuple]) -> str:
    """The same table for the README."""
    lines = ["| Key | Does | |", "| :- | :- | :- |"]
    lines += [f"| {k} | {d} | {h} |" for k, d, h in key_rows(bindings)]
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    """All keys of the screen it was opened from."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("question_mark", "dismiss(None)", "Close", show=False),
        Binding("q", "dismiss(None)", "Close", show=False),
    ]

    def __init__(self, bindings: Iterable[Binding | tuple]):
        super().__init__()
        self.rows = key_rows(bindings)

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold", expand=True)
        table.add_column("Key", no_wrap=True)
        table.add_column("Does", no_wrap=True)
        table.add_column("")
        for keys, what, more in self.rows:
            table.add_row(Text(keys, style="bold"), Text(what), Text(more, style="dim"))
        table.add_row(Text("↑ ↓ j k", style="bold"), Text("Cards"), Text("Move between cards", style="dim"))
        table.add_row(Text("Enter", style="bold"), Text("Open"), Text("Open the highlighted deal", style="dim"))
        with VerticalScroll(id="help-box", classes="dialog"):
            yield Static(Text(tr(self.app.lang, "Help"), style="bold"))
            yield Static(table, id="help-table")


def readme_keys() -> str:
    """The README's key section, generated from every screen's BINDINGS."""
    from funnel_tui.tui.screens.board import BoardScreen
    from funnel_tui.tui.screens.deal import DealScreen
    from funnel_tui.tui.screens.summary import SummaryScreen
    from funnel_tui.tui.screens.today import TodayScreen

    parts = []
    for title, screen in (("Board", BoardScreen), ("Deal", DealScreen), ("Today", TodayScreen),
                          ("Summary", SummaryScreen)):
        parts.append(f"**{title}**\n\n{markdown_table(screen.BINDINGS)}")
    return "\n\n".join(parts)


if __name__ == "__main__":  # python -m funnel_tui.tui.help: regenerate the README's key tables
    print(readme_keys())
