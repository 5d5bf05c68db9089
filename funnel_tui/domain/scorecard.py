"""Lead scoring (source documents 001 and 004): a scorecard of rules, each giving points when a
deal's attribute or a behaviour in its touches matches, on the funnel's 10-point scale where a
score of 6 or more qualifies a lead (domain.rules.QUALIFY_MIN_SCORE).

- An *attribute* rule looks at one field of the deal: the company size (a band of employees,
  `50-200`, `201-` for 201 and more), the industry, the contact's role or the source (words,
  any of which the field contains: `CEO|总经理|decision maker`).
- A *behaviour* rule looks at the deal's touches (voided ones not): those of one kind (a
  follow-up kind code, or `any`) whose note contains one of its words (none: every touch of
  that kind). A rule counts once, however many touches match it.

The score is the sum of the matched rules' points, capped to 0–10 (negative points are allowed:
`student|学生` → -3); a deal no rule matches has no score (None: nothing is known yet, which is
not the same as 0). Pure: rules, a deal and its touches in; points and their reasons out.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any, Iterable, Mapping, Sequence

from funnel_tui.domain.rules import QUALIFY_MIN_SCORE
from funnel_tui.domain.text import clean_text
from funnel_tui.domain.vocab import FOLLOWUP_KIND
from funnel_tui.i18n import N_, NP_, _, active_lang, ngettext, translator

__all__ = [
    "ATTRIBUTE", "BEHAVIOUR", "ATTRIBUTE_FIELDS", "ANY_KIND", "MAX_SCORE", "Rule", "Hit", "Score",
    "DEFAULT_RULES", "score", "company_size_number", "parse_band", "parse_rule", "rule_text",
    "rule_from_json", "rule_json", "qualifies", "explain_lines",
]

ATTRIBUTE = "attribute"
BEHAVIOUR = "behaviour"
KINDS = (ATTRIBUTE, BEHAVIOUR)
ATTRIBUTE_FIELDS = ("company_size", "industry", "contact_role", "source")
ANY_KIND = "any"
MAX_SCORE = 10
MAX_POINTS = 10
_WORD_SPLIT = re.compile(r"[|,，、;；]")


@dataclass(frozen=True)
class Rule:
    """One rule of the scorecard as stored (models.ScorecardRule). `field` is a deal column
    for an attribute rule and a touch kind (or `any`) for a behaviour rule; `pattern` is a
    band (`50-200`, `201-`) for the company size and words separated by `|` otherwise.
    `label`/`label_zh` name the rule for people; empty, the rule's own description is used."""

    kind: str
    field: str
    pattern: str
    points: int
    label: str = ""
    label_zh: str = ""
    id: int | None = None
    position: int = 0

    @cached_property
    def words(self) -> list[str]:
        """The pattern's words, folded (made once per rule: a rescore asks 50k times)."""
        return [w for w in (_fold(p) for p in _WORD_SPLIT.split(self.pattern)) if w]

    @cached_property
    def band(self) -> tuple[int, int | None]:
        return parse_band(self.pattern)


@dataclass(frozen=True)
class Hit:
    """A rule that matched, and what it matched (the deal's value, or how many touches)."""

    rule: Rule
    matched: str


@dataclass(frozen=True)
class Score:
    """The scorecard's verdict on one deal: `value` 0–10 (None: no rule matched), the
    uncapped sum `raw`, and the hits that make it up."""

    value: int | None
    raw: int
    hits: tuple[Hit, ...]

    @property
    def capped(self) -> bool:
        return self.value is not None and self.value != self.raw


