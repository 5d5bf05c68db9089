"""Cleaning and measuring user text.

Everything a user types (or an import file carries) passes through `clean_text` before it
reaches the database, so stored text never contains terminal escape sequences, control
characters or bidi overrides that could spoof what the rep sees. Markup-like text such as
`Acme [/]` is deliberately left alone: rendering it literally is the view's job.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from funnel_tui.domain.lazy_re import lazy_compile
from funnel_tui.i18n import _

__all__ = ["clean_text", "escape_like", "display_width", "pad_to_width", "truncate_to_width"]

ZWJ = "\u200d"  # kept: emoji sequences (👩‍💻) need it and it cannot reorder text
ZWNJ = "\u200c"  # kept: Persian and Indic spelling needs it; it cannot reorder text either

# Whole escape sequences go, not just the ESC: dropping only ESC would leave "]0;PWNED" or
# "[6n" behind as visible garbage. Both the 7-bit (ESC x) and 8-bit C1 introducers count.
# String sequences (OSC, DCS, SOS, PM, APC) end at BEL or ST; an unterminated one runs to the
# end of the text, because a terminal would swallow that much too.
_ST = r"(?:\x07|\x1b\\|\x9c|\Z)"
_ESCAPE_SEQ = lazy_compile(
    r"(?:\x1b\]|\x9d).*?" + _ST  # OSC: window title, hyperlinks, clipboard
    + r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f]).*?" + _ST  # DCS, SOS, PM, APC
    + r"|(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"  # CSI: colours, cursor, queries
    + r"|\x1b[\x20-\x2f]*[\x30-\x7e]?",  # other ESC sequences (ESC c, ESC ( B, ESC 7, lone ESC)
    re.DOTALL,
)

# Line breaks other than \n are unified first so one rule (keep or turn into a space) covers
# them all; \v, \f, NEL and the Unicode separators would otherwise be dropped and glue words.
_NEWLINES = lazy_compile(r"\r\n|[\r\v\f\x85\u2028\u2029]")


def _keep(ch: str) -> bool:
    """True unless `ch` is a control, format (bar ZWJ) or lone surrogate character."""
    if ch == "\n" or ch == ZWJ or ch == ZWNJ:
        return True
    # Cc: C0 (NUL, ESC...), DEL, C1. Cf: bidi overrides/isolates, LRM/RLM, zero-width space,
    # BOM, tag characters - all invisible and able to disguise text. Cs: lone surrogates
    # cannot be encoded as UTF-8 and would fail at the database.
    return unicodedata.category(ch) not in ("Cc", "Cf", "Cs")


def clean_text(value: str | None, *, multiline: bool = False, max_len: int | None = None) -> str:
    """Return `value` safe to store and display: NFC, no control/format chars, trimmed.

    With `multiline` newlines are kept as "\\n"; otherwise every line break and tab becomes
    one space. Raises ValueError when the cleaned text is longer than `max_len` characters
    (the message omits the field name; callers prefix it).
    """
    if value is None:
        return ""
    text = str(value)
    if text.isprintable():
        # No control, format or separator character (bar the space): _removed would neither
        # remove nor replace anything, and a table of names is cleaned in a tenth of the time.
        return _fits(unicodedata.normalize("NFC", text).strip(), max_len)
    # NFC after removal: dropping a character can bring a base letter and its combining mark
    # together, and the stored form should be the composed one either way.
    return _fits(unicodedata.normalize("NFC", _removed(text, multiline)).strip(), max_len)


def _removed(text: str, multiline: bool) -> str:
    """`text` without escape sequences, control and format characters; line breaks unified
    (kept with `multiline`, else spaces), tabs as spaces."""
    text = _ESCAPE_SEQ.sub("", text)
    text = _NEWLINES.sub("\n", text)
    text = text.replace("\t", " ")
    if not multiline:
        text = text.replace("\n", " ")
    return "".join(ch for ch in text if _keep(ch))


def _fits(text: str, max_len: int | None) -> str:
    if max_len is not None and len(text) > max_len:
        raise ValueError(_("is {n} characters long; at most {max} allowed").format(n=len(text), max=max_len))
    return text


def escape_like(value: str) -> str:
    """Escape `\\`, `%` and `_` for `LIKE ... ESCAPE '\\'` so search matches them literally."""
    # Backslash first, or the escapes added for % and _ would be doubled.
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@functools.cache  # a table measures the same few hundred characters thousands of times
def _char_width(ch: str) -> int:
    """Terminal columns taken by one code point: 0, 1 or 2."""
    if unicodedata.combining(ch) or ch in (ZWJ, ZWNJ):
        return 0
    category = unicodedata.category(ch)
    if category in ("Mn", "Me", "Cf", "Cc"):
        # Variation selectors (Mn), enclosing marks and invisible format characters.
        return 0
    if "\u1160" <= ch <= "\u11ff":
        return 0  # Hangul medial/final jamo join the preceding syllable
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 2  # CJK (including plane-2 characters like 𠮷) and emoji such as 😀
    return 1


def display_width(s: str) -> int:
    """Columns `s` takes in a terminal (wide/fullwidth = 2, combining = 0)."""
    if s.isascii() and s.isprintable():
        return len(s)  # one column each: what the sum below gives, without it
    return sum(_char_width(ch) for ch in s)


def truncate_to_width(s: str, width: int, ellipsis: str = "…") -> str:
    """Cut `s` to at most `width` columns, ending with `ellipsis` when anything was cut.

    A wide character that would straddle the limit is dropped whole, so the result can be
    one column narrower than `width` but never wider. If `ellipsis` itself does not fit, the
    text is cut without one.
    """
    if width <= 0:
        return ""
    if display_width(s) <= width:
        return s
    mark_width = display_width(ellipsis)
    if mark_width > width:
        ellipsis, mark_width = "", 0
    budget = width - mark_width
    used = 0
    out: list[str] = []
    for ch in s:
        w = _char_width(ch)
        if used + w > budget:
            break
        # Zero-width characters fall through here, so combining marks stay on their base.
        out.append(ch)
        used += w
    return "".join(out) + ellipsis


def pad_to_width(s: str, width: int) -> str:
    """`s` followed by spaces up to `width` terminal columns (never cut): `ljust` by display
    width, so columns of Chinese text line up."""
    return s + " " * max(width - display_width(s), 0)
