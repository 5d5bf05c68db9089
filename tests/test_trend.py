"""Issue 17: the trend — cohort conversion and the flow per week or month, computed by hand,
and the SQL (store/trend.py) against the plain-rows contract (domain/trend.py), on SQLite and
on PostgreSQL.

Shanghai weeks; NOW is Tuesday 2026-11-24 10:00, so with --weeks 3 the periods are
W0 = 9th–16th, W1 = 16th–23rd and W2 = 23rd–30th (running).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from funnel_tui.domain import trend as dtrend
from funnel_tui.models import Deal, History
from funnel_tui.store import Store
from funnel_tui.store import trend as strend
from funnel_tui.store.tables import aware_row

pytestmark = [*globals().get("pytestmark", []), pytest.mark.both_backends]

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=TZ)


def conv(t: dict, period: int, stage: str) -> tuple[int, int]:
    c = t["periods"][period]["conversion"][stage]
    return c["n"], c["d"]


@pytest.fixture
def pipeline(store: Store) -> dict[str, int]:
    """A: lead (10th) → qualified (11th) → demo (17th). B: lead (10th), lost (12th).
    C: lead (10th) → qualified (17th) → back to lead (18th) → qualified (19th) → demo (24th 09:00).
    D: created in negotiation (17th), won (20th). E: lead (17th) → qualified (18th), undone."""
    ids = {}
    ids["a"] = store.add_deal({"customer": "A", "amount": "1000"}, now=at(10))
    store.move_deal(ids["a"], "qualified", now=at(11))
    store.move_deal(ids["a"], "demo", now=at(17))
    ids["b"] = store.add_deal({"customer": "B", "amount": "500"}, now=at(10))
    store.lose_deal(ids["b"], "price", now=at(12))
    ids["c"] = store.add_deal({"customer": "C", "amount": "2000"}, now=at(10))
    store.move_deal(ids["c"], "qualified", now=at(17))
    store.move_deal(ids["c"], "lead", now=at(18))
    store.move_deal(ids["c"], "qualified", now=at(19))
    store.move_deal(ids["c"], "demo", now=at(24, 9))
    ids["d"] = store.add_deal({"customer": "D", "amount": "3000", "stage": "negotiation"}, now=at(17))
    store.move_deal(ids["d"], "won", now=at(20))
    ids["e"] = store.add_deal({"customer": "E", "amount": "100"}, now=at(17))
    store.move_deal(ids["e"], "qualified", now=at(18))
    store.undo(now=at(18, 11))
    return ids


def test_windows_are_local_weeks_and_whole_months():
    weeks = dtrend.windows(NOW, TZ, weeks=3)
    assert [(a.astimezone(TZ).date().day, b.astimezone(TZ).date().day) for a, b in weeks] == [(9, 16), (16, 23), (23, 30)]
    assert all(a.astimezone(TZ).hour == 0 for a, _b in weeks)
    months = dtrend.windows(NOW, TZ, weeks=12, by="month")  # 12 weeks back from the 23rd: 1 September
    assert [dtrend.period_label(w, "month", TZ) for w in months] == ["2026-09", "2026-10", "2026-11"]
    berlin = ZoneInfo("Europe/Berlin")  # summer time ends 25 October: that week is 169 hours long
    (a, b), = dtrend.windows(datetime(2026, 10, 21, 12, tzinfo=berlin), berlin, weeks=1)
    assert b.timestamp() - a.timestamp() == 169 * 3600
    with pytest.raises(ValueError):
        dtrend.windows(NOW, TZ, weeks=0)


def test_hand_computed_cohorts_and_flow(store, pipeline):
    t = store.trend(now=NOW, tz=TZ, weeks=3)
    assert [p["label"] for p in t["periods"]] == ["11-09", "11-16", "11-23"]
    assert [p["partial"] for p in t["periods"]] == [False, False, True]
    # Lead, W0: A, B, C created there; A and C have reached Qualified since, B was lost.
    assert conv(t, 0, "lead") == (2, 3)
    # Lead, W1: E only (C's return to Lead is a back-move, no entry; E's move was undone).
    assert conv(t, 1, "lead") == (0, 1)
    assert conv(t, 0, "qualified") == (1, 1)  # A, on to Demo on the 17th
    # Qualified, W1: C entered twice (one deal), reached Demo on the 24th.
    assert conv(t, 1, "qualified") == (1, 1)
    assert conv(t, 1, "demo") == (0, 1) and conv(t, 2, "demo") == (0, 1)  # A; C
    assert conv(t, 1, "negotiation") == (1, 1)  # D, created there, won since
    assert conv(t, 1, "won") == (0, 1)
    assert t["periods"][0]["conversion"]["lead"]["ratio"] == pytest.approx(2 / 3)
    assert t["periods"][0]["conversion"]["lead"]["small_sample"] is True
    assert conv(t, 2, "lead") == (0, 0) and t["periods"][2]["conversion"]["lead"]["ratio"] is None
    p0, p1, p2 = t["periods"]
    assert (p0["new_deals"], p1["new_deals"], p2["new_deals"]) == (3, 2, 0)
    assert (p0["losses"], p1["wins"], p1["won_amount"]) == (1, 1, 3000_00)
    assert p1["avg_cycle_days"] == pytest.approx(3.0) and p0["avg_cycle_days"] is None
    assert p0["entered"] == {"lead": 3, "qualified": 1, "demo": 0, "negotiation": 0, "won": 0, "expansion": 0}
    assert p1["entered"] == {"lead": 1, "qualified": 2, "demo": 1, "negotiation": 1, "won": 1, "expansion": 0}
    assert p2["entered"]["demo"] == 1


def test_as_of_and_months(store, pipeline):
    # Monday the 23rd 08:00: C had not reached Demo yet.
    t = store.trend(now=at(23, 8), tz=TZ, weeks=3)
    assert conv(t, 1, "qualified") == (0, 1)
    # By month: November holds everything — lead: A, B, C, E entered; A and C moved on.
    t = store.trend(now=NOW, tz=TZ, weeks=3, by="month")
    assert [p["label"] for p in t["periods"]] == ["2026-11"]
    assert conv(t, 0, "lead") == (2, 4) and conv(t, 0, "qualified") == (2, 2)


def test_cohort_never_exceeds_its_deals():
    with pytest.raises(ValueError):
        dtrend.cohort(4, 3)


def _rows(store):
    with store.read() as conn:
        deals = [aware_row(dict(r)) for r in conn.execute(select(Deal.__table__)).mappings()]
        history = [aware_row(dict(r)) for r in conn.execute(select(History.__table__)).mappings()]
    return deals, history


def test_sql_matches_the_plain_contract_on_the_demo(store):
    from funnel_tui.exchange.demo import fill_demo

    fill_demo(store, deals=120, seed=5, now=NOW - timedelta(days=1))
    d = store.add_deal({"customer": "Undone", "amount": "10"}, now=NOW - timedelta(days=3))
    store.move_deal(d, "demo", now=NOW - timedelta(days=2))
    store.undo(now=NOW - timedelta(days=1))
    stages, (deals, history) = store.stages(), _rows(store)
    for by, moment in (("week", NOW), ("month", NOW), ("week", NOW - timedelta(days=9))):
        wins = dtrend.windows(moment, TZ, weeks=8, by=by)
        with store.read() as conn:
            flow = strend.flow(conn, stages, wins, now=moment)
            cohorts = strend.cohorts(conn, stages, wins, now=moment)
        want_flow = dtrend.flow_from_rows(stages, deals, history, wins, now=moment)
        assert {k: v for k, v in flow.items() if k != "cycle_days"} == \
               {k: v for k, v in want_flow.items() if k != "cycle_days"}
        assert flow["cycle_days"] == pytest.approx(want_flow["cycle_days"], abs=1e-4)
        assert cohorts == dtrend.cohorts_from_rows(stages, deals, history, wins, now=moment)
        assert sum(d for v in cohorts.values() for _n, d in v) > 0  # the demo gives real cohorts


def test_cli_trend_json_and_refusals(db_path, pipeline, capsys, monkeypatch):
    from funnel_tui.cli import main

    monkeypatch.setenv("TZ", "Asia/Shanghai")

    assert main(["--db", str(db_path), "trend", "--weeks", "3", "--as-of", "2026-11-24 10:00",
                 "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    w1 = out["periods"][1]
    assert w1["won_amount"] == 3000.0 and w1["conversion"]["negotiation"] == {
        "n": 1, "d": 1, "ratio": 1.0, "small_sample": True}
    assert out["periods"][0]["start"].startswith("2026-11-09T00:00")
    assert main(["--db", str(db_path), "trend", "--weeks", "0"]) == 1
    assert "weeks" in capsys.readouterr().err


def test_review_shows_each_stage_trend_beside_its_bottleneck_counts(store, pipeline):
    r = store.review(now=NOW, tz=TZ)
    lead = next(c for c in r["conversion"] if c["stage"] == "lead")
    # Six weeks, 19 October to this week: Lead's cohorts were 2/3 (9th–16th) and 0/1 (16th–23rd).
    assert [(t["n"], t["d"]) for t in lead["trend"]] == [(0, 0), (0, 0), (0, 0), (2, 3), (0, 1), (0, 0)]
    for c in r["conversion"]:  # the review's own weeks are the trend's last three
        assert [(t["n"], t["d"]) for t in c["trend"][-3:-1]] == \
            [(c["week_before"]["n"], c["week_before"]["d"]), (c["last_week"]["n"], c["last_week"]["d"])]


def test_deleted_deals_count_nowhere_and_an_undone_delete_counts_again(store, pipeline):
    """All deals are read without a look-up of each row's deal (store.trend.NOT_DELETED): a
    deleted deal's rows drop out, a deal whose delete was undone stays in, exactly as the
    per-deal path (any set of deals: here all stages by name) reads them."""
    from funnel_tui.store.summary import DealSet

    store.delete_deal(pipeline["a"], now=at(21))
    store.delete_deal(pipeline["d"], now=at(21, 11))
    store.undo(now=at(21, 12))  # D comes back
    t = store.trend(now=NOW, tz=TZ, weeks=3)
    assert conv(t, 0, "lead") == (1, 2)  # B and C; A is gone
    assert conv(t, 0, "qualified") == (0, 0)  # A was the only one
    assert conv(t, 1, "negotiation") == (1, 1)  # D, back
    p0, p1, _p2 = t["periods"]
    assert (p0["new_deals"], p1["wins"], p1["won_amount"]) == (2, 1, 3000_00)
    wins = dtrend.windows(NOW, TZ, weeks=3)
    stages = store.stage_set(None)
    named = DealSet(stages=tuple(s.key for s in stages))
    with store.read() as conn:
        assert strend.flow(conn, stages, wins, now=NOW) == strend.flow(conn, stages, wins, now=NOW, deals=named)
        assert strend.cohorts(conn, stages, wins, now=NOW) == \
            strend.cohorts(conn, stages, wins, now=NOW, deals=named)
