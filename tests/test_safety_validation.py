"""Issue 5 item 7: validation at the edges. Bad values are refused with a message naming
the field and the database is unchanged (a full dump before and after); the database's own
CHECK constraints (and foreign key) refuse the same values when the ORM is bypassed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from helpers_procs import NOW, run_cli_many

BAD_INPUT = [  # (argv after the db, the message's start)
    (["add", "X", "--probability=101"], "probability: 101 is out of range"),
    (["add", "X", "--probability=-1"], "probability: -1 is out of range"),
    (["add", "X", "--probability=abc"], "probability: 'abc' is not a whole number"),
    (["add", "X", "--amount=-5"], "amount: -5 is negative"),
    (["add", "X", "--amount=abc"], "amount: 'abc' is not an amount"),
    (["add", "X", "--amount=1e400"], "amount: 1e400 is too large"),
    (["add", "X", "--close=2026-02-30"], "expected_close: '2026-02-30' is not a date"),
    (["add", "X", "--close=2026-13-01"], "expected_close: '2026-13-01' is not a date"),
    (["add", "X", "--stage=nosuch"], "stage: unknown stage 'nosuch'"),
    (["add", "X", "--lead-score=11"], "lead_score: 11 is out of range"),
    (["add", "X", "--currency=US$"], "currency: 'US$' is not a currency code"),
    (["add", "X", "--title=" + "t" * 201], "title: is 201 characters long; at most 200"),
    (["add", "c" * 201], "customer: is 201 characters long; at most 200"),
    (["edit", "1", "--probability=101"], "probability: 101 is out of range"),
    (["edit", "1", "--amount=-1"], "amount: -1 is negative"),
    (["edit", "1", "--close=2026-02-29"], "expected_close: '2026-02-29' is not a date"),  # 2026: no leap day
    (["edit", "1", "--notes=" + "n" * 4001], "notes: is 4001 characters long; at most 4000"),
    (["move", "1", "nosuch"], "stage: unknown stage 'nosuch'"),
    (["follow-up", "1", "2026-02-30 10:00"], "when: '2026-02-30 10:00' is not a date or time"),
    (["snooze", "1", "2026-13-01"], "when: '2026-13-01' is not a date or time"),
]


def dump(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def test_bad_values_are_refused_by_field_and_the_database_is_unchanged(tmp_path):
    db = tmp_path / "funnel.db"
    b = ["--db", str(db)]
    setup = run_cli_many([[*b, "add", "Acme", "--follow-up=tomorrow 10:00"]], tmp_path,
                         env={"FUNNEL_NOW": NOW.isoformat()})
    assert setup[0]["code"] == 0, setup[0]["err"]
    before = dump(db)
    results = run_cli_many([[*b, *argv] for argv, _ in BAD_INPUT], tmp_path,
                           env={"FUNNEL_NOW": NOW.isoformat()}, jobs=2)
    for r, (argv, message) in zip(results, BAD_INPUT):
        err = r["err"].decode()
        assert r["code"] == 1, (argv[:3], err)
        assert err.startswith(f"funnel: {message}"), (argv[:3], err)
        assert err.count("\n") == 1 and r["out"] == b""  # one line, nothing else
    assert dump(db) == before


@pytest.fixture
def raw(tmp_path):
    """A plain sqlite3 connection to a store-made database: the ORM and validation bypassed."""
    from funnel_tui.store import Store

    db = tmp_path / "funnel.db"
    store = Store(db)
    store.add_deal({"customer": "Acme", "amount": "10"}, now=NOW)
    store.close()
    con = sqlite3.connect(db)
    con.execute("PRAGMA foreign_keys = ON")  # as every connection the engine makes
    yield con
    con.close()


GOOD = {"uid": "u-1", "customer": "ok", "stage": "lead", "status": "open", "amount": 0, "currency": "CNY",
        "probability": 10, "probability_custom": 0, "created_at": "2026-11-24 02:00:00.000000",
        "updated_at": "2026-11-24 02:00:00.000000", "stage_entered_at": "2026-11-24 02:00:00.000000",
        "version": 1}


def insert(con, **changes):
    from funnel_tui.models import Deal

    blanks = {c.name: "" for c in Deal.__table__.columns  # text columns the ORM fills with ""
              if c.default is not None and c.default.arg == "" and c.name != "external_id"}
    row = {**blanks, **GOOD, **changes}
    cols = ", ".join(row)
    con.execute(f"INSERT INTO deal ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values()))


@pytest.mark.parametrize(("column", "value", "constraint"), [
    ("probability", 250, "ck_deal_probability"),
    ("probability", -1, "ck_deal_probability"),
    ("probability", "abc", "ck_deal_probability"),
    ("probability", 12.5, "ck_deal_whole_numbers"),
    ("amount", -5, "ck_deal_amount"),
    ("amount", "abc", "ck_deal_whole_numbers"),
    ("amount", 12.5, "ck_deal_whole_numbers"),
    ("expected_close", "2026-02-30", "ck_deal_expected_close"),
    ("expected_close", "2026-13-01", "ck_deal_expected_close"),
    ("expected_close", "next week", "ck_deal_expected_close"),
    ("customer", "", "ck_deal_customer"),
    ("customer", "c" * 201, "ck_deal_customer"),
    ("status", "maybe", "ck_deal_status"),
    ("currency", "RMB¥", "ck_deal_currency"),
    ("lead_score", 11, "ck_deal_lead_score"),
    ("risk_level", "extreme", "ck_deal_risk_level"),
    ("stage", "nosuch", "FOREIGN KEY"),
])
def test_the_database_refuses_the_same_values_without_the_orm(raw, column, value, constraint):
    with pytest.raises(sqlite3.IntegrityError, match=constraint):
        insert(raw, **{column: value})
    with pytest.raises(sqlite3.IntegrityError, match=constraint):
        raw.execute(f"UPDATE deal SET {column} = ? WHERE id = 1", (value,))
    assert raw.execute("SELECT count(*) FROM deal").fetchone()[0] == 1


def test_the_raw_baseline_row_is_accepted(raw):
    # The parametrized refusals above are not an artefact of a broken baseline row.
    insert(raw, uid="u-2", expected_close="2026-12-31", amount=1250000)
    assert raw.execute("SELECT count(*) FROM deal").fetchone()[0] == 2


def test_closed_and_lost_rules_hold_without_the_orm(raw):
    with pytest.raises(sqlite3.IntegrityError, match="ck_deal_closed_at"):
        raw.execute("UPDATE deal SET status = 'won' WHERE id = 1")
    with pytest.raises(sqlite3.IntegrityError, match="ck_deal_lost_reason"):
        raw.execute("UPDATE deal SET status = 'lost', closed_at = '2026-11-24 02:00:00' WHERE id = 1")
