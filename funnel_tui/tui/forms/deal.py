"""The deal form: a new deal, or an edit of one, checked field by field as the rep types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Vertical, VerticalScroll
from textual.widget import Widget
from textual.binding import Binding
from textual.widgets import Button, Input, Label, Select, TextArea

from funnel_tui.domain.money import format_plain
from funnel_tui.domain.stages import StageDef
from funnel_tui.domain.validation import (
    MULTILINE,
    FieldError,
    FollowUpDraft,
    ValidationError,
    validate_deal,
    validate_field,
)
from funnel_tui.domain.vocab import RISK_LEVEL, RISK_LEVELS, column_name
from funnel_tui.i18n import N_, _
from funnel_tui.tui.forms.base import FormScreen, titled
from funnel_tui.tui.forms.deal_parts import FirstFollowUp, SameCustomer, SimilarCustomers
from funnel_tui.tui.validators import DealField, When


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
    follow_up: FollowUpDraft | None = None
    """New deal: its first follow-up (deal_id 0 until the store knows it), or None."""
    open_existing: int | None = None
    """Set instead of values when the rep chose to open the deal with the same customer."""


# (field, caption) in the order a rep fills them in; multi-line fields get a TextArea.
# Captions and placeholders are English, marked for the catalog; shown with `_()`.
DEAL_FORM_FIELDS: tuple[tuple[str, str], ...] = (
    ("customer", N_("Customer *")),
    ("title", N_("Title")),
    ("stage", N_("Stage")),
    ("amount", N_("Amount")),
    ("currency", N_("Currency")),
    ("probability", N_("Probability % (blank = stage default)")),
    ("expected_close", N_("Expected close")),
    ("owner", N_("Owner")),
    ("lead_score", N_("Lead score 0–10")),
    ("source", N_("Source")),
    ("contact_name", N_("Contact name")),
    ("contact_role", N_("Contact role")),
    ("contact_phone", N_("Contact phone")),
    ("contact_email", N_("Contact email")),
    ("industry", N_("Industry")),
    ("company_size", N_("Company size")),
    ("risk_level", N_("Risk level")),
    ("budget", N_("Budget")),
    ("risk_note", N_("Risk note")),
    ("mitigation", N_("Mitigation")),
    ("decision_chain", N_("Decision chain")),
    ("pain_points", N_("Pain points")),
    ("competitors", N_("Competitors")),
    ("notes", N_("Notes")),
)
_PLACEHOLDERS = {
    "amount": N_("e.g. 12500, 12,500.50, 3万"),
    "currency": "CNY",
    "expected_close": N_("e.g. 2026-12-31, +30d, fri"),
    "probability": "0–100",
    "lead_score": "0–10",
}


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


class DealForm(FormScreen[DealDraft]):
    """New deal (deal=None) or edit of an existing one, with inline validation."""

    # The scrolling container would take focus first; a rep starts typing the customer.
    AUTO_FOCUS = "#f-customer"

    BINDINGS = [Binding("ctrl+o", "open_existing", N_("Open existing"), show=False)]

    DEFAULT_CSS = """
    DealForm #fields {
        height: auto;
    }
    DealForm #grid {
        grid-size: 2;
        grid-gutter: 0 2;
        height: auto;
    }
    DealForm .field {
        height: auto;
    }
    DealForm .wide, DealForm FirstFollowUp {
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
        similar: SimilarCustomers | None = None,
    ):
        """`draft` refills the rep's own input over `deal` (after a refused stale save);
        `stage` preselects the stage of a new deal (e.g. the board column it starts in);
        `similar` looks up deals with the same customer (the new-deal form warns)."""
        super().__init__()
        self.similar = similar
        self.stages = tuple(sorted(stages, key=lambda s: s.position))
        self.now = now
        self.tz = tz
        self.deal = deal
        self.lang = lang
        self.initial: dict[str, str] = {name: _initial_text(name, deal) for name, _caption in DEAL_FORM_FIELDS}
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
            title = Text(_("New deal"))
        else:
            title = titled(_("Edit deal {id}: ").format(id=self.deal["id"]), self.deal.get("customer"))
        with VerticalScroll(id="dialog"):
            yield Label(title, id="form-title")
            with Vertical(id="fields"):
                with Grid(id="grid"):
                    for name, caption in DEAL_FORM_FIELDS:
                        classes = "field wide" if name in MULTILINE else "field"
                        with Vertical(classes=classes):
                            yield Label(Text(_(caption)), classes="caption")
                            yield self._widget_for(name)
                            yield Label(Text(""), id=f"err-{name}", classes="error")
                            if name == "customer" and not self.editing:
                                yield SameCustomer(self.similar, self.stages, self.lang)
                        if name == "owner" and not self.editing:  # the first step, near the top
                            yield FirstFollowUp(When(now=self.now, tz=self.tz, optional=True))
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
                [(Text(RISK_LEVEL.label(level)), level) for level in RISK_LEVELS],
                value=value if value in RISK_LEVELS else Select.NULL, allow_blank=True, id=wid,
                prompt=_("none"),
            )
        if name in MULTILINE:
            return TextArea(value, id=wid, soft_wrap=True)
        return Input(
            value,
            placeholder=_(_PLACEHOLDERS[name]) if name in _PLACEHOLDERS else "",
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
        return {name: self.raw_value(name) for name, _caption in DEAL_FORM_FIELDS}

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
        if name == "first-when":
            self.show_when(name, self.query_one(FirstFollowUp).when, event.value, blank=_("no first follow-up"))
            return
        if name == "customer" and not self.editing:
            self.query_one(SameCustomer).name_changed(event.value)
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
        for name, _caption in DEAL_FORM_FIELDS:
            self.show_error(name, None)
        try:
            validate_deal(values, stages=self.stages, now=self.now, tz=self.tz, partial=self.editing)
        except ValidationError as exc:
            for name, message in exc.errors.items():
                if name in self.initial:
                    self.show_error(name, message)
                else:
                    self.notify(f"{column_name(name)}: {message}", severity="error", markup=False)
            first = next((n for n, _caption in DEAL_FORM_FIELDS if n in exc.errors), None)
            if first:
                self.query_one(f"#f-{first}").focus()
            return
        if self.editing and not values:
            self.dismiss(None)  # nothing changed: same as cancel
            return
        follow_up = None
        if not self.editing:
            try:
                due, kind, note = self.query_one(FirstFollowUp).read()
            except FieldError as exc:
                self.show_error(exc.field, exc.message)
                self.query_one(f"#f-{exc.field}").focus()
                return
            follow_up = FollowUpDraft(0, due, kind, note) if due is not None else None
        deal = self.deal or {}
        self.dismiss(DealDraft(values, deal.get("id"), deal.get("version"), follow_up))

    @on(Button.Pressed, "#open-existing")
    def action_open_existing(self) -> None:
        """Open the deal that already has this customer instead of adding one."""
        if self.editing:
            return
        existing = self.query_one(SameCustomer).existing_id
        if existing is not None:
            self.dismiss(DealDraft(open_existing=existing))
