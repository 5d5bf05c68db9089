"""The lost form: why the deal was lost — a reason from the list, free text, or both — and,
optionally, what the loss taught (教训, store.lessons)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Label, Select

from funnel_tui.domain.validation import FieldError, validate_field
from funnel_tui.domain.vocab import LOST_REASON, LOST_REASONS
from funnel_tui.i18n import _
from funnel_tui.tui.forms.base import FormScreen, titled
from funnel_tui.tui.validators import DealField


class LoseForm(FormScreen[str]):
    """Why was the deal lost: a reason from the list, free text, or both; never empty."""

    DEFAULT_CSS = """
    LoseForm > #dialog { width: 70; }
    """

    def __init__(self, customer: str):
        super().__init__()
        self.customer = customer
        self.lesson = ""  # the optional lesson, once saved (the form still returns the reason)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Label(titled(_("Mark lost: "), self.customer), id="form-title")
            yield Label(Text(_("Reason")), classes="caption")
            # The reasons are stored as written here (English) until the store keeps codes;
            # the rep reads them in their language.
            yield Select([(Text(LOST_REASON.label(r)), r) for r in LOST_REASONS], allow_blank=True,
                         id="f-reason", prompt=_("choose a reason"))
            yield Label(Text(_("Details (free text)")), classes="caption")
            yield Input("", id="f-text", validators=[DealField("lost_reason")])
            yield Label(Text(""), id="err-reason", classes="error")
            yield Label(Text(_("Lesson (optional): what would you do differently?")), classes="caption")
            yield Input("", id="f-lesson")
            yield Label(Text(""), id="err-lesson", classes="error")
            yield from self._buttons()

    def reason(self) -> str:
        chosen = self.query_one("#f-reason", Select).value
        chosen = "" if chosen is Select.NULL else str(chosen)
        text = self.query_one("#f-text", Input).value.strip()
        if chosen and text:
            return f"{chosen}: {text}"
        return chosen or text

    @on(Select.Changed, "#f-reason")
    def _chosen(self) -> None:
        if self.reason():
            self.show_error("reason", None)

    @on(Input.Changed, "#f-text")
    def _typed(self, event: Input.Changed) -> None:
        r = event.validation_result
        self.show_error("reason", None if r is None or r.is_valid else r.failure_descriptions[0])

    def action_save(self) -> None:
        """Mark lost only with a reason (picked or typed)."""
        reason = self.reason()
        try:
            reason = validate_field("lost_reason", reason)
            if not reason:
                raise FieldError("lost_reason", _("is required: say why the deal was lost"))
        except FieldError as exc:
            self.show_error("reason", exc.message)
            return
        from funnel_tui.tui.forms.lesson import lesson_problem

        raw = self.query_one("#f-lesson", Input).value
        problem = lesson_problem(raw, required=False)
        if problem:
            self.show_error("lesson", problem)
            return
        self.lesson = raw.strip()
        self.dismiss(reason)
