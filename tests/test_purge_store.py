"""The purge queue in the store, on a SQLite file and on a PostgreSQL server: the rule (the
clock, a touch restarting it, won/lost never), keep and remove, the bulk purge after a backup
and its one-step undo that gives back exactly what the rep saw; amount tiers in SQL and in
Python agree at the boundaries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from funnel_tui.domain.validation import FollowUpDraft
from funnel_tui.store import Store, StoreError
from funnel_tui.store.today import tier_expression
from funnel_tui.store.tables import D

pytestmark = pytest.mark.both_backends

WAN = "0000"  # 1万 = "1" + WAN yuan


@pytest.fixture
def cutoff(now):
    # conftest's now is Tuesday 2026-11-24 10:00 Shanghai: two months back is 2026-09-24 10:00.
    return now.replace(month=9)


def _add(store, customer, at, tz, **fields):
    return store.add_deal({"customer": customer, **fields}, now=at, tz=tz)


def test_the_rule_on_the_store(store, now, tz, cutoff):
    exact = _add(store, "Exactly two months", cutoff, tz, amount="100")
    young = _add(store, "A second younger", cutoff + timedelta(seconds=1), tz, amount="100")
    touched = _add(store, "Touched", cutoff - timedelta(days=30), tz, amount="100")
    store.log_touch(__import__("funnel_tui.domain.validation", fromlist=["TouchDraft"]).TouchDraft(
        touched, "call", "still keen"), now=cutoff + timedelta(days=1))
    moved = _add(store, "Moved", cutoff - timedelta(days=30), tz, amount="100")
    store.move_deal(moved, "qualified", now=cutoff + timedelta(days=1))
    edited = _add(store, "Edited only", cutoff - timedelta(days=30), tz, amount="100")
    store.update_deal(edited, {"title": "typo fixed"}, now=now - timedelta(days=1), tz=tz)
    store.add_follow_up(FollowUpDraft(edited, now + timedelta(days=3)), now=now - timedelta(days=1))
    lost = _add(store, "Lost", cutoff - timedelta(days=30), tz, amount="100")
    store.lose_deal(lost, "price", now=cutoff - timedelta(days=20))
    won = _add(store, "Won", cutoff - timedelta(days=30), tz, amount="100", stage="won")
    big = _add(store, "Big", cutoff - timedelta(days=30), tz, amount="1" + "000" + WAN)  # 1000万
    store.set_setting("tiering", "amount")
    ids = [c.deal_id for c in store.purge_candidates(now=now, tz=tz)]
    # Quietest first: the two created 30 days before the cut-off, then the one exactly at it.
    assert ids == [edited, exact]
    assert young not in ids and touched not in ids and moved not in ids
    assert lost not in ids and won not in ids and big not in ids
    assert store.purge_count(now=now, tz=tz) == 2
    # One fen below 1000万 is 维持: a candidate.
    store.update_deal(big, {"amount": "9999999.99"}, now=now - timedelta(days=1), tz=tz)
    assert big in [c.deal_id for c in store.purge_candidates(now=now, tz=tz)]


def test_a_currency_without_a_rate_has_no_tier_and_is_never_purged(store, now, tz, cutoff):
    usd = _add(store, "Dollar deal", cutoff - timedelta(days=10), tz, amount="100", currency="USD")
    store.set_setting("tiering", "amount")
    assert store.tiers()[usd] is None
    assert store.purge_candidates(now=now, tz=tz) == []
    from decimal import Decimal

    store.set_rate("USD", Decimal("7.1"))
    assert store.tiers()[usd] == "maintain"
    assert [c.deal_id for c in store.purge_candidates(now=now, tz=tz)] == [usd]
    # 8000万 / 7.1 = 11,267,605.64 USD is key; one cent less is major (exact, no float).
    store.update_deal(usd, {"amount": "11267605.64"}, now=now, tz=tz)
    assert store.tiers()[usd] == "key"
    store.update_deal(usd, {"amount": "11267605.63"}, now=now, tz=tz)
    assert store.tiers()[usd] == "major"


def test_amount_tiers_in_sql_match_python_at_the_boundaries(store, now, tz):
    from sqlalchemy import select

    amounts = ["80000000", "79999999.99", "20000000", "19999999.99", "10000000", "9999999.99", "0"]
    ids = [_add(store, f"D{i}", now, tz, amount=a) for i, a in enumerate(amounts)]
    store.set_setting("tiering", "amount")
    scheme = store.tier_cutoffs()
    with store.read() as conn:
        in_sql = dict(conn.execute(select(D.c.id, tier_expression(scheme))).all())
    expected = ["key", "major", "major", "regular", "regular", "maintain", "maintain"]
    assert [in_sql[i] for i in ids] == expected
    assert [store.tiers()[i] for i in ids] == expected


def test_tiering_sets_the_silence_cadence(store, now, tz):
    # Silent 2 days, no follow-up ahead: 关键 (daily) is silent, 重点 (every 3 days) is not.
    key = _add(store, "Key deal", now - timedelta(days=2), tz, amount="80000000")
    major = _add(store, "Major deal", now - timedelta(days=2), tz, amount="20000000")
    store.set_setting("tiering", "amount")
    silent = {w.deal_id: w.limit for w in store.warnings(now=now) if w.kind == "silent"}
    assert silent == {key: 1}
    four = now + timedelta(days=2)  # four days quiet: 重点's three days are past
    silent = {w.deal_id: w.limit for w in store.warnings(now=four) if w.kind == "silent"}
    assert silent == {key: 1, major: 3}
    assert store.warning_counts(now=four)["silent"] == 2


def test_under_abc_the_candidates_are_c(store, now, tz, cutoff):
    # Weighted (lead, 10 %): 1,000,000 and 100 ×2 — the big one is A (80 %), the small ones C.
    big = _add(store, "Big", cutoff - timedelta(days=5), tz, amount="10000000")
    small = [_add(store, f"Small {i}", cutoff - timedelta(days=5 - i), tz, amount="1000") for i in range(2)]
    assert store.tiers() == {big: "A", small[0]: "C", small[1]: "C"}
    assert [c.deal_id for c in store.purge_candidates(now=now, tz=tz)] == small
    assert {c.tier for c in store.purge_candidates(now=now, tz=tz)} == {"C"}


def test_keep_restarts_the_clock_and_undo_restores_it(store, now, tz, cutoff):
    store.set_setting("tiering", "amount")
    d = _add(store, "Quiet", cutoff - timedelta(days=5), tz, amount="100")
    store.purge_keep(d, "budget returns in Q1", now=now, tz=tz)
    assert store.purge_candidates(now=now, tz=tz) == []
    assert store.deal_touches(d)[0]["note"] == "budget returns in Q1"
    res = store.undo(now=now)
    assert res["what"] == "log"
    assert [c.deal_id for c in store.purge_candidates(now=now, tz=tz)] == [d]
    with pytest.raises(Exception, match="required"):
        store.purge_keep(d, "  ", now=now, tz=tz)


def test_remove_one_is_lost_purged_with_the_note(store, now, tz, cutoff):
    store.set_setting("tiering", "amount")
    d = _add(store, "Quiet", cutoff - timedelta(days=5), tz, amount="100")
    other = _add(store, "Fresh", now - timedelta(days=1), tz, amount="100")
    deal = store.purge_remove(d, "no budget this year", now=now, tz=tz)
    assert (deal["status"], deal["lost_reason"]) == ("lost", "purged: no budget this year")
    with pytest.raises(StoreError, match="not in the purge queue"):
        store.purge_remove(other, "oops", now=now, tz=tz)
    with pytest.raises(StoreError, match="not in the purge queue"):
        store.purge_keep(d, "too late", now=now, tz=tz)  # lost now
    assert store.get_deal(other)["status"] == "open"


def _seen(store, now, tz):
    """What the rep sees: every deal's columns, open follow-ups, the queue, warnings, summary."""
    deals = sorted(store.list_deals(status=None), key=lambda d: d["id"])
    fus = {d["id"]: store.deal_follow_ups(d["id"], open_only=True) for d in deals}
    queue = store.purge_candidates(now=now, tz=tz)
    summary = store.summary(now=now)
    for key in ("as_of",):
        summary.pop(key, None)
    return deals, fus, queue, store.warnings(now=now), summary


