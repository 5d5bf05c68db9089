"""The command line in Chinese: the language from the setting or the locale, argparse's own words,
help laid out by display width, tables at 80 columns that never split a name, the demo's language.

Runs `funnel` in this process (the `funnel` fixture: NOW in Shanghai) with COLUMNS=80, except
where a fresh interpreter is the point (start-up reads the setting before anything else)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from funnel_tui.cli.language import choose_language
from funnel_tui.cli.table_layout import layout, wrap
from funnel_tui.domain.text import display_width
from funnel_tui.i18n import active_lang

REPO = Path(__file__).resolve().parents[1]
NAMES = ("东方制造", "长沙湘江数据（北京）", "重庆山城机电", "华信科技", "Acme Robotics")


@pytest.fixture
def zh(monkeypatch):
    """A Chinese locale at 80 columns."""
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "80")


@pytest.fixture
def filled(funnel):
    for i, name in enumerate(NAMES):
        assert funnel("add", name, "--title", "数据平台 PoC 私有化部署", "--amount", "3万",
                      "--follow-up", f"today {9 + i}:00", "--past").code == 0
    return funnel


def table_rows(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("│")]


# --- choosing the language ----------------------------------------------------------------------


def test_the_locale_chooses_chinese_and_the_setting_overrides_it(zh, funnel, monkeypatch):
    assert choose_language([]) == "zh" and active_lang() == "zh"
    assert funnel("settings", "lang", "en").code == 0
    assert choose_language(["--db", str(funnel.db), "due"]) == "en"
    assert choose_language(["--db", str(funnel.db), "due"]) == "en"  # twice: nothing cached wrongly
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    funnel("settings", "lang", "zh")
    assert choose_language([f"--db={funnel.db}", "list"]) == "zh"
    # The setting is the rep's (their config file), whichever SQLite file is open; a server keeps
    # it per role and open_store reads it there, so before that the locale decides.
    assert choose_language(["--db", str(funnel.db.with_name("other.db")), "list"]) == "zh"
    assert choose_language(["--db", "postgresql://rep@db.example/sales", "list"]) == "en"


def test_reading_the_setting_creates_nothing(tmp_path, monkeypatch):
    """`funnel --help` on a machine that never ran funnel leaves no data dir behind."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "fresh"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "fresh-config"))
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert choose_language([]) == "zh"
    assert choose_language(["--demo"]) == "zh"
    assert not (tmp_path / "fresh").exists() and not (tmp_path / "fresh-config").exists()


