"""CSV export: Excel-safe bytes, the formula guard, atomic private files, strict encodings."""

from __future__ import annotations

import csv
import io
import os
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from funnel_tui.domain.validation import FollowUpDraft
from funnel_tui.exchange.columns import CSV_COLUMNS, EXPORT_ONLY, deal_record
from funnel_tui.exchange.csv_export import EXPORT_COLUMNS, ExportError, export_deals, export_summary
from funnel_tui.exchange.formula_guard import guard, needs_guard, unguard

HOSTILE = ["=1+1", "+86 138 0000 0000", "-5", "@SUM(A1)", "＝HYPERLINK(\"x\")", "＋1", "－1", "＠x",
           "'=already", "Acme [/]", 'say "hi", ok', "'; DROP TABLE deal; --", "𠮷野家 🍜", "[@click=app.quit]x"]


def _rows(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw[3:].decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _add(store, now, tz, customer, **kw):
    return store.add_deal({"customer": customer, **kw}, now=now, tz=tz)


def test_bytes_are_excel_friendly(store, now, tz, tmp_path):
    _add(store, now, tz, "华信科技", amount="12,500.50", title="CRM 年度订阅")
    res = export_deals(store, tmp_path / "out.csv", now=now, tz=tz)
    raw = (tmp_path / "out.csv").read_bytes()
    assert res.rows == 1 and res.path == tmp_path / "out.csv"
    assert raw.startswith(b"\xef\xbb\xbfid,uid,external_id,customer,")
    assert raw.count(b"\r\n") == 2 and b"\n" not in raw.replace(b"\r\n", b"")
    row = _rows(tmp_path / "out.csv")[0]
    assert list(row) == list(CSV_COLUMNS + EXPORT_ONLY)
    assert row["customer"] == "华信科技" and row["amount"] == "12500.50"
    assert row["created_at"] == "2026-11-24T10:00:00+08:00"  # ISO, local offset
    assert row["weighted_amount"] == "1250.05" and row["tier"] == "A" and row["dwell_days"] == "0"


def test_formula_guard_on_text_cells_only(store, now, tz, tmp_path):
    for i, text in enumerate(HOSTILE):
        _add(store, now, tz, f"{text}", title=text, notes=f"{text}\nline two", amount=str(100 + i))
    export_deals(store, tmp_path / "h.csv", now=now, tz=tz)
    rows = _rows(tmp_path / "h.csv")
    by_title = {unguard(r["title"]): r for r in rows}
    for text in HOSTILE:
        r = by_title[text]
        expected = "'" + text if needs_guard(text) else text
        assert r["customer"] == expected and r["title"] == expected
        assert r["notes"] == expected + "\nline two"
    assert by_title["=1+1"]["customer"] == "'=1+1"
    assert by_title["＠x"]["title"] == "'＠x"
    assert by_title["'=already"]["title"] == "''=already"  # so import can undo exactly one
    assert by_title["Acme [/]"]["title"] == "Acme [/]"
    # Numbers stay numbers: no apostrophes in numeric columns.
    assert all(not r[c].startswith("'") for r in rows for c in ("amount", "probability", "id", "weighted_amount"))


@given(st.text(max_size=12))
def test_guard_and_unguard_are_inverse(text):
    g = guard(text)
    assert unguard(g) == text
    assert not g.lstrip("'")[:1] or g == text or g.startswith("'")
    if text[:1] in ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"):
        assert g == "'" + text


def test_rows_match_deal_record(store, now, tz, tmp_path):
    a = _add(store, now - timedelta(days=9), tz, "Acme", amount="3万", probability="40", expected_close="2026-12-31",
             risk_level="高", lead_score="7", contact_email="a@b.co")
    store.add_follow_up(FollowUpDraft(a, now + timedelta(hours=5)), now=now)
    b = _add(store, now - timedelta(days=3), tz, "Globex", amount="99.99")
    store.lose_deal(b, "price", now=now)
    c = _add(store, now - timedelta(days=30), tz, "Initech", amount="1000")
    store.move_deal(c, "won", now=now - timedelta(days=2))
    export_deals(store, tmp_path / "all.csv", now=now, tz=tz, status="all")
    rows = {int(r["id"]): r for r in _rows(tmp_path / "all.csv")}
    tiers = store.tiers()
    for deal_id in (a, b, c):
        rec = deal_record(store.get_deal(deal_id), tz=tz, now=now, tier=tiers.get(deal_id), export_columns=True)
        assert rows[deal_id] == {k: str(v) for k, v in rec.items()}
    assert rows[a]["dwell_days"] == "9" and rows[a]["next_follow_up_at"] == "2026-11-24T15:00:00+08:00"
    assert rows[b]["status"] == "lost" and rows[b]["dwell_days"] == ""


def test_filters(store, now, tz, tmp_path):
    _add(store, now, tz, "A", owner="王磊", stage="demo")
    _add(store, now, tz, "B", owner="Alex", stage="demo")
    lost = _add(store, now, tz, "C", owner="王磊")
    store.lose_deal(lost, "timing", now=now)
    assert export_deals(store, tmp_path / "1.csv", now=now, tz=tz).rows == 2
    assert export_deals(store, tmp_path / "2.csv", now=now, tz=tz, owner="王磊").rows == 1
    assert export_deals(store, tmp_path / "3.csv", now=now, tz=tz, status="lost").rows == 1
    assert export_deals(store, tmp_path / "4.csv", now=now, tz=tz, status="all").rows == 3
    assert export_deals(store, tmp_path / "5.csv", now=now, tz=tz, stage="方案演示").rows == 2
    assert export_deals(store, tmp_path / "6.csv", now=now, tz=tz, status=("open", "lost"), owner="王磊").rows == 2
    with pytest.raises(ExportError, match="not a status"):
        export_deals(store, tmp_path / "7.csv", now=now, tz=tz, status="closed")
    assert [r["customer"] for r in _rows(tmp_path / "3.csv")] == ["C"]


def test_atomic_private_and_never_over_the_database(store, db_path, now, tz, tmp_path):
    _add(store, now, tz, "Acme")
    out = tmp_path / "exports" / "deals.csv"
    export_deals(store, out, now=now, tz=tz)
    assert os.stat(out).st_mode & 0o777 == 0o600
    assert [p.name for p in out.parent.iterdir()] == ["deals.csv"]  # no temp file left
    for victim in (db_path, tmp_path / "funnel.db-wal", tmp_path / "funnel.db-shm",
                   tmp_path / "backups" / "funnel-x.db"):
        before = victim.read_bytes() if victim.exists() else None
        with pytest.raises(ExportError, match="refusing"):
            export_deals(store, victim, now=now, tz=tz)
        assert (victim.read_bytes() if victim.exists() else None) == before
    # A folder gets a dated file inside it.
    res = export_deals(store, tmp_path, now=now, tz=tz)
    assert res.path.name == "funnel-deals-20261124-100000.csv" and res.path.parent == tmp_path
    again = export_deals(store, tmp_path, now=now, tz=tz)  # same second: a second file, not an overwrite
    assert again.path.name == "funnel-deals-20261124-100000-2.csv" and res.path.exists()


def test_gb18030_holds_chinese_and_emoji(store, now, tz, tmp_path):
    _add(store, now, tz, "𠮷野家 🍜", title="华信科技")
    export_deals(store, tmp_path / "gb.csv", now=now, tz=tz, encoding="gb18030")
    raw = (tmp_path / "gb.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert "𠮷野家 🍜".encode("gb18030") in raw and "华信科技".encode("gb18030") in raw


def test_unencodable_characters_are_reported_never_replaced(store, now, tz, tmp_path):
    _add(store, now, tz, "华信科技")
    _add(store, now, tz, "Ramen 🍜", title="ok")
    out = tmp_path / "gbk.csv"
    with pytest.raises(ExportError) as err:
        export_deals(store, out, now=now, tz=tz, encoding="gbk")
    assert "row 2, column customer" in str(err.value) and "U+1F35C" in str(err.value)
    assert not out.exists() and list(tmp_path.glob(".gbk.csv*")) == []


def test_stdout_and_summary(store, now, tz, tmp_path):
    _add(store, now, tz, "A", amount="100", stage="demo")
    _add(store, now, tz, "B", amount="300", stage="demo")
    buf = io.BytesIO()
    out = io.TextIOWrapper(buf, encoding="utf-8")
    res = export_deals(store, "-", now=now, tz=tz, stdout=out)
    out.flush()
    assert res.path is None and res.rows == 2
    assert buf.getvalue().startswith(b"\xef\xbb\xbfid,uid,")
    res = export_summary(store, tmp_path / "s.csv", now=now, tz=tz)
    rows = _rows(tmp_path / "s.csv")
    assert res.rows == len(store.stages())
    demo = next(r for r in rows if r["stage"] == "demo")
    assert demo["name"] == "Demo / Proposal"
    assert (demo.get("open_amount") or demo.get("amount")) == "400"
    assert (demo.get("weighted_amount")) == "200"


def test_header_is_the_documented_columns():
    assert EXPORT_COLUMNS[:len(CSV_COLUMNS)] == CSV_COLUMNS and EXPORT_COLUMNS[-3:] == EXPORT_ONLY


ZONES = ["Asia/Shanghai", "America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe",
         "America/St_Johns", "Pacific/Chatham", "UTC"]


@given(st.datetimes(min_value=__import__("datetime").datetime(1901, 1, 1),
                    max_value=__import__("datetime").datetime(2100, 1, 1)),
       st.sampled_from(ZONES), st.booleans())
def test_fast_local_time_equals_iso_local(moment, zone, as_text):
    from datetime import timezone as _tz
    from zoneinfo import ZoneInfo

    from funnel_tui.domain.dates import iso_local
    from funnel_tui.exchange.export_format import LocalTime

    conv = LocalTime(ZoneInfo(zone))
    aware = moment.replace(tzinfo=_tz.utc)
    stored = moment.isoformat(" ", "microseconds") if as_text else aware
    expected = iso_local(aware, ZoneInfo(zone))
    assert conv(stored) == expected
    assert conv(stored) == expected  # the cached hour gives the same answer


def test_fast_local_time_across_a_dst_change():
    from datetime import datetime as _dt, timezone as _tz
    from zoneinfo import ZoneInfo

    from funnel_tui.domain.dates import iso_local
    from funnel_tui.exchange.export_format import LocalTime

    ny = ZoneInfo("America/New_York")
    conv = LocalTime(ny)
    start = _dt(2026, 3, 8, 5, 0, tzinfo=_tz.utc)  # 00:00 EST; the clocks jump at 07:00 UTC
    for minutes in range(0, 6 * 60, 7):
        t = start + timedelta(minutes=minutes)
        assert conv(t.replace(tzinfo=None).isoformat(" ", "microseconds")) == iso_local(t, ny)
