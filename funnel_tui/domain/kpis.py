"""KPIs per stage (source document 000) beyond the summary's: median days in a stage and the
sales cycle split by stage. Pure; the average deal size at a stage comes with the summary
(`avg_deal_size`: Σ amount of the deals that reached the stage / reached).

- A *completed stay* is as in domain.funnel: from a deal's entry into a stage to its move
  out of it (a loss never completes a stay; undone moves are no stays).
- **median days in stage s** = the median of the completed stays in s, each taken to the
  nearest hour (the SQL groups stays by the hour); the mean stays the summary's exact one.
- **sales cycle split by stage**: over the deals won now, Σ of their completed stays in each
  open stage / the number of won deals. For deals walked stage by stage into Won the parts add
  up to the sales cycle (created → won); a deal created straight into Won has no part.
Stays are read through today's stages (domain.stage_history.deal_stays, as the summary reads
them): a split's or merge's relabel move neither ends nor starts a stay, and a stay in an old
key counts for the stage it maps to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Iterable, Mapping, Sequence

from funnel_tui.domain.funnel import ENTRY_KINDS, days_between, undone_actions
from funnel_tui.domain.stage_history import deal_stays
from funnel_tui.domain.stages import StageDef, StageMap

HOUR = timedelta(hours=1)


@dataclass(slots=True)
class StayFacts:
    """Completed stays per stage: how many lasted each whole number of hours, and the Σ days
    of the won deals' stays."""

    hours: dict[str, dict[int, int]] = field(default_factory=dict)
    won_days: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, hours: int, n: int = 1) -> None:
        per = self.hours.setdefault(stage, {})
        per[hours] = per.get(hours, 0) + n


def to_hours(days: float) -> int:
    """A stay in days to the nearest whole hour (halves up; toward zero, as the SQL does, for
    the negative stays only a clock set back could make)."""
    return int(days * 24 + 0.5)


def median_days(hours: Mapping[int, int]) -> float | None:
    """The median of a multiset of whole hours (value → count), in days; None when empty."""
    n = sum(hours.values())
    if n == 0:
        return None
    order = sorted(hours.items())

    def nth(k: int) -> int:  # the k-th smallest, 0-based
        seen = 0
        for value, count in order:
            seen += count
            if k < seen:
                return value
        raise IndexError(k)

    if n % 2:
        return nth(n // 2) / 24
    return (nth(n // 2 - 1) + nth(n // 2)) / 48


def stays_from_rows(stages: Sequence[StageDef], deals: Iterable[Mapping[str, Any]],
                    history: Iterable[Mapping[str, Any]]) -> StayFacts:
    """The contract over plain rows: every completed stay of the (not deleted) deals given.
    `stages`: the pipeline's stage set now, archived ones included."""
    history = list(history)
    chosen = {d["id"]: d for d in deals if d.get("deleted_at") is None}
    smap = StageMap.of(stages)
    undone = undone_actions(history)
    facts = StayFacts()
    paths: dict[int, list[Mapping[str, Any]]] = {}
    for h in sorted(history, key=lambda r: r["id"]):
        if h.get("deal_id") in chosen and h.get("to_stage") and h["kind"] in ENTRY_KINDS:
            paths.setdefault(h["deal_id"], []).append(h)
    for deal_id, path in paths.items():
        for stage, entered, left in deal_stays(path, smap, undone):
            days = days_between(entered, left)
            facts.add(stage, to_hours(days))
            if chosen[deal_id]["status"] == "won":
                facts.won_days[stage] = facts.won_days.get(stage, 0.0) + days
    return facts


def stage_kpis(stages: Sequence[StageDef], stays: StayFacts, won: int) -> dict[str, dict[str, Any]]:
    """Per stage key: median_days_in_stage, and for open stages cycle_days_in_stage (the won
    deals' mean time there; None without a won deal)."""
    out = {}
    for s in (s for s in stages if not s.archived):
        split = None
        if s.kind == "open" and won:
            split = max(stays.won_days.get(s.key, 0.0), 0.0) / won
        out[s.key] = {"median_days_in_stage": median_days(stays.hours.get(s.key, {})),
                      "cycle_days_in_stage": split}
    return out
