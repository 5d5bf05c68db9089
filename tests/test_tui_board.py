"""Pilot tests of the board: every key, checked on the screen AND in the database.

Each test runs the real FunnelApp against a temp-file store with a fixed clock and zone.
Forms are filled through their widgets (the forms engineer's ids: #f-customer, #f-text...),
so these tests fail if the board and the forms stop fitting together.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from rich.text import Text
from textual.widgets import Input
from textual.worker import WorkerCancelled

from funnel_tui.domain.money import weighted_minor
from funnel_tui.domain.text import display_width
from funnel_tui.domain.validation import FollowUpDraft
from funnel_tui.tui.app import FunnelApp
from funnel_tui.tui.deal_actions import describe_undo
from funnel_tui.tui.screens.board import BoardScreen
from funnel_tui.tui.widgets.stage_column import DealOption, MoreOption

SIZE = (160, 45)
HOSTILE = ("Acme [/]", "[@click=app.quit]X[/]", "[bold red]x")


class Clock:
    """A clock the test can move forward."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def make_app(store, now, tz, tmp_path, **kwargs) -> FunnelApp:
    clock = kwargs.pop("clock", None) or Clock(now)
    return FunnelApp(store, clock, tz=tz, lang=kwargs.pop("lang", "en"), export_dir=tmp_path, **kwargs)


async def settle(pilot) -> None:
    """Let workers (loads, tiers, reminders) finish and their results land."""
    for _ in range(4):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:  # an exclusive worker replaced by a newer one
            continue
        await pilot.pause()


def board(app) -> BoardScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, BoardScreen)
    return screen


def cards(app, stage: str) -> list[str]:
    """The plain text of every card in a column, first line (customer [+ tier]) only."""
    column = board(app).column(stage)
    return [o.prompt.plain.split("\n")[0].rstrip(" ABC") for o in column.cards.options
            if isinstance(o, DealOption)]


def card_ids(app, stage: str) -> list[int]:
    return [o.deal_id for o in board(app).column(stage).cards.options if isinstance(o, DealOption)]


def toasts(app) -> list[str]:
    return [n.message for n in app._notifications]


def highlighted_id(app) -> int | None:
    deal = board(app).current_deal
    return deal["id"] if deal else None


def stage_moves(store, deal_id: int) -> list[tuple[str, str]]:
    return [(h["from_stage"], h["to_stage"]) for h in store.deal_history(deal_id) if h["kind"] == "stage"]


@pytest.fixture
def pipeline(store, now, tz):
    """A small hand-made pipeline: names chosen so each test can find its deal."""
    ago = lambda days: now - timedelta(days=days)  # noqa: E731
    ids = {}
    ids["acme"] = store.add_deal({"customer": "Acme Robotics", "title": "ERP", "amount": "120000",
                                  "lead_score": "8", "contact_name": "Sam Lee"}, now=ago(3), tz=tz)
    ids["weak"] = store.add_deal({"customer": "Weak Lead Co", "amount": "5000", "lead_score": "3"},
                                 now=ago(2), tz=tz)
    ids["hua"] = store.add_deal({"customer": "华信科技", "title": "数据平台", "contact_name": "张伟",
                                 "amount": "30万", "stage": "qualified"}, now=ago(20), tz=tz)
    ids["nego"] = store.add_deal({"customer": "Globex", "amount": "80000", "stage": "negotiation"},
                                 now=ago(5), tz=tz)
    ids["won"] = store.add_deal({"customer": "Initech", "amount": "20000", "stage": "won"}, now=ago(9), tz=tz)
    ids["lost"] = store.add_deal({"customer": "Gone Ltd", "amount": "1000", "stage": "demo"}, now=ago(9), tz=tz)
    store.lose_deal(ids["lost"], "price", now=ago(1))
    store.add_follow_up(FollowUpDraft(ids["acme"], now - timedelta(hours=3), "call", "budget?"), now=ago(1))
    store.add_follow_up(FollowUpDraft(ids["hua"], now + timedelta(hours=5), "visit", ""), now=ago(1))
    return ids


# --- the board itself ---------------------------------------------------------------------


