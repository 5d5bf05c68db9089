"""Modal forms: each returns a typed draft through `dismiss()` and never writes to the database.

Every Input carries a validator that wraps the domain check the CLI uses, the error sits in
a label right under its field, and Save does nothing until the whole draft validates. User
text (customer names, notes) is only ever shown through `Text(...)`, never parsed as markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, TextArea

from funnel_tui.domain.dates import format_local
from funnel_tui.domain.money import format_plain
from funnel_tui.domain.stages import StageDef
from funnel_tui.domain.validation import (
    MULTILINE,
    FieldError,
    FollowUpDraft,
    TouchDraft,
    ValidationError,
    validate_deal,
    validate_field,
)
from funnel_tui.domain.vocab import FOLLOWUP_KINDS, LOST_REASONS, RISK_LEVELS
from funnel_tui.tui.validators import DealField, When

__all__ = [
    "DealDraft",
    "DealForm",
    "FollowUpForm",
    "TouchForm",
    "LoseForm",
    "ConfirmDialog",
    "DEAL_FORM_FIELDS",
]


@dataclass
class DealDraft:
    """What the deal form hands back: raw text per field, as the CLI would receive it.

    New deal: every filled field. Edit: only the fields the rep changed, plus the deal's
    id and the version it was read at (so a save over someone else's change is refused).
    A `stage` key in an edit means a move: `Store.update_deal` refuses stage changes, so
    the caller applies it with `move_deal`.
    """

    values: dict = field(default_factory=dict)
    deal_id: int | None = None
    version: int | None = None


# (field, caption) in the order a rep fills them in; multi-line fields get a TextArea.
DEAL_FORM_FIELDS: tuple[tuple[str, str], ...] = (
    ("customer", "Customer *"),
    ("title", "Title"),
    ("stage", "Stage"),
    ("amount", "Amount"),
    ("currency", "Currency"),
    ("probability", "Probability % (blank = stage default)"),
    ("expected_close", "Expected close"),
    ("owner", "Owner"),
    ("lead_score", "Lead score 0–10"),
    ("source", "Source"),
    ("contact_name", "Contact name"),
    ("contact_role", "Contact role"),
    ("contact_phone", "Contact phone"),
    ("contact_email", "Contact email"),
    ("industry", "Industry"),
    ("company_size", "Company size"),
    ("risk_level", "Risk level"),
    ("budget", "Budget"),
    ("risk_note", "Risk note"),
    ("mitigation", "Mitigation"),
    ("decision_chain", "Decision chain"),
    ("pain_points", "Pain points"),
    ("competitors", "Competitors"),
    ("notes", "Notes"),
)
_SELECTS = {"stage", "risk_level"}
_PLACEHOLDERS = {
    "amount": "e.g. 12500, 12,500.50, 3万",
    "currency": "CNY",
    "expected_close": "e.g. 2026-12-31, +30d, fri",
    "probability": "0–100",
    "lead_score": "0–10",
}


def _kind_options() -> list[tuple[Text, str]]:
    return [(Text(k), k) for k in FOLLOWUP_KINDS]


def _initial_text(name: str, deal: dict | None) -> str:
    """How a stored value appears in its input (the text that would parse back to it)."""
    if deal is None:
        return ""
    value = deal.get(name)
    if value is None:
        return ""
    if name == "amount":
        return format_plain(int(value)) if value else ""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class _Form(ModalScreen):
    """Shared frame: a titled dialog, Save / Cancel, escape cancels, ctrl+s saves."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    DEFAULT_CSS = """
    _Form {
        align: center middle;
        background: $background 60%;
    }
    _Form > #dialog {
        width: 100;
        max-width: 95%;
        height: auto;
        max-height: 95%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    _Form #form-title {
        width: 100%;
        text-style: bold;
        color: $text;
        background: $primary 30%;
        padding: 0 1;
        margin-bottom: 1;
    }
    _Form .caption {
        color: $text-muted;
    }
    _Form .error {
        color: $error;
        width: 100%;
        display: none;
    }
    _Form .error.shown {
        display: block;
    }
    _Form .hint {
        color: $text-muted;
        width: 100%;
    }
    _Form #buttons {
        height: auto;
        align-horizontal: right;
        margin-top: 1;
    }
    _Form #buttons Button {
        margin-left: 1;
    }
    """

    def show_error(self, name: str, message: str | None) -> None:
        """Put `message` in the label under field `name` (None clears it)."""
        label = self.query_one(f"#err-{name}", Label)
        label.update(Text(message or ""))
        label.set_class(bool(message), "shown")

    def error_text(self, name: str) -> str:
        """The error currently shown under a field ("" when none); handy for tests."""
        label = self.query_one(f"#err-{name}", Label)
        return str(label.render()) if label.has_class("shown") else ""

    def _buttons(self) -> ComposeResult:
        with Horizontal(id="buttons"):
            yield Button("Save", id="save", variant="primary")
            yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_cancel(self) -> None:
        """Close without saving anything."""
        self.dismiss(None)

    def action_save(self) -> None:  # pragma: no cover - every form overrides it
        raise NotImplementedError


class DealForm(_Form):
    """New deal (deal=None) or edit of an existing one, with inline validation."""

    # The scrolling container would take focus first; a rep starts typing the customer.
    AUTO_FOCUS = "#f-customer"

    DEFAULT_CSS = """
    DealForm #fields {
        height: auto;
        max-height: 32;
    }
    DealForm #grid {
        grid-size: 2;
        grid-gutter: 0 2;
        height: auto;
    }
    DealForm .field {
        height: auto;
    }
    DealForm .wide {
        column-span: 2;
    }
    DealForm TextArea {
        height: 4;
    }
    """

    def __init__(
        self,
        stages: Sequence[StageDef],
        *,
        now: datetime,
        tz: tzinfo,
        deal: dict | None = None,
        draft: DealDraft | None = None,
        stage: str | None = None,
        lang: str = "en",
    ):
        """`draft` refills the rep's own input over `deal` (after a refused stale save);
        `stage` preselects the stage of a new deal (e.g. the board column it starts in)."""
        super().__init__()
        self.stages = tuple(sorted(stages, key=lambda s: s.position))
        self.now = now
        self.tz = tz
        self.deal = deal
        self.lang = lang
        self.initial: dict[str, str] = {name: _initial_text(name, deal) for name, _ in DEAL_FORM_FIELDS}
        if deal is None:
            first_open = next((s for s in self.stages if s.kind == "open"), self.stages[0])
            self.initial["stage"] = stage or first_open.key
            self.initial["currency"] = "CNY"
        # What the widgets start with: the stored deal, overlaid with a kept draft.
        self.start = dict(self.initial)
        if draft is not None:
            self.start.update({k: str(v) for k, v in draft.values.items() if k in self.start})

    @property
    def editing(self) -> bool:
        return self.deal is not None

    def compose(self) -> ComposeResult:
        if self.deal is None:
            title = Text("New deal")
        else:
            title = Text(f"Edit deal {self.deal['id']}: ")
            title.append(str(self.deal.get("customer") or ""))
        with Vertical(id="dialog"):
            yield Label(title, id="form-title")
            with VerticalScroll(id="fields"):
                with Grid(id="grid"):
                    for name, caption in DEAL_FORM_FIELDS:
                        classes = "field wide" if name in MULTILINE else "field"
                        with Vertical(classes=classes):
                            yield Label(Text(caption), classes="caption")
                            yield self._widget_for(name)
                            yield Label(Text(""), id=f"err-{name}", classes="error")
            yield from self._buttons()

    def _widget_for(self, name: str) -> Widget:
        value = self.start.get(name, "")
        wid = f"f-{name}"
        if name == "stage":
            return Select(
                [(Text(s.label(self.lang)), s.key) for s in self.stages],
                value=value or self.stages[0].key, allow_blank=False, id=wid,
            )
        if name == "risk_level":
            return Select(
                [(Text(level), level) for level in RISK_LEVELS],
                value=value if value in RISK_LEVELS else Select.NULL, allow_blank=True, id=wid,
                prompt="none",
            )
        if name in MULTILINE:
            return TextArea(value, id=wid, soft_wrap=True)
        return Input(
            value,
            placeholder=_PLACEHOLDERS.get(name, ""),
            validators=[DealField(name, stages=self.stages, now=self.now, tz=self.tz)],
            id=wid,
        )

    # --- reading the widgets ------------------------------------------------------------

    def raw_value(self, name: str) -> str:
        widget = self.query_one(f"#f-{name}")
        if isinstance(widget, Select):
            return "" if widget.value is Select.NULL else str(widget.value)
        if isinstance(widget, TextArea):
            return widget.text
        assert isinstance(widget, Input)
        return widget.value

    def raw_values(self) -> dict[str, str]:
        return {name: self.raw_value(name) for name, _ in DEAL_FORM_FIELDS}

    def draft_values(self) -> dict[str, str]:
        """New: every filled field (customer always, so a blank one is refused).
        Edit: only what differs from the stored deal."""
        raw = self.raw_values()
        if self.editing:
            return {k: v for k, v in raw.items() if v != self.initial[k]}
        return {k: v for k, v in raw.items() if v.strip() or k == "customer"}

    # --- inline errors --------------------------------------------------------------------

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "")[2:]
        result = event.validation_result
        if result is None or result.is_valid:
            self.show_error(name, None)
        else:
            self.show_error(name, result.failure_descriptions[0])

    @on(TextArea.Changed)
    def _text_changed(self, event: TextArea.Changed) -> None:
        name = (event.text_area.id or "")[2:]
        try:
            validate_field(name, event.text_area.text)
        except FieldError as exc:
            self.show_error(name, exc.message)
        else:
            self.show_error(name, None)

    def action_save(self) -> None:
        """Save the deal if every field is valid; otherwise show each error by its field."""
        values = self.draft_values()
        for name, _ in DEAL_FORM_FIELDS:
            self.show_error(name, None)
        try:
            validate_deal(values, stages=self.stages, now=self.now, tz=self.tz, partial=self.editing)
        except ValidationError as exc:
            for name, message in exc.errors.items():
                if name in self.initial:
                    self.show_error(name, message)
                else:
                    self.notify(f"{name}: {message}", severity="error", markup=False)
            first = next((n for n, _ in DEAL_FORM_FIELDS if n in exc.errors), None)
            if first:
                self.query_one(f"#f-{first}").focus()
            return
        if self.editing and not values:
            self.dismiss(None)  # nothing changed: same as cancel
            return
        deal = self.deal or {}
        self.dismiss(DealDraft(values, deal.get("id"), deal.get("version")))


class FollowUpForm(_Form):
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
        super().__init__()
        self.deal_id = deal_id
        self.customer = customer
        self.now = now
        self.tz = tz
        self.when = When(now=now, tz=tz)
        self.default_text = format_local(default_due, tz) if default_due else "tomorrow"
        self.kind = kind if kind in FOLLOWUP_KINDS else "call"

    def compose(self) -> ComposeResult:
        title = Text("Follow-up: ")
        title.append(str(self.customer or ""))
        with Vertical(id="dialog"):
            yield Label(title, id="form-title")
            yield Label(Text("Kind"), classes="caption")
            yield Select(_kind_options(), value=self.kind, allow_blank=False, id="f-kind")
            yield Label(Text("When (e.g. tomorrow, +2h, fri 15:00)"), classes="caption")
            yield Input(self.default_text, validators=[self.when], id="f-when")
            yield Label(Text(""), id="hint-when", classes="hint")
            yield Label(Text(""), id="err-when", classes="error")
            yield Label(Text("Note"), classes="caption")
            yield Input("", validators=[DealField("notes", now=self.now, tz=self.tz)], id="f-note")
            yield Label(Text(""), id="err-note", classes="error")
            yield from self._buttons()

    def on_mount(self) -> None:
        self._update_hint(self.query_one("#f-when", Input).value)

    def _update_hint(self, value: str) -> None:
        try:
            due = self.when.parse(value)
        except ValueError as exc:
            self.query_one("#hint-when", Label).update(Text(""))
            self.show_error("when", str(exc))
            return
        self.show_error("when", None)
        self.query_one("#hint-when", Label).update(Text(f"→ {_local_day(due, self.tz)}"))

    @on(Input.Changed, "#f-when")
    def _when_changed(self, event: Input.Changed) -> None:
        self._update_hint(event.value)

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


def _local_day(dt: datetime, tz: tzinfo) -> str:
    """`Wed 2026-11-25 09:00`: the weekday helps more than the date when planning."""
    local = dt.astimezone(tz)
    return f"{local:%a} {format_local(dt, tz)}"


class TouchForm(_Form):
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
        title: str = "Log touch",
        ask_kind: bool = True,
    ):
        """`ask_kind=False` when completing a follow-up: the touch takes the follow-up's kind."""
        super().__init__()
        self.ask_kind = ask_kind
        self.deal_id = deal_id
        self.customer = customer
        self.now = now
        self.tz = tz
        self.kind = kind if kind in FOLLOWUP_KINDS else "call"
        self.title_text = title
        self.when = When(now=now, tz=tz, optional=True)
        self.default_text = format_local(default_next, tz) if default_next else ""

    def compose(self) -> ComposeResult:
        title = Text(f"{self.title_text}: ")
        title.append(str(self.customer or ""))
        with Vertical(id="dialog"):
            yield Label(title, id="form-title")
            kind = Select(_kind_options(), value=self.kind, allow_blank=False, id="f-kind")
            kind.display = self.ask_kind
            yield Label(Text("Kind" if self.ask_kind else f"Kind: {self.kind}"), classes="caption")
            yield kind
            yield Label(Text("Note (what was said, their feedback)"), classes="caption")
            yield TextArea("", id="f-note", soft_wrap=True)
            yield Label(Text(""), id="err-note", classes="error")
            yield Label(Text("Next follow-up (blank = none)"), classes="caption")
            yield Input(self.default_text, validators=[self.when], id="f-next")
            yield Label(Text(""), id="hint-next", classes="hint")
            yield Label(Text(""), id="err-next", classes="error")
            yield Label(Text("Next kind"), classes="caption")
            yield Select(_kind_options(), value=self.kind, allow_blank=False, id="f-next-kind")
            yield from self._buttons()

    def on_mount(self) -> None:
        self._update_hint(self.query_one("#f-next", Input).value)
        self.query_one("#f-note", TextArea).focus()

    def _update_hint(self, value: str) -> None:
        hint = self.query_one("#hint-next", Label)
        try:
            due = self.when.parse(value)
        except ValueError as exc:
            hint.update(Text(""))
            self.show_error("next", str(exc))
            return
        self.show_error("next", None)
        hint.update(Text(f"→ {_local_day(due, self.tz)}" if due else "no next follow-up"))

    @on(Input.Changed, "#f-next")
    def _next_changed(self, event: Input.Changed) -> None:
        self._update_hint(event.value)

    @on(TextArea.Changed, "#f-note")
    def _note_changed(self, event: TextArea.Changed) -> None:
        try:
            validate_field("notes", event.text_area.text)
        except FieldError as exc:
            self.show_error("note", exc.message)
        else:
            self.show_error("note", None)

    def action_save(self) -> None:
        """Log it if the note is acceptable and the next time (if any) reads."""
        note = self.query_one("#f-note", TextArea).text
        try:
            validate_field("notes", note)
        except FieldError as exc:
            self.show_error("note", exc.message)
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
            "",
        ))