def test_bulk_purge_backup_first_and_one_undo_restores_what_the_rep_saw(store, now, tz, cutoff, backend, db_path):
    store.set_setting("tiering", "amount")
    quiet = [_add(store, f"Quiet {i}", cutoff - timedelta(days=10 + i), tz, amount="100") for i in range(3)]
    store.add_follow_up(FollowUpDraft(quiet[0], cutoff - timedelta(days=2)), now=cutoff - timedelta(days=9))
    keep = _add(store, "Busy", now - timedelta(days=3), tz, amount="100")
    before = _seen(store, now, tz)
    assert [c.deal_id for c in before[2]] == [quiet[2], quiet[1], quiet[0]]
    done = store.purge_all(now=now, tz=tz, note="spring clean")
    assert done["deal_ids"] == sorted(quiet)
    for d in quiet:
        deal = store.get_deal(d)
        assert (deal["status"], deal["lost_reason"]) == ("lost", "purged: spring clean")
    assert store.deal_follow_ups(quiet[0], open_only=True) == []  # closing closes its follow-up
    assert store.get_deal(keep)["status"] == "open"
    assert store.purge_candidates(now=now, tz=tz) == []
    # The backup was made before: it holds the three deals still open.
    assert done["backup"]
    if backend == "sqlite":
        old = Store(done["backup"], read_only=True)
        assert {d["id"] for d in old.list_deals(status="open")} == {*quiet, keep}
        old.close()
    else:
        from pathlib import Path

        assert Path(done["backup"]).stat().st_size > 0
    res = store.undo(now=now)  # one step takes the whole purge back
    assert res["what"] == "purge" and sorted(res["deal_ids"]) == sorted(quiet)
    from funnel_tui.domain.undo import undone_text

    assert undone_text(res) == "the purge of 3 deals"
    after = _seen(store, now, tz)
    strip = lambda deals: [{k: v for k, v in d.items() if k not in ("version", "updated_at")} for d in deals]  # noqa: E731
    assert strip(after[0]) == strip(before[0])
    assert [[(f["id"], f["due_at"]) for f in fs] for fs in after[1].values()] == \
        [[(f["id"], f["due_at"]) for f in fs] for fs in before[1].values()]
    assert after[2:] == before[2:]
    assert store.undo(now=now)["what"] != "purge"  # the next undo is an older action


def test_an_empty_queue_takes_no_backup(store, now, tz):
    _add(store, "Fresh", now - timedelta(days=1), tz, amount="100")
    assert store.purge_all(now=now, tz=tz) == {"deal_ids": [], "backup": None}


@pytest.mark.sqlite_only
def test_the_queue_is_read_along_ix_deal_quiet(store, now, tz):
    """Today reads the first 201 rows of the queue: found and ordered by the index of "Silent"
    (no full scan, no sort of every quiet deal), for either tiering."""
    from funnel_tui.store import purge

    _add(store, "Big", now, tz, amount="10000000")
    cut = store.purge_cutoff(now=now, tz=tz)
    for tiering in ("abc", "amount"):
        store.set_setting("tiering", tiering)
        scheme = store.tier_cutoffs()
        with store.read() as conn:
            q = purge.candidates_query(scheme, cut).limit(201)
            sql = str(q.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            plan = " | ".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
        assert "USING INDEX ix_deal_quiet" in plan and "TEMP B-TREE" not in plan, plan
