"""Column widths and line breaks for the command line's tables, by display width.

A Chinese character takes two terminal columns, and a Chinese name has no spaces, so a table
that folds wherever a column ends splits `东方制造` into `东方制`/`造`. Here every cell is broken
into lines before Rich draws it, and widths are chosen so that:

- names, stages, times and codes break only at spaces and around brackets
  (`长沙湘江数据` / `（北京）`, `11月21日 周六` / `12:46`), never inside a word;
- free text (FOLD columns: notes, titles) may also break between Chinese characters, the way
  Chinese text wraps, but never before a closing mark (，。）) or after an opening one (（);
- when the table is too wide for the terminal, free text gives way first, then the other
  columns in turn down to their longest unbreakable piece; only past that (a name longer than
  the whole screen allows) does a cell end in an ellipsis.

Pure functions of strings and widths: `emit` (cli.common) calls `layout` and hands Rich the
result with fixed widths.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from funnel_tui.domain.text import display_width, truncate_to_width

# One wide character, U+2E80–U+FFEF, spelled as "neither a space nor outside that range": the
# same characters within a word (words are split at spaces first), and compiled in a fifth of
# the time the plain range [\u2e80-\uffef] takes (Python builds a 64k-entry map for that one).
_WIDE = r"[^\s\x00-\u2e7f\ufff0-\U0010ffff]"
# Pieces of a name: runs without spaces, split before an opening bracket and after a closing
# one or an enumeration comma (a break there reads naturally in Chinese).
_NAME_PIECES = r"[（(【\[]?[^\s（(【\[）)】\]、，]+[）)】\]、，]*|[（(【\[）)】\]、，]+"
# Pieces of free text: a word, or one wide character with the punctuation that must stay with it.
_TEXT_PIECES = r"[^\s\u2e80-\uffef]+|[（《「『【“]*" + _WIDE + r"[，。、；：？！）》」』】”’…,.;:?!)]*"

# Pieces of a header: words broken after "_" (followup_/id), Chinese between characters.
_HEADER_PIECES = r"[^_\s\u2e80-\uffef]+_?|_|" + _WIDE


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    # Compiled on first use: together they take a few ms to compile, which every command
    # that prints no table (`funnel due --count` at each prompt) would pay at import.
    return re.compile(pattern)


TEXT_FLOOR = 8  # free text gets at least this much while the other columns fit whole
TEXT_COMFORT = 12  # ... and this much before the other columns grow past their floors
SQUEEZED = 4  # the least any column gets when even the floors do not fit
HEADER_FLOOR = 8  # a longer header folds (followup_id: followup/_id)
BORDER = 3  # a heavy-box column costs its width plus "│" and one space each side


def pieces(text: str, *, free_text: bool, header: bool = False) -> list[str]:
    """The unbreakable pieces of one line of `text`, in order (spaces dropped)."""
    out: list[str] = []
    for word in text.split():
        if word.isascii():  # what the patterns give, without compiling them (~10 ms a table)
            if header:
                out += _ascii_header_pieces(word)
                continue
            if free_text or not _ASCII_BRACKETS.intersection(word):
                out.append(word)
                continue
        pattern = _compiled(_HEADER_PIECES if header else _TEXT_PIECES if free_text else _NAME_PIECES)
        out += pattern.findall(word)
    return out


_ASCII_BRACKETS = frozenset("()[]")  # the ASCII characters _NAME_PIECES breaks at


def _ascii_header_pieces(word: str) -> list[str]:
    """_HEADER_PIECES' pieces of an ASCII word: each run up to and with its "_", a lone "_"."""
    out: list[str] = []
    i, n = 0, len(word)
    while i < n:
        if word[i] == "_":
            out.append("_")
            i += 1
            continue
        end = word.find("_", i)
        end = n if end < 0 else end + 1
        out.append(word[i:end])
        i = end
    return out