class LoseForm(_Form):
    """Why was the deal lost: a reason from the list, free text, or both; never empty."""

    DEFAULT_CSS = """
    LoseForm > #dialog { width: 70; }
    """

    def __init__(self, customer: str):
        super().__init__()
        self.customer = customer

    def compose(self) -> ComposeResult:
        title = Text("Mark lost: ")
        title.append(str(self.customer or ""))
        with Vertical(id="dialog"):
            yield Label(title, id="form-title")
            yield Label(Text("Reason"), classes="caption")
            yield Select([(Text(r), r) for r in LOST_REASONS], allow_blank=True, id="f-reason",
                         prompt="choose a reason")
            yield Label(Text("Details (free text)"), classes="caption")
            yield Input("", id="f-text", validators=[DealField("lost_reason")])
            yield Label(Text(""), id="err-reason", classes="error")
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
                raise FieldError("lost_reason", "is required: say why the deal was lost")
        except FieldError as exc:
            self.show_error("reason", exc.message)
            return
        self.dismiss(reason)


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question; escape or `n` says no."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "No"),
    ]

    DEFAULT_CSS = """
    ConfirmDialog {
        align: center middle;
        background: $background 60%;
    }
    ConfirmDialog > #dialog {
        width: 60;
        height: auto;
        border: thick $warning;
        background: $surface;
        padding: 1 2;
    }
    ConfirmDialog #buttons {
        height: auto;
        align-horizontal: right;
        margin-top: 1;
    }
    ConfirmDialog #buttons Button { margin-left: 1; }
    """

    def __init__(self, question: str):
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(self.question), id="question")
            with Horizontal(id="buttons"):
                yield Button("Yes (y)", id="yes", variant="primary")
                yield Button("No (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        """Answer the question."""
        self.dismiss(yes)
