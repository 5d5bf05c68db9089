"""Lessons (复盘) in forms: the win's question with an optional lesson (经验), and the form that
writes or changes the lesson of a closed deal later (from the Deal screen)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label

from funnel_tui.domain.text import clean_text
from funnel_tui.i18n import _
from funnel_tui.store.lessons import MAX_LESSON
from funnel_tui.tui.forms.base import FormScreen, titled
from funnel_tui.tui.forms.confirm import ConfirmDialog


def lesson_problem(raw: str, *, required: bool) -> str | None:
    """Why the typed lesson cannot be kept (too long; empty where one is needed), or None."""
    try:
        cleaned = clean_text(raw, multiline=True, max_len=MAX_LESSON)
    except ValueError as exc:
        return str(exc)
    if required and not cleaned:
        return _("write what the deal taught")
    return None


class WinDialog(ConfirmDialog):
    """Moving into Won asks first (y / n, as before); Tab reaches an optional lesson (经验),
    Enter there says yes; the lesson is kept with the win in one undo step. `lesson` holds it
    once answered yes."""

    DEFAULT_CSS = """
    WinDialog > #dialog { width: 70; }
    """

    def __init__(self, question: str):
        super().__init__(question)
        self.lesson = ""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog") as box:
            box.can_focus = False  # Tab: Yes ⇄ the lesson, nothing between
            yield Label(Text(self.question), id="question")
            yield Label(Text(_("Lesson of the win (optional): what made it work?")), classes="caption")
            yield Input("", id="f-lesson", placeholder=_("e.g. the CFO joined the demo"))
            yield Label(Text(""), id="err-lesson", classes="error")
            with Horizontal(id="buttons"):
                yield Button(_("Yes (y)"), id="yes", variant="primary")
                # n and escape say no: Tab goes back and forth between Yes and the lesson.
                no = Button(_("No (n)"), id="no")
                no.can_focus = False
                yield no

    def _yes(self) -> None:
        raw = self.query_one("#f-lesson", Input).value
        problem = lesson_problem(raw, required=False)
        if problem:
            self.show_error("lesson", problem)
            return
        self.lesson = raw.strip()
        self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "yes":
            self._yes()
        else:
            self.dismiss(False)

    def action_answer(self, yes: bool) -> None:
        """Answer the question."""
        self._yes() if yes else self.dismiss(False)

    def action_save(self) -> None:
        """Yes, with the lesson as typed."""
        self._yes()


class LessonForm(FormScreen[str]):
    """The lesson of a won (经验) or lost (教训) deal, written or changed later."""

    DEFAULT_CSS = """
    LessonForm > #dialog { width: 80; }
    """

    def __init__(self, customer: str, outcome: str, text: str = ""):
        super().__init__()
        self.customer, self.outcome, self.text = customer, outcome, text

    def compose(self) -> ComposeResult:
        title = _("Lesson of the win: ") if self.outcome == "won" else _("Lesson of the loss: ")
        with VerticalScroll(id="dialog"):
            yield Label(titled(title, self.customer), id="form-title")
            yield Label(Text(_("What did this deal teach? (shared with your team)")), classes="caption")
            # Changing a lesson starts at its end, never with the old words selected.
            yield Input(self.text, id="f-lesson", select_on_focus=False)
            yield Label(Text(""), id="err-lesson", classes="error")
            yield from self._buttons()

    def on_mount(self) -> None:
        self.query_one("#f-lesson", Input).focus()

    def action_save(self) -> None:
        """Keep the lesson (never empty)."""
        raw = self.query_one("#f-lesson", Input).value
        problem = lesson_problem(raw, required=True)
        if problem:
            self.show_error("lesson", problem)
            return
        self.dismiss(raw.strip())
