"""Issue 17: amount tiers in every summary under `funnel settings tiering amount` — of now and
replayed (`--as-of`), per rep (`--by-owner`) and for a period (`--since`), hand-computed, on
both backends. The thresholds and rates are today's settings (they have no history)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from funnel_tui.store import Store

pytestmark = pytest.mark.both_backends

WANG, ALEX = "王磊", "Alex Chen"


def tiers(key=(0, 0.0), major=(0, 0.0), regular=(0, 0.0), maintain=(0, 0.0), unrated=None) -> dict:
    """The JSON `amount_tiers` (amounts in yuan)."""
    out = {code: {"deals": n, "amount": amount}
           for code, (n, amount) in (("key", key), ("major", major), ("regular", regular), ("maintain", maintain))}
    by_currency = unrated or {}
    out["unrated"] = {"deals": sum(n for n, _ in by_currency.values()),
                      "amount_by_currency": {c: amount for c, (_, amount) in by_currency.items()}}
    return out


@pytest.fixture
def pipeline(db_path, now, tz, funnel):
    """Fifteen days ago (the as-of moment), open: A 9000万 key, B 3000万 major (cut to 500万
    ten days ago), C 1500万 regular (won five days ago) — 王磊's; D 100 yuan, E 500 USD and
    G 9000万 (deleted two days ago) — Alex's. F 1亿 (Alex's) came three days ago."""
    s = Store(db_path)
    day = lambda n: now - timedelta(days=n)  # noqa: E731 - days ago
    a = s.add_deal({"customer": "A", "amount": "9000万", "owner": WANG}, now=day(40), tz=tz)
    b = s.add_deal({"customer": "B", "amount": "3000万", "owner": WANG}, now=day(40), tz=tz)
    c = s.add_deal({"customer": "C", "amount": "1500万", "owner": WANG}, now=day(40), tz=tz)
    s.add_deal({"customer": "D", "amount": "100", "owner": ALEX}, now=day(20), tz=tz)
    s.add_deal({"customer": "E", "amount": "500", "currency": "USD", "owner": ALEX}, now=day(20), tz=tz)
    g = s.add_deal({"customer": "G", "amount": "9000万", "owner": ALEX}, now=day(20), tz=tz)
    s.update_deal(b, {"amount": "500万"}, now=day(10), tz=tz)
    s.move_deal(c, "won", now=day(5))
    s.delete_deal(g, now=day(2))
    s.add_deal({"customer": "F", "amount": "1亿", "owner": ALEX}, now=day(3), tz=tz)
    assert s.get_deal(a)["status"] == "open"
    s.close()
    assert funnel("settings", "tiering", "amount").code == 0
    return {"as_of": (now - timedelta(days=15)).astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            "since": (now - timedelta(days=25)).astimezone(tz).strftime("%Y-%m-%d")}


def summary(funnel, *argv: str):
    res = funnel("summary", *argv, "--format", "json")
    assert res.code == 0, res.err
    return json.loads(res.out)


def test_now_whole_and_per_rep(funnel, pipeline):
    got = summary(funnel)
    assert got["tiering"] == "amount"
    # Open now: A 9000万 and F 1亿 key; B 500万 and D 100 maintain; E unrated (no USD rate).
    assert got["amount_tiers"] == tiers(key=(2, 190_000_000.0), maintain=(2, 5_000_100.0), unrated={"USD": (1, 500.0)})
    reps = {s["owner"]: s for s in summary(funnel, "--by-owner")}
    assert {o: s["tiering"] for o, s in reps.items()} == {ALEX: "amount", WANG: "amount"}
    assert reps[WANG]["amount_tiers"] == tiers(key=(1, 90_000_000.0), maintain=(1, 5_000_000.0))
    assert reps[ALEX]["amount_tiers"] == tiers(key=(1, 100_000_000.0), maintain=(1, 100.0), unrated={"USD": (1, 500.0)})


def test_since_counts_the_deals_created_in_the_period(funnel, pipeline):
    # Created in the last 25 days and open now: D, E, F (A and B are older; G is deleted).
    got = summary(funnel, "--since", pipeline["since"])
    assert got["amount_tiers"] == tiers(key=(1, 100_000_000.0), maintain=(1, 100.0), unrated={"USD": (1, 500.0)})


def test_as_of_tiers_the_deals_as_they_stood(funnel, pipeline):
    # Fifteen days ago: A and G key (G not deleted yet), B still 3000万 (major), C still open
    # (regular), D maintain, E unrated; F did not exist.
    got = summary(funnel, "--as-of", pipeline["as_of"])
    assert got["tiering"] == "amount"
    assert got["amount_tiers"] == tiers(key=(2, 180_000_000.0), major=(1, 30_000_000.0), regular=(1, 15_000_000.0),
                                        maintain=(1, 100.0), unrated={"USD": (1, 500.0)})
    reps = {s["owner"]: s for s in summary(funnel, "--as-of", pipeline["as_of"], "--by-owner")}
    assert reps[WANG]["amount_tiers"] == tiers(key=(1, 90_000_000.0), major=(1, 30_000_000.0),
                                               regular=(1, 15_000_000.0))
    assert reps[ALEX]["amount_tiers"] == tiers(key=(1, 90_000_000.0), maintain=(1, 100.0), unrated={"USD": (1, 500.0)})
    # With a USD rate E is tiered at it (500 × 7.1 = 3,550 yuan: maintain), now and then alike.
    assert funnel("settings", "rate", "USD", "7.1").code == 0
    got = summary(funnel, "--as-of", pipeline["as_of"], "--since", pipeline["since"])
    assert got["amount_tiers"] == tiers(key=(1, 90_000_000.0), maintain=(2, 3_650.0))  # D, E and G
    assert summary(funnel)["amount_tiers"]["maintain"] == {"deals": 3, "amount": 5_003_650.0}


def test_the_table_shows_the_replayed_tiers(funnel, pipeline):
    res = funnel("summary", "--as-of", pipeline["as_of"])
    assert res.code == 0, res.err
    assert "key 2 (180,000,000) / major 1 (30,000,000) / regular 1 (15,000,000)" in res.out


def test_abc_tiering_adds_nothing(funnel, pipeline):
    assert funnel("settings", "tiering", "abc").code == 0
    for argv in ((), ("--as-of", pipeline["as_of"]), ("--since", pipeline["since"])):
        got = summary(funnel, *argv)
        assert "amount_tiers" not in got and "tiering" not in got and set(got["tiers"]) == {"A", "B", "C"}
    assert all("amount_tiers" not in s for s in summary(funnel, "--by-owner"))
