"""What a screen may ask of the app it runs in, and the one way a refusal reaches the rep.

Screens never reach for app attributes by name (`getattr(self.app, "lang", "en")`): they ask
`context_of(self)` for an `AppContext` — the store, the clock, the zone, the language and
`reporting_errors`. `FunnelApp` implements it, and so does the one test host
(`tests/conftest.py`), both through `tui.services.ScreenServices`, so tests run the real
error path. Screens import this module only: nothing here imports a screen or help.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, ContextManager, Protocol, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from funnel_tui.store import Store


@dataclass
class ErrorReport:
    """What `reporting_errors` caught (None when the block ran through)."""

    error: Exception | None = None


class AppContext(Protocol):
    """The app as a screen sees it."""

    store: Store
    """Every read and write (the store checks everything; screens never touch tables)."""
    tz: tzinfo
    """The rep's zone: times are stored in UTC and shown in this one."""
    lang: str
    """"en" or "zh": the language of stage and screen names."""
    pipeline: str | None
    """The pipeline the board, Today and Summary show (its key; None: the default one)."""

    def now(self) -> datetime:
        """The app's clock (aware UTC); tests and screenshots pin it."""
        ...

    def reporting_errors(self, extra: tuple[type[Exception], ...] = ()) -> ContextManager[ErrorReport]:
        """Run a block; a refusal becomes an error toast and the rest of the block is skipped."""
        ...


def context_of(node: DOMNode) -> AppContext:
    """The app `node` runs in, as the protocol screens may use."""
    return cast("AppContext", node.app)


class HasContext:
    """Mixed into a screen: `self.ctx` is the app it runs in, as an `AppContext`."""

    @property
    def ctx(self) -> AppContext:
        return context_of(self)  # type: ignore[arg-type]
