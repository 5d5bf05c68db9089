"""Pilot tests of the deal screen: fields, timeline, follow-up keys, edit and stale edit."""

from __future__ import annotations

import io

from datetime import datetime, timedelta, timezone

import pytest
from textual.widgets import Input, Label, OptionList, Static

from funnel_tui.domain.validation import FollowUpDraft, TouchDraft
from funnel_tui.store import Store
from funnel_tui.tui.forms import DealForm, FollowUpForm, TouchForm
from funnel_tui.tui.screens.deal import DealScreen

HOSTILE = ("Acme [/]", "[@click=app.quit]X[/]", "[bold red]x")


def screen_text(app) -> str:
    """Everything the deal screen shows, as plain text."""
    scr = app.screen
    parts = [str(scr.query_one("#deal-title", Label).render())]
    for static in scr.query(Static):
        if static.id == "timeline":
            parts.append(static.content.plain)
    parts.append(fields_text(app))
    ol = scr.query_one("#followups", OptionList)
    parts += [str(ol.get_option_at_index(i).prompt) for i in range(ol.option_count)]
    return "\n".join(parts)


def fields_text(app) -> str:
    from rich.console import Console

    console = Console(width=120, record=True, color_system=None, file=io.StringIO())
    console.print(app.screen.query_one("#fields", Static).content)
    return console.export_text()


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


@pytest.fixture
def deal_id(store, now, tz):
    d = store.add_deal({"customer": "Initech", "title": "ERP upgrade", "amount": "5000",
                        "contact_name": "Sam", "notes": "met at fair"},
                       now=now - timedelta(days=3), tz=tz)
    store.add_follow_up(FollowUpDraft(d, now - timedelta(hours=5), "call", "price check"),
                        now=now - timedelta(days=2))
    store.log_touch(TouchDraft(d, "email", "sent deck"), now=now - timedelta(days=1))
    store.move_deal(d, "qualified", now=now - timedelta(hours=20))
    return d


async def test_shows_fields_timeline_and_follow_ups(store, now, tz, deal_id, tui_host):
    app = tui_host(lambda: DealScreen(deal_id))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, DealScreen)
        assert "Deal 1 · Initech — ERP upgrade" in screen_text(app)
        fields = fields_text(app)
        assert "5,000 CNY" in fields and "Qualified" in fields and "met at fair" in fields
        timeline = app.screen.query_one("#timeline", Static).content.plain
        # newest first, local time (UTC+8)
        lines = [ln for ln in timeline.splitlines() if ln.strip()]
        assert lines[0].startswith("2026-11-23 14:00") and "moved Lead → Qualified" in lines[0]
        assert any("email logged  sent deck" in ln for ln in lines)
        assert any("call follow-up planned for 2026-11-24 05:00" in ln for ln in lines)
        assert lines[-1].endswith("created in Lead")
        ol = app.screen.query_one("#followups", OptionList)
        assert ol.option_count == 1 and "price check" in str(ol.get_option_at_index(0).prompt)
        assert "overdue 5h" in str(ol.get_option_at_index(0).prompt)


async def test_snooze_keys_move_the_follow_up(store, now, tz, deal_id, tui_host):
    app = tui_host(lambda: DealScreen(deal_id))
    fid = store.deal_follow_ups(deal_id, open_only=True)[0]["id"]
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("1")  # overdue: +1d counts from now (1 3 w snooze on every screen)
        await pilot.pause()
        assert store.deal_follow_ups(deal_id, open_only=True)[0]["due_at"] == now + timedelta(days=1)
        await pilot.press("3")  # now future: +3d from its due time
        await pilot.pause()
        assert store.deal_follow_ups(deal_id, open_only=True)[0]["due_at"] == now + timedelta(days=4)
        await pilot.press("w")
        await pilot.pause()
        fu = store.deal_follow_ups(deal_id, open_only=True)[0]
        assert (fu["id"], fu["due_at"]) == (fid, now + timedelta(days=11))
        assert "in 11d" in screen_text(app)
        assert "2026-12-05 10:00" in screen_text(app)
        assert store.get_deal(deal_id)["next_follow_up_at"] == now + timedelta(days=11)


async def test_done_asks_note_and_next_then_writes(store, now, tz, deal_id, tui_host):
    app = tui_host(lambda: DealScreen(deal_id))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, TouchForm)
        # Tier cadence: the only open deal is tier A -> tomorrow 09:00 local.
        assert form.query_one("#f-next", Input).value == "2026-11-25 09:00"
        await pilot.press(*"wants a discount")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, DealScreen)
        fus = store.deal_follow_ups(deal_id)
        assert [f["status"] for f in fus] == ["done", "open"]
        assert fus[1]["due_at"] == datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc)
        touches = store.deal_touches(deal_id)
        assert touches[-1]["note"] == "wants a discount" and touches[-1]["kind"] == "call"
        assert "wants a discount" in screen_text(app)
        assert store.get_deal(deal_id)["last_contact_at"] == now


