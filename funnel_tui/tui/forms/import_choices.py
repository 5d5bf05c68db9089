"""The Import screen's two dialogs: which field a column of the file is (or none), and how the
file is read (encoding, sheet, currency, decimal mark, date order). Both hand back a choice and
never write; the screen reads the file again with it."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, OptionList, Select
from textual.widgets.option_list import Option

from funnel_tui.exchange.currencies import code_of_column
from funnel_tui.exchange.profiles import FIELD_READS
from funnel_tui.exchange.profiles.saved import IGNORE
from funnel_tui.i18n import NP_, _, pgettext
from funnel_tui.tui.forms.base import FormScreen


# The deal fields as a rep names them (the glossary's words; the Chinese template's columns).
FIELD_LABELS: dict[str, str] = {
    "uid": NP_("deal field", "funnel-tui id"), "external_id": NP_("deal field", "id in the other tool"),
    "customer": NP_("deal field", "customer"), "title": NP_("deal field", "title"),
    "industry": NP_("deal field", "industry"), "company_size": NP_("deal field", "company size"),
    "contact_name": NP_("deal field", "contact"), "contact_role": NP_("deal field", "contact role"),
    "contact_phone": NP_("deal field", "contact phone"), "contact_email": NP_("deal field", "email"),
    "source": NP_("deal field", "source"), "lead_score": NP_("deal field", "lead score"),
    "owner": NP_("deal field", "owner"), "stage": NP_("deal field", "stage"),
    "status": NP_("deal field", "status"), "amount": NP_("deal field", "amount"),
    "currency": NP_("deal field", "currency"), "probability": NP_("deal field", "probability"),
    "expected_close": NP_("deal field", "expected close"), "created_at": NP_("deal field", "created"),
    "stage_entered_at": NP_("deal field", "entered the stage"),
    "last_contact_at": NP_("deal field", "last contact"),
    "next_follow_up_at": NP_("deal field", "next follow-up"), "closed_at": NP_("deal field", "closed"),
    "risk_level": NP_("deal field", "risk level"), "risk_note": NP_("deal field", "risk note"),
    "mitigation": NP_("deal field", "mitigation"), "budget": NP_("deal field", "budget"),
    "decision_chain": NP_("deal field", "decision chain"), "pain_points": NP_("deal field", "pain points"),
    "competitors": NP_("deal field", "competitors"), "lost_reason": NP_("deal field", "lost reason"),
    "notes": NP_("deal field", "notes"),
}


def field_label(field: str) -> str:
    """A deal field as the rep reads it, with the name `--map` takes when that reads otherwise:
    `客户 (customer)`, `email (contact_email)`, `amount`."""
    label = pgettext("deal field", FIELD_LABELS[field]) if field in FIELD_LABELS else field
    return label if label == field.replace("_", " ") else f"{label} ({field})"


@dataclass(frozen=True, slots=True)
class ReadingChoice:
    """How to read the file, as the rep set it ("" or None: decide from the file)."""

    encoding: str = "auto"
    sheet: str | None = None
    currency: str | None = None
    decimal: str | None = None
    date_order: str | None = None


class ColumnFieldDialog(FormScreen[str]):
    """Read one column of the file as which deal field: a field, or leave it out (`-`)."""

    DEFAULT_CSS = """
    ColumnFieldDialog > #dialog { width: 60; }
    ColumnFieldDialog #fields { height: 16; }
    """

    def __init__(self, header: str, current: str):
        super().__init__()
        self.header = header
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            title = Text(_("Read the column "))
            title.append(repr(self.header))
            title.append(_(" as"))
            yield Label(title, id="form-title")
            options = [Option(Text(_("leave it out")), id=IGNORE)]
            options += [Option(Text(field_label(name)), id=name) for name in FIELD_READS]
            yield OptionList(*options, id="fields")
            yield Label(Text(_("Enter chooses · Esc keeps it as it is")), classes="hint")

    def on_mount(self) -> None:
        fields = self.query_one("#fields", OptionList)
        fields.focus()
        try:
            fields.highlighted = fields.get_option_index(self.current or IGNORE)
        except Exception:  # noqa: BLE001 - an unknown field: start at the top
            fields.highlighted = 0

    @on(OptionList.OptionSelected, "#fields")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_save(self) -> None:
        fields = self.query_one("#fields", OptionList)
        if fields.highlighted is not None:
            self.dismiss(fields.get_option_at_index(fields.highlighted).id)


class ReadingOptionsForm(FormScreen[ReadingChoice]):
    """Encoding, sheet, the currency of amounts naming none, the decimal mark, the date order."""

    DEFAULT_CSS = """
    ReadingOptionsForm > #dialog { width: 72; }
    """

    def __init__(self, current: ReadingChoice):
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        c = self.current
        with Vertical(id="dialog"):
            yield Label(Text(_("How to read the file")), id="form-title")
            yield Label(Text(_("Encoding (auto: detected, and refused when not certain)")), classes="caption")
            yield Input(c.encoding or "auto", id="f-encoding")
            yield Label(Text(""), id="err-encoding", classes="error")
            yield Label(Text(_("Sheet of a workbook (name or number; empty: the first)")), classes="caption")
            yield Input(c.sheet or "", id="f-sheet")
            yield Label(Text(_("Currency of amounts that name none, and of $ or ¥ (e.g. USD)")), classes="caption")
            yield Input(c.currency or "", id="f-currency")
            yield Label(Text(""), id="err-currency", classes="error")
            yield Label(Text(_("Decimal mark")), classes="caption")
            yield Select([(Text(_("from the column")), "auto"), (Text("1,234.56"), "point"),
                          (Text("1.234,56"), "comma")], value=c.decimal or "auto", allow_blank=False,
                         id="f-decimal")
            yield Label(Text(_("Date order of 03/04/2024")), classes="caption")
            yield Select([(Text(_("from the column")), "auto"), (Text(_("day first (dmy)")), "dmy"),
                          (Text(_("month first (mdy)")), "mdy"), (Text(_("year first (ymd)")), "ymd")],
                         value=c.date_order or "auto", allow_blank=False, id="f-date-order")
            yield from self._buttons()

    def action_save(self) -> None:
        """Hand back the options when the encoding and currency are ones we know."""
        encoding = self.query_one("#f-encoding", Input).value.strip() or "auto"
        ok = True
        if encoding != "auto":
            try:
                codecs.lookup(encoding)
                self.show_error("encoding", None)
            except LookupError:
                self.show_error("encoding", _("{name} is not an encoding; e.g. gb18030, big5, cp1252").format(
                    name=repr(encoding)))
                ok = False
        currency = self.query_one("#f-currency", Input).value.strip()
        try:
            currency = code_of_column(currency) if currency else ""
            self.show_error("currency", None)
        except ValueError as exc:
            self.show_error("currency", str(exc))
            ok = False
        if not ok:
            return
        decimal = self.query_one("#f-decimal", Select).value
        order = self.query_one("#f-date-order", Select).value
        self.dismiss(ReadingChoice(
            encoding=encoding, sheet=self.query_one("#f-sheet", Input).value.strip() or None,
            currency=currency or None, decimal=None if decimal == "auto" else str(decimal),
            date_order=None if order == "auto" else str(order)))
