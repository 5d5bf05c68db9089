"""Open stays across a split or merge (store/stage_stays.py, domain.stage_history.open_stay_start):
a deal that moved between two stages before they were merged has been in the merged stage
since it first entered either. Hand-computed cases on every path that reads stays — the live
summary, per rep, a --since period, a --as-of replay, the review's KPIs — and undo."""

from __future__ import annotations

import pytest
from test_stage_store import close, day, line, oracle

from funnel_tui.store.summary import DealSet

# The store's stage SQL runs on a team's PostgreSQL server too.
pytestmark = [*globals().get("pytestmark", []), pytest.mark.both_backends]



def negotiation_numbers(store, now, **options):
    s = store.summary(now=now, **options)
    return line(s, "negotiation")["avg_days_in_stage"], line(s, "negotiation")["current_avg_dwell"]


def test_a_merge_after_a_move_counts_the_open_stay_from_its_first_entry_on_every_path(store):
    """The case above, every reader: B has been in Negotiation (Demo merged in) since day 2, so
    on day 6 its dwell is 4 days, not the 2 days since its move; the one completed stay is A's
    2 days in Demo, in the live summary, per rep, over a --since period and replayed --as-of."""
    a = store.add_deal({"customer": "A", "amount": "10", "stage": "demo", "owner": "wang"}, now=day(1))
    b = store.add_deal({"customer": "B", "amount": "10", "stage": "demo", "owner": "wang"}, now=day(2))
    store.add_deal({"customer": "C", "amount": "10", "stage": "lead", "owner": "li"}, now=day(2))
    store.move_deal(a, "lead", now=day(3))
    store.move_deal(b, "negotiation", now=day(4))
    store.merge_stage("demo", "negotiation", now=day(5))
    now = day(6)
    assert negotiation_numbers(store, now) == (pytest.approx(2.0), pytest.approx(4.0))
    assert negotiation_numbers(store, now, deals=DealSet(owner="wang")) == (pytest.approx(2.0), pytest.approx(4.0))
    assert negotiation_numbers(store, now, deals=DealSet(since=day(0))) == (pytest.approx(2.0), pytest.approx(4.0))
    assert negotiation_numbers(store, now, as_of=now) == (pytest.approx(2.0), pytest.approx(4.0))
    per_rep = {s["owner"]: line(s, "negotiation") for s in store.summary(now=now, by_owner=True)}
    assert (per_rep["wang"]["avg_days_in_stage"], per_rep["wang"]["current_avg_dwell"]) == (
        pytest.approx(2.0), pytest.approx(4.0))
    assert per_rep["li"]["avg_days_in_stage"] is None
    assert close(store.summary(now=now, deals=DealSet(owner="wang")), oracle(store, now=now, owner="wang"))
    # The review's KPIs pair entries in SQL: the same one stay of 2 days (48 hours).
    assert store.stage_kpis()["negotiation"]["median_days_in_stage"] == pytest.approx(2.0)
    # Undo the merge: Demo is back, B entered Negotiation on day 4, A's stay was in Demo.
    store.undo(now=now)
    assert negotiation_numbers(store, now) == (None, pytest.approx(2.0))
    assert line(store.summary(now=now), "demo")["avg_days_in_stage"] == pytest.approx(2.0)


def test_a_merge_after_a_move_back_keeps_the_stay_it_left_open(store):
    """C went Negotiation → Demo (back) on day 3 and sat there; Demo was merged into Negotiation
    on day 5 (C's relabel move keeps its clock at day 3). In today's stages C never left
    Negotiation: it has been there since day 1 (5 days on day 6). E's 2 days (day 0 → won on
    day 2) are the one completed stay."""
    e = store.add_deal({"customer": "E", "amount": "10", "stage": "negotiation"}, now=day(0))
    c = store.add_deal({"customer": "C", "amount": "10", "stage": "negotiation"}, now=day(1))
    store.move_deal(e, "won", now=day(2))
    store.move_deal(c, "demo", now=day(3))
    store.merge_stage("demo", "negotiation", now=day(5))
    assert store.get_deal(c)["stage_entered_at"] == day(3)
    now = day(6)
    assert negotiation_numbers(store, now) == (pytest.approx(2.0), pytest.approx(5.0))
    assert negotiation_numbers(store, now, as_of=now) == (pytest.approx(2.0), pytest.approx(5.0))
    assert close(store.summary(now=now), oracle(store, now=now))


