"""`funnel import` as a new user meets it: profiles, --map and saved profiles, the reading options,
the owner of rows that name none, and what the report says (profile, encoding, delimiter, sheet,
the columns left out)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

from funnel_tui.store import Store

CRM = Path(__file__).parent / "data" / "crm"


def deals(db):
    s = Store(db)
    try:
        return sorted(s.list_deals(status="all"), key=lambda d: d["id"])
    finally:
        s.close()


def test_profiles_are_listed_with_their_sources(funnel):
    res = funnel("import", "--profiles")
    assert res.code == 0
    for key in ("funnel", "template_zh", "pipedrive", "hubspot", "salesforce", "zoho", "odoo", "twenty",
                "wukong", "cordys"):
        assert f"  {key} " in res.out
    assert "help.salesforce.com" in res.out
    res = funnel("import", "--profiles", "--format", "json")
    assert [p["key"] for p in json.loads(res.out)][:3] == ["funnel", "template_zh", "pipedrive"]
    assert "name the file" in funnel("import").err


def test_a_salesforce_report_imports_with_no_options(funnel, tmp_path, db_path):
    src = tmp_path / "report.csv"
    shutil.copy(CRM / "salesforce_opportunities.csv", src)
    res = funnel("import", str(src))
    assert res.code == 0, res.out
    assert "import: report.csv (utf-8, Salesforce opportunity report)" in res.out
    assert "read as: profile salesforce, encoding UTF-8 (valid UTF-8), delimiter comma" in res.out
    assert "ignored 4 columns: 'Fiscal Period', 'Age', 'Next Step', 'Type'" in res.out
    assert "5 rows read; imported: 5 new" in res.out
    assert [(d["customer"], d["amount"], d["currency"], d["stage"], d["status"]) for d in deals(db_path)][:3] == [
        ("台积电股份有限公司", 48_500_000, "USD", "negotiation", "open"), ("Acme Robotics", 1_200_000, "USD", "won", "won"),
        ("Globex Trading", 850_050, "USD", "lead", "lost")]


def test_the_chinese_template_from_excel_in_gbk_imports_every_row(funnel, tmp_path, db_path):
    src = tmp_path / "客户跟进表.csv"
    shutil.copy(CRM / "template_zh_excel_gbk.csv", src)
    res = funnel("import", str(src))
    assert res.code == 0 and "4 rows read; imported: 4 new, no duplicates, 0 rejected" in res.out
    assert "encoding GB18030 (detected)" in res.out
    assert [d["stage_entered_at"].isoformat() for d in deals(db_path)][0] == "2024-06-01T01:00:00+00:00"


def test_a_workbook_imports_and_sheet_chooses(funnel, tmp_path, db_path):
    from openpyxl import Workbook

    res = funnel("import", str(CRM / "wukong_shangji.xlsx"), "--dry-run")
    assert res.code == 0 and "(workbook, WukongCRM 商机 export)" in res.out
    assert "read as: profile wukong, sheet '商机'" in res.out and "would import: 3 new" in res.out
    wb = Workbook()
    wb.active.title = "Notes"
    wb.active.append(["just a title"])
    sheet = wb.create_sheet("Deals")
    sheet.append(["customer", "amount", "expected_close"])
    sheet.append(["Hooli", 12.5, "2024-03-15"])
    wb.save(tmp_path / "book.xlsx")
    res = funnel("import", str(tmp_path / "book.xlsx"))
    assert res.code == 1 and "no rows" in res.err  # the first sheet holds a title only
    res = funnel("import", str(tmp_path / "book.xlsx"), "--sheet", "Deals")
    assert res.code == 0 and "sheet 'Deals'" in res.out
    assert [(d["customer"], d["amount"], d["expected_close"]) for d in deals(db_path)] == [
        ("Hooli", 1250, date(2024, 3, 15))]


def test_map_then_save_profile_then_no_options(funnel, tmp_path, db_path):
    header = "Kunde;Betrag;Phase;Abschluss;Notiz\n"
    (tmp_path / "a.csv").write_text(header + "Müller GmbH;12.000;Angebot;03.04.2024;erste\n", encoding="utf-8")
    res = funnel("import", str(tmp_path / "a.csv"))
    assert res.code == 1 and "no profile knows these columns" in res.err and "--map" in res.err
    argv = ["import", str(tmp_path / "a.csv"), "--map", "Kunde=customer", "--map", "Betrag=amount",
            "--map", "Phase=stage", "--map", "Abschluss=expected_close", "--stage-map", "Angebot=demo"]
    res = funnel(*argv)
    assert res.code == 1  # 12.000 and 03.04.2024 alone cannot say how they are written
    assert "--decimal-comma or --decimal-point" in res.out and "--date-order dmy, mdy or ymd" in res.out
    assert "ignored 1 column: 'Notiz'" in res.out
    res = funnel(*argv, "--decimal-comma", "--date-order", "dmy", "--currency", "EUR", "--save-profile", "de-crm")
    assert res.code == 0, res.out
    assert "saved profile de-crm:" in res.out
    (tmp_path / "b.csv").write_text(header + "Weiß AG;1.500;Angebot;04.03.2024;\n", encoding="utf-8")
    res = funnel("import", str(tmp_path / "b.csv"))
    assert res.code == 0 and "profile saved:de-crm" in res.out
    assert [(d["customer"], d["amount"], d["currency"], d["stage"], d["expected_close"]) for d in deals(db_path)] == [
        ("Müller GmbH", 1_200_000, "EUR", "demo", date(2024, 4, 3)),
        ("Weiß AG", 150_000, "EUR", "demo", date(2024, 3, 4))]


def test_map_over_a_recognised_profile_and_leaving_a_column_out(funnel, tmp_path, db_path):
    src = tmp_path / "sf.csv"
    shutil.copy(CRM / "salesforce_opportunities.csv", src)
    res = funnel("import", str(src), "--map", "Next Step=notes", "--map", "Lead Source=-")
    assert res.code == 0
    assert "ignored 4 columns: 'Fiscal Period', 'Age', 'Lead Source', 'Type'" in res.out
    got = deals(db_path)
    assert got[0]["notes"] == "Send contract" and {d["source"] for d in got} == {""}
    assert got[1]["stage"] == "won"  # the profile's stage names still apply under a --map


def test_currency_settles_dollar_signs_and_names_the_rest(funnel, tmp_path, db_path):
    (tmp_path / "d.csv").write_text('customer,amount\nA,"$1,200.00"\nB,900\n', encoding="utf-8")
    res = funnel("import", str(tmp_path / "d.csv"), "--dry-run")
    assert res.code == 1 and "--currency USD" in res.out
    res = funnel("import", str(tmp_path / "d.csv"), "--currency", "USD")
    assert res.code == 0
    assert [(d["amount"], d["currency"]) for d in deals(db_path)] == [(120_000, "USD"), (90_000, "USD")]
    assert "currency: 'dollars' is not a currency code" in funnel("import", str(tmp_path / "d.csv"),
                                                                 "--currency", "dollars").err


def test_an_uncertain_encoding_is_refused_and_encoding_settles_it(funnel, tmp_path, db_path):
    (tmp_path / "t.csv").write_bytes("customer\n北京\n".encode("gbk"))
    res = funnel("import", str(tmp_path / "t.csv"))
    assert res.code == 1 and "GB18030, Big5" in res.err and "--encoding gb18030" in res.err
    res = funnel("import", str(tmp_path / "t.csv"), "--encoding", "gb18030")
    assert res.code == 0 and "encoding GB18030 (as given)" in res.out
    assert [d["customer"] for d in deals(db_path)] == ["北京"]


def test_rows_without_an_owner_are_mine(funnel, tmp_path, db_path):
    (tmp_path / "o.csv").write_text("customer,owner\nA,\nB,Alex\n", encoding="utf-8")
    assert funnel("import", str(tmp_path / "o.csv")).code == 0
    assert [d["owner"] for d in deals(db_path)] == ["", "Alex"]  # nobody is `me` yet
    assert funnel("settings", "me", "王磊").code == 0
    res = funnel("import", str(tmp_path / "o.csv"))
    assert res.code == 0 and "rows without an owner are 王磊's" in res.out
    res = funnel("import", str(tmp_path / "o.csv"), "--owner", "me")
    assert [d["owner"] for d in deals(db_path)] == ["", "Alex", "王磊", "Alex", "王磊", "Alex"]
    funnel("import", str(tmp_path / "o.csv"), "--owner", "Priya")
    assert [d["owner"] for d in deals(db_path)][-2:] == ["Priya", "Alex"]


def test_unknown_stages_are_refused_with_the_hint_and_lost_is_a_target(funnel, tmp_path, db_path):
    (tmp_path / "s.csv").write_text("customer,stage\nA,Gone cold\nB,lead\n", encoding="utf-8")
    res = funnel("import", str(tmp_path / "s.csv"))
    assert res.code == 1 and "unknown stage 'Gone cold'" in res.out
    assert "--stage-map 'Gone cold'=qualified" in res.out and "or =lost" in res.out
    res = funnel("import", str(tmp_path / "s.csv"), "--stage-map", "Gone cold=lost")
    assert res.code == 0
    lost = deals(db_path)[-2]
    assert (lost["customer"], lost["status"], lost["stage"], lost["lost_reason"]) == (
        "A", "lost", "lead", "not in the imported file")
    assert "stage-map: unknown stage 'nowhere'" in funnel("import", str(tmp_path / "s.csv"),
                                                          "--stage-map", "x=nowhere").err


def test_ignored_columns_name_the_first_ten_and_count_the_rest(funnel, tmp_path):
    extra = [f"extra{i}" for i in range(13)]
    (tmp_path / "w.csv").write_text(",".join(["customer", *extra]) + "\n" + ",".join(["A"] + [""] * 13) + "\n",
                                    encoding="utf-8")
    res = funnel("import", str(tmp_path / "w.csv"), "--dry-run")
    assert res.code == 0
    assert "ignored 13 columns: 'extra0', 'extra1', " in res.out and "'extra9' and 3 more" in res.out
    assert "extra10" not in res.out
