"""Changes to a rep's stages, planned as pure functions: the stage list before, the list
after, and which deals move. The store writes the plan (store/stage_setup.py); this module
decides what a change means and refuses one that would break an invariant:

- every pipeline has exactly one won stage; kinds are open, won, post, in that order
  (open stages before the won stage, post stages after it);
- keys are unique everywhere, names (English and Chinese) unique among a pipeline's live
  stages; probability 0–100, max dwell a whole number of days above 0.

A split keeps the old stage, archived, with `maps_to` its first part (unless the first part
reuses the old key, which then simply gets a new name); a merge archives the stage merged
away with `maps_to` the stage it went into. So history is never rewritten: the funnel math
reads old keys through the map (domain/stages.StageMap).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Sequence

from funnel_tui.domain.stages import SECTIONS, PipelineDef, StageDef, join_items, live, of_pipeline, split_items
from funnel_tui.domain.text import clean_text
from funnel_tui.i18n import _

KEY_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,31}")
RESERVED_KEYS = frozenset({"next", "prev", "all", "none"})  # words commands give a meaning
TEXT_FIELDS = tuple(f"{s}{suffix}" for s in SECTIONS for suffix in ("", "_zh"))
EDITABLE = ("name", "name_zh", "probability", "max_dwell_days") + TEXT_FIELDS
NAME_MAX = 60
TEXT_MAX = 2000


class StageChangeError(ValueError):
    """A stage change refused: the message says why and what to do instead."""


@dataclass
class Plan:
    """A pipeline's stages after a change, and the deals it moves (old stage → new)."""

    stages: list[StageDef]
    moves: dict[str, str] = field(default_factory=dict)
    pipelines: list[PipelineDef] | None = None  # set when the change is to a pipeline


# --- checks -------------------------------------------------------------------------------


def check_key(key: str, taken: Iterable[str]) -> str:
    key = (key or "").strip()
    if not KEY_PATTERN.fullmatch(key) or key in RESERVED_KEYS:
        raise StageChangeError(_(
            "key: {key!r} is not a stage key; use 1–32 lowercase letters, digits, - or _, "
            "starting with a letter (not next, prev, all or none)").format(key=key))
    if key in set(taken):
        raise StageChangeError(_("key: a stage {key!r} already exists (archived stages keep their keys)")
                               .format(key=key))
    return key


def clean_name(value: Any, field_name: str, *, required: bool) -> str:
    text = clean_text(None if value is None else str(value), max_len=NAME_MAX + 1).strip()
    if required and not text:
        raise StageChangeError(_("{field}: a stage needs a name").format(field=field_name))
    if len(text) > NAME_MAX:
        raise StageChangeError(_("{field}: at most {n} characters").format(field=field_name, n=NAME_MAX))
    return text


def clean_probability(value: Any) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip().rstrip("%").strip()
    try:
        n = int(text)
    except ValueError:
        raise StageChangeError(_("probability: {value!r} is not a whole number from 0 to 100")
                               .format(value=str(value))) from None
    if not 0 <= n <= 100:
        raise StageChangeError(_("probability: {n} is out of range; use 0–100").format(n=n))
    return n


def clean_max_dwell(value: Any) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        n = int(str(value).strip().removesuffix("d"))
    except ValueError:
        raise StageChangeError(_("max dwell: {value!r} is not a whole number of days")
                               .format(value=str(value))) from None
    if n <= 0:
        raise StageChangeError(_("max dwell: {n} is not above 0 days (leave it out for no limit)").format(n=n))
    return n


def clean_items(value: Any, field_name: str) -> str:
    text = clean_text(None if value is None else str(value), multiline=True, max_len=TEXT_MAX + 1)
    if len(text) > TEXT_MAX:
        raise StageChangeError(_("{field}: at most {n} characters").format(field=field_name, n=TEXT_MAX))
    return join_items(split_items(text))


