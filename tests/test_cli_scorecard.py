"""`funnel scorecard …` as a rep types it (in-process, NOW in Shanghai): the rules as a table and
as JSON, a rule added, edited and removed (each one undo), a deal's score explained, a rescore
with its backup and its undo; the same in Chinese at 80 columns."""

from __future__ import annotations

import json

import pytest

RULE_KEYS = {"id", "position", "kind", "field", "match", "points", "label", "label_zh", "text"}


def rules(funnel) -> dict:
    res = funnel("scorecard", "--format", "json")
    assert res.code == 0, res.err
    return json.loads(res.out)


def test_the_scorecard_as_json_and_as_a_table(funnel):
    data = rules(funnel)
    assert (data["scale"], data["qualifies_at"]) == (10, 6)
    assert len(data["rules"]) == 7 and all(set(r) == RULE_KEYS for r in data["rules"])
    demo = data["rules"][-1]
    assert (demo["kind"], demo["field"], demo["points"], demo["text"]) == ("behaviour", "any", 3, "attended a demo")
    table = funnel("scorecard")
    assert table.code == 0 and "decision role = decision maker" in table.out and "+3" in table.out
    assert "6 or more qualifies" in " ".join(table.out.split())
    csv = funnel("scorecard", "--format", "csv")
    assert csv.out.splitlines()[0] == "id,position,kind,field,match,points,label,label_zh,text"


def test_add_edit_remove_each_undone(funnel):
    res = funnel("scorecard", "add", "attribute", "source", "referral|转介绍", "--points", "2",
                 "--label", "referred", "--label-zh", "转介绍")
    assert res.code == 0 and "Added rule 8: referred (+2)" in res.out, res.err
    assert funnel("scorecard", "edit", "8", "--points", "-1").code == 0
    assert rules(funnel)["rules"][-1]["points"] == -1
    res = funnel("scorecard", "remove", "3")
    assert res.code == 0 and "Removed rule 3: target industry" in res.out
    assert [r["id"] for r in rules(funnel)["rules"]] == [1, 2, 4, 5, 6, 7, 8]
    undo = funnel("undo")
    assert undo.code == 0 and "scorecard" in undo.out, undo.out
    assert [r["id"] for r in rules(funnel)["rules"]] == [1, 2, 3, 4, 5, 6, 7, 8]
    funnel("undo")
    funnel("undo")
    assert len(rules(funnel)["rules"]) == 7


@pytest.mark.parametrize("argv, words", [
    (("add", "attribute", "company_size", "200-50", "--points", "2"), "band ends before it starts"),
    (("add", "attribute", "amount", "x", "--points", "2"), "attribute rule looks at one of"),
    (("add", "behaviour", "fax", "--points", "2"), "field"),
    (("add", "behaviour", "visit", "--points", "0"), "other than 0"),
    (("edit", "3"), "nothing to change"),
    (("edit", "42", "--points", "2"), "no rule with id 42"),
    (("remove", "42"), "no rule with id 42"),
])
def test_bad_input_is_refused_with_the_reason_and_nothing_changes(funnel, argv, words):
    before = rules(funnel)
    res = funnel("scorecard", *argv)
    assert res.code == 1 and words in res.err, res.err
    assert rules(funnel) == before


def test_explain_and_rescore(funnel):
    assert funnel("add", "Acme", "--size", "120人", "--role", "CEO").code == 0
    assert funnel("log", "1", "--kind", "meeting", "产品演示").code == 0
    res = funnel("scorecard", "explain", "1")
    assert res.code == 0
    assert res.out.splitlines() == ["Lead score 7/10 — qualifies (6 or more)", "by the scorecard:",
                                    "    +2 company size 50–200 (120人)",
                                    "    +2 decision role = decision maker (CEO)",
                                    "    +3 attended a demo (1 touch)"]
    data = json.loads(funnel("scorecard", "explain", "1", "--format", "json").out)
    assert (data["score"], data["by_hand"], data["qualifies"], data["scorecard_score"]) == (7, False, True, 7)
    assert [r["id"] for r in data["rules"]] == [1, 4, 7] and data["rules"][0]["matched"] == "120人"
    # The demo is worth 1 now: the deal keeps 7 until a rescore.
    assert funnel("scorecard", "edit", "7", "--points", "1").code == 0
    assert "they give 5 now" in funnel("scorecard", "explain", "1").out
    res = funnel("scorecard", "rescore", "--format", "json")
    done = json.loads(res.out)
    assert (done["deals"], done["changed"], done["by_hand"]) == (1, 1, 0) and done["backup"].endswith(".db")
    shown = json.loads(funnel("show", "1", "--format", "json").out)
    assert shown["lead_score"] == 5
    assert "demo +1 = 5" in funnel("show", "1").out  # the history row: scored by the scorecard …
    undo = funnel("undo")
    assert "the scorecard's new score of 1 deal" in undo.out
    assert json.loads(funnel("show", "1", "--format", "json").out)["lead_score"] == 7
    # A hand score: said so, and it holds through a rescore.
    assert funnel("edit", "1", "--lead-score", "3").code == 0
    assert "set by hand" in funnel("scorecard", "explain", "1").out
    assert json.loads(funnel("scorecard", "rescore", "--format", "json").out)["by_hand"] == 1
    assert funnel("edit", "1", "--lead-score", "").code == 0  # cleared: the scorecard's again
    assert json.loads(funnel("show", "1", "--format", "json").out)["lead_score"] == 5


def test_the_scorecard_in_chinese_at_80_columns(funnel, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    res = funnel("scorecard")
    assert res.code == 0 and "线索评分卡" in res.out and "参加过演示" in res.out and "决策角色 = 决策人" in res.out
    assert all(len(line) <= 80 for line in res.out.splitlines())
    assert "行为" in res.out and "属性" in res.out and "分值" in res.out
    assert funnel("add", "华信科技", "--size", "80人", "--role", "总经理").code == 0
    res = funnel("scorecard", "explain", "1")
    assert res.out.splitlines()[0] == "线索评分 4/10 — 低于 6 分，尚未合格"
    assert "由评分卡评出：" in res.out
    bad = funnel("scorecard", "add", "behaviour", "visit", "--points", "11")
    assert bad.code == 1 and "不为 0 的整数" in bad.err
