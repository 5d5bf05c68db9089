"""Files as people have them: encodings, delimiters, workbooks, broken and binary files."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from funnel_tui.exchange.import_read import ImportFileError
from funnel_tui.exchange.encodings import EncodingUncertain, sniff_encoding
from funnel_tui.exchange.tables import ignored_line, open_table
from funnel_tui.exchange.workbook import excel_number

CRM = Path(__file__).parent / "data" / "crm"
REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name, encoding, first", [
    ("big5_customers.csv", "cp950", "台積電股份有限公司"),
    ("shift_jis_customers.csv", "cp932", "株式会社山田製作所"),
    ("template_zh_excel_gbk.csv", "gb18030", "华信科技"),
    ("europe_semicolon_cp1252.csv", "cp1252", "Müller GmbH"),
    ("excel_unicode_text.txt", "utf-16", "Hooli"),
    ("twenty_opportunities.csv", "utf-8-sig", "4b2f5c1e-0001-4c3a-9a51-000000000001"),
    ("cordys_shangji.csv", "utf-8", "智慧工厂一期"),
])
def test_each_encoding_is_found_and_reads_the_names(name, encoding, first):
    with open_table(CRM / name) as table:
        assert table.encoding.encoding == encoding
        assert next(table.records).cells[0] == first


def test_mojibake_candidates_are_not_taken(tmp_path):
    # Big5 and Shift_JIS decode "successfully" as GB18030: the detector must not take that.
    for name in ("big5_customers.csv", "shift_jis_customers.csv"):
        raw = (CRM / name).read_bytes()
        raw.decode("gb18030")  # it does decode...
        assert sniff_encoding(CRM / name).encoding != "gb18030"  # ...and is not read so


def test_an_uncertain_file_is_refused_with_the_candidates(tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_bytes("customer\n北京\n".encode("gbk"))  # as Big5 these bytes read 控儔, also plausible
    with pytest.raises(EncodingUncertain) as err:
        sniff_encoding(path)
    assert err.value.candidates == ["GB18030", "Big5"]
    assert "--encoding gb18030" in str(err.value)
    assert sniff_encoding(path, "gb18030").encoding == "gb18030"  # the option settles it


def test_a_known_header_settles_between_candidates(tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_bytes("客户名称,当前阶段\n北京,初步意向\n".encode("gbk"))
    assert sniff_encoding(path, header_known=lambda line: line.startswith("客户名称")).encoding == "gb18030"


def test_an_encoding_that_breaks_later_is_reported_with_its_line(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes("customer\n华信\n".encode("utf-8") + "北辰\n".encode("gbk"))
    with pytest.raises(ImportFileError):
        sniff_encoding(path)
    with pytest.raises(ImportFileError, match="line 3 is not valid utf-8"):
        sniff_encoding(path, "utf-8")


@pytest.mark.parametrize("content, what", [
    (b"%PDF-1.7\n", "PDF"), (b"\x89PNG\r\n\x1a\nxxxx", "PNG"), (bytes(range(256)) * 8, "binary"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ".xls"),
])
def test_binary_files_are_not_csv(tmp_path, content, what):
    path = tmp_path / "deals.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError) as err:
        open_table(path)
    assert "not a CSV file or a workbook" in str(err.value) and what in str(err.value)


def test_a_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "report.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
    with pytest.raises(ImportFileError, match="a Word document"):
        open_table(path)


@pytest.mark.parametrize("text, delimiter", [
    ("customer,amount\nA,1\n", ","), ("customer;amount\nA;1,5\n", ";"), ("customer\tamount\nA\t1\n", "\t"),
    ('"a;b",c\nx,y\n', ","), ("sep=;\ncustomer;amount\nA;1\n", ";"),
])
def test_delimiters_are_sniffed_and_reported(tmp_path, text, delimiter):
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")
    with open_table(path) as table:
        assert table.delimiter == delimiter
        assert any(n.startswith("delimiter ") for n in table.notes)
        assert len(next(table.records).cells) == 2


def test_an_unterminated_quote_names_the_lines_it_swallowed(tmp_path):
    path = tmp_path / "q.csv"
    rows = ["customer,amount,notes", "A,1,ok", 'B,2,"never closed'] + [f"C{i},{i},x" for i in range(998)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with open_table(path) as table:
        records = list(table.records)
    assert [r.line for r in records] == [2, 3]
    assert records[1].cells is None
    assert "lines 3–1001" in records[1].error and "unterminated quote" in records[1].error


def test_a_quote_that_swallows_rows_is_refused_with_its_range(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('customer,amount,notes\nA,1,"two\nlines"\nB,2,"x\nC,3,y\nD,4,z"\nE,5,w\n', encoding="utf-8")
    with open_table(path) as table:
        records = list(table.records)
    assert [(r.line, bool(r.error)) for r in records] == [(2, False), (4, True), (7, False)]
    assert records[0].cells[2] == "two\nlines"  # a real multi-line note is kept
    assert "runs to line 6" in records[1].error and "(5–6)" in records[1].error


def test_a_header_only_file_says_no_rows(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("customer,amount\n\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="^no rows"):
        open_table(path)


def test_the_ignored_columns_line():
    assert ignored_line(["a"]) == "ignored 1 column: 'a'"
    line = ignored_line([f"c{i}" for i in range(13)])
    assert line.startswith("ignored 13 columns: 'c0', ") and line.endswith("'c9' and 3 more")


def test_a_workbook_keeps_types_and_never_floats_money():
    with open_table(CRM / "wukong_shangji.xlsx") as table:
        assert table.kind == "xlsx" and table.sheet == "商机"
        records = list(table.records)
    first = records[0].cells
    assert first[4] == Decimal("350000.5") and isinstance(first[4], Decimal)
    assert first[5] == date(2024, 9, 30)  # a date cell at midnight is a date
    assert first[8] == datetime(2024, 3, 15, 10, 0)
    assert records[2].cells[4] == Decimal("0.3")  # 0.1 + 0.2 as Excel shows it
    assert records[2].line == 4


def test_workbook_sheets(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Summary"
    wb.active.append(["just a title"])
    deals = wb.create_sheet("Deals")
    deals.append(["customer", "amount"])
    deals.append(["Hooli", 12.5])
    path = tmp_path / "book.xlsx"
    wb.save(path)
    with open_table(path, sheet="Deals") as table:
        assert table.header == ["customer", "amount"] and next(table.records).cells == ["Hooli", Decimal("12.5")]
    with open_table(path, sheet="2") as table:
        assert table.sheet == "Deals"
    with pytest.raises(ImportFileError, match="'Summary', 'Deals'"):
        open_table(path, sheet="Nope")
    with pytest.raises(ImportFileError, match="no rows"):
        open_table(path)  # the first sheet: a title and nothing under it


def test_excel_numbers_keep_15_digits():
    assert excel_number(0.1 + 0.2) == Decimal("0.3")
    assert excel_number(133.10000000000002) == Decimal("133.1")
    assert excel_number(485000.0) == Decimal("485000")
    assert excel_number(12) == Decimal(12)


def test_nothing_heavy_at_import():
    code = ("import sys, funnel_tui.exchange.reading, funnel_tui.exchange.profiles.saved\n"
            "from funnel_tui.exchange.profiles import registry; registry()\n"
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('openpyxl', 'charset_normalizer', 'textual', 'sqlalchemy', 'sqlmodel'))))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_a_formula_without_a_saved_value_refuses_its_row(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["customer", "amount"])
    wb.active.append(["Hooli", "=1200*2"])  # written by a program: no computed value in the file
    wb.active.append(["Initech", 5])
    path = tmp_path / "f.xlsx"
    wb.save(path)
    with open_table(path) as table:
        records = list(table.records)
    assert records[0].cells is None and "=1200*2" in records[0].error and "save it again" in records[0].error
    assert records[1].cells == ["Initech", Decimal(5)]
