"""Issue 17's analytics across stage changes (issue 16), by hand: trend, KPIs per stage,
average deal size, segments and the forecast read history through today's stages, as the
summary and the review do (a split's old key counts as its first part; the split's own moves
are neither entries nor exits); and --pipeline narrows trend and forecast to one pipeline.

Shanghai weeks; now is Tuesday 24 Nov 10:00: the weeks run 9–16, 16–23 and 23–30 Nov.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select
from zoneinfo import ZoneInfo

from funnel_tui.domain import trend as dtrend
from funnel_tui.domain.kpis import stays_from_rows
from funnel_tui.models import Deal, History
from funnel_tui.store import kpis as skpis
from funnel_tui.store import trend as strend
from funnel_tui.store.tables import aware_row

pytestmark = [pytest.mark.both_backends]
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 10, tzinfo=TZ)


def at(day: int) -> datetime:
    return datetime(2026, 11, day, 10, tzinfo=TZ)


@pytest.fixture
def split_book(store):
    """D1–D3 created in Demo on the 10th, into Negotiation on the 17th; D1 won on the 18th;
    D4 created in Negotiation on the 12th and lost there on the 13th; Negotiation split into
    Terms and Price on the 19th; D2 on to Price on the 20th."""
    ids = [store.add_deal({"customer": f"D{i}", "stage": "demo", "amount": str(100 * i)}, now=at(10))
           for i in (1, 2, 3)]
    ids.append(store.add_deal({"customer": "D4", "stage": "negotiation", "amount": "400"}, now=at(12)))
    store.lose_deal(ids[3], "price", now=at(13))
    for d in ids[:3]:
        store.move_deal(d, "negotiation", now=at(17))
    store.move_deal(ids[0], "won", now=at(18))
    store.split_stage("negotiation", [("terms", "Terms", "条款谈判"), ("price", "Price", "价格确认")], now=at(19))
    store.move_deal(ids[1], "price", now=at(20))
    return ids


def conv(t: dict, period: int, stage: str) -> tuple[int, int]:
    c = t["periods"][period]["conversion"][stage]
    return c["n"], c["d"]


def test_trend_reads_history_through_the_split(store, split_book):
    t = store.trend(now=NOW, tz=TZ, weeks=3)
    assert [s["stage"] for s in t["steps"]] == ["lead", "qualified", "demo", "terms", "price", "won"]
    # Week of the 9th: D1–D3 entered Demo and all reached Terms (as Negotiation) since; D4
    # entered Negotiation (Terms now) and died there.
    assert conv(t, 0, "demo") == (3, 3) and conv(t, 0, "terms") == (0, 1)
    # Week of the 16th: D1–D3 entered Terms (the split's moves on the 19th are no entry);
    # D1 (won) and D2 (Price) moved on. D2 entered Price and has not reached Won.
    assert conv(t, 1, "terms") == (2, 3) and conv(t, 1, "price") == (0, 1)
    assert t["periods"][0]["entered"]["terms"] == 1 and t["periods"][1]["entered"]["terms"] == 3
    assert (t["periods"][0]["losses"], t["periods"][1]["wins"], t["periods"][1]["won_amount"]) == (1, 1, 100_00)
    # The review's six-week column is the same cohorts.
    terms = next(c for c in store.review(now=NOW, tz=TZ)["conversion"] if c["stage"] == "terms")
    assert [(x["n"], x["d"]) for x in terms["trend"][-3:]] == [(0, 1), (2, 3), (0, 0)]


def test_trend_sql_matches_the_contract_after_the_split(store, split_book):
    stages = store.pipeline_stages()
    with store.read() as conn:
        deals = [aware_row(dict(r)) for r in conn.execute(select(Deal.__table__)).mappings()]
        history = [aware_row(dict(r)) for r in conn.execute(select(History.__table__)).mappings()]
        wins = dtrend.windows(NOW, TZ, weeks=3)
        flow = strend.flow(conn, stages, wins, now=NOW)
        cohorts = strend.cohorts(conn, stages, wins, now=NOW)
        stays = skpis.stay_facts(conn, stages)
    want = dtrend.flow_from_rows(stages, deals, history, wins, now=NOW)
    assert {k: v for k, v in flow.items() if k != "cycle_days"} == {k: v for k, v in want.items() if k != "cycle_days"}
    assert cohorts == dtrend.cohorts_from_rows(stages, deals, history, wins, now=NOW)
    plain = stays_from_rows(stages, deals, history)
    assert stays.hours == plain.hours and stays.won_days.keys() == plain.won_days.keys()


def test_kpis_and_deal_size_read_stays_through_the_split(store, split_book):
    k = store.stage_kpis()
    assert "negotiation" not in k
    # Demo: three stays of 7 days. Terms: D1 17→18 (1 d) and D2 17→20 (3 d: the split's
    # move on the 19th ends no stay). D4's loss ends none.
    assert k["demo"]["median_days_in_stage"] == 7.0
    assert k["terms"]["median_days_in_stage"] == 2.0
    # The cycle split over the one won deal, D1: 7 days in Demo, 1 in Terms (as Negotiation).
    assert (k["demo"]["cycle_days_in_stage"], k["terms"]["cycle_days_in_stage"]) == (7.0, 1.0)
    s = {st["key"]: st for st in store.summary(now=NOW)["stages"]}
    # Reached Terms: all four (D4 died in Negotiation, Terms now); Price: D1 and D2.
    assert (s["terms"]["reached"], s["terms"]["reached_amount"]) == (4, 1000_00)
    assert (s["price"]["reached"], s["price"]["avg_deal_size"]) == (2, 150_00)


def test_segments_and_forecast_read_through_the_split(store, split_book):
    seg = store.segments(now=NOW, by="source")
    assert [st["stage"] for st in seg["steps"]] == ["lead", "qualified", "demo", "terms", "price", "won"]
    c = seg["segments"][0]["conversion"]["terms"]
    assert (c["n"], c["d"]) == (2, 4)
    f = store.forecast(now=NOW)
    assert [st["stage"] for st in f["stages"]] == ["lead", "qualified", "demo", "terms", "price"]
    rates = {r["stage"]: (r["won"], r["closed"], r["open_deals"]) for r in f["rates"]}
    # Closed deals that reached Terms: D1 (won) and D4 (lost in Negotiation, Terms now).
    assert rates["terms"] == (1, 2, 1) and rates["price"] == (1, 1, 1)


def test_trend_and_forecast_take_a_pipeline(store, db_path, capsys):
    from funnel_tui.cli import main

    store.add_pipeline("renewals", name="Renewals", name_zh="续费", now=at(10),
                       parts=[("renew-due", "Due", "到期提醒"), ("renew-talk", "Talk", "续费沟通"),
                              ("renewed", "Renewed", "续费成功")])
    store.add_deal({"customer": "New Co", "amount": "100"}, now=at(10))
    old = store.add_deal({"customer": "Old Co", "amount": "300"}, now=at(10), pipeline="renewals")
    store.move_deal(old, "renew-talk", now=at(17))
    t = store.trend(now=NOW, tz=TZ, weeks=3, pipeline="renewals")
    assert [s["stage"] for s in t["steps"]] == ["renew-due", "renew-talk"]
    assert conv(t, 0, "renew-due") == (1, 1) and t["periods"][0]["new_deals"] == 1
    assert store.trend(now=NOW, tz=TZ, weeks=3)["periods"][0]["entered"]["lead"] == 1
    f = store.forecast(now=NOW, pipeline="renewals")
    assert (f["open_deals"], f["open_amount"]) == (1, 300_00)
    assert store.forecast(now=NOW)["open_amount"] == 100_00
    assert main(["--db", str(db_path), "forecast", "--pipeline", "renewals", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["open_deals"] == 1
    assert main(["--db", str(db_path), "trend", "--pipeline", "renewals", "--weeks", "3", "--format", "json"]) == 0
    assert [s["stage"] for s in json.loads(capsys.readouterr().out)["steps"]] == ["renew-due", "renew-talk"]
