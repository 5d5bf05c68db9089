"""The columnar import parser gives exactly what the plain row-by-row rules give.

RowParser.parse_columns converts each distinct cell of a column once and applies the row
rules over whole columns; tests/reference_import.py states the same rules one row at a
time. Random files (our columns, the Chinese template, Pipedrive, HubSpot) with good,
bad, empty and hostile cells must come out the same, reasons and unknown-stage counts too.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel_tui.domain.stages import DEFAULT_STAGES
from funnel_tui.exchange.import_headers import map_header
from funnel_tui.exchange.import_rows import RowParser
from reference_import import parse_row

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
TZ = timezone(timedelta(hours=8))

HEADERS = {
    "funnel": ["uid", "external_id", "customer", "title", "owner", "stage", "status", "amount", "probability",
               "expected_close", "created_at", "stage_entered_at", "closed_at", "next_follow_up_at",
               "lost_reason", "lead_score", "risk_level", "currency", "notes", "contact_email"],
    "template": ["客户名称", "当前阶段", "预计成交金额(万元)", "风险等级", "跟进人", "成交概率(%)", "进入时间",
                 "下次跟进时间", "状态", "丢单原因"],
    "pipedrive": ["Deal - ID", "Deal - Title", "Deal - Organization", "Deal - Stage", "Deal - Status",
                  "Deal - Value", "Deal - Lost reason", "Deal - Deal created", "Deal - Next activity date"],
    "hubspot": ["Record ID", "Deal Name", "Deal Stage", "Amount", "Close Date", "Create Date",
                "Deal probability", "Closed Lost Reason"],
}
CELLS = st.sampled_from([
    "", " ", "Acme", "  华信科技  ", "Acme [/]", "=1+1", "'=guarded", "a\x00b", "x\u200by", "e\u0301", "a\nb",
    "lead", "Qualified", "初步意向", "demo", "won", "expansion", "Nowhere", "closedwon", "closedlost",
    "Contact Made", "open", "lost", "WON", "bogus",
    "100", "12.5", "1.5万", "-3", "abc", "250", "0.4", "1.5", "40", "40%",
    "2026-12-01", "2026-12-01 15:00", "2026-11-30T08:00:00+08:00", "2026-02-30", "tomorrow", "+3d",
    "2026-02-30T10:00:00+00:00", "2026-01-01T25:00:00+08:00", "2026-01-01T10:00:00+24:00",
    "00000000-0000-4000-8000-000000000001", "not-a-uuid", "7", "high", "中", "CNY", "usd", "a@b.co",
    "price", "超过预算", "Alex", "王磊",
])


@st.composite
def files(draw):
    kind = draw(st.sampled_from(sorted(HEADERS)))
    header = draw(st.lists(st.sampled_from(HEADERS[kind]), min_size=1, max_size=8, unique=True))
    if kind in ("funnel", "template") and not any(h in header for h in ("customer", "客户名称")):
        header.insert(0, "customer" if kind == "funnel" else "客户名称")
    if kind == "pipedrive":
        header = ["Deal - ID", "Deal - Title", *[h for h in header if h not in ("Deal - ID", "Deal - Title")]]
    if kind == "hubspot":
        header = ["Record ID", "Deal Name", *[h for h in header if h not in ("Record ID", "Deal Name")]]
    width = st.integers(len(header), len(header))
    rows = draw(st.lists(st.lists(CELLS, min_size=len(header), max_size=len(header))
                         | width.flatmap(lambda n: st.lists(CELLS, min_size=n - 1, max_size=n + 1)),
                         min_size=1, max_size=25))
    return header, rows


def _parsers(header, owner):
    hm = map_header(header)
    stage_map = {"contactmade": "qualified"}
    return (RowParser(hm, DEFAULT_STAGES, NOW, TZ, stage_map, owner),
            RowParser(hm, DEFAULT_STAGES, NOW, TZ, stage_map, owner))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files(), st.sampled_from([None, "Priya"]))
def test_columns_equal_the_row_rules(file, owner):
    header, rows = file
    fast, plain = _parsers(header, owner)
    expected = [parse_row(plain, cells) for cells in rows]
    assert fast.parse_many(rows) == expected
    assert fast.unknown_stages == plain.unknown_stages


def test_columns_equal_the_row_rules_on_a_chunk_with_every_kind_of_row():
    header = HEADERS["funnel"]
    fast, plain = _parsers(header, None)
    rows = []
    for i in range(300):
        cells = [""] * len(header)
        cells[header.index("customer")] = "" if i % 17 == 0 else f"客户 {i % 40}"
        cells[header.index("stage")] = ["lead", "demo", "won", "Nowhere", "", "expansion"][i % 6]
        cells[header.index("status")] = ["", "open", "lost", "won"][i % 4]
        cells[header.index("lost_reason")] = "price" if i % 3 else ""
        cells[header.index("amount")] = ["100", "1.5万", "abc", ""][i % 4]
        cells[header.index("uid")] = ["", "not-a-uuid", f"00000000-0000-4000-8000-{i:012d}"][i % 3]
        cells[header.index("closed_at")] = ["", "2026-11-01"][i % 2]
        cells[header.index("next_follow_up_at")] = ["", "2026-12-01", "tomorrow 15:00"][i % 3]
        rows.append(cells)
    rows.insert(5, ["ragged"])
    expected = [parse_row(plain, cells) for cells in rows]
    got = fast.parse_many(rows)
    assert got == expected
    assert fast.unknown_stages == plain.unknown_stages == {"Nowhere": sum(
        1 for e, r in zip(expected, rows) if len(r) > 1 and r[header.index("stage")] == "Nowhere"
        and isinstance(e, str) and "stage:" in e)}
    assert sum(isinstance(e, tuple) for e in got) > 20 and sum(isinstance(e, str) for e in got) > 100
