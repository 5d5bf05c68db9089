"""The Summary screen's panels beyond the funnel, in the order of their tabs: the one list a new
panel joins (a `SummaryPanel` subclass with its `panel_id`, `title` and digit `key`). The
screen makes a tab, a key and a worker for each; help, the palette and the README read the
keys from the screen's BINDINGS, which are built from this list.
"""

from __future__ import annotations

from funnel_tui.tui.widgets.lessons_panel import LessonsPanel
from funnel_tui.tui.widgets.summary_forecast import ForecastPanel
from funnel_tui.tui.widgets.summary_panel import Choice, SummaryPanel
from funnel_tui.tui.widgets.summary_segments import KpisPanel, SegmentsPanel
from funnel_tui.tui.widgets.summary_trend import TrendPanel

PANELS: tuple[type[SummaryPanel], ...] = (TrendPanel, SegmentsPanel, KpisPanel, ForecastPanel, LessonsPanel)

__all__ = ["PANELS", "Choice", "SummaryPanel"]
