"""The morning loop in Chinese, key by key: the start-up toast, a deal lost with a reason picked
from the list, a logged call with its next step, a move, undo, the footer and the palette —
checked on the screen (Chinese words, 万 amounts) and in the database (what is stored does not
depend on the language)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import Select, TextArea

from funnel_tui.domain.validation import FollowUpDraft
from funnel_tui.tui.app import FunnelApp
from funnel_tui.tui.forms import LoseForm, TouchForm
from funnel_tui.tui.widgets.key_bar import KeyBar
from test_tui_board import Clock, board, settle, toasts

SIZE = (160, 45)


@pytest.fixture
def deals(store, now, tz):
    ids = {
        "hua": store.add_deal({"customer": "华信科技", "title": "数据平台", "amount": "125000",
                               "risk_level": "high"}, now=now - timedelta(days=3), tz=tz),
        "east": store.add_deal({"customer": "东方制造", "amount": "30万", "stage": "qualified"},
                               now=now - timedelta(days=30), tz=tz),
    }
    store.add_follow_up(FollowUpDraft(ids["hua"], now - timedelta(hours=2), "call", "问预算"), now=now - timedelta(days=1))
    return ids


def app_zh(store, now, tz, tmp_path) -> FunnelApp:
    return FunnelApp(store, Clock(now), tz=tz, lang="zh", export_dir=tmp_path)


async def test_board_speaks_chinese(store, deals, now, tz, tmp_path):
    app = app_zh(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        lead = board(app).column("lead")
        assert lead.header.content.plain.startswith("潜在线索")
        assert "Σ 12.5万" in lead.header.content.plain and "加权 1.3万" in lead.header.content.plain
        card = lead.cards.options[0].prompt.plain
        assert "12.5万 · 10% · ▲高" in card and "⏰ 逾期 2小时" in card
        assert "1 项逾期 · 0 项24小时内到期" in toasts(app)
        bar = app.screen.query_one(KeyBar)
        await pilot.pause()
        assert ("n", "新建") in bar.shown and ("?", "帮助") in bar.shown
        assert not any(what.isascii() and any(c.isalpha() for c in what) for _key, what in bar.shown)


async def test_lose_with_a_reason_from_the_list(store, deals, now, tz, tmp_path):
    app = app_zh(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("X")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, LoseForm)
        reasons = form.query_one("#f-reason", Select)
        labels = [str(prompt) for prompt, _value in reasons._options[1:]]
        assert labels[:3] == ["价格", "竞品", "预算"]
        reasons.value = "price"
        await pilot.press("ctrl+s")
        await settle(pilot)
        deal = store.get_deal(deals["hua"])
        assert (deal["status"], deal["lost_reason"]) == ("lost", "price")  # stored as before, in any language
        assert "华信科技：已丢单（价格）" in toasts(app)


async def test_log_a_call_with_the_next_step_then_undo(store, deals, now, tz, tmp_path):
    app = app_zh(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, TouchForm)
        assert str(form.query_one("#form-title").render()).startswith("记录沟通：华信科技")
        form.query_one("#f-note", TextArea).text = "客户说预算下月批"
        form.query_one("#f-next").value = "明天下午3点"
        await pilot.pause()
        assert "→ 11月25日 周三 15:00" in str(form.query_one("#hint-next").render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "已记录与 华信科技 的电话" in toasts(app)
        assert [t["note"] for t in store.deal_touches(deals["hua"])] == ["客户说预算下月批"]
        await pilot.press("u")
        await settle(pilot)
        assert any(t.startswith("已撤销 — 华信科技：") for t in toasts(app))


async def test_move_into_won_asks_in_chinese(store, deals, now, tz, tmp_path):
    from funnel_tui.tui.forms import ConfirmDialog

    store.move_deal(deals["east"], "negotiation", now=now)
    app = app_zh(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert board(app).highlight(deals["east"], "negotiation")
        await pilot.press("L")
        await pilot.pause()  # the move's worker awaits the dialog: settle would wait for it
        assert isinstance(app.screen, ConfirmDialog)
        assert app.screen.question == "把 东方制造 标记为成交（成交签约）？"
        await pilot.press("y")
        await settle(pilot)
        assert store.get_deal(deals["east"])["status"] == "won"


async def test_english_is_unchanged(store, deals, now, tz, tmp_path):
    app = FunnelApp(store, Clock(now), tz=tz, lang="en", export_dir=tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        lead = board(app).column("lead")
        assert "Σ 125k" in lead.header.content.plain and "w 12.5k" in lead.header.content.plain
        assert "125k · 10% · ▲high" in lead.cards.options[0].prompt.plain
        assert ("n", "New") in app.screen.query_one(KeyBar).shown
