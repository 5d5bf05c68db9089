"""Issue 17 (the 100k budget): the trend's and the forecast's faster reads give exactly what
the plain formulations give, on a varied book — three reps, two pipelines, moves forward and
back, wins and losses, touches, undone actions, deleted and restored deals, and a split, a
merge and an archived stage along the way. On SQLite and on PostgreSQL.

- trend: `store.trend.reads_for_trend` (the entries counted in the cohorts' scan, wins alone
  joined to their deal) against `flow` (its own entry query) and `cohorts`, and both against
  the plain-rows contract (domain.trend.flow_from_rows / cohorts_from_rows);
- forecast: the push lists found with `store.forecast.push_contenders` (the SQL bound) against
  reading ever more of the largest (no contenders) and against ranking every open deal.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from funnel_tui.domain import forecast as fc
from funnel_tui.domain import trend as dtrend
from funnel_tui.domain.validation import TouchDraft
from funnel_tui.models import Deal, History
from funnel_tui.store import forecast as sforecast
from funnel_tui.store import summary
from funnel_tui.store import trend as strend
from funnel_tui.store.tables import aware_row

pytestmark = [*globals().get("pytestmark", []), pytest.mark.both_backends]

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)
REPS = ("me", "you", "them")


def _open_keys(store, pipeline):
    return [s.key for s in store.stages(pipeline) if s.kind == "open" and not s.archived]


def _won_key(store, pipeline):
    return next(s.key for s in store.stages(pipeline) if s.kind == "won")


def _days(store, rng, deals, start: int, end: int, steps: int) -> None:
    """`steps` random things a rep does between day `start` and `end` (days before NOW)."""
    span = (end - start) * 24 * 60
    for minute in sorted(rng.sample(range(span), steps)):
        t = NOW + timedelta(days=start, minutes=minute)
        roll = rng.random()
        live = [d for d in deals if d["open"] and not d["deleted"]]
        if roll < 0.25 or not live:
            pipeline = "renewals" if rng.random() < 0.3 else None
            keys = _open_keys(store, pipeline)
            deal_id = store.add_deal({"customer": f"C{len(deals)}", "owner": rng.choice(REPS),
                                      "amount": str(rng.choice((rng.randint(1, 400) * 25, 4000))),
                                      "stage": rng.choice(keys[:3])}, now=t, pipeline=pipeline)
            deals.append({"id": deal_id, "pipeline": pipeline, "open": True, "deleted": False})
            continue
        d = rng.choice(live)
        keys = _open_keys(store, d["pipeline"])
        if roll < 0.6:
            stage = store.get_deal(d["id"])["stage"]
            here = keys.index(stage) if stage in keys else 0
            step = rng.choice((1, 1, 1, 2, -1))  # mostly forward, sometimes back
            target = keys[max(0, min(len(keys) - 1, here + step))]
            if target != stage:
                store.move_deal(d["id"], target, now=t)
        elif roll < 0.68:
            store.move_deal(d["id"], _won_key(store, d["pipeline"]), now=t)
            d["open"] = False
        elif roll < 0.76:
            store.lose_deal(d["id"], rng.choice(("price", "timing")), now=t)
            d["open"] = False
        elif roll < 0.88:
            store.log_touch(TouchDraft(d["id"], note="call"), now=t)
        elif roll < 0.93:
            store.delete_deal(d["id"], now=t)
            d["deleted"] = True
        else:
            done = store.undo(now=t)  # whatever was last: a move, a win, a delete, a touch
            if done:
                for x in deals:
                    if x["id"] in done["deal_ids"]:
                        row = store.get_deal(x["id"], include_deleted=True)
                        x["open"], x["deleted"] = row["status"] == "open", row["deleted_at"] is not None


def book_open_in(store, deals, stage):
    return [d["id"] for d in deals if not d["deleted"] and store.get_deal(d["id"])["stage"] == stage
            and store.get_deal(d["id"])["status"] == "open"]


@pytest.fixture
def book(store):
    rng = random.Random(17)
    store.add_pipeline("renewals", name="Renewals", name_zh="续费", now=NOW - timedelta(days=80),
                       parts=[("renew-due", "Due", "到期提醒"), ("renew-talk", "Talk", "续费沟通"),
                              ("renew-offer", "Offer", "续费报价"), ("renewed", "Renewed", "续费成功")])
    deals: list[dict] = []
    _days(store, rng, deals, -75, -40, 90)
    store.split_stage("negotiation", [("terms", "Terms", "条款谈判"), ("price", "Price", "价格确认")],
                      now=NOW - timedelta(days=39))
    _days(store, rng, deals, -38, -22, 60)
    store.merge_stage("renew-offer", "renew-talk", now=NOW - timedelta(days=21))
    _days(store, rng, deals, -20, -12, 40)
    for d in book_open_in(store, deals, "qualified"):  # an archive takes an empty stage
        store.move_deal(d, "demo", now=NOW - timedelta(days=11, hours=1))
    store.archive_stage("qualified", now=NOW - timedelta(days=11))
    _days(store, rng, deals, -10, -1, 40)
    # Big quiet deals and smaller fresh ones, one rep's, at the head of each pipeline: the fresh
    # ones score higher though they lie far down the list by amount (the push list must look
    # past the largest, and the SQL bound must keep them).
    for pipeline, stage in ((None, "lead"), ("renewals", "renew-due")):
        for i in range(12):
            store.add_deal({"customer": f"Big{i}", "owner": "me", "amount": str(50_000 - 1000 * i),
                            "stage": stage}, now=NOW - timedelta(days=200 + i), pipeline=pipeline)
        for i in range(4):
            store.add_deal({"customer": f"Fresh{i}", "owner": "me", "amount": "3500", "stage": stage},
                           now=NOW - timedelta(hours=3 + i), pipeline=pipeline)
    return deals


def _rows(store):
    with store.read() as conn:
        deals = [aware_row(dict(r)) for r in conn.execute(select(Deal.__table__)).mappings()]
        history = [aware_row(dict(r)) for r in conn.execute(select(History.__table__)).mappings()]
    return deals, history


def test_the_book_is_varied(store, book):
    _deals, history = _rows(store)
    kinds = {h["kind"] for h in history}
    assert {"created", "stage", "won", "lost", "touch", "deleted"} <= kinds
    assert any(not d["open"] for d in book) and any(d["deleted"] for d in book)
    assert any(d["pipeline"] == "renewals" for d in book)
    assert {d["owner"] for d in _deals} == set(REPS)
    with store.read() as conn:  # something was undone
        assert conn.exec_driver_sql("SELECT count(*) FROM undo").scalar() > 0


@pytest.mark.parametrize("pipeline", [None, "renewals"])
def test_trend_reads_match_the_separate_queries_and_the_plain_contract(store, book, pipeline):
    deal_rows, history = _rows(store)
    stages = store.pipeline_stages(pipeline)
    keys = store.stage_keys(store.pipeline(pipeline).key)
    seen = 0
    for owner in (None, "me"):
        chosen = summary.DealSet(owner=owner, stages=keys)
        plain = [d for d in deal_rows if (owner is None or d["owner"] == owner)
                 and (keys is None or d["stage"] in keys)]
        for by, moment in (("week", NOW), ("month", NOW), ("week", NOW - timedelta(days=16))):
            wins = dtrend.windows(moment, TZ, weeks=11, by=by)
            with store.read() as conn:
                flow, cohorts = strend.reads_for_trend(conn, stages, wins, now=moment, deals=chosen)
                assert flow == strend.flow(conn, stages, wins, now=moment, deals=chosen)
                assert cohorts == strend.cohorts(conn, stages, wins, now=moment, deals=chosen)
            want = dtrend.flow_from_rows(stages, plain, history, wins, now=moment)
            assert {k: v for k, v in flow.items() if k != "cycle_days"} == \
                   {k: v for k, v in want.items() if k != "cycle_days"}
            assert flow["cycle_days"] == pytest.approx(want["cycle_days"], abs=1e-4)
            assert cohorts == dtrend.cohorts_from_rows(stages, plain, history, wins, now=moment)
            seen += sum(d for v in cohorts.values() for _n, d in v) + sum(flow["wins"]) + sum(flow["losses"])
    assert seen > 0  # the book gives real cohorts, wins and losses to compare


@pytest.mark.parametrize("pipeline", [None, "renewals"])
def test_push_lists_with_the_sql_bound_rank_as_every_deal_would(store, book, pipeline):
    """A first read of one deal (then four) sends every stage with more to the SQL bound
    (push_contenders): its list is the one reading ever more of the largest finds, and the one
    ranking all; some pushed deals lie past the reads of the largest, found by the bound."""
    stages = store.stage_set(pipeline)
    chosen = store._pipeline_set(summary.DealSet(), pipeline)
    checked, asked, beyond = 0, [], 0
    for owner in (None, "me"):
        deals = summary.DealSet(owner=owner, stages=chosen.stages)
        with store.read() as conn:
            per = sforecast.facts_by_owner_status(conn, stages, deals, NOW)
            conversions: dict = {}  # three to push per stage (none known)
            counts = sforecast.open_counts(conn, deals)

            def biggest(stage, limit, conn=conn, deals=deals):
                return sforecast.biggest_open(conn, deals, stage, limit)

            def contenders(stage, best, floor, conn=conn, deals=deals):
                asked.append(stage)
                return sforecast.push_contenders(conn, deals, stage, best, floor, NOW)

            with_bound = fc.push_lists(stages, per, conversions, counts, biggest, now=NOW,
                                       contenders=contenders, first_read=1)
            growing = fc.push_lists(stages, per, conversions, counts, biggest, now=NOW, first_read=1)
            p = fc.probabilities(stages, per)
            for s in stages:
                if s.key not in with_bound:
                    continue
                every = sforecast.biggest_open(conn, deals, s.key, 10**6)
                prior = fc.historical_probability(fc.Record(0, 0), s.probability)
                n = fc.push_count(counts[s.key], None)
                ranked = fc.push_first(every, {d["owner"]: p.get((d["owner"], s.key), prior) for d in every},
                                       now=NOW, n=n)
                assert with_bound[s.key] == growing[s.key] == ranked
                by_amount = [d["id"] for d in every]
                beyond += sum(by_amount.index(r["deal_id"]) >= 4 for r in ranked)
                checked += 1
    assert checked and asked and beyond  # the bound was asked, and what it found was pushed

