"""Open stays across a split or merge (store/stage_stays.py, domain.stage_history.open_stay_start):
a deal that moved between two stages before they were merged has been in the merged stage
since it first entered either. Hand-computed cases on every path that reads stays — the live
summary, per rep, a --since period, a --as-of replay, the review's KPIs — and undo."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from test_stage_store import close, day, line, oracle

from funnel_tui.domain.rules import dwell
from funnel_tui.models import History
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
    on day 5. In today's stages C never left Negotiation: it has been there since day 1 (5 days
    on day 6), and the merge puts its clock back there (it read day 3, the move's). E's 2 days
    (day 0 → won on day 2) are the one completed stay."""
    e = store.add_deal({"customer": "E", "amount": "10", "stage": "negotiation"}, now=day(0))
    c = store.add_deal({"customer": "C", "amount": "10", "stage": "negotiation"}, now=day(1))
    store.move_deal(e, "won", now=day(2))
    store.move_deal(c, "demo", now=day(3))
    store.merge_stage("demo", "negotiation", now=day(5))
    assert store.get_deal(c)["stage_entered_at"] == day(1)
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


# --- the deal's own clock (stage_entered_at): what the board, Today and the Deal screen read ---


def dwells(store, stage, now):
    """Whole days in stage per customer, as the board's cards count them (domain.rules.dwell
    over the column's stage_entered_at)."""
    return {c["customer"]: int(dwell(c["stage_entered_at"], now, 15).days)
            for c in store.board_column(stage)}


def dwell_warnings(store, now):
    return {(w.customer, w.kind, w.days) for w in store.warnings(now=now) if w.kind.startswith("dwell")}


def clock_rows(store, action):
    """The history rows of `action` (and of its undo) that set a deal's stage_entered_at."""
    h = History.__table__
    with store.read() as conn:
        q = select(h).where(h.c.field == "stage_entered_at", h.c.action.in_([action, "undo:" + action]))
        return [dict(r) for r in conn.execute(q.order_by(h.c.id)).mappings()]


def last_move_action(store, deal_id):
    return [h for h in store.deal_history(deal_id) if h["kind"] == "stage"][-1]["action"]


def test_a_merge_after_a_move_puts_the_deals_clock_back_to_its_first_entry_and_undo_restores_it(store):
    """X entered Demo on day 2 and moved to Negotiation (limit 15 days) on day 4; Y came from
    Lead on day 3; Z sat in Demo since day 3. Demo merges into Negotiation on day 5. On day 18
    X has been in Negotiation 16 days (since day 2), over the limit — not the 14 since its move;
    Y (from outside) and Z (the merge's own relabel) keep day 3: 15 days, near. Undo of the
    merge puts X's clock back to day 4 exactly, with Z in Demo again."""
    x = store.add_deal({"customer": "X", "amount": "10", "stage": "demo"}, now=day(2))
    y = store.add_deal({"customer": "Y", "amount": "10", "stage": "lead"}, now=day(1))
    z = store.add_deal({"customer": "Z", "amount": "10", "stage": "demo"}, now=day(3))
    store.move_deal(x, "negotiation", now=day(4))
    store.move_deal(y, "negotiation", now=day(3))
    now = day(18)
    assert dwell_warnings(store, now) == {("X", "dwell_near", 14), ("Y", "dwell_near", 15)}
    store.merge_stage("demo", "negotiation", now=day(5))
    assert [store.get_deal(d)["stage_entered_at"] for d in (x, y, z)] == [day(2), day(3), day(3)]
    assert dwells(store, "negotiation", now) == {"X": 16, "Y": 15, "Z": 15}
    assert dwell_warnings(store, now) == {("X", "dwell_over", 16), ("Y", "dwell_near", 15),
                                          ("Z", "dwell_near", 15)}
    assert negotiation_numbers(store, now)[1] == pytest.approx((16 + 15 + 15) / 3)
    assert close(store.summary(now=now), oracle(store, now=now))
    # One field row, in the merge's own action: undo takes it back with the rest.
    merge = last_move_action(store, z)
    (row,) = clock_rows(store, merge)
    assert (row["deal_id"], row["old"], row["new"]) == (x, day(4).isoformat(), day(2).isoformat())
    store.undo(now=now)
    assert [store.get_deal(d)["stage_entered_at"] for d in (x, y, z)] == [day(4), day(3), day(3)]
    assert [store.get_deal(d)["stage"] for d in (x, y, z)] == ["negotiation", "negotiation", "demo"]
    assert dwell_warnings(store, now) == {("X", "dwell_near", 14), ("Y", "dwell_near", 15)}
    assert [(r["deal_id"], r["new"]) for r in clock_rows(store, merge)] == [  # history only grows
        (x, day(2).isoformat()), (x, day(4).isoformat())]


def test_a_split_after_a_fixed_merge_keeps_every_clock(store):
    """X's clock went back to day 2 at the merge (as above); splitting Negotiation later moves
    X and Y to its first part with their clocks as they are, and writes no clock row."""
    x = store.add_deal({"customer": "X", "amount": "10", "stage": "demo"}, now=day(2))
    y = store.add_deal({"customer": "Y", "amount": "10", "stage": "lead"}, now=day(1))
    store.move_deal(x, "negotiation", now=day(4))
    store.move_deal(y, "negotiation", now=day(3))
    store.merge_stage("demo", "negotiation", now=day(5))
    merge = last_move_action(store, x)
    store.split_stage("negotiation", [("terms", "Terms", "条款谈判"), ("price", "Price", "价格确认")], now=day(6))
    assert [store.get_deal(d)["stage_entered_at"] for d in (x, y)] == [day(2), day(3)]
    assert [store.get_deal(d)["stage"] for d in (x, y)] == ["terms", "terms"]
    assert [r["deal_id"] for r in clock_rows(store, merge)] == [x]
    assert clock_rows(store, last_move_action(store, x)) == []  # the split's own: none
    assert close(store.summary(now=day(8)), oracle(store, now=day(8)))


def test_on_a_team_server_the_leads_merge_sets_the_reps_clock_and_the_undo_restores_it(team):
    """The lead merges Demo into Negotiation: ann's deal (Demo day 2 → Negotiation day 4) reads
    day 2 for ann, bob's deal (from Lead) keeps its day 3; the lead's undo gives ann day 4 back."""
    ann, bob, lea = team["ann"], team["bob"], team["lea"]
    x = ann.add_deal({"customer": "X", "amount": "10", "stage": "demo"}, now=day(2))
    y = bob.add_deal({"customer": "Y", "amount": "10", "stage": "lead"}, now=day(1))
    ann.move_deal(x, "negotiation", now=day(4))
    bob.move_deal(y, "negotiation", now=day(3))
    lea.merge_stage("demo", "negotiation", now=day(5))
    assert (ann.get_deal(x)["stage_entered_at"], bob.get_deal(y)["stage_entered_at"]) == (day(2), day(3))
    assert ("X", "dwell_over", 16) in dwell_warnings(ann, day(18))
    lea.undo(now=day(6))
    assert (ann.get_deal(x)["stage_entered_at"], bob.get_deal(y)["stage_entered_at"]) == (day(4), day(3))
    assert ("X", "dwell_near", 14) in dwell_warnings(ann, day(18))
