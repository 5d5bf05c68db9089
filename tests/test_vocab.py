"""The rep's vocabularies (funnel_tui.domain.vocab): stable codes, labels in both languages,
and every way a rep may type them."""

from __future__ import annotations

import pytest

from funnel_tui.domain import vocab
from funnel_tui.domain.vocab import (
    DEAL_STATUS,
    DUE_BUCKET,
    FOLLOWUP_KIND,
    HISTORY_KIND,
    LOST_REASON,
    RISK_LEVEL,
    WARNING_KIND,
)
from funnel_tui.i18n import using

ALL = (FOLLOWUP_KIND, LOST_REASON, RISK_LEVEL, DEAL_STATUS, DUE_BUCKET, WARNING_KIND, HISTORY_KIND)


def test_codes_the_schema_checks_are_unchanged():
    # models.py builds its CHECK constraints from these, in this order: the schema must not move.
    assert vocab.FOLLOWUP_KINDS == ("call", "email", "meeting", "visit", "message", "task")
    assert vocab.RISK_LEVELS == ("high", "medium", "low")
    assert vocab.DEAL_STATUSES == ("open", "won", "lost")
    assert vocab.HISTORY_KINDS == ("created", "field", "stage", "won", "lost", "reopened", "deleted",
                                   "restored", "followup", "touch", "imported")
    assert DUE_BUCKET.codes() == ("overdue", "24h", "3d")  # the JSON values of `funnel due`
    assert WARNING_KIND.codes() == ("dwell_over", "dwell_near", "silent", "no_next_step")


def test_issue_words():
    assert FOLLOWUP_KIND.choices("zh") == [("电话", "call"), ("邮件", "email"), ("会议", "meeting"),
                                           ("拜访", "visit"), ("消息", "message"), ("任务", "task")]
    zh = dict((code, label) for label, code in LOST_REASON.choices("zh"))
    assert [zh[c] for c in ("price", "competitor", "budget", "timing", "no_decision_maker", "needs_mismatch")] == \
        ["价格", "竞品", "预算", "时机", "无决策人", "需求不匹配"]
    assert [RISK_LEVEL.label(c, "zh") for c in RISK_LEVEL.codes()] == ["高", "中", "低"]


def test_labels_follow_the_active_language():
    assert FOLLOWUP_KIND.label("visit") == "visit"
    with using("zh"):
        assert FOLLOWUP_KIND.label("visit") == "拜访"
        assert FOLLOWUP_KIND.label("visit", "en") == "visit"  # an explicit language wins
    assert RISK_LEVEL.label("medium", short=True) == "med"
    assert RISK_LEVEL.label("medium", "zh", short=True) == "中"


def test_labels_of_free_text_and_old_values():
    assert LOST_REASON.label("budget", "en") == "no budget"
    assert LOST_REASON.label("no budget", "zh") == "预算"  # a value stored before codes existed
    assert LOST_REASON.label("their CFO left", "zh") == "their CFO left"
    assert LOST_REASON.label(None) == "" and LOST_REASON.label("") == ""
    # The same English word, told apart by its vocabulary.
    assert DEAL_STATUS.label("lost", "zh") == "已丢单"
    assert HISTORY_KIND.label("lost", "zh") == "丢单"


