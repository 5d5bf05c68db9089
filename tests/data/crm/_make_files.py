"""Writes the files of this folder that are not plain UTF-8 text (run from the repo root:
`.venv/bin/python tests/data/crm/_make_files.py`). The committed files are what the tests read;
this script says how they were made."""

from datetime import datetime
from pathlib import Path

HERE = Path(__file__).parent

BIG5 = """customer,title,amount,currency,owner,stage
台積電股份有限公司,晶圓代工年度合約,"1,200,000",TWD,陳志明,negotiation
鴻海精密工業,伺服器組裝專案,850000,TWD,林美玲,demo
聯發科技,晶片授權,430000,TWD,王大同,qualified
國泰人壽保險,核心系統升級,2600000,TWD,張雅婷,negotiation
統一企業,通路管理系統,120000,TWD,李建國,lead
"""
SHIFT_JIS = """customer,title,amount,currency,owner,stage
株式会社山田製作所,生産管理システム導入,1200000,JPY,佐藤健,negotiation
トヨタ自動車株式会社,販売支援ツール,850000,JPY,鈴木一郎,demo
東京海上日動火災保険,契約管理刷新,430000,JPY,高橋美咲,qualified
ソニーグループ,ライセンス更新,2600000,JPY,田中太郎,negotiation
カシオ計算機,保守契約,120000,JPY,渡辺直子,lead
"""
# The Chinese template after Excel re-saved it: GBK, dates as 2024/6/14 15:16.
TEMPLATE = """客户名称,行业,规模,联系人（经理）,决策角色,当前阶段,进入时间,最近沟通时间,沟通内容摘要,成交概率(%),预计成交金额(万元),风险等级,风险描述,应对措施,跟进人,线索来源,预算范围,决策链,核心痛点,竞争对比
华信科技,制造,500人,张伟,采购负责人,初步意向,2024/6/1 9:00,2024/6/14 15:16,聊了预算，下周给报价,30,12.5,高,预算审批慢,约CFO面谈,王磊,展会,10-20万,CFO→CEO,库存不准,竞品A
蓝海物流,物流,50-200,李娜,技术负责人,方案演示,2024/5/15 10:30,2024/6/13 11:05,演示效果好,50,3,中,,,王磊,老客户转介绍,,,,
北辰医疗,医疗,1000+,王芳,决策人,商务谈判,2024/6/10 14:00,2024/6/14 9:45,"报价已发，¶等待回复",80,0.35,低,,,李娜,官网,,,,
东方明珠电子,电子,200-500,赵敏,财务,潜在线索,2024/6/12 16:20,,,,8,,,,李娜,电话,,,,
"""
EUROPE = """customer;title;amount;expected_close;owner
Müller GmbH;Jahresvertrag;1.234,56;15.03.2024;Jürgen Weiß
Café Société;Renouvellement;12.000,00;04.03.2024;Zoë Lefèvre
São Paulo Distribuição;Piloto;"105.400,00";30.06.2024;João Gonçalves
"""
UTF16_TAB = "customer\ttitle\tamount\towner\nHooli\tAnnual plan\t24000\tMaria Garcia\n华信科技\t年度服务\t120000\t王磊\n"


def main() -> None:
    (HERE / "big5_customers.csv").write_bytes(BIG5.encode("cp950"))
    (HERE / "shift_jis_customers.csv").write_bytes(SHIFT_JIS.encode("cp932"))
    # Excel ends records with CRLF and keeps a line break inside a quoted cell as LF.
    (HERE / "template_zh_excel_gbk.csv").write_bytes(
        TEMPLATE.replace("\n", "\r\n").replace("¶", "\n").encode("gbk"))
    (HERE / "europe_semicolon_cp1252.csv").write_bytes(EUROPE.replace("\n", "\r\n").encode("cp1252"))
    (HERE / "excel_unicode_text.txt").write_bytes(UTF16_TAB.replace("\n", "\r\n").encode("utf-16"))
    write_wukong()


def write_wukong() -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "商机"
    ws.append(["商机名称", "客户名称", "商机状态组", "商机阶段", "商机金额", "预计成交日期", "负责人", "创建人",
               "创建时间", "更新时间", "最后跟进时间", "下次联系时间", "备注"])
    ws.append(["智慧仓储项目", "蓝海物流集团", "销售流程商机组", "需求分析", 350000.5, datetime(2024, 9, 30),
               "王磊", "王磊", datetime(2024, 3, 15, 10, 0), datetime(2024, 6, 14, 15, 16),
               datetime(2024, 6, 14, 15, 16), datetime(2024, 6, 20, 9, 0), "客户关注库存准确率"])
    ws.append(["年度维保合同", "北辰医疗器械", "销售流程商机组", "赢单", 120000, datetime(2024, 6, 30),
               "李娜", "李娜", datetime(2024, 1, 8, 9, 30), datetime(2024, 6, 30, 18, 0), None, None, None])
    ws.append(["ERP替换", "Acme Robotics", "销售流程商机组", "方案/报价", 0.1 + 0.2, datetime(2024, 12, 31),
               "Alex Chen", "王磊", datetime(2024, 5, 20, 14, 0), None, None, None, "=SUM(1,2) 不是公式"])
    ws.cell(4, 13).data_type = "s"  # a note that starts with "=": text, not a formula
    wb.save(HERE / "wukong_shangji.xlsx")


if __name__ == "__main__":
    main()
