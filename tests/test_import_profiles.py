"""Profiles of the tools reps leave: recognised from headers alone, and every value of every row
of a file in each tool's shape read exactly (tests/data/crm/)."""

from __future__ import annotations

import itertools
import json
import os
import stat
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from funnel_tui.exchange import profiles as P
from funnel_tui.exchange.profiles.saved import (
    SavedProfileError,
    apply_map,
    load_saved,
    parse_map,
    save_profile,
)
from funnel_tui.exchange.reading import ReadOptions, plan_import

CRM = Path(__file__).parent / "data" / "crm"
SH = ZoneInfo("Asia/Shanghai")
BUILTIN = list(P.registry().values())


def at(y, mo, d, h=0, mi=0):
    """A Shanghai wall time as the aware UTC datetime the readers return."""
    return datetime(y, mo, d, h, mi, tzinfo=SH).astimezone(timezone.utc)


def read_file(name, **opts):
    with plan_import(CRM / name, ReadOptions(tz=SH, **opts)) as plan:
        rows = [r.cells for r in plan.table.records]
        plan.observe(rows)
        out = plan.read_columns(rows)
        key = plan.match.profile.key
    fields = list(out.values)
    return key, [{f: out.values[f][k] for f in fields} for k in range(len(rows))], out


# --- recognition ---------------------------------------------------------------------------


@pytest.mark.parametrize("profile", BUILTIN, ids=lambda p: p.key)
def test_each_profile_recognises_its_own_header(profile):
    assert P.recognise(profile.sample).profile is profile


@pytest.mark.parametrize("mine, other", list(itertools.permutations(BUILTIN, 2)),
                         ids=lambda p: p.key)
def test_no_profile_is_taken_for_another(mine, other):
    theirs = P.score(other, mine.sample)
    assert theirs is None or theirs < P.score(mine, mine.sample)


def test_zoho_is_not_hubspot_and_hubspot_is_not_zoho():
    zoho = ["Deal Name", "Deal Owner", "Account Name", "Amount", "Closing Date", "Stage", "Probability (%)"]
    hubspot = ["Deal Name", "Deal owner", "Deal Stage", "Amount", "Close Date", "Create Date"]
    assert P.recognise(zoho).profile.key == "zoho" and P.score(P.registry()["hubspot"], zoho) is None
    assert P.recognise(hubspot).profile.key == "hubspot" and P.score(P.registry()["zoho"], hubspot) is None


def test_a_tie_is_refused_naming_both_and_profile_settles_it():
    header = ["商机名称", "商机阶段", "商机金额", "商机状态组", "意向产品"]
    with pytest.raises(P.ProfileUnclear) as err:
        P.recognise(header)
    assert set(err.value.candidates) == {"wukong", "cordys"} and "--profile" in str(err.value)
    assert P.recognise(header, choose="cordys").profile.key == "cordys"
    with pytest.raises(P.ProfileUnclear, match="no such profile"):
        P.recognise(header, choose="sap")


def test_an_unknown_header_asks_for_a_map():
    with pytest.raises(P.ProfileUnclear, match="--map"):
        P.recognise(["Kunde", "Betrag"])


def test_two_columns_for_one_field_are_refused_unless_twins():
    with pytest.raises(P.ProfileUnclear, match="both mean customer"):
        P.recognise(["Deal Name", "Deal Stage", "Associated Company", "Company name"])
    m = P.recognise(["Deal - Title", "Deal - Currency", "Deal - Currency of Value"])
    assert m.fields["currency"] == [1, 2]


def test_the_registry_lists_every_profile_with_its_source():
    rows = P.describe()
    assert [k for k, _, _ in rows] == list(P.PROFILE_MODULES)
    assert all(source for _, _, source in rows)
    for key in P.PROFILE_MODULES:
        module = __import__(f"funnel_tui.exchange.profiles.{key}", fromlist=["x"])
        assert "Source" in module.__doc__


# --- every value of every row, per tool ---------------------------------------------------


