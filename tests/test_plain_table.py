"""The due table drawn without Rich (cli/plain_table.py) is the table Rich draws (cli.common.emit),
character for character: English and Chinese cells, wrapped names and notes, the bucket column
left out on a narrow screen, headers that fold, titles and footers, empty tables."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel_tui import i18n
from funnel_tui.cli import plain_table
from funnel_tui.cli.common import emit
from funnel_tui.cli.due import TABLE_COLUMNS

CUSTOMERS = ["东方制造有限公司（北京）", "Acme", "Massive Dynamic 2", "长沙湘江数据", "华信科技", "Umbrella Health"]
NOTES = ["a long note that needs wrapping over lines", "聊了预算，下周给报价", "", None, "客户需要内部评审",
         "Sent proposal v2; wants pricing by Friday"]
STAGES = ["qualified", "商务谈判", "lead", "初步意向"]


def _rows(n: int) -> list[dict]:
    return [{"followup_id": 10 ** (i % 4) + i, "deal_id": 3 * i + 1, "bucket": ("overdue", "24h", "逾期")[i % 3],
             "due": ("2026-11-29 12:05", "11月29日 周日 12:05", "Tue 09:00")[i % 3], "kind": ("call", "会议")[i % 2],
             "customer": CUSTOMERS[i % len(CUSTOMERS)], "stage": STAGES[i % len(STAGES)], "note": NOTES[i % len(NOTES)]}
            for i in range(n)]


def _rich(rows, **kw) -> str:
    import contextlib

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        emit(rows, "table", TABLE_COLUMNS, **kw)
    return out.getvalue()


def _plain(rows, **kw) -> str:
    out = io.StringIO()
    plain_table.print_table(rows, TABLE_COLUMNS, out=out, **kw)
    return out.getvalue()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("width", [60, 80, 100, 160, 200])
@pytest.mark.parametrize("n", [0, 1, 7])
def test_the_plain_table_is_richs_table(monkeypatch, lang, width, n):
    monkeypatch.setenv("COLUMNS", str(width))
    kw = {"title": "Due (2 overdue · 3 due in 24h)" if lang == "en" else "到期（2 项逾期 · 3 项24小时内到期）",
          "footer": "… and 4 more (use --format json for all)", "optional": ("bucket",)}
    with i18n.using(lang):
        rich, plain = _rich(_rows(n), **kw), _plain(_rows(n), **kw)
    assert plain == rich
    if n:
        assert "┏" in plain and plain.count("\n") > n + 4


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.tuples(st.sampled_from(CUSTOMERS), st.sampled_from(NOTES), st.sampled_from(STAGES),
                                st.text(alphabet="ab 东方，。", max_size=30)), min_size=1, max_size=5),
       width=st.integers(70, 220))
def test_any_rows_at_any_width(monkeypatch, cells, width):
    monkeypatch.setenv("COLUMNS", str(width))
    rows = [{**row, "customer": c, "note": note, "stage": stage, "kind": extra or None}
            for row, (c, note, stage, extra) in zip(_rows(len(cells)), cells)]
    assert _plain(rows, title="Due", optional=("bucket",)) == _rich(rows, title="Due", optional=("bucket",))


def test_styles_only_on_a_terminal(monkeypatch):
    """Bold headers and an italic title on a terminal; never in a pipe, a file or a dumb terminal."""

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("COLUMNS", "120")
    rows = _rows(2)
    piped = _plain(rows, title="Due")
    assert "\x1b" not in piped
    tty = Tty()
    monkeypatch.setenv("TERM", "xterm-256color")
    plain_table.print_table(rows, TABLE_COLUMNS, title="Due", out=tty)
    assert "\x1b[1m" in tty.getvalue() and "\x1b[3mDue\x1b[0m" in tty.getvalue()
    assert tty.getvalue().replace("\x1b[1m", "").replace("\x1b[3m", "").replace("\x1b[0m", "") == piped
    dumb = Tty()
    monkeypatch.setenv("TERM", "dumb")
    plain_table.print_table(rows, TABLE_COLUMNS, title="Due", out=dumb)
    assert "\x1b" not in dumb.getvalue()


def test_cells_are_printed_literally_and_cleaned():
    rows = [{**_rows(1)[0], "customer": "[bold]Acme[/] \x1b[31mred", "note": "line\x07 bell"}]
    out = _plain(rows)
    assert "[bold]" in out and "Acme[/]" in out and "\x1b" not in out and "\x07" not in out
    assert out == _rich(rows)