async def test_columns_headers_and_cards(store, pipeline, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        b = board(app)
        assert [c.stage.key for c in b.columns] == ["lead", "qualified", "demo", "negotiation", "won", "expansion"]
        assert cards(app, "lead") == ["Acme Robotics", "Weak Lead Co"]  # overdue first, then none
        assert cards(app, "qualified") == ["华信科技"]
        assert cards(app, "won") == ["Initech"]
        assert cards(app, "demo") == []  # the lost deal is hidden
        header = b.column("lead").header.content.plain
        assert "Lead" in header and "2" in header and "Σ 125k" in header and "w 12.5k" in header
        acme = b.column("lead").cards.options[0].prompt.plain
        assert "120k · 10%" in acme and "overdue 3h" in acme and acme.split("\n")[0].endswith(" B")
        assert "no next step" in b.column("lead").cards.get_option_at_index(1).prompt.plain
        assert "today 15:00" in b.column("qualified").cards.options[0].prompt.plain  # 07:00Z → Shanghai
        assert "⌛ near 20d (max 21)" in b.column("qualified").cards.options[0].prompt.plain
        # The start-up reminder counts what is due.
        assert "1 overdue · 1 due in 24h" in toasts(app)


async def test_cursor_moves_with_arrows_and_hjk(store, pipeline, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert highlighted_id(app) == pipeline["acme"]
        await pilot.press("j")
        assert highlighted_id(app) == pipeline["weak"]
        await pilot.press("k")
        assert highlighted_id(app) == pipeline["acme"]
        await pilot.press("down")
        assert highlighted_id(app) == pipeline["weak"]
        await pilot.press("right")
        assert board(app).focused_column.stage.key == "qualified"
        assert highlighted_id(app) == pipeline["hua"]
        await pilot.press("right", "right")
        assert highlighted_id(app) == pipeline["nego"]
        await pilot.press("h")
        assert board(app).focused_column.stage.key == "demo" and highlighted_id(app) is None
        await pilot.press("left", "left")
        assert board(app).focused_column.stage.key == "lead"


async def test_a_burst_of_column_keys_is_not_lost(store, pipeline, now, tz, tmp_path):
    """Textual focuses later; three quick → must still land three columns on."""
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        b = board(app)
        for _ in range(3):
            b.action_focus_column(1)  # no pause: as fast as a key repeat
        assert b.focused_column.stage.key == "negotiation"
        assert highlighted_id(app) == pipeline["nego"]
        b.action_move_card(-1)  # acts on the deal under the cursor, not the old focus
        await settle(pilot)
        assert store.get_deal(pipeline["nego"])["stage"] == "demo"
        assert app.screen.focused is b.column("demo").cards


@pytest.mark.parametrize("key,start,step", [("L", "acme", 1), ("shift+right", "acme", 1),
                                             ("H", "hua", -1), ("shift+left", "hua", -1)])
async def test_move_card_keys(store, pipeline, now, tz, tmp_path, key, start, step):
    app = make_app(store, now, tz, tmp_path)
    deal_id = pipeline[start]
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert board(app).highlight(deal_id, store.get_deal(deal_id)["stage"])
        before = store.get_deal(deal_id)["stage"]
        await pilot.press(key)
        await pilot.pause()
        keys = [s.key for s in store.stages()]
        after = keys[keys.index(before) + step]
        # Database: stage and one history row for the move.
        assert store.get_deal(deal_id)["stage"] == after
        assert stage_moves(store, deal_id) == [(before, after)]
        # Screen: the card left its column, sits in the new one, still under the cursor.
        assert deal_id not in card_ids(app, before)
        assert deal_id in card_ids(app, after)
        assert highlighted_id(app) == deal_id
        assert board(app).focused_column.stage.key == after
        # Headers stay exact without a re-sum.
        totals = store.board_totals()
        for key_ in (before, after):
            assert board(app).column(key_).totals == totals.get(key_, {"count": 0, "amount": 0, "weighted": 0})
        # The board shows the move; no toast (mounting one lays out the whole screen).
        assert not any("→" in t for t in toasts(app))


async def test_move_into_won_asks_first(store, pipeline, now, tz, tmp_path):
    from funnel_tui.tui.forms import ConfirmDialog

    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        board(app).highlight(pipeline["nego"], "negotiation")
        await pilot.press("L")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await pilot.pause()
        assert store.get_deal(pipeline["nego"])["stage"] == "negotiation"
        assert pipeline["nego"] in card_ids(app, "negotiation")
        await pilot.press("L")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        deal = store.get_deal(pipeline["nego"])
        assert (deal["stage"], deal["status"]) == ("won", "won")
        assert pipeline["nego"] in card_ids(app, "won")
        assert highlighted_id(app) == pipeline["nego"]


async def test_low_lead_score_into_qualified_warns_but_moves(store, pipeline, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        board(app).highlight(pipeline["weak"], "lead")
        await pilot.press("L")
        await pilot.pause()
        assert store.get_deal(pipeline["weak"])["stage"] == "qualified"
        warnings = [n for n in app._notifications if n.severity == "warning"]
        assert any("lead score 3 is below 6" in n.message for n in warnings)
        assert isinstance(app.screen, BoardScreen)  # never a blocking dialog


async def test_X_marks_lost_with_reason(store, pipeline, now, tz, tmp_path):
    from funnel_tui.tui.forms import LoseForm

    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("X")
        await pilot.pause()
        assert isinstance(app.screen, LoseForm)
        app.screen.query_one("#f-text", Input).value = "too expensive"
        await pilot.press("ctrl+s")
        await settle(pilot)
        deal = store.get_deal(pipeline["acme"])
        assert (deal["status"], deal["lost_reason"]) == ("lost", "too expensive")
        assert any(h["kind"] == "lost" for h in store.deal_history(pipeline["acme"]))
        assert cards(app, "lead") == ["Weak Lead Co"]
        assert board(app).column("lead").totals["count"] == 1
        assert "Acme Robotics: lost (too expensive)" in toasts(app)


async def test_n_adds_a_deal_in_the_focused_stage(store, pipeline, now, tz, tmp_path):
    from funnel_tui.tui.forms import DealForm

    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("right")  # Qualified column: the new deal starts there
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, DealForm)
        app.screen.query_one("#f-customer", Input).focus()
        await pilot.press(*"Hooli")
        app.screen.query_one("#f-amount", Input).focus()
        await pilot.press(*"3万")
        await pilot.press("ctrl+s")
        await settle(pilot)
        found = store.search_deals("Hooli")
        assert len(found) == 1
        deal = store.get_deal(found[0]["id"])
        assert (deal["stage"], deal["amount"]) == ("qualified", 3_000_000)
        assert [h["kind"] for h in store.deal_history(deal["id"])] == ["created"]
        assert "Hooli" in cards(app, "qualified")
        assert highlighted_id(app) == deal["id"]
        assert board(app).column("qualified").totals["count"] == 2


async def test_n_refused_input_writes_nothing(store, pipeline, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("ctrl+s")  # no customer: the form refuses
        await pilot.pause()
        assert not isinstance(app.screen, BoardScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert store.count_deals(status="all") == 6


@pytest.mark.parametrize("key", ["enter", "e"])
async def test_enter_and_e_open_the_deal(store, pipeline, now, tz, tmp_path, key):
    from funnel_tui.tui.screens.deal import DealScreen

    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, DealScreen) and app.screen.deal_id == pipeline["acme"]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        assert cards(app, "lead") == ["Acme Robotics", "Weak Lead Co"]


async def test_board_refreshes_after_a_change_on_another_screen(store, pipeline, now, tz, tmp_path):
    from funnel_tui.tui.screens.deal import DealScreen

    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, DealScreen)
        store.move_deal(pipeline["weak"], "demo", now=now)  # as a screen would
        await pilot.press("escape")
        await settle(pilot)
        assert pipeline["weak"] in card_ids(app, "demo")
        assert pipeline["weak"] not in card_ids(app, "lead")


async def test_f_schedules_a_follow_up(store, pipeline, now, tz, tmp_path):
    from funnel_tui.tui.forms import FollowUpForm

    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        board(app).highlight(pipeline["weak"], "lead")
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, FollowUpForm)
        when = app.screen.query_one("#f-when", Input)
        when.value = "today 16:00"
        await pilot.press("ctrl+s")
        await settle(pilot)
        ups = store.deal_follow_ups(pipeline["weak"], open_only=True)
        assert [u["due_at"].astimezone(tz).strftime("%H:%M") for u in ups] == ["16:00"]
        assert store.get_deal(pipeline["weak"])["next_follow_up_at"] == ups[0]["due_at"]
        # Screen: the card now shows its next step and stays under the cursor.
        assert highlighted_id(app) == pipeline["weak"]
        weak = board(app).current_deal
        assert "today 16:00" in board(app).render_card(weak, 30).plain
        assert "Follow-up planned for Weak Lead Co" in toasts(app)


async def test_l_logs_a_touch_with_cadence_default(store, pipeline, now, tz, tmp_path):
    from funnel_tui.tui.forms import TouchForm

    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        acme = store.get_deal(pipeline["acme"])
        assert board(app).tiers.tier(weighted_minor(acme["amount"], acme["probability"])) == "B"
        await pilot.press("l")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, TouchForm)
        # Tier B: the next follow-up is offered a week out, at the start of that working day
        # (the same rule as the Deal and Today screens).
        week_out = datetime(2026, 12, 1, 9, 0, tzinfo=tz)
        assert form.query_one("#f-next", Input).value == "2026-12-01 09:00"
        form.query_one("#f-note").focus()
        await pilot.press(*"asked for pricing")
        await pilot.press("ctrl+s")
        await settle(pilot)
        touches = store.deal_touches(pipeline["acme"])
        assert [t["note"] for t in touches] == ["asked for pricing"]
        ups = store.deal_follow_ups(pipeline["acme"], open_only=True)
        assert week_out in [u["due_at"] for u in ups]
        assert store.get_deal(pipeline["acme"])["last_contact_at"] == now
        assert any(t.startswith("Logged a call with Acme Robotics") for t in toasts(app))


