"""The follow-up form: kind, when (read back as a local day while typing), note."""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Label, Select

from funnel_tui.domain.dates import format_local
from funnel_tui.domain.validation import FieldError, FollowUpDraft, validate_field
from funnel_tui.i18n import _
from funnel_tui.tui.forms.base import NextStepForm, kind_options, titled
from funnel_tui.tui.validators import DealField


class FollowUpForm(NextStepForm[FollowUpDraft]):
    """Plan a follow-up: kind, when (shown back as local time while typing), note."""

    DEFAULT_CSS = """
    FollowUpForm > #dialog { width: 70; }
    """

    def __init__(
        self,
        deal_id: int,
        customer: str,
        *,
        now: datetime,
        tz: tzinfo,
        default_due: datetime | None = None,
        kind: str = "call",
    ):
        super().__init__(deal_id, customer, now=now, tz=tz, kind=kind, when_optional=False)
        # Translators: the follow-up form's default time; it must read back as a date (明天 does).
        self.default_text = format_local(default_due, tz) if default_due else _("tomorrow")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Label(titled(_("Follow-up: "), self.customer), id="form-title")
            yield Label(Text(_("Kind")), classes="caption")
            yield Select(kind_options(), value=self.kind, allow_blank=False, id="f-kind")
            yield Label(Text(_("When (e.g. tomorrow, +2h, fri 15:00)")), classes="caption")
            yield Input(self.default_text, validators=[self.when], id="f-when")
            yield Label(Text(""), id="hint-when", classes="hint")
            yield Label(Text(""), id="err-when", classes="error")
            yield Label(Text(_("Note")), classes="caption")
            yield Input("", validators=[DealField("notes", now=self.now, tz=self.tz)], id="f-note")
            yield Label(Text(""), id="err-note", classes="error")
            yield from self._buttons()

    def on_mount(self) -> None:
        self.show_when("when", self.when, self.query_one("#f-when", Input).value)

    @on(Input.Changed, "#f-when")
    def _when_changed(self, event: Input.Changed) -> None:
        self.show_when("when", self.when, event.value)

    @on(Input.Changed, "#f-note")
    def _note_changed(self, event: Input.Changed) -> None:
        r = event.validation_result
        self.show_error("note", None if r is None or r.is_valid else r.failure_descriptions[0])

    def action_save(self) -> None:
        """Plan the follow-up if the time reads and the note is acceptable."""
        when = self.query_one("#f-when", Input).value
        note = self.query_one("#f-note", Input).value
        try:
            due = self.when.parse(when)
        except ValueError as exc:
            self.show_error("when", str(exc))
            return
        try:
            validate_field("notes", note)
        except FieldError as exc:
            self.show_error("note", exc.message)
            return
        kind = self.query_one("#f-kind", Select).value
        assert due is not None
        self.dismiss(FollowUpDraft(self.deal_id, due, str(kind), note))
