"""The first start's one question: the rep's name, so the deals they add are theirs.

Shown once (the app remembers that it asked, whatever the answer); Enter on a blank name or
Esc skips, and `funnel settings me NAME` sets it any time later.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label

from funnel_tui.domain.validation import FieldError, validate_field
from funnel_tui.i18n import _
from funnel_tui.tui.forms.base import FormScreen


class NameForm(FormScreen[str]):
    """What is your name? Hands back the name ("" to skip; None on Esc)."""

    DEFAULT_CSS = """
    NameForm > #dialog { width: 64; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):  # as every form: it scrolls, title and buttons docked
            yield Label(Text(_("Welcome to funnel")), id="form-title")
            yield Label(Text(_("Your name, as the owner of your deals: the deals you add are yours, "
                               "and Summary shows your funnel first.")), classes="hint")
            yield Input("", id="f-name", placeholder=_("e.g. 王磊 or Sam Lee"))
            yield Label(Text(""), id="err-name", classes="error")
            yield Label(Text(_("Change it any time: funnel settings me NAME")), classes="hint")
            with Horizontal(id="buttons"):
                yield Button(_("Save"), id="save", variant="primary")
                yield Button(_("Later"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#f-name", Input).focus()

    @on(Input.Changed, "#f-name")
    def _typed(self) -> None:
        self.show_error("name", None)

    def action_save(self) -> None:
        """Keep the name (cleaned, at most 100 characters); blank skips."""
        try:
            name = validate_field("owner", self.query_one("#f-name", Input).value).strip()
        except FieldError as exc:
            self.show_error("name", exc.message)
            return
        self.dismiss(name)