def test_a_fresh_process_speaks_chinese_from_the_first_line(tmp_path):
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "LANG": "zh_CN.UTF-8", "COLUMNS": "80",
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    run = subprocess.run([sys.executable, "-m", "funnel_tui", "--help"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert run.returncode == 0
    assert run.stdout.startswith("用法：funnel") and "选项" in run.stdout and "显示本帮助并退出" in run.stdout
    assert "usage" not in run.stdout and "show this help" not in run.stdout
    bad = subprocess.run([sys.executable, "-m", "funnel_tui", "move"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert bad.returncode == 2
    assert "funnel move：错误：缺少以下参数：商机, 阶段" in bad.stderr


# --- help -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["add"], ["import"], ["summary"], ["backup", "restore"]])
def test_chinese_help_fits_80_columns_and_lines_up(zh, funnel, capsys, command):
    with pytest.raises(SystemExit):
        funnel(*command, "--help")
    out = capsys.readouterr().out
    assert max(display_width(line) for line in out.splitlines()) <= 80, out
    body = out.split("\n\n", 1)[1]  # after the usage lines, which name the program and its options
    body = re.sub(r"`[^`]*`", "", body)  # a command quoted for the rep to type stays as typed
    assert not re.search(r"[A-Za-z]{4,} [A-Za-z]{4,} [A-Za-z]{4,}", body)  # no English sentence
    # Every description beside its option starts in one screen column.
    starts = {display_width(m.group(1)) for line in out.splitlines()
              if (m := re.match(r"^(  -\S.*?  +)\S", line))}
    assert len(starts) == 1, starts


def test_english_help_is_argparse_exactly(funnel, capsys, monkeypatch):
    """The display-width formatter changes nothing for text one column wide."""
    import argparse

    from funnel_tui.cli import build_parser

    monkeypatch.setenv("COLUMNS", "80")
    ours = build_parser().format_help()
    plain = build_parser()
    plain.formatter_class = argparse.HelpFormatter
    assert ours == plain.format_help()


# --- tables at 80 columns ---------------------------------------------------------------------------


def test_due_at_80_columns_keeps_every_name_whole(zh, filled):
    res = filled("due")
    rows = table_rows(res.out)
    assert rows and all(display_width(line) <= 80 for line in res.out.splitlines())
    cells = "\n".join(rows)
    for name in ("东方制造", "重庆山城机电", "华信科技"):
        assert name in cells  # on one line, never 东方制 / 造
    assert "长沙湘江数据" in cells and "（北京）" in cells
    assert "逾期" in res.out and "到期" in res.out and "电话" in cells
    assert "overdue" not in res.out and "call" not in cells


def test_list_and_show_at_80_columns(zh, filled, monkeypatch):
    listed = filled("list")
    assert all(display_width(line) <= 80 for line in listed.out.splitlines())
    assert "东方制造" in listed.out and "重庆山城机电" in listed.out and "潜在线索" in listed.out
    # Too narrow for every column whole: the status (all 进行中 here) is left out, not a name cut.
    assert "进行中" not in listed.out and "…" not in listed.out
    monkeypatch.setenv("COLUMNS", "160")
    assert "进行中" in filled("list").out
    shown = filled("show", "1")
    assert "客户" in shown.out and "东方制造" in shown.out and "潜在线索" in shown.out
    assert all(display_width(line) <= 80 for line in shown.out.splitlines())


def test_english_tables_still_show_codes_and_keys(filled, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    res = filled("due")
    assert "followup_id" in res.out and "overdue" in res.out and "call" in res.out and "lead" in res.out


def test_cells_break_only_between_words_and_around_brackets():
    assert wrap("长沙湘江数据（北京）", 12, free_text=False) == ["长沙湘江数据", "（北京）"]
    assert wrap("东方制造", 5, free_text=False) == ["东方…"]  # cut, never split into 东方制 / 造
    assert wrap("11月21日 周六 12:46", 13, free_text=False) == ["11月21日 周六", "12:46"]
    assert wrap("聊了预算，下周给报价", 6, free_text=True) == ["聊了预", "算，下", "周给报", "价"]
    assert not any(line.endswith("（") for line in wrap("华信（北京）分公司", 6, free_text=True))
    assert not any(line.startswith(("）", "，")) for line in wrap("华信（北京），分公司", 6, free_text=True))


def test_layout_gives_way_in_order():
    headers = ["客户", "说明"]
    rows = [["长沙湘江数据（北京）", "聊了预算，下周给报价，客户需要内部评审"]]
    widths, _h, cells = layout(headers, rows, [False, True], 40)
    assert sum(widths) + 3 * 2 + 1 <= 40
    assert widths[0] >= display_width("长沙湘江数据")  # the name keeps its longest piece
    widths, _h, cells = layout(headers, rows, [False, True], 200)
    assert widths == [display_width(rows[0][0]), display_width(rows[0][1])]  # room: nothing breaks


# --- the demo in the rep's language --------------------------------------------------------------------


def test_demo_lang_flag_and_default(funnel, tmp_path, monkeypatch):
    from funnel_tui.store import Store

    assert funnel("demo", "--lang", "zh", "--deals", "12").code == 0
    store = Store(funnel.db)
    customers = [d["customer"] for d in store.list_deals(status="all")]
    store.close()
    assert customers and all(re.search(r"[\u4e00-\u9fff]", c) for c in customers)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    other = tmp_path / "zh-by-locale.db"
    assert funnel.code(other, "demo", "--deals", "12") == 0  # no --lang: the locale decides
    store = Store(other)
    assert all(re.search(r"[\u4e00-\u9fff]", d["customer"]) for d in store.list_deals(status="all"))
    store.close()


def test_trend_and_forecast_name_the_stages_in_chinese(zh, filled):
    """The analytics tables speak the rep's language: stage names and column heads in Chinese."""
    trend = filled("trend", "--weeks", "2")
    assert trend.code == 0 and "潜在线索→" in trend.out and "Lead→" not in trend.out
    forecast = filled("forecast")
    assert forecast.code == 0 and "潜在线索" in forecast.out and "进行中金额" in forecast.out
    assert "Lead " not in forecast.out


def test_import_refusals_speak_chinese(zh, funnel, tmp_path):
    """The reasons an import refuses a file or a row (exchange/) come from the catalog too."""
    rows = tmp_path / "bad.csv"
    rows.write_text('客户名称,预计成交金额,成交概率\n东方制造,"12,50.5",40%\n华信科技,3万,1\n重庆山城机电,abc,20%\n',
                    encoding="utf-8")
    r = funnel("import", str(rows), "--dry-run")
    text = r.out + r.err
    assert "'12,50.5' 在 ',' 两侧的数字分组不对；请写成例如 12500" in text  # the reason and its example
    assert "'abc' 不是金额（没有数字" in text and "分隔符 逗号" in text
    assert "is not an amount" not in text and "groups its digits" not in text and "delimiter" not in text
    missing = tmp_path / "nothing.csv"
    r = funnel("import", str(missing))
    assert r.code != 0 and "没有文件" in r.out + r.err
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    r = funnel("import", str(empty))
    assert r.code != 0 and "文件是空的" in r.out + r.err


def test_import_row_reasons_and_duplicates_speak_chinese(zh, funnel, tmp_path):
    """A row refused for its content, or skipped as a repeat, says why in Chinese too: in the
    report and in the rejected-rows file (they were English whatever the language)."""
    rows = tmp_path / "rows.csv"
    rows.write_text("客户名称,阶段,状态,丢单原因,external_id\n"
                    "东方制造,lead,,,pd:1\n"
                    ",lead,,,\n"
                    "华信科技,lead,lost,,\n"
                    "重庆山城机电,lead,,,pd:1\n"
                    "多出两格,lead,半开,,,x,y\n", encoding="utf-8")
    r = funnel("import", str(rows))
    text = r.out + r.err
    assert "第 3 行：客户：必填" in text
    assert "第 4 行：丢单原因：状态为丢单时必填" in text
    assert "第 5 行：与本文件第 2 行是同一个商机" in text
    assert "已导入：新增 1，跳过重复 1，拒绝 3" in text  # counts in the rep's punctuation
    assert "第 6 行：这一行有 7 个单元格，表头却有 5 列（行不齐）；" in text  # and why its status is not read
    r = funnel("import", str(rows))  # again: each good row is now a deal of the database
    assert "第 2 行：已是商机 1" in r.out + r.err
    rejected = (tmp_path / "rows.rejected.csv").read_text(encoding="utf-8-sig")
    assert "客户：必填" in rejected and "状态为丢单时必填" in rejected
    for english in ("is required", "same deal", "already deal", "ragged"):
        assert english not in text + r.out + r.err + rejected


@pytest.mark.parametrize(("by", "title", "segment"), [("source", "线索来源", "（空）"),
                                                      ("new_vs_existing", "新客户与老客户", "新客户")])
def test_segments_table_in_chinese_names_the_segment_and_the_stages(zh, filled, by, title, segment):
    """`summary --by` in Chinese: the title and header name the segment in words, the steps are
    the stages' Chinese names (as `funnel summary` shows them), the rows are words, not codes."""
    res = filled("summary", "--by", by)
    assert res.code == 0
    flat = re.sub(r"[\s│┃]", "", res.out)  # headers wrap inside their cells
    assert f"按{title}细分的漏斗" in flat and by not in res.out
    assert all(w in flat for w in ("潜在", "意向", "签约")) and "Lead" not in res.out and "Qualified" not in res.out
    assert segment in flat and "new" not in res.out
