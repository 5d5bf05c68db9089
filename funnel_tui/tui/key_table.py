"""Bindings as rows of a key table — (keys, what, longer help) — for help and the README, and
bindings in the rep's language.

Binding descriptions and tooltips are English, marked with `N_()` (they are fixed when the
class is made). A screen translates its own copy when it is built (`localise_bindings`), so the
footer, the key bar and the palette read the rep's language; help translates the rows it shows;
the README's tables stay English.

Imports no screen: help (any screen's keys) and `tui.keys` (every screen's, for the README)
both read their BINDINGS through here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Iterable

from textual.binding import Binding, BindingType

from funnel_tui.i18n import _, active_lang

if TYPE_CHECKING:
    from textual.dom import DOMNode

NAMES = {"question_mark": "?", "slash": "/", "left": "←", "right": "→", "up": "↑", "down": "↓",
         "shift+left": "shift+←", "shift+right": "shift+→", "ctrl+p": "ctrl+p", "enter": "Enter",
         "escape": "Esc"}

KeyRow = tuple[str, str, str]  # (keys, what, longer help)


def _shown(text: str | None, translate: bool) -> str:
    return (_(text) if translate else text) if text else ""


def key_rows(bindings: Iterable[BindingType], *, translate: bool = False) -> list[KeyRow]:
    """(keys, what, longer help) for every binding with a description, in order; in the rep's
    language with `translate` (help), in English without (the README)."""
    rows = []
    for b in bindings:
        if not isinstance(b, Binding):
            b = Binding(*b)
        if not b.description:
            continue
        keys = " ".join(NAMES.get(k.strip(), k.strip()) for k in b.key.split(","))
        rows.append((keys, _shown(b.description, translate), _shown(b.tooltip, translate)))
    return rows


def markdown_table(bindings: Iterable[BindingType]) -> str:
    """The same table for the README (English)."""
    lines = ["| Key | Does | |", "| :- | :- | :- |"]
    lines += [f"| {k} | {d} | {h} |" for k, d, h in key_rows(bindings)]
    return "\n".join(lines)


def localise_bindings(node: DOMNode) -> None:
    """Give `node` (a screen, the app) its bindings with descriptions and tooltips in the
    active language. Each node holds its own copy of the class's bindings (Textual copies
    them per instance), so the class and the README keep the English."""
    if active_lang() == "en":
        return
    bindings = node._bindings  # noqa: SLF001 - Textual's per-instance copy of BINDINGS
    bindings.key_to_bindings = {
        key: [replace(b, description=_shown(b.description, True), tooltip=_shown(b.tooltip, True))
              for b in group]
        for key, group in bindings.key_to_bindings.items()
    }