@pytest.mark.parametrize(
    ("vocabulary", "typed", "code"),
    [
        (FOLLOWUP_KIND, "visit", "visit"),
        (FOLLOWUP_KIND, "Visit", "visit"),
        (FOLLOWUP_KIND, "拜访", "visit"),
        (FOLLOWUP_KIND, "上门", "visit"),
        (FOLLOWUP_KIND, "电话", "call"),
        (FOLLOWUP_KIND, "phone call", "call"),
        (FOLLOWUP_KIND, "微信", "message"),
        (FOLLOWUP_KIND, " 邮件 ", "email"),
        (LOST_REASON, "no_decision_maker", "no_decision_maker"),  # the code
        (LOST_REASON, "No decision maker", "no_decision_maker"),  # the English label
        (LOST_REASON, "无决策人", "no_decision_maker"),  # the Chinese label
        (LOST_REASON, "no-decision-maker", "no_decision_maker"),
        (LOST_REASON, "no budget", "budget"),
        (LOST_REASON, "没预算", "budget"),
        (LOST_REASON, "预算", "budget"),
        (LOST_REASON, "选择了竞品", "competitor"),
        (LOST_REASON, "product fit", "needs_mismatch"),
        (LOST_REASON, "需求不匹配", "needs_mismatch"),
        (LOST_REASON, "went silent", "went_silent"),
        (LOST_REASON, "失联", "went_silent"),
        (LOST_REASON, "ＰＲＩＣＥ", "price"),  # full-width typing
        (RISK_LEVEL, "med", "medium"),
        (RISK_LEVEL, "中", "medium"),
        (RISK_LEVEL, "高风险", "high"),
        (RISK_LEVEL, "L", "low"),
        (DEAL_STATUS, "赢单", "won"),
    ],
)
def test_parse_typed_words(vocabulary, typed, code):
    assert vocabulary.parse(typed) == code


def test_free_text_stays_and_closed_lists_refuse():
    assert LOST_REASON.parse("  their CFO left  ") == "their CFO left"
    assert LOST_REASON.parse("") is None and LOST_REASON.parse(None) is None
    with pytest.raises(ValueError) as exc:
        FOLLOWUP_KIND.parse("fax")
    assert str(exc.value) == "'fax' is not a follow-up kind; use one of: call, email, meeting, visit, message, task"
    with pytest.raises(ValueError):
        RISK_LEVEL.parse("extreme")


@pytest.mark.parametrize("vocabulary", ALL, ids=lambda v: v.name)
def test_no_spelling_names_two_codes(vocabulary):
    assert vocabulary.ambiguous_spellings() == {}


@pytest.mark.parametrize("vocabulary", ALL, ids=lambda v: v.name)
def test_every_code_reads_back_from_its_labels(vocabulary):
    for code in vocabulary.codes():
        for lang in ("en", "zh"):
            assert vocabulary.parse(vocabulary.label(code, lang)) == code
            assert vocabulary.label(code, lang)  # never empty


def test_todays_lost_reasons_map_to_codes():
    for reason in vocab.LOST_REASONS:
        assert LOST_REASON.lookup(reason) is not None, reason


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("预算", "budget"),  # a word of the list (a label, either language, or the code): its code
        ("no budget", "budget"),
        ("No_Decision_Maker", "no_decision_maker"),
        ("没预算", "没预算"),  # a synonym is the rep's own words: kept as written
        ("价格太高", "价格太高"),
        ("no budget: their CFO left", "budget: their CFO left"),  # the lost form's pick and details
        ("预算：老板换了", "budget: 老板换了"),  # a full-width colon, as a Chinese keyboard types it
        ("price:", "price:"),  # nothing after the colon: not a pick with details, kept as written
        ("their CFO left", "their CFO left"),  # the rep's own words stay
        ("note: call back", "note: call back"),  # a colon after a word that is not a reason
        ("  timing  ", "timing"),
        ("", ""),
        (None, ""),
    ],
)
def test_lost_reasons_are_kept_as_codes(typed, stored):
    assert LOST_REASON.canonical(typed) == stored


def test_follow_up_kinds_and_lost_reasons_are_validated_to_codes():
    from funnel_tui.domain.validation import FieldError, validate_field

    assert [validate_field("kind", k) for k in ("电话", "Phone", "拜访", "email", "", None)] == [
        "call", "call", "visit", "email", "call", "call"]
    with pytest.raises(FieldError):
        validate_field("kind", "fax")
    assert validate_field("lost_reason", "竞品") == "competitor"
    assert validate_field("lost_reason", " 竞品: 他们便宜一半 ") == "competitor: 他们便宜一半"
    assert validate_field("lost_reason", "选择了竞品") == "选择了竞品"  # a synonym stays as typed
