"""What one cell of an imported file can hold, and what the column readers share.

A CSV cell is always text. A workbook cell (exchange.workbook) is text, a Decimal (numbers
are never floats here: workbook.py turns each float into the Decimal Excel shows), a
`datetime`/`date`/`time` for a date-formatted cell, a bool, or None for an empty cell.
The column readers (amounts, probabilities, calendar_dates) take any of these.

Every reader works the same way, so the importer can drive them column by column:

    reader.observe(distinct_cells)   # evidence from the whole column (any number of calls)
    value = reader.read(cell)        # a typed value, or FieldError naming the field and the
                                     # option that settles an ambiguous value

The first `read` freezes what the column decided; `observe` after that is a bug. Refusals
are `domain.validation.FieldError`. A reader made `speculative` reads without any evidence and
raises NeedsEvidence instead of deciding a value the column would have to decide (the importer
reads big files in one pass and gathers evidence only when such a value turns up).
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, time
from decimal import Decimal
from typing import Union

from funnel_tui.domain.validation import FieldError
from funnel_tui.i18n import _

Cell = Union[str, Decimal, int, datetime, date, time, bool, None]

__all__ = ["Cell", "FieldError", "NeedsEvidence", "shown", "normal_text", "cell_text", "SPACES"]

class NeedsEvidence(Exception):
    """Raised by a reader in speculative mode (no evidence gathered yet) for a value whose reading
    depends on the rest of its column (`12.000`, `03/04/2024`, a bare `0.4`): the importer then
    gathers the whole column's evidence and reads again. Every value a speculative reader does
    return reads the same whatever the column holds, so nothing read before is wrong."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


# Spaces people (and locales) put inside numbers: plain, no-break, narrow no-break, thin.
SPACES = " \u00a0\u202f\u2009"


def ragged_row(cells: int, width: int) -> str:
    """Why a row with more (or fewer) cells than the header is refused."""
    return _("{n} cells but the header has {width} (ragged row)").format(n=cells, width=width)


def shown(cell: Cell) -> str:
    """A cell as quoted in a message: repr of its text, kept short."""
    text = cell if isinstance(cell, str) else str(cell)
    return repr(text if len(text) <= 40 else text[:39] + "…")


def normal_text(cell: str) -> str:
    """NFKC (full-width digits, signs and letters become ASCII) and trimmed; the spaces
    inside are kept, because a space can be a thousands separator."""
    text = unicodedata.normalize("NFKC", cell) if not cell.isascii() else cell
    return text.strip(SPACES + "\t")


def cell_text(cell: Cell) -> str:
    """A cell as the text a text field stores: a workbook number as written (`12`, `3.5`, never
    `1.2E+1`), a date as ISO, TRUE/FALSE for a boolean, "" for an empty cell."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return cell
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, Decimal):
        text = format(cell, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(cell, (datetime, date, time)):
        return cell.isoformat()
    return str(cell)
