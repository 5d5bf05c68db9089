"""Funnel stages and pipelines: the default set from the source documents, stage lookups,
the playbook as a checklist, and how history keys of archived stages count now.

A stage is never deleted: a split, a merge or an archive leaves the old stage in the table,
`archived`, so every history row keeps pointing at something. A split or merge also sets
`maps_to`: the stage the old one's history counts as from then on (the first part of a
split, the stage merged into). `resolve` follows that chain; the funnel math places every
history key at the position of the stage it resolves to (domain/funnel.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from funnel_tui.domain.playbooks import DEFAULT_PLAYBOOKS
from funnel_tui.i18n import NP_, _, pgettext

DEFAULT_PIPELINE = "main"
SECTIONS = ("entry", "actions", "outputs")  # a playbook's parts, in checklist order
ITEM_SEPARATORS = ("\n", ";", "；")  # how a rep types several items in one option
# A stage's kind as a person reads it (the code itself stays in the database, JSON and CSV).
KIND_WORDS = {"open": NP_("stage kind", "open"), "won": NP_("stage kind", "won"),
              "post": NP_("stage kind", "post")}


@dataclass(frozen=True, slots=True)
class StageDef:
    key: str
    position: int
    name: str
    name_zh: str
    probability: int | None
    max_dwell_days: int | None
    kind: str  # "open" | "won" | "post"
    pipeline: str = DEFAULT_PIPELINE
    archived: bool = False
    maps_to: str | None = None
    # The playbook (进入条件 / 关键动作 / 输出物): items one per line, English and Chinese.
    entry: str = ""
    entry_zh: str = ""
    actions: str = ""
    actions_zh: str = ""
    outputs: str = ""
    outputs_zh: str = ""

    def label(self, lang: str = "en") -> str:
        return self.name_zh if lang == "zh" and self.name_zh else self.name

    def kind_label(self) -> str:
        """The kind (open / won / post) in the active language."""
        return pgettext("stage kind", KIND_WORDS[self.kind]) if self.kind in KIND_WORDS else self.kind

    def items(self, section: str, lang: str = "en") -> list[str]:
        """One playbook section as a list; the other language stands in for a missing item."""
        en = split_items(getattr(self, section))
        zh = split_items(getattr(self, section + "_zh"))
        first, other = (zh, en) if lang == "zh" else (en, zh)
        return [first[i] if i < len(first) else other[i] for i in range(max(len(en), len(zh)))]

    def checklist(self, lang: str = "en") -> list[tuple[str, str]]:
        """(item id, text) for every playbook item: `actions.0`, … in checklist order."""
        return [(f"{section}.{i}", text) for section in SECTIONS
                for i, text in enumerate(self.items(section, lang))]

    def as_row(self) -> dict:
        """Every column, as the stage table holds it."""
        return {name: getattr(self, name) for name in STAGE_COLUMNS}


STAGE_COLUMNS = tuple(StageDef.__dataclass_fields__)


def split_items(text: str | None) -> list[str]:
    """A playbook text as items: one per line (or `;`-separated), blanks dropped."""
    if not text:
        return []
    for sep in ITEM_SEPARATORS[1:]:
        text = text.replace(sep, "\n")
    return [part.strip() for part in text.split("\n") if part.strip()]


def join_items(items: Iterable[str]) -> str:
    return "\n".join(i.strip() for i in items if i and i.strip())


@dataclass(frozen=True, slots=True)
class PipelineDef:
    """A set of stages; exactly one pipeline is the default."""

    key: str
    name: str
    name_zh: str = ""
    position: int = 1
    is_default: bool = False

    def label(self, lang: str = "en") -> str:
        return self.name_zh if lang == "zh" and self.name_zh else self.name

    def as_row(self) -> dict:
        return {name: getattr(self, name) for name in PIPELINE_COLUMNS}


PIPELINE_COLUMNS = tuple(PipelineDef.__dataclass_fields__)
DEFAULT_PIPELINE_DEF = PipelineDef(DEFAULT_PIPELINE, "New business", "新签", 1, True)


def _default_stages() -> tuple[StageDef, ...]:
    # DESIGN §2: the enterprise SaaS example of the training documents.
    base = (
        ("lead", 1, "Lead", "潜在线索", 10, 14, "open"),
        ("qualified", 2, "Qualified", "初步意向", 25, 21, "open"),
        ("demo", 3, "Demo / Proposal", "方案演示", 50, 21, "open"),
        ("negotiation", 4, "Negotiation", "商务谈判", 75, 15, "open"),
        ("won", 5, "Won", "成交签约", 100, None, "won"),
        ("expansion", 6, "Repurchase / Upsell", "复购增购", None, None, "post"),
    )
    out = []
    for row in base:
        book = DEFAULT_PLAYBOOKS.get(row[0], {})
        texts = {f"{section}{suffix}": join_items(book.get(section, {}).get(lang, ()))
                 for section in SECTIONS for suffix, lang in (("", "en"), ("_zh", "zh"))}
        out.append(StageDef(*row, **texts))
    return tuple(out)


DEFAULT_STAGES: tuple[StageDef, ...] = _default_stages()


def live(stages: Iterable[StageDef]) -> list[StageDef]:
    """The stages a rep works with (not archived), in funnel order."""
    return sorted((s for s in stages if not s.archived), key=lambda s: (s.pipeline, s.position))


def of_pipeline(stages: Iterable[StageDef], pipeline: str) -> list[StageDef]:
    return sorted((s for s in stages if s.pipeline == pipeline), key=lambda s: s.position)


def _names(s: StageDef) -> tuple[str, ...]:
    return tuple(n for n in (s.key, s.name, s.name_zh) if n)


def _norm(text: str) -> str:
    return "".join(text.split()).casefold()


def find_stage(stages: tuple[StageDef, ...] | list[StageDef], text: str) -> StageDef:
    """A stage by key, English name or Chinese name (case- and space-insensitive).

    Keys are unique everywhere and win first; names are looked for among the stages given
    (a name the rep's pipelines share is refused as ambiguous, naming the keys)."""
    needle = _norm(text)
    for s in stages:
        if _norm(s.key) == needle:
            return s
    found = [s for s in stages if any(needle == _norm(n) for n in _names(s))]
    if not found:
        # Also accept either half of a combined name such as "Demo / Proposal".
        found = [s for s in stages
                 if any(needle == _norm(p) for p in s.name.split("/") if p.strip())]
    if len(found) == 1:
        return found[0]
    if found:
        keys = ", ".join(s.key for s in found)
        raise ValueError(_("{text!r} names more than one stage; use its key: {keys}").format(text=text, keys=keys))
    keys = ", ".join(s.key for s in stages)
    raise ValueError(_("unknown stage {text}; use one of: {keys}").format(text=repr(text), keys=keys))


def won_stage(stages: tuple[StageDef, ...] | list[StageDef]) -> StageDef:
    for s in stages:
        if s.kind == "won" and not s.archived:
            return s
    raise LookupError("no stage of kind 'won' is configured")


# --- history keys as they count now ---------------------------------------------------------


@dataclass(frozen=True)
class StageMap:
    """Where each stage key of one pipeline counts: its resolved stage and that position.

    Built from every stage of the pipeline, archived ones included. Keys outside it (another
    pipeline's) have no position and count nowhere."""

    stages: Sequence[StageDef]
    target: dict[str, str] = field(default_factory=dict)  # key → the stage it counts as
    position: dict[str, int] = field(default_factory=dict)  # key → that stage's position

    @classmethod
    def of(cls, stages: Sequence[StageDef]) -> "StageMap":
        by_key = {s.key: s for s in stages}
        m = cls(sorted(stages, key=lambda s: s.position))
        for s in stages:
            end = resolve(by_key, s.key)
            m.target[s.key] = end
            m.position[s.key] = by_key[end].position
        return m

    @property
    def counted(self) -> list[StageDef]:
        """The stages history counts as, in funnel order: live ones, and archived ones that
        map nowhere (a plain archive; its position still counts in reached)."""
        return [s for s in self.stages if self.target[s.key] == s.key]

    @property
    def relabels(self) -> bool:
        """True when some stage maps to another (a split or merge happened)."""
        return any(self.target[s.key] != s.key for s in self.stages)

    def key(self, key: str | None) -> str | None:
        return None if key is None else self.target.get(key)

    def same(self, a: str | None, b: str | None) -> bool:
        """True when two keys count as one stage now (a split's or merge's relabel move)."""
        return a is not None and b is not None and self.target.get(a) is not None \
            and self.target.get(a) == self.target.get(b)


def resolve(by_key: dict[str, StageDef], key: str) -> str:
    """Follow `maps_to` from `key` to the stage its history counts as now."""
    seen = {key}
    while True:
        nxt = by_key[key].maps_to
        if nxt is None or nxt not in by_key or nxt in seen:
            return key
        seen.add(nxt)
        key = nxt
