"""Every screen's keys, for the README: `python -m funnel_tui.tui.keys` (or `.help`) prints
the key tables between the README's `keys:start` and `keys:end` marks.

The only module that imports every screen; nothing in the app imports it, so it costs the
board's start-up nothing.
"""

from __future__ import annotations

from funnel_tui.tui.key_table import markdown_table
from funnel_tui.tui.screens.board import BoardScreen
from funnel_tui.tui.screens.deal import DealScreen
from funnel_tui.tui.screens.import_file import ImportScreen
from funnel_tui.tui.screens.stages import StagesScreen
from funnel_tui.tui.screens.summary import SummaryScreen
from funnel_tui.tui.screens.today import TodayScreen

SCREENS = (("Board", BoardScreen), ("Deal", DealScreen), ("Today", TodayScreen), ("Summary", SummaryScreen),
           ("Stages (ctrl+p → Stages)", StagesScreen), ("Import", ImportScreen))


def readme_keys() -> str:
    """The README's key section, generated from every screen's BINDINGS."""
    tables = []
    for title, screen in SCREENS:  # a screen's conditional keys (P) belong in the manual too
        bindings = [*screen.BINDINGS, *getattr(screen, "CONDITIONAL_BINDINGS", ())]
        tables.append(f"**{title}**\n\n{markdown_table(bindings)}")
    return "\n\n".join(tables)


def main() -> None:
    print(readme_keys())


if __name__ == "__main__":
    main()
