"""A one-line footer: the keys that can act right now, as plain Text.

Textual's Footer rebuilds a widget per key on every focus change (≈200 ms with the board's
sixteen keys on this machine); this draws one line and redraws only when the line changes.
It reads the same `active_bindings` (so `check_action` decides), hiding keys that cannot act;
their descriptions are already in the rep's language (`key_table.localise_bindings`).
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from funnel_tui.i18n import _


FIRST = ("app.help", "help", "app.quit", "quit")  # actions shown before every other key


class KeyBar(Static):
    """Keys of the current screen that can act now, `?` and `q` first:
    `? Help  q Quit  n New  f Follow-up …`."""

    def __init__(self, **kwargs):
        super().__init__("", **kwargs)
        self.shown: list[tuple[str, str]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self._bindings_changed, self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen) -> None:
        seen: set[str] = set()
        first: list[tuple[str, str]] = []
        shown: list[tuple[str, str]] = []
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.show or not active.enabled or binding.action in seen:
                continue
            seen.add(binding.action)
            entry = (binding.key_display or self.app.get_key_display(binding), binding.description)
            # `?` and `q` lead, so a narrow screen never cuts them off.
            if binding.action in FIRST:
                first.append(entry)
            else:
                shown.append(entry)
        first.sort(key=lambda entry: entry[0] != "?")
        shown = first + shown
        if shown == self.shown:
            return
        self.shown = shown
        # Drawn in the frame after: a repaint here, at the bottom, joined with a column's
        # would make the compositor redraw every column between them.
        self.call_after_refresh(self._draw)

    def _draw(self) -> None:
        shown = self.shown
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        for keys, what in shown:
            line.append(f" {keys} ", style="reverse")
            line.append(f" {what}  ")
        line.append(" ^p ", style="reverse")
        line.append(" " + _("Palette"))
        self.update(line, layout=False)  # one docked line: its size never changes
