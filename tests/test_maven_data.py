"""Real data: the Maven Analytics CRM pipeline (8,800 opportunities, 30 agents).

The file is converted into the documented CSV columns (Prospecting → lead, Engaging →
qualified, Won → won, Lost → lost from qualified; close_value in USD; engage/close dates as
times), loaded, and the per-rep numbers of `summary` are compared with a plain-Python count
straight from the source file.
"""

from __future__ import annotations

import csv
import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, time, timezone
from pathlib import Path

import pytest

from funnel_tui.store import Store
from funnel_tui.store.summary import DealSet

UTC = timezone.utc
SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "maven-crm" / "sales_pipeline.csv"
NOW = datetime(2018, 1, 2, tzinfo=UTC)
STAGE = {"Prospecting": "lead", "Engaging": "qualified", "Won": "won", "Lost": "qualified"}
STATUS = {"Prospecting": "open", "Engaging": "open", "Won": "won", "Lost": "lost"}
PROBABILITY = {"lead": 10, "qualified": 25, "won": 100}
# Prospecting rows carry no date at all: they count as created when the data set ends.
UNDATED = date(2017, 12, 31)

pytestmark = pytest.mark.skipif(not SOURCE.exists(), reason="maven-crm data set not present")


def source_rows() -> list[dict]:
    with SOURCE.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, strict=True))


def at(text: str) -> datetime:
    return datetime.combine(date.fromisoformat(text) if text else UNDATED, time(0), tzinfo=UTC)


def convert(row: dict) -> dict:
    """One Maven opportunity as a deal in the documented CSV columns."""
    stage, status = STAGE[row["deal_stage"]], STATUS[row["deal_stage"]]
    created = at(row["engage_date"])
    closed = at(row["close_date"]) if row["close_date"] else None
    return {
        "external_id": row["opportunity_id"],
        "customer": row["account"] or f"(no account) {row['opportunity_id']}",
        "title": row["product"],
        "owner": row["sales_agent"],
        "source": "maven",
        "stage": stage,
        "status": status,
        "amount": row["close_value"] or "0",
        "currency": "USD",
        "probability": PROBABILITY[stage],
        "created_at": created,
        "stage_entered_at": closed if status == "won" else created,
        "closed_at": closed,
        "lost_reason": "not recorded" if status == "lost" else "",
    }


def bulk_load(store: Store, deals: list[dict]) -> None:
    """A direct bulk insert into deal + history, shaped like the importer's rows: one
    `imported` row entering the deal's stage, and a status row when it was closed."""
    from sqlalchemy import insert

    from funnel_tui.models import Deal, History

    D, H = Deal.__table__, History.__table__
    rows = []
    for i, d in enumerate(deals, start=1):
        rows.append({**d, "id": i, "uid": str(uuid.UUID(int=i)), "amount": int(round(float(d["amount"]) * 100)),
                     "probability_custom": False, "updated_at": NOW, "version": 1})
    history = []
    for r in rows:
        history.append({"deal_id": r["id"], "at": r["stage_entered_at"], "kind": "imported", "from_stage": None,
                        "to_stage": r["stage"], "field": None, "old": None, "new": None, "action": "maven"})
        if r["status"] != "open":
            history.append({"deal_id": r["id"], "at": r["closed_at"], "kind": r["status"], "from_stage": None,
                            "to_stage": None, "field": None, "old": "open", "new": r["status"], "action": "maven"})
    with store.write() as conn:
        conn.execute(insert(D), rows)
        conn.execute(insert(H), history)


def expected_by_rep(source: list[dict]) -> dict[str, dict]:
    """Plain Python over the source file: nothing from funnel-tui."""
    out: dict[str, dict] = defaultdict(lambda: {"won": 0, "lost": 0, "won_amount": 0, "deals": 0, "engaged": 0})
    for row in source:
        rep = out[row["sales_agent"]]
        rep["deals"] += 1
        stage = row["deal_stage"]
        if stage != "Prospecting":
            rep["engaged"] += 1
        if stage == "Won":
            rep["won"] += 1
            rep["won_amount"] += int(row["close_value"])
        elif stage == "Lost":
            rep["lost"] += 1
    return dict(out)