def test_salesforce_report_reads_with_no_options():
    key, rows, out = read_file("salesforce_opportunities.csv")
    assert key == "salesforce" and out.reasons == [None] * 5
    assert rows == [
        dict(owner="Maria Garcia", customer="台积电股份有限公司", title="年度晶圆合约", amount=48_500_000,
             probability=75, created_at=at(2024, 3, 15), source="Web", stage="negotiation", status=None,
             currency="USD", expected_close=date(2024, 6, 30), closed_at=None),
        dict(owner="王磊", customer="Acme Robotics", title="Pilot - 50 seats", amount=1_200_000,
             probability=100, created_at=at(2024, 3, 1), source="Partner Referral", stage="won",
             status="won", currency="USD", expected_close=None, closed_at=at(2024, 3, 31)),
        dict(owner="Alex Chen", customer="Globex Trading", title="Support renewal", amount=850_050,
             probability=0, created_at=at(2024, 2, 15), source="Trade Show", stage=None, status="lost",
             currency="USD", expected_close=None, closed_at=at(2024, 3, 20)),
        dict(owner="Maria Garcia", customer='=HYPERLINK("http://evil","x")', title="Acme [/] expansion",
             amount=0, probability=10, created_at=at(2024, 3, 28), source="Cold Call", stage="lead",
             status=None, currency="USD", expected_close=date(2024, 9, 1), closed_at=None),
        dict(owner="Alex Chen", customer="北辰医疗", title="Imaging suite", amount=123_456_789,
             probability=75, created_at=at(2024, 4, 2), source="Web", stage="demo", status=None,
             currency="USD", expected_close=date(2024, 5, 15), closed_at=None),
    ]


def test_hubspot_classic():
    key, rows, out = read_file("hubspot_deals_classic.csv")
    assert key == "hubspot" and out.reasons == [None] * 4
    common = dict(currency=None, next_follow_up_at=None)
    assert rows == [
        {**common, "external_id": "hubspot:9001", "title": "Hooli Cloud - annual plan", "amount": 2_400_000,
         "created_at": at(2024, 9, 5, 11), "owner": "Maria Garcia", "probability": 40,
         "stage_entered_at": at(2024, 10, 1, 9), "next_follow_up_at": at(2024, 11, 27, 10), "lost_reason": "",
         "stage": "qualified", "status": None, "expected_close": date(2024, 12, 15), "closed_at": None},
        {**common, "external_id": "hubspot:9002", "title": "斯塔克零件 - API", "amount": 1_500_050,
         "created_at": at(2024, 8, 1, 9), "owner": "王磊", "probability": 100,
         "stage_entered_at": at(2024, 11, 2, 9), "lost_reason": "", "stage": "won", "status": "won",
         "expected_close": None, "closed_at": at(2024, 11, 2)},
        {**common, "external_id": "hubspot:9003", "title": "Soylent Foods - pilot", "amount": 400_000,
         "created_at": at(2024, 7, 20, 9), "owner": "Maria Garcia", "probability": 0,
         "stage_entered_at": at(2024, 10, 20, 9), "lost_reason": "no budget", "stage": None,
         "status": "lost", "expected_close": None, "closed_at": at(2024, 10, 20)},
        {**common, "external_id": "hubspot:9004", "title": "Wayne Logistics - seats", "amount": 900_000,
         "created_at": at(2024, 10, 10, 9), "owner": "Maria Garcia", "probability": 80,
         "stage_entered_at": at(2024, 11, 10, 9), "lost_reason": "", "stage": "negotiation",
         "status": None, "expected_close": date(2025, 1, 10), "closed_at": None},
    ]


