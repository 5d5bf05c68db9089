"""The SQLite-built export lines give exactly the bytes of the Python formatter.

The fast path (bulk.stream_export_lines + export_sql.SqlLines) must never differ from the
reference path (stream_deals + export_format.row_formatter + csv.writer): same guard, quoting, local times
across DST changes and outside the SQL window, amounts, tiers, dwell days and encoding
errors. Odd stored values are written with raw SQL, as an old or hand-edited file may hold.
"""

from __future__ import annotations

import io
import sqlite3
from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from funnel_tui.exchange import csv_export
from funnel_tui.exchange.csv_export import ExportError, export_deals
from funnel_tui.exchange.export_sql import offset_spans

TEXTS = ["=1+1", "+86 138 0000 0000", "-5", "@SUM(A1)", "＝x", "＋1", "－1", "＠x", "'=already", "''+two",
         "'plain", "Acme [/]", 'say "hi", ok', "a,b", "line\nbreak", "\ttab", "华信科技", "𠮷野家 🍜", ""]
# (column, stored value) written with raw SQL after the deals exist
ODD = [
    ("created_at", "2026-03-08 06:59:59.999999"),  # New York: one microsecond before the jump
    ("created_at", "2026-03-08 07:00:00.000000"),
    ("last_contact_at", "2026-11-01 05:30:00.000000"),  # New York: inside the repeated hour
    ("created_at", "1965-06-01 12:00:00.000000"),  # before the SQL window
    ("closed_at", "2150-01-01 00:00:00.500000"),  # after it
    ("last_contact_at", "2026-10-25 00:59:59.000000"),  # London: the last second of summer time
    ("last_contact_at", "2026-10-25 01:00:00.000000"),
    ("stage_entered_at", "2026-11-23 02:00:00.000001"),  # dwell just under one day
    ("stage_entered_at", "2026-11-23 02:00:00.000000"),  # exactly one day
    ("stage_entered_at", "2026-11-25 14:00:00.000000"),  # in the future: -1.5 days → -1
    ("stage_entered_at", "2026-11-20 10:00:00"),  # no fraction
    ("customer", "sep\x1fin\x1dtext\x1erow"),  # our separators in a cell: formatted from raw values
    ("notes", "first\r\nsecond"),
    ("amount", 0),
    ("amount", 1),
    ("lead_score", None),
]
ZONES = [ZoneInfo("UTC"), ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York"), ZoneInfo("Europe/London"),
         ZoneInfo("Asia/Kolkata"), timezone(-timedelta(hours=3, minutes=30))]


@pytest.fixture
def filled(store, db_path, now, tz):
    ids = []
    for i, text in enumerate(TEXTS * 2):
        ids.append(store.add_deal({"customer": text or "x", "title": text, "notes": text, "contact_phone": text,
                                   "amount": str(100 * i + i % 7), "probability": str((i * 13) % 101)},
                                  now=now - timedelta(days=i, hours=i), tz=tz))
    store.lose_deal(ids[3], "price", now=now)
    store.move_deal(ids[4], "won", now=now)
    con = sqlite3.connect(db_path)
    with con:
        for deal_id, (col, value) in zip(ids[5:], ODD):
            con.execute(f"UPDATE deal SET {col} = ? WHERE id = ?", (value, deal_id))
    con.close()
    return store


def _both(store, tmp_path, monkeypatch, **kw):
    fast = export_deals(store, tmp_path / "fast.csv", **kw)
    with monkeypatch.context() as m:
        m.setattr(csv_export, "_export_sql", lambda **_: None)
        slow = export_deals(store, tmp_path / "slow.csv", **kw)
    assert fast.rows == slow.rows
    return (tmp_path / "fast.csv").read_bytes(), (tmp_path / "slow.csv").read_bytes()


@pytest.mark.parametrize("zone", ZONES, ids=str)
def test_sql_lines_equal_the_python_formatter(filled, zone, now, tmp_path, monkeypatch):
    fast, slow = _both(filled, tmp_path, monkeypatch, now=now, tz=zone, status="all")
    assert fast == slow
    assert fast.count(b"\r\n") > len(TEXTS) * 2  # header, every deal, the quoted CRLF inside notes
    assert b"'+86 138 0000 0000" in fast and b"'''+two" in fast and b'"say ""hi"", ok"' in fast


def test_sql_lines_with_filters_and_gb18030(filled, now, tz, tmp_path, monkeypatch):
    for kw in ({"status": "open"}, {"status": ["won", "lost"]}, {"stage": "lead"}, {"owner": "nobody"}):
        fast, slow = _both(filled, tmp_path, monkeypatch, now=now, tz=tz, **kw)
        assert fast == slow, kw
    fast, slow = _both(filled, tmp_path, monkeypatch, now=now, tz=tz, status="all", encoding="gb18030")
    assert fast == slow and "华信科技".encode("gb18030") in fast


def test_sql_lines_report_unencodable_cells_like_the_formatter(filled, now, tz, tmp_path, monkeypatch):
    with pytest.raises(ExportError) as fast:
        export_deals(filled, tmp_path / "f.csv", now=now, tz=tz, status="all", encoding="gbk")
    with monkeypatch.context() as m:
        m.setattr(csv_export, "_export_sql", lambda **_: None)
        with pytest.raises(ExportError) as slow:
            export_deals(filled, tmp_path / "s.csv", now=now, tz=tz, status="all", encoding="gbk")
    assert str(fast.value) == str(slow.value)
    assert "column customer: '𠮷'" in str(fast.value) and not list(tmp_path.glob("*.csv"))


def test_sql_lines_to_a_text_stream(filled, now, tz, monkeypatch):
    fast, slow = io.StringIO(), io.StringIO()
    export_deals(filled, None, now=now, tz=tz, status="all", stdout=fast)
    monkeypatch.setattr(csv_export, "_export_sql", lambda **_: None)
    export_deals(filled, None, now=now, tz=tz, status="all", stdout=slow)
    assert fast.getvalue() == slow.getvalue() and fast.getvalue().startswith("id,uid,")


def test_offset_spans_find_each_change_to_the_second():
    spans = offset_spans(ZoneInfo("America/New_York"))
    starts = {s[0]: (s[1], s[2]) for s in spans}
    assert starts["2026-03-08 07:00:00"] == (-4 * 3600, "-04:00")
    assert starts["2026-11-01 06:00:00"] == (-5 * 3600, "-05:00")
    assert len(offset_spans(ZoneInfo("Asia/Shanghai"))) == 13  # 1986–1991 summer time, then +08:00
    assert offset_spans(timezone(timedelta(hours=5, minutes=45))) == [("1970-01-01 00:00:00", 20700, "+05:45")]