def test_a_deal_lost_after_a_move_adds_no_days_when_the_stages_merge(store):
    """L went Demo (day 1) → Negotiation (day 3) and was lost there on day 4; N sat in
    Negotiation days 0–2 and went on to won. After Demo merges into Negotiation, L's stay
    (since day 1) never completed, so Negotiation's completed stays are N's 2 days alone."""
    n = store.add_deal({"customer": "N", "amount": "10", "stage": "negotiation"}, now=day(0))
    lost = store.add_deal({"customer": "L", "amount": "10", "stage": "demo"}, now=day(1))
    store.move_deal(n, "won", now=day(2))
    store.move_deal(lost, "negotiation", now=day(3))
    store.lose_deal(lost, "price", now=day(4))
    store.merge_stage("demo", "negotiation", now=day(5))
    now = day(6)
    assert negotiation_numbers(store, now) == (pytest.approx(2.0), None)
    assert negotiation_numbers(store, now, as_of=now) == (pytest.approx(2.0), None)
    assert close(store.summary(now=now), oracle(store, now=now))


def test_a_split_keeps_the_clocks_and_a_move_between_its_parts_is_a_real_stay(store):
    """P: Lead day 0 → Negotiation day 2; Q: Lead day 0 → Negotiation day 3. Negotiation splits
    into Terms and Price on day 4 (both move to Terms, clocks kept). P goes Terms → Price on day 7.
    Day 8: Terms' completed stay is P's 5 days (day 2 → 7), Lead's are 2 and 3; Q's open stay
    in Terms is 5 days, P's in Price 1 day."""
    p = store.add_deal({"customer": "P", "amount": "10", "stage": "lead"}, now=day(0))
    q = store.add_deal({"customer": "Q", "amount": "10", "stage": "lead"}, now=day(0))
    store.move_deal(p, "negotiation", now=day(2))
    store.move_deal(q, "negotiation", now=day(3))
    store.split_stage("negotiation", [("terms", "Terms", "条款谈判"), ("price", "Price", "价格确认")], now=day(4))
    store.move_deal(p, "price", now=day(7))
    now = day(8)
    for options in ({}, {"as_of": now}, {"deals": DealSet(since=day(0))}):
        s = store.summary(now=now, **options)
        assert line(s, "lead")["avg_days_in_stage"] == pytest.approx(2.5)
        assert (line(s, "terms")["avg_days_in_stage"], line(s, "terms")["current_avg_dwell"]) == (
            pytest.approx(5.0), pytest.approx(5.0))
        assert (line(s, "price")["avg_days_in_stage"], line(s, "price")["current_avg_dwell"]) == (
            None, pytest.approx(1.0))
    assert close(store.summary(now=now), oracle(store, now=now))


def test_an_undone_move_after_the_move_does_not_hide_the_open_stay(store):
    """As the first case, but B also went on to Won on day 4.5 and that was undone: the undone
    move and its undo are no entries, so B's open stay in Negotiation still began on day 2."""
    a = store.add_deal({"customer": "A", "amount": "10", "stage": "demo"}, now=day(1))
    b = store.add_deal({"customer": "B", "amount": "10", "stage": "demo"}, now=day(2))
    store.move_deal(a, "lead", now=day(3))
    store.move_deal(b, "negotiation", now=day(4))
    store.move_deal(b, "won", now=day(4.5))
    store.undo(now=day(4.6))
    store.merge_stage("demo", "negotiation", now=day(5))
    now = day(6)
    assert negotiation_numbers(store, now) == (pytest.approx(2.0), pytest.approx(4.0))
    assert negotiation_numbers(store, now, as_of=now) == (pytest.approx(2.0), pytest.approx(4.0))
    assert close(store.summary(now=now), oracle(store, now=now))