def test_hubspot_newer_export_reads_the_primary_company_and_currency():
    key, rows, out = read_file("hubspot_deals_new.csv")
    assert key == "hubspot" and out.reasons == [None] * 3
    assert [(r["customer"], r["title"], r["amount"], r["currency"], r["stage"], r["status"], r["probability"])
            for r in rows] == [
        ("Hooli Cloud", "Annual plan", 2_400_000, "USD", "demo", None, 60),
        ("华信科技有限公司", "年度服务", 12_000_000, "CNY", "negotiation", None, 90),
        ("Initech GmbH", "Pilot", 300_000, "EUR", None, "lost", 0),
    ]
    assert [(r["expected_close"], r["closed_at"], r["created_at"], r["stage_entered_at"],
             r["next_follow_up_at"], r["lost_reason"], r["owner"], r["external_id"]) for r in rows] == [
        (date(2024, 12, 15), None, at(2024, 9, 5, 11), at(2024, 10, 1, 9), None, "", "Maria Garcia",
         "hubspot:31001"),
        (date(2025, 1, 31), None, at(2024, 10, 5, 14, 30), at(2024, 12, 1, 10), at(2024, 12, 20, 9), "",
         "李娜", "hubspot:31002"),
        (None, at(2024, 11, 20), at(2024, 7, 20, 9), at(2024, 11, 20, 9), None, "went with a competitor",
         "Maria Garcia", "hubspot:31003"),
    ]


def test_pipedrive_with_deal_currency():
    key, rows, out = read_file("pipedrive_deals.csv")
    assert key == "pipedrive" and out.reasons == [None] * 4
    assert rows == [
        dict(external_id="pipedrive:101", title="CRM rollout", customer="Acme Robotics", amount=1_200_000,
             currency="USD", status="open", probability=None, owner="Alex Chen",
             created_at=at(2024, 9, 1, 10, 15), stage_entered_at=at(2024, 10, 2, 9),
             next_follow_up_at=at(2024, 11, 25), expected_close=date(2024, 12, 31), lost_reason="",
             closed_at=None, stage="qualified"),
        dict(external_id="pipedrive:102", title="Support renewal", customer="Globex Trading", amount=850_050,
             currency="USD", status="won", probability=None, owner="Alex Chen", created_at=at(2024, 8, 10, 8),
             stage_entered_at=at(2024, 10, 20, 16, 30), next_follow_up_at=None, expected_close=None,
             lost_reason="", closed_at=at(2024, 10, 25, 11), stage="negotiation"),
        dict(external_id="pipedrive:103", title="试点项目", customer="蓝海物流", amount=300_000,
             currency="EUR", status="lost", probability=20, owner="王磊", created_at=at(2024, 7, 1, 12),
             stage_entered_at=at(2024, 7, 15, 12), next_follow_up_at=None, expected_close=None,
             lost_reason="Went with a competitor", closed_at=at(2024, 7, 30, 18), stage="qualified"),
        dict(external_id="pipedrive:104", title="Analytics add-on", customer="Initech", amount=500_000,
             currency="CNY", status="open", probability=60, owner="Alex Chen", created_at=at(2024, 10, 1, 9),
             stage_entered_at=at(2024, 11, 1, 9), next_follow_up_at=at(2024, 11, 26, 15),
             expected_close=date(2025, 1, 15), lost_reason="", closed_at=None, stage="demo"),
    ]


def test_pipedrive_with_currency_of_value():
    key, rows, out = read_file("pipedrive_deals_currency_of_value.csv")
    assert key == "pipedrive" and out.reasons == [None, None]
    assert rows == [
        dict(external_id="pipedrive:201", title="Fleet tracking", customer="Wayne Logistics", amount=4_500_000,
             currency="USD", status="open", probability=50, owner="Maria Garcia",
             created_at=at(2024, 9, 12, 10), expected_close=date(2025, 2, 28), stage="demo"),
        dict(external_id="pipedrive:202", title="年度维保", customer="北辰医疗", amount=8_000_000,
             currency="CNY", status="open", probability=10, owner="李娜", created_at=at(2024, 10, 3, 15, 20),
             expected_close=None, stage="lead"),
    ]


