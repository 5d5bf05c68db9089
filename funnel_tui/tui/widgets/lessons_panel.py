"""The Lessons panel (复盘, 经验库) of the Summary screen: the team's lessons of won and lost
deals, grouped by outcome, stage and reason, drawn as lines of one Rich Text (never one widget
per lesson). It reads them itself in a thread worker (`load`), so the screen plugs it in with
one line to compose it and one to load it."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.widgets import Static

from funnel_tui.domain.lessons import group_lessons
from funnel_tui.domain.vocab import LOST_REASON
from funnel_tui.i18n import _
from funnel_tui.tui.context import HasContext

PANEL_LIMIT = 200  # the newest lessons; `funnel lessons` lists them all


def lessons_text(groups: list[dict[str, Any]], lang: str, *, more: bool = False) -> Text:
    """The panel's lines: a heading per group (outcome · stage · reason, count), then one line
    per lesson (deal, customer, the lesson). User text is appended as plain text."""
    out = Text(_("Lessons (复盘)"), style="bold")
    if not groups:
        out.append("\n")
        out.append(_("No lessons yet: write one when you win or lose a deal (k on the Deal screen)."),
                   style="dim")
        return out
    for g in groups:
        outcome = _("won") if g["outcome"] == "won" else _("lost")
        head = f"{outcome} · {g['stage_name']}"
        if g["reason"]:
            head += f" · {LOST_REASON.label(g['reason'], lang)}"
        out.append("\n")
        out.append(head, style="bold green" if g["outcome"] == "won" else "bold red")
        out.append(f" ({g['count']})", style="dim")
        for lesson in g["lessons"]:
            out.append("\n  ")
            out.append(f"#{lesson['deal_id']} ", style="dim")
            out.append(str(lesson["customer"]), style="bold")
            out.append(" — ")
            out.append(str(lesson["text"]))
            if lesson.get("owner"):
                out.append(f" ({lesson['owner']})", style="dim")
    if more:
        out.append("\n")
        out.append(_("… the newest {n}; `funnel lessons` lists every one").format(n=PANEL_LIMIT), style="dim")
    return out


class LessonsPanel(HasContext, Static):
    """The lessons of the deals the Summary shows (one rep's, or all the database shows)."""

    def on_mount(self) -> None:
        self.update(Text(_("Lessons (复盘)"), style="bold"))

    @work(thread=True, exclusive=True, group="summary-lessons")
    def load(self, owner: str | None = None) -> None:
        """Read the lessons (of `owner`'s deals when given) and redraw."""
        ctx = self.ctx
        rows = ctx.store.lessons(owner=owner, limit=PANEL_LIMIT + 1)
        groups = group_lessons(rows[:PANEL_LIMIT], ctx.store.all_stages(), ctx.lang)
        text = lessons_text(groups, ctx.lang, more=len(rows) > PANEL_LIMIT)
        self.app.call_from_thread(self.update, text)
