"""`funnel stages …` and `funnel pipelines …` as a rep types them (in-process, NOW in Shanghai)."""

from __future__ import annotations

import json

STAGE_FIELDS = {"key", "name", "name_zh", "probability", "max_dwell_days", "kind", "position", "entry",
                "actions", "outputs", "archived"}


def stages_json(funnel, *extra):
    res = funnel("stages", "--format", "json", *extra)
    assert res.code == 0, res.err
    return json.loads(res.out)


def test_stages_json_carries_the_playbook(funnel):
    rows = stages_json(funnel)
    assert [r["key"] for r in rows] == ["lead", "qualified", "demo", "negotiation", "won", "expansion"]
    assert STAGE_FIELDS <= set(rows[0])
    lead = rows[0]
    assert lead["entry_zh"] == ["市场活动获取/主动咨询"]
    assert lead["actions_zh"] == ["初步需求调研", "发送产品简介"] and lead["outputs_zh"] == ["线索评分表(10分制)"]
    assert lead["actions"] == ["First needs research", "Send the product brief"]
    assert all(r["actions"] and r["actions_zh"] and r["outputs_zh"] and r["entry_zh"] for r in rows)
    shown = funnel("stages", "show", "商务谈判")
    assert shown.code == 0 and "合同条款谈判" in shown.out and "Key actions" in shown.out


def test_a_new_user_sets_up_five_stages_with_their_playbook(funnel):
    # Five stages of their own: rename, rewrite the playbook, drop demo, add a trial.
    assert funnel("stages", "edit", "lead", "--name", "Inquiry", "--name-zh", "咨询",
                  "--actions", "Reply within a day; Send the brochure", "--actions-zh", "当天回复；发送资料").code == 0
    assert funnel("stages", "add", "trial", "--name", "Trial", "--name-zh", "试用", "--after", "qualified",
                  "--max-dwell", "14", "--probability", "40", "--entry", "Signed trial form",
                  "--outputs", "Trial report", "--outputs-zh", "试用报告").code == 0
    assert funnel("stages", "archive", "demo").code == 0
    assert funnel("stages", "move", "trial", "--after", "lead").code == 0
    rows = stages_json(funnel)
    assert [r["key"] for r in rows] == ["lead", "trial", "qualified", "negotiation", "won", "expansion"]
    assert rows[0]["name_zh"] == "咨询" and rows[0]["actions_zh"] == ["当天回复", "发送资料"]
    assert rows[1] == {**rows[1], "probability": 40, "max_dwell_days": 14, "kind": "open",
                       "entry": ["Signed trial form"], "outputs_zh": ["试用报告"]}
    every = stages_json(funnel, "--all")
    assert next(r for r in every if r["key"] == "demo")["archived"] is True
    added = funnel("add", "新客户", "--stage", "试用")
    assert added.code == 0 and "in trial" in added.out


def test_split_moves_deals_says_so_and_undo_takes_it_back(funnel):
    funnel("add", "Acme", "--stage", "negotiation")
    res = funnel("stages", "split", "negotiation", "--into", "terms:条款谈判", "price:价格确认")
    assert res.code == 0, res.err
    assert "split negotiation into terms, price" in res.out and "1 deal(s) moved" in res.out and "backup:" in res.out
    assert [r["key"] for r in stages_json(funnel)][3:5] == ["terms", "price"]
    listed = json.loads(funnel("list", "--format", "json").out)
    assert listed[0]["stage"] == "terms"
    undone = funnel("undo")
    assert undone.code == 0
    assert [r["key"] for r in stages_json(funnel)][3] == "negotiation"
    assert json.loads(funnel("list", "--format", "json").out)[0]["stage"] == "negotiation"


def test_merge_and_the_refusals(funnel):
    funnel("add", "A", "--stage", "demo")
    refused = funnel("stages", "archive", "demo")
    assert refused.code == 1
    assert "1 open deal(s)" in refused.err and "funnel stages merge demo INTO qualified" in refused.err
    merged = funnel("stages", "merge", "demo", "INTO", "qualified")
    assert merged.code == 0 and "merged demo into qualified" in merged.out
    assert json.loads(funnel("list", "--format", "json").out)[0]["stage"] == "qualified"
    for argv, why in ((("stages", "edit", "lead", "--probability", "150"), "out of range"),
                      (("stages", "add", "lead", "--name", "X", "--after", "won"), "already exists"),
                      (("stages", "move", "lead", "--after", "won"), "open stages come before the won stage"),
                      (("stages", "split", "won", "--into", "a:A", "b:B"), "won stage"),
                      (("stages", "add", "x", "--name", "Won", "--after", "lead"), "would both be called"),
                      (("stages", "merge", "lead", "INTO"), "INTO KEY")):
        res = funnel(*argv)
        assert res.code == 1 and why in res.err, (argv, res.err)


def test_a_renewals_pipeline_beside_new_business(funnel):
    res = funnel("pipelines", "add", "renewals", "--name", "Renewals", "--name-zh", "续费",
                 "--stages", "renew-due:到期提醒", "renew-talk:续费沟通", "renewed:续费成功")
    assert res.code == 0, res.err
    pipes = json.loads(funnel("pipelines", "--format", "json").out)
    assert [(p["key"], p["default"]) for p in pipes] == [("main", True), ("renewals", False)]
    assert pipes[1]["stages"] == ["renew-due", "renew-talk", "renewed"]
    assert funnel("add", "New Co").code == 0
    assert "in renew-due" in funnel("add", "老客户", "--pipeline", "续费").out
    assert [d["customer"] for d in json.loads(funnel("list", "--pipeline", "renewals", "--format", "json").out)] == ["老客户"]
    main = json.loads(funnel("summary", "--format", "json").out)
    renewals = json.loads(funnel("summary", "--pipeline", "renewals", "--format", "json").out)
    assert main["deals"] == 1 and [s["key"] for s in renewals["stages"]] == ["renew-due", "renew-talk", "renewed"]
    assert funnel("move", "2", "next").code == 0
    assert json.loads(funnel("list", "--pipeline", "renewals", "--format", "json").out)[0]["stage"] == "renew-talk"
    assert funnel("move", "2", "won").code == 1  # another pipeline's stage
    assert funnel("pipelines", "edit", "renewals", "--default").code == 0
    assert [r["key"] for r in stages_json(funnel)] == ["renew-due", "renew-talk", "renewed"]


def test_one_pipeline_shows_nothing_new(funnel):
    res = funnel("stages")
    assert res.code == 0 and "Stages" in res.out and "New business" not in res.out


def test_a_pipeline_nobody_keeps_is_refused_even_with_one(funnel):
    """With one pipeline `--pipeline` selects nothing, but a wrong name is still a mistake to
    say, never a filter silently dropped (due's sqlite3 path and the store alike)."""
    assert funnel("add", "Acme", "--amount", "100").code == 0
    for argv in (("due",), ("due", "--count"), ("list",), ("summary",)):
        res = funnel(*argv, "--pipeline", "nope")
        assert res.code == 1, argv
        assert "unknown pipeline 'nope'" in res.err and "main" in res.err, argv
    assert funnel("list", "--pipeline", "main", "--format", "json").code == 0
