"""The command palette (ctrl+p): the actions of the screen in front, and "jump to deal".

Actions come from that screen's own BINDINGS (the ones with a name that can act right now,
asked through its `check_action`), so the palette, the footer and help list the same
things from one list. Jump-to-deal runs one bounded fuzzy query per keystroke; customer
names are shown as plain Text (the palette would otherwise read them as markup).
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Protocol, runtime_checkable

from rich.text import Text
from textual.app import SystemCommand
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from funnel_tui.domain.text import truncate_to_width
from funnel_tui.i18n import N_, _
from funnel_tui.tui.context import context_of

JUMP_LIMIT = 12
TEAM_VIEWS = ("BoardScreen", "TodayScreen")  # the screens a lead narrows to one rep
# Screens the palette opens from anywhere: (name, app action, help). Their screens have no
# key on the board, which keeps its footer for the day's keys.
APP_COMMANDS: tuple[tuple[str, str, str], ...] = (
    (N_("Stages"), "app.open_stages",
     N_("Your stages and their playbooks: add, rename, reorder, split, merge, archive")),
)

# Textual's own palette entries (App.get_system_commands), copied exactly so the catalog
# translates them; an entry Textual adds later shows in English until it is listed here.
SYSTEM_COMMAND_WORDS = (
    N_("Theme"), N_("Change the current theme"),
    N_("Quit"), N_("Quit the application as soon as possible"),
    N_("Keys"), N_("Hide the keys and widget help panel"),
    N_("Show help for the focused widget and a summary of available keys"),
    N_("Minimize"), N_("Minimize the widget and restore to normal size"),
    N_("Maximize"), N_("Maximize the focused widget"),
    N_("Screenshot"), N_("Save an SVG 'screenshot' of the current screen"),
    N_("Search for commands…"),
)


def system_command(command: SystemCommand) -> SystemCommand:
    """One of Textual's palette entries in the rep's language."""
    return command._replace(title=_(command.title), help=_(command.help))


@runtime_checkable
class JumpsToDeals(Protocol):
    """A screen that can show a deal itself (the board puts its cursor on the card)."""

    def jump_to(self, deal_id: int) -> None: ...


class ScreenCommands(Provider):
    """The screen's actions and jump to deal."""

    def _actions(self) -> list[tuple[str, str, str]]:
        """(name, action, help) for the screen's shown bindings that can act now."""
        screen = self.screen
        out = []
        for b in [*screen.BINDINGS, *getattr(screen, "CONDITIONAL_BINDINGS", ())]:
            if not isinstance(b, Binding) or not b.description or not b.show:
                continue
            name, _paren, params = b.action.partition("(")
            args = tuple(int(p) for p in params.rstrip(")").split(",") if p.strip()) if params else ()
            if screen.check_action(name, args):
                out.append((_(b.description), b.action, _(b.tooltip) if b.tooltip else ""))
        return out

    def _commands(self) -> list[tuple[str, str, str]]:
        """The screen's actions, then the screens the palette opens from anywhere."""
        own = {action for _name, action, _help in self._actions()}
        extra = [(_(name), action, _(help_text)) for name, action, help_text in APP_COMMANDS
                 if not isinstance(self.screen, _screen_of(action))]
        return self._actions() + [c for c in extra if c[1] not in own]

    def _app_commands(self) -> list[tuple[str, object, str]]:
        """(name, callback, help) of what the palette offers on every screen: the import."""
        from funnel_tui.tui.screens.import_file import ImportScreen

        if isinstance(self.screen, ImportScreen):
            return []
        return [(_("Import deals from a file"), self._import,
                 _("CSV or .xlsx: our export, another CRM's, any sheet (columns mapped before anything is written)"))]

    def _import(self) -> None:
        from funnel_tui.tui.screens.import_file import ImportScreen

        self.app.push_screen(ImportScreen())

    async def discover(self) -> Hits:
        for name, action, help_text in self._commands():
            yield DiscoveryHit(Text(name), partial(self.screen.run_action, action), help=help_text)
        for name, callback, help_text in self._app_commands():
            yield DiscoveryHit(Text(name), callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._app_commands():
            score = max(matcher.match(name), matcher.match(help_text) * 0.8)
            if score > 0:
                yield Hit(score, Text(name), callback, help=help_text)
        for name, action, help_text in self._commands():
            score = max(matcher.match(name), matcher.match(help_text) * 0.8)
            if score > 0:
                yield Hit(score, Text(name), partial(self.screen.run_action, action), help=help_text)
        async for hit in self._team_views(matcher):
            yield hit
        if not query.strip():
            return
        store = context_of(self.screen).store
        rows = await asyncio.to_thread(store.search_deals, query, limit=JUMP_LIMIT, fuzzy=True)
        for row in rows:
            prompt = Text(_("Jump to deal: "), style="dim")
            prompt.append(truncate_to_width(row["customer"], 40), style="bold")
            if row["title"]:
                prompt.append(" · ")
                prompt.append(truncate_to_width(row["title"], 30))
            prompt.append(f"  #{row['id']}", style="dim")
            # Fuzzy score on the name, kept just under the actions so "new" still finds New.
            score = max(matcher.match(row["customer"]), 0.05) * 0.95
            yield Hit(score, prompt, partial(self._jump, row["id"]), text=_("Jump to {id}").format(id=row["id"]))

    async def _team_views(self, matcher) -> Hits:
        """A lead on a team server switches the board and Today between every rep's deals and
        one rep's (a rep sees only their own: the server's row-level security)."""
        store = context_of(self.screen).store
        # By name: importing the screens here would load them all with the palette.
        if not getattr(store, "server", False) or type(self.screen).__name__ not in TEAM_VIEWS:
            return
        if await asyncio.to_thread(store.team_role) != "lead":
            return
        reps = await asyncio.to_thread(store.owners)
        choices = [(_("Show every rep's deals"), None)] + [
            (_("Show {rep}'s deals").format(rep=rep), rep) for rep in reps if rep]
        for label, owner in choices:
            score = matcher.match(label)
            if score > 0 and owner != store.view_owner:
                yield Hit(score * 0.9, Text(label), partial(self._show_owner, owner),
                          help=_("The board and Today show these deals"))

    def _show_owner(self, owner: str | None) -> None:
        store = context_of(self.screen).store
        store.view_owner = owner
        refresh = getattr(self.screen, "refresh_board", None) or getattr(self.screen, "reload")
        refresh()
        self.app.notify(_("Showing every rep's deals") if owner is None
                        else _("Showing {rep}'s deals").format(rep=owner), markup=False)

    def _jump(self, deal_id: int) -> None:
        """The board puts its cursor on the deal; any other screen opens it."""
        if isinstance(self.screen, JumpsToDeals):
            self.screen.jump_to(deal_id)
            return
        from funnel_tui.tui.screens.deal import DealScreen

        self.app.push_screen(DealScreen(deal_id))


def _screen_of(action: str) -> type:
    """The screen class an app command opens (the palette leaves it out there)."""
    if action == "app.open_stages":
        from funnel_tui.tui.screens.stages import StagesScreen

        return StagesScreen
    return type(None)

