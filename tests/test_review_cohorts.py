"""Issue 13: the weekly review's conversion is a cohort ratio (DESIGN §3), computed by hand.

Shanghai weeks; NOW is Tuesday 2026-11-24 10:00, so this week began Monday the 23rd, last
week ran 16th–23rd and the week before 9th–16th.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from funnel_tui.store import Store

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=TZ)


def conversion(r: dict, stage: str) -> dict:
    return next(c for c in r["conversion"] if c["stage"] == stage)


@pytest.fixture
def demo_week(store: Store) -> dict[str, int]:
    """The issue's `6/3 200 %`: six deals entered Negotiation last week, three of them
    having entered Demo the week before; last week's Demo entrants mostly stayed put."""
    ids: dict[str, int] = {}
    for i in range(6):  # P: created in demo the week before, all on to negotiation last week
        ids[f"p{i}"] = store.add_deal({"customer": f"P{i}", "stage": "demo"}, now=at(10))
        store.move_deal(ids[f"p{i}"], "negotiation", now=at(17))
    for name in ("q1", "q2", "q3"):  # Q: qualified the week before, into demo last week
        ids[name] = store.add_deal({"customer": name.upper(), "stage": "qualified"}, now=at(10))
        store.move_deal(ids[name], "demo", now=at(17))
    store.move_deal(ids["q1"], "negotiation", now=at(24, 9))  # on since: counts
    store.move_deal(ids["q2"], "negotiation", now=at(18))
    store.undo(now=at(18, 11))  # a mistake taken back: Q2 never moved on
    store.move_deal(ids["q3"], "qualified", now=at(19))  # a deliberate back-move…
    store.move_deal(ids["q3"], "demo", now=at(20))  # …and in again: one deal, entered twice
    ids["r"] = store.add_deal({"customer": "R", "stage": "demo"}, now=at(17))
    store.move_deal(ids["r"], "won", now=at(18))  # straight past negotiation: reached it
    return ids


def test_weekly_conversion_is_a_cohort_and_never_above_100_percent(store, demo_week):
    r = store.review(now=NOW, tz=TZ)
    demo = conversion(r, "demo")
    # Demo, last week: Q1, Q2, Q3 and R entered (Q3 twice, one deal); Q1 and R have reached
    # Negotiation or later since. The flow would say 7 entries into Negotiation / 5 into Demo.
    assert demo["last_week"] == {"n": 2, "d": 4, "ratio": 0.5}
    # The week before: P0–P5 were created in Demo and all six moved on.
    assert demo["week_before"] == {"n": 6, "d": 6, "ratio": 1.0}
    # Qualified, the week before: Q1–Q3 were created there; all three entered Demo since.
    assert conversion(r, "qualified")["week_before"] == {"n": 3, "d": 3, "ratio": 1.0}
    # Last week nothing entered Qualified forward (Q3's back-move is a move, not an entry).
    assert conversion(r, "qualified")["last_week"] == {"n": 0, "d": 0, "ratio": None}
    # Negotiation, last week: P0–P5 entered; none has reached Won.
    assert conversion(r, "negotiation")["last_week"] == {"n": 0, "d": 6, "ratio": 0.0}
    # Won, last week: R entered (a move forward); nothing reached Repurchase.
    assert conversion(r, "won")["last_week"] == {"n": 0, "d": 1, "ratio": 0.0}
    assert all(c[w]["n"] <= c[w]["d"] for c in r["conversion"] for w in ("this_week", "last_week", "week_before"))


def test_as_of_counts_only_what_had_happened_then(store, demo_week):
    # Monday the 23rd 08:00: Q1's move (the 24th) had not happened yet.
    r = store.review(now=at(23, 8), tz=TZ)
    assert conversion(r, "demo")["last_week"] == {"n": 1, "d": 4, "ratio": 0.25}
    # The 18th 10:30, between Q2's move and its undo: the move stood then.
    r = store.review(now=at(18, 10) + timedelta(minutes=30), tz=TZ)
    assert conversion(r, "demo")["this_week"] == {"n": 2, "d": 4, "ratio": 0.5}  # Q2 and R


def test_bottleneck_needs_two_low_cohorts_in_a_row(store):
    # Lead: ten deals each week; 2 of the week before's and 2 of last week's qualify (20 %).
    for day, moved in ((10, 2), (17, 2)):
        ids = [store.add_deal({"customer": f"L{day}-{i}"}, now=at(day)) for i in range(10)]
        for deal_id in ids[:moved]:
            store.move_deal(deal_id, "qualified", now=at(day + 1))
    r = store.review(now=NOW, tz=TZ)
    lead = conversion(r, "lead")
    assert (lead["last_week"]["ratio"], lead["week_before"]["ratio"], lead["bottleneck"]) == (0.2, 0.2, True)
    # One more of the week before's leads qualifies today: 3/10, no longer below 30 %.
    late = next(d["id"] for d in store.list_deals(stage="lead") if d["customer"] == "L10-5")
    store.move_deal(late, "qualified", now=at(24, 9))
    lead = conversion(store.review(now=NOW, tz=TZ), "lead")
    assert lead["week_before"] == {"n": 3, "d": 10, "ratio": 0.3} and lead["bottleneck"] is False


def test_cli_review_json_and_table_say_cohort(funnel, db_path, demo_week):
    code, out, err = funnel("review", "--format", "json")
    assert code == 0, err
    demo = conversion(json.loads(out), "demo")
    assert demo["last_week"] == {"n": 2, "d": 4, "ratio": 0.5}
    code, out, _ = funnel("review")
    assert "2/4" in out and "have reached the next stage since" in out


def test_the_cohort_query_follows_each_entrant_by_index(store, demo_week):
    from sqlalchemy import text

    from funnel_tui.store import review

    seen: list = []
    with store.read() as conn:
        real = conn.execute
        conn.execute = lambda stmt, params=None, *a, **k: seen.append((stmt, params)) or real(stmt, params, *a, **k)
        review.weekly_cohorts(conn, store.stages(), now=NOW, tz=TZ)
        conn.execute = real
        stmt, params = max(seen, key=lambda s: len(str(s[0])))
        plan = " | ".join(r[3] for r in conn.execute(text("EXPLAIN QUERY PLAN " + str(stmt)), params))
    assert "SEARCH h USING INDEX ix_history_stage_at" in plan  # the week's entries, by kind and time
    assert "SEARCH x USING INDEX ix_history_path" in plan  # each entrant's later entries
    assert "SEARCH y USING INDEX ix_history_path (deal_id=? AND to_stage=?)" in plan  # an earlier entry?
    assert "SCAN y" not in plan and plan.count("USE TEMP B-TREE") == 1  # one GROUP BY, no sort of entrants
    assert "SCAN h" not in plan and "SCAN x" not in plan
