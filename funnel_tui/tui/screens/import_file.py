"""Import: bring a pipeline in from a file, seeing first what it will become.

The rep names a file (CSV in any common encoding, or .xlsx). A dry run in a thread worker reads
it as `funnel import --dry-run` would and the screen shows: the profile, encoding and delimiter
(or sheet) it was read with; every column of the file and the field it fills, which the rep can
change (Enter on a column); the first rows as they will be stored; how many rows would be
imported and how many refused, with the reasons. Nothing is written until the rep presses
ctrl+s; the import then runs in a worker (inline reader: no fork in a threaded app) and a toast
says what happened. Everything is exchange.importer's: this screen only gathers the options.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from funnel_tui.domain.money import format_money
from funnel_tui.exchange.import_read import ImportFileError
from funnel_tui.exchange.importer import DELIMITER_NAMES, ENCODING_HOW, ImportOptions, ImportReport, import_file
from funnel_tui.exchange.profiles.saved import IGNORE
from funnel_tui.exchange.tables import open_table
from funnel_tui.i18n import N_, _, ngettext, pgettext
from funnel_tui.tui.context import HasContext
from funnel_tui.tui.forms.import_choices import ColumnFieldDialog, ReadingChoice, ReadingOptionsForm, field_label
from funnel_tui.tui.key_table import localise_bindings
from funnel_tui.tui.widgets.key_bar import KeyBar

PREVIEW_ROWS = 5
SHOWN_REASONS = 8


class ColumnOption(Option):
    """One column of the file and the field it fills ("" when it is not read)."""

    def __init__(self, prompt: Text, header: str, field: str):
        super().__init__(prompt)
        self.header = header
        self.field = field


class ImportScreen(HasContext, Screen):
    """A file → what it would become (profile, columns, first rows, counts) → confirm."""

    BINDINGS = [
        Binding("ctrl+s", "import_now", N_("Import"),
                tooltip=N_("Import the rows shown as accepted (a backup first; u undoes it)")),
        Binding("ctrl+o", "options", N_("Options"), tooltip=N_("Encoding, sheet, currency, decimal mark, date order")),
        Binding("ctrl+r", "reread", N_("Read again"), tooltip=N_("Read the file again")),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the board; nothing is written")),
    ]
    """
    | Key | Action |
    | :- | :- |
    | Enter (in the path) | read the file: nothing is written |
    | Enter (on a column) | choose the field it fills, or leave it out |
    | ctrl+o | how the file is read: encoding, sheet, currency, decimal mark, date order |
    | ctrl+s | import |
    | Esc | back; nothing is written |
    """

    DEFAULT_CSS = """
    ImportScreen #path { margin: 0 1; }
    ImportScreen #read-as { padding: 0 1; height: auto; }
    ImportScreen #columns { height: auto; max-height: 40%; margin: 0 1; border: round $primary 50%; }
    ImportScreen #body { padding: 0 1; }
    ImportScreen .block { height: auto; margin-bottom: 1; }
    ImportScreen #status { padding: 0 1; color: $text-muted; height: auto; }
    ImportScreen KeyBar { dock: bottom; height: 1; }
    """

    def __init__(self, path: str | None = None) -> None:
        super().__init__()
        localise_bindings(self)
        self.path = path or ""
        self.options = ImportOptions()
        self.mapping: dict[str, str] = {}
        self.report: ImportReport | None = None  # the last dry run (what the screen shows)
        self.error: str | None = None
        self.busy = False
        self._token = 0

    def compose(self) -> ComposeResult:
        yield Label(Text(_("Import deals from a file (CSV or .xlsx). Nothing is written until you press ctrl+s.")),
                    id="status")
        yield Input(self.path, placeholder=_("path to the file, e.g. ~/Downloads/deals.csv — Enter reads it"),
                    id="path")
        yield Static(Text(""), id="read-as")
        yield OptionList(id="columns")
        with VerticalScroll(id="body"):
            yield Static(Text(""), id="counts", classes="block")
            yield Static(Text(""), id="preview", classes="block")
        yield KeyBar()

    def on_mount(self) -> None:
        self.app.sub_title = _("Import")
        self.query_one("#path", Input).focus()
        if self.path:
            self.read_file()

    # --- reading (a dry run: nothing is written) ----------------------------------------------

    @on(Input.Submitted, "#path")
    def _path_given(self, event: Input.Submitted) -> None:
        event.stop()
        path = event.value.strip()
        if path != self.path:
            self.mapping = {}  # another file: its own columns
        self.path = path
        self.read_file()

    def read_file(self) -> None:
        if not self.path:
            self._say(_("Name the file to import first."))
            return
        self._token += 1
        self.busy = True
        self._say(_("Reading {name}…").format(name=Path(self.path).name))
        self._dry_run(self._token, self.path, self._options())

    def _options(self) -> ImportOptions:
        return replace(self.options, mapping=dict(self.mapping))

    @work(thread=True, exclusive=True, group="import-read")
    def _dry_run(self, token: int, path: str, options: ImportOptions) -> None:
        ctx = self.ctx
        header: list[list[str]] = []
        try:
            # Rows that name no owner go to the rep (store.me(), the importer's default).
            report = import_file(ctx.store, path, now=ctx.now(), tz=ctx.tz, dry_run=True, options=options,
                                 reader="inline", preview=PREVIEW_ROWS)
            error = None
        except (ImportFileError, OSError) as exc:
            report, error = None, str(exc) if isinstance(exc, ImportFileError) else f"{path}: {exc.strerror}"
            header = self._header_only(path, options)
        self.app.call_from_thread(self._show, token, report, error, header)

    @staticmethod
    def _header_only(path: str, options: ImportOptions) -> list[list[str]]:
        """The columns of a file no profile reads yet, so the rep can map them."""
        try:
            with open_table(path, encoding=options.encoding, sheet=options.sheet) as table:
                return [[h, options.mapping.get(h, "")] for h in table.header]
        except (ImportFileError, OSError):
            return []

    def _show(self, token: int, report: ImportReport | None, error: str | None, header: list[list[str]]) -> None:
        if token != self._token:
            return  # a newer read is on its way
        self.busy = False
        self.report, self.error = report, error
        columns = report.columns if report is not None else header
        self._show_columns(columns)
        self.query_one("#read-as", Static).update(read_as(report) if report else Text(""))
        if report is None:
            self._say(error or "")
            self.query_one("#counts", Static).update(Text(""))
            self.query_one("#preview", Static).update(Text(""))
        else:
            self._say(_("Read {name}: check the columns and the rows below, then ctrl+s imports.").format(
                name=Path(self.path).name))
            self.query_one("#counts", Static).update(counts(report))
            labels = {st.key: st.label(self.ctx.lang) for st in self.ctx.store.stages()}
            self.query_one("#preview", Static).update(preview(report, labels))
        self.refresh_bindings()

    def _show_columns(self, columns: list[list[str]]) -> None:
        listing = self.query_one("#columns", OptionList)
        keep = listing.highlighted
        listing.clear_options()
        for header, field in columns:
            line = Text(header, style="bold")
            line.append("  →  ")
            line.append(field_label(field) if field else _("(not read)"), style="" if field else "dim italic")
            listing.add_option(ColumnOption(line, header, field))
        if listing.option_count:
            listing.highlighted = min(keep or 0, listing.option_count - 1)

    def _say(self, message: str) -> None:
        self.query_one("#status", Label).update(Text(message))

    # --- changing how it is read ---------------------------------------------------------------

    @on(OptionList.OptionSelected, "#columns")
    def _column_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option = event.option
        if not isinstance(option, ColumnOption):
            return

        def chosen(field: str | None) -> None:
            if field is None or field == (option.field or IGNORE):
                return
            # The field the column now fills leaves any other column the rep had given it.
            self.mapping = {h: f for h, f in self.mapping.items() if f != field or field == IGNORE}
            self.mapping[option.header] = field
            self.read_file()

        self.app.push_screen(ColumnFieldDialog(option.header, option.field), chosen)

    def action_options(self) -> None:
        """How the file is read: encoding, sheet, currency, decimal mark, date order."""
        o = self.options
        current = ReadingChoice(o.encoding, o.sheet, o.currency, o.decimal, o.date_order)

        def chosen(choice: ReadingChoice | None) -> None:
            if choice is None:
                return
            self.options = replace(self.options, encoding=choice.encoding, sheet=choice.sheet,
                                   currency=choice.currency, decimal=choice.decimal, date_order=choice.date_order)
            self.read_file()

        self.app.push_screen(ReadingOptionsForm(current), chosen)

    def action_reread(self) -> None:
        """Read the file again (it may have been fixed meanwhile)."""
        self.read_file()

    # --- importing ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "import_now":
            r = self.report
            return not self.busy and r is not None and r.inserted + r.updated > 0
        return True

    def action_import_now(self) -> None:
        """Write what the dry run showed (the file is read again: it is the truth)."""
        if not self.check_action("import_now", ()):
            return
        self.busy = True
        self.refresh_bindings()
        self._say(_("Importing {name}…").format(name=Path(self.path).name))
        self._import(self.path, self._options())

    @work(thread=True, exclusive=True, group="import-write")
    def _import(self, path: str, options: ImportOptions) -> None:
        ctx = self.ctx
        try:
            report = import_file(ctx.store, path, now=ctx.now(), tz=ctx.tz, options=options, reader="inline")
            self.app.call_from_thread(self._imported, report, None)
        except Exception as exc:  # noqa: BLE001 - shown to the rep; nothing was written (one transaction)
            self.app.call_from_thread(self._imported, None, exc)

    def _imported(self, report: ImportReport | None, error: Exception | None) -> None:
        self.busy = False
        if report is None:
            self.app.notify(_("Nothing was imported: {why}").format(why=error), severity="error", timeout=10,
                            markup=False)
            self._say(str(error))
            self.refresh_bindings()
            return
        name = Path(report.path).name
        message = ngettext("Imported {n} deal from {name}", "Imported {n} deals from {name}",
                           report.inserted).format(n=report.inserted, name=name)
        if report.updated:
            message += _("; {n} updated").format(n=report.updated)
        if report.rejected_file_error:  # committed; only the refused rows' file failed
            message += ngettext(
                "; {n} row refused, but its file could not be written ({why}): the import is committed, "
                "do not import the file again",
                "; {n} rows refused, but their file could not be written ({why}): the import is committed, "
                "do not import the file again",
                report.rejected).format(n=report.rejected, why=report.rejected_file_error)
        elif report.rejected:
            message += ngettext("; {n} row refused, in {file}", "; {n} rows refused, in {file}",
                                report.rejected).format(n=report.rejected, file=Path(report.rejected_file or "").name)
        message += _(". u undoes the whole import.")
        self.app.notify(message, severity="warning" if report.rejected else "information", timeout=10,
                        markup=False)
        self.app.pop_screen()

    def action_back(self) -> None:
        """Back to the board; nothing is written."""
        self.app.pop_screen()


# --- what the screen shows (pure: the report in, Rich text out) ---------------------------------

def read_as(r: ImportReport) -> Text:
    """Profile, encoding and delimiter (or sheet), and the columns no field reads."""
    out = Text()
    out.append(_("Profile: "), style="bold")
    out.append(_(r.profile_name) + f" ({r.profile})")
    if r.sheet:
        out.append(_("   Sheet: "), style="bold")
        out.append(r.sheet)
    else:
        out.append(_("   Encoding: "), style="bold")
        out.append(f"{r.encoding_label} ({_(ENCODING_HOW.get(r.encoding_how, r.encoding_how))})")
        out.append(_("   Delimiter: "), style="bold")
        out.append(_(DELIMITER_NAMES.get(r.delimiter, r.delimiter)))
    if r.ignored_columns:
        out.append("\n")
        shown = ", ".join(repr(c) for c in r.ignored_columns[:10])
        more = len(r.ignored_columns) - 10
        out.append(ngettext("Not read: {n} column: {names}", "Not read: {n} columns: {names}",
                            len(r.ignored_columns)).format(n=len(r.ignored_columns), names=shown), style="dim")
        if more > 0:
            out.append(_(" and {more} more").format(more=more), style="dim")
    return out


def counts(r: ImportReport) -> Text:
    """How many rows would be imported, and why the others would not."""
    out = Text()
    out.append(ngettext("{n} row read: ", "{n} rows read: ", r.rows).format(n=r.rows), style="bold")
    out.append(ngettext("{n} would be imported", "{n} would be imported", r.inserted).format(n=r.inserted),
               style="bold green" if r.inserted else "bold")
    if r.updated or r.unchanged:
        out.append(_(", {u} updated, {s} unchanged").format(u=r.updated, s=r.unchanged))
    if r.duplicates:  # a deal the database has, or an earlier row of the file: the lines say which
        out.append(ngettext(", {n} duplicate (skipped)", ", {n} duplicates (skipped)",
                            r.duplicates).format(n=r.duplicates))
    out.append(ngettext(", {n} refused", ", {n} refused", r.rejected).format(n=r.rejected),
               style="bold red" if r.rejected else "")
    if r.owner_default:
        out.append("\n" + _("Rows that name no owner will be {owner}'s.").format(owner=r.owner_default), style="dim")
    if r.rounded_probabilities:
        out.append("\n" + ngettext("{n} probability is rounded to a whole percent.",
                                   "{n} probabilities are rounded to a whole percent.",
                                   r.rounded_probabilities).format(n=r.rounded_probabilities), style="dim")
    for reason in r.reasons[:SHOWN_REASONS]:
        out.append("\n  " + _("refused ") + reason)
    if r.rejected > min(len(r.reasons), SHOWN_REASONS):
        out.append("\n  " + _("… and {n} more refused (all of them go to <file>.rejected.csv with the reason)").format(
            n=r.rejected - min(len(r.reasons), SHOWN_REASONS)))
    for line in r.duplicate_lines[:SHOWN_REASONS]:
        out.append("\n  " + _("duplicate {line}").format(line=line))
    if r.unknown_stages:
        names = ", ".join(repr(k) for k in r.unknown_stages)
        out.append("\n" + _("Unknown stages: {names}; map them with funnel import --stage-map "
                            "(or choose another stage column)").format(names=names))
    return out


def preview(r: ImportReport, stage_names: dict[str, str] | None = None) -> Table | Text:
    """The first rows as they will be stored (stages by their names in the rep's language)."""
    names = stage_names or {}
    if not r.preview:
        return Text(_("No row would be imported."), style="italic")
    table = Table(title=Text(_("The first rows, as they will be stored")), title_justify="left",
                  header_style="bold", pad_edge=False, expand=False)
    for name in (_("line"), _("customer"), _("title"), _("stage"), _("status"), _("amount"), _("prob."),
                 _("owner"), _("expected close")):
        table.add_column(Text(name), no_wrap=False)
    for row in r.preview:
        table.add_row(*(Text(str(c)) for c in (
            row["line"], row["customer"], row.get("title") or "", names.get(row["stage"], row["stage"]),
            pgettext("deal status", row["status"]),
            format_money(row["amount"], row["currency"]), f"{row['probability']}%", row.get("owner") or "",
            row["expected_close"] or "")))
    return table

