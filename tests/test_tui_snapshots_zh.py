"""The screens in Chinese, on the Chinese demo pipeline: SVG snapshots of the board, Today, a
deal, the Summary, the new-deal form and help (160x45, fixed clock), and on each of them no
English word but the rep's own data.

The snapshot helpers are tests/test_tui_snapshots.py's; SNAPSHOT_UPDATE=1 accepts a change.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from helpers_tui import private_copy, seeded_demo
from textual.widgets import Input

from funnel_tui.tui.app import FunnelApp
from test_tui_snapshots import NOW, SIZE, TZ, check_snapshot, settle

# English words the Chinese demo's own data carries (titles such as "CRM 年度订阅", "数据平台
# PoC", "API 集成", the decision chain "约CFO面谈", the currency), and the screen's fixed marks:
# the product's name and key names (Esc, Enter, ctrl+p) as the keyboard labels them.
DATA_WORDS = {"CRM", "ERP", "PoC", "API", "CFO", "CTO", "IT", "CEO", "CNY"}
UI_WORDS = {"funnel", "Esc", "esc", "Enter", "enter", "ctrl", "shift", "tab",
            "CSV", "Excel"}  # names of a format and a program, written so in Chinese too
ENGLISH = re.compile(r"[A-Za-z]{2,}")


@pytest.fixture(scope="module")
def zh_demo_db(tmp_path_factory) -> Path:
    return seeded_demo(tmp_path_factory.mktemp("zh-demo") / "demo.db", now=NOW, lang="zh")


@pytest.fixture
def zh_store(zh_demo_db, tmp_path):
    with private_copy(zh_demo_db, tmp_path) as store:
        yield store


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # a deal's uid is data


def screen_words(svg: str) -> set[str]:
    """English words on the rendered screen (the SVG's text, entities decoded; uids left out)."""
    texts = re.findall(r"<text[^>]*>(.*?)</text>", svg)
    text = html.unescape("".join(f"{t}\n" for t in texts)).replace("\xa0", " ")
    return set(ENGLISH.findall(UUID.sub(" ", text)))


async def zh_render(store, *keys: str, form: bool = False) -> str:
    """The app in Chinese after `keys`; `form`: the last key opens a form, whose flow (a worker
    awaiting the form) stays open, so the screen is left to draw instead of waited on."""
    app = FunnelApp(store, lambda: NOW, tz=TZ, lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            if form:
                for _frame in range(6):
                    await pilot.pause()
            else:
                await settle(pilot)
        for field in app.screen.query(Input):
            field.cursor_blink = False  # a form's caret would blink into the picture
        await pilot.pause()
        return app.export_screenshot(title="funnel")


SCREENS = [
    ("board_zh_demo", (), False),
    ("today_zh", ("t",), False),
    ("deal_zh", ("e",), False),
    ("summary_zh", ("s",), False),
    ("new_deal_zh", ("n",), True),
    ("help_zh", ("question_mark",), False),
]


@pytest.mark.parametrize(("name", "keys", "form"), SCREENS, ids=[n for n, *_rest in SCREENS])
async def test_screen_in_chinese(zh_store, tmp_path, name, keys, form):
    svg = await zh_render(zh_store, *keys, form=form)
    english = screen_words(svg) - DATA_WORDS - UI_WORDS
    assert english == set(), f"{name} shows English: {sorted(english)}"
    check_snapshot(name, svg, tmp_path)


def test_the_english_check_can_fail():
    svg = '<svg><text x="0">funnel&#160;·&#160;看板&#160;Quit</text><text>CRM&#160;年度订阅</text></svg>'
    assert screen_words(svg) - DATA_WORDS - UI_WORDS == {"Quit"}