def check_pipeline(stages: Sequence[StageDef]) -> None:
    """Refuse a stage set that breaks an invariant (one pipeline's stages, archived included)."""
    order = sorted(stages, key=lambda s: s.position)
    positions = [s.position for s in order]
    if len(set(positions)) != len(positions):
        raise StageChangeError(_("stages: two stages share a position"))
    current = [s for s in order if not s.archived]
    won = [s for s in current if s.kind == "won"]
    if len(won) != 1:
        raise StageChangeError(_("stages: a pipeline needs exactly one won stage (it has {n})").format(n=len(won)))
    if not any(s.kind == "open" for s in current):
        raise StageChangeError(_("stages: a pipeline needs at least one open stage before the won stage"))
    rank = {"open": 0, "won": 1, "post": 2}
    counted = [s for s in order if not s.archived or s.maps_to is None]
    for a, b in zip(counted, counted[1:]):
        if s_kind_rank(a, rank) > s_kind_rank(b, rank):
            raise StageChangeError(_(
                "stages: {a} ({a_kind}) cannot come before {b} ({b_kind}); open stages come before "
                "the won stage, post stages after it").format(a=a.key, a_kind=a.kind, b=b.key, b_kind=b.kind))
    for s in order:
        if s.kind not in rank:
            raise StageChangeError(_("kind: {kind!r} is not open, won or post").format(kind=s.kind))
        if s.probability is not None and not 0 <= s.probability <= 100:
            raise StageChangeError(_("probability: {n} is out of range; use 0–100").format(n=s.probability))
        if s.max_dwell_days is not None and s.max_dwell_days <= 0:
            raise StageChangeError(_("max dwell: {n} is not above 0 days").format(n=s.max_dwell_days))
    for attr, label in (("name", _("name")), ("name_zh", _("Chinese name"))):
        seen: dict[str, str] = {}
        for s in current:
            value = "".join(getattr(s, attr).split()).casefold()
            if not value:
                continue
            if value in seen:
                raise StageChangeError(_("{what}: {a} and {b} would both be called {name!r}")
                                       .format(what=label, a=seen[value], b=s.key, name=getattr(s, attr)))
            seen[value] = s.key


def s_kind_rank(s: StageDef, rank: Mapping[str, int]) -> int:
    return rank.get(s.kind, 0)


def _pipeline_of(stages: Sequence[StageDef], key: str) -> tuple[StageDef, list[StageDef]]:
    found = next((s for s in stages if s.key == key), None)
    if found is None:
        keys = ", ".join(s.key for s in live(stages))
        raise StageChangeError(_("unknown stage {text!r}; use one of: {keys}").format(text=key, keys=keys))
    return found, sorted((s for s in stages if s.pipeline == found.pipeline), key=lambda s: s.position)


def _live_stage(stages: Sequence[StageDef], key: str) -> tuple[StageDef, list[StageDef]]:
    stage, same = _pipeline_of(stages, key)
    if stage.archived:
        raise StageChangeError(_("stage {key} is archived").format(key=key))
    return stage, same


def _renumber(order: list[StageDef]) -> list[StageDef]:
    return [s if s.position == i else replace(s, position=i) for i, s in enumerate(order, start=1)]


def _kind_after(order: list[StageDef], index: int) -> str:
    """The kind a new stage takes at `index` of `order`: post after the won stage, else open."""
    before = [s for s in order[:index] if not s.archived]
    return "post" if any(s.kind in ("won", "post") for s in before) else "open"


def _finish(order: list[StageDef], moves: dict[str, str] | None = None) -> Plan:
    stages = _renumber(order)
    check_pipeline(stages)
    return Plan(stages, moves or {})


# --- the changes ----------------------------------------------------------------------------


def add_stage(stages: Sequence[StageDef], key: str, *, name: str, after: str | None = None,
              before: str | None = None, name_zh: str = "", probability: Any = None,
              max_dwell_days: Any = None, **texts: Any) -> Plan:
    """A new stage after (or before) a live stage; after the won stage it is a post stage."""
    anchor_key = after or before
    if not anchor_key:
        raise StageChangeError(_("after: say where the stage goes, e.g. --after qualified"))
    anchor, same = _live_stage(stages, anchor_key)
    key = check_key(key, (s.key for s in stages))
    index = same.index(anchor) + (1 if after else 0)
    new = StageDef(key, 0, clean_name(name, "name", required=True), clean_name(name_zh, "name_zh", required=False),
                   clean_probability(probability), clean_max_dwell(max_dwell_days), _kind_after(same, index),
                   pipeline=anchor.pipeline, **{f: clean_items(texts.get(f), f) for f in TEXT_FIELDS})
    return _finish(same[:index] + [new] + same[index:])


def edit_stage(stages: Sequence[StageDef], key: str, changes: Mapping[str, Any]) -> Plan:
    """New names, probability, dwell limit or playbook texts for a live stage."""
    stage, same = _live_stage(stages, key)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise StageChangeError(_("{field}: not something a stage edit changes").format(field=sorted(unknown)[0]))
    values: dict[str, Any] = {}
    for f, value in changes.items():
        if f == "name":
            values[f] = clean_name(value, f, required=True)
        elif f == "name_zh":
            values[f] = clean_name(value, f, required=False)
        elif f == "probability":
            values[f] = clean_probability(value)
        elif f == "max_dwell_days":
            values[f] = clean_max_dwell(value)
        else:
            values[f] = clean_items(value, f)
    if stage.kind == "won" and values.get("probability", 100) not in (None, 100):
        raise StageChangeError(_("probability: the won stage means 100 %; a win is certain"))
    edited = replace(stage, **values)
    return _finish([edited if s.key == key else s for s in same])


