"""The board: one column per stage, cards ordered by urgency, every action one key away.

State lives here (which columns, which page, which deal is highlighted), so the bindings
do too. The screen calls the store; widgets only draw and post messages; forms return
drafts. Reads that can be slow (all columns, tiers) run in a thread worker, so the first
frame never waits on the database; a move redraws only the two columns it touched.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import OptionList, Static

from funnel_tui.domain.money import weighted_minor
from funnel_tui.domain.rules import TierCutoffs, lead_score_warning
from funnel_tui.domain.stages import StageDef
from funnel_tui.tui.board_data import PAGE, FirstRead, read_board
from funnel_tui.tui.i18n import tr
from funnel_tui.tui.widgets.deal_card import CardColours, card_text
from funnel_tui.tui.widgets.key_bar import KeyBar
from funnel_tui.tui.widgets.stage_column import DealList, DealOption, MoreOption, StageColumn

# Forms, the other screens and the CSV exporter are imported by the action that opens them:
# the first frame with cards needs none of them (≈40 ms of imports at start).

TIER_DELAY = 1.5  # seconds of quiet after a change before tiers are recomputed
DEAL_ACTIONS = {"move_card", "lose", "open_deal", "follow_up", "log_touch"}


class BoardLoaded(Message):
    """Every column shows what the database had when the last full load started."""


class BoardScreen(Screen):
    """The kanban of funnel stages."""

    # Textual repaints the whole screen when focus moves; on the board that is every
    # column (≈70 ms at 160×48). The widgets that show focus restyle themselves anyway.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    BINDINGS = [
        Binding("left,h", "focus_column(-1)", "Column ←", show=False,
                tooltip="Highlight the card in the column to the left"),
        Binding("right", "focus_column(1)", "Column →", show=False,
                tooltip="Highlight the card in the column to the right"),
        Binding("H,shift+left", "move_card(-1)", "Move ←", key_display="H",
                tooltip="Move the highlighted deal back one stage"),
        Binding("L,shift+right", "move_card(1)", "Move →", key_display="L",
                tooltip="Move the highlighted deal on one stage (into Won asks first)"),
        Binding("e", "open_deal", "Open", tooltip="Open the deal: every field, timeline, follow-ups (also Enter)"),
        Binding("n", "new_deal", "New", tooltip="Add a new deal"),
        Binding("f", "follow_up", "Follow-up", tooltip="Schedule a follow-up on the highlighted deal"),
        Binding("l", "log_touch", "Log", tooltip="Log a call or visit and plan the next step"),
        Binding("X", "lose", "Lost", tooltip="Mark the highlighted deal lost, with a reason"),
        Binding("slash", "search", "Search", key_display="/", tooltip="Find deals by customer, title or contact"),
        Binding("t", "today", "Today", tooltip="What is due, rotting or without a next step"),
        Binding("s", "summary", "Summary", tooltip="The funnel review: conversion, tiers, lost reasons"),
        Binding("x", "export", "Export", tooltip="Write the deals on the board to a CSV file (opens in Excel)"),
        Binding("u", "undo", "Undo", tooltip="Undo the last change"),
        Binding("z", "toggle_lost", "Lost on/off", tooltip="Show or hide lost deals in their stages"),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="All keys"),
    ]
    """
    | Key | Action |
    | :- | :- |
    | ← → h, ↑ ↓ j k | move between columns and cards |
    | H / L, shift+← / shift+→ | move the deal to the previous / next stage |
    | Enter, e | open the deal |
    | n | new deal |
    | f | schedule a follow-up |
    | l | log a touch and plan the next step |
    | X | mark lost (with a reason) |
    | / | search customer, title, contact |
    | t / s | Today / Summary |
    | x | export the board to CSV |
    | u | undo the last change |
    | z | show / hide lost deals |
    | ? | help; q quit; ctrl+p palette |
    """

    def __init__(self) -> None:
        super().__init__()
        self.show_lost = False
        self.tiers = TierCutoffs(None, None)
        self.colours = CardColours()
        # Bumped by every change made here; a background load started before it is stale.
        self._generation = 0
        self._modal_open = False
        self._started = False
        self._painted = False  # the first frame with cards has been asked for
        self._tiers_read_first = False  # tiers came with the first read: no second read
        self._last_actions: tuple = ()
        self._columns: dict[str, StageColumn] = {}
        self._max_dwell: dict[str, int | None] = {}
        self._card_cache: dict[tuple, Text] = {}
        self._tier_timer = None
        self._cursor_column: StageColumn | None = None

    # --- layout -------------------------------------------------------------------------

    @property
    def board_stages(self) -> list[StageDef]:
        return list(self.app.store.stages())

    def compose(self) -> ComposeResult:
        lang = self.app.lang
        yield Static(Text(f"funnel · {tr(lang, 'Board')}", style="bold"), id="board-title")
        # The columns sit on the screen itself (layout: horizontal in app.tcss): a container
        # around them would be one more full-screen widget for the compositor to cut up.
        for stage in self.board_stages:
            status = "open" if stage.kind == "open" else "won"
            column = StageColumn(stage, status, stage.label(lang), self.render_card)
            self._columns[stage.key] = column
            self._max_dwell[stage.key] = stage.max_dwell_days
            yield column
        yield KeyBar(id="key-bar")

    def on_mount(self) -> None:
        self.colours = self._theme_colours()
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)
        self.focus_column(self.columns[0])
        # `funnel tui` started reading before Textual loaded: usually done by now, and then
        # the first frame already has cards. Otherwise a worker waits for it.
        first, self.app.first_read = getattr(self.app, "first_read", None), None
        if first is None:
            self.refresh_board()
        elif first.board.done() and first.board.exception() is None:
            self._apply_first_read(self._generation, first, first.board.result())
        else:
            self._wait_first_read(self._generation, first)

    @property
    def columns(self) -> list[StageColumn]:
        return list(self._columns.values())

    def column(self, stage_key: str) -> StageColumn | None:
        return self._columns.get(stage_key)

    def render_card(self, deal: dict, width: int) -> Text:
        """A card's Text, cached per deal version and minute: a move redraws two columns,
        but only the moved card is drawn anew."""
        now = self.app.now()
        tier = (self.tiers.tier(weighted_minor(deal["amount"], deal["probability"]))
                if deal.get("status") == "open" else None)
        key = (deal["id"], deal.get("version"), deal["stage"], deal.get("status"),
               deal.get("next_follow_up_at"), width, tier, self.colours, now.replace(second=0, microsecond=0))
        card = self._card_cache.get(key)
        if card is None:
            if len(self._card_cache) > 4000:
                self._card_cache.clear()
            card = self._card_cache[key] = card_text(
                deal, width=width, now=now, tz=self.app.tz, max_dwell_days=self._max_dwell.get(deal["stage"]),
                tier=tier, colours=self.colours, lang=self.app.lang,
            )
        return card

    def _theme_colours(self) -> CardColours:
        theme = self.app.current_theme
        return CardColours(
            error=theme.error or "red", warning=theme.warning or "yellow",
            success=theme.success or "green", accent=theme.accent or theme.primary,
            muted="dim",
        )

    def _on_theme_changed(self, _theme) -> None:
        self.colours = self._theme_colours()
        for column in self.columns:
            column.redraw_cards()

    # --- loading ------------------------------------------------------------------------

    def refresh_board(self) -> None:
        """Reload every column in the background (after another screen changed data)."""
        self._load_board(self._generation, self.show_lost,
                         {c.stage.key: max(PAGE, len(c.rows)) for c in self.columns})

    @work(thread=True, exclusive=True, group="board-load")
    def _load_board(self, generation: int, show_lost: bool, limits: dict[str, int]) -> None:
        data = read_board(self.app.store, show_lost, limits)
        self.app.call_from_thread(self._apply_board, generation, data)

    @work(thread=True, exclusive=True, group="board-load")
    def _wait_first_read(self, generation: int, first: FirstRead) -> None:
        try:
            data = first.board.result()
        except Exception:  # noqa: BLE001 - read again here; a real failure surfaces as before
            data = read_board(self.app.store, False, {})
        self.app.call_from_thread(self._apply_first_read, generation, first, data)

    def _apply_first_read(self, generation: int, first: FirstRead, data: dict) -> None:
        if first.tiers.done() and first.tiers.exception() is None:
            self.tiers = first.tiers.result()  # before the cards are drawn: no redraw for tiers
            self._tiers_read_first = True
        self._apply_board(generation, data)

    def _apply_board(self, generation: int, data: dict, first_screenful: bool | None = None) -> None:
        if generation != self._generation:
            self.refresh_board()  # something changed while we read; read again
            return
        if first_screenful is None:
            first_screenful = not self._painted
        # At start, each column first gets the cards that fit on screen: drawing and measuring
        # all 50 of six pages would hold the first frame back. The rest follows after it.
        # A card is at least five lines with its divider.
        fits = max(self.size.height, 24) // 5 + 1 if first_screenful else None
        for key, (rows, totals, lost) in data.items():
            column = self.column(key)
            if column is not None:
                column.set_data(rows[:fits], totals, lost, len(lost) >= PAGE, self.show_lost)
        if first_screenful:
            self._painted = True
            self.call_after_refresh(self._apply_board, generation, data, False)
            return
        self.refresh_bindings()
        self.post_message(BoardLoaded())
        # Tiers re-rank every open deal (≈15 ms at 100k, ≈140 ms at 1M): after the cards are up.
        if self._tiers_read_first:
            self._tiers_read_first = False
        else:
            self.call_after_refresh(self._refresh_tiers)

    def _apply_tiers(self, generation: int, tiers: TierCutoffs) -> None:
        old, self.tiers = self.tiers, tiers
        if old != tiers:
            for column in self.columns:
                column.redraw_cards()

    def _reload_columns(self, *keys: str) -> None:
        """Re-read only the named columns (a move touches two), synchronously and bounded."""
        store = self.app.store
        self._generation += 1
        for key in dict.fromkeys(keys):
            column = self.column(key)
            if column is None:
                continue
            rows = store.board_column(key, limit=max(PAGE, len(column.rows)), status=column.status)
            lost = column.lost_rows
            if self.show_lost and column.status == "open":
                lost = store.board_column(key, limit=max(PAGE, len(column.lost_rows)), status="lost")
            column.set_data(rows, column.totals, lost, column.lost_more, self.show_lost)
        self.refresh_bindings()
        # Tier cutoffs re-rank every open deal (≈35 ms at 100k): once, after a burst of changes.
        if self._tier_timer is not None:
            self._tier_timer.stop()
        self._tier_timer = self.set_timer(TIER_DELAY, self._refresh_tiers)

    @work(thread=True, exclusive=True, group="tiers")
    def _refresh_tiers(self) -> None:
        self.app.call_from_thread(self._apply_tiers, self._generation, self.app.store.tier_cutoffs())

    def _adjust_totals(self, old: dict | None, new: dict | None) -> None:
        """Keep the headers exact without re-summing the table: take `old` out, put `new` in."""
        for row, sign in ((old, -1), (new, 1)):
            if not row or row.get("deleted_at") is not None:
                continue
            column = self.column(row["stage"])
            if column is None or row["status"] != column.status:
                continue
            t = column.totals
            t["count"] += sign
            t["amount"] += sign * row["amount"]
            t["weighted"] += sign * weighted_minor(row["amount"], row["probability"])
            column.update_header()

    def on_screen_resume(self) -> None:
        # The first resume is the start-up (on_mount loads). Forms pushed from here hand
        # their result back themselves; other screens may have changed data.
        if not self._started:
            self._started = True
            return
        if self._modal_open:
            self._modal_open = False
            return
        self._generation += 1
        self.refresh_board()

    # --- the highlighted card -----------------------------------------------------------

    @property
    def focused_column(self) -> StageColumn | None:
        """The column the cursor is in. Focus moves later (Textual defers it), so a burst of
        keys reads the column asked for last, not the one focused so far."""
        if self._cursor_column is not None:
            return self._cursor_column
        focused = self.focused
        return self.column(focused.stage_key) if isinstance(focused, DealList) else None

    @property
    def current_deal(self) -> dict | None:
        column = self.focused_column
        return column.cards.highlighted_deal if column is not None else None

    def focus_column(self, column: StageColumn) -> None:
        self._cursor_column = column
        column.cards.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that need a deal act only on a card that allows them; False hides the key."""
        if action not in DEAL_ACTIONS:
            return True
        deal = self.current_deal
        if deal is None:
            return False
        if action == "move_card":
            step = int(parameters[0]) if parameters else 1
            index = self._stage_index(deal["stage"])
            return deal["status"] != "lost" and 0 <= index + step < len(self.board_stages)
        if action == "lose":
            return deal["status"] == "open"
        if action == "follow_up":
            return deal["status"] != "lost"
        return True

    def _stage_index(self, key: str) -> int:
        return [s.key for s in self.board_stages].index(key)

    def on_descendant_focus(self) -> None:
        # A click or a closed dialog moves focus too: follow it.
        if isinstance(self.focused, DealList):
            self._cursor_column = self.column(self.focused.stage_key)
        # Only the header changes style (a :focus-within rule would restyle every card).
        focused = self.focused_column
        for column in self.columns:
            column.header.set_class(column is focused, "-active")

    def _actions_now(self) -> tuple:
        return tuple(self.check_action(a, p) for a, p in (
            ("move_card", (-1,)), ("move_card", (1,)), ("lose", ()), ("open_deal", ()),
            ("follow_up", ()), ("log_touch", ())))

    @on(OptionList.OptionHighlighted)
    def _highlight_changed(self) -> None:
        # The footer rebuilds itself on every refresh: ask only when what can act changed.
        # (Focus changes refresh it already, in Textual.)
        actions = self._actions_now()
        if actions != self._last_actions:
            self._last_actions = actions
            self.refresh_bindings()

    @on(OptionList.OptionSelected, ".deal-list")
    def _option_selected(self, event: OptionList.OptionSelected) -> None:
        option = event.option
        if isinstance(option, MoreOption):
            self._load_more(event.option_list.stage_key, option.status)
        elif isinstance(option, DealOption):
            self.open_deal(option.deal_id)

    def _load_more(self, stage_key: str, status: str) -> None:
        column = self.column(stage_key)
        if column is None:
            return
        store = self.app.store
        with self.app.reporting_errors():
            if status == "lost":
                more = store.board_column(stage_key, limit=PAGE, offset=len(column.lost_rows), status="lost")
                column.lost_rows += more
                column.lost_more = len(more) >= PAGE
            else:
                column.rows += store.board_column(stage_key, limit=PAGE, offset=len(column.rows), status=status)
            column.rebuild()

    def highlight(self, deal_id: int, stage_key: str) -> bool:
        """Focus the deal's column and put the cursor on it; False if it is not loaded."""
        column = self.column(stage_key)
        if column is None:
            return False
        index = column.cards.index_of(deal_id)
        self.focus_column(column)
        if index is None:
            return False
        column.cards.highlighted = index
        return True

    def jump_to(self, deal_id: int) -> None:
        """Put the cursor on a deal; open it when its card is not on the board's pages."""
        with self.app.reporting_errors():
            deal = self.app.store.get_deal(deal_id)
            if deal["status"] == "lost" and not self.show_lost:
                self.open_deal(deal_id)
            elif not self.highlight(deal_id, deal["stage"]):
                self.open_deal(deal_id)

    # --- navigation -----------------------------------------------------------------------

    def action_focus_column(self, step: int) -> None:
        columns = self.columns
        current = self.focused_column
        index = columns.index(current) if current in columns else 0
        target = columns[max(0, min(len(columns) - 1, index + step))]
        if target is current:
            return
        row = current.cards.highlighted if current is not None else 0
        self.focus_column(target)
        if target.cards.option_count:
            target.cards.highlighted = min(row or 0, target.cards.option_count - 1)

    # --- actions on the highlighted deal ------------------------------------------------------

    def _push_form(self, screen, callback: Callable[[Any], None]) -> None:
        self._modal_open = True
        self.app.push_screen(screen, callback)

    def action_move_card(self, step: int) -> None:
        deal = self.current_deal
        if deal is None or not self.check_action("move_card", (step,)):
            return
        target = self.board_stages[self._stage_index(deal["stage"]) + step]
        if target.kind == "won" and deal["status"] == "open":
            from funnel_tui.tui.forms import ConfirmDialog

            question = f"Mark {deal['customer']} as won ({target.label(self.app.lang)})?"
            self._push_form(ConfirmDialog(question), lambda ok: ok and self.move(deal, target))
            return
        self.move(deal, target)

    def move(self, deal: dict, target: StageDef) -> None:
        """Move one deal and redraw just its old and new columns."""
        store = self.app.store
        with self.app.reporting_errors() as report:
            moved = store.move_deal(deal["id"], target.key, now=self.app.now(),
                                    expected_version=deal.get("version"))
            self._adjust_totals(deal, moved)
            self._reload_columns(deal["stage"], target.key)
            self.highlight(deal["id"], target.key)
            # No toast for the move itself: the card under the cursor in its new column says
            # it, and mounting a toast lays out the whole screen (≈+50 ms per move).
            warning = lead_score_warning(target.key, deal.get("lead_score"))
            if warning:
                # After the frame that shows the card in its new column, not holding it back.
                self.call_after_refresh(
                    self.app.notify, f"{deal['customer']}: {warning}",
                    severity="warning", markup=False,
                )
        if report.error is not None:
            self.refresh_board()  # a stale card: show what the database has now

    def action_lose(self) -> None:
        deal = self.current_deal
        if deal is None or deal["status"] != "open":
            return
        from funnel_tui.tui.forms import LoseForm

        def lose(reason: str | None) -> None:
            if not reason:
                return
            with self.app.reporting_errors():
                lost = self.app.store.lose_deal(deal["id"], reason, now=self.app.now())
                self._adjust_totals(deal, lost)
                self._reload_columns(deal["stage"])
                self.app.notify(f"{deal['customer']}: lost ({reason})", markup=False)

        self._push_form(LoseForm(deal["customer"]), lose)

    def action_open_deal(self) -> None:
        deal = self.current_deal
        if deal is not None:
            self.open_deal(deal["id"])

    def open_deal(self, deal_id: int) -> None:
        from funnel_tui.tui.screens.deal import DealScreen

        self.app.push_screen(DealScreen(deal_id))

    def action_new_deal(self) -> None:
        from funnel_tui.tui.forms import DealForm

        def add(draft) -> None:
            if draft is None:
                return
            store = self.app.store
            with self.app.reporting_errors():
                deal_id = store.add_deal(draft.values, now=self.app.now(), tz=self.app.tz)
                deal = store.get_deal(deal_id)
                self._adjust_totals(None, deal)
                self._reload_columns(deal["stage"])
                self.highlight(deal_id, deal["stage"])
                self.app.notify(f"Added {deal['customer']}", markup=False, timeout=3)

        column = self.focused_column
        stage = column.stage.key if column is not None and column.stage.kind == "open" else None
        self._push_form(DealForm(self.app.store.stages(), now=self.app.now(), tz=self.app.tz,
                             stage=stage, lang=self.app.lang), add)

    def action_follow_up(self) -> None:
        deal = self.current_deal
        if deal is None:
            return
        from funnel_tui.tui.forms import FollowUpForm

        def schedule(draft) -> None:
            if draft is None:
                return
            with self.app.reporting_errors():
                self.app.store.add_follow_up(draft, now=self.app.now())
                self._reload_columns(deal["stage"])
                self.highlight(deal["id"], deal["stage"])
                self.app.notify(f"Follow-up planned for {deal['customer']}", markup=False, timeout=3)

        self._push_form(FollowUpForm(deal["id"], deal["customer"], now=self.app.now(), tz=self.app.tz),
                        schedule)

    def action_log_touch(self) -> None:
        deal = self.current_deal
        if deal is None:
            return
        from funnel_tui.tui.forms import TouchForm
        from funnel_tui.tui.screens.deal import default_next_follow_up

        now = self.app.now()
        default_next = default_next_follow_up(self.app.store, deal, now=now, tz=self.app.tz)

        def log(draft) -> None:
            if draft is None:
                return
            with self.app.reporting_errors():
                self.app.store.log_touch(draft, now=self.app.now())
                self._reload_columns(deal["stage"])
                self.highlight(deal["id"], deal["stage"])
                self.app.notify(f"Logged a {draft.kind} with {deal['customer']}", markup=False, timeout=3)

        self._push_form(TouchForm(deal["id"], deal["customer"], now=now, tz=self.app.tz,
                             default_next=default_next), log)

    # --- board-wide actions ---------------------------------------------------------------

    def action_search(self) -> None:
        from funnel_tui.tui.screens.search import SearchScreen

        def found(deal_id: int | None) -> None:
            if deal_id is not None:
                self.jump_to(deal_id)

        self._push_form(SearchScreen(), found)

    def action_today(self) -> None:
        from funnel_tui.tui.screens.today import TodayScreen

        self.app.push_screen(TodayScreen())

    def action_summary(self) -> None:
        from funnel_tui.tui.screens.summary import SummaryScreen

        self.app.push_screen(SummaryScreen())

    def action_export(self) -> None:
        # What the board shows: open and won deals, plus lost ones while they are toggled on.
        self._export(self.app.now(), "all" if self.show_lost else ("open", "won"))

    @work(thread=True, exclusive=True, group="export")
    def _export(self, now: datetime, status: str | tuple[str, ...]) -> None:
        from funnel_tui.exchange.csv_export import ExportError, export_deals

        app = self.app
        with app.reporting_errors(extra=(OSError, ExportError)):
            # A folder: the exporter names the file (funnel-deals-<local time>.csv).
            result = export_deals(app.store, Path(app.export_dir), now=now, tz=app.tz, status=status)
            app.notify(f"Exported {result.rows} deals to {result.path}", markup=False, timeout=8)  # thread-safe

    def action_undo(self) -> None:
        store = self.app.store
        with self.app.reporting_errors():
            result = store.undo(now=self.app.now())
            if result is None:
                self.app.notify("Nothing to undo", timeout=3)
                return
            self.app.notify(describe_undo(store, result, self.app.lang), markup=False)
            self._generation += 1
            self.refresh_board()

    def action_toggle_lost(self) -> None:
        self.show_lost = not self.show_lost
        self._generation += 1
        self.refresh_board()
        self.app.notify("Lost deals shown" if self.show_lost else "Lost deals hidden", timeout=2)

    def action_help(self) -> None:
        from funnel_tui.tui.help import HelpScreen

        self._push_form(HelpScreen([*self.BINDINGS, *self.app.BINDINGS]), lambda _: None)