async def test_slash_searches_chinese_and_jumps(store, pipeline, now, tz, tmp_path):
    from funnel_tui.tui.screens.search import SearchScreen

    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.pause()
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"张伟")  # the contact of 华信科技
        await settle(pilot)
        results = app.screen.query_one("#search-results").options
        assert [o.deal_id for o in results] == [pipeline["hua"]]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        assert highlighted_id(app) == pipeline["hua"]


async def test_slash_searches_in_pinyin_and_says_when_nothing_matches(store, pipeline, now, tz, tmp_path):
    from funnel_tui.tui.screens.search import SearchScreen

    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.pause()
        search = app.screen.query_one("#search-input", Input)
        for query in ("hxkj", "huaxin", "华x", "zw"):  # initials, full pinyin, mixed, the contact 张伟
            search.value = query
            await settle(pilot)
            assert [o.deal_id for o in app.screen.query_one("#search-results").options] == [pipeline["hua"]], query
        search.value = "zzqx"
        await settle(pilot)
        (line,) = app.screen.query_one("#search-results").options
        assert line.disabled and "zzqx" in str(line.prompt) and "hxkj" in str(line.prompt)
        await pilot.press("enter")  # nothing to jump to: the search stays open
        await pilot.pause()
        assert isinstance(app.screen, SearchScreen)
        search.value = "hxkj"
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        assert highlighted_id(app) == pipeline["hua"]


