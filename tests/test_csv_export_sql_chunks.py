"""The export lines SQLite joins a chunk at a time give exactly the reference bytes.

bulk_export.export_lines hands over each chunk as one string SQLite joined (group_concat over
the next ids), and SqlLines takes a chunk whole, or line by line when a cell needs quoting or
holds a separator. Small chunk sizes put every kind of deal at a chunk's start, middle and
end, next to clean chunks; the bytes must equal the Python formatter's (the reference
formulation: stream_deals + export_format.row_formatter + csv.writer) on a varied database.
"""

from __future__ import annotations

import functools
import sqlite3
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from funnel_tui.exchange import csv_export
from funnel_tui.exchange.csv_export import export_deals

TEXTS = ["华信科技 有限公司", "𠮷野家 🍜", 'say "hi", ok', "a,b", "line\nbreak", "cr\ronly", "=HYPERLINK(\"x\")",
         "+86 138 0000 0000", "-5", "@SUM(A1)", "＝x", "＋1", "－1", "＠x", "'=already", "''+two", "'plain",
         "plain text", "", "Acme [/]"]
# Stored as an old or hand-edited file may hold them (raw SQL: the store would clean or refuse).
RAW = [
    ("customer", "ctl\x07bell\x1bescape"),
    ("notes", "tab\tinside\x0bvt"),
    ("title", "\ttab first"),
    ("customer", "sep\x1fin\x1dtext\x1erow"),
    ("amount", 92_233_720_368_547),  # big money: 922 337 203 685.47 in major units
    ("amount", 5),  # cents only: 0.05
    ("amount", 0),
    ("probability", 100),
    ("lead_score", None),
    ("currency", "USD"),
    ("currency", "EUR"),
    ("currency", "JPY"),
    ("last_contact_at", None),
    ("next_follow_up_at", "2031-02-03 04:05:06.000007"),
    ("created_at", "1969-12-31 23:59:59.000000"),
    ("expected_close", None),
]


@pytest.fixture
def varied(store, db_path, now, tz):
    ids = []
    for i, text in enumerate(TEXTS * 3):
        ids.append(store.add_deal({"customer": text or "客户", "title": text, "notes": text, "contact_phone": text,
                                   "contact_name": text, "amount": str(1000 * i + i % 9),
                                   "probability": str((i * 17) % 101)},
                                  now=now - timedelta(days=3 * i, hours=i), tz=tz))
    for n, deal_id in enumerate(ids[:12]):  # every status, and deleted deals among them
        if n % 4 == 1:
            store.lose_deal(deal_id, "price", now=now)
        elif n % 4 == 2:
            store.move_deal(deal_id, "won", now=now)
        elif n % 4 == 3:
            store.delete_deal(deal_id, now=now)
    con = sqlite3.connect(db_path)
    with con:
        for deal_id, (col, value) in zip(ids[20:], RAW):
            con.execute(f"UPDATE deal SET {col} = ? WHERE id = ?", (value, deal_id))
    con.close()
    return store


def _export(store, path, monkeypatch, *, chunk: int | None, **kw) -> bytes:
    with monkeypatch.context() as m:
        if chunk is None:  # the reference: every cell formatted in Python
            m.setattr(csv_export, "_export_sql", lambda **_: None)
        else:
            m.setattr(store, "stream_export_lines", functools.partial(type(store).stream_export_lines, store,
                                                                      chunk=chunk))
        export_deals(store, path, **kw)
    return path.read_bytes()


@pytest.mark.parametrize("zone", [ZoneInfo("UTC"), ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")], ids=str)
@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_joined_chunks_equal_the_reference_bytes(varied, zone, encoding, now, tmp_path, monkeypatch):
    kw = dict(now=now, tz=zone, status="all", encoding=encoding)
    reference = _export(varied, tmp_path / "ref.csv", monkeypatch, chunk=None, **kw)
    for chunk in (1, 2, 3, 7, 10000):
        assert _export(varied, tmp_path / f"c{chunk}.csv", monkeypatch, chunk=chunk, **kw) == reference, chunk
    text = reference.decode(encoding)
    assert text.count("\r\n") > len(TEXTS) * 3 - 3  # every live deal, deleted ones left out
    assert "'+86 138 0000 0000" in text and '"say ""hi"", ok"' in text and "华信科技" in text
    assert "922337203685.47" in text and ",USD," in text and ",lost," in text and ",won," in text


def test_joined_chunks_follow_the_filters(varied, now, tz, tmp_path, monkeypatch):
    for kw in ({"status": "open"}, {"status": ["won", "lost"]}, {"stage": "lead"}, {"owner": "nobody"}):
        reference = _export(varied, tmp_path / "ref.csv", monkeypatch, chunk=None, now=now, tz=tz, **kw)
        fast = _export(varied, tmp_path / "fast.csv", monkeypatch, chunk=4, now=now, tz=tz, **kw)
        assert fast == reference, kw


@pytest.mark.xfail(strict=True, reason="SQLite's printf('%s') ends a cell at a stored NUL (main too); clean_text "
                   "never stores one, only a hand-edited file can hold it — not fixed yet")
def test_a_stored_nul_is_exported_whole(store, db_path, now, tz, tmp_path, monkeypatch):
    deal_id = store.add_deal({"customer": "x", "title": "t"}, now=now, tz=tz)
    con = sqlite3.connect(db_path)
    with con:
        con.execute("UPDATE deal SET customer = ? WHERE id = ?", ("before\x00after", deal_id))
    con.close()
    reference = _export(store, tmp_path / "ref.csv", monkeypatch, chunk=None, now=now, tz=tz, status="all")
    assert _export(store, tmp_path / "fast.csv", monkeypatch, chunk=3, now=now, tz=tz, status="all") == reference