def describe_undo(store, result: dict, lang: str = "en") -> str:
    """One line saying what undo reverted, from the history rows it appended."""
    action = "undo:" + result["action"]
    parts: list[str] = []
    customer = ""
    stages = {s.key: s.label(lang) for s in store.stages()}
    for deal_id in result["deal_ids"][:3]:
        try:
            deal = store.get_deal(deal_id, include_deleted=True)
        except Exception:  # noqa: BLE001 - a description must never fail the undo
            continue
        customer = customer or deal["customer"]
        for row in store.deal_history(deal_id):
            if row["action"] != action:
                continue
            kind, field = row["kind"], row["field"] or ""
            if kind == "stage":
                parts.append(f"stage {stages.get(row['from_stage'], row['from_stage'])} → "
                             f"{stages.get(row['to_stage'], row['to_stage'])}")
            elif kind in ("reopened", "lost", "won"):
                parts.append("reopened" if kind == "reopened" else kind)
            elif kind == "deleted":
                parts.append("new deal removed")
            elif kind == "restored":
                parts.append("deal restored")
            elif field.startswith("followup."):
                parts.append("follow-up")
            elif field.startswith("touch."):
                parts.append("touch voided")
            elif field not in ("stage_entered_at", "closed_at", "status", "probability",
                               "last_contact_at", "lost_reason", "probability_custom"):
                parts.append(field)
    parts = list(dict.fromkeys(parts)) or [f"{result['rows']} change(s)"]
    return f"Undone — {customer}: {', '.join(parts)}" if customer else f"Undone: {', '.join(parts)}"
