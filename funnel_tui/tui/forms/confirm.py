"""A yes/no question in the forms' frame (moving a deal into Won asks first)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Label

from funnel_tui.i18n import N_, _
from funnel_tui.tui.forms.base import FormScreen


class ConfirmDialog(FormScreen[bool]):
    """A yes/no question; escape or `n` says no (False, never None)."""

    BINDINGS = [
        Binding("y", "answer(True)", N_("Yes")),
        Binding("n", "answer(False)", N_("No")),
        Binding("escape", "answer(False)", N_("No")),
    ]

    DEFAULT_CSS = """
    ConfirmDialog > #dialog {
        width: 60;
        border: thick $warning;
        padding: 1 2;
    }
    """

    def __init__(self, question: str):
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Label(Text(self.question), id="question")
            with Horizontal(id="buttons"):
                yield Button(_("Yes (y)"), id="yes", variant="primary")
                yield Button(_("No (n)"), id="no")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        """Answer the question."""
        self.dismiss(yes)

    def action_cancel(self) -> None:
        """No."""
        self.dismiss(False)

    def action_save(self) -> None:
        """Yes (ctrl+s confirms, as it saves in every other form)."""
        self.dismiss(True)