async def test_follow_up_and_log_keys(store, now, tz, deal_id, tui_host):
    app = tui_host(lambda: DealScreen(deal_id))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, FollowUpForm)
        inp = app.screen.query_one("#f-when", Input)
        inp.value = "fri 15:00"
        await pilot.press("ctrl+s")
        await pilot.pause()
        due = [f["due_at"] for f in store.deal_follow_ups(deal_id, open_only=True)]
        assert datetime(2026, 11, 27, 7, 0, tzinfo=timezone.utc) in due
        assert app.screen.query_one("#followups", OptionList).option_count == 2
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, TouchForm)
        app.screen.query_one("#f-next", Input).value = ""
        await pilot.press(*"quick hello")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert store.deal_touches(deal_id)[-1]["note"] == "quick hello"
        assert len(store.deal_follow_ups(deal_id, open_only=True)) == 2  # no next asked for
        assert "call logged  quick hello" in screen_text(app)


async def test_edit_saves_changed_field_and_history_records_it(store, now, tz, deal_id, tui_host):
    app = tui_host(lambda: DealScreen(deal_id))
    version = store.get_deal(deal_id)["version"]
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, DealForm)
        form.query_one("#f-amount", Input).value = "7,500"
        form.query_one("#f-contact_email", Input).value = "sam@initech.example"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, DealScreen)
        deal = store.get_deal(deal_id)
        assert deal["amount"] == 750000 and deal["contact_email"] == "sam@initech.example"
        assert deal["version"] == version + 1
        edits = [(h["field"], h["old"], h["new"]) for h in store.deal_history(deal_id) if h["kind"] == "field"]
        assert ("amount", "500000", "750000") in edits
        assert fields_text(app).count("7,500 CNY") == 1
        assert "amount: 5,000 → 7,500" in screen_text(app)


async def test_edit_stage_is_a_move(store, now, tz, deal_id, tui_host):
    app = tui_host(lambda: DealScreen(deal_id))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#f-stage").value = "demo"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert store.get_deal(deal_id)["stage"] == "demo"
        assert any(h["kind"] == "stage" and h["to_stage"] == "demo" for h in store.deal_history(deal_id))


async def test_stale_edit_is_refused_and_the_draft_kept(store, now, tz, deal_id, db_path, tui_host):
    app = tui_host(lambda: DealScreen(deal_id))
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#f-amount", Input).value = "9000"
        # Another terminal saves first.
        other = Store(db_path)
        other.update_deal(deal_id, {"title": "ERP upgrade v2"}, now=now, tz=tz)
        other.close()
        await pilot.press("ctrl+s")
        await pilot.pause()
        deal = store.get_deal(deal_id)
        assert deal["amount"] == 500000 and deal["title"] == "ERP upgrade v2"  # nothing of ours written
        assert any("changed elsewhere — reload?" in m for m in notes(app))
        form = app.screen
        assert isinstance(form, DealForm)  # reopened with the rep's input kept
        assert form.query_one("#f-amount", Input).value == "9000"
        assert form.query_one("#f-title", Input).value == "ERP upgrade v2"  # over the fresh deal
        await pilot.press("ctrl+s")
        await pilot.pause()
        deal = store.get_deal(deal_id)
        assert (deal["amount"], deal["title"]) == (900000, "ERP upgrade v2")


async def test_keys_that_cannot_act_are_hidden(store, now, tz, tui_host):
    d = store.add_deal({"customer": "Quiet"}, now=now, tz=tz)
    app = tui_host(lambda: DealScreen(d))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        scr = app.screen
        assert scr.check_action("done", ()) is False
        assert scr.check_action("snooze", (1,)) is False
        assert scr.check_action("edit", ()) is True
        await pilot.press("d", "z")
        await pilot.pause()
        assert app.screen is scr
        assert store.deal_touches(d) == []
        store.lose_deal(d, "price", now=now)
        scr.reload()
        assert scr.check_action("follow_up", ()) is False
        await pilot.press("f")
        await pilot.pause()
        assert app.screen is scr  # a lost deal takes no follow-up
        await pilot.press("question_mark")
        await pilot.pause()
        from funnel_tui.tui.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        assert ("1", "Snooze +1d", "Push the highlighted follow-up a day later") in app.screen.rows


@pytest.mark.parametrize("name", HOSTILE)
async def test_hostile_names_render_literally(store, now, tz, name, tui_host):
    d = store.add_deal({"customer": name, "title": name, "notes": name}, now=now, tz=tz)
    store.add_follow_up(FollowUpDraft(d, now + timedelta(hours=1), "call", name), now=now)
    store.log_touch(TouchDraft(d, "call", name), now=now)
    app = tui_host(lambda: DealScreen(d))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert f"Deal {d} · {name} — {name}" in text
        assert text.count(name) >= 5
        await pilot.click("#deal-title")
        await pilot.click("#timeline")
        await pilot.click("#followups")
        await pilot.pause()
        assert not app.quit_called and app.is_running
        assert isinstance(app.screen, DealScreen)
