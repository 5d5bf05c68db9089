"""The frame every form shares: `FormScreen[T]`, a modal that hands back a `T` or None.

A form asks, checks what the rep typed with the domain's own validators, shows each error
right under its field, and returns a typed draft through `dismiss()`. It never writes: the
flow that opened it (`tui.deal_actions`) does.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from funnel_tui.domain.dates import format_shown
from funnel_tui.domain.vocab import FOLLOWUP_KIND, FOLLOWUP_KINDS
from funnel_tui.i18n import N_, _
from funnel_tui.tui.key_table import localise_bindings
from funnel_tui.tui.validators import When

T = TypeVar("T")


class FormScreen(ModalScreen[T | None]):
    """A titled dialog with Save / Cancel: escape cancels (None), ctrl+s saves (a `T`)."""

    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel")),
        Binding("ctrl+s", "save", N_("Save")),
    ]

    DEFAULT_CSS = """
    FormScreen {
        align: center middle;
        background: $background 60%;
    }
    /* The dialog scrolls; its title and buttons are docked, so they stay in view on any
       screen from 80×24 up. */
    FormScreen > #dialog {
        width: 100;
        max-width: 95%;
        height: auto;
        max-height: 95%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    FormScreen #form-title {
        dock: top;
        width: 100%;
        text-style: bold;
        color: $text;
        background: $primary 30%;
        padding: 0 1;
        margin-bottom: 1;
    }
    FormScreen .caption {
        color: $text-muted;
    }
    FormScreen .error {
        color: $error;
        width: 100%;
        display: none;
    }
    FormScreen .error.shown {
        display: block;
    }
    FormScreen .hint {
        color: $text-muted;
        width: 100%;
    }
    FormScreen #buttons {
        dock: bottom;
        height: auto;
        align-horizontal: right;
        background: $surface;
    }
    FormScreen #buttons Button {
        margin-left: 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        localise_bindings(self)

    def show_error(self, name: str, message: str | None) -> None:
        """Put `message` in the label under field `name` (None clears it)."""
        label = self.query_one(f"#err-{name}", Label)
        label.update(Text(message or ""))
        label.set_class(bool(message), "shown")

    def error_text(self, name: str) -> str:
        """The error currently shown under a field ("" when none); handy for tests."""
        label = self.query_one(f"#err-{name}", Label)
        return str(label.render()) if label.has_class("shown") else ""

    def show_when(self, name: str, when: When, value: str, blank: str = "") -> datetime | None:
        """Read a time field as the rep types: its local day in the hint under it, or the
        error. Returns the parsed time (None when blank or refused)."""
        hint = self.query_one(f"#hint-{name}", Label)
        try:
            due = when.parse(value)
        except ValueError as exc:
            hint.update(Text(""))
            self.show_error(name, str(exc))
            return None
        self.show_error(name, None)
        hint.update(Text(f"→ {local_day(due, when.tz, when.now)}" if due else blank))
        return due

    def _buttons(self) -> ComposeResult:
        with Horizontal(id="buttons"):
            yield Button(_("Save"), id="save", variant="primary")
            yield Button(_("Cancel"), id="cancel")

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


class NextStepForm(FormScreen[T]):
    """A form about one deal's next step (a follow-up, a touch): the deal, the clock, the
    zone, a follow-up kind, and a time field read with `When`."""

    def __init__(self, deal_id: int, customer: str, *, now: datetime, tz: tzinfo, kind: str,
                 when_optional: bool):
        super().__init__()
        self.deal_id = deal_id
        self.customer = customer
        self.now = now
        self.tz = tz
        self.kind = kind if kind in FOLLOWUP_KINDS else "call"
        self.when = When(now=now, tz=tz, optional=when_optional)


def titled(prefix: str, customer: str | None) -> Text:
    """A form's title: `prefix` then the customer, as plain text (never markup)."""
    title = Text(prefix)
    title.append(str(customer or ""))
    return title


def kind_options() -> list[tuple[Text, str]]:
    """The follow-up kinds for a Select: the rep's words (call, 电话 …), the code as the value."""
    return [(Text(label), code) for label, code in FOLLOWUP_KIND.choices()]


def local_day(dt: datetime, tz: tzinfo, now: datetime | None = None) -> str:
    """`Wed 2026-11-25 09:00` (`11月25日 周三 09:00`, with the year when it is not this one):
    the weekday helps more than the date when planning."""
    return format_shown(dt, tz, weekday=True, now=now or dt)
