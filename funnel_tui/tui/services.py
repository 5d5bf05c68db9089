"""What an app hosting funnel's screens gives them besides its state: the one error path
and help. Mixed into `FunnelApp` and the tests' host, so both behave alike.

Screens never import this module (they see `tui.context`): it opens help, and help's
README generator imports every screen.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from funnel_tui.store import StoreError
from funnel_tui.tui.context import ErrorReport

if TYPE_CHECKING:
    from textual.screen import Screen


class ScreenServices:
    """What an app hosting these screens gives them besides its state, mixed into a Textual
    App: the one error path (a refusal is a toast, never a crash) and help (`?`).

    Refusals are the store's (`StoreError`: stale deal, not found, database locked) and the
    validators' (`ValueError`: ValidationError and FieldError are ValueErrors). The message
    is shown as literal text: it may quote what the rep typed.
    """

    if TYPE_CHECKING:
        lang: str
        screen: Screen

        def notify(self, message: str, *, severity: str = ..., markup: bool = ...,
                   timeout: float | None = ...) -> None: ...
        def push_screen(self, screen: Screen) -> object: ...

    @contextmanager
    def reporting_errors(self, extra: tuple[type[Exception], ...] = ()) -> Iterator[ErrorReport]:
        """Turn a refusal into an error toast; the caller can look at `report.error`."""
        report = ErrorReport()
        try:
            yield report
        except (StoreError, ValueError, *extra) as exc:
            report.error = exc
            self.notify(str(exc) or type(exc).__name__, severity="error", markup=False, timeout=8)

    def action_open_stages(self) -> None:
        """The Stages screen: the rep's stages and their playbooks (from the palette)."""
        from funnel_tui.tui.screens.stages import StagesScreen

        self.push_screen(StagesScreen())

    def action_help(self) -> None:
        """Every key of the screen in front (`?` on each screen)."""
        from funnel_tui.tui.help import HelpScreen

        self.push_screen(HelpScreen(self.screen))