def wrap(text: str, width: int, *, free_text: bool, header: bool = False) -> list[str]:
    """`text` as lines of at most `width` columns, broken between pieces (a space is kept
    between pieces that had one). A piece wider than `width` folds in free text and headers
    (a long URL or time), and ends in an ellipsis anywhere else (a name is cut, never split)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            for i, piece in enumerate(pieces(word, free_text=free_text, header=header)):
                joined = line + (" " if line and i == 0 else "") + piece
                if line and display_width(joined) > width:
                    lines.append(line)
                    line = piece
                else:
                    line = joined
                while display_width(line) > width:
                    if not (header or free_text):
                        line = truncate_to_width(line, width)
                        break
                    cut = truncate_to_width(line, width, ellipsis="")
                    lines.append(cut)
                    line = line[len(cut):]
        lines.append(line)
    return lines


def _floor(texts: Sequence[str], header: str, *, free_text: bool) -> int:
    """The narrowest a column should get: free text TEXT_FLOOR, anything else its widest
    unbreakable piece (a header's pieces are single Chinese characters or `word_`)."""
    # A longer header folds: English after 8 columns (followup_/id), Chinese after 2 characters.
    heading = min(display_width(header), HEADER_FLOOR if display_width(header) == len(header) else 4)
    full = max([display_width(header), *(display_width(t) for t in texts)])
    if free_text:
        return min(full, max(TEXT_FLOOR, heading))
    widest = max((display_width(p) for t in texts for p in pieces(t, free_text=False)), default=1)
    return min(full, max(widest, heading))


def fits(headers: Sequence[str], rows: Sequence[Sequence[str]], free_text: Sequence[bool], available: int) -> bool:
    """Whether every column gets at least its floor (nothing cut) within `available` columns."""
    floors = [_floor([r[i] for r in rows], headers[i], free_text=free_text[i]) for i in range(len(headers))]
    return sum(floors) + BORDER * len(headers) + 1 <= available


def widths(headers: Sequence[str], rows: Sequence[Sequence[str]], free_text: Sequence[bool],
           available: int, keep: Sequence[bool] | None = None) -> list[int]:
    """One width per column so the table fits `available` terminal columns.

    Each column would like its widest cell. When they do not all fit, each starts from its
    floor (`_floor`); the room left goes to free text up to TEXT_COMFORT, then to the other
    columns left to right, then to free text again. When even the floors do not fit, free
    text goes down to SQUEEZED, then the widest other column not marked `keep` (times and ids
    are kept) loses a column at a time — its longest cells end in an ellipsis — until the
    table fits or every such column is SQUEEZED."""
    n = len(headers)
    full = [max([display_width(headers[i]), *(display_width(r[i]) for r in rows)]) for i in range(n)]
    room = available - BORDER * n - 1
    if sum(full) <= room:
        return full
    out = [_floor([r[i] for r in rows], headers[i], free_text=free_text[i]) for i in range(n)]
    if sum(out) > room:
        out = [min(w, SQUEEZED) if free_text[i] else w for i, w in enumerate(out)]
    keep = keep or [False] * n
    while sum(out) > room:
        widest = max((i for i in range(n) if not keep[i]), key=lambda i: out[i], default=None)
        if widest is None or out[widest] <= SQUEEZED:
            break
        out[widest] -= 1
    spare = room - sum(out)
    for i in range(n):
        if free_text[i] and spare > 0:
            grow = max(min(TEXT_COMFORT, full[i]) - out[i], 0)
            out[i] += min(grow, spare)
            spare -= min(grow, spare)
    for want_text in (False, True):
        for i in range(n):
            if free_text[i] == want_text and spare > 0:
                grow = min(full[i] - out[i], spare)
                out[i] += grow
                spare -= grow
    return out


def layout(headers: Sequence[str], rows: Sequence[Sequence[str]], free_text: Sequence[bool],
           available: int, keep: Sequence[bool] | None = None) -> tuple[list[int], list[str], list[list[str]]]:
    """(widths, headers, rows) with every cell already broken into lines ("\\n") for its width."""
    w = widths(headers, rows, free_text, available, keep)

    def cell(text: str, i: int) -> str:
        return "\n".join(wrap(text, w[i], free_text=free_text[i]))

    shown = ["\n".join(wrap(h, w[i], free_text=True, header=True)) for i, h in enumerate(headers)]
    return w, shown, [[cell(c, i) for i, c in enumerate(r)] for r in rows]
