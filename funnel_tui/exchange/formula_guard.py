"""The CSV-injection guard (OWASP): a text cell a spreadsheet could run as a formula gets a
leading apostrophe on export, and import takes exactly that apostrophe off again.

A cell starting with = + - @ tab CR (or the full-width ＝＋－＠) is guarded. A cell that
already starts with apostrophes followed by a trigger gets one more, so `unguard` can undo
`guard` exactly and our own export round-trips.
"""

from __future__ import annotations

import re

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
TRIGGER_CHARS = "".join(FORMULA_TRIGGERS)  # every trigger is one character


def needs_guard(text: str) -> bool:
    """True when a spreadsheet could read `text` as a formula (or it is an already-guarded one)."""
    return bool(text) and text.lstrip("'").startswith(FORMULA_TRIGGERS)


def guard(text: str) -> str:
    return "'" + text if needs_guard(text) else text


def unguard(text: str) -> str:
    """Inverse of `guard`: drop the one apostrophe it added (apostrophes then a trigger)."""
    if text.startswith("'") and needs_guard(text):
        return text[1:]
    return text


def char_class(chars: str) -> str:
    """The body of a regex character class matching any one of `chars`, for the fast export
    paths that find, in whole joined lines, the cells the guard applies to."""
    return "".join(re.escape(c) for c in chars)
