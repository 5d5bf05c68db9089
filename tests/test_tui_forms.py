"""Pilot tests of the modal forms: inline errors by the field, drafts returned, nothing written."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from textual.widgets import Input, Label, Select, TextArea

from funnel_tui.domain.validation import FollowUpDraft, TouchDraft
from funnel_tui.tui.forms import (
    ConfirmDialog,
    DealDraft,
    DealForm,
    FollowUpForm,
    LoseForm,
    TouchForm,
)

HOSTILE = ("Acme [/]", "[@click=app.quit]X[/]", "[bold red]x")


def deal_count(store) -> int:
    return store.count_deals(status="all")


async def type_into(pilot, selector: str, text: str) -> None:
    widget = pilot.app.screen.query_one(selector, Input)
    widget.value = ""
    widget.focus()
    await pilot.pause()
    await pilot.press(*list(text)) if text else None
    await pilot.pause()


async def test_bad_fields_show_errors_next_to_fields_and_nothing_dismisses(store, now, tz, tui_host):
    app = tui_host()
    async with app.run_test(size=(160, 45)) as pilot:
        form = DealForm(store.stages(), now=now, tz=tz)
        app.open(form)
        await pilot.pause()
        await type_into(pilot, "#f-probability", "250")
        await type_into(pilot, "#f-amount", "abc")
        await type_into(pilot, "#f-expected_close", "2024-13-01")
        # Live: each error appears under its own field while typing.
        assert "out of range" in form.error_text("probability")
        assert "not an amount" in form.error_text("amount")
        assert "not a date" in form.error_text("expected_close")
        assert form.query_one("#f-probability", Input).has_class("-invalid")
        # Save with the customer still blank: every error shown, the form stays open.
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert app.result is app.UNSET
        assert form.error_text("customer") == "is required"
        assert "out of range" in form.error_text("probability")
        # The error label sits right under its input (same column, next rows).
        inp = form.query_one("#f-amount", Input).region
        err = form.query_one("#err-amount", Label).region
        assert err.x == inp.x and err.y == inp.bottom
        # Enter in a field also tries to save: still refused.
        form.query_one("#f-amount", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form and app.result is app.UNSET
        assert deal_count(store) == 0


async def test_valid_new_deal_returns_the_draft(store, now, tz, tui_host):
    app = tui_host()
    async with app.run_test(size=(160, 45)) as pilot:
        form = DealForm(store.stages(), now=now, tz=tz, stage="qualified")
        app.open(form)
        await pilot.pause()
        await type_into(pilot, "#f-customer", "Initech")
        await type_into(pilot, "#f-amount", "12,500.50")
        await type_into(pilot, "#f-probability", "40")
        await type_into(pilot, "#f-expected_close", "2026-12-31")
        await pilot.press("ctrl+s")
        await pilot.pause()
        draft = app.result
        assert isinstance(draft, DealDraft)
        assert draft.deal_id is None and draft.version is None
        assert draft.values == {
            "customer": "Initech", "stage": "qualified", "amount": "12,500.50",
            "currency": "CNY", "probability": "40", "expected_close": "2026-12-31",
        }
        assert app.screen is not form
        assert deal_count(store) == 0  # forms never write
        # The draft is what the store accepts.
        deal_id = store.add_deal(draft.values, now=now, tz=tz)
        deal = store.get_deal(deal_id)
        assert (deal["amount"], deal["probability"], deal["stage"]) == (1250050, 40, "qualified")
        assert deal["expected_close"] == date(2026, 12, 31)


async def test_edit_returns_only_changed_fields_with_version(store, now, tz, tui_host):
    deal_id = store.add_deal({"customer": "Globex", "amount": "1000", "notes": "line one\nline two"},
                             now=now, tz=tz)
    deal = store.get_deal(deal_id)
    app = tui_host()
    async with app.run_test(size=(160, 45)) as pilot:
        form = DealForm(store.stages(), now=now, tz=tz, deal=deal)
        app.open(form)
        await pilot.pause()
        assert form.query_one("#f-customer", Input).value == "Globex"
        assert form.query_one("#f-amount", Input).value == "1000"
        assert form.query_one("#f-notes", TextArea).text == "line one\nline two"
        await type_into(pilot, "#f-amount", "2000")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == DealDraft({"amount": "2000"}, deal_id, deal["version"])
        # Nothing changed: saving is the same as cancelling.
        form = DealForm(store.stages(), now=now, tz=tz, deal=deal)
        app.open(form)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is None
        # An edit that blanks the customer is refused in place.
        form = DealForm(store.stages(), now=now, tz=tz, deal=deal)
        app.open(form)
        await pilot.pause()
        await type_into(pilot, "#f-customer", "")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and app.result is app.UNSET
        assert form.error_text("customer") == "is required"
    assert store.get_deal(deal_id)["amount"] == 100000  # untouched by the forms


async def test_escape_cancels(store, now, tz, tui_host):
    app = tui_host()
    async with app.run_test(size=(160, 45)) as pilot:
        app.open(DealForm(store.stages(), now=now, tz=tz))
        await pilot.pause()
        await type_into(pilot, "#f-customer", "Zed")
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is None
        assert deal_count(store) == 0


async def test_follow_up_form_parses_when_and_shows_local_time(store, now, tz, tui_host):
    app = tui_host()
    async with app.run_test(size=(160, 45)) as pilot:
        form = FollowUpForm(7, "Acme", now=now, tz=tz)
        app.open(form)
        await pilot.pause()
        # Default "tomorrow" = 09:00 local on Wed 25 Nov.
        assert "Wed 2026-11-25 09:00" in str(form.query_one("#hint-when", Label).render())
        await type_into(pilot, "#f-when", "fri 15:00")
        assert "Fri 2026-11-27 15:00" in str(form.query_one("#hint-when", Label).render())
        await type_into(pilot, "#f-when", "someday")
        assert "not a date or time" in form.error_text("when")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and app.result is app.UNSET
        await type_into(pilot, "#f-when", "+2h")
        await type_into(pilot, "#f-note", "send quote")
        form.query_one("#f-kind", Select).value = "email"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == FollowUpDraft(7, now + timedelta(hours=2), "email", "send quote")


async def test_touch_form_offers_next_and_may_be_cleared(store, now, tz, tui_host):
    app = tui_host()
    nxt = datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc)  # 09:00 Shanghai
    async with app.run_test(size=(160, 45)) as pilot:
        form = TouchForm(3, "Acme", now=now, tz=tz, default_next=nxt)
        app.open(form)
        await pilot.pause()
        assert form.query_one("#f-next", Input).value == "2026-11-25 09:00"
        await pilot.press(*"asked for pricing")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == TouchDraft(3, "call", "asked for pricing", nxt, "call", "")
        form = TouchForm(3, "Acme", now=now, tz=tz, default_next=nxt)
        app.open(form)
        await pilot.pause()
        await type_into(pilot, "#f-next", "")
        assert "no next follow-up" in str(form.query_one("#hint-next", Label).render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == TouchDraft(3, "call", "", None, "call", "")


async def test_lose_form_refuses_empty_and_combines(store, now, tz, tui_host):
    app = tui_host()
    async with app.run_test(size=(160, 45)) as pilot:
        form = LoseForm("Acme")
        app.open(form)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and app.result is app.UNSET
        assert "is required" in form.error_text("reason")
        form.query_one("#f-reason", Select).value = "price"
        await type_into(pilot, "#f-text", "20% over budget")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == "price: 20% over budget"


async def test_confirm_dialog(store, now, tz, tui_host):
    app = tui_host()
    async with app.run_test(size=(160, 45)) as pilot:
        app.open(ConfirmDialog("Move [b]x[/b] into Won?"))
        await pilot.pause()
        assert "[b]x[/b]" in str(app.screen.query_one("#question", Label).render())
        await pilot.press("y")
        await pilot.pause()
        assert app.result is True
        app.open(ConfirmDialog("Sure?"))
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is False


@pytest.mark.parametrize("name", HOSTILE)
async def test_hostile_names_render_literally_in_forms(store, now, tz, name, tui_host):
    deal_id = store.add_deal({"customer": name, "title": name}, now=now, tz=tz)
    deal = store.get_deal(deal_id)
    app = tui_host()
    async with app.run_test(size=(160, 45)) as pilot:
        for form in (
            DealForm(store.stages(), now=now, tz=tz, deal=deal),
            FollowUpForm(deal_id, name, now=now, tz=tz),
            TouchForm(deal_id, name, now=now, tz=tz),
            LoseForm(name),
        ):
            app.open(form)
            await pilot.pause()
            title = form.query_one("#form-title", Label).render()
            assert str(title).endswith(name)
            await pilot.click("#form-title")  # clicking a hostile title triggers nothing
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
            assert app.result is None
        assert not app.quit_called
        assert app.is_running


async def test_screenshots_render_the_four_screens(tmp_path):
    """`make screenshots`: demo data, pinned clock; the form picture shows the refusals."""
    import html
    import re

    from funnel_tui.tui.screenshots import render

    paths = await render(tmp_path / "shots")
    assert sorted(p.name for p in paths) == ["board.svg", "deal-form.svg", "deal.svg", "today.svg"]

    def text(name: str) -> str:
        svg = (tmp_path / "shots" / name).read_text(encoding="utf-8")
        return html.unescape(" ".join(re.findall(r">([^<>]+)</text>", svg))).replace("\xa0", " ")

    form = text("deal-form.svg")
    for message in ("is required", "out of range", "not an amount", "not a date"):
        assert message in form
    assert "Today · Tue 2026-11-24 10:00" in text("today.svg")
    assert "Open follow-ups" in text("deal.svg")


async def test_new_deal_form_starts_in_customer_so_typing_lands_there(store, now, tz, tui_host):
    app = tui_host()
    async with app.run_test(size=(160, 45)) as pilot:
        app.open(DealForm(store.stages(), now=now, tz=tz))
        await pilot.pause()
        await pilot.press(*"星河教育")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.result, DealDraft)
        assert app.result.values["customer"] == "星河教育"
        assert deal_count(store) == 0  # a form never writes
