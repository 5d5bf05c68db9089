"""Issue 17: the Deal screen explains the lead score — the rules that gave points, whether the
scorecard or the rep set it — and follows a touch, a hand score and its clearing (Pilot)."""

from __future__ import annotations

import io

from textual.widgets import Input, Static

from funnel_tui.tui.forms import DealForm, TouchForm
from funnel_tui.tui.screens.deal import DealScreen


def fields_text(app) -> str:
    from rich.console import Console

    console = Console(width=120, record=True, color_system=None, file=io.StringIO())
    console.print(app.screen.query_one("#fields", Static).content)
    return " ".join(console.export_text().split())


def timeline_text(app) -> str:
    return app.screen.query_one("#timeline", Static).content.plain


async def test_the_deal_screen_explains_the_score_and_follows_each_change(store, now, tz, tui_host):
    deal = store.add_deal({"customer": "Acme", "company_size": "120人", "contact_role": "CEO"}, now=now)
    app = tui_host(lambda: DealScreen(deal))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        text = fields_text(app)
        # 2 (50–200) + 2 (decision maker) = 4, by the scorecard.
        assert "Lead score 4/10 — below 6, not qualified yet by the scorecard:" in text
        assert "+2 company size 50–200 (120人) +2 decision role = decision maker (CEO)" in text
        # A demo logged on the screen: +3, qualified.
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, TouchForm)
        app.screen.query_one("#f-next", Input).value = ""
        await pilot.press(*"product demo")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert store.get_deal(deal)["lead_score"] == 7
        text = fields_text(app)
        assert "Lead score 7/10 — qualifies (6 or more)" in text and "+3 attended a demo (1 touch)" in text
        assert "lead_score: 4 → scored by the scorecard: company size 50–200 +2, decision role = decision " \
               "maker +2, attended a demo +3 = 7" in " ".join(timeline_text(app).split())
        # The rep sets 3 by hand in the form: the screen says so, and what the scorecard gives.
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, DealForm)
        app.screen.query_one("#f-lead_score", Input).value = "3"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert store.get_deal(deal)["lead_score"] == 3
        text = fields_text(app)
        assert "Lead score 3/10 — below 6, not qualified yet set by hand, holds until cleared" in text
        assert "the scorecard gives 7:" in text
        assert "lead_score: 7 → 3 (by hand)" in " ".join(timeline_text(app).split())
        # Cleared: the scorecard's 7 again.
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#f-lead_score", Input).value = ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert store.get_deal(deal)["lead_score"] == 7
        assert "Lead score 7/10 — qualifies (6 or more) by the scorecard:" in fields_text(app)


async def test_the_explanation_in_chinese(store, now, tz, tui_host):
    deal = store.add_deal({"customer": "华信科技", "company_size": "80人", "contact_role": "总经理"}, now=now)
    app = tui_host(lambda: DealScreen(deal), lang="zh")
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        text = fields_text(app)
        assert "4/10 — 低于 6 分，尚未合格" in text and "由评分卡评出：" in text
        assert "+2 公司规模 50–200 人 (80人)" in text and "+2 决策角色 = 决策人 (总经理)" in text
