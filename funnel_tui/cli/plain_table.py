"""A table drawn without Rich, for `funnel due`: what `emit` prints, at a fraction of the cost.

Importing Rich and laying a table out with it costs `funnel due` about 75 ms of CPU, more
than everything else it does (issue 19's budget: the table within 4x `python -c "import
sqlite3"`). The layout itself is already ours (cli/table_layout.py: widths and line breaks by
display width, Chinese kept whole); this draws the result in the same box Rich draws
(heavy head, light body), line for line: tests/test_plain_table.py compares the two.

Cells are cleaned of control characters (`safe`) and printed literally. Bold headers and an
italic title only when stdout is a terminal that is not `dumb`; plain text otherwise (pipes,
cron mail). Should a table not fit the terminal even after table_layout has squeezed every
column (a very narrow terminal), Rich draws it instead, as before.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from funnel_tui.cli.common import FOLD_COLUMNS, KEEP_COLUMNS, emit, safe
from funnel_tui.cli.table_layout import BORDER, fits, layout, wrap
from funnel_tui.domain.text import display_width, truncate_to_width
from funnel_tui.i18n import _

DEFAULT_WIDTH = 80


def console_width(out: TextIO | None = None) -> int:
    """The width Rich would use: COLUMNS when set, else the first terminal among stdin, stdout
    and stderr, else 80 (a dumb terminal: 80)."""
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return int(columns)
    if _styled(out or sys.stdout) is None:
        return DEFAULT_WIDTH
    for fd in (0, 1, 2):
        try:
            width = os.get_terminal_size(fd).columns
        except (AttributeError, ValueError, OSError):
            continue
        return width or DEFAULT_WIDTH
    return DEFAULT_WIDTH


def _styled(out: TextIO) -> bool | None:
    """True: a terminal that takes styles; False: not a terminal; None: a dumb terminal."""
    try:
        tty = out.isatty()
    except (AttributeError, ValueError):
        return False
    if tty and os.environ.get("TERM", "").lower() in ("dumb", "unknown"):
        return None
    return tty


def print_table(rows: list[dict[str, Any]], columns: Sequence[str], *, title: str | None = None,
                footer: str | None = None, optional: Sequence[str] = (), out: TextIO | None = None) -> None:
    """cli.common.emit(rows, "table", columns, title=, footer=, optional=), without Rich."""
    from funnel_tui.domain.vocab import column_name

    out = out or sys.stdout
    width = console_width(out)
    if not rows:
        _write_wrapped(out, _("{title}: none").format(title=title) if title else _("nothing to show"), width)
        return
    columns = list(columns)
    for leave_out in [None, *optional]:
        if leave_out is not None and leave_out in columns:
            columns.remove(leave_out)
        cells = [[safe(row.get(c)) for c in columns] for row in rows]
        headers = [column_name(c) for c in columns]
        if fits(headers, cells, [c in FOLD_COLUMNS for c in columns], width):
            break
    widths, headers, lines = layout(headers, cells, [c in FOLD_COLUMNS for c in columns], width,
                                    [c in KEEP_COLUMNS for c in columns])
    table_width = sum(widths) + BORDER * len(widths) + 1
    if table_width > width:  # even the floors do not fit: Rich squeezes further
        import contextlib

        with contextlib.redirect_stdout(out):
            emit(rows, "table", columns, title=title, footer=footer)
        return
    styled = _styled(out) is True
    text: list[str] = []
    if title:
        for line in wrap(title, table_width, free_text=True):
            text.append(_centred(line, table_width, italic=styled))
    text.append(_rule("┏", "━", "┳", "┓", widths))
    text += _cells(headers, widths, "┃", bold=styled, bottom=True)
    text.append(_rule("┡", "━", "╇", "┩", widths))
    for row in lines:
        text += _cells(row, widths, "│")
    text.append(_rule("└", "─", "┴", "┘", widths))
    out.write("\n".join(text) + "\n")
    if footer:
        _write_wrapped(out, footer, width)


def _rule(left: str, line: str, cross: str, right: str, widths: Sequence[int]) -> str:
    return left + cross.join(line * (w + 2) for w in widths) + right


def _cells(cells: Sequence[str], widths: Sequence[int], bar: str, *, bold: bool = False,
           bottom: bool = False) -> list[str]:
    """One table row as terminal lines: each cell's lines padded to its width, top-aligned
    (headers: bottom-aligned, as Rich draws them)."""
    split = [c.split("\n") for c in cells]
    height = max(len(c) for c in split)
    if bottom:
        split = [[""] * (height - len(c)) + c for c in split]
    out = []
    for i in range(height):
        parts = []
        for cell, w in zip(split, widths):
            part = _pad(truncate_to_width(cell[i], w) if i < len(cell) else "", w)
            parts.append(f"\x1b[1m{part}\x1b[0m" if bold and part.strip() else part)
        out.append(bar + "".join(f" {p} {bar}" for p in parts))
    return out


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def _centred(line: str, width: int, *, italic: bool) -> str:
    """A title line centred over the table as Rich centres it (the odd space on the right)."""
    excess = max(width - display_width(line), 0)
    shown = f"\x1b[3m{line}\x1b[0m" if italic else line
    return " " * (excess // 2) + shown + " " * (excess - excess // 2)


def _write_wrapped(out: TextIO, text: str, width: int) -> None:
    out.write("\n".join(wrap(text, width, free_text=True)) + "\n")