def test_zoho_german_org_decimal_comma_and_day_first_from_the_columns():
    key, rows, out = read_file("zoho_deals_de.csv")
    assert key == "zoho" and out.reasons == [None] * 3
    assert rows == [
        dict(external_id="zoho:zcrm_4150868000000411001", owner="Jürgen Weiß", title="Jahresvertrag",
             customer="Müller GmbH", source="Trade Show", contact_name="Anna Schmidt", amount=10_540_000,
             probability=90, created_at=at(2024, 2, 1, 9, 15), lost_reason="", notes="", stage="negotiation",
             status=None, currency=None, expected_close=date(2024, 3, 15), closed_at=None),
        dict(external_id="zoho:zcrm_4150868000000411002", owner="Jürgen Weiß", title="Pilotprojekt",
             customer="Société Générale Lyon", source="Web Download", contact_name="Zoë Lefèvre",
             amount=1_200_000, probability=0, created_at=at(2024, 1, 5, 11, 30), lost_reason="Price", notes="",
             stage=None, status="lost", currency=None, expected_close=None, closed_at=at(2024, 3, 4)),
        dict(external_id="zoho:zcrm_4150868000000411003", owner="李娜", title="华东区域代理",
             customer="上海浦东贸易有限公司", source="Partner", contact_name="张伟", amount=12_685_000,
             probability=10, created_at=at(2024, 3, 20, 8), lost_reason="", notes="Rahmenvertrag",
             stage="qualified", status=None, currency=None, expected_close=date(2024, 6, 30), closed_at=None),
    ]


def test_odoo_float_percent_probabilities_and_rounding_counted():
    key, rows, out = read_file("odoo_pipeline.csv")
    assert key == "odoo" and out.reasons == [None] * 4 and out.rounded_probabilities == 1
    assert [(r["title"], r["customer"], r["amount"], r["probability"], r["stage"], r["status"], r["owner"],
             r["expected_close"], r["created_at"], r["contact_email"], r["contact_phone"]) for r in rows] == [
        ("Office Design Project", "Deco Addict", 2_400_000, 60, "demo", None, "Mitchell Admin",
         date(2024, 6, 30), at(2024, 3, 15, 10, 16), "deco.addict82@example.com", "(603)-996-3829"),
        ("云服务器扩容", "华信科技有限公司", 12_000_000, 33, "qualified", None, "王磊", date(2024, 5, 15),
         at(2024, 3, 18, 9), "lei.wang@example.cn", "+86 10 5555 0101"),
        ("Quote for 150 carpets", "Ready Mat", 4_000_000, 10, "lead", None, "Marc Demo", None,
         at(2024, 2, 1, 14, 45), "ready.mat28@example.com", "(803)-873-6126"),
        ("Distributor Contract", "Gemini Furniture", 1_980_000, 100, "won", "won", "Mitchell Admin",
         date(2024, 2, 28), at(2024, 1, 10, 8, 30), "gemini.furniture39@example.com", "(941)-284-4875"),
    ]
    assert all(r["currency"] is None for r in rows) and set(rows[0]) == {
        "created_at", "title", "customer", "contact_email", "contact_phone", "owner", "expected_close",
        "amount", "probability", "stage", "status", "currency"}


def test_twenty_composite_columns():
    key, rows, out = read_file("twenty_opportunities.csv")
    assert key == "twenty" and out.reasons == [None] * 3
    assert rows == [
        dict(external_id="twenty:4b2f5c1e-0001-4c3a-9a51-000000000001", title="Enterprise plan", amount=150,
             currency="EUR", expected_close=date(2024, 7, 1),  # 16:00Z is July 1st in Shanghai
             customer="Initech GmbH", created_at=datetime(2024, 3, 15, 2, 16, tzinfo=timezone.utc),
             stage="demo", status=None),
        dict(external_id="twenty:4b2f5c1e-0002-4c3a-9a51-000000000002", title="云平台迁移", amount=25_000_000,
             currency="CNY", expected_close=None, customer="华信科技有限公司",
             created_at=datetime(2024, 3, 20, 8, 0, tzinfo=timezone.utc), stage="qualified", status=None),
        dict(external_id="twenty:4b2f5c1e-0003-4c3a-9a51-000000000003", title="Seats", amount=4_800_025,
             currency="USD", expected_close=date(2024, 5, 1), customer="Hooli",
             created_at=datetime(2024, 1, 10, 9, 30, tzinfo=timezone.utc), stage="won", status="won"),
    ]