async def test_search_takes_percent_and_underscore_literally(store, pipeline, now, tz, tmp_path):
    odd = store.add_deal({"customer": "100%_sure"}, now=now, tz=tz)
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.press(*"%_")
        await settle(pilot)
        assert [o.deal_id for o in app.screen.query_one("#search-results").options] == [odd]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        # Closing before the query answers is harmless.
        await pilot.press("slash", "a", "escape")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen) and app.is_running


async def test_t_opens_today_and_s_summary(store, pipeline, now, tz, tmp_path):
    from funnel_tui.tui.screens.today import TodayScreen

    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TodayScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        await pilot.press("s")
        await settle(pilot)
        try:
            from funnel_tui.tui.screens.summary import SummaryScreen
        except ImportError:  # until the summary screen lands: a friendly placeholder
            assert any("Summary" in t for t in toasts(app))
            assert isinstance(app.screen, BoardScreen)
        else:
            assert isinstance(app.screen, SummaryScreen)


async def test_x_exports_what_the_board_shows(store, pipeline, now, tz, tmp_path):
    pytest.importorskip("funnel_tui.exchange.csv_export")
    import csv

    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        files = list(tmp_path.glob("funnel-*.csv"))
        assert len(files) == 1
        with files[0].open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        # Open and won columns; the lost deal is hidden, so it is not exported.
        assert sorted(r["customer"] for r in rows) == ["Acme Robotics", "Globex", "Initech", "Weak Lead Co",
                                                       "华信科技"]
        assert f"Exported 5 deals to {files[0]}" in toasts(app)
        for f in files:
            f.unlink()
        await pilot.press("z", "x")  # lost deals shown: the export includes them
        await settle(pilot)
        [again] = tmp_path.glob("funnel-*.csv")
        with again.open(encoding="utf-8-sig", newline="") as fh:
            assert "Gone Ltd" in [r["customer"] for r in csv.DictReader(fh)]


