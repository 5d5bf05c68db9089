"""Funnel stages: the default set from the source documents, and stage lookups."""

from __future__ import annotations

from dataclasses import dataclass

from funnel_tui.i18n import _


@dataclass(frozen=True, slots=True)
class StageDef:
    key: str
    position: int
    name: str
    name_zh: str
    probability: int | None
    max_dwell_days: int | None
    kind: str  # "open" | "won" | "post"

    def label(self, lang: str = "en") -> str:
        return self.name_zh if lang == "zh" and self.name_zh else self.name


# DESIGN §2: the enterprise SaaS example of the training documents.
DEFAULT_STAGES: tuple[StageDef, ...] = (
    StageDef("lead", 1, "Lead", "潜在线索", 10, 14, "open"),
    StageDef("qualified", 2, "Qualified", "初步意向", 25, 21, "open"),
    StageDef("demo", 3, "Demo / Proposal", "方案演示", 50, 21, "open"),
    StageDef("negotiation", 4, "Negotiation", "商务谈判", 75, 15, "open"),
    StageDef("won", 5, "Won", "成交签约", 100, None, "won"),
    StageDef("expansion", 6, "Repurchase / Upsell", "复购增购", None, None, "post"),
)


def find_stage(stages: tuple[StageDef, ...] | list[StageDef], text: str) -> StageDef:
    """A stage by key, English name or Chinese name (case- and space-insensitive)."""
    needle = "".join(text.split()).casefold()
    for s in stages:
        names = (s.key, s.name, s.name_zh)
        if any(needle == "".join(n.split()).casefold() for n in names if n):
            return s
    # Also accept either half of a combined name such as "Demo / Proposal".
    for s in stages:
        parts = [p for p in s.name.split("/") if p.strip()]
        if any(needle == "".join(p.split()).casefold() for p in parts):
            return s
    keys = ", ".join(s.key for s in stages)
    raise ValueError(_("unknown stage {text}; use one of: {keys}").format(text=repr(text), keys=keys))


def won_stage(stages: tuple[StageDef, ...] | list[StageDef]) -> StageDef:
    for s in stages:
        if s.kind == "won":
            return s
    raise LookupError("no stage of kind 'won' is configured")