def test_wukong_workbook():
    key, rows, out = read_file("wukong_shangji.xlsx")
    assert key == "wukong" and out.reasons == [None] * 3
    assert rows == [
        dict(title="智慧仓储项目", customer="蓝海物流集团", amount=35_000_050, expected_close=date(2024, 9, 30),
             owner="王磊", created_at=at(2024, 3, 15, 10), last_contact_at=at(2024, 6, 14, 15, 16),
             next_follow_up_at=at(2024, 6, 20, 9), notes="客户关注库存准确率", stage="qualified", status=None,
             currency=None),
        dict(title="年度维保合同", customer="北辰医疗器械", amount=12_000_000, expected_close=date(2024, 6, 30),
             owner="李娜", created_at=at(2024, 1, 8, 9, 30), last_contact_at=None, next_follow_up_at=None,
             notes="", stage="won", status="won", currency=None),
        dict(title="ERP替换", customer="Acme Robotics", amount=30, expected_close=date(2024, 12, 31),
             owner="Alex Chen", created_at=at(2024, 5, 20, 14), last_contact_at=None, next_follow_up_at=None,
             notes="=SUM(1,2) 不是公式", stage="demo", status=None, currency=None),
    ]


def test_cordys_export():
    key, rows, out = read_file("cordys_shangji.csv")
    assert key == "cordys" and out.reasons == [None] * 3
    assert rows == [
        dict(title="智慧工厂一期", customer="华信科技有限公司", external_id="cordys:OPP-2024-0001", source="展会",
             amount=120_000_000, expected_close=date(2024, 9, 30), probability=50, lost_reason="",
             owner="王磊", contact_name="张伟", last_contact_at=at(2024, 6, 14, 15, 16), closed_at=None,
             created_at=at(2024, 3, 15, 10), stage="demo", status=None, currency=None),
        dict(title="门店系统升级", customer="蓝海物流集团", external_id="cordys:OPP-2024-0002", source="官网",
             amount=8_500_000, expected_close=date(2024, 6, 30), probability=100, lost_reason="",
             owner="李娜", contact_name="李强", last_contact_at=at(2024, 6, 28, 9),
             closed_at=at(2024, 6, 28, 18), created_at=at(2024, 2, 1, 9, 30), stage="won", status="won",
             currency=None),
        dict(title="数据平台", customer="北辰医疗器械", external_id="cordys:OPP-2024-0003", source="老客户转介绍",
             amount=30_000_000, expected_close=date(2024, 5, 31), probability=0, lost_reason="预算限制",
             owner="王磊", contact_name="王芳", last_contact_at=at(2024, 5, 20, 11),
             closed_at=at(2024, 5, 31, 17, 30), created_at=at(2024, 1, 20, 14), stage=None, status="lost",
             currency=None),
    ]


def test_chinese_template_saved_by_excel_in_gbk_reads_every_row():
    key, rows, out = read_file("template_zh_excel_gbk.csv")
    assert key == "template_zh" and out.reasons == [None] * 4
    assert [(r["customer"], r["stage"], r["amount"], r["currency"], r["probability"], r["stage_entered_at"],
             r["last_contact_at"], r["owner"], r["risk_level"]) for r in rows] == [
        ("华信科技", "qualified", 12_500_000, "CNY", 30, at(2024, 6, 1, 9), at(2024, 6, 14, 15, 16), "王磊", "高"),
        ("蓝海物流", "demo", 3_000_000, "CNY", 50, at(2024, 5, 15, 10, 30), at(2024, 6, 13, 11, 5), "王磊", "中"),
        ("北辰医疗", "negotiation", 350_000, "CNY", 80, at(2024, 6, 10, 14), at(2024, 6, 14, 9, 45), "李娜", "低"),
        ("东方明珠电子", "lead", 8_000_000, "CNY", None, at(2024, 6, 12, 16, 20), None, "李娜", ""),
    ]
    assert rows[2]["notes"] == "报价已发，\n等待回复"
    assert [r["contact_name"] for r in rows] == ["张伟", "李娜", "王芳", "赵敏"]
    assert rows[0] | {} == rows[0] and rows[0]["decision_chain"] == "CFO→CEO" and rows[0]["budget"] == "10-20万"


