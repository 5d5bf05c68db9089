"""Result lines, statistics and the printed table."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field


@dataclass
class Line:
    """One row of the table: samples of one measurement and its verdict."""

    name: str
    unit: str = "ms"
    samples: list[float] = field(default_factory=list)
    vs: str = ""            # ratios against the baselines, as text
    budget: str = ""
    verdict: str = ""       # PASS / FAIL / "" (a baseline or an informative figure)
    note: str = ""          # "n/a: why" when the measurement could not run

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else math.nan

    def cells(self) -> list[str]:
        if self.note.startswith("n/a"):
            return [self.name, "—", "—", "—", "—", self.budget, self.note]
        lo, hi = (min(self.samples), max(self.samples)) if self.samples else (math.nan, math.nan)
        return [self.name, f"{fmt(self.median, self.unit)}", f"{fmt(lo, self.unit)}–{fmt(hi, self.unit)}",
                str(len(self.samples)), self.vs, self.budget,
                (self.verdict + (f" ({self.note})" if self.note else "")).strip()]


def fmt(value: float, unit: str) -> str:
    if math.isnan(value):
        return "?"
    if unit == "ms":
        return f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"
    if unit == "rows/s":
        return f"{value / 1000:.0f}k rows/s"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    return f"{value:.3g} {unit}"


def p50(samples: list[float]) -> float:
    return statistics.median(samples) if samples else math.nan


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


HEAD = ["measurement", "median", "min–max", "n", "ratio", "budget", "result"]


def table(lines: list[Line]) -> str:
    """A Markdown table (reads as plain text too, pastes into the README)."""
    rows = [HEAD] + [line.cells() for line in lines]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEAD))]
    out = []
    for n, row in enumerate(rows):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)
