"""Bindings as rows of a key table — (keys, what, longer help) — for help and the README.

Imports no screen: help (any screen's keys) and `tui.keys` (every screen's, for the README)
both read their BINDINGS through here.
"""

from __future__ import annotations

from typing import Iterable

from textual.binding import Binding, BindingType

NAMES = {"question_mark": "?", "slash": "/", "left": "←", "right": "→", "up": "↑", "down": "↓",
         "shift+left": "shift+←", "shift+right": "shift+→", "ctrl+p": "ctrl+p", "enter": "Enter",
         "escape": "Esc"}

KeyRow = tuple[str, str, str]  # (keys, what, longer help)


def key_rows(bindings: Iterable[BindingType]) -> list[KeyRow]:
    """(keys, what, longer help) for every binding with a description, in order."""
    rows = []
    for b in bindings:
        if not isinstance(b, Binding):
            b = Binding(*b)
        if not b.description:
            continue
        keys = " ".join(NAMES.get(k.strip(), k.strip()) for k in b.key.split(","))
        rows.append((keys, b.description, b.tooltip or ""))
    return rows


def markdown_table(bindings: Iterable[BindingType]) -> str:
    """The same table for the README."""
    lines = ["| Key | Does | |", "| :- | :- | :- |"]
    lines += [f"| {k} | {d} | {h} |" for k, d, h in key_rows(bindings)]
    return "\n".join(lines)
