"""The weighted value is spelled once in SQL (store.tables) and once in Python
(domain.money.weighted_minor): the two give the same number for every amount and
probability a deal can hold, rounding at .5 and at the largest amounts included, and every
reader of the store (board, tiers, summary, export) gets its figures from the SQL one."""

from __future__ import annotations

import random
import sqlite3

from sqlalchemy import select

from funnel_tui.domain.money import MAX_AMOUNT_MINOR, weighted_minor
from funnel_tui.store.tables import WEIGHTED, D, weighted_sql

# Products ending in 50 sit exactly on .5 and round up; 49 and 51 on either side of it.
AMOUNTS = [0, 1, 2, 3, 49, 50, 51, 99, 100, 101, 149, 150, 151, 333_33, 12_345_67,
           2**31 - 1, 2**31, 2**49 + 1, MAX_AMOUNT_MINOR - 1, MAX_AMOUNT_MINOR]
PROBABILITIES = [0, 1, 2, 10, 25, 33, 49, 50, 51, 67, 75, 99, 100]


def _cases() -> list[tuple[int, int]]:
    rng = random.Random(11)
    grid = [(a, p) for a in AMOUNTS for p in PROBABILITIES]
    return grid + [(rng.randrange(MAX_AMOUNT_MINOR + 1), rng.randrange(101)) for _ in range(2000)]


def test_the_python_rule_is_the_hand_computed_one():
    assert weighted_minor(1, 50) == 1 and weighted_minor(3, 50) == 2  # 0.5 and 1.5 round up
    assert weighted_minor(1, 49) == 0 and weighted_minor(99, 50) == 50  # 0.49; 49.5 up
    assert weighted_minor(MAX_AMOUNT_MINOR, 33) == 33 * 10**13  # exact at the largest amount
    assert weighted_minor(MAX_AMOUNT_MINOR - 1, 50) == 5 * 10**14  # 499999999999999.5 up


def test_sql_text_agrees_with_python_in_sqlite():
    cases = _cases()
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (amount INTEGER, probability INTEGER)")
    con.executemany("INSERT INTO t VALUES (?, ?)", cases)
    got = con.execute(f"SELECT amount, probability, {weighted_sql()}, typeof({weighted_sql()}) "
                      "FROM t ORDER BY rowid").fetchall()
    assert [(a, p) for a, p, _w, _t in got] == cases
    assert {t for *_rest, t in got} == {"integer"}  # never a float: products reach 10**17 > 2**53
    mismatches = [(a, p, w, weighted_minor(a, p)) for a, p, w, _t in got if w != weighted_minor(a, p)]
    assert not mismatches, mismatches[:5]


def test_the_column_expression_is_the_same_rule(store, now):
    """WEIGHTED (statements built with SQLAlchemy) over real deal rows."""
    cases = [(a, p) for a in AMOUNTS for p in PROBABILITIES[::3]]
    for a, p in cases:
        store.add_deal({"customer": f"{a}/{p}", "amount": f"{a // 100}.{a % 100:02d}", "probability": p}, now=now)
    with store.read() as conn:
        rows = conn.execute(select(D.c.amount, D.c.probability, WEIGHTED).order_by(D.c.id)).all()
    assert [(a, p) for a, p, _w in rows] == cases
    assert all(w == weighted_minor(a, p) for a, p, w in rows)


def test_every_reader_sums_the_same_weighted_values(store, now):
    deals = [("lead", 1, 50), ("lead", 3, 50), ("demo", 99, 33), ("demo", MAX_AMOUNT_MINOR - 1, 50),
             ("negotiation", 12_345_67, 67), ("negotiation", 150, 1)]
    for stage, amount, prob in deals:
        store.add_deal({"customer": "c", "stage": stage, "amount": f"{amount // 100}.{amount % 100:02d}",
                        "probability": prob}, now=now)
    expected: dict[str, int] = {}
    for stage, amount, prob in deals:
        expected[stage] = expected.get(stage, 0) + weighted_minor(amount, prob)
    totals = store.board_totals()
    assert {k: v["weighted"] for k, v in totals.items()} == expected
    s = store.summary(now=now)
    assert {st["key"]: st["weighted_amount"] for st in s["stages"] if st["key"] in expected} == expected
    assert s["weighted_pipeline"] == sum(expected.values())
    # The tiers rank the same values: the biggest deal alone is A.
    tiers = store.tiers()
    biggest = max(store.list_deals(), key=lambda d: weighted_minor(d["amount"], d["probability"]))
    assert tiers[biggest["id"]] == "A"
