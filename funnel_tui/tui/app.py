"""The Textual app: small on purpose. Screens own their state; the app holds the store,
the clock, the zone, the language (the `AppContext` screens may use), the theme memory, the
follow-up reminders and help."""

from __future__ import annotations

import gc
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Callable

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen, Screen

from funnel_tui import config, paths
from funnel_tui.domain.dates import local_tz
from funnel_tui.domain.vocab import FOLLOWUP_KIND
from funnel_tui.i18n import N_, _, activate, resolve_lang
from funnel_tui.tui import wide_cells
from funnel_tui.tui.commands import ScreenCommands, system_command
from funnel_tui.tui.key_table import localise_bindings
from funnel_tui.tui.services import ScreenServices

REMIND_EVERY = 60.0  # seconds between checks for follow-ups that became due

wide_cells.apply()  # Chinese text stays whole where a toast or dialog overlaps the columns


class FunnelApp(ScreenServices, App[int]):
    """A salesperson's pipeline: the board first, everything else one key away.

    It is the `AppContext` of every screen (store, now(), tz, lang, reporting_errors)."""

    CSS_PATH = "app.tcss"
    TITLE = "funnel"
    COMMANDS = App.COMMANDS | {ScreenCommands}
    BINDINGS = [
        Binding("q", "quit", N_("Quit"), tooltip=N_("Leave funnel (everything is already saved)")),
        Binding("ctrl+p", "command_palette", N_("Palette"), show=False,
                tooltip=N_("Every action, the theme switch, jump to a deal")),
    ]

    def __init__(self, store, clock: Callable[[], datetime], *, tz: tzinfo | None = None,
                 lang: str | None = None, export_dir: Path | str | None = None, first_read=None,
                 ask_name: bool = False, notes: tuple[str, ...] | list[str] = ()):
        """`ask_name`: on the first start, ask the rep's name once (`funnel tui` does).
        `notes`: what the start-up checks found (read-only, a failed backup), toasted."""
        # The language first: the screens' words are read as they are built.
        self.lang = lang or resolve_lang(store.get_setting("lang"))
        activate(self.lang)
        super().__init__()
        localise_bindings(self)
        self.ask_name = ask_name
        self.start_notes = tuple(notes)
        self.store = store
        # The board's first read (board_data.FirstRead), started before Textual loaded.
        self.first_read = first_read
        self.clock = clock
        self.tz = tz or local_tz()
        self.pipeline: str | None = None  # the default pipeline until the rep switches (P)
        # Where `x` writes; None: the `export_dir` setting, else the documents folder (read
        # when the rep exports, not at start-up).
        self.export_dir = Path(export_dir) if export_dir else None
        self._reminded: set[int] = set()
        self._reminders_started = False
        self._saved_theme = store.get_setting("theme")
        self._resume_gc = not gc.isenabled()

    def now(self) -> datetime:
        """The app's clock (aware UTC); tests and screenshots pin it."""
        return self.clock()

    def get_default_screen(self) -> Screen:
        from funnel_tui.tui.screens.board import BoardScreen

        first, self.first_read = self.first_read, None  # the board takes it once
        return BoardScreen(first_read=first, export_dir=self.export_dir)

    def on_mount(self) -> None:
        self.title = "funnel · " + _("Board")
        if self._saved_theme in self.available_themes:
            self.theme = self._saved_theme
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.set_interval(REMIND_EVERY, self.check_reminders, name="reminders")
        for note in self.start_notes:
            self.notify(note, severity="warning", markup=False, timeout=20)

    def on_board_loaded(self) -> None:
        # The start-up reminder waits for the first cards: they get the database first.
        if not self._reminders_started:
            self._reminders_started = True
            # What exists once the board is up lives as long as the app: kept out of the
            # collector's full passes, which otherwise cost ~100 ms in the middle of a key.
            gc.freeze()
            if self._resume_gc:  # `funnel tui` paused the collector for start-up
                gc.enable()
            # `funnel tui` drew the first frame before the Store opened (StoreOpening): open it now.
            opening = getattr(self.store, "open_in_background", None)
            if opening is not None:
                opening()
            self.start_reminders()
            if self.ask_name:
                self.ask_name_once()

    def ask_name_once(self) -> None:
        """The first start asks the rep's name (once, whatever the answer): new deals are theirs."""
        from funnel_tui.tui.forms.first_run import NameForm

        with self.reporting_errors():
            if self.store.get_setting("me") or self.store.get_setting(config.ASKED_NAME):
                return
            self.store.set_setting(config.ASKED_NAME, "1")
            self.push_screen(NameForm(), callback=self._got_name)

    def _got_name(self, name: str | None) -> None:
        if name:
            with self.reporting_errors():
                self.store.set_setting("me", name)
                self.notify(_("New deals you add are {name}'s").format(name=name), markup=False)

    def _remember_theme(self, theme) -> None:
        if theme.name != self._saved_theme:
            self._saved_theme = theme.name
            with self.reporting_errors():
                self.store.set_setting("theme", theme.name)

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """The palette's Screenshot: an SVG of the screen into `paths.screenshot_dir()`
        (Downloads, Documents or the data dir: a folder that exists), and a toast saying
        where. In a browser (`funnel web`) the browser downloads it, as Textual does."""
        if self.is_web:
            return super().deliver_screenshot(filename, path, time_format)
        with self.reporting_errors(extra=(OSError,)):
            folder = Path(path) if path else paths.screenshot_dir()
            name = filename or f"funnel-{self.now().astimezone(self.tz):%Y-%m-%d-%H%M%S}.svg"
            target = folder / name
            target.write_text(self.export_screenshot(), encoding="utf-8")
            self.notify(_("Screenshot saved to {path}").format(path=target), title=_("Screenshot"),
                        markup=False, timeout=8)
        return None

    # --- reminders ----------------------------------------------------------------------

    @property
    def modal_open(self) -> bool:
        return isinstance(self.screen, ModalScreen)

    @work(thread=True, exclusive=True, group="reminders")
    def start_reminders(self) -> None:
        """At start: one toast with the counts of what is overdue and due within 24 h."""
        items = self.store.due(now=self.now(), within="24h")
        overdue = [i for i in items if i.bucket == "overdue"]
        soon = [i for i in items if i.bucket == "24h"]
        self._reminded = {i.followup_id for i in overdue}
        if overdue or soon:
            text = _("{overdue} overdue · {soon} due in 24h").format(overdue=len(overdue), soon=len(soon))
            self.notify(text, title=_("Today"), timeout=10,
                        severity="warning" if overdue else "information")
        else:
            self.notify(_("Nothing due"), timeout=4)

    def check_reminders(self) -> None:
        """Every minute: toast follow-ups that became due since the last check.

        Paused while a modal (a form, a dialog) is open, so a toast never lands on a form;
        what became due meanwhile is toasted at the first check after it closes.
        """
        if self.modal_open:
            return
        self._check_reminders()

    @work(thread=True, exclusive=True, group="reminders")
    def _check_reminders(self) -> None:
        items = self.store.due(now=self.now(), within="24h")
        fresh = [i for i in items if i.bucket == "overdue" and i.followup_id not in self._reminded]
        self._reminded |= {i.followup_id for i in fresh}
        for item in fresh[:3]:
            text = _("Due now: {customer} — {kind} {note}").format(
                customer=item.customer, kind=FOLLOWUP_KIND.label(item.kind), note=item.note)
            self.notify(text.rstrip(), severity="warning", markup=False, timeout=15)
        if len(fresh) > 3:
            more = len(fresh) - 3
            self.notify(_("…and {n} more due now (t: Today)").format(n=more), severity="warning",
                        markup=False, timeout=15)

    def action_command_palette(self) -> None:
        """The palette, with its prompt in the rep's language."""
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette", placeholder=_("Search for commands…")))

    def get_system_commands(self, screen: Screen):
        """Textual's own palette entries (theme, quit, keys, screenshot …), in the rep's language."""
        for command in super().get_system_commands(screen):
            yield system_command(command)


def run_app(store, clock: Callable[[], datetime], first_read=None, notes=()) -> int:
    """Run the board until the rep quits; returns the exit code."""
    app = FunnelApp(store, clock, first_read=first_read, ask_name=True, notes=notes)
    result = app.run()
    return int(result or 0) if app.return_code in (None, 0) else int(app.return_code)
