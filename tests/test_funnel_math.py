"""The funnel contract (DESIGN §3) over plain rows: hand-computed cases and properties."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import count

from hypothesis import given, settings
from hypothesis import strategies as st

from funnel_tui.domain.funnel import (
    FunnelFacts,
    deal_state_as_of,
    facts_from_rows,
    review,
    review_weeks,
    summarize,
    undone_actions,
    week_start,
)
from funnel_tui.domain.stages import DEFAULT_STAGES

UTC = timezone.utc
T0 = datetime(2026, 11, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=30)
KEYS = [s.key for s in DEFAULT_STAGES]


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


class Book:
    """Deals and history rows written the way the store writes them."""

    def __init__(self):
        self.deals: list[dict] = []
        self.history: list[dict] = []
        self._hid = count(1)
        self._act = count(1)

    def _row(self, deal_id, at, kind, **kw):
        row = {"id": next(self._hid), "deal_id": deal_id, "at": at, "kind": kind, "from_stage": None,
               "to_stage": None, "field": None, "old": None, "new": None, "action": kw.pop("action")}
        row.update(kw)
        self.history.append(row)

    def deal(self, at, stage="lead", *, amount=100_00, probability=10, owner="me", source="web",
             kind="created", status="open") -> dict:
        d = {"id": len(self.deals) + 1, "owner": owner, "source": source, "stage": stage, "status": status,
             "amount": amount, "probability": probability, "created_at": at, "stage_entered_at": at,
             "closed_at": at if status != "open" else None, "lost_reason": "", "deleted_at": None}
        self.deals.append(d)
        self._row(d["id"], at, kind, to_stage=stage, action=f"a{next(self._act)}")
        return d

    def move(self, d, stage, at, action=None):
        action = action or f"a{next(self._act)}"
        self._row(d["id"], at, "stage", from_stage=d["stage"], to_stage=stage, field="stage",
                  old=d["stage"], new=stage, action=action)
        self._row(d["id"], at, "field", field="stage_entered_at", old=d["stage_entered_at"].isoformat(),
                  new=at.isoformat(), action=action)
        d["stage"], d["stage_entered_at"] = stage, at
        if stage == "won":
            self._row(d["id"], at, "won", field="status", old="open", new="won", action=action)
            d["status"], d["closed_at"] = "won", at
        return action

    def lose(self, d, reason, at):
        action = f"a{next(self._act)}"
        self._row(d["id"], at, "lost", field="status", old="open", new="lost", action=action)
        self._row(d["id"], at, "field", field="lost_reason", old="", new=reason, action=action)
        self._row(d["id"], at, "field", field="closed_at", old=None, new=at.isoformat(), action=action)
        d.update(status="lost", lost_reason=reason, closed_at=at)

    def set_amount(self, d, amount, at):
        self._row(d["id"], at, "field", field="amount", old=str(d["amount"]), new=str(amount),
                  action=f"a{next(self._act)}")
        d["amount"] = amount

    def undo_move(self, d, action, back_to, entered_before, at):
        """What Store.undo appends for a move: the inverse stage row, under undo:<action>."""
        self._row(d["id"], at, "stage", from_stage=d["stage"], to_stage=back_to, field="stage",
                  old=d["stage"], new=back_to, action="undo:" + action)
        d["stage"], d["stage_entered_at"] = back_to, entered_before

    def summary(self, *, now=NOW, as_of=None, deals=None):
        facts = facts_from_rows(DEFAULT_STAGES, deals if deals is not None else self.deals, self.history,
                                now=now, as_of=as_of)
        return summarize(DEFAULT_STAGES, facts, as_of=as_of or now)


def by_key(summary) -> dict[str, dict]:
    return {s["key"]: s for s in summary["stages"]}


def reached(summary) -> list[int]:
    return [s["reached"] for s in summary["stages"]]


# --- hand-computed cases -------------------------------------------------------------


def test_empty_set():
    s = Book().summary()
    assert reached(s) == [0] * 6
    assert all(st["conversion_to_next"] is None for st in s["stages"])
    assert s["won"] == s["lost"] == 0
    assert s["win_rate"] is None and s["avg_cycle_days"] is None
    assert s["won_amount"] == s["weighted_pipeline"] == 0
    assert s["tiers"] == {"A": 0, "B": 0, "C": 0}
    assert s["lost_reasons"] == {} and s["by_source"] == {}
    assert s["weakest_step"] is None


def test_deals_that_never_leave_lead():
    b = Book()
    for n in (0, 10, 20):
        b.deal(day(n))
    s = b.summary()
    assert reached(s) == [3, 0, 0, 0, 0, 0]
    lead = by_key(s)["lead"]
    assert lead["conversion_to_next"] == 0.0
    assert (lead["conversion_n"], lead["conversion_d"], lead["small_sample"]) == (0, 3, True)
    assert lead["current"] == 3 and lead["open_count"] == 3
    assert lead["avg_days_in_stage"] is None and lead["completed_stays"] == 0
    assert lead["current_avg_dwell"] == 20.0  # (30 + 20 + 10) / 3
    assert by_key(s)["qualified"]["conversion_to_next"] is None  # nothing reached it


def test_created_or_imported_into_a_later_stage_reached_every_earlier_one():
    b = Book()
    b.deal(day(0), "demo")
    b.deal(day(1), "negotiation", kind="imported")
    b.deal(day(2))
    s = b.summary()
    assert reached(s) == [3, 2, 2, 1, 0, 0]
    assert by_key(s)["lead"]["conversion_to_next"] == 2 / 3
    assert by_key(s)["demo"]["conversion_to_next"] == 0.5
    # The leak is the lowest conversion out of an open stage: negotiation → won, 0 of 1.
    assert s["weakest_step"] == {"stage": "negotiation", "next": "won", "n": 0, "d": 1, "rate": 0.0,
                                 "small_sample": True}


def test_back_move_never_lowers_reached():
    b = Book()
    d = b.deal(day(0))
    b.move(d, "qualified", day(2))
    b.move(d, "demo", day(5))
    b.move(d, "qualified", day(6))  # back
    s = b.summary()
    assert reached(s) == [1, 1, 1, 0, 0, 0]
    assert by_key(s)["qualified"]["current"] == 1 and by_key(s)["demo"]["current"] == 0
    # Completed stays: lead 0→2, qualified 2→5, demo 5→6; qualified again from 6 is open.
    assert by_key(s)["lead"]["avg_days_in_stage"] == 2.0
    assert by_key(s)["qualified"]["avg_days_in_stage"] == 3.0
    assert by_key(s)["demo"]["avg_days_in_stage"] == 1.0
    assert by_key(s)["qualified"]["current_avg_dwell"] == 24.0


def test_lost_deals_count_up_to_the_stage_they_were_lost_in():
    b = Book()
    early = b.deal(day(0))
    b.lose(early, "no budget", day(3))
    late = b.deal(day(0))
    b.move(late, "qualified", day(1))
    b.move(late, "demo", day(4))
    b.lose(late, "price", day(9))
    other = b.deal(day(1))
    b.move(other, "qualified", day(2))
    b.lose(other, "price", day(3))
    s = b.summary()
    assert reached(s) == [3, 2, 1, 0, 0, 0]
    assert s["lost"] == 3 and s["won"] == 0 and s["win_rate"] == 0.0
    assert s["lost_reasons"] == {"price": 2, "no budget": 1}
    # A lost deal is not "current" anywhere and its last stay never completes.
    assert [st["current"] for st in s["stages"]] == [0] * 6
    assert by_key(s)["demo"]["completed_stays"] == 0
    assert by_key(s)["lead"]["avg_days_in_stage"] == 1.0  # late 0→1, other 1→2
    assert s["open_amount"] == 0 and s["weighted_pipeline"] == 0


def test_win_rate_cycle_and_won_amount():
    b = Book()
    for n, amount in ((0, 1000_00), (4, 500_00)):
        d = b.deal(day(n), amount=amount)
        b.move(d, "negotiation", day(n + 2))
        b.move(d, "won", day(n + 10))
    lost = b.deal(day(1))
    b.lose(lost, "timing", day(2))
    b.deal(day(3))  # still open
    s = b.summary()
    assert (s["won"], s["lost"]) == (2, 1)
    assert s["win_rate"] == 2 / 3 and s["win_rate_d"] == 3 and s["win_rate_small_sample"]
    assert s["won_amount"] == 1500_00
    assert s["avg_cycle_days"] == 10.0
    assert by_key(s)["won"]["reached"] == 2 and by_key(s)["won"]["current"] == 2
    assert by_key(s)["negotiation"]["avg_days_in_stage"] == 8.0
    assert by_key(s)["negotiation"]["conversion_to_next"] == 1.0


def test_open_and_weighted_amounts_and_tiers():
    b = Book()
    b.deal(day(0), "demo", amount=800_00, probability=50)  # weighted 400
    b.deal(day(0), "demo", amount=100_00, probability=50)  # weighted 50
    b.deal(day(0), "lead", amount=333_33, probability=10)  # weighted 33.33
    s = b.summary()
    assert by_key(s)["demo"]["open_amount"] == 900_00
    assert by_key(s)["demo"]["weighted_amount"] == 450_00
    assert by_key(s)["lead"]["weighted_amount"] == 33_33
    assert s["weighted_pipeline"] == 483_33
    # Before the 2nd deal 82.8 % is covered (past 80 %: B); before the 3rd 93.1 % (< 95 %: B).
    assert s["tiers"] == {"A": 1, "B": 2, "C": 0}
    assert s["tier_weighted"] == {"A": 400_00, "B": 83_33, "C": 0}


def test_by_source():
    b = Book()
    for src in ("referral", "referral", "website"):
        b.deal(day(0), source=src)
    won = b.deal(day(0), source="referral")
    b.move(won, "won", day(5))
    s = b.summary()
    assert s["by_source"]["referral"] == {"reached_first": 3, "won": 1, "lost": 0, "win_rate": 1.0,
                                          "small_sample": True}
    assert s["by_source"]["website"]["win_rate"] is None


def test_an_undone_move_is_neither_a_stay_nor_reached():
    # Issue 13: undo is a true inverse. (Before it, an undone move still counted as reached:
    # Negotiation → Won went from 5/10 to 6/10 after a move into Won and `u`.)
    b = Book()
    d = b.deal(day(0))
    action = b.move(d, "demo", day(3))
    b.undo_move(d, action, "lead", day(0), day(4))
    s = b.summary()
    assert reached(s) == [1, 0, 0, 0, 0, 0]
    assert by_key(s)["lead"]["completed_stays"] == 0 and by_key(s)["demo"]["completed_stays"] == 0
    assert by_key(s)["lead"]["current_avg_dwell"] == 30.0  # back in lead since day 0
    assert undone_actions(b.history) == {action, "undo:" + action}
    assert undone_actions(b.history, as_of=day(3.5)) == set()


def test_as_of_before_and_after_a_move():
    b = Book()
    d = b.deal(day(0), amount=100_00)
    b.move(d, "qualified", day(10))
    b.set_amount(d, 250_00, day(12))
    b.lose(d, "price", day(20))
    b.deal(day(15))
    before = b.summary(as_of=day(5))
    assert reached(before) == [1, 0, 0, 0, 0, 0]
    assert by_key(before)["lead"]["open_amount"] == 100_00
    assert before["lost"] == 0 and by_key(before)["lead"]["current_avg_dwell"] == 5.0
    after = b.summary(as_of=day(11))
    assert reached(after) == [1, 1, 0, 0, 0, 0]
    assert by_key(after)["qualified"]["open_amount"] == 100_00  # amount changed on day 12
    assert by_key(after)["lead"]["avg_days_in_stage"] == 10.0
    later = b.summary(as_of=day(16))
    assert by_key(later)["qualified"]["open_amount"] == 250_00 and later["deals"] == 2
    assert b.summary(as_of=day(25))["lost"] == 1
    state = deal_state_as_of(d, [h for h in b.history if h["deal_id"] == d["id"]], day(11), set())
    assert (state["stage"], state["status"], state["amount"]) == ("qualified", "open", 100_00)


# --- properties ------------------------------------------------------------------------

OPS = st.lists(
    st.tuples(st.sampled_from(["new", "move", "lose"]), st.integers(0, 50), st.sampled_from(KEYS[:5]),
              st.floats(0.1, 5)),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(OPS)
def test_properties_of_any_history(ops):
    b = Book()
    t = 0.0
    for op, pick, stage, dt in ops:
        t += dt
        open_deals = [d for d in b.deals if d["status"] == "open"]
        if op == "new" or not open_deals:
            b.deal(day(t), stage if stage != "won" else "lead")
        elif op == "move":
            d = open_deals[pick % len(open_deals)]
            if d["stage"] != stage:
                b.move(d, stage, day(t))
        else:
            b.lose(open_deals[pick % len(open_deals)], "price", day(t))
    s = b.summary(now=day(t + 1))
    r = reached(s)
    assert all(x >= y for x, y in zip(r, r[1:])), r
    assert r[0] == len(b.deals)
    for stage in s["stages"]:
        c = stage["conversion_to_next"]
        assert c is None or 0 <= c <= 1
        assert stage["avg_days_in_stage"] is None or stage["avg_days_in_stage"] >= 0
    assert s["won"] <= by_key(s)["won"]["reached"]
    assert s["won"] + s["lost"] + sum(st["open_count"] for st in s["stages"]) == len(b.deals)
    # Replaying to a moment after everything gives today's picture.
    assert b.summary(now=day(t + 1), as_of=day(t + 1)) == s


def test_summing_facts_is_merging_them():
    b = Book()
    for n in range(5):
        d = b.deal(day(n), owner="a" if n % 2 else "b", amount=(n + 1) * 100_00)
        if n % 2:
            b.move(d, "demo", day(n + 1))
    a = facts_from_rows(DEFAULT_STAGES, [d for d in b.deals if d["owner"] == "a"], b.history, now=NOW)
    c = facts_from_rows(DEFAULT_STAGES, [d for d in b.deals if d["owner"] == "b"], b.history, now=NOW)
    whole = facts_from_rows(DEFAULT_STAGES, b.deals, b.history, now=NOW)
    merged = FunnelFacts().merge(a).merge(c)
    assert summarize(DEFAULT_STAGES, merged) == summarize(DEFAULT_STAGES, whole)


# --- weekly review ---------------------------------------------------------------------


def test_weeks_start_on_local_monday():
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    # Tuesday 2026-11-24 10:00 Shanghai → this week starts Monday 2026-11-23 00:00 Shanghai.
    now = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    assert week_start(now, tz) == datetime(2026, 11, 23, tzinfo=tz)
    weeks = review_weeks(now, tz, 3)
    assert weeks[0] == (datetime(2026, 11, 23, tzinfo=tz), datetime(2026, 11, 30, tzinfo=tz))
    assert weeks[2][0] == datetime(2026, 11, 9, tzinfo=tz)


def test_review_averages_and_bottleneck_after_two_low_weeks():
    weekly = {
        "new_deals": [3, 10, 6, 8, 0, 99],  # week 5 is outside the trailing four
        "entered:lead": [3, 10, 10, 8, 4, 0],
        "entered:qualified": [1, 2, 2, 6, 4, 0],  # 20 % and 20 %: a bottleneck
        "entered:demo": [0, 1, 1, 0, 0, 0],  # 50 % and 50 %
        # Cohorts (n of d): of the 10 leads of last week and of the week before, 2 moved on.
        "cohort:lead": [(0, 3), (2, 10), (2, 10), (6, 8), (0, 4), (0, 0)],
        "cohort:qualified": [(0, 1), (1, 2), (1, 2), (0, 6), (0, 4), (0, 0)],
    }
    r = review(DEFAULT_STAGES, weekly)
    new = next(m for m in r["metrics"] if m["metric"] == "new_deals")
    assert (new["this_week"], new["last_week"], new["avg_4_weeks"]) == (3, 10, 6.0)
    conv = {c["stage"]: c for c in r["conversion"]}
    assert conv["lead"]["bottleneck"] is True
    assert conv["lead"]["last_week"] == {"n": 2, "d": 10, "ratio": 0.2}
    assert conv["qualified"]["bottleneck"] is False
    assert conv["negotiation"]["bottleneck"] is False  # nothing entered: no rate, no flag
    assert review(DEFAULT_STAGES, weekly, threshold=0.1)["conversion"][0]["bottleneck"] is False


def test_rate_labels_wide_and_narrow():
    """One label helper for the TUI ("12/40 · 30 %") and the terminal tables ("12/40 30%*")."""
    from funnel_tui.domain.funnel import rate_label

    assert rate_label(12, 40, 0.3, False) == "12/40 · 30 %"
    assert rate_label(3, 9, 1 / 3, True) == "3/9 · 33 % *"
    assert rate_label(12, 40, 0.3, False, narrow=True) == "12/40 30%"
    assert rate_label(3, 9, 1 / 3, True, narrow=True) == "3/9 33%*"
    assert rate_label(0, 0, None, True, narrow=True) == "—"  # nothing stood behind it
    assert rate_label(0, 0, None, True) == "0/0 · — *"
    assert rate_label(None, None, None, False) == rate_label(None, None, None, False, narrow=True) == ""
