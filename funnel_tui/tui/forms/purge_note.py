"""The purge queue's note: why a quiet deal stays (keep) or goes (remove). Never empty."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Label

from funnel_tui.domain.validation import FieldError, validate_field
from funnel_tui.i18n import _
from funnel_tui.tui.forms.base import FormScreen, titled


class PurgeNoteForm(FormScreen[str]):
    """Keep (the note is logged as a touch: the deal's quiet clock restarts) or remove (the
    deal is lost, reason purged, with the note): the form asks only for the note."""

    DEFAULT_CSS = """
    PurgeNoteForm > #dialog { width: 70; }
    """

    def __init__(self, customer: str, *, remove: bool):
        super().__init__()
        self.customer = customer
        self.removing = remove

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            title = _("Remove (lost: purged): ") if self.removing else _("Keep: ")
            yield Label(titled(title, self.customer), id="form-title")
            yield Label(Text(_("Why it goes") if self.removing else _("Why it stays (logged as a touch)")),
                        classes="caption")
            yield Input("", id="f-note")
            yield Label(Text(""), id="err-note", classes="error")
            yield from self._buttons()

    def on_mount(self) -> None:
        self.query_one("#f-note", Input).focus()

    def action_save(self) -> None:
        """Hand back the note; an empty one is refused under the field."""
        try:
            note = validate_field("notes", self.query_one("#f-note", Input).value).strip()
            if not note:
                raise FieldError("notes", _("is required: say why"))
        except FieldError as exc:
            self.show_error("note", exc.message)
            return
        self.dismiss(note)
