"""Issue 12: money sums past 64 bits. One deal may hold ¥10^13 (10^15 fen, MAX_AMOUNT_MINOR);
10,001 of them sum to 10^19 fen, past SQLite's integer range: SUM() raised "integer
overflow" and the board's first read, the Summary screen and `funnel summary` failed. Sums
are now taken in two exact parts (tables.exact_sum) and joined in Python: never a float."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from funnel_tui.domain.money import MAX_AMOUNT_MINOR
from helpers_procs import NOW, run_cli_many

N = 10_001
TOTAL = N * MAX_AMOUNT_MINOR  # 1.0001 × 10^19 fen: past 2^63 - 1 ≈ 9.22 × 10^18


def rich_pipeline(db: Path) -> None:
    """N deals of ¥10^13 won this week (one by the store, the rest copied with its history)."""
    from funnel_tui.store import Store

    store = Store(db)
    deal_id = store.add_deal({"customer": "大客户", "amount": str(MAX_AMOUNT_MINOR // 100), "stage": "negotiation",
                              "probability": "100"}, now=NOW)
    store.move_deal(deal_id, "won", now=NOW)
    store.close()
    con = sqlite3.connect(db)
    cols = ", ".join(r[1] for r in con.execute("PRAGMA table_info(deal)") if r[1] not in ("id", "uid"))
    hcols = ", ".join(r[1] for r in con.execute("PRAGMA table_info(history)") if r[1] not in ("id", "deal_id"))
    for _ in range(N - 1):
        deal_id = con.execute(f"INSERT INTO deal (uid, {cols}) SELECT lower(hex(randomblob(16))), {cols} "
                              "FROM deal WHERE id = 1").lastrowid
        con.execute(f"INSERT INTO history (deal_id, {hcols}) SELECT ?, {hcols} FROM history WHERE deal_id = 1",
                    (deal_id,))
    con.commit()
    con.close()


@pytest.fixture(scope="module")
def rich_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("rich") / "funnel.db"
    rich_pipeline(db)
    return db


def test_the_board_and_summary_sums_are_exact_past_64_bits(rich_db, now, tz):
    from funnel_tui.store import Store

    assert TOTAL > 2 ** 63 - 1
    store = Store(rich_db)
    try:
        totals = store.board_totals(status="won")["won"]
        # (the totals also carry their per-currency parts: one currency here)
        assert {k: totals[k] for k in ("count", "amount", "weighted")} == {"count": N, "amount": TOTAL,
                                                                           "weighted": TOTAL}
        assert totals["by_currency"]["CNY"]["amount"] == TOTAL
        s = store.summary(now=now)
        assert s["won_amount"] == TOTAL and isinstance(s["won_amount"], int)
        weekly = store.review(now=now, tz=tz)
        assert [m["this_week"] for m in weekly["metrics"] if m["metric"] == "won_amount"] == [TOTAL]
    finally:
        store.close()


@pytest.mark.slow
def test_summary_and_review_commands_at_ten_to_the_thirteen_yuan(rich_db, tmp_path):
    base = ["--db", str(rich_db)]
    summary, review, table = run_cli_many([[*base, "summary", "--format", "json"], [*base, "review"],
                                           [*base, "summary"]], tmp_path, env={"FUNNEL_NOW": NOW.isoformat()})
    for r in (summary, review, table):
        assert r["code"] == 0, r["err"]
        assert b"overflow" not in r["err"]
    assert json.loads(summary["out"])["won_amount"] * 100 == TOTAL


async def test_the_board_and_summary_screens_show_it(rich_db, now, tz, tmp_path):
    from funnel_tui.store import Store
    from funnel_tui.tui.app import FunnelApp
    from funnel_tui.tui.screens.summary import SummaryScreen

    store = Store(rich_db)
    app = FunnelApp(store, lambda: now, tz=tz, lang="en", export_dir=tmp_path)
    try:
        async with app.run_test(size=(160, 45), notifications=True) as pilot:
            for _ in range(3):
                await app.workers.wait_for_complete()
                await pilot.pause()
            column = app.screen.column("won")
            assert column.totals["amount"] == TOTAL
            await pilot.press("s")
            for _ in range(3):
                await app.workers.wait_for_complete()
                await pilot.pause()
            assert isinstance(app.screen, SummaryScreen) and app.is_running
            assert not [n for n in app._notifications if n.severity == "error"]
    finally:
        store.close()
