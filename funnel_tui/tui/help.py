"""Help, generated from BINDINGS, so help, footer, palette and README never disagree.

Help learns about a screen from the screen it is given (its BINDINGS, and HELP_EXTRA for
keys that live on its widgets); it imports no screen. `python -m funnel_tui.tui.help`
prints the README's key tables, which `tui.keys` gathers from every screen.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from funnel_tui.i18n import N_, _
from funnel_tui.tui.key_table import KeyRow, key_rows, localise_bindings, markdown_table

__all__ = ["HelpScreen", "Helpable", "help_rows", "key_rows", "markdown_table"]


class Helpable(Protocol):
    """What help needs of a screen: its bindings (HELP_EXTRA, if it has one, adds rows for
    keys its widgets handle, e.g. j/k in the board's columns)."""

    BINDINGS: ClassVar[list[BindingType]]
    app: Any


def help_rows(screen: Helpable) -> list[KeyRow]:
    """Every key that acts on `screen`, in the rep's language: its own, then the app's (q,
    ctrl+p), then the keys its widgets handle (HELP_EXTRA: `N_()`-marked English). Its
    CONDITIONAL_BINDINGS come in only while its `check_action` lets them act (the pipeline
    key, with more than one pipeline)."""
    check = getattr(screen, "check_action", lambda *_a: True)
    conditional = [b for b in getattr(screen, "CONDITIONAL_BINDINGS", ()) if check(b.action, ()) is not False]
    extra = [(keys, _(what), _(more) if more else "") for keys, what, more in getattr(screen, "HELP_EXTRA", ())]
    return [*key_rows([*screen.BINDINGS, *conditional, *screen.app.BINDINGS], translate=True), *extra]


class HelpScreen(ModalScreen[None]):
    """All keys of the screen it was opened from."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", N_("Close")),
        Binding("question_mark", "dismiss(None)", N_("Close"), show=False),
        Binding("q", "dismiss(None)", N_("Close"), show=False),
    ]

    def __init__(self, screen: Helpable):
        super().__init__()
        localise_bindings(self)
        self.rows = help_rows(screen)

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold", expand=True)
        table.add_column(_("Key"), no_wrap=True)
        table.add_column(_("Does"), no_wrap=True)
        table.add_column("")
        for keys, what, more in self.rows:
            table.add_row(Text(keys, style="bold"), Text(what), Text(more, style="dim"))
        with VerticalScroll(id="help-box", classes="dialog"):
            yield Static(Text(_("Help"), style="bold"))
            yield Static(table, id="help-table")


if __name__ == "__main__":  # python -m funnel_tui.tui.help: regenerate the README's key tables
    from funnel_tui.tui.keys import main

    main()
