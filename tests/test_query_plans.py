"""The screen queries use their indexes (issue 6): checked with EXPLAIN QUERY PLAN on the
SQL the store really runs, captured from the engine, so a change in a query's shape that
loses its index fails here, not only in the benchmark.

SQLite plans without statistics (no ANALYZE) do not depend on the table sizes, so a small
temp database gives the plans the 1M-deal benchmark database gets.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from funnel_tui.domain.validation import FollowUpDraft

STAGES = ("lead", "qualified", "demo", "negotiation")


@pytest.fixture
def pipeline(store, now, tz):
    """A few deals per stage: with and without follow-ups, won, lost and deleted ones."""
    ids = []
    for n in range(24):
        stage = STAGES[n % 4]
        deal_id = store.add_deal({"customer": f"Customer {n}", "amount": str(1000 + n * 10),
                                  "stage": stage, "owner": "me" if n % 3 else "other",
                                  "source": "web" if n % 2 else "referral"},
                                 now=now - timedelta(days=40 - n), tz=tz)
        ids.append(deal_id)
        if n % 3 == 0:
            store.add_follow_up(FollowUpDraft(deal_id, now + timedelta(hours=n - 8)), now=now)
    store.move_deal(ids[0], "qualified", now=now - timedelta(days=5))
    store.move_deal(ids[1], "demo", now=now - timedelta(days=4))
    store.move_deal(ids[1], "qualified", now=now - timedelta(days=3))  # a back-move
    store.move_deal(ids[3], "won", now=now - timedelta(days=2))
    store.lose_deal(ids[2], "price", now=now - timedelta(days=1))
    store.delete_deal(ids[5], now=now)
    return ids


@contextmanager
def captured(store):
    """Every SELECT the store sends to SQLite, with its parameters, while the block runs."""
    seen: list[tuple[str, object]] = []

    def before(_conn, _cursor, statement, parameters, _context, _executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", before)


def plan(store, statement: str, parameters) -> list[str]:
    with store.engine.connect() as conn:
        raw = conn.connection.driver_connection
        return [row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters)]


def plans(store, seen) -> list[tuple[str, list[str]]]:
    assert seen, "the store ran no SELECT at all"
    return [(" ".join(sql.split()), plan(store, sql, params)) for sql, params in seen]


def table_scans(lines: list[str]) -> list[str]:
    """Full scans of a table's rows (not of an index), outside the tiny stage/setting tables
    and the query's own materialized subqueries (already narrowed by their own plans)."""
    derived = {ln.split()[1] for ln in lines if ln.startswith(("MATERIALIZE ", "CO-ROUTINE "))}
    return [ln for ln in lines if re.fullmatch(r"SCAN \w+", ln)
            and ln.split()[1] not in {"stage", "setting", *derived}]


def test_board_column_reads_the_top_cards_by_seeking_ix_deal_board(store, pipeline):
    with captured(store) as seen:
        rows = store.board_column("lead", limit=50)
    assert [r["stage"] for r in rows] == ["lead"] * len(rows) and len(rows) == 5
    assert rows[0]["next_follow_up_at"] is not None and rows[-1]["next_follow_up_at"] is None
    queries = plans(store, seen)
    assert len(queries) == 2  # dated cards, then undated ones
    for sql, lines in queries:
        assert any(ln.startswith("SEARCH deal USING INDEX ix_deal_board (stage=?") for ln in lines), (sql, lines)
        # Index order is the card order: no sort of the whole stage before the LIMIT.
        assert not [ln for ln in lines if "TEMP B-TREE" in ln], (sql, lines)
        assert not table_scans(lines), (sql, lines)


def test_board_column_paging_counts_with_an_index(store, pipeline):
    with captured(store) as seen:
        page = store.board_column("lead", limit=2, offset=2)
    assert len(page) == 2
    for sql, lines in plans(store, seen):
        assert all(ln.startswith("SEARCH deal USING") for ln in lines if " deal" in ln), (sql, lines)
        assert not table_scans(lines), (sql, lines)


def test_board_totals_scan_only_the_covering_partial_index(store, pipeline):
    with captured(store) as seen:
        totals = store.board_totals()
    assert totals["lead"]["count"] == 5 and sum(t["count"] for t in totals.values()) == 21
    ((sql, lines),) = plans(store, seen)
    assert lines == ["SCAN deal USING INDEX ix_deal_stage_money"], (sql, lines)


def test_due_walks_the_open_follow_up_index_and_joins_by_key(store, pipeline, now):
    with captured(store) as seen:
        items = store.due(now=now, within="24h")
    assert items and all(i.due_at < now + timedelta(hours=24) for i in items)
    ((sql, lines),) = plans(store, seen)
    assert lines[0] == "SEARCH followup USING INDEX ix_followup_open_due (due_at<?)", (sql, lines)
    assert "SEARCH deal USING INTEGER PRIMARY KEY (rowid=?)" in lines, (sql, lines)
    assert not [ln for ln in lines if "TEMP B-TREE" in ln], (sql, lines)


def test_due_overview_counts_and_pages_on_the_same_index(store, pipeline, now):
    everything = store.due(now=now, within="3d")
    with captured(store) as seen:
        items, counts = store.due_overview(now=now, within="3d", limit=2)
    assert items == everything[:2]
    assert counts == {b: sum(1 for i in everything if i.bucket == b) for b in ("overdue", "24h", "3d", "later")}
    assert counts["overdue"] > 0 and counts["24h"] > 0
    queries = plans(store, seen)
    assert len(queries) == 2  # one page of rows, one row of counts
    for sql, lines in queries:
        assert lines[0] == "SEARCH followup USING INDEX ix_followup_open_due (due_at<?)", (sql, lines)
        assert not table_scans(lines), (sql, lines)


def test_summary_queries_never_scan_deal_or_history_rows(store, pipeline, now):
    with captured(store) as seen:
        result = store.summary(now=now)
    assert result["won"] == 1 and result["lost"] == 1
    queries = plans(store, seen)
    assert len(queries) >= 3
    for sql, lines in queries:
        assert not table_scans(lines), (sql, lines)
    # The per-deal groups come from the covering summary index, history from its own.
    used = " ".join(" ".join(lines) for _sql, lines in queries)
    assert "ix_deal_summary" in used and "ix_history_flow" in used


@pytest.mark.parametrize("fuzzy", [False, True], ids=["search", "palette"])
@pytest.mark.parametrize("query", ["customer1", "c1", "cus客", "客户", "zzqx"])
def test_search_reads_the_key_index_not_the_table(store, pipeline, now, query, fuzzy):
    """`/` and the palette (store.search): no pattern of a search can seek a B-tree, so the scan
    must be of ix_deal_search (the keys alone), never of the deal rows; a mixed query and the
    palette's in-order match too."""
    store.add_deal({"customer": "客户一号"}, now=now)
    with captured(store) as seen:
        store.search_deals(query, limit=30, fuzzy=fuzzy)
    for sql, lines in plans(store, seen):
        assert "SCAN deal USING INDEX ix_deal_search" in lines, (sql, lines)
        assert not table_scans(lines), (sql, lines)
