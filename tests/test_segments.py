"""Issue 17: segments — the funnel per source, industry, company size, rep and new vs existing
customer, side by side, with the best and worst converting segment marked. Hand-computed
cases, and every segment's SQL funnel against DESIGN §3's plain-rows contract over its own
deals, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from funnel_tui.domain.funnel import facts_from_rows, summarize
from funnel_tui.domain.segments import segment_keys
from funnel_tui.models import Deal, History
from funnel_tui.store.tables import aware_row

pytestmark = [*globals().get("pytestmark", []), pytest.mark.both_backends]

UTC = timezone.utc
T0 = datetime(2026, 10, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=30)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def by_name(r: dict) -> dict:
    return {g["segment"]: g for g in r["segments"]}


def test_best_and_worst_need_ten_deals_behind_the_rate(store):
    # web: 10 deals, 6 qualified; phone: 12 deals, 3 qualified; blank: 2 deals, both qualified
    # (100 %, but two deals are too few to compete).
    for source, n, moved in (("web", 10, 6), ("phone", 12, 3), ("", 2, 2)):
        for i in range(n):
            d = store.add_deal({"customer": f"{source}{i}", "source": source, "amount": "100"}, now=day(1))
            if i < moved:
                store.move_deal(d, "qualified", now=day(2))
    r = store.segments(now=NOW, by="source")
    g = by_name(r)
    assert [s["segment"] for s in r["segments"]] == ["phone", "web", ""]  # most deals first
    assert g["web"]["conversion"]["lead"] == {"n": 6, "d": 10, "ratio": 0.6, "small_sample": False,
                                              "best": True, "worst": False}
    assert g["phone"]["conversion"]["lead"]["worst"] and not g["phone"]["conversion"]["lead"]["best"]
    assert g[""]["conversion"]["lead"]["ratio"] == 1.0 and not g[""]["conversion"]["lead"]["best"]
    lead = next(st for st in r["steps"] if st["stage"] == "lead")
    assert (lead["best"], lead["worst"]) == ("web", "phone")
    # Qualified → Demo: 6, 3 and 2 deals behind the rates, none with ten: nothing is marked.
    qualified = next(st for st in r["steps"] if st["stage"] == "qualified")
    assert (qualified["best"], qualified["worst"]) == (None, None)
    assert r["win_rate"] == {"best": None, "worst": None}  # nothing closed


def test_new_vs_existing_customer(store):
    # X won a deal on day 5: X's deal created on day 6 is existing business; X's deal created
    # on day 2 (before that win) and Y's deal are new. The won deal itself is new.
    won = store.add_deal({"customer": "X", "amount": "100"}, now=day(0))
    store.move_deal(won, "won", now=day(5))
    store.add_deal({"customer": "X", "amount": "100"}, now=day(2))
    later = store.add_deal({"customer": "X", "amount": "100"}, now=day(6))
    store.move_deal(later, "qualified", now=day(7))
    store.add_deal({"customer": "Y", "amount": "100"}, now=day(6))
    g = by_name(store.segments(now=NOW, by="new_vs_existing"))
    assert (g["new"]["deals"], g["existing"]["deals"]) == (3, 1)
    assert g["existing"]["conversion"]["lead"]["n"] == 1 and g["new"]["won"] == 1


def _rows(store):
    with store.read() as conn:
        deals = [aware_row(dict(r)) for r in conn.execute(select(Deal.__table__)).mappings()]
        history = [aware_row(dict(r)) for r in conn.execute(select(History.__table__)).mappings()]
    return deals, history


def test_each_segment_is_the_design_funnel_of_its_own_deals(store):
    from funnel_tui.exchange.demo import fill_demo

    fill_demo(store, deals=80, seed=7, now=NOW - timedelta(days=1))
    d = store.add_deal({"customer": "Undone", "amount": "10", "source": "web"}, now=NOW - timedelta(days=3))
    store.move_deal(d, "demo", now=NOW - timedelta(days=2))
    store.undo(now=NOW - timedelta(days=1))
    stages, (deals, history) = store.stages(), _rows(store)
    live = [x for x in deals if x["deleted_at"] is None]
    for by in ("source", "industry", "company_size", "owner", "new_vs_existing"):
        keys = segment_keys(live, by)
        r = store.segments(now=NOW, by=by)
        assert sorted(g["segment"] for g in r["segments"]) == sorted(set(keys.values()))
        for g in r["segments"]:
            mine = [x for x in live if keys[x["id"]] == g["segment"]]
            want = summarize(stages, facts_from_rows(stages, mine, history, now=NOW), as_of=NOW)
            assert (g["deals"], g["won"], g["lost"]) == (want["deals"], want["won"], want["lost"])
            for st in want["stages"][:-1]:
                c = g["conversion"][st["key"]]
                assert (c["n"], c["d"]) == (st["conversion_n"], st["conversion_d"]), (by, g["segment"], st["key"])


def test_cli_summary_by(db_path, store, capsys):
    from funnel_tui.cli import main

    for i in range(3):
        store.add_deal({"customer": f"C{i}", "source": "web" if i else "展会", "amount": "100"}, now=day(1))
    assert main(["--db", str(db_path), "summary", "--by", "source", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["by"] == "source" and {g["segment"] for g in out["segments"]} == {"web", "展会"}
    assert out["segments"][0]["conversion"]["lead"] == {"n": 0, "d": 2, "ratio": 0.0, "small_sample": True,
                                                        "best": False, "worst": False}
    assert main(["--db", str(db_path), "summary", "--by", "source", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("segment,deals,won,lost,win_rate,lead_conversion")
    assert main(["--db", str(db_path), "summary", "--by", "source", "--as-of", "2026-10-05"]) == 1
    assert "by:" in capsys.readouterr().err


def _old_segments(store, by: str, owner: str | None = None) -> dict:
    """The segments as read before issue 17's speed-up: the full facts (stays, ABC values)
    grouped by the COALESCE expression — the reference the lean plain-column read must equal."""
    from funnel_tui.domain.segments import compare
    from funnel_tui.store import segments, summary

    group = segments.NEW_VS_EXISTING if by == "new_vs_existing" else f"COALESCE(d.{by}, '')"
    stages, chosen = store.stage_set(None), store._pipeline_set(summary.DealSet(owner=owner), None)
    with store.read() as conn:
        per = summary.facts_now(conn, stages, chosen, NOW, split=True, group=group)
    per = summary.combine(per, by_owner=True)
    return compare(by, {name or "": summarize(stages, facts, owner=owner, as_of=NOW, tier_shares=store.tier_shares(),
                                              rates=store.rates()) for name, facts in per.items()},
                   owner=owner, as_of=NOW)


def test_the_lean_read_equals_the_old_per_segment_figures(store):
    from funnel_tui.exchange.demo import fill_demo
    from funnel_tui.store.summary import DealSet

    fill_demo(store, deals=60, seed=3, now=T0)
    fill_demo(store, deals=40, seed=5, now=T0, lang="zh")  # Chinese sources, industries, reps
    # A stage deals went through, then archived; blank sources; a deal moved back; undone
    # moves; lost, won and deleted deals (a deleted one that had moved).
    store.add_stage("trial", now=day(1), name="Trial", name_zh="试用", after="demo")
    ids = []
    for i, (source, industry) in enumerate([("", "制造业"), ("", ""), ("展会", ""), ("web", "制造业"),
                                            ("展会", "retail"), ("老客户转介绍", "retail")] * 3):
        d = store.add_deal({"customer": f"客户{i % 7}", "source": source, "industry": industry,
                            "owner": "王磊" if i % 2 else "Alex Chen", "amount": str(100 * (i + 1))},
                           now=day(2 + i / 10))
        ids.append(d)
        for j, stage in enumerate(("qualified", "demo", "trial", "negotiation")[: i % 5]):
            store.move_deal(d, stage, now=day(3 + i / 10 + j / 50))
    for d in ids[4::6]:
        store.move_deal(d, "won", now=day(8))
    store.lose_deal(ids[3], "price", now=day(8))
    store.move_deal(ids[9], "qualified", now=day(9))  # back from negotiation
    store.move_deal(ids[8], "negotiation", now=day(9))
    store.delete_deal(ids[13], now=day(9.5))  # the last open deal in trial
    store.archive_stage("trial", now=day(10))
    store.move_deal(ids[14], "demo", now=day(12))
    store.undo(now=day(12.5))  # the move of ids[14], undone
    store.move_deal(ids[15], "won", now=day(13))
    store.undo(now=day(13.5))
    live = [x for x in _rows(store)[0] if x["deleted_at"] is None]
    assert {x["source"] for x in live} >= {"", "展会", "web", "老客户转介绍"} and any(x["industry"] == "" for x in live)
    for by in ("source", "industry", "company_size", "owner", "new_vs_existing"):
        for owner in (None, "王磊"):
            new = store.segments(now=NOW, by=by, deals=DealSet(owner=owner))
            old = _old_segments(store, by, owner)
            assert new == old, (by, owner)
            assert len(new["segments"]) >= (1 if by == "owner" and owner else 2)  # compares something
            assert any(s["won"] for s in new["segments"]) and any(s["lost"] for s in new["segments"])


def test_a_missing_segment_counts_as_the_blank_one():
    from funnel_tui.domain.funnel import DealGroup, FunnelFacts
    from funnel_tui.store.segments import merged_blank

    def facts(n: int, stage: str) -> FunnelFacts:
        return FunnelFacts([DealGroup("open", stage, "", "", n, 100 * n, 10 * n, 0.0, 0.0, "CNY")],
                           highest={stage: n}, highest_amount={stage: 100 * n})

    out = merged_blank({None: facts(2, "lead"), "": facts(3, "demo"), "web": facts(1, "lead")})
    assert sorted(out) == ["", "web"]
    assert out[""].highest == {"lead": 2, "demo": 3} and out[""].highest_amount == {"lead": 200, "demo": 300}
    assert sum(g.n for g in out[""].groups) == 5 and out["web"].highest == {"lead": 1}
