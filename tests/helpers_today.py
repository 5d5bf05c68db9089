"""What the Today Pilot tests read off the screen (test_tui_today.py, test_tui_today_purge.py):
the list's lines as the rep sees them, one section's rows, and the row a key acts on."""

from __future__ import annotations

from textual.widgets import OptionList


def lines(app) -> list[str]:
    ol = app.screen.query_one("#today-list", OptionList)
    return [str(ol.get_option_at_index(i).prompt) for i in range(ol.option_count)]


def section(app, header: str) -> list[str]:
    """The lines under a section header, up to the next header."""
    out, inside = [], False
    for ln in lines(app):
        if not ln.startswith("  "):
            inside = ln.startswith(header + " ·")
            continue
        if inside:
            out.append(ln.strip())
    return out


def highlight(app, option_id: str) -> None:
    ol = app.screen.query_one("#today-list", OptionList)
    ol.highlighted = ol.get_option_index(option_id)