# The default scorecard, from the training documents: 004's attributes (company size, industry,
# role) and behaviours (visited, downloaded, attended), with 001's example weights; a deal of
# 50–200 people whose contact decides and who attended a demo scores 2 + 2 + 3 = 7 and qualifies.
# Meant to be edited (`funnel scorecard`): the industries especially are the team's own.
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(ATTRIBUTE, "company_size", "50-200", 2, "company size 50–200", "公司规模 50–200 人"),
    Rule(ATTRIBUTE, "company_size", "201-", 3, "company size over 200", "公司规模 200 人以上"),
    Rule(ATTRIBUTE, "industry", "manufacturing|制造|software|软件|internet|互联网|finance|金融", 1,
         "target industry", "目标行业"),
    Rule(ATTRIBUTE, "contact_role",
         "decision maker|决策|CEO|CTO|CFO|CIO|总经理|总裁|董事长|老板|founder|创始人", 2,
         "decision role = decision maker", "决策角色 = 决策人"),
    Rule(BEHAVIOUR, "visit", "", 1, "visited", "已拜访/来访"),
    Rule(BEHAVIOUR, ANY_KIND, "download|下载|white paper|whitepaper|白皮书", 1,
         "downloaded material", "下载过资料"),
    Rule(BEHAVIOUR, ANY_KIND, "demo|演示|试用|trial|POC", 3, "attended a demo", "参加过演示"),
)


