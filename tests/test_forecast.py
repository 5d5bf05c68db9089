"""Issue 17: the forecast with the water squeezed out (挤压水分), computed by hand, on SQLite
and on PostgreSQL.

Historical probability p = (won + 10·p0) / (closed + 10), p0 the stage's probability (the
default stages: Lead 10 %, Qualified 25 %, Demo 50 %, Negotiation 75 %).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from fractions import Fraction

import pytest

from funnel_tui.domain import forecast as fc

pytestmark = [*globals().get("pytestmark", []), pytest.mark.both_backends]

UTC = timezone.utc
T0 = datetime(2026, 10, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=20)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def test_the_rules_by_hand():
    assert fc.historical_probability(fc.Record(0, 0), 50) == Fraction(1, 2)  # no record: the prior
    assert fc.historical_probability(fc.Record(1, 2), 50) == Fraction(6, 12)
    assert fc.historical_probability(fc.Record(1, 1), 75) == Fraction(17, 22)
    assert fc.historical_probability(fc.Record(90, 90), 0) == Fraction(90, 100)  # the record outweighs
    assert fc.times(200_000, Fraction(17, 22)) == 154_545  # 154 545.45 fen, half up
    assert fc.times(1, Fraction(1, 2)) == 1
    assert [fc.band(Fraction(x, 100)) for x in (80, 79, 50, 20, 19, 0)] == \
        ["certain", "likely", "likely", "unlikely", "remote", "remote"]
    assert fc.push_count(10, 0.3) == 3  # "ten deals at 30 %: push the three most likely"
    assert (fc.push_count(0, 0.3), fc.push_count(4, None), fc.push_count(5, 0.01), fc.push_count(80, 0.9)) == (0, 3, 1, 10)


@pytest.fixture
def pipeline(store) -> dict[str, int]:
    """me: W won (created in Negotiation), L1 created in Demo and lost, L2 lost in Lead;
    open O1 Demo 1000, O2 Negotiation 2000, O3 Lead 300. you: O4 Demo 400, O5 Qualified 1000
    at a hopeful 90 %."""
    ids = {}
    ids["w"] = store.add_deal({"customer": "W", "amount": "5000", "owner": "me", "stage": "negotiation"}, now=day(0))
    store.move_deal(ids["w"], "won", now=day(3))
    ids["l1"] = store.add_deal({"customer": "L1", "amount": "700", "owner": "me", "stage": "demo"}, now=day(0))
    store.lose_deal(ids["l1"], "price", now=day(2))
    ids["l2"] = store.add_deal({"customer": "L2", "amount": "100", "owner": "me"}, now=day(0))
    store.lose_deal(ids["l2"], "price", now=day(2))
    ids["o1"] = store.add_deal({"customer": "O1", "amount": "1000", "owner": "me", "stage": "demo"}, now=day(1))
    ids["o2"] = store.add_deal({"customer": "O2", "amount": "2000", "owner": "me", "stage": "negotiation"}, now=day(1))
    ids["o3"] = store.add_deal({"customer": "O3", "amount": "300", "owner": "me"}, now=day(1))
    ids["o4"] = store.add_deal({"customer": "O4", "amount": "400", "owner": "you", "stage": "demo"}, now=day(15))
    ids["o5"] = store.add_deal({"customer": "O5", "amount": "1000", "owner": "you", "stage": "qualified",
                                "probability": "90"}, now=day(1))
    return ids


def stage(f: dict, key: str) -> dict:
    return next(s for s in f["stages"] if s["stage"] == key)


def test_hand_computed_forecast(store, pipeline):
    f = store.forecast(now=NOW)
    # me's record: Negotiation 1 won of 1 closed; Demo 1 of 2 (W, L1); Lead 1 of 3.
    rates = {(r["owner"], r["stage"]): r for r in f["rates"]}
    assert (rates["me", "demo"]["won"], rates["me", "demo"]["closed"]) == (1, 2)
    assert rates["me", "negotiation"]["probability"] == pytest.approx(17 / 22)
    assert rates["me", "lead"]["probability"] == pytest.approx(2 / 13)
    assert rates["you", "qualified"]["probability"] == pytest.approx(0.25)  # no record: the stage's 25 %
    # O1 1000 × 1/2 = 500; O2 2000 × 17/22 = 1545.45; O3 300 × 2/13 = 46.15; O4 400 × 1/2 = 200;
    # O5 1000 × 25 % = 250. By the deals' own probabilities: 500 + 1500 + 30 + 200 + 900.
    assert f["history_weighted"] == 500_00 + 1545_45 + 46_15 + 200_00 + 250_00
    assert f["probability_weighted"] == 500_00 + 1500_00 + 30_00 + 200_00 + 900_00
    assert f["water"] == 3130_00 - 2541_60 == 588_40
    assert (stage(f, "demo")["water"], stage(f, "qualified")["water"]) == (0, 650_00)
    bands = {b["band"]: b for b in f["bands"]}
    assert (bands["likely"]["deals"], bands["likely"]["amount"], bands["likely"]["history_weighted"]) == \
        (3, 3400_00, 500_00 + 1545_45 + 200_00)  # O1, O2, O4
    assert (bands["unlikely"]["deals"], bands["remote"]["deals"], bands["certain"]["deals"]) == (1, 1, 0)
    # Demo → Negotiation: 2 of the 5 deals that reached Demo went on (W, O2): push 2 × 40 % → 1.
    # O1: 1000 × ½ × 14/(14+19) = 212; O4: 400 × ½ × 14/(14+5) = 147: O1 first.
    assert stage(f, "demo")["push_count"] == 1
    assert [p["deal_id"] for p in stage(f, "demo")["push_first"]] == [pipeline["o1"]]


def test_one_reps_forecast_and_the_cli(db_path, store, pipeline, capsys, monkeypatch):
    f = store.forecast(now=NOW, owner="you")
    assert (f["open_deals"], f["water"]) == (2, 650_00)
    from funnel_tui.cli import main

    monkeypatch.setenv("FUNNEL_NOW", NOW.isoformat())
    assert main(["--db", str(db_path), "forecast", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["probability_weighted"], out["history_weighted"], out["water"]) == (3130.0, 2541.6, 588.4)
    assert out["prior"] == {"kind": "beta", "weight": 10, "centre": "stage probability"}
    push = stage(out, "demo")["push_first"][0]
    assert push["customer"] == "O1" and push["amount"] == 1000.0 and push["historical_probability"] == 0.5


def test_push_first_reads_only_the_largest_yet_ranks_as_all_would(store):
    """The push list reads a stage's largest deals until no unread one could rank (amount × the
    best probability < the n-th score): the same list as ranking every open deal. Big old quiet
    deals lose to small recent ones here, so the read must go past its first 64 rows; equal
    amounts and times across reps tie, broken by id."""
    from funnel_tui.store import forecast as sforecast
    from funnel_tui.store.summary import DealSet

    for i in range(40):  # reached Demo and went on: Demo's conversion makes the push ten deals
        d = store.add_deal({"customer": f"N{i}", "amount": "100", "owner": "me", "stage": "demo"}, now=day(-30))
        store.move_deal(d, "negotiation", now=day(-29))
    for i in range(6):  # you lost in Demo: your record differs from mine
        d = store.add_deal({"customer": f"L{i}", "amount": "100", "owner": "you", "stage": "demo"}, now=day(-30))
        store.lose_deal(d, "price", now=day(-29))
    for i in range(100):  # the larger, the longer quiet
        store.add_deal({"customer": f"B{i}", "amount": str(100_000 - 500 * i), "owner": ("me", "you")[i % 2],
                        "stage": "demo"}, now=day(-400 + 4 * i))
    for owner in ("me", "you"):  # equal amounts, equal times: ties
        for i in range(3):
            store.add_deal({"customer": f"T{owner}{i}", "amount": "40000", "owner": owner, "stage": "demo"},
                           now=day(19))
    f = store.forecast(now=NOW)
    demo = stage(f, "demo")
    assert demo["push_count"] == 10
    stages = store.stage_set(None)
    with store.read() as conn:
        per = sforecast.facts_by_owner_status(conn, stages, DealSet(), NOW)
        every = sforecast.biggest_open(conn, DealSet(), "demo", 10**6)
    p = fc.probabilities(stages, per)
    prior = fc.historical_probability(fc.Record(0, 0), 50)
    expected = fc.push_first(every, {o: p.get((o, "demo"), prior) for o in ("me", "you")}, now=NOW, n=10)
    assert [r["deal_id"] for r in demo["push_first"]] == [r["deal_id"] for r in expected]
    by_amount = [d["id"] for d in every]
    assert max(by_amount.index(r["deal_id"]) for r in expected) >= 64  # found past the first read
    assert p[("me", "demo")] != p[("you", "demo")]
