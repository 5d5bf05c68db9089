"""Pilot tests of Today: sections from the store, and every row key changes the DB and the list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers_today import highlight, lines, section
from textual.widgets import Input, OptionList

from funnel_tui.domain.validation import FollowUpDraft
from funnel_tui.tui.forms import ConfirmDialog, TouchForm
from funnel_tui.tui.screens.deal import DealScreen
from funnel_tui.tui.screens.today import TodayRow, TodayScreen

HOSTILE = ("Acme [/]", "[@click=app.quit]X[/]", "[bold red]x")


def current(app) -> TodayRow | None:
    return app.screen.current()


@pytest.fixture
def pipeline(store, now, tz):
    """Deals that land in every section (names say where)."""
    ids = {}
    ids["late"] = store.add_deal({"customer": "Late Co", "amount": "9000"}, now=now - timedelta(days=2), tz=tz)
    ids["soon"] = store.add_deal({"customer": "Soon Co", "amount": "8000"}, now=now - timedelta(days=2), tz=tz)
    ids["later"] = store.add_deal({"customer": "Later Co", "amount": "7000"}, now=now - timedelta(days=2), tz=tz)
    ids["near"] = store.add_deal({"customer": "Near Co", "amount": "100"}, now=now - timedelta(days=12), tz=tz)
    ids["over"] = store.add_deal({"customer": "Over Co", "amount": "100", "stage": "negotiation"},
                                 now=now - timedelta(days=20), tz=tz)
    fu = {}
    fu["late"] = store.add_follow_up(FollowUpDraft(ids["late"], now - timedelta(hours=2), "call", "chase PO"), now=now - timedelta(days=1))
    fu["soon"] = store.add_follow_up(FollowUpDraft(ids["soon"], now + timedelta(hours=5), "email", ""), now=now - timedelta(days=1))
    fu["later"] = store.add_follow_up(FollowUpDraft(ids["later"], now + timedelta(hours=50), "visit", ""), now=now - timedelta(days=1))
    return ids, fu


async def test_sections_and_empty_sections(store, now, tz, pipeline, tui_host):
    ids, fu = pipeline
    app = tui_host(TodayScreen)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert section(app, "Overdue")[0].startswith("2026-11-24 08:00  overdue 2h")
        assert "Late Co" in section(app, "Overdue")[0] and "chase PO" in section(app, "Overdue")[0]
        assert len(section(app, "Due within 24 h")) == 1 and "Soon Co" in section(app, "Due within 24 h")[0]
        assert "Later Co" in section(app, "Due within 3 days")[0]
        assert section(app, "Too long in stage")[0].startswith("Over Co  · Negotiation  20d in stage (limit 15d)")
        assert section(app, "Nearing the stage limit")[0].startswith("Near Co  · Lead  12d in stage (limit 14d)")
        assert {s.split()[0] for s in section(app, "No next step")} == {"Near", "Over"}
        assert "Overdue · 1" in lines(app)
        # The cursor starts on the first actionable row, never on a header.
        assert current(app).followup_id == fu["late"]
    # An empty database: every section says so.
    store.add_deal({"customer": "Fresh"}, now=now, tz=tz)
    store.add_follow_up(FollowUpDraft(6, now + timedelta(days=10)), now=now)
    for d in ids.values():
        store.delete_deal(d, now=now)
    app = tui_host(TodayScreen)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert section(app, "Overdue") == ["nothing overdue"]
        assert section(app, "Due within 24 h") == ["nothing due in the next 24 h"]
        assert section(app, "No next step") == ["every open deal has a next step"]
        assert current(app) is None
        await pilot.press("d", "1", "l", "m")  # nothing to act on: nothing happens
        await pilot.pause()
        assert isinstance(app.screen, TodayScreen)


async def test_done_writes_and_the_list_reloads_in_place(store, now, tz, pipeline, tui_host):
    ids, fu = pipeline
    app = tui_host(TodayScreen)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        ol = app.screen.query_one("#today-list", OptionList)
        index = ol.highlighted
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, TouchForm)
        await pilot.press(*"PO promised")
        app.screen.query_one("#f-next", Input).value = ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, TodayScreen)
        fus = store.deal_follow_ups(ids["late"])
        assert [f["status"] for f in fus] == ["done"]
        assert store.deal_touches(ids["late"])[-1]["note"] == "PO promised"
        assert section(app, "Overdue") == ["nothing overdue"]
        assert any(s.startswith("Late Co") for s in section(app, "No next step"))
        # The cursor stays near: the next actionable row below where it was.
        assert ol.highlighted >= index and current(app).followup_id == fu["soon"]


async def test_snooze_keys(store, now, tz, pipeline, tui_host):
    ids, fu = pipeline
    app = tui_host(TodayScreen)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("1")  # overdue: tomorrow, same time of day as now
        await pilot.pause()
        due = store.deal_follow_ups(ids["late"], open_only=True)[0]["due_at"]
        assert due == now + timedelta(days=1)
        assert section(app, "Overdue") == ["nothing overdue"]
        assert sum("Late Co" in s for s in section(app, "Due within 3 days")) == 1
        highlight(app, f"fu-{fu['soon']}")
        await pilot.press("3")  # a future one: 3 days after its due time
        await pilot.pause()
        assert store.deal_follow_ups(ids["soon"], open_only=True)[0]["due_at"] == now + timedelta(days=3, hours=5)
        assert not any("Soon Co" in s for s in lines(app))  # beyond the 3-day window now
        highlight(app, f"fu-{fu['later']}")
        await pilot.press("w")
        await pilot.pause()
        assert store.deal_follow_ups(ids["later"], open_only=True)[0]["due_at"] == now + timedelta(days=7, hours=50)
        assert store.get_deal(ids["later"])["next_follow_up_at"] == now + timedelta(days=7, hours=50)
        # On a warning row the snooze keys have nothing to act on.
        highlight(app, f"no_next_step-{ids['near']}")
        assert app.screen.check_action("snooze", (1,)) is False
        assert app.screen.check_action("log", ()) is True


async def test_log_on_a_warning_row_plans_the_next_step(store, now, tz, pipeline, tui_host):
    ids, fu = pipeline
    app = tui_host(TodayScreen)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        highlight(app, f"no_next_step-{ids['near']}")
        await pilot.press("l")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, TouchForm)
        assert form.query_one("#f-next", Input).value != ""  # tier cadence default
        form.query_one("#f-next", Input).value = "tomorrow 14:00"
        await pilot.press(*"left a voicemail")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert store.deal_touches(ids["near"])[-1]["note"] == "left a voicemail"
        nxt = store.deal_follow_ups(ids["near"], open_only=True)
        assert len(nxt) == 1 and nxt[0]["due_at"] == now + timedelta(days=1, hours=4)
        assert not any(s.startswith("Near Co") for s in section(app, "No next step"))
        assert any("Near Co" in s for s in section(app, "Due within 24 h") + section(app, "Due within 3 days"))


async def test_move_to_next_stage_and_won_asks(store, now, tz, pipeline, tui_host):
    ids, fu = pipeline
    store.update_deal(ids["late"], {"lead_score": "3"}, now=now, tz=tz)
    app = tui_host(TodayScreen)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        assert store.get_deal(ids["late"])["stage"] == "qualified"
        assert "· Qualified" in section(app, "Overdue")[0]
        assert any("lead score 3 is below 6" in n.message for n in app._notifications)
        assert current(app).deal_id == ids["late"]  # the row stayed; cursor on it
        # Negotiation -> Won asks first; "n" leaves it alone, "y" wins it.
        highlight(app, f"dwell_over-{ids['over']}")
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await pilot.pause()
        assert store.get_deal(ids["over"])["status"] == "open"
        await pilot.press("m")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        deal = store.get_deal(ids["over"])
        assert (deal["stage"], deal["status"]) == ("won", "won")
        assert not any("Over Co" in s for s in lines(app))


async def test_enter_opens_the_deal_and_escape_returns(store, now, tz, pipeline, tui_host):
    ids, fu = pipeline
    app = tui_host(TodayScreen)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DealScreen) and app.screen.deal_id == ids["late"]
        await pilot.press("1")  # snooze from the deal screen ...
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, TodayScreen)
        assert section(app, "Overdue") == ["nothing overdue"]  # ... and Today shows it on return


@pytest.mark.parametrize("name", HOSTILE)
async def test_hostile_names_render_literally(store, now, tz, name, tui_host):
    d = store.add_deal({"customer": name, "title": name}, now=now - timedelta(days=20), tz=tz)
    store.add_follow_up(FollowUpDraft(d, now - timedelta(hours=1), "call", name), now=now)
    app = tui_host(TodayScreen)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await pilot.pause()
        row = section(app, "Overdue")[0]
        assert f"{name} — {name}" in row and row.endswith(name)
        assert section(app, "Too long in stage")[0].startswith(f"{name}  · Lead")
        await pilot.click("#today-list", offset=(10, 2))  # clicking a row opens its deal
        await pilot.pause()
        assert isinstance(app.screen, DealScreen) and app.screen.deal_id == d
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("1")
        await pilot.pause()
        assert any(n.message == "snoozed to 2026-11-25 10:00" for n in app._notifications)
        await pilot.press("m")  # a toast naming the customer, shown as typed
        await pilot.pause()
        assert store.get_deal(d)["stage"] == "qualified"
        assert any(n.message == f"{name} → Qualified" and not n.markup for n in app._notifications)
        assert app.screen.query_one("#today-list", OptionList).option_count > 0
        assert not app.quit_called and app.is_running
        assert isinstance(app.screen, TodayScreen)


async def test_inside_the_real_app_board_today_deal_and_back(store, now, tz, pipeline):
    """Reached from FunnelApp: t opens Today, Enter a deal, e edits it, escape walks back."""
    from funnel_tui.tui.app import FunnelApp
    from funnel_tui.tui.forms import DealForm

    ids, fu = pipeline
    hostile = store.add_deal({"customer": "[@click=app.quit]X[/]"}, now=now - timedelta(days=30), tz=tz)
    app = FunnelApp(store, lambda: now, tz=tz, lang="en")
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        board = app.screen
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TodayScreen)
        assert section(app, "Too long in stage")[0].startswith("[@click=app.quit]X[/]  · Lead")
        await pilot.click("#today-title")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DealScreen) and app.screen.deal_id == ids["late"]
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, DealForm)
        app.screen.query_one("#f-title", Input).value = "Rollout"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert store.get_deal(ids["late"])["title"] == "Rollout"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, TodayScreen)
        assert "Late Co — Rollout" in section(app, "Overdue")[0]
        highlight(app, f"dwell_over-{hostile}")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.click("#deal-title")
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert app.screen is board and app.is_running