def move_stage(stages: Sequence[StageDef], key: str, *, after: str | None = None, before: str | None = None) -> Plan:
    """Reorder: put a live stage after (or before) another of its pipeline."""
    stage, same = _live_stage(stages, key)
    anchor_key = after or before
    if not anchor_key:
        raise StageChangeError(_("after: say where the stage goes, e.g. --after qualified"))
    anchor, other = _live_stage(stages, anchor_key)
    if anchor.pipeline != stage.pipeline:
        raise StageChangeError(_("{key} and {other} belong to different pipelines").format(key=key, other=anchor_key))
    if anchor.key == key:
        raise StageChangeError(_("{key}: a stage cannot go after or before itself").format(key=key))
    rest = [s for s in same if s.key != key]
    index = rest.index(anchor) + (1 if after else 0)
    return _finish(rest[:index] + [stage] + rest[index:])


def parse_part(text: str) -> tuple[str, str, str]:
    """`KEY:NAME` or `KEY:NAME:中文名` as (key, name, name_zh); a Chinese-only name is both."""
    key, sep, rest = (text or "").partition(":")
    if not sep or not rest.strip():
        raise StageChangeError(_("into: {text!r} is not KEY:NAME (e.g. terms:条款谈判)").format(text=text))
    name, _sep, name_zh = rest.partition(":")
    name, name_zh = name.strip(), name_zh.strip()
    if not name_zh and any("\u3400" <= ch <= "\u9fff" for ch in name):
        name_zh = name
    return key.strip(), name, name_zh


def split_stage(stages: Sequence[StageDef], key: str, parts: Sequence[tuple[str, str, str]]) -> Plan:
    """Split a live stage into consecutive parts; its deals move to the first part.

    The first part keeps the stage's probability, dwell limit and playbook; the others start
    with the same probability and limit and an empty playbook."""
    stage, same = _live_stage(stages, key)
    if stage.kind == "won":
        raise StageChangeError(_("{key} is the won stage: a pipeline has exactly one; split the stage before it")
                               .format(key=key))
    if len(parts) < 2:
        raise StageChangeError(_("into: give at least two parts, e.g. --into terms:条款谈判 price:价格确认"))
    taken = {s.key for s in stages} - {key}
    keys = [p[0] for p in parts]
    if len(set(keys)) != len(keys):
        raise StageChangeError(_("into: each part needs its own key"))
    new_parts = []
    for i, (part_key, name, name_zh) in enumerate(parts):
        reused = i == 0 and part_key == key
        if not reused:
            check_key(part_key, taken)
        base = stage if i == 0 else StageDef(part_key, 0, "", "", stage.probability, stage.max_dwell_days,
                                             stage.kind, pipeline=stage.pipeline)
        new_parts.append(replace(base, key=part_key, name=clean_name(name, "name", required=True),
                                 name_zh=clean_name(name_zh, "name_zh", required=False), archived=False,
                                 maps_to=None))
    index = same.index(stage)
    if keys[0] == key:
        return _finish(same[:index] + new_parts + same[index + 1:])
    gone = replace(stage, archived=True, maps_to=keys[0])
    return _finish(same[:index] + [gone] + new_parts + same[index + 1:], {key: keys[0]})


def merge_stage(stages: Sequence[StageDef], key: str, into: str) -> Plan:
    """Merge a live stage into another of its pipeline: its deals move there, it is archived."""
    stage, same = _live_stage(stages, key)
    target, _other = _live_stage(stages, into)
    if target.key == key:
        raise StageChangeError(_("{key}: a stage cannot be merged into itself").format(key=key))
    if target.pipeline != stage.pipeline:
        raise StageChangeError(_("{key} and {other} belong to different pipelines").format(key=key, other=into))
    if stage.kind != target.kind:
        raise StageChangeError(_("{key} is a {kind} stage and {other} a {other_kind} one; merge stages of one kind")
                               .format(key=key, kind=stage.kind, other=into, other_kind=target.kind))
    gone = replace(stage, archived=True, maps_to=target.key)
    return _finish([gone if s.key == key else s for s in same], {key: target.key})


def archive_stage(stages: Sequence[StageDef], key: str, *, deals_in_it: int, neighbour: str | None = None) -> Plan:
    """Archive an empty stage (open deals sit elsewhere first); its history keeps its place."""
    stage, same = _live_stage(stages, key)
    if stage.kind == "won":
        raise StageChangeError(_("{key} is the won stage: a pipeline keeps exactly one").format(key=key))
    if deals_in_it:
        hint = (_("funnel stages merge {key} INTO {other}").format(key=key, other=neighbour) if neighbour
                else _("funnel move ID STAGE"))
        raise StageChangeError(_(
            "{key}: {n} open deal(s) sit in this stage; move them first (funnel move ID STAGE) or move "
            "them all and archive it in one step: {hint}").format(key=key, n=deals_in_it, hint=hint))
    gone = replace(stage, archived=True, maps_to=None)
    return _finish([gone if s.key == key else s for s in same])


