"""The columnar import parser gives exactly what the plain row-by-row rules give.

RowParser.parse_columns converts each distinct cell of a column once and applies the row
rules over whole columns; tests/reference_import.py states the same rules one row at a
time. Random files (our columns, the Chinese template, Pipedrive, HubSpot, Salesforce) with
good, bad, empty and hostile cells must come out the same, reasons and unknown-stage counts too.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pathlib import Path

from funnel_tui.domain.stages import DEFAULT_STAGES
from funnel_tui.exchange import profiles as P
from funnel_tui.exchange.import_rows import RowParser
from funnel_tui.exchange.reading import ReadOptions, plan_table
from funnel_tui.exchange.table_model import Table
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
    "salesforce": ["Opportunity Name", "Account Name", "Stage", "Amount", "Close Date", "Probability (%)",
                   "Opportunity Owner", "Created Date"],
}
PROFILE_OF = {"funnel": "funnel", "template": "template_zh", "pipedrive": "pipedrive", "hubspot": "hubspot",
              "salesforce": "salesforce"}
CELLS = st.sampled_from([
    "", " ", "Acme", "  华信科技  ", "Acme [/]", "=1+1", "'=guarded", "a\x00b", "x\u200by", "e\u0301", "a\nb",
    "lead", "Qualified", "初步意向", "demo", "won", "expansion", "Nowhere", "closedwon", "closedlost",
    "Contact Made", "open", "lost", "WON", "bogus",
    "100", "12.5", "1.5万", "-3", "abc", "250", "0.4", "1.5", "40", "40%",
    "2026-12-01", "2026-12-01 15:00", "2026-11-30T08:00:00+08:00", "2026-02-30", "tomorrow", "+3d",
    "2026-02-30T10:00:00+00:00", "2026-01-01T25:00:00+08:00", "2026-01-01T10:00:00+24:00",
    "00000000-0000-4000-8000-000000000001", "not-a-uuid", "7", "high", "中", "CNY", "usd", "a@b.co",
    "price", "超过预算", "Alex", "王磊",
    "12.000", "1.234,56", "1,5", "USD 485,000.00", "$12", "€ 12.000,00", "12 000,50", "60.00", "33.33", "1",
    "03/04/2024", "15/03/2024", "2024/6/14 15:16", "45366", "Closed Won", "Closed Lost", "Prospecting", "Gone",
])


# Cells each kind of column mostly holds (good, ambiguous and bad ones), so most rows get far
# enough for the row rules to matter; CELLS (anything at all) now and then.
POOLS = {
    "stage": ["lead", "Qualified", "初步意向", "demo", "won", "expansion", "Nowhere", "closedwon", "closedlost",
              "Contact Made", "Closed Won", "Closed Lost", "Prospecting", "Gone", "", "negotiation"],
    "status": ["", "", "open", "won", "lost", "WON", "bogus", "赢单"],
    "amount": ["100", "12.5", "1.5万", "", "12.000", "1.234,56", "1,5", "USD 485,000.00", "$12", "€ 12.000,00",
               "12 000,50", "-3", "abc"],
    "probability": ["", "40", "40%", "0.4", "1", "60.00", "33.33", "0", "250"],
    "moment": ["", "2026-12-01", "2026-12-01 15:00", "2026-11-30T08:00:00+08:00", "03/04/2024", "15/03/2024",
               "2024/6/14 15:16", "45366", "2026-02-30", "tomorrow"],
    "uid": ["", "", "00000000-0000-4000-8000-000000000001", "not-a-uuid"],
    "external_id": ["", "7", "x:1", "8"],
    "customer": ["Acme", "  华信科技  ", "Acme [/]", "=1+1", "'=guarded", "", "x\u200by", "王磊"],
    "lost_reason": ["", "price", "超过预算"],
    "lead_score": ["", "7", "12"],
    "risk_level": ["", "high", "中", "bogus"],
    "currency": ["", "CNY", "usd", "XYZ", "EUR"],
    "contact_email": ["", "a@b.co", "nope"],
}
FIELD_POOL = {"expected_close": "moment", "created_at": "moment", "stage_entered_at": "moment",
              "closed_at": "moment", "next_follow_up_at": "moment", "last_contact_at": "moment",
              "title": "customer", "owner": "customer", "notes": "customer"}


def _cells_for(kind: str, header: list[str]):
    columns = P.registry()[PROFILE_OF[kind]].keyed()
    out = []
    for h in header:
        name = columns[P.norm(h)].field
        pool = POOLS[FIELD_POOL.get(name, name)]
        out.append(st.one_of(st.sampled_from(pool), st.sampled_from(pool), st.sampled_from(pool), CELLS))
    return out


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
    if kind == "salesforce" and "Account Name" not in header:
        header.insert(0, "Account Name")
    row = st.tuples(*_cells_for(kind, header)).map(list)
    width = st.integers(len(header), len(header))
    rows = draw(st.lists(row | row | width.flatmap(lambda n: st.lists(CELLS, min_size=n - 1, max_size=n + 1)),
                         min_size=1, max_size=25))
    return kind, header, rows


def _parsers(header, owner, kind="funnel", rows=()):
    """Two parsers of one header, each with its own plan that has seen every row's evidence."""
    out = []
    for _ in range(2):
        table = Table(Path("file.csv"), "csv", list(header), iter(()))
        opts = ReadOptions(tz=TZ, stages=DEFAULT_STAGES, profile=PROFILE_OF[kind],
                           stage_map={"contactmade": "qualified", "gone": "lost"}, currency="USD")
        plan = plan_table(table, opts)
        plan.observe([r for r in rows if len(r) == len(header)])
        out.append(RowParser(plan, DEFAULT_STAGES, NOW, TZ, owner=owner))
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files(), st.sampled_from([None, "Priya"]))
def test_columns_equal_the_row_rules(file, owner):
    kind, header, rows = file
    fast, plain = _parsers(header, owner, kind, rows)
    expected = [parse_row(plain, cells) for cells in rows]
    assert fast.parse_many(rows) == expected
    assert fast.unknown_stages == plain.unknown_stages
    assert fast.rounded == plain.rounded


def test_columns_equal_the_row_rules_on_a_chunk_with_every_kind_of_row():
    header = HEADERS["funnel"]
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
    fast, plain = _parsers(header, None, "funnel", rows)
    expected = [parse_row(plain, cells) for cells in rows]
    got = fast.parse_many(rows)
    assert got == expected
    assert fast.unknown_stages == plain.unknown_stages == {"Nowhere": sum(
        1 for e, r in zip(expected, rows) if len(r) > 1 and r[header.index("stage")] == "Nowhere"
        and isinstance(e, str) and "stage:" in e)}
    assert sum(isinstance(e, tuple) for e in got) > 20 and sum(isinstance(e, str) for e in got) > 100
