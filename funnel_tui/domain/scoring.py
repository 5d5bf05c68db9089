"""The lead scorecard (source documents 001 and 004): attribute and behaviour rules with
points, summed on the 10-point scale; a lead scoring 6 or more qualifies. Pure.

A rule looks at one thing about the deal and gives its points once when it matches:
- attributes of the deal: `company_size`, `amount` (a range of numbers), `industry`,
  `contact_role`, `source` (words);
- behaviour, from the deal's logged touches (voided ones do not count): `touch_kind` (the
  kinds: `meeting|visit`), `touch_note` (words in what was noted: `demo|演示`).

How `match` reads:
- a range for company_size and amount: `50-200` means 50 ≤ n < 200, `200+` (or `200-`)
  200 or more, `-50` under 50. Amounts in yuan (major units). A company size written as a
  range (`50-200`) counts as its middle (125), `1000+` as 1000, `约300人` as 300;
- words for the rest: alternatives split by `|` (or `,` `，` `、`), each compared without
  case, width or spaces; the deal's value matches when it contains any of them.

The score is the sum of the matching rules' points, held to 0–10. Rules may give negative
points (a student's free mailbox: −2).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from funnel_tui.i18n import N_

MAX_SCORE = 10
QUALIFIES = 6
ATTRIBUTE_FIELDS = ("company_size", "industry", "contact_role", "source", "amount")
BEHAVIOUR_FIELDS = ("touch_kind", "touch_note")
RANGE_FIELDS = ("company_size", "amount")
_SPLIT = re.compile(r"[|,，、]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class Rule:
    """One scorecard line (models.ScoreRule)."""

    id: int | None
    field: str
    match: str
    points: int
    label: str = ""
    position: int = 0

    @property
    def behaviour(self) -> bool:
        return self.field in BEHAVIOUR_FIELDS


# The scorecard a new database starts with: 004's attributes and behaviour on the 10-point
# scale of 001. Labels are English here and translated where shown (a rep's own label is
# shown as typed).
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(None, "company_size", "50-200", 2, N_("company size 50–200"), 1),
    Rule(None, "company_size", "200+", 3, N_("company size 200 or more"), 2),
    Rule(None, "contact_role", "decision maker|决策人|CEO|总经理|老板|owner", 2,
         N_("talking to a decision maker"), 3),
    Rule(None, "contact_role", "influencer|影响者|技术负责人|采购负责人|财务负责人", 1,
         N_("talking to an influencer"), 4),
    Rule(None, "source", "referral|转介绍|partner|合作伙伴", 1, N_("referred by someone"), 5),
    Rule(None, "touch_note", "demo|演示|试用|trial", 3, N_("attended a demo"), 6),
    Rule(None, "touch_kind", "meeting|visit", 2, N_("met in person"), 7),
    Rule(None, "touch_note", "download|下载|白皮书|white paper|案例", 1, N_("downloaded material"), 8),
    Rule(None, "touch_note", "webinar|研讨会|峰会|展会|event", 1, N_("attended an event"), 9),
)


def fold(text: Any) -> str:
    """Text as rules compare it: NFKC (full-width to half), casefolded, no spaces."""
    folded = unicodedata.normalize("NFKC", "" if text is None else str(text)).casefold()
    return "".join(ch for ch in folded if not ch.isspace())


def words(match: str) -> list[str]:
    """The alternatives of a words rule, folded, blanks dropped."""
    return [w for w in (fold(part) for part in _SPLIT.split(match)) if w]


def parse_range(match: str) -> tuple[float | None, float | None]:
    """`50-200` → (50, 200); `200+` or `200-` → (200, None); `-50` → (None, 50). ValueError
    for anything else."""
    text = fold(match).replace("–", "-").replace("—", "-").replace("~", "-").replace("～", "-")
    m = re.fullmatch(r"(\d+(?:\.\d+)?)?(?:(-)(\d+(?:\.\d+)?)?|(\+))?", text)
    if not text or m is None or (m.group(2) is None and m.group(4) is None):
        raise ValueError(N_("a range such as 50-200, 200+ or -50"))
    lo = float(m.group(1)) if m.group(1) else None
    hi = float(m.group(3)) if m.group(3) else None
    if lo is None and hi is None:
        raise ValueError(N_("a range such as 50-200, 200+ or -50"))
    if lo is not None and hi is not None and hi <= lo:
        raise ValueError(N_("the range's end must be above its start"))
    return lo, hi


def size_number(text: Any) -> float | None:
    """A company size as one number: the middle of `50-200`, 1000 of `1000+`, 300 of `约300人`;
    None when it holds no number."""
    numbers = [float(n) for n in _NUMBER.findall(fold(text).replace(",", ""))]
    if not numbers:
        return None
    if len(numbers) >= 2:
        return (numbers[0] + numbers[1]) / 2
    return numbers[0]


def check_rule(field: str, match: str, points: int) -> None:
    """ValueError (with the field named) when a rule could never be read."""
    if field not in ATTRIBUTE_FIELDS + BEHAVIOUR_FIELDS:
        raise ValueError(f"field: {field!r}")
    if not -MAX_SCORE <= points <= MAX_SCORE:
        raise ValueError("points")
    if field in RANGE_FIELDS:
        parse_range(match)
    elif not words(match):
        raise ValueError("match")


def matches(rule: Rule, deal: Mapping[str, Any], touches: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the rule gives its points to this deal (with these live touches)."""
    if rule.field in RANGE_FIELDS:
        try:
            lo, hi = parse_range(rule.match)
        except ValueError:
            return False
        if rule.field == "amount":
            value: float | None = (deal.get("amount") or 0) / 100
        else:
            value = size_number(deal.get("company_size"))
        return value is not None and (lo is None or value >= lo) and (hi is None or value < hi)
    wanted = words(rule.match)
    if rule.field == "touch_kind":
        kinds = {fold(t.get("kind")) for t in touches}
        return any(w in kinds for w in wanted)
    if rule.field == "touch_note":
        notes = [fold(t.get("note")) for t in touches]
        return any(w in note for note in notes for w in wanted)
    value_text = fold(deal.get(rule.field))
    return bool(value_text) and any(w in value_text for w in wanted)


@dataclass(frozen=True, slots=True)
class Score:
    """A deal's score and the rules that gave it (in scorecard order)."""

    points: int
    matched: tuple[Rule, ...]

    @property
    def qualifies(self) -> bool:
        return self.points >= QUALIFIES


def score(rules: Iterable[Rule], deal: Mapping[str, Any], touches: Sequence[Mapping[str, Any]] = ()) -> Score:
    """Σ points of the matching rules, held to 0–10; `touches` are the deal's live touches."""
    hit = tuple(r for r in sorted(rules, key=lambda r: (r.position, r.id or 0)) if matches(r, deal, touches))
    total = sum(r.points for r in hit)
    return Score(max(0, min(MAX_SCORE, total)), hit)


def needs_touches(rules: Iterable[Rule]) -> bool:
    return any(r.behaviour for r in rules)
