"""The board across stage changes and pipelines (mixed into BoardScreen): `P` shows the next
pipeline's columns, and a board that comes back from the Stages screen with other stages
composes its columns again. Kept apart from what the keys do to deals (`screens/board.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from funnel_tui.tui.board_window import columns_that_fit
from funnel_tui.tui.context import HasContext
from funnel_tui.tui.pipelines import next_pipeline

if TYPE_CHECKING:
    from rich.text import Text

    from funnel_tui.domain.stages import StageDef
    from funnel_tui.tui.widgets.stage_column import StageColumn


class BoardStages(HasContext):
    """Columns that follow the rep's stages and the pipeline shown."""

    if TYPE_CHECKING:  # what BoardScreen provides
        _columns: dict[str, StageColumn]
        _cursor_column: StageColumn | None
        _card_cache: dict[tuple, Text]
        _max_dwell: dict[str, int | None]
        _items: dict[str, int]
        _generation: int
        visible_count: int
        board_stages: list[StageDef]
        columns: list[StageColumn]

        async def recompose(self) -> None: ...
        def focus_column(self, column: StageColumn) -> None: ...
        def refresh_board(self) -> None: ...
        def _show_window(self, first: int) -> None: ...
        def notify(self, message: str, *, timeout: float = ..., markup: bool = ...) -> None: ...

    def action_switch_pipeline(self) -> None:
        """The next pipeline's board (Today and Summary follow it)."""
        if next_pipeline(self.ctx):
            self.rebuild_columns()
            self.notify(self.ctx.store.pipeline(self.ctx.pipeline).label(self.ctx.lang), timeout=2, markup=False)

    def stages_changed(self) -> bool:
        """True when the columns no longer match the pipeline's stages (or their limits)."""
        lang = self.ctx.lang
        now = [(s.key, s.label(lang), s.max_dwell_days, len(s.checklist())) for s in self.board_stages]
        shown = [(c.stage.key, c.stage_label, self._max_dwell.get(c.stage.key), self._items.get(c.stage.key))
                 for c in self.columns]
        return now != shown

    @work(exclusive=True, group="board-rebuild")
    async def rebuild_columns(self) -> None:
        """Compose the board again for the current pipeline and stages, then read it."""
        self._columns, self._cursor_column = {}, None
        self._card_cache.clear()
        self._generation += 1
        await self.recompose()
        self.visible_count = columns_that_fit(self.size.width, len(self._columns))  # type: ignore[attr-defined]
        self._show_window(0)
        if self.columns:
            self.focus_column(self.columns[0])
        self.refresh_board()
