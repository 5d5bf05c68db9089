"""Issue 17, lessons on the command line: `move … won --lesson`, `lose … --lesson`, `lessons add`,
`lessons [--stage] [--reason] [--owner] [--format]` grouped by stage and reason, in the rep's
language, and `export --lessons` for the team lead."""

from __future__ import annotations

import csv
import io
import json

import pytest

from hostile import assert_terminal_safe

pytestmark = [pytest.mark.both_backends]


@pytest.fixture
def closed(funnel):
    for args in (("Acme", "--stage", "negotiation", "--owner", "ann"), ("华信科技", "--stage", "demo", "--owner", "bob"),
                 ("东方制造", "--stage", "demo", "--owner", "ann"), ("Open Co",)):
        assert funnel("add", *args).code == 0
    assert funnel("move", "1", "won", "--lesson", "CFO joined the demo").code == 0
    assert funnel("lose", "2", "预算", "--lesson", "先确认预算再报价").code == 0
    res = funnel("lose", "3", "price")
    assert res.code == 0, res.err
    res = funnel("lessons", "add", "3", "报价太早,", "先做", "POC")
    assert res.code == 0 and "报价太早, 先做 POC" in res.out, res.err
    return funnel


def test_json_groups_by_outcome_stage_and_reason(closed):
    res = closed("lessons", "--format", "json")
    assert res.code == 0, res.err
    groups = json.loads(res.out)["groups"]
    assert [(g["outcome"], g["stage"], g["reason"], g["count"]) for g in groups] == [
        ("lost", "demo", "budget", 1), ("lost", "demo", "price", 1), ("won", "negotiation", "", 1)]
    assert groups[0]["stage_name"] == "Demo / Proposal" and groups[0]["reason_label"] == "no budget"
    (lesson,) = groups[0]["lessons"]
    assert set(lesson) == {"deal_id", "customer", "owner", "author", "text", "created_at", "updated_at"}
    assert (lesson["deal_id"], lesson["customer"], lesson["owner"], lesson["text"]) == (
        2, "华信科技", "bob", "先确认预算再报价")
    assert lesson["created_at"].startswith("2026-11-24T02:00:00")  # UTC, the clock of the command


def test_filters_take_either_language(closed):
    def ids(*argv):
        res = closed("lessons", *argv, "--format", "json")
        assert res.code == 0, res.err
        return [lesson["deal_id"] for g in json.loads(res.out)["groups"] for lesson in g["lessons"]]

    assert ids("--stage", "方案演示") == ids("--stage", "demo") == [2, 3]
    assert ids("--reason", "价格") == ids("--reason", "price") == [3]
    assert ids("--reason", "没预算") == [2]
    assert ids("--owner", "ann") == [3, 1]
    assert ids("--stage", "negotiation", "--owner", "bob") == []
    res = closed("lessons", "--stage", "nowhere")
    assert res.code == 1 and "nowhere" in res.err


def test_chinese_table_names_stages_and_reasons_in_chinese(closed, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    res = closed("lessons")
    assert res.code == 0, res.err
    assert "方案演示" in res.out and "预算" in res.out and "价格" in res.out and "商务谈判" in res.out
    assert "先确认预算再报价" in res.out and "复盘心得" in res.out and "结果" in res.out  # title and headers
    assert "已丢单" in res.out and "lost" not in res.out


def test_hostile_text_is_cleaned_and_shown_literally(closed):
    res = closed("lessons", "add", "2", "\x1b]0;pwned\x07[bold red]x[/] \x1b[31m=cmd|' /C calc'!A0\u202e")
    assert res.code == 0, res.err
    res = closed("lessons", "--reason", "budget", "--format", "json")
    text = json.loads(res.out)["groups"][0]["lessons"][0]["text"]
    assert text == "[bold red]x[/] =cmd|' /C calc'!A0"
    res = closed("lessons", "--reason", "budget")
    assert res.code == 0, res.err
    out = res.out
    assert_terminal_safe(out, "lessons table")
    assert "[bold red]x[/]" in out  # markup printed as written, never rendered


def test_refusals_say_why_and_write_nothing(closed):
    res = closed("lessons", "add", "4", "too early")
    assert res.code == 1 and "is open" in res.err
    res = closed("move", "4", "demo", "--lesson", "no")
    assert res.code == 1 and "won stage" in res.err
    res = closed("lessons", "add", "99", "x")
    assert res.code == 1 and "99" in res.err
    res = closed("lessons", "--format", "json")
    assert sum(g["count"] for g in json.loads(res.out)["groups"]) == 3


def test_undo_takes_the_lesson_back(closed):
    assert closed("lessons", "add", "1", "and the champion stayed").code == 0
    res = closed("undo")
    assert res.code == 0 and "lesson" in res.out, res.out
    res = closed("lessons", "--stage", "negotiation", "--format", "json")
    assert json.loads(res.out)["groups"][0]["lessons"][0]["text"] == "CFO joined the demo"


def test_export_lessons_opens_in_excel(closed, tmp_path):
    assert closed("lessons", "add", "1", "=HYPERLINK(\"http://x\")").code == 0
    res = closed("export", "--lessons", str(tmp_path / "lessons.csv"))
    assert res.code == 0 and "exported 3 lessons" in res.out, res.err
    data = (tmp_path / "lessons.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the Chinese
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["deal_id", "customer", "owner", "outcome", "stage", "stage_name", "reason", "reason_label",
                       "lesson", "author", "created_at", "updated_at"]
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id["2"][1] == "华信科技" and by_id["2"][6] == "budget" and by_id["2"][8] == "先确认预算再报价"
    assert by_id["1"][8] == "'=HYPERLINK(\"http://x\")"  # the formula guard
    assert by_id["2"][10].endswith("+08:00")  # local time