def check(reps: list[dict], source: list[dict]) -> None:
    expected = expected_by_rep(source)
    assert len(expected) == 30
    assert sorted(r["owner"] for r in reps) == sorted(expected)
    for s in reps:
        e = expected[s["owner"]]
        reached = {st["key"]: st["reached"] for st in s["stages"]}
        assert (s["won"], s["lost"]) == (e["won"], e["lost"]), s["owner"]
        assert s["win_rate"] == pytest.approx(e["won"] / (e["won"] + e["lost"]))
        assert s["won_amount"] == e["won_amount"] * 100  # minor units
        assert reached["lead"] == e["deals"]
        assert reached["qualified"] == e["engaged"]
        # Won deals went straight from Engaging to Won: they reached demo and negotiation too.
        assert reached["demo"] == reached["negotiation"] == reached["won"] == e["won"]
        assert reached["expansion"] == 0
        lead = next(st for st in s["stages"] if st["key"] == "lead")
        assert (lead["conversion_n"], lead["conversion_d"]) == (e["engaged"], e["deals"])


@pytest.fixture(scope="module")
def maven(tmp_path_factory):
    source = source_rows()
    store = Store(tmp_path_factory.mktemp("maven") / "t.db")
    bulk_load(store, [convert(r) for r in source])
    yield store, source
    store.close()


def test_source_is_what_the_readme_says():
    source = source_rows()
    assert len(source) == 8800
    assert Counter(r["deal_stage"] for r in source) == {"Won": 4238, "Lost": 2473, "Engaging": 1589,
                                                       "Prospecting": 500}


def test_per_rep_numbers_match_a_plain_count(maven):
    store, source = maven
    check(store.summary(now=NOW, by_owner=True), source)


def test_whole_team_and_one_rep(maven):
    store, source = maven
    everyone = store.summary(now=NOW)
    assert (everyone["won"], everyone["lost"]) == (4238, 2473)
    assert everyone["won_amount"] == sum(int(r["close_value"]) for r in source if r["deal_stage"] == "Won") * 100
    assert [st["reached"] for st in everyone["stages"]] == [8800, 8300, 4238, 4238, 4238, 0]
    # Won deals: created at engagement, closed at close → mean engage-to-close days.
    cycle = [(date.fromisoformat(r["close_date"]) - date.fromisoformat(r["engage_date"])).days
             for r in source if r["deal_stage"] == "Won"]
    assert everyone["avg_cycle_days"] == pytest.approx(sum(cycle) / len(cycle))
    one = store.summary(now=NOW, deals=DealSet(owner="Darcel Schlecht"))
    assert one["won"] == expected_by_rep(source)["Darcel Schlecht"]["won"]
    # Replaying to mid-2017 shows fewer wins than today, and never more deals than exist.
    mid = store.summary(now=NOW, as_of=datetime(2017, 6, 30, tzinfo=UTC))
    assert 0 < mid["won"] < everyone["won"] and mid["deals"] <= 8800


def test_through_funnel_import(tmp_path, monkeypatch):
    """The same file through the real `funnel import`, in the documented CSV columns."""
    pytest.importorskip("funnel_tui.exchange.importer")
    from funnel_tui.cli import main
    from funnel_tui.exchange.columns import CSV_COLUMNS

    source = source_rows()
    path = tmp_path / "maven.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(CSV_COLUMNS), extrasaction="ignore")
        writer.writeheader()
        for row in source:
            d = convert(row)
            writer.writerow({**d, **{k: d[k].date().isoformat() for k in ("created_at", "stage_entered_at",
                                                                            "closed_at") if d[k]}})
    db = tmp_path / "imported.db"
    monkeypatch.setenv("FUNNEL_NOW", NOW.isoformat())
    monkeypatch.setenv("TZ", "UTC")
    assert main(["--db", str(db), "import", str(path)]) == 0
    store = Store(db)
    try:
        check(store.summary(now=NOW, by_owner=True), source)
    finally:
        store.close()
