"""Issue 17: an import scores every new deal by the scorecard as a single `add` does (the same
points, the same `lead_score` and `scorecard` history rows, in the import's one action), a score
the file gives is the rep's and holds, an --update that changes an attribute scores the deal
again as an edit does, and undo of the import takes the scores back with the deals.

Expected points are worked out by hand from the default scorecard (domain.scorecard.DEFAULT_RULES):
company size 50–200 → 2, over 200 → 3, target industry → 1, decision maker → 2 (behaviours need
touches: a new deal has none)."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from funnel_tui.exchange.importer import ImportOptions, import_file

pytestmark = pytest.mark.both_backends

HEADER = ["customer", "company_size", "industry", "contact_role", "source", "lead_score", "stage", "status",
          "lost_reason"]
ROWS = [
    ["Acme", "120人", "", "CEO", "", "", "", "", ""],  # 2 + 2 = 4
    ["华信科技", "1.2万", "互联网", "总经理", "展会", "", "", "", ""],  # 3 + 1 + 2 = 6, qualifies
    ["Plain", "", "retail", "buyer", "", "", "", "", ""],  # no rule matches: no score, no rows
    ["Given", "120人", "", "CEO", "", "8", "", "", ""],  # the file's 8 is the rep's: it holds
    ["Gone", "300", "software", "", "", "", "lead", "lost", "price"],  # 3 + 1 = 4, lost deals too
]
EXPECTED = {"Acme": 4, "华信科技": 6, "Plain": None, "Given": 8, "Gone": 4}


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def _import(store, path, now, tz, **kw):
    return import_file(store, path, now=now, tz=tz, options=ImportOptions(saved=()), **kw)


def _by_customer(store) -> dict[str, dict]:
    return {d["customer"]: d for d in store.list_deals(status="all")}


def score_rows(store, deal_id: int) -> list[tuple]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT kind, field, old, new, at, author, action FROM history WHERE deal_id = :d "
            "AND field IN ('lead_score', 'scorecard') ORDER BY id"), {"d": deal_id})]


def _action_of(store, deal_id: int, kind: str) -> str:
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT action FROM history WHERE deal_id = :d AND kind = :k"),
                            {"d": deal_id, "k": kind}).scalar()


def test_an_import_scores_each_new_deal_as_a_single_add_would(store, now, tz, tmp_path):
    rep = _import(store, _csv(tmp_path / "s.csv", HEADER, ROWS), now, tz)
    assert (rep.inserted, rep.rejected) == (5, 0)
    deals = _by_customer(store)
    assert {c: d["lead_score"] for c, d in deals.items()} == EXPECTED
    # The same rows as a single add of the same deal writes, under the import's action.
    for customer in ("Acme", "华信科技"):
        imported = deals[customer]
        row = dict(zip(HEADER, ROWS[[r[0] for r in ROWS].index(customer)]))
        single = store.add_deal({k: row[k] for k in ("customer", "company_size", "industry", "contact_role",
                                                     "source") if row[k]}, now=now, tz=tz)
        got, want = score_rows(store, imported["id"]), score_rows(store, single)
        assert [r[:6] for r in got] == [r[:6] for r in want]
        assert got[0][:4] == ("field", "lead_score", None, str(EXPECTED[customer]))
        assert {r[6] for r in got} == {_action_of(store, imported["id"], "imported")}  # one undo step
        assert imported["version"] == store.get_deal(single)["version"] == 2
        assert store.explain_score(imported["id"])["by_hand"] is False
    why = json.loads(score_rows(store, deals["华信科技"]["id"])[1][3])
    assert (why["score"], [(r["field"], r["points"], r["matched"]) for r in why["rules"]]) == (
        6, [("company_size", 3, "1.2万"), ("industry", 1, "互联网"), ("contact_role", 2, "总经理")])
    assert score_rows(store, deals["Plain"]["id"]) == [] and deals["Plain"]["version"] == 1
    assert score_rows(store, deals["Given"]["id"]) == []
    assert store.explain_score(deals["Given"]["id"])["by_hand"] is True  # the rep's 8 holds, as for add
    assert [r[1] for r in score_rows(store, deals["Gone"]["id"])] == ["lead_score", "scorecard"]


def test_undo_of_the_import_takes_its_scores_back_with_its_deals(store, now, tz, tmp_path):
    keep = store.add_deal({"customer": "Mine", "company_size": "120"}, now=now, tz=tz)  # 2, its own action
    _import(store, _csv(tmp_path / "u.csv", HEADER, ROWS), now, tz, batch=2)  # several chunks, one action
    ids = [d["id"] for d in store.list_deals(status="all") if d["id"] != keep]
    res = store.undo(now=now + timedelta(minutes=1))
    assert res["what"] == "import" and sorted(res["deal_ids"]) == sorted(ids)
    assert [d["customer"] for d in store.list_deals(status="all")] == ["Mine"]
    assert store.get_deal(keep)["lead_score"] == 2
    for deal_id in ids:  # as undoing a single add: deleted, and its score back to none
        d = store.get_deal(deal_id, include_deleted=True)
        assert d["deleted_at"] is not None
        assert d["lead_score"] == (8 if d["customer"] == "Given" else None)
    gone = [d for d in ids if store.get_deal(d, include_deleted=True)["customer"] == "Acme"][0]
    assert [r[1:4] for r in score_rows(store, gone)] == [
        ("lead_score", None, "4"), ("scorecard", None, score_rows(store, gone)[1][3]), ("lead_score", "4", None)]
    assert store.undo(now=now + timedelta(minutes=2))["deal_ids"] == [keep]  # the import is gone as one step


def test_an_import_in_chinese_is_scored(store, now, tz, tmp_path):
    header = ["客户名称", "行业", "规模", "决策角色", "线索来源", "当前阶段"]
    rows = [["蓝海物流", "制造", "50-200", "决策人", "展会", "初步意向"],  # 2 + 1 + 2 = 5
            ["北辰医疗", "医疗", "约1,500人", "财务", "官网", "初步意向"]]  # 3
    rep = _import(store, _csv(tmp_path / "zh.csv", header, rows), now, tz)
    assert (rep.inserted, rep.rejected) == (2, 0)
    assert {c: d["lead_score"] for c, d in _by_customer(store).items()} == {"蓝海物流": 5, "北辰医疗": 3}
    why = json.loads(score_rows(store, _by_customer(store)["蓝海物流"]["id"])[1][3])
    assert [(r["label_zh"], r["matched"]) for r in why["rules"]] == [
        ("公司规模 50–200 人", "50-200"), ("目标行业", "制造"), ("决策角色 = 决策人", "决策人")]


def test_an_update_that_changes_an_attribute_scores_again_as_an_edit_does(store, now, tz, tmp_path):
    a = store.add_deal({"customer": "Acme", "company_size": "120人", "contact_role": "CEO"}, now=now, tz=tz)
    h = store.add_deal({"customer": "Hand", "company_size": "120人", "lead_score": "9"}, now=now, tz=tz)
    uid_a, uid_h = store.get_deal(a)["uid"], store.get_deal(h)["uid"]
    src = _csv(tmp_path / "up.csv", ["uid", "customer", "company_size"],
               [[uid_a, "Acme", "500"], [uid_h, "Hand", "500"]])
    rep = _import(store, src, now + timedelta(hours=1), tz, update=True)
    assert rep.updated == 2
    assert store.get_deal(a)["lead_score"] == 5  # 3 + 2
    assert store.get_deal(h)["lead_score"] == 9  # a hand score holds
    store.undo(now=now + timedelta(hours=2))
    assert (store.get_deal(a)["company_size"], store.get_deal(a)["lead_score"]) == ("120人", 4)


def test_a_dry_run_scores_nothing(store, now, tz, tmp_path):
    rep = _import(store, _csv(tmp_path / "d.csv", HEADER, ROWS), now, tz, dry_run=True)
    assert rep.inserted == 5 and store.list_deals(status="all") == []
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM history")).scalar() == 0
