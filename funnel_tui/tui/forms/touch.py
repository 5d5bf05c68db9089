"""The touch form: what was said on a call or visit, and the next follow-up (blank = none)
with a note of what to do then.

Also the "done" form: completing a follow-up logs a touch of the follow-up's own kind.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Label, Select, TextArea

from funnel_tui.domain.dates import format_local
from funnel_tui.domain.validation import FieldError, TouchDraft, validate_field
from funnel_tui.domain.vocab import FOLLOWUP_KIND
from funnel_tui.i18n import N_, _
from funnel_tui.tui.forms.base import NextStepForm, kind_options, titled
from funnel_tui.tui.validators import DealField


class TouchForm(NextStepForm[TouchDraft]):
    """Log a touch (what was said) and offer the next follow-up (blank = none)."""

    DEFAULT_CSS = """
    TouchForm > #dialog { width: 80; }
    TouchForm TextArea { height: 5; }
    """

    def __init__(
        self,
        deal_id: int,
        customer: str,
        *,
        now: datetime,
        tz: tzinfo,
        default_next: datetime | None = None,
        kind: str = "call",
        title: str = N_("Log touch"),
        ask_kind: bool = True,
    ):
        """`ask_kind=False` when completing a follow-up: the touch takes the follow-up's kind.
        `title` is English (`N_()`-marked), translated when shown."""
        super().__init__(deal_id, customer, now=now, tz=tz, kind=kind, when_optional=True)
        self.ask_kind = ask_kind
        self.title_text = title
        self.default_text = format_local(default_next, tz) if default_next else ""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Label(titled(_("{title}: ").format(title=_(self.title_text)), self.customer), id="form-title")
            kind = Select(kind_options(), value=self.kind, allow_blank=False, id="f-kind")
            kind.display = self.ask_kind
            yield Label(Text(_("Kind") if self.ask_kind
                             else _("Kind: {kind}").format(kind=FOLLOWUP_KIND.label(self.kind))), classes="caption")
            yield kind
            yield Label(Text(_("Note (what was said, their feedback)")), classes="caption")
            yield TextArea("", id="f-note", soft_wrap=True)
            yield Label(Text(""), id="err-note", classes="error")
            yield Label(Text(_("Next follow-up (blank = none)")), classes="caption")
            yield Input(self.default_text, validators=[self.when], id="f-next")
            yield Label(Text(""), id="hint-next", classes="hint")
            yield Label(Text(""), id="err-next", classes="error")
            yield Label(Text(_("Next kind")), classes="caption")
            yield Select(kind_options(), value=self.kind, allow_blank=False, id="f-next-kind")
            yield Label(Text(_("Next step note (what to do then)")), classes="caption")
            yield Input("", id="f-next-note", validators=[DealField("notes")])
            yield Label(Text(""), id="err-next-note", classes="error")
            yield from self._buttons()

    def on_mount(self) -> None:
        self._show_next(self.query_one("#f-next", Input).value)
        self.query_one("#f-note", TextArea).focus()

    def _show_next(self, value: str) -> None:
        self.show_when("next", self.when, value, blank=_("no next follow-up"))

    @on(Input.Changed, "#f-next")
    def _next_changed(self, event: Input.Changed) -> None:
        self._show_next(event.value)

    @on(TextArea.Changed, "#f-note")
    def _note_changed(self, event: TextArea.Changed) -> None:
        try:
            validate_field("notes", event.text_area.text)
        except FieldError as exc:
            self.show_error("note", exc.message)
        else:
            self.show_error("note", None)

    @on(Input.Changed, "#f-next-note")
    def _next_note_changed(self, event: Input.Changed) -> None:
        r = event.validation_result
        self.show_error("next-note", None if r is None or r.is_valid else r.failure_descriptions[0])

    def action_save(self) -> None:
        """Log it if the notes are acceptable and the next time (if any) reads."""
        note = self.query_one("#f-note", TextArea).text
        next_note = self.query_one("#f-next-note", Input).value
        for name, text in (("note", note), ("next-note", next_note)):
            try:
                validate_field("notes", text)
            except FieldError as exc:
                self.show_error(name, exc.message)
                return
        try:
            nxt = self.when.parse(self.query_one("#f-next", Input).value)
        except ValueError as exc:
            self.show_error("next", str(exc))
            return
        self.dismiss(TouchDraft(
            self.deal_id,
            str(self.query_one("#f-kind", Select).value),
            note,
            nxt,
            str(self.query_one("#f-next-kind", Select).value),
            next_note if nxt is not None else "",
        ))
