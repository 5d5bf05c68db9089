"""The Lessons panel (复盘, 经验库) of the Summary screen: the team's lessons of won and lost
deals, grouped by outcome, stage and reason, drawn as lines of one Rich Text (never one widget
per lesson); read in the screen's thread worker like every panel (summary_panel.SummaryPanel)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from funnel_tui.domain.lessons import group_lessons
from funnel_tui.domain.vocab import LOST_REASON
from funnel_tui.i18n import N_, _, active_lang
from funnel_tui.tui.widgets.summary_panel import Choice, SummaryPanel, block

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


class LessonsPanel(SummaryPanel):
    """The lessons of the deals the Summary shows (one rep's, or all the database shows): the
    Summary's sixth tab."""

    panel_id = "lessons"
    title = N_("Lessons")
    key = "6"

    def compose(self) -> ComposeResult:
        yield block("lessons-text")

    @staticmethod
    def read(store: Any, choice: Choice, request: Any) -> dict[str, Any]:
        """The newest lessons (of `choice.owner`'s deals when one rep is chosen), grouped."""
        lang = active_lang()
        rows = store.lessons(owner=choice.owner, limit=PANEL_LIMIT + 1)
        groups = group_lessons(rows[:PANEL_LIMIT], store.all_stages(), lang)
        return {"groups": groups, "lang": lang, "more": len(rows) > PANEL_LIMIT}

    def show(self, data: dict[str, Any]) -> None:
        self.data = data
        self.query_one("#lessons-text", Static).update(lessons_text(data["groups"], data["lang"], more=data["more"]))
