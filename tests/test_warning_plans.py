"""Warnings and tiers stay index-bound (the Today screen at 100k deals): every deal query
seeks or scans an index, and none sorts the whole table before its LIMIT."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from funnel_tui.domain.validation import FollowUpDraft


def test_warning_and_tier_queries_use_indexes(store, now):
    for n in range(12):
        deal_id = store.add_deal({"customer": f"c{n}", "amount": str(100 * n), "stage": "lead"},
                                 now=now - timedelta(days=n * 3))
        if n % 2:
            store.add_follow_up(FollowUpDraft(deal_id, now + timedelta(hours=n - 6)), now=now)
    seen: list[tuple[str, object]] = []

    def before(_c, _cur, statement, params, _ctx, _many):
        if "FROM deal" in statement:
            seen.append((statement, params))

    event.listen(store.engine, "before_cursor_execute", before)
    try:
        items = store.warnings(now=now, limit=5)
        store.tier_cutoffs()
        store.board_totals(status="won")
        store.board_column("lead", status="lost")
    finally:
        event.remove(store.engine, "before_cursor_execute", before)
    assert {w.kind for w in items} >= {"dwell_over", "silent", "no_next_step"}
    with store.engine.connect() as conn:
        raw = conn.connection.driver_connection
        for sql, params in seen:
            lines = [r[3] for r in raw.execute("EXPLAIN QUERY PLAN " + sql, params)]
            deal_lines = [ln for ln in lines if " deal" in ln]
            assert deal_lines and all("USING" in ln and "INDEX" in ln for ln in deal_lines), (sql, lines)
            if "LIMIT" in sql:
                assert not [ln for ln in lines if "TEMP B-TREE FOR ORDER BY" in ln], (sql, lines)
