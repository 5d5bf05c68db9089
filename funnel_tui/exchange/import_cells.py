"""A text cell of an import file cleaned, fast where that is provably the same.

An import of 100k rows cleans millions of text cells. Short printable text skips the general
validator (clean_text); a test compares the fast path with validate_field, so the shortcut can
never change an answer. Dates and amounts have their own fast paths in their readers.
"""

from __future__ import annotations

import unicodedata

from funnel_tui.domain.validation import _EMAIL, MULTILINE, TEXT_FIELDS

# Fields whose plain ASCII cells need nothing but trimming (email must still be checked).
FAST_TEXT = {f: (n, f in MULTILINE) for f, n in TEXT_FIELDS.items()
             if f not in ("contact_email", "external_id")}
ASCII_FAST = {f: n for f, (n, _) in FAST_TEXT.items()}
ASCII_FAST["contact_email"] = -1


def fast_text(name: str, cell: str) -> str | None:
    """clean_text's result when it can only trim (printable, NFC, short), else None.

    `str.isprintable` is False for every control, format, surrogate and line/paragraph
    separator character and for tabs, so such text has nothing for clean_text to remove.
    """
    if name == "contact_email":
        value = fast_text("contact_name", cell) if len(cell) <= TEXT_FIELDS[name] else None
        return value if value is not None and (not value or _EMAIL.match(value)) else None
    limit, multiline = FAST_TEXT[name]
    if len(cell) > limit:
        return None
    if not (cell.isprintable() or (multiline and cell.replace("\n", "").isprintable())):
        return None
    if not cell.isascii() and not unicodedata.is_normalized("NFC", cell):
        return None
    return cell.strip()