@pytest.mark.parametrize("name, customers, amounts, currency", [
    ("big5_customers.csv", ["台積電股份有限公司", "鴻海精密工業", "聯發科技", "國泰人壽保險", "統一企業"],
     [120_000_000, 85_000_000, 43_000_000, 260_000_000, 12_000_000], "TWD"),
    ("shift_jis_customers.csv", ["株式会社山田製作所", "トヨタ自動車株式会社", "東京海上日動火災保険", "ソニーグループ",
                                 "カシオ計算機"], [120_000_000, 85_000_000, 43_000_000, 260_000_000, 12_000_000], "JPY"),
])
def test_big5_and_shift_jis_customer_files(name, customers, amounts, currency):
    key, rows, out = read_file(name)
    assert key == "funnel" and out.reasons == [None] * 5
    assert [r["customer"] for r in rows] == customers
    assert [r["amount"] for r in rows] == amounts and {r["currency"] for r in rows} == {currency}
    assert [r["stage"] for r in rows] == ["negotiation", "demo", "qualified", "negotiation", "lead"]


def test_european_semicolon_file():
    key, rows, out = read_file("europe_semicolon_cp1252.csv")
    assert key == "funnel" and out.reasons == [None] * 3
    assert [(r["customer"], r["amount"], r["expected_close"], r["owner"]) for r in rows] == [
        ("Müller GmbH", 123_456, date(2024, 3, 15), "Jürgen Weiß"),
        ("Café Société", 1_200_000, date(2024, 3, 4), "Zoë Lefèvre"),
        ("São Paulo Distribuição", 10_540_000, date(2024, 6, 30), "João Gonçalves"),
    ]


# --- what a row cannot be read as -----------------------------------------------------------


def test_an_unknown_stage_names_stage_map_and_the_option_maps_it(tmp_path):
    path = tmp_path / "sf.csv"
    path.write_text("Opportunity Name,Account Name,Stage,Amount\nA,Acme,Discovery,USD 5.00\n"
                    "B,Beta,Discovery,USD 6.00\n", encoding="utf-8")
    with plan_import(path, ReadOptions(tz=SH)) as plan:
        rows = [r.cells for r in plan.table.records]
        out = plan.read_columns(rows)
    assert out.unknown_stages == {"Discovery": 2} and "--stage-map 'Discovery'=qualified" in out.reasons[0]
    with plan_import(path, ReadOptions(tz=SH, stage_map={P.norm("Discovery"): "qualified"})) as plan:
        out = plan.read_columns([r.cells for r in plan.table.records])
    assert out.values["stage"] == ["qualified", "qualified"] and out.reasons == [None, None]


def test_a_dollar_amount_needs_a_currency(tmp_path):
    path = tmp_path / "sf.csv"
    path.write_text("Opportunity Name,Account Name,Stage,Amount\nA,Acme,Prospecting,\"$1,200.00\"\n",
                    encoding="utf-8")
    with plan_import(path, ReadOptions(tz=SH)) as plan:
        out = plan.read_columns([r.cells for r in plan.table.records])
    assert "--currency USD" in out.reasons[0]
    with plan_import(path, ReadOptions(tz=SH, currency="USD")) as plan:
        out = plan.read_columns([r.cells for r in plan.table.records])
    assert out.values["currency"] == ["USD"] and out.values["amount"] == [120_000]


