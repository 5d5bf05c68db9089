"""Issue 17, lead scoring: the scorecard's points, hand-computed (domain.scorecard).

The default scorecard (DEFAULT_RULES): company size 50–200 → 2, over 200 → 3, target industry
→ 1, decision maker → 2, visited (a visit touch) → 1, downloaded → 1, attended a demo → 3.
"""

from __future__ import annotations

import pytest

from funnel_tui.domain.scorecard import (
    DEFAULT_RULES,
    Rule,
    company_size_number,
    explain_lines,
    parse_band,
    parse_rule,
    qualifies,
    rule_text,
    score,
    score_note,
)
from funnel_tui.i18n import using


def touch(kind: str, note: str = "", voided: bool = False) -> dict:
    return {"kind": kind, "note": note, "voided_at": "2026-11-24" if voided else None}


def points(deal: dict, touches=(), rules=DEFAULT_RULES):
    s = score(rules, deal, list(touches))
    return s.value, s.raw, sorted(h.rule.label for h in s.hits)


@pytest.mark.parametrize("text, n", [
    ("120", 120), ("120人", 120), ("约1,500人", 1500), ("1.2万", 12000), ("50-200", 50), ("50到200人", 50),
    ("500+", 500), ("２００", 200), ("3k", 3000), ("大型", None), ("", None), (None, None),
])
def test_company_size_reads_the_head_count(text, n):
    assert company_size_number(text) == n


@pytest.mark.parametrize("text, band", [
    ("50-200", (50, 200)), ("50–200", (50, 200)), ("201-", (201, None)), ("201+", (201, None)),
    ("-49", (0, 49)), ("100", (100, 100)), (" 50 ~ 200 ", (50, 200)), ("50到200", (50, 200)),
])
def test_bands(text, band):
    assert parse_band(text) == band


@pytest.mark.parametrize("text", ["200-50", "abc", "-", ""])
def test_a_band_that_is_not_one_is_refused_with_the_form_to_use(text):
    with pytest.raises(ValueError, match="band"):
        parse_band(text)


def test_company_size_band_ends_count_in():
    # 50–200 → 2, 201 and more → 3: 49 none, 50 and 200 two points, 201 three.
    assert points({"company_size": "49"})[0] is None
    assert points({"company_size": "50"})[:2] == (2, 2)
    assert points({"company_size": "200人"})[:2] == (2, 2)
    assert points({"company_size": "201"})[:2] == (3, 3)
    assert points({"company_size": "unknown"})[0] is None


def test_word_rules_match_what_the_field_contains_any_case():
    assert points({"industry": "Manufacturing Co."})[2] == ["target industry"]
    assert points({"industry": "汽车制造"})[2] == ["target industry"]
    assert points({"industry": "retail"})[0] is None
    assert points({"contact_role": "ceo"})[:2] == (2, 2)
    assert points({"contact_role": "采购总监"})[0] is None  # a buyer, not the decision maker
    source = Rule("attribute", "source", "referral|转介绍", 2)
    assert score([source], {"source": "老客户转介绍"}).value == 2
    assert score([source], {"source": "website"}).value is None


def test_behaviour_rules_read_the_touches_once_each_and_skip_voided_ones():
    # visited = any visit touch (+1); attended a demo = a touch whose note says demo/演示 (+3).
    assert points({}, [touch("visit")])[:2] == (1, 1)
    assert points({}, [touch("call")])[0] is None
    assert points({}, [touch("meeting", "产品演示")])[:2] == (3, 3)
    # Two demos count once: 3, not 6.
    assert points({}, [touch("meeting", "demo 1"), touch("meeting", "DEMO 2")])[:2] == (3, 3)
    # A voided touch (its logging was undone) counts for nothing.
    assert points({}, [touch("meeting", "demo", voided=True)])[0] is None
    only_calls = Rule("behaviour", "call", "价格", 2)
    assert score([only_calls], {}, [touch("email", "价格")]).value is None
    assert score([only_calls], {}, [touch("call", "问了价格")]).value == 2
    # The hit says how many touches matched.
    assert score([only_calls], {}, [touch("call", "价格"), touch("call", "价格")]).hits[0].matched == "2"


