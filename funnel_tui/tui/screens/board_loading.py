"""How the board gets its cards, kept apart from what the keys do (`screens/board.py`).

The first read (started by `funnel tui` before Textual loaded) or a full reload runs in a
thread worker, so the first frame never waits on the database, and paints the first
screenful of each column before the rest. After a change only the touched columns are
re-read, synchronously and bounded; the header totals are adjusted, not re-summed; tier
cutoffs are re-read once after a burst of changes. A generation counter drops reads that
a change overtook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.message import Message
from textual.screen import ModalScreen

from funnel_tui.domain.currency_totals import BASE_CURRENCY, column_totals, rates_of_column
from funnel_tui.domain.money import weighted_minor
from funnel_tui.domain.rules import TierCutoffs
from funnel_tui.store import StoreError
from funnel_tui.tui.board_data import EMPTY_TOTALS, PAGE, FirstRead, read_board, with_ticks
from funnel_tui.tui.context import HasContext

if TYPE_CHECKING:
    from textual.timer import Timer

    from funnel_tui.tui.widgets.stage_column import StageColumn

TIER_DELAY = 1.5  # seconds of quiet after a change before tiers are recomputed


class BoardLoaded(Message):
    """Every column shows what the database had when the last full load started."""


class BoardLoading(HasContext):
    """The board's reads; mixed into BoardScreen (which has the columns and the store)."""

    show_lost = False
    tiers = TierCutoffs(None, None)
    # Bumped by every change made here; a background load started before it is stale.
    _generation = 0
    _painted = False  # the first frame with cards has been asked for
    _tiers_read_first = False  # tiers came with the first read: no second read
    _tier_timer: Timer | None = None
    _started = False  # the first resume is the start-up
    _under_modal = False  # covered by a form or dialog, which hands its result back itself

    if TYPE_CHECKING:  # what BoardScreen (a Screen) provides
        from textual.app import App
        from textual.geometry import Size

        app: App
        size: Size
        columns: list[StageColumn]

        def column(self, stage_key: str) -> StageColumn | None: ...
        def stages_changed(self) -> bool: ...
        def rebuild_columns(self) -> None: ...
        def refresh_bindings(self) -> None: ...
        def post_message(self, message: Message) -> bool: ...
        def call_after_refresh(self, callback, *args) -> bool: ...
        def set_timer(self, delay: float, callback) -> Timer: ...
        def update_empty_guide(self) -> None: ...
        def update_title(self) -> None: ...

    def start_loading(self, first: FirstRead | None) -> None:
        """At mount: take the first read if it is done (the first frame then has cards),
        wait for it in a worker if not, or read now if there was none."""
        if first is None:
            self.refresh_board()
        elif first.board.done() and first.board.exception() is None:
            self._apply_first_read(self._generation, first, first.board.result())
        else:
            self._wait_first_read(self._generation, first)

    def refresh_board(self) -> None:
        """Reload every column in the background (after another screen changed data)."""
        self._load_board(self._generation, self.show_lost,
                         {c.stage.key: max(PAGE, len(c.rows)) for c in self.columns})

    @work(thread=True, exclusive=True, group="board-load")
    def _load_board(self, generation: int, show_lost: bool, limits: dict[str, int]) -> None:
        data = self._read_or_say(show_lost, limits)
        if data is not None:
            self.app.call_from_thread(self._apply_board, generation, data)

    def _read_or_say(self, show_lost: bool, limits: dict[str, int]) -> dict | None:
        """Read the board in a worker; the database's refusal (damaged, unreadable) becomes an
        error toast, as every other refusal does, instead of ending the app."""
        try:
            return read_board(self.ctx.store, show_lost, limits, self.ctx.pipeline)
        except StoreError as exc:
            self.app.call_from_thread(self.app.notify, str(exc), severity="error", markup=False, timeout=30)
            return None

    @work(thread=True, exclusive=True, group="board-load")
    def _wait_first_read(self, generation: int, first: FirstRead) -> None:
        try:
            data = first.board.result()
        except Exception:  # noqa: BLE001 - read again here; a real failure surfaces as before
            data = self._read_or_say(False, {})
            if data is None:
                return
        self.app.call_from_thread(self._apply_first_read, generation, first, data)

    def _apply_first_read(self, generation: int, first: FirstRead, data: dict) -> None:
        if first.tiers.done() and first.tiers.exception() is None:
            self.tiers = first.tiers.result()  # before the cards are drawn: no redraw for tiers
            self._tiers_read_first = True
        elif not first.tiers.done():
            # Still ranking (a big pipeline reads its tiers after the first frame): they come
            # from the first read, not from a second one.
            self._tiers_read_first = True
            self._wait_first_tiers(self._generation, first)
        self._apply_board(generation, data)
        painted = getattr(first, "painted", None)
        if painted is not None:
            self.call_after_refresh(painted.set)

    @work(thread=True, exclusive=True, group="tiers")
    def _wait_first_tiers(self, generation: int, first: FirstRead) -> None:
        try:
            tiers = first.tiers.result()
        except Exception:  # noqa: BLE001 - read again here; a real failure surfaces as before
            tiers = self.ctx.store.tier_cutoffs()
        self.app.call_from_thread(self._apply_tiers, generation, tiers)

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
        self.update_empty_guide()
        self.update_title()  # whose deals (a lead may have switched rep)
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
        store = self.ctx.store
        self._generation += 1
        for key in dict.fromkeys(keys):
            column = self.column(key)
            if column is None:
                continue
            rows = with_ticks(store, store.board_column(key, limit=max(PAGE, len(column.rows)), status=column.status))
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
        self.app.call_from_thread(self._apply_tiers, self._generation, self.ctx.store.tier_cutoffs())

    def _adjust_totals(self, old: dict | None, new: dict | None) -> None:
        """Keep the headers exact without re-summing the table: take `old` out, put `new` in."""
        for row, sign in ((old, -1), (new, 1)):
            if not row or row.get("deleted_at") is not None:
                continue
            column = self.column(row["stage"])
            if column is None or row["status"] != column.status:
                continue
            # Per currency, then again in the base currency at the rates the column was read with.
            by_currency = {c: dict(v) for c, v in (column.totals.get("by_currency") or {}).items()}
            cur = by_currency.setdefault(row.get("currency") or BASE_CURRENCY,
                                         {"count": 0, "amount": 0, "weighted": 0})
            cur["count"] += sign
            cur["amount"] += sign * row["amount"]
            cur["weighted"] += sign * weighted_minor(row["amount"], row["probability"])
            if not cur["count"]:
                del by_currency[row.get("currency") or BASE_CURRENCY]
            column.totals = (column_totals(by_currency, rates_of_column(column.totals)) if by_currency
                             else dict(EMPTY_TOTALS))
            column.update_header()

    def on_screen_suspend(self) -> None:
        # Delivered once the covering screen is on top: a modal (form, dialog, search, help,
        # palette) hands its result back itself; another screen may change any deal.
        self._under_modal = isinstance(self.app.screen, ModalScreen)

    def on_screen_resume(self) -> None:
        # The first resume is the start-up (on_mount loads).
        if not self._started:
            self._started = True
            return
        if self._under_modal:
            self._under_modal = False
            return
        if self.stages_changed():  # the Stages screen added, split, moved… a stage
            self.rebuild_columns()
            return
        self._generation += 1
        self.refresh_board()