# --- pipelines --------------------------------------------------------------------------------


def add_pipeline(pipelines: Sequence[PipelineDef], stages: Sequence[StageDef], key: str, *, name: str,
                 name_zh: str = "", parts: Sequence[tuple[str, str, str]]) -> Plan:
    """A new pipeline with its own stages: every part open, the last one the won stage."""
    if not KEY_PATTERN.fullmatch(key or "") or key in RESERVED_KEYS:
        raise StageChangeError(_("key: {key!r} is not a pipeline key; use 1–32 lowercase letters, digits, - or _")
                               .format(key=key))
    if any(p.key == key for p in pipelines):
        raise StageChangeError(_("key: a pipeline {key!r} already exists").format(key=key))
    new = PipelineDef(key, clean_name(name, "name", required=True), clean_name(name_zh, "name_zh", required=False),
                      max((p.position for p in pipelines), default=0) + 1, False)
    _check_pipeline_names([*pipelines, new])
    if len(parts) < 2:
        raise StageChangeError(_("stages: give at least two, e.g. --stages renew-due:Due renewed:Renewed "
                                 "(the last one is the won stage)"))
    taken = {s.key for s in stages}
    order = []
    for i, (part_key, part_name, part_zh) in enumerate(parts):
        check_key(part_key, taken)
        taken.add(part_key)
        kind = "won" if i == len(parts) - 1 else "open"
        order.append(StageDef(part_key, i + 1, clean_name(part_name, "name", required=True),
                              clean_name(part_zh, "name_zh", required=False), 100 if kind == "won" else None,
                              None, kind, pipeline=key))
    plan = _finish(order)
    plan.pipelines = [*pipelines, new]
    return plan


def edit_pipeline(pipelines: Sequence[PipelineDef], key: str, *, name: str | None = None,
                  name_zh: str | None = None, default: bool = False) -> list[PipelineDef]:
    """New names for a pipeline, or make it the default."""
    found = next((p for p in pipelines if p.key == key), None)
    if found is None:
        keys = ", ".join(p.key for p in pipelines)
        raise StageChangeError(_("unknown pipeline {key!r}; use one of: {keys}").format(key=key, keys=keys))
    out = []
    for p in pipelines:
        if p.key == key:
            p = replace(p, name=clean_name(name, "name", required=True) if name is not None else p.name,
                        name_zh=clean_name(name_zh, "name_zh", required=False) if name_zh is not None else p.name_zh)
        if default:
            p = replace(p, is_default=p.key == key)
        out.append(p)
    _check_pipeline_names(out)
    return out


def _check_pipeline_names(pipelines: Sequence[PipelineDef]) -> None:
    seen: dict[str, str] = {}
    for p in pipelines:
        for value in (p.name, p.name_zh):
            norm = "".join(value.split()).casefold()
            if norm and seen.get(norm, p.key) != p.key:
                raise StageChangeError(_("name: pipelines {a} and {b} would both be called {name!r}")
                                       .format(a=seen[norm], b=p.key, name=value))
            if norm:
                seen[norm] = p.key
    if sum(p.is_default for p in pipelines) != 1:
        raise StageChangeError(_("pipelines: exactly one is the default"))


def find_pipeline(pipelines: Sequence[PipelineDef], text: str | None) -> PipelineDef:
    """A pipeline by key or name (English or Chinese); None or empty means the default."""
    if not text:
        return next(p for p in pipelines if p.is_default)
    needle = "".join(text.split()).casefold()
    for p in pipelines:
        if needle in {"".join(n.split()).casefold() for n in (p.key, p.name, p.name_zh) if n}:
            return p
    keys = ", ".join(p.key for p in pipelines)
    raise StageChangeError(_("unknown pipeline {key!r}; use one of: {keys}").format(key=text, keys=keys))


def pipeline_stage_keys(stages: Sequence[StageDef], pipelines: Sequence[PipelineDef],
                        text: str | None) -> tuple[str, ...] | None:
    """The stage keys that select one pipeline's deals — all its stages, archived ones
    included (deals closed there still point at them) — or None when nothing needs selecting: no
    pipeline named, or the rep keeps only one (a name is still checked). The store and `funnel due`'s sqlite3 path
    both ask this."""
    if text is None or not pipelines:
        return None
    key = find_pipeline(pipelines, text).key  # a name nobody keeps is refused, never ignored
    if len(pipelines) < 2:
        return None
    return tuple(s.key for s in of_pipeline(stages, key))