def test_twin_columns_that_disagree_refuse_the_row(tmp_path):
    path = tmp_path / "pd.csv"
    path.write_text("Deal - Title,Deal - Organization,Deal - Value,Deal - Currency,Deal - Currency of Value\n"
                    "A,Acme,5,USD,USD\nB,Beta,5,USD,EUR\n", encoding="utf-8")
    with plan_import(path, ReadOptions(tz=SH)) as plan:
        out = plan.read_columns([r.cells for r in plan.table.records])
    assert out.reasons[0] is None and "two columns say 'USD' and 'EUR'" in out.reasons[1]


def test_a_stage_that_says_won_against_a_status_that_says_lost(tmp_path):
    path = tmp_path / "wk.csv"
    path.write_text("商机名称,客户名称,商机阶段,商机金额,赢单/输单\n甲,乙,赢单,100,输单\n", encoding="utf-8")
    with plan_import(path, ReadOptions(tz=SH)) as plan:
        out = plan.read_columns([r.cells for r in plan.table.records])
    assert "the stage says won but the status column says lost" in out.reasons[0]


# --- --map and saved profiles ---------------------------------------------------------------


def test_map_items():
    assert parse_map(["Opportunity Name=title", "Amount (a=b)=amount"]) == {
        "Opportunity Name": "title", "Amount (a=b)": "amount"}
    for bad, why in (("Opportunity", "not Header=field"), ("X=bogus", "not a field"), ("=title", "not Header")):
        with pytest.raises(SavedProfileError, match=why):
            parse_map([bad])
    with pytest.raises(SavedProfileError, match="two columns are mapped to title"):
        parse_map(["A=title", "B=title"])


def test_a_map_over_a_recognised_profile_and_alone():
    header = ["Opportunity Name", "Account Name", "Stage", "Next Step", "Amount"]
    m = apply_map(P.recognise(header), header, {"Next Step": "notes"})
    assert m.fields == {"title": [0], "customer": [1], "stage": [2], "notes": [3], "amount": [4]}
    assert m.profile.stage_of("Closed Won").stage == "won"  # the profile's stage names are kept
    alone = apply_map(None, ["Kunde", "Betrag"], {"Kunde": "customer", "Betrag": "amount"})
    assert alone.fields == {"customer": [0], "amount": [1]}
    with pytest.raises(SavedProfileError, match="no column 'Kunden'"):
        apply_map(None, ["Kunde"], {"Kunden": "customer"})


def test_saved_profiles_round_trip_and_are_tried_first(tmp_path):
    path = save_profile("acme-sfdc", {"Opportunity Name": "title", "Account Name": "customer", "Amount": "amount",
                                      "Stage": "stage"},
                        stages={"Discovery": "qualified", "Gone": "lost"}, decimal="comma", date_order="dmy",
                        currency="EUR", directory=tmp_path)
    assert path == tmp_path / "acme-sfdc.json" and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "funnel-tui import profile" and data["version"] == 1
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    (tmp_path / "other.json").write_text(json.dumps({"format": "x"}), encoding="utf-8")
    saved, problems = load_saved(tmp_path)
    assert [p.key for p in saved] == ["saved:acme-sfdc"] and len(problems) == 2
    header = ["Opportunity Name", "Account Name", "Stage", "Amount", "Close Date"]
    m = P.recognise(header, saved=saved)
    assert m.profile.key == "saved:acme-sfdc" and m.ignored == ["Close Date"]
    assert m.profile.stage_of("discovery") == P.StageName("qualified")
    assert m.profile.stage_of("Gone") == P.StageName(None, "lost")
    assert (m.profile.decimal, m.profile.date_order, m.profile.signs["$"]) == ("comma", "dmy", "EUR")
    assert P.recognise(["Opportunity Name", "Stage"], saved=saved).profile.key == "salesforce"
    with pytest.raises(SavedProfileError, match="not a name"):
        save_profile("../evil", {"A": "customer"}, directory=tmp_path)
    with pytest.raises(SavedProfileError, match="decimal"):
        save_profile("x", {"A": "customer"}, decimal="both", directory=tmp_path)