async def test_u_undoes_the_last_move(store, pipeline, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("L")
        await settle(pilot)
        assert store.get_deal(pipeline["acme"])["stage"] == "qualified"
        await pilot.press("u")
        await settle(pilot)
        assert store.get_deal(pipeline["acme"])["stage"] == "lead"
        assert stage_moves(store, pipeline["acme"]) == [("lead", "qualified"), ("qualified", "lead")]
        assert pipeline["acme"] in card_ids(app, "lead")
        assert "Undone — Acme Robotics: stage Qualified → Lead" in toasts(app)


async def test_u_with_nothing_to_undo(store, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await pilot.pause()
        assert "Nothing to undo" in toasts(app)


async def test_z_toggles_lost_deals(store, pipeline, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert cards(app, "demo") == []
        await pilot.press("z")
        await settle(pilot)
        assert cards(app, "demo") == ["Gone Ltd"]
        lost = board(app).column("demo").cards.options[0].prompt.plain
        assert "lost: price" in lost
        # A lost card cannot move or be lost again: those keys are not offered.
        board(app).highlight(pipeline["lost"], "demo")
        await pilot.pause()
        assert board(app).check_action("move_card", (1,)) is False
        assert board(app).check_action("lose", ()) is False
        await pilot.press("z")
        await settle(pilot)
        assert cards(app, "demo") == []


async def test_help_lists_every_bound_key(store, pipeline, now, tz, tmp_path):
    from funnel_tui.tui.help import HelpScreen, key_rows

    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        described = {what for _, what, _ in app.screen.rows}
        expected = {b.description for b in BoardScreen.BINDINGS} | {"Quit", "Palette"}
        assert expected <= described
        assert ("H shift+←", "Move ←", "Move the highlighted deal back one stage") in key_rows(BoardScreen.BINDINGS)
        from funnel_tui.tui.help import markdown_table

        table = markdown_table(BoardScreen.BINDINGS)
        assert "| / | Search | Find deals by customer, title or contact |" in table
        assert table.count("\n") == len(key_rows(BoardScreen.BINDINGS)) + 1
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)


async def test_q_quits(store, pipeline, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 and not app.is_running


async def test_footer_offers_only_keys_that_can_act(store, pipeline, now, tz, tmp_path):
    from funnel_tui.tui.widgets.key_bar import KeyBar

    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        def footer() -> set[str]:
            return {what for _, what in app.screen.query_one(KeyBar).shown}

        b = board(app)
        # First stage, a card highlighted: nothing to move back to.
        assert {"Move →", "Lost", "Log", "Open", "New", "Quit"} <= footer()
        assert "Move ←" not in footer()
        await pilot.press("right", "right")  # Demo: an empty column
        await settle(pilot)
        assert b.current_deal is None
        for action in ("open_deal", "follow_up", "log_touch", "lose"):
            assert b.check_action(action, ()) is False
        assert not footer() & {"Move →", "Move ←", "Lost", "Log", "Open", "Follow-up"}
        assert {"New", "Search", "Undo", "Today", "Help"} <= footer()
        await pilot.press("right")  # Negotiation: a card
        await settle(pilot)
        assert {"Move →", "Move ←", "Lost", "Log", "Open", "Follow-up"} <= footer()
        line = app.screen.query_one(KeyBar).content.plain
        assert " L  Move →" in line and " ^p  Palette" in line


async def test_more_option_pages_further(store, now, tz, tmp_path):
    for n in range(57):
        store.add_deal({"customer": f"Lead {n:02d}"}, now=now - timedelta(minutes=n), tz=tz)
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        column = board(app).column("lead")
        assert len(card_ids(app, "lead")) == 50
        more = column.cards.options[-1]
        assert isinstance(more, MoreOption) and more.prompt.plain == "▼ 7 more…"
        column.cards.highlighted = column.cards.option_count - 1
        await pilot.press("enter")
        await settle(pilot)
        assert len(card_ids(app, "lead")) == 57
        assert len(set(card_ids(app, "lead"))) == 57
        assert not any(isinstance(o, MoreOption) for o in column.cards.options)


async def test_wide_cjk_names_are_cut_by_display_width(store, now, tz, tmp_path):
    name = "北京远景能源科技股份有限公司华东区域分公司"
    store.add_deal({"customer": name, "title": "长长的标题" * 6}, now=now, tz=tz)
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        column = board(app).column("lead")
        first, title = column.cards.options[0].prompt.plain.split("\n")[:2]
        assert first.startswith("北京远景") and "…" in first
        assert display_width(first) <= column.card_width
        assert display_width(title) <= column.card_width and title.endswith("…")


# --- palette --------------------------------------------------------------------------------


async def test_palette_jumps_to_a_deal_by_fuzzy_name(store, pipeline, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"glbx")
        await settle(pilot)
        await pilot.pause(0.3)
        from textual.command import CommandList

        prompts = [str(o.prompt) for o in app.screen.query_one(CommandList).options]
        assert any("Jump to deal: Globex" in p for p in prompts)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        assert highlighted_id(app) == pipeline["nego"]


async def test_palette_jumps_to_a_deal_by_pinyin_initials(store, pipeline, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"hxkj")
        await settle(pilot)
        await pilot.pause(0.3)
        from textual.command import CommandList

        prompts = [str(o.prompt) for o in app.screen.query_one(CommandList).options]
        assert any("Jump to deal: 华信科技" in p for p in prompts)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        assert highlighted_id(app) == pipeline["hua"]


async def test_palette_runs_board_actions(store, pipeline, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"theme")
        await settle(pilot)
        await pilot.pause(0.3)
        from textual.command import CommandList

        assert any(str(o.prompt).startswith("Theme") for o in app.screen.query_one(CommandList).options)
        app.screen.query_one(Input).value = ""
        await pilot.press(*"Lost on")
        await settle(pilot)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert board(app).show_lost is True
        assert cards(app, "demo") == ["Gone Ltd"]


# --- reminders, theme, language -------------------------------------------------------------


async def test_reminders_toast_what_became_due_and_pause_under_a_modal(store, pipeline, now, tz, tmp_path):
    clock = Clock(now)
    store.add_follow_up(FollowUpDraft(pipeline["weak"], now + timedelta(minutes=30), "email", "send deck"),
                        now=now)
    app = make_app(store, now, tz, tmp_path, clock=clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert "1 overdue · 2 due in 24h" in toasts(app)
        app.check_reminders()
        await settle(pilot)
        assert not any(t.startswith("Due now") for t in toasts(app))  # nothing new yet
        clock.now = now + timedelta(minutes=45)
        await pilot.press("question_mark")  # a modal is open: the check waits
        await pilot.pause()
        app.check_reminders()
        await settle(pilot)
        assert not any(t.startswith("Due now") for t in toasts(app))
        await pilot.press("escape")
        await pilot.pause()
        app.check_reminders()
        await settle(pilot)
        assert "Due now: Weak Lead Co — email send deck" in toasts(app)
        app.check_reminders()  # told once only
        await settle(pilot)
        assert sum(t.startswith("Due now") for t in toasts(app)) == 1


async def test_theme_is_remembered_between_runs(store, pipeline, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.theme = "nord"
        await settle(pilot)
    assert store.get_setting("theme") == "nord"
    again = make_app(store, now, tz, tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.theme == "nord"


async def test_chinese_names_from_locale_or_setting(store, pipeline, now, tz, tmp_path, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    app = FunnelApp(store, Clock(now), tz=tz, export_dir=tmp_path)
    assert app.lang == "zh"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert board(app).column("lead").header.content.plain.startswith("潜在线索")
        assert "看板" in str(app.screen.query_one("#board-title").content)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert FunnelApp(store, Clock(now), tz=tz).lang == "en"
    store.set_setting("lang", "zh")
    assert FunnelApp(store, Clock(now), tz=tz).lang == "zh"


# --- refusals and hostile text ----------------------------------------------------------------


async def test_store_refusal_is_an_error_toast(store, pipeline, now, tz, tmp_path):
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        # Another terminal edits the deal after the board read it: the move is refused.
        store.update_deal(pipeline["acme"], {"title": "changed elsewhere"}, now=now, tz=tz)
        await pilot.press("L")
        await settle(pilot)
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert errors and "changed elsewhere" in errors[0]
        assert store.get_deal(pipeline["acme"])["stage"] == "lead"
        assert stage_moves(store, pipeline["acme"]) == []
        # The board re-read the database, so the next try works.
        assert "changed elsewhere" in board(app).current_deal["title"]
        await pilot.press("L")
        await settle(pilot)
        assert store.get_deal(pipeline["acme"])["stage"] == "qualified"
        assert app.is_running


async def test_hostile_names_render_literally_and_do_nothing(store, now, tz, tmp_path):
    # A low lead score, so moving into Qualified toasts a warning that quotes the name.
    ids = [store.add_deal({"customer": name, "title": name, "lead_score": 3}, now=now - timedelta(minutes=i), tz=tz)
           for i, name in enumerate(HOSTILE)]
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert cards(app, "lead") == list(HOSTILE)
        column = board(app).column("lead")
        for option in column.cards.options:
            if isinstance(option, DealOption):
                assert isinstance(option.prompt, Text) and not option.prompt.spans or all(
                    "link" not in str(s.style) and "@click" not in str(s.style) for s in option.prompt.spans)
        # Click each card (its name line): nothing may run but opening the deal.
        for y in (3, 8, 13):
            await pilot.click(offset=(5, y))
            await pilot.pause()
            while not isinstance(app.screen, BoardScreen):
                await pilot.press("escape")
                await pilot.pause()
        assert app.is_running
        # Move each hostile deal: the warning toast shows the name as written.
        for deal_id, name in zip(ids, HOSTILE):
            board(app).highlight(deal_id, store.get_deal(deal_id)["stage"])
            await pilot.press("L")
            await settle(pilot)
            assert f"{name}: lead score 3 is below 6 for a qualified deal" in toasts(app)
            assert store.get_deal(deal_id)["stage"] == "qualified"
        assert cards(app, "qualified") == list(HOSTILE)
        assert app.is_running


async def test_hostile_names_in_the_palette(store, now, tz, tmp_path):
    store.add_deal({"customer": "[@click=app.quit]X[/]"}, now=now, tz=tz)
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"click")
        await settle(pilot)
        await pilot.pause(0.3)
        from textual.command import CommandList

        prompts = [str(o.prompt) for o in app.screen.query_one(CommandList).options]
        assert any("[@click=app.quit]X[/]" in p for p in prompts)
        await pilot.press("enter")
        await settle(pilot)
        assert app.is_running


# --- store helpers the board relies on ----------------------------------------------------------


def test_search_deals_is_bounded_literal_and_fuzzy(store, now, tz):
    a = store.add_deal({"customer": "Acme Robotics"}, now=now, tz=tz)
    b = store.add_deal({"customer": "100%_sure", "title": "x"}, now=now, tz=tz)
    c = store.add_deal({"customer": "华信科技", "contact_name": "张伟"}, now=now, tz=tz)
    store.lose_deal(a, "price", now=now)
    assert [r["id"] for r in store.search_deals("%_")] == [b]
    assert [r["id"] for r in store.search_deals("张伟")] == [c]
    assert [r["id"] for r in store.search_deals("acr", fuzzy=True)] == [a]
    assert [r["id"] for r in store.search_deals("e")] == [b, a]  # open first
    assert [r["id"] for r in store.search_deals("e", limit=1)] == [b]
    assert store.search_deals("   ") == []


def test_board_totals_are_exact_integers(store, now, tz):
    from funnel_tui.domain.money import weighted_minor

    for amount in ("0.01", "0.03", "10.05", "99.99"):
        store.add_deal({"customer": "x", "amount": amount, "probability": "33"}, now=now, tz=tz)
    totals = store.board_totals()["lead"]
    assert totals["weighted"] == sum(weighted_minor(a, 33) for a in (1, 3, 1005, 9999))
    assert isinstance(totals["weighted"], int)


def test_describe_undo_names_the_change(store, pipeline, now):
    store.move_deal(pipeline["acme"], "qualified", now=now)
    result = store.undo(now=now)
    assert describe_undo(store, result) == "Undone — Acme Robotics: stage Qualified → Lead"
    store.lose_deal(pipeline["weak"], "no budget", now=now)
    assert describe_undo(store, store.undo(now=now)) == "Undone — Weak Lead Co: reopened"


async def test_a_locked_database_is_an_error_toast_not_a_crash(store, pipeline, now, tz, tmp_path, monkeypatch):
    import sqlite3

    from sqlalchemy.exc import OperationalError

    def locked(*args, **kwargs):
        # SQLite's refusal inside a real store transaction: the store turns it into a StoreError.
        with store.write():
            raise OperationalError("UPDATE deal ...", {}, sqlite3.OperationalError("database is locked"))

    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        monkeypatch.setattr(store, "move_deal", locked)
        await pilot.press("L")
        await settle(pilot)
        assert "database: database is locked; nothing was changed, try again" in toasts(app)
        assert app.is_running and store.get_deal(pipeline["acme"])["stage"] == "lead"


# --- the card renderer (pure) -------------------------------------------------------------------


def test_next_step_badge_boundaries(now, tz):
    from funnel_tui.tui.widgets.deal_card import next_step_badge

    # now = 10:00 Shanghai; local midnight is 14:00 UTC.
    assert next_step_badge(None, now, tz) == ("none", "no next step")
    assert next_step_badge(now - timedelta(minutes=1), now, tz)[0] == "overdue"
    assert next_step_badge(now, now, tz) == ("today", "◷ today 10:00")
    assert next_step_badge(now + timedelta(hours=13, minutes=59), now, tz)[0] == "today"  # 23:59 local
    assert next_step_badge(now + timedelta(hours=14), now, tz) == ("upcoming", "◷ 11-25 (+1d)")
    assert next_step_badge(now - timedelta(days=2, hours=1), now, tz) == ("overdue", "⏰ overdue 2d")


def test_card_text_is_plain_text_of_exactly_the_width(now, tz):
    from funnel_tui.tui.widgets.deal_card import CardColours, card_text

    deal = {"id": 1, "customer": "[@click=app.quit]X[/] 北京远景能源科技股份有限公司", "title": "[bold red]x",
            "amount": 12_345_600, "currency": "USD", "probability": 40, "risk_level": "high",
            "status": "open", "stage": "demo", "stage_entered_at": now - timedelta(days=22),
            "next_follow_up_at": None}
    card = card_text(deal, width=24, now=now, tz=tz, max_dwell_days=21, tier="A", colours=CardColours())
    lines = card.plain.split("\n")
    assert lines[0].startswith("[@click=app.quit]X[/]") and lines[0].endswith(" A")
    assert lines[1] == "[bold red]x"
    assert lines[2] == "123k USD · 40% · ▲high"
    assert lines[3] == "no next step"
    assert lines[4] == "⌛ over 22d (max 21)"
    assert all(display_width(line) <= 24 for line in lines)
    assert not any(getattr(span.style, "link", None) for span in card.spans)
