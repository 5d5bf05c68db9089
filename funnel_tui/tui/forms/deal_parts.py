"""Two parts of the new-deal form, kept out of `forms/deal.py`: the first follow-up (when, kind,
note) and the warning that the customer is already in the funnel.

Neither writes or reads the database: the follow-up is handed back in the draft (the store
writes it with the deal, in one transaction), and the warning asks a lookup function the
flow passes in (`Store.similar_customers`), in a thread, a moment after the rep stops typing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Sequence

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Button, Input, Label, Select, Static

from funnel_tui.domain.stages import StageDef
from funnel_tui.domain.validation import FieldError, validate_field
from funnel_tui.i18n import _, pgettext
from funnel_tui.tui.forms.base import kind_options
from funnel_tui.tui.validators import DealField, When

SimilarCustomers = Callable[[str], list[dict]]
LOOKUP_DELAY = 0.3  # seconds after the last keystroke


class FirstFollowUp(Vertical):
    """When (blank = none), kind and note of a new deal's first follow-up."""

    DEFAULT_CSS = """
    FirstFollowUp { height: auto; }
    FirstFollowUp #first-row { height: auto; }
    FirstFollowUp #first-row > Vertical { width: 1fr; height: auto; }
    FirstFollowUp #first-row > Vertical#first-kind-box { width: 24; margin-left: 2; }
    """

    def __init__(self, when: When):
        super().__init__(id="first-follow-up")
        self.when = when

    def compose(self) -> ComposeResult:
        with Horizontal(id="first-row"):
            with Vertical():
                yield Label(Text(_("First follow-up (blank = none)")), classes="caption")
                yield Input("", placeholder=_("e.g. tomorrow 10:00, fri, +3d"), validators=[self.when],
                            id="f-first-when")
                yield Label(Text(""), id="hint-first-when", classes="hint")
                yield Label(Text(""), id="err-first-when", classes="error")
            with Vertical(id="first-kind-box"):
                yield Label(Text(_("Kind")), classes="caption")
                yield Select(kind_options(), value="call", allow_blank=False, id="f-first-kind")
        yield Label(Text(_("What to do then")), classes="caption")
        yield Input("", validators=[DealField("notes")], id="f-first-note")
        yield Label(Text(""), id="err-first-note", classes="error")

    def read(self) -> tuple[datetime | None, str, str]:
        """(due or None, kind, note); raises FieldError naming `first-when` or `first-note`."""
        try:
            due = self.when.parse(self.query_one("#f-first-when", Input).value)
        except ValueError as exc:
            raise FieldError("first-when", str(exc)) from None
        try:
            note = validate_field("notes", self.query_one("#f-first-note", Input).value)
        except FieldError as exc:
            raise FieldError("first-note", exc.message) from None
        return due, str(self.query_one("#f-first-kind", Select).value), note or ""


class SameCustomer(Vertical):
    """"Already in your funnel: …" under the customer field, with a button to open that deal.
    Hidden while nothing matches; it never stops the rep from saving."""

    DEFAULT_CSS = """
    SameCustomer { height: auto; display: none; color: $text-warning; }
    SameCustomer.shown { display: block; }
    SameCustomer Button { margin: 0; }
    """

    def __init__(self, similar: SimilarCustomers | None, stages: Sequence[StageDef], lang: str):
        super().__init__(id="same-customer")
        self.similar = similar
        self.stage_names = {s.key: s.label(lang) for s in stages}
        self.matches: list[dict] = []
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="same-text")
        yield Button(_("Open it (ctrl+o)"), id="open-existing", variant="warning", compact=True)

    def name_changed(self, name: str) -> None:
        """Look the name up a moment after the rep stops typing."""
        if self.similar is None:
            return
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(LOOKUP_DELAY, lambda: self._look_up(name))

    @work(thread=True, exclusive=True, group="same-customer")
    def _look_up(self, name: str) -> None:
        assert self.similar is not None
        matches = self.similar(name) if name.strip() else []
        self.app.call_from_thread(self.show, matches)

    def show(self, matches: list[dict]) -> None:
        """Say which deals have this customer (none: hide)."""
        self.matches = list(matches)
        self.set_class(bool(matches), "shown")
        if not matches:
            return
        first = matches[0]
        text = Text("⚠ ", style="bold")
        text.append(_("Already in your funnel: "))
        text.append(str(first["customer"]), style="bold")
        text.append(" · " + _("deal {id}, {stage}").format(
            id=first["id"], stage=self.stage_names.get(first["stage"], first["stage"])))
        status = {"won": pgettext("deal status", "won"), "lost": pgettext("deal status", "lost")}.get(first["status"])
        if status:
            text.append(f" ({status})")
        if len(matches) > 1:
            text.append(" " + _("and {n} more").format(n=len(matches) - 1))
        text.append("\n" + _("Saving adds a new deal anyway."), style="dim")
        self.query_one("#same-text", Static).update(text)

    @property
    def existing_id(self) -> int | None:
        return self.matches[0]["id"] if self.matches else None


__all__ = ["FirstFollowUp", "SameCustomer", "SimilarCustomers"]
