"""Issue 13: `l` on a Today row acts on the row — the touch completes the row's follow-up."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Input, OptionList

from funnel_tui.domain.validation import FollowUpDraft
from funnel_tui.tui.forms import TouchForm
from funnel_tui.tui.screens.today import TodayScreen


async def test_log_on_an_overdue_row_completes_that_follow_up_and_plans_the_next(store, now, tz, tui_host):
    deal = store.add_deal({"customer": "Late Co", "amount": "9000"}, now=now - timedelta(days=2), tz=tz)
    late = store.add_follow_up(FollowUpDraft(deal, now - timedelta(hours=2), "call", "chase PO"),
                               now=now - timedelta(days=1))
    app = tui_host(TodayScreen)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert app.screen.current().followup_id == late
        await pilot.press("l")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, TouchForm)
        form.query_one("#f-next", Input).value = "tomorrow 14:00"
        await pilot.press(*"PO promised Friday")
        await pilot.press("ctrl+s")
        await pilot.pause()
        fus = {f["id"]: f for f in store.deal_follow_ups(deal)}
        assert fus[late]["status"] == "done"  # not left overdue beside a second one
        touch = store.deal_touches(deal)[-1]
        assert (touch["note"], touch["followup_id"]) == ("PO promised Friday", late)
        open_ = store.deal_follow_ups(deal, open_only=True)
        assert len(open_) == 1 and open_[0]["due_at"] == now + timedelta(days=1, hours=4)
        ol = app.screen.query_one("#today-list", OptionList)
        assert not any("Late Co" in str(ol.get_option_at_index(i).prompt) and "overdue" in
                       str(ol.get_option_at_index(i).prompt) for i in range(ol.option_count))
    # One undo takes back the touch, the completion and the next follow-up together.
    store.undo(now=now + timedelta(minutes=1))
    assert [f["id"] for f in store.deal_follow_ups(deal, open_only=True)] == [late]
    assert store.deal_touches(deal) == []


def test_cli_log_done_completes_the_open_follow_up(funnel, store, now):
    deal = store.add_deal({"customer": "Late Co"}, now=now - timedelta(days=2))
    late = store.add_follow_up(FollowUpDraft(deal, now - timedelta(hours=2), "call", "chase PO"),
                               now=now - timedelta(days=1))
    code, out, err = funnel("log", str(deal), "left", "a", "voicemail")
    assert code == 0 and f"follow-up {late} (call, due 2026-11-24 08:00) is still open" in err
    assert store.deal_follow_ups(deal, open_only=True)[0]["id"] == late
    code, out, err = funnel("log", str(deal), "PO", "promised", "--done", "--next", "+3d")
    assert code == 0, err
    assert out.startswith(f"logged call on deal {deal}; follow-up {late} done; next follow-up")
    fus = {f["id"]: f for f in store.deal_follow_ups(deal)}
    assert fus[late]["status"] == "done" and len([f for f in fus.values() if f["status"] == "open"]) == 1
    assert store.deal_touches(deal)[-1]["followup_id"] == late
    other = store.add_deal({"customer": "Other"}, now=now)
    code, _, err = funnel("log", str(other), "hi", "--done")
    assert code == 1 and "no open follow-up" in err
    code, _, err = funnel("log", str(deal), "hi", "--followup", str(late))
    assert code == 1 and "already done" in err
