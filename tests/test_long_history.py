"""Issue 12: a deal with 20,000 history rows. `funnel show` printed 2 MB in 9.7 s; now it
prints the newest --history rows (50) and says how many are older, `--history all` (or N)
shows more, JSON says history_total; the Deal screen reads the timeline a page at a time
and `o` shows the next page."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from helpers_procs import NOW, run_cli_many
from funnel_tui.tui.screens.deal import DealScreen
from funnel_tui.tui.widgets.deal_details import TIMELINE_LIMIT

ROWS = 20_000


def long_history(db: Path, rows: int) -> int:
    """One deal, then `rows` edits of its notes as history rows (as 20,000 saves would leave)."""
    from funnel_tui.store import Store

    store = Store(db)
    deal_id = store.add_deal({"customer": "长客户", "notes": "n0"}, now=NOW)
    store.close()
    con = sqlite3.connect(db)
    con.executemany(
        "INSERT INTO history (deal_id, at, kind, field, old, new, action) VALUES (?, ?, 'field', 'notes', ?, ?, ?)",
        [(deal_id, (NOW + timedelta(minutes=k + 1)).strftime("%Y-%m-%d %H:%M:%S.000000"), f"n{k}", f"n{k + 1}",
          f"a{k}") for k in range(rows)])
    con.commit()
    con.close()
    return deal_id


@pytest.mark.slow
def test_show_pages_a_long_history(tmp_path):
    db = tmp_path / "funnel.db"
    deal_id = long_history(db, ROWS)
    env = {"FUNNEL_NOW": (NOW + timedelta(days=30)).isoformat(), "COLUMNS": "120", "TZ": "UTC"}
    base = ["--db", str(db), "show", str(deal_id)]
    table, json_default, json_all, some = run_cli_many(
        [base, [*base, "--format", "json"], [*base, "--format", "json", "--history", "all"],
         [*base, "--history", "3"]], tmp_path, env=env)
    for r in (table, json_default, json_all, some):
        assert r["code"] == 0, r["err"]
    out = table["out"].decode()
    assert len(table["out"]) < 20_000  # was 2 MB
    assert "n20000" in out and "n19950 " in out and "n19949 " not in out  # the newest 50 (n19950→n19951 the oldest)
    assert f"… {ROWS + 1 - 50} older history rows not shown (--history all" in out
    default = json.loads(json_default["out"])
    assert default["history_total"] == ROWS + 1 and len(default["history"]) == 50
    assert default["history"][-1]["new"] == "n20000"  # oldest first, ending with the newest
    full = json.loads(json_all["out"])
    assert len(full["history"]) == ROWS + 1 and full["history"][0]["kind"] == "created"
    assert "… 19998 older history rows" in some["out"].decode()


async def test_the_deal_screen_reads_its_timeline_a_page_at_a_time(store, db_path, tui_host):
    deal_id = long_history(db_path, 2 * TIMELINE_LIMIT + 50)
    app = tui_host(lambda: DealScreen(deal_id))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        screen = app.screen
        timeline = screen.query_one("#timeline").content.plain
        assert timeline.count("\n") == TIMELINE_LIMIT + 1
        assert f"… {TIMELINE_LIMIT + 51} older entries: o shows more" in timeline
        assert screen.older == TIMELINE_LIMIT + 51 and screen.check_action("older", ()) is True
        await pilot.press("o")
        await pilot.pause()
        timeline = screen.query_one("#timeline").content.plain
        assert "… 51 older entries: o shows more" in timeline
        await pilot.press("o")
        await pilot.pause()
        timeline = screen.query_one("#timeline").content.plain
        assert "older entries" not in timeline and "created" in timeline
        assert screen.check_action("older", ()) is False  # nothing older: the key leaves the footer
