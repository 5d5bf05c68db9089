"""Issue 17: KPIs per stage — median days in the stage and the sales cycle split by stage —
computed by hand, and the SQL (store/kpis.py) against the plain-rows contract (domain/kpis.py)
on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from funnel_tui.domain.kpis import median_days, stays_from_rows
from funnel_tui.models import Deal, History
from funnel_tui.store import kpis
from funnel_tui.store.tables import aware_row

pytestmark = [*globals().get("pytestmark", []), pytest.mark.both_backends]

UTC = timezone.utc
T0 = datetime(2026, 10, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=20)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def test_median_of_whole_hours():
    assert median_days({}) is None
    assert median_days({48: 1, 240: 1}) == 6.0  # (2 d + 10 d) / 2
    assert median_days({24: 2, 240: 1}) == 1.0
    assert median_days({1: 1}) == pytest.approx(1 / 24)


@pytest.fixture
def pipeline(store):
    """A lead (0) → qualified (2) → demo (5) → qualified (6, back); B created in demo, lost;
    C lead (1) → won (11); D lead (0) → qualified (1) → demo (3) → negotiation (4) → won (8);
    E lead (2) → demo (4), undone."""
    a = store.add_deal({"customer": "A", "amount": "1000"}, now=day(0))
    store.move_deal(a, "qualified", now=day(2))
    store.move_deal(a, "demo", now=day(5))
    store.move_deal(a, "qualified", now=day(6))
    b = store.add_deal({"customer": "B", "amount": "500", "stage": "demo"}, now=day(1))
    store.lose_deal(b, "price", now=day(3))
    c = store.add_deal({"customer": "C", "amount": "200"}, now=day(1))
    store.move_deal(c, "won", now=day(11))
    d = store.add_deal({"customer": "D", "amount": "800"}, now=day(0))
    for n, to in ((1, "qualified"), (3, "demo"), (4, "negotiation"), (8, "won")):
        store.move_deal(d, to, now=day(n))
    e = store.add_deal({"customer": "E", "amount": "300"}, now=day(2))
    store.move_deal(e, "demo", now=day(4))
    store.undo(now=day(4.5))


def test_hand_computed_kpis(store, pipeline):
    k = store.stage_kpis()
    # Completed stays in Lead: A 2 d, C 10 d, D 1 d (E's undone move is none): median 2 d.
    assert k["lead"]["median_days_in_stage"] == 2.0
    assert k["qualified"]["median_days_in_stage"] == 2.5  # A 3 d, D 2 d
    assert k["demo"]["median_days_in_stage"] == 1.0  # A 1 d, D 1 d; B's loss ends no stay
    assert k["won"]["median_days_in_stage"] is None
    # The cycle split over the two won deals (C, D): Lead (10 + 1) / 2, Qualified 2 / 2,
    # Demo 1 / 2, Negotiation 4 / 2 — adding up to the mean cycle (10 + 8) / 2 = 9 days.
    split = [k[s]["cycle_days_in_stage"] for s in ("lead", "qualified", "demo", "negotiation")]
    assert split == pytest.approx([5.5, 1.0, 0.5, 2.0])
    assert sum(split) == pytest.approx(9.0) == store.summary(now=NOW)["avg_cycle_days"]
    assert k["won"]["cycle_days_in_stage"] is None


def test_sql_matches_the_plain_contract(store):
    from funnel_tui.exchange.demo import fill_demo

    fill_demo(store, deals=80, seed=3, now=NOW)
    d = store.add_deal({"customer": "Undone", "amount": "10"}, now=NOW - timedelta(days=3))
    store.move_deal(d, "demo", now=NOW - timedelta(days=2))
    store.undo(now=NOW - timedelta(days=1))
    with store.read() as conn:
        deals = [aware_row(dict(r)) for r in conn.execute(select(Deal.__table__)).mappings()]
        history = [aware_row(dict(r)) for r in conn.execute(select(History.__table__)).mappings()]
        got = kpis.stay_facts(conn, store.pipeline_stages())
    want = stays_from_rows(store.pipeline_stages(), deals, history)
    assert got.hours == want.hours and sum(sum(v.values()) for v in got.hours.values()) > 0
    assert got.won_days.keys() == want.won_days.keys()
    for stage, days in want.won_days.items():
        assert got.won_days[stage] == pytest.approx(days, abs=1e-4)


def test_cli_summary_shows_them(db_path, store, pipeline, capsys):
    from funnel_tui.cli import main

    assert main(["--db", str(db_path), "summary", "--format", "json"]) == 0
    assert "median_days_in_stage" not in json.loads(capsys.readouterr().out)["stages"][0]
    assert main(["--db", str(db_path), "summary", "--kpis", "--format", "json"]) == 0
    lead = json.loads(capsys.readouterr().out)["stages"][0]
    assert (lead["median_days_in_stage"], lead["cycle_days_in_stage"], lead["avg_deal_size"]) == (2.0, 5.5, 560.0)
    assert main(["--db", str(db_path), "summary", "--kpis", "--as-of", "2026-10-10"]) == 1
    assert "kpis" in capsys.readouterr().err
    assert main(["--db", str(db_path), "summary", "--kpis", "--by-owner", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["stages"][0]["median_days_in_stage"] == 2.0