def _fold(text: str) -> str:
    """How words are compared: NFKC, casefolded, without spaces."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return "".join(ch for ch in folded if not ch.isspace())


_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(万|w|k|千)?", re.IGNORECASE)
_SCALE = {"万": 10_000, "w": 10_000, "k": 1_000, "千": 1_000}


def company_size_number(text: str | None) -> int | None:
    """The head count a company size field says: `120`, `120人`, `约1,500人`, `1.2万`, `500+`;
    a range (`50-200`, `50到200人`) by its lower end. None when it names no number."""
    t = unicodedata.normalize("NFKC", text or "").replace(",", "")
    m = _NUMBER.search(t)
    if not m:
        return None
    scale = _SCALE.get((m.group(2) or "").lower(), 1)
    return int(float(m.group(1)) * scale)


_BAND = re.compile(r"^\s*(\d+)?\s*(?:-|–|~|～|到|至)\s*(\d+)?\s*$")


def parse_band(text: str) -> tuple[int, int | None]:
    """A band of head counts: `50-200` → (50, 200), `201-` or `201+` → (201, None), `-49` →
    (0, 49), `100` → (100, 100). Both ends count in. ValueError with the reason otherwise."""
    t = unicodedata.normalize("NFKC", text or "").strip().replace(",", "")
    if t.endswith("+") and t[:-1].strip().isdigit():
        return int(t[:-1]), None
    if t.isdigit():
        return int(t), int(t)
    m = _BAND.match(t)
    if not m or (m.group(1) is None and m.group(2) is None):
        raise ValueError(_("{text} is not a band of company sizes; write it as 50-200, 201- (201 and more) "
                           "or -49").format(text=repr(text)))
    low, high = int(m.group(1) or 0), (int(m.group(2)) if m.group(2) else None)
    if high is not None and high < low:
        raise ValueError(_("{text}: the band ends before it starts").format(text=repr(text)))
    return low, high


def _band_text(pattern: str) -> str:
    low, high = parse_band(pattern)
    if high is None:
        return f"{low}+"
    return f"{low}–{high}" if low != high else str(low)


def _attribute_hit(rule: Rule, deal: Mapping[str, Any]) -> str | None:
    value = str(deal.get(rule.field) or "")
    if not value.strip():
        return None
    if rule.field == "company_size":
        n = company_size_number(value)
        if n is None:
            return None
        low, high = rule.band
        return value if low <= n and (high is None or n <= high) else None
    folded = _fold(value)
    return value if any(w in folded for w in rule.words) else None


def _behaviour_hit(rule: Rule, touches: Sequence[Mapping[str, Any]]) -> str | None:
    words = rule.words
    n = 0
    for t in touches:
        if t.get("voided_at") is not None:
            continue
        if rule.field != ANY_KIND and t.get("kind") != rule.field:
            continue
        if words and not any(w in _fold(str(t.get("note") or "")) for w in words):
            continue
        n += 1
    return str(n) if n else None


def score(rules: Iterable[Rule], deal: Mapping[str, Any], touches: Sequence[Mapping[str, Any]] = ()) -> Score:
    """The scorecard's points for a deal and its touches (see the module's docstring)."""
    hits = []
    for rule in rules:
        matched = _attribute_hit(rule, deal) if rule.kind == ATTRIBUTE else _behaviour_hit(rule, touches)
        if matched is not None:
            hits.append(Hit(rule, matched))
    raw = sum(h.rule.points for h in hits)
    value = max(0, min(MAX_SCORE, raw)) if hits else None
    return Score(value, raw, tuple(hits))


def qualifies(value: int | None) -> bool:
    """A lead qualifies with a score of 6 or more (001)."""
    return value is not None and value >= QUALIFY_MIN_SCORE


def _words_text(pattern: str) -> str:
    return " / ".join(w.strip() for w in _WORD_SPLIT.split(pattern) if w.strip())


def rule_text(rule: Rule, lang: str | None = None) -> str:
    """The rule as a person reads it, in `lang`: its label in that language (the other one
    when only that is set), else a description made from the rule itself."""
    lang = lang or active_lang()
    label = (rule.label_zh or rule.label) if lang == "zh" else (rule.label or rule.label_zh)
    return label or describe(rule, lang)


_FIELD_VALUE = N_("{field}: {value}")
# The deal fields attribute rules look at, as people name them.
FIELD_NAMES = {"company_size": N_("company size"), "industry": N_("industry"),
               "contact_role": N_("decision role"), "source": N_("source")}


def field_name(field: str, lang: str | None = None) -> str:
    """What an attribute rule looks at, in `lang`: `company size` (公司规模)."""
    return translator(lang or active_lang()).gettext(FIELD_NAMES[field]) if field in FIELD_NAMES else field
_ANY_MENTIONING = N_("a touch mentioning {words}")
_ANY_TOUCH = N_("any touch")
_KIND_MENTIONING = N_("a {kind} touch mentioning {words}")
_KIND_TOUCH = N_("a {kind} touch")


def describe(rule: Rule, lang: str | None = None) -> str:
    """What the rule checks, spelled out from its fields (`company size: 50–200`, `a visit touch`)."""
    lang = lang or active_lang()
    tr = translator(lang)
    if rule.kind == ATTRIBUTE:
        value = _band_text(rule.pattern) if rule.field == "company_size" else _words_text(rule.pattern)
        return tr.gettext(_FIELD_VALUE).format(field=field_name(rule.field, lang), value=value)
    words = _words_text(rule.pattern)
    if rule.field == ANY_KIND:
        return tr.gettext(_ANY_MENTIONING).format(words=words) if words else tr.gettext(_ANY_TOUCH)
    kind = FOLLOWUP_KIND.label(rule.field, lang)
    if words:
        return tr.gettext(_KIND_MENTIONING).format(kind=kind, words=words)
    return tr.gettext(_KIND_TOUCH).format(kind=kind)


SCORECARD_FIELD = "scorecard"  # the history field of a deal scored by the scorecard (store.scoring)
_SCORECARD_COLUMN = NP_("column", "scorecard")  # its name in tables, for the catalog


def score_note(new: str | None, lang: str | None = None) -> str:
    """A `scorecard` history row's `new` (JSON: the score and the rules that gave it, store.scoring)
    as a person reads it: `scored by the scorecard: company size 50–200 +2, attended a demo +3 = 5`."""
    import json

    try:
        data = json.loads(new or "")
        rules = [(rule_from_json(r), r.get("matched")) for r in data.get("rules", [])]
    except (ValueError, TypeError, KeyError, AttributeError):
        return new or ""
    parts = ", ".join(f"{rule_text(r, lang)} {r.points:+d}" for r, _m in rules if r is not None)
    total = "—" if data.get("score") is None else data["score"]
    if data.get("raw") is not None and data.get("raw") != total:
        total = _("{raw}, capped to {value}").format(raw=data["raw"], value=total)
    return _("scored by the scorecard: {rules} = {total}").format(rules=parts or "—", total=total)


def headline(ex: Mapping[str, Any]) -> str:
    """The score in a few words: `8/10 — qualifies (6 or more)`, `none: no rule … matches yet`."""
    stored = ex["score"]
    if stored is None:
        return _("none: no rule of the scorecard matches yet") if ex.get("rules") else \
            _("none: the scorecard has no rules")
    if qualifies(stored):
        return _("{score}/10 — qualifies ({min} or more)").format(score=stored, min=QUALIFY_MIN_SCORE)
    return _("{score}/10 — below {min}, not qualified yet").format(score=stored, min=QUALIFY_MIN_SCORE)


def explain_lines(ex: Mapping[str, Any], lang: str | None = None, *,
                  with_headline: bool = True) -> list[tuple[int, str]]:
    """A deal's score explained, one line each, in the active language (the Deal screen and
    `funnel scorecard explain`): the score and whether it qualifies, hand-set or the
    scorecard's, the rules that give points (with what they matched), the cap, and a score
    the rules no longer give. `ex` is store.scoring.explain's. Each line comes with its
    depth (0, or 1 for a rule's line)."""
    stored, now, hand = ex["score"], ex["now"], ex["by_hand"]
    lines: list[tuple[int, str]] = []

    def say(text: str, depth: int = 0) -> None:
        lines.append((depth, text))

    if with_headline:
        say(_("Lead score {headline}").format(headline=headline(ex)))
    if stored is not None and hand:
        say(_("set by hand, holds until cleared; the scorecard gives {n}:")
            .format(n="—" if now.value is None else now.value))
    elif stored is not None:
        say(_("by the scorecard:"))
    for h in now.hits:
        if h.rule.kind == BEHAVIOUR:
            n = int(h.matched)
            seen = ngettext("{n} touch", "{n} touches", n).format(n=n)
        else:
            seen = h.matched
        say(f"{h.rule.points:+d} {rule_text(h.rule, lang)} ({seen})", 1)
    if now.capped:
        say(_("sum {raw}, capped to {value} (scores run 0–10)").format(raw=now.raw, value=now.value))
    if not hand and stored != now.value:
        say(_("the rules changed since it was scored: they give {n} now (funnel scorecard rescore)")
            .format(n="—" if now.value is None else now.value))
    return lines


def parse_rule(kind: str, field: str, pattern: str, points: Any, label: str = "", label_zh: str = "") -> Rule:
    """A rule from what a person typed, checked; ValueError naming what is wrong."""
    kind = (kind or "").strip().casefold()
    kind = {"behavior": BEHAVIOUR, "属性": ATTRIBUTE, "行为": BEHAVIOUR}.get(kind, kind)
    if kind not in KINDS:
        raise ValueError(_("kind: {value} is not a rule kind; use attribute or behaviour").format(value=repr(kind)))
    field = (field or "").strip()
    pattern = clean_text(pattern or "").strip()
    if kind == ATTRIBUTE:
        if field not in ATTRIBUTE_FIELDS:
            raise ValueError(_("field: an attribute rule looks at one of {fields}, not {value}").format(
                fields=", ".join(ATTRIBUTE_FIELDS), value=repr(field)))
        if field == "company_size":
            low, high = parse_band(pattern)
            pattern = f"{low}-{high if high is not None else ''}"
        elif not _words_text(pattern):
            raise ValueError(_("match: give the words to look for, separated by |, e.g. CEO|总经理"))
    else:
        if field.casefold() in ("", ANY_KIND, "任意", "全部"):
            field = ANY_KIND
        else:
            try:
                field = FOLLOWUP_KIND.parse(field) or ANY_KIND
            except ValueError as exc:
                raise ValueError(_("field: {problem}").format(problem=exc)) from None
    try:
        whole = int(str(points).strip())
    except ValueError:
        raise ValueError(_("points: {value} is not a whole number; give -10 to 10").format(
            value=repr(points))) from None
    if not -MAX_POINTS <= whole <= MAX_POINTS or whole == 0:
        raise ValueError(_("points: give a whole number from -10 to 10 other than 0, not {value}").format(
            value=whole))
    return Rule(kind, field, pattern, whole, clean_text(label or "").strip(), clean_text(label_zh or "").strip())


def rule_json(rule: Rule | None) -> dict[str, Any] | None:
    """A rule as JSON data (the CLI's shape, and history's `old`/`new` of a rule change)."""
    return None if rule is None else asdict(rule)


def rule_from_json(data: Mapping[str, Any] | None) -> Rule | None:
    if data is None:
        return None
    return Rule(**{k: data[k] for k in ("kind", "field", "pattern", "points", "label", "label_zh", "id", "position")})
