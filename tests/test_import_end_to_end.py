"""Each tool's export, imported with no options into a database: every field of every deal as
stored, worked out by hand from the file (tests/data/crm/, whose sources each profile's module
names) and the row rules (a stage's default probability, created = entered when only one is
given, a closed deal's close date, a follow-up date alone at 09:00, …)."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from funnel_tui.exchange.importer import ImportOptions, import_file

CRM = Path(__file__).parent / "data" / "crm"
NOT_GIVEN = "not in the imported file"  # a lost deal's reason when the file has no column for one


@pytest.fixture
def at(tz):
    def moment(y, mo, d, h=0, mi=0):
        """A Shanghai wall time as stored (aware UTC)."""
        return datetime(y, mo, d, h, mi, tzinfo=tz).astimezone(timezone.utc)
    return moment


# Every stored column but the database's own (id, uid, version, updated_at, deleted_at).
BLANK = dict(external_id=None, title="", industry="", company_size="", contact_name="", contact_role="",
             contact_phone="", contact_email="", source="", lead_score=None, owner="", status="open",
             currency="CNY", probability_custom=False, expected_close=None, risk_level=None, risk_note="",
             mitigation="", budget="", decision_chain="", pain_points="", competitors="", lost_reason="",
             notes="", last_contact_at=None, next_follow_up_at=None, closed_at=None)
FIELDS = sorted([*BLANK, "customer", "stage", "amount", "probability", "created_at", "stage_entered_at"])


def deal(**given):
    """The whole stored row: what the file gives, the blanks of everything else."""
    row = {**BLANK, **given}
    row.setdefault("stage_entered_at", row["created_at"])
    assert set(row) == set(FIELDS), set(row) ^ set(FIELDS)
    return row


def imported(store, tmp_path, now, tz, name, **options):
    src = tmp_path / name
    shutil.copy(CRM / name, src)
    report = import_file(store, src, now=now, tz=tz, options=ImportOptions(saved=(), **options))
    rows = [{f: d[f] for f in FIELDS} for d in sorted(store.list_deals(status="all"), key=lambda d: d["id"])]
    return report, rows


def test_salesforce_report(store, tmp_path, now, tz, at):
    rep, rows = imported(store, tmp_path, now, tz, "salesforce_opportunities.csv")
    assert (rep.profile, rep.encoding, rep.delimiter, rep.inserted, rep.rejected) == ("salesforce", "utf-8", ",", 5, 0)
    assert rep.ignored_columns == ["Fiscal Period", "Age", "Next Step", "Type"]
    usd = dict(currency="USD")
    assert rows == [
        deal(owner="Maria Garcia", customer="台积电股份有限公司", title="年度晶圆合约", stage="negotiation",
             amount=48_500_000, probability=75, expected_close=date(2024, 6, 30), created_at=at(2024, 3, 15),
             source="Web", **usd),
        deal(owner="王磊", customer="Acme Robotics", title="Pilot - 50 seats", stage="won", status="won",
             amount=1_200_000, probability=100, closed_at=at(2024, 3, 31), created_at=at(2024, 3, 1),
             source="Partner Referral", **usd),
        # Closed Lost: the stage it was lost in is not in the report (our first stage), nor is why.
        deal(owner="Alex Chen", customer="Globex Trading", title="Support renewal", stage="lead", status="lost",
             amount=850_050, probability=0, probability_custom=True, closed_at=at(2024, 3, 20),
             created_at=at(2024, 2, 15), source="Trade Show", lost_reason=NOT_GIVEN, **usd),
        deal(owner="Maria Garcia", customer='=HYPERLINK("http://evil","x")', title="Acme [/] expansion",
             stage="lead", amount=0, probability=10, expected_close=date(2024, 9, 1), created_at=at(2024, 3, 28),
             source="Cold Call", **usd),
        deal(owner="Alex Chen", customer="北辰医疗", title="Imaging suite", stage="demo", amount=123_456_789,
             probability=75, probability_custom=True, expected_close=date(2024, 5, 15), created_at=at(2024, 4, 2),
             source="Web", **usd),
    ]


def test_hubspot_classic(store, tmp_path, now, tz, at):
    rep, rows = imported(store, tmp_path, now, tz, "hubspot_deals_classic.csv")
    assert (rep.profile, rep.inserted, rep.rejected, rep.follow_ups) == ("hubspot", 4, 0, 1)
    assert rep.ignored_columns == ["Pipeline"]
    assert rows == [
        # No company column: a HubSpot deal is its own customer. Probabilities are fractions.
        deal(external_id="hubspot:9001", customer="Hooli Cloud - annual plan", title="Hooli Cloud - annual plan",
             stage="qualified", amount=2_400_000, probability=40, probability_custom=True,
             expected_close=date(2024, 12, 15), created_at=at(2024, 9, 5, 11), stage_entered_at=at(2024, 10, 1, 9),
             owner="Maria Garcia", next_follow_up_at=at(2024, 11, 27, 10)),
        deal(external_id="hubspot:9002", customer="斯塔克零件 - API", title="斯塔克零件 - API", stage="won",
             status="won", amount=1_500_050, probability=100, closed_at=at(2024, 11, 2),
             created_at=at(2024, 8, 1, 9), stage_entered_at=at(2024, 11, 2, 9), owner="王磊"),
        deal(external_id="hubspot:9003", customer="Soylent Foods - pilot", title="Soylent Foods - pilot",
             stage="lead", status="lost", amount=400_000, probability=0, probability_custom=True,
             closed_at=at(2024, 10, 20), created_at=at(2024, 7, 20, 9), stage_entered_at=at(2024, 10, 20, 9),
             owner="Maria Garcia", lost_reason="budget"),  # "no budget" in the file: a word of the list, kept as its code (issue 14)
        deal(external_id="hubspot:9004", customer="Wayne Logistics - seats", title="Wayne Logistics - seats",
             stage="negotiation", amount=900_000, probability=80, probability_custom=True,
             expected_close=date(2025, 1, 10), created_at=at(2024, 10, 10, 9), stage_entered_at=at(2024, 11, 10, 9),
             owner="Maria Garcia"),
    ]


def test_hubspot_newer_export(store, tmp_path, now, tz, at):
    rep, rows = imported(store, tmp_path, now, tz, "hubspot_deals_new.csv")
    assert (rep.profile, rep.inserted, rep.rejected, rep.follow_ups) == ("hubspot", 3, 0, 1)
    assert rows == [
        deal(external_id="hubspot:31001", customer="Hooli Cloud", title="Annual plan", stage="demo", amount=2_400_000,
             currency="USD", probability=60, probability_custom=True, expected_close=date(2024, 12, 15),
             created_at=at(2024, 9, 5, 11), stage_entered_at=at(2024, 10, 1, 9), owner="Maria Garcia"),
        deal(external_id="hubspot:31002", customer="华信科技有限公司", title="年度服务", stage="negotiation",
             amount=12_000_000, currency="CNY", probability=90, probability_custom=True,
             expected_close=date(2025, 1, 31), created_at=at(2024, 10, 5, 14, 30),
             stage_entered_at=at(2024, 12, 1, 10), owner="李娜", next_follow_up_at=at(2024, 12, 20, 9)),
        deal(external_id="hubspot:31003", customer="Initech GmbH", title="Pilot", stage="lead", status="lost",
             amount=300_000, currency="EUR", probability=0, probability_custom=True, closed_at=at(2024, 11, 20),
             created_at=at(2024, 7, 20, 9), stage_entered_at=at(2024, 11, 20, 9), owner="Maria Garcia",
             lost_reason="went with a competitor"),
    ]


def test_pipedrive_with_deal_currency(store, tmp_path, now, tz, at):
    rep, rows = imported(store, tmp_path, now, tz, "pipedrive_deals.csv")
    assert (rep.profile, rep.inserted, rep.rejected, rep.follow_ups, rep.ignored_columns) == (
        "pipedrive", 4, 0, 2, [])
    assert rows == [
        deal(external_id="pipedrive:101", title="CRM rollout", customer="Acme Robotics", stage="qualified",
             amount=1_200_000, currency="USD", probability=25, owner="Alex Chen", created_at=at(2024, 9, 1, 10, 15),
             stage_entered_at=at(2024, 10, 2, 9), next_follow_up_at=at(2024, 11, 25, 9),  # a date alone: 09:00
             expected_close=date(2024, 12, 31)),
        # Won while in Negotiations Started: a won deal lives in our won stage.
        deal(external_id="pipedrive:102", title="Support renewal", customer="Globex Trading", stage="won",
             status="won", amount=850_050, currency="USD", probability=100, owner="Alex Chen",
             created_at=at(2024, 8, 10, 8), stage_entered_at=at(2024, 10, 20, 16, 30),
             closed_at=at(2024, 10, 25, 11)),
        deal(external_id="pipedrive:103", title="试点项目", customer="蓝海物流", stage="qualified", status="lost",
             amount=300_000, currency="EUR", probability=20, probability_custom=True, owner="王磊",
             created_at=at(2024, 7, 1, 12), stage_entered_at=at(2024, 7, 15, 12), closed_at=at(2024, 7, 30, 18),
             lost_reason="Went with a competitor"),
        deal(external_id="pipedrive:104", title="Analytics add-on", customer="Initech", stage="demo",
             amount=500_000, currency="CNY", probability=60, probability_custom=True, owner="Alex Chen",
             created_at=at(2024, 10, 1, 9), stage_entered_at=at(2024, 11, 1, 9),
             next_follow_up_at=at(2024, 11, 26, 15), expected_close=date(2025, 1, 15)),
    ]


def test_pipedrive_with_currency_of_value(store, tmp_path, now, tz, at):
    rep, rows = imported(store, tmp_path, now, tz, "pipedrive_deals_currency_of_value.csv")
    assert (rep.profile, rep.inserted, rep.rejected) == ("pipedrive", 2, 0)
    assert rows == [
        deal(external_id="pipedrive:201", title="Fleet tracking", customer="Wayne Logistics", stage="demo",
             amount=4_500_000, currency="USD", probability=50, owner="Maria Garcia",
             created_at=at(2024, 9, 12, 10), expected_close=date(2025, 2, 28)),
        deal(external_id="pipedrive:202", title="年度维保", customer="北辰医疗", stage="lead", amount=8_000_000,
             currency="CNY", probability=10, owner="李娜", created_at=at(2024, 10, 3, 15, 20)),
    ]


def test_zoho_german_org(store, tmp_path, now, tz, at):
    rep, rows = imported(store, tmp_path, now, tz, "zoho_deals_de.csv")
    assert (rep.profile, rep.inserted, rep.rejected) == ("zoho", 3, 0)
    assert rep.ignored_columns == ["Type", "Expected Revenue", "Modified Time"]
    assert rep.evidence_passes == 1  # 04.03.2024 is day-first only by its column
    assert rows == [
        deal(external_id="zoho:zcrm_4150868000000411001", owner="Jürgen Weiß", title="Jahresvertrag",
             customer="Müller GmbH", source="Trade Show", contact_name="Anna Schmidt", amount=10_540_000,
             stage="negotiation", probability=90, probability_custom=True, expected_close=date(2024, 3, 15),
             created_at=at(2024, 2, 1, 9, 15)),
        deal(external_id="zoho:zcrm_4150868000000411002", owner="Jürgen Weiß", title="Pilotprojekt",
             customer="Société Générale Lyon", source="Web Download", contact_name="Zoë Lefèvre",
             amount=1_200_000, stage="lead", status="lost", probability=0, probability_custom=True,
             closed_at=at(2024, 3, 4), created_at=at(2024, 1, 5, 11, 30), lost_reason="price"),  # "Price": the code
        deal(external_id="zoho:zcrm_4150868000000411003", owner="李娜", title="华东区域代理",
             customer="上海浦东贸易有限公司", source="Partner", contact_name="张伟", amount=12_685_000,
             stage="qualified", probability=10, probability_custom=True, expected_close=date(2024, 6, 30),
             created_at=at(2024, 3, 20, 8), notes="Rahmenvertrag"),
    ]


def test_odoo_pipeline(store, tmp_path, now, tz, at):
    rep, rows = imported(store, tmp_path, now, tz, "odoo_pipeline.csv")
    assert (rep.profile, rep.inserted, rep.rejected, rep.rounded_probabilities) == ("odoo", 4, 0, 1)
    assert rep.ignored_columns == ["Sales Team"]
    assert rows == [
        deal(title="Office Design Project", customer="Deco Addict", contact_email="deco.addict82@example.com",
             contact_phone="(603)-996-3829", owner="Mitchell Admin", expected_close=date(2024, 6, 30),
             amount=2_400_000, probability=60, probability_custom=True, stage="demo",
             created_at=at(2024, 3, 15, 10, 16)),
        deal(title="云服务器扩容", customer="华信科技有限公司", contact_email="lei.wang@example.cn",
             contact_phone="+86 10 5555 0101", owner="王磊", expected_close=date(2024, 5, 15), amount=12_000_000,
             probability=33, probability_custom=True, stage="qualified", created_at=at(2024, 3, 18, 9)),
        deal(title="Quote for 150 carpets", customer="Ready Mat", contact_email="ready.mat28@example.com",
             contact_phone="(803)-873-6126", owner="Marc Demo", amount=4_000_000, probability=10, stage="lead",
             created_at=at(2024, 2, 1, 14, 45)),
        # Won, and the export has no closing time: closed when it was imported.
        deal(title="Distributor Contract", customer="Gemini Furniture",
             contact_email="gemini.furniture39@example.com", contact_phone="(941)-284-4875",
             owner="Mitchell Admin", expected_close=date(2024, 2, 28), amount=1_980_000, probability=100,
             stage="won", status="won", closed_at=now, created_at=at(2024, 1, 10, 8, 30)),
    ]


def test_twenty_opportunities(store, tmp_path, now, tz, at):
    rep, rows = imported(store, tmp_path, now, tz, "twenty_opportunities.csv")
    assert (rep.profile, rep.encoding, rep.inserted, rep.rejected) == ("twenty", "utf-8-sig", 3, 0)
    utc = timezone.utc
    assert rows == [
        deal(external_id="twenty:4b2f5c1e-0001-4c3a-9a51-000000000001", title="Enterprise plan", amount=150,
             currency="EUR", expected_close=date(2024, 7, 1),  # 16:00Z on June 30th is July 1st in Shanghai
             customer="Initech GmbH", created_at=datetime(2024, 3, 15, 2, 16, tzinfo=utc), stage="demo",
             probability=50),
        deal(external_id="twenty:4b2f5c1e-0002-4c3a-9a51-000000000002", title="云平台迁移", amount=25_000_000,
             currency="CNY", customer="华信科技有限公司", created_at=datetime(2024, 3, 20, 8, tzinfo=utc),
             stage="qualified", probability=25),
        deal(external_id="twenty:4b2f5c1e-0003-4c3a-9a51-000000000003", title="Seats", amount=4_800_025,
             currency="USD", expected_close=date(2024, 5, 1), customer="Hooli",
             created_at=datetime(2024, 1, 10, 9, 30, tzinfo=utc), stage="won", status="won", probability=100,
             closed_at=now),
    ]


def test_wukong_workbook(store, tmp_path, now, tz, at):
    rep, rows = imported(store, tmp_path, now, tz, "wukong_shangji.xlsx")
    assert (rep.profile, rep.encoding, rep.sheet, rep.inserted, rep.rejected, rep.follow_ups) == (
        "wukong", "", "商机", 3, 0, 1)
    assert rep.ignored_columns == ["商机状态组", "创建人", "更新时间"]
    assert rows == [
        deal(title="智慧仓储项目", customer="蓝海物流集团", amount=35_000_050, expected_close=date(2024, 9, 30),
             owner="王磊", created_at=at(2024, 3, 15, 10), last_contact_at=at(2024, 6, 14, 15, 16),
             next_follow_up_at=at(2024, 6, 20, 9), notes="客户关注库存准确率", stage="qualified", probability=25),
        deal(title="年度维保合同", customer="北辰医疗器械", amount=12_000_000, expected_close=date(2024, 6, 30),
             owner="李娜", created_at=at(2024, 1, 8, 9, 30), stage="won", status="won", probability=100,
             closed_at=now),
        deal(title="ERP替换", customer="Acme Robotics", amount=30, expected_close=date(2024, 12, 31),
             owner="Alex Chen", created_at=at(2024, 5, 20, 14), notes="=SUM(1,2) 不是公式", stage="demo",
             probability=50),
    ]


def test_cordys_export(store, tmp_path, now, tz, at):
    rep, rows = imported(store, tmp_path, now, tz, "cordys_shangji.csv")
    assert (rep.profile, rep.inserted, rep.rejected) == ("cordys", 3, 0)
    assert rep.ignored_columns == ["意向产品", "部门", "最新跟进人"]
    assert rows == [
        deal(title="智慧工厂一期", customer="华信科技有限公司", external_id="cordys:OPP-2024-0001", source="展会",
             amount=120_000_000, expected_close=date(2024, 9, 30), probability=50, owner="王磊",
             contact_name="张伟", last_contact_at=at(2024, 6, 14, 15, 16), created_at=at(2024, 3, 15, 10),
             stage="demo"),
        deal(title="门店系统升级", customer="蓝海物流集团", external_id="cordys:OPP-2024-0002", source="官网",
             amount=8_500_000, expected_close=date(2024, 6, 30), probability=100, owner="李娜",
             contact_name="李强", last_contact_at=at(2024, 6, 28, 9), closed_at=at(2024, 6, 28, 18),
             created_at=at(2024, 2, 1, 9, 30), stage="won", status="won"),
        deal(title="数据平台", customer="北辰医疗器械", external_id="cordys:OPP-2024-0003", source="老客户转介绍",
             amount=30_000_000, expected_close=date(2024, 5, 31), probability=0, probability_custom=True,
             lost_reason="预算限制", owner="王磊", contact_name="王芳", last_contact_at=at(2024, 5, 20, 11),
             closed_at=at(2024, 5, 31, 17, 30), created_at=at(2024, 1, 20, 14), stage="lead", status="lost"),
    ]


def test_chinese_template_saved_by_excel_in_gbk_imports_every_row(store, tmp_path, now, tz, at):
    rep, rows = imported(store, tmp_path, now, tz, "template_zh_excel_gbk.csv")
    assert (rep.profile, rep.encoding, rep.encoding_how, rep.inserted, rep.rejected) == (
        "template_zh", "gb18030", "detected", 4, 0)
    assert rep.ignored_columns == []
    # The file gives no scores: the default scorecard scores each row as a single add would
    # (issue 17): 500人 over 200 → 3, 制造 → 1; 50-200 → 2; 1000+ → 3, 决策人 → 2; 200-500 → 2.
    assert rows == [
        deal(customer="华信科技", industry="制造", company_size="500人", lead_score=4, contact_name="张伟", contact_role="采购负责人",
             stage="qualified", stage_entered_at=at(2024, 6, 1, 9), created_at=at(2024, 6, 1, 9),
             last_contact_at=at(2024, 6, 14, 15, 16), notes="聊了预算，下周给报价", probability=30,
             probability_custom=True, amount=12_500_000, risk_level="high", risk_note="预算审批慢",
             mitigation="约CFO面谈", owner="王磊", source="展会", budget="10-20万", decision_chain="CFO→CEO",
             pain_points="库存不准", competitors="竞品A"),
        deal(customer="蓝海物流", industry="物流", company_size="50-200", lead_score=2, contact_name="李娜", contact_role="技术负责人",
             stage="demo", created_at=at(2024, 5, 15, 10, 30), last_contact_at=at(2024, 6, 13, 11, 5),
             notes="演示效果好", probability=50, amount=3_000_000, risk_level="medium", owner="王磊",
             source="老客户转介绍"),
        deal(customer="北辰医疗", industry="医疗", company_size="1000+", lead_score=5, contact_name="王芳", contact_role="决策人",
             stage="negotiation", created_at=at(2024, 6, 10, 14), last_contact_at=at(2024, 6, 14, 9, 45),
             notes="报价已发，\n等待回复", probability=80, probability_custom=True, amount=350_000,
             risk_level="low", owner="李娜", source="官网"),
        deal(customer="东方明珠电子", industry="电子", company_size="200-500", lead_score=2, contact_name="赵敏", contact_role="财务",
             stage="lead", created_at=at(2024, 6, 12, 16, 20), probability=10, amount=8_000_000, owner="李娜",
             source="电话"),
    ]


def test_big5_customer_file(store, tmp_path, now, tz):
    rep, rows = imported(store, tmp_path, now, tz, "big5_customers.csv")
    assert (rep.profile, rep.encoding, rep.encoding_label, rep.inserted) == ("funnel", "cp950", "Big5", 5)
    twd = dict(currency="TWD", created_at=now)  # no dates in the file: created when imported
    assert rows == [
        deal(customer="台積電股份有限公司", title="晶圓代工年度合約", amount=120_000_000, owner="陳志明",
             stage="negotiation", probability=75, **twd),
        deal(customer="鴻海精密工業", title="伺服器組裝專案", amount=85_000_000, owner="林美玲", stage="demo",
             probability=50, **twd),
        deal(customer="聯發科技", title="晶片授權", amount=43_000_000, owner="王大同", stage="qualified",
             probability=25, **twd),
        deal(customer="國泰人壽保險", title="核心系統升級", amount=260_000_000, owner="張雅婷", stage="negotiation",
             probability=75, **twd),
        deal(customer="統一企業", title="通路管理系統", amount=12_000_000, owner="李建國", stage="lead",
             probability=10, **twd),
    ]


def test_european_semicolon_file(store, tmp_path, now, tz):
    rep, rows = imported(store, tmp_path, now, tz, "europe_semicolon_cp1252.csv")
    assert (rep.profile, rep.encoding, rep.delimiter, rep.inserted, rep.evidence_passes) == (
        "funnel", "cp1252", ";", 3, 1)
    common = dict(created_at=now, stage="lead", probability=10)
    assert rows == [
        deal(customer="Müller GmbH", title="Jahresvertrag", amount=123_456, expected_close=date(2024, 3, 15),
             owner="Jürgen Weiß", **common),
        deal(customer="Café Société", title="Renouvellement", amount=1_200_000, expected_close=date(2024, 3, 4),
             owner="Zoë Lefèvre", **common),
        deal(customer="São Paulo Distribuição", title="Piloto", amount=10_540_000,
             expected_close=date(2024, 6, 30), owner="João Gonçalves", **common),
    ]


def test_shift_jis_and_excel_unicode_text(store, tmp_path, now, tz):
    rep, rows = imported(store, tmp_path, now, tz, "shift_jis_customers.csv")
    assert (rep.encoding_label, rep.inserted) == ("Shift_JIS", 5)
    assert [(r["customer"], r["amount"], r["currency"]) for r in rows][:2] == [
        ("株式会社山田製作所", 120_000_000, "JPY"), ("トヨタ自動車株式会社", 85_000_000, "JPY")]
    rep, rows = imported(store, tmp_path, now, tz, "excel_unicode_text.txt")
    assert (rep.encoding, rep.delimiter, rep.inserted) == ("utf-16", "\t", 2)
    assert [(r["customer"], r["title"], r["amount"], r["owner"]) for r in rows][5:] == [
        ("Hooli", "Annual plan", 2_400_000, "Maria Garcia"), ("华信科技", "年度服务", 12_000_000, "王磊")]
