"""Win probabilities as tools write them, read to a whole percent 0–100.

`40%`, `40 %`, `40`, `40.0`, `60.00` (Odoo), `33,5` (a decimal comma: no probability has a
thousands separator) are percents. A bare number from 0 to 1 is a fraction (`0.4` is 40 %) only
when the whole column is fractions, as HubSpot writes them: a column holding `0.4` and `60` is a
percent column, so its `0.4` is 0.4 % (rounded to 0 and counted). A column of nothing but `0` and
`1` cannot say whether `1` is 1 % or 100 % and refuses it unless the profile says (HubSpot: a
fraction). A value that is not a whole percent (`33.33`) is rounded half up, and the rounding
counted so the import can say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Iterable, NamedTuple

from funnel_tui.exchange.cells import Cell, FieldError, NeedsEvidence, normal_text, shown
from funnel_tui.i18n import _

PERCENT, FRACTION = "percent", "fraction"


class Percent(NamedTuple):
    """A probability read from one cell: the whole percent, and whether it was rounded."""

    value: int
    rounded: bool = False


def _number(cell: Cell) -> tuple[Decimal, bool] | None:
    """(number, written with a % sign) or None when the cell is no number."""
    if isinstance(cell, bool):
        return None
    if isinstance(cell, (int, Decimal)):
        return Decimal(cell), False
    if not isinstance(cell, str):
        return None
    text = normal_text(cell)
    has_sign = text.endswith("%")
    if has_sign:
        text = text[:-1].rstrip()
    text = text.replace(",", ".")
    if not text or not all(c.isdigit() or c == "." for c in text) or text.count(".") > 1:
        return None
    try:
        return Decimal(text), has_sign
    except InvalidOperation:
        return None


@dataclass
class ProbabilityColumn:
    """Reads one probability column. `scale`: PERCENT or FRACTION when the profile knows how
    its tool writes them; None to decide from the column (see the module doc)."""

    field: str = "probability"
    scale: str | None = None
    speculative: bool = False  # no evidence yet: NeedsEvidence instead of deciding (cells.py)
    _bare_above_one: bool = False
    _bare_strict_fraction: bool = False
    _frozen: bool = False

    def observe(self, cells: Iterable[Cell]) -> None:
        if self._frozen:
            raise RuntimeError("observe() after read(): the column was already decided")
        for cell in cells:
            got = _number(cell)
            if got is None or got[1]:
                continue
            value = got[0]
            if value > 1:
                self._bare_above_one = True
            elif 0 < value < 1:
                self._bare_strict_fraction = True

    @property
    def decided(self) -> str | None:
        """PERCENT, FRACTION, or None when bare 0 and 1 are all the column holds."""
        if self.scale is not None:
            return self.scale
        if self._bare_above_one:
            return PERCENT
        if self._bare_strict_fraction:
            return FRACTION
        return None

    def read(self, cell: Cell) -> Percent | None:
        """One cell as a Percent (None when empty); FieldError with the reason otherwise."""
        self._frozen = True
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            return None
        got = _number(cell)
        if got is None:
            raise FieldError(self.field, _("{cell} is not a probability; write e.g. 40%, 40 or 0.4").format(
                cell=shown(cell)))
        value, has_sign = got
        if not has_sign:
            if self.speculative and self.scale is None and 0 < value <= 1:
                raise NeedsEvidence(self.field)  # 0.4 or 1: a fraction only in a column of fractions
            scale = self.decided
            if scale is None and value not in (0, 1):
                # A cell the column was not shown: it decides like an observed one would.
                scale = PERCENT if value > 1 else FRACTION
            if scale is None and value == 1:
                raise FieldError(self.field, _("{cell} may be {one} or {hundred} and nothing else in this "
                                               "column tells which; write {one} or {hundred}").format(
                                                   cell=shown(cell), one="1%", hundred="100%"))
            if scale == FRACTION:
                if value > 1:
                    raise FieldError(self.field, _("{cell} is out of range; this column gives "
                                                   "fractions from 0 to 1").format(cell=shown(cell)))
                value *= 100
        if not 0 <= value <= 100:
            written = cell.strip() if isinstance(cell, str) else str(cell)
            raise FieldError(self.field, _("{cell} is out of range; a probability is 0–100 %").format(
                cell=written if len(written) <= 20 else shown(cell)))
        whole = value.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return Percent(int(whole), whole != value)