def test_the_sum_is_capped_to_ten_and_floored_at_zero():
    deal = {"company_size": "500", "industry": "software", "contact_role": "CTO"}
    touches = [touch("visit", "看了官网"), touch("email", "下载了白皮书"), touch("meeting", "demo")]
    # 3 (over 200) + 1 (industry) + 2 (role) + 1 (visit) + 1 (download) + 3 (demo) = 11 → 10.
    s = score(DEFAULT_RULES, deal, touches)
    assert (s.value, s.raw, s.capped) == (10, 11, True)
    student = Rule("attribute", "contact_role", "student|学生", -3)
    # -3 + 2 (50–200) = -1 → 0, a score of its own (a rule matched), not None.
    s = score([student, DEFAULT_RULES[0]], {"contact_role": "学生", "company_size": "60"})
    assert (s.value, s.raw, s.capped) == (0, -1, True)
    assert score(DEFAULT_RULES, {}).value is None  # nothing matched: no score


def test_six_qualifies_five_does_not():
    # 2 (50–200) + 2 (decision maker) + 1 (visit) + 1 (download) = 6: qualifies.
    deal = {"company_size": "80人", "contact_role": "总经理"}
    six = score(DEFAULT_RULES, deal, [touch("visit"), touch("email", "download")])
    assert six.value == 6 and qualifies(six.value)
    five = score(DEFAULT_RULES, deal, [touch("visit")])
    assert five.value == 5 and not qualifies(five.value)
    assert not qualifies(None)
    # The example: 50–200 (2) + decision maker (2) + attended a demo (3) = 7.
    assert score(DEFAULT_RULES, deal, [touch("meeting", "演示")]).value == 7


def test_a_typed_rule_is_checked_field_by_field():
    r = parse_rule("behaviour", "拜访", "", "2")
    assert (r.field, r.pattern, r.points) == ("visit", "", 2)
    assert parse_rule("attribute", "company_size", "1000+", 3).pattern == "1000-"
    assert parse_rule("behavior", "any", "demo", -1).kind == "behaviour"
    for bad, words in [(("attribute", "company_size", "50-200", 0), "points"),
                       (("attribute", "company_size", "50-200", 11), "points"),
                       (("attribute", "company_size", "50-200", "x"), "points"),
                       (("mood", "industry", "x", 1), "kind"),
                       (("attribute", "amount", "x", 1), "field"),
                       (("attribute", "industry", " | ", 1), "words"),
                       (("behaviour", "fax", "", 1), "field")]:
        with pytest.raises(ValueError, match=words):
            parse_rule(*bad)


def test_rules_read_in_the_reps_language():
    demo = DEFAULT_RULES[-1]
    assert rule_text(demo, "en") == "attended a demo" and rule_text(demo, "zh") == "参加过演示"
    own = Rule("behaviour", "visit", "", 1)  # no label: described from the rule itself
    assert rule_text(own, "en") == "a visit touch"
    assert rule_text(own, "zh") == "一次拜访接触"
    size = Rule("attribute", "company_size", "1000-", 3, label="big")
    assert rule_text(size, "zh") == "big"  # one label only: shown in either language
    assert rule_text(Rule("attribute", "company_size", "1000-", 3), "en") == "company size: 1000+"


def test_the_explanation_says_who_set_the_score_and_which_rules_gave_it():
    deal = {"company_size": "80", "contact_role": "CEO"}
    now = score(DEFAULT_RULES, deal, [touch("meeting", "demo")])
    auto = [t for _d, t in explain_lines({"score": 7, "by_hand": False, "now": now, "rules": 7}, "en")]
    assert auto[0] == "Lead score 7/10 — qualifies (6 or more)"
    assert auto[1] == "by the scorecard:"
    assert auto[2:] == ["+2 company size 50–200 (80)", "+2 decision role = decision maker (CEO)",
                        "+3 attended a demo (1 touch)"]
    hand = [t for _d, t in explain_lines({"score": 4, "by_hand": True, "now": now, "rules": 7}, "en")]
    assert hand[0] == "Lead score 4/10 — below 6, not qualified yet"
    assert hand[1].startswith("set by hand, holds until cleared") and hand[1].endswith("gives 7:")
    stale = [t for _d, t in explain_lines({"score": 5, "by_hand": False, "now": now, "rules": 7}, "en")]
    assert "they give 7 now" in stale[-1]
    with using("zh"):
        zh = [t for _d, t in explain_lines({"score": 7, "by_hand": False, "now": now, "rules": 7})]
    assert "参加过演示" in zh[-1] and zh[0].startswith("线索评分")


def test_the_history_note_names_the_rules():
    import json

    note = json.dumps({"score": 10, "raw": 11, "rules": [{**DEFAULT_RULES[-1].__dict__, "matched": "1"}]})
    assert score_note(note) == "scored by the scorecard: attended a demo +3 = 11, capped to 10"
    assert score_note("not json") == "not json"
