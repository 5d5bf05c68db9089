"""The board: one column per stage, cards ordered by urgency, every action one key away.

State lives here (which columns, which page, which deal is highlighted), so the bindings
do too. The screen calls the store; widgets only draw and post messages; forms return
drafts. Reads that can be slow (all columns, tiers) run in a thread worker, so the first
frame never waits on the database; a move redraws only the two columns it touched.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import OptionList, Static

from funnel_tui import paths
from funnel_tui.domain.stages import StageDef
from funnel_tui.domain.tiers import tier_mark
from funnel_tui.i18n import N_, _
from funnel_tui.tui.board_data import PAGE, FirstRead, with_ticks
from funnel_tui.tui.board_window import BoardWindow
from funnel_tui.tui.contrast import readable
from funnel_tui.tui.deal_actions import ADD, LOSE, MOVE, REFUSED, UNDO, Change, DealActions, neighbour_stage
from funnel_tui.tui.key_table import localise_bindings
from funnel_tui.tui.pipelines import PIPELINE_BINDINGS, bind_pipeline_key, has_pipelines
from funnel_tui.tui.screens.board_loading import BoardLoading
from funnel_tui.tui.board_stages import BoardStages
from funnel_tui.tui.widgets.deal_card import CardColours, card_text
from funnel_tui.tui.widgets.key_bar import KeyBar
from funnel_tui.tui.widgets.stage_column import DealList, DealOption, MoreOption, StageColumn

# Forms (through deal_actions), the other screens and the CSV exporter are imported by the
# action that opens them: the first frame with cards needs none of them (≈40 ms at start).

DEAL_ACTIONS = {"move_card", "lose", "open_deal", "follow_up", "log_touch", "snooze"}


class BoardScreen(BoardWindow, BoardStages, BoardLoading, Screen):
    """The kanban of funnel stages."""

    # Textual repaints the whole screen when focus moves; on the board that is every
    # column (≈70 ms at 160×48). The widgets that show focus restyle themselves anyway.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    BINDINGS = [
        Binding("left,h", "focus_column(-1)", N_("Column ←"), show=False,
                tooltip=N_("Highlight the card in the column to the left")),
        Binding("right", "focus_column(1)", N_("Column →"), show=False,
                tooltip=N_("Highlight the card in the column to the right")),
        Binding("H,shift+left", "move_card(-1)", N_("Move ←"), key_display="H",
                tooltip=N_("Move the highlighted deal back one stage")),
        Binding("L,shift+right", "move_card(1)", N_("Move →"), key_display="L",
                tooltip=N_("Move the highlighted deal on one stage (into Won asks first)")),
        Binding("e", "open_deal", N_("Open"), tooltip=N_("Open the deal: every field, timeline, follow-ups (also Enter)")),
        Binding("n", "new_deal", N_("New"), tooltip=N_("Add a new deal")),
        Binding("f", "follow_up", N_("Follow-up"), tooltip=N_("Schedule a follow-up on the highlighted deal")),
        Binding("l", "log_touch", N_("Log"), tooltip=N_("Log a call or visit and plan the next step")),
        Binding("X", "lose", N_("Lost"), tooltip=N_("Mark the highlighted deal lost, with a reason")),
        Binding("1", "snooze(1)", N_("+1d"), show=False, tooltip=N_("Snooze the deal's next follow-up a day")),
        Binding("3", "snooze(3)", N_("+3d"), show=False, tooltip=N_("Snooze the deal's next follow-up three days")),
        Binding("w", "snooze(7)", N_("+1w"), show=False, tooltip=N_("Snooze the deal's next follow-up a week")),
        Binding("slash", "search", N_("Search"), key_display="/", tooltip=N_("Find deals by customer, title or contact")),
        Binding("t", "today", N_("Today"), tooltip=N_("What is due, rotting or without a next step")),
        Binding("s", "summary", N_("Summary"), tooltip=N_("The funnel review: conversion, tiers, lost reasons")),
        Binding("x", "export", N_("Export"), tooltip=N_("Write the deals on the board to a CSV file (opens in Excel)")),
        Binding("u", "undo", N_("Undo"), tooltip=N_("Undo the last change")),
        Binding("z", "toggle_lost", N_("Lost on/off"), tooltip=N_("Show or hide lost deals in their stages")),
        Binding("question_mark", "app.help", N_("Help"), key_display="?", tooltip=N_("All keys")),
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
    | 1 / 3 / w | snooze the next follow-up a day / three days / a week |
    | / | search customer, title, contact |
    | t / s | Today / Summary |
    | x | export the board to CSV |
    | u | undo the last change |
    | z | show / hide lost deals |
    | P | the next pipeline (with more than one) |
    | ? | help; q quit; ctrl+p palette |
    """

    HELP_EXTRA = (("↑ ↓ j k", N_("Cards"), N_("Move between cards")),
                  ("Enter", N_("Open"), N_("Open the highlighted deal")))
    """Keys help lists beside BINDINGS: they belong to the columns' lists."""
    CONDITIONAL_BINDINGS = PIPELINE_BINDINGS
    """`P`, bound only when the rep keeps a second pipeline (tui/pipelines.py)."""

    def __init__(self, first_read: FirstRead | None = None, export_dir: Path | None = None) -> None:
        """`first_read`: the board's first read, started by `funnel tui` before Textual
        loaded; `export_dir`: where `x` writes its CSV (by default the `export_dir` setting,
        else the user's documents folder)."""
        super().__init__()
        localise_bindings(self)
        self.first_read = first_read
        self.export_dir = export_dir
        self.actions = DealActions(self)
        self.colours = CardColours()
        self._last_actions: tuple = ()
        self._columns: dict[str, StageColumn] = {}
        self._max_dwell: dict[str, int | None] = {}
        self._items: dict[str, int] = {}  # playbook items per stage (the cards' 2/3)
        self._card_cache: dict[tuple, Text] = {}
        self._cursor_column: StageColumn | None = None

    # --- layout -------------------------------------------------------------------------

    @property
    def board_stages(self) -> list[StageDef]:
        return list(self.ctx.store.stages(self.ctx.pipeline))

    def compose(self) -> ComposeResult:
        lang = self.ctx.lang
        yield Static(self._title_text(), id="board-title")
        # The columns sit on the screen itself (layout: horizontal in app.tcss): a container
        # around them would be one more full-screen widget for the compositor to cut up.
        for stage in self.board_stages:
            status = "open" if stage.kind == "open" else "won"
            column = StageColumn(stage, status, stage.label(lang), self.render_card)
            self._columns[stage.key] = column
            self._max_dwell[stage.key] = stage.max_dwell_days
            self._items[stage.key] = len(stage.checklist())
            yield column
        yield self.empty_guide()
        yield KeyBar(id="key-bar")

    def on_mount(self) -> None:
        self.colours = self._theme_colours()
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)
        bind_pipeline_key(self)
        self.focus_column(self.columns[0])
        # `funnel tui` started reading before Textual loaded: usually done by now, and then
        # the first frame already has cards. Otherwise a worker waits for it.
        first, self.first_read = self.first_read, None
        self.start_loading(first)

    @property
    def columns(self) -> list[StageColumn]:
        return list(self._columns.values())

    def column(self, stage_key: str) -> StageColumn | None:
        return self._columns.get(stage_key)

    def render_card(self, deal: dict, width: int) -> Text:
        """A card's Text, cached per deal version and minute: a move redraws two columns,
        but only the moved card is drawn anew."""
        ctx = self.ctx
        now = ctx.now()
        tier = (tier_mark(self.tiers, deal, ctx.lang) if deal.get("status") == "open" else None)
        key = (deal["id"], deal.get("version"), deal["stage"], deal.get("status"), deal.get("ticked"),
               deal.get("next_follow_up_at"), width, tier, self.colours, self.compact,
               now.replace(second=0, microsecond=0))
        card = self._card_cache.get(key)
        if card is None:
            if len(self._card_cache) > 4000:
                self._card_cache.clear()
            card = self._card_cache[key] = card_text(
                deal, width=width, now=now, tz=ctx.tz, max_dwell_days=self._max_dwell.get(deal["stage"]),
                tier=tier, colours=self.colours, lang=ctx.lang, compact=self.compact,
                progress=(deal.get("ticked") or 0, self._items.get(deal["stage"], 0)),
            )
        return card

    def _theme_colours(self) -> CardColours:
        """The theme's badge colours, made readable on the cards' background (contrast.py)."""
        theme = self.app.current_theme
        surface = self.app.get_css_variables().get("surface") or "#000000"
        return CardColours(
            error=readable(theme.error or "red", surface), warning=readable(theme.warning or "yellow", surface),
            success=readable(theme.success or "green", surface),
            accent=readable(theme.accent or theme.primary, surface), muted="dim",
        )

    def _on_theme_changed(self, _theme) -> None:
        self.colours = self._theme_colours()
        for column in self.columns:
            column.redraw_cards()

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
        if not column.display:
            self._scroll_to_column(column)
        column.cards.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that need a deal act only on a card that allows them; False hides the key."""
        if action == "switch_pipeline":
            return has_pipelines(self.ctx)
        if action not in DEAL_ACTIONS:
            return True
        deal = self.current_deal
        if deal is None:
            return False
        if action == "move_card":
            step = int(parameters[0]) if parameters else 1
            return deal["status"] != "lost" and neighbour_stage(self.board_stages, deal["stage"], step) is not None
        if action == "lose":
            return deal["status"] == "open"
        if action == "follow_up":
            return deal["status"] != "lost"
        if action == "snooze":
            return deal["status"] == "open" and deal.get("next_follow_up_at") is not None
        return True

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
        store = self.ctx.store
        with self.ctx.reporting_errors():
            if status == "lost":
                more = store.board_column(stage_key, limit=PAGE, offset=len(column.lost_rows), status="lost")
                column.lost_rows += more
                column.lost_more = len(more) >= PAGE
            else:
                column.rows += with_ticks(store, store.board_column(stage_key, limit=PAGE, offset=len(column.rows),
                                                                    status=status))
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
        with self.ctx.reporting_errors():
            deal = self.ctx.store.get_deal(deal_id)
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

    # --- actions on the highlighted deal (the flows live in deal_actions) -------------------

    def deal_changed(self, change: Change) -> bool:
        """Redraw what a flow changed: only the columns it touched, the deal under the cursor.
        A move needs no toast: the card under the cursor in its new column says it (and a
        toast lays out the whole screen, ≈+50 ms per move)."""
        if change.action in (REFUSED, UNDO):
            self._generation += 1
            self.refresh_board()  # a stale card, or any deal: show what the database has now
            return False
        rows = [row for row in (change.before, change.after) if row]
        if change.action in (ADD, MOVE, LOSE):
            self._adjust_totals(change.before, change.after)
        self._reload_columns(*(row["stage"] for row in rows))
        self.update_empty_guide()
        if change.action != LOSE and change.deal_id is not None:
            self.highlight(change.deal_id, rows[-1]["stage"])
        return change.action == MOVE

    def action_move_card(self, step: int) -> None:
        deal = self.current_deal
        target = neighbour_stage(self.board_stages, deal["stage"], step) if deal else None
        if deal is not None and target is not None and self.check_action("move_card", (step,)):
            self.actions.move(deal, target)

    def action_snooze(self, days: int) -> None:
        """Push the deal's next follow-up `days` later (from now if it is overdue)."""
        deal = self.current_deal
        if deal is None or not self.check_action("snooze", (days,)):
            return
        with self.ctx.reporting_errors():
            followups = self.ctx.store.deal_follow_ups(deal["id"], open_only=True)
            if followups:
                first = followups[0]
                self.actions.snooze(deal, first["id"], first["due_at"], days)

    @work
    async def action_lose(self) -> None:
        deal = self.current_deal
        if deal is not None and deal["status"] == "open":
            await self.actions.lose(deal)

    def action_open_deal(self) -> None:
        deal = self.current_deal
        if deal is not None:
            self.open_deal(deal["id"])

    def open_deal(self, deal_id: int) -> None:
        from funnel_tui.tui.screens.deal import DealScreen

        self.app.push_screen(DealScreen(deal_id))

    @work
    async def action_new_deal(self) -> None:
        column = self.focused_column
        await self.actions.add(column.stage.key if column is not None and column.stage.kind == "open" else None)

    @work
    async def action_follow_up(self) -> None:
        deal = self.current_deal
        if deal is not None:
            await self.actions.follow_up(deal)

    @work
    async def action_log_touch(self) -> None:
        deal = self.current_deal
        if deal is not None:
            await self.actions.log_touch(deal)

    # --- board-wide actions ---------------------------------------------------------------

    def action_search(self) -> None:
        from funnel_tui.tui.screens.search import SearchScreen

        def found(deal_id: int | None) -> None:
            if deal_id is not None:
                self.jump_to(deal_id)

        self.app.push_screen(SearchScreen(), found)

    def action_today(self) -> None:
        from funnel_tui.tui.screens.today import TodayScreen

        self.app.push_screen(TodayScreen())

    def action_summary(self) -> None:
        from funnel_tui.tui.screens.summary import SummaryScreen

        self.app.push_screen(SummaryScreen())

    def action_export(self) -> None:
        # What the board shows: open and won deals, plus lost ones while they are toggled on.
        self._export(self.ctx.now(), "all" if self.show_lost else ("open", "won"))

    @work(thread=True, exclusive=True, group="export")
    def _export(self, now: datetime, status: str | tuple[str, ...]) -> None:
        from funnel_tui.exchange.csv_export import ExportError, export_deals

        ctx = self.ctx
        with ctx.reporting_errors(extra=(OSError, ExportError)):
            folder = self.export_dir or paths.export_dir(ctx.store.get_setting("export_dir"))
            # A folder: the exporter names the file (funnel-deals-<local time>.csv).
            result = export_deals(ctx.store, folder, now=now, tz=ctx.tz, status=status, folder=True)
            self.app.notify(_("Exported {n} deals to {path}").format(n=result.rows, path=result.path),
                            markup=False, timeout=8)  # thread-safe

    def action_undo(self) -> None:
        self.actions.undo()


    def action_toggle_lost(self) -> None:
        self.show_lost = not self.show_lost
        self._generation += 1
        self.refresh_board()
        self.app.notify(_("Lost deals shown") if self.show_lost else _("Lost deals hidden"), timeout=2)
