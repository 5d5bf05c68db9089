"""The facts the funnel math works on (domain/funnel.py explains the rules): a handful of
sums per stage and per deal group, computed by the store's SQL (store/summary.py) and by the
plain-rows contract (domain/funnel_rows.py) alike. Re-exported by domain.funnel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from funnel_tui.domain.currency_totals import BASE_CURRENCY

SMALL_SAMPLE = 10  # rates resting on fewer deals than this are marked
BOTTLENECK_THRESHOLD = 0.30
DAY = timedelta(days=1)
ENTRY_KINDS = ("created", "imported", "stage")
STATUS_KINDS = ("won", "lost", "reopened")
UNDO_PREFIX = "undo:"


@dataclass(frozen=True, slots=True)
class DealGroup:
    """Deals sharing status, stage, source and lost reason, with their sums."""

    status: str
    stage: str
    source: str
    lost_reason: str
    n: int
    amount: int  # Σ amount, minor units
    weighted: int  # Σ weighted_minor(amount, probability)
    cycle_days: float  # Σ days created → closed, over won deals
    dwell_days: float  # Σ days stage entered → now, over open deals
    currency: str = BASE_CURRENCY  # the currency of `amount` and `weighted` (groups never mix them)


@dataclass(slots=True)
class FunnelFacts:
    """What the summary needs to know about a set of deals, all additive except tiers."""

    groups: list[DealGroup] = field(default_factory=list)
    highest: dict[str, int] = field(default_factory=dict)  # stage → deals whose highest entry it is
    stays: dict[str, tuple[int, float]] = field(default_factory=dict)  # stage → (n, Σ days)
    open_weighted: dict[int, int] = field(default_factory=dict)  # open deals' weighted value → how many
    highest_amount: dict[str, int] = field(default_factory=dict)  # stage → Σ amount of `highest`'s deals

    def merge(self, other: "FunnelFacts") -> "FunnelFacts":
        out = FunnelFacts(list(self.groups) + list(other.groups), dict(self.highest), dict(self.stays),
                          dict(self.open_weighted), dict(self.highest_amount))
        for k, v in other.highest_amount.items():
            out.highest_amount[k] = out.highest_amount.get(k, 0) + v
        for value, n in other.open_weighted.items():
            out.open_weighted[value] = out.open_weighted.get(value, 0) + n
        for k, v in other.highest.items():
            out.highest[k] = out.highest.get(k, 0) + v
        for k, (n, d) in other.stays.items():
            n0, d0 = out.stays.get(k, (0, 0.0))
            out.stays[k] = (n0 + n, d0 + d)
        return out


def rate(n: int, d: int) -> float | None:
    """n/d as a fraction, or None when nothing stands behind it."""
    return None if d <= 0 else n / d


def days_between(start: datetime, end: datetime) -> float:
    return (end - start) / DAY
