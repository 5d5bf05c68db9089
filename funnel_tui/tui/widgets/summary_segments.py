"""The Segments panel (the funnel per source, industry, company size, rep, or new vs existing
customer, side by side) and the KPIs panel (per stage: average deal size, mean and median days,
the sales cycle split by stage).

Every cell is a Text: a segment called `[bold]x` shows as written.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Select

from funnel_tui.domain.funnel import SMALL_MARK, days_label, rate_label
from funnel_tui.domain.segments import segment_name
from funnel_tui.i18n import N_, _
from funnel_tui.tui.widgets.summary_blocks import amount_text, localise
from funnel_tui.tui.widgets.summary_panel import Choice, SummaryPanel, block, panel_table

BEST, WORST = "▲", "▼"
DIMENSIONS: tuple[tuple[str, str], ...] = (
    ("source", N_("By source")),
    ("industry", N_("By industry")),
    ("company_size", N_("By company size")),
    ("owner", N_("By rep")),
    ("new_vs_existing", N_("New vs existing customers")),
)
CYCLE_BAR = 10


def marked(c: dict[str, Any]) -> Text:
    """`12/40 30%*▲`: the rate with its counts, ▲ the best at the step, ▼ the worst."""
    out = Text(rate_label(c["n"], c["d"], c["ratio"], c["small_sample"], narrow=True))
    if c["best"]:
        out.append(BEST, style="bold green")
    elif c["worst"]:
        out.append(WORST, style="bold red")
    return out


def segments_table(r: dict[str, Any]) -> Table:
    table = panel_table()
    table.add_column(Text(_("Segment")), no_wrap=True, max_width=18)
    # fold, not the ellipsis: at 80 columns a stage's name breaks onto a second line whole
    # (潜在线 / 索 →) instead of ending in "…" (CJK names have no space to wrap at).
    table.add_column(Text(_("Deals")), justify="right", overflow="fold")
    table.add_column(Text(_("Win rate")), justify="right", overflow="fold")
    for st in r["steps"]:
        table.add_column(Text(f"{st['name']} →"), justify="right", overflow="fold")
    for g in r["segments"]:
        table.add_row(Text(segment_name(r["by"], g["segment"])), Text(str(g["deals"])), marked(g["win_rate"]),
                      *(marked(g["conversion"][st["stage"]]) for st in r["steps"]))
    return table


def segments_note(r: dict[str, Any]) -> Text:
    if not r["segments"]:
        return Text(_("No deals in this period."))
    return Text(_("{best} best, {worst} worst at the step (only segments with 10 or more deals behind the rate "
                  "compete); {mark} fewer than 10 deals").format(best=BEST, worst=WORST, mark=SMALL_MARK),
                style="italic")


class SegmentsPanel(SummaryPanel):
    """The funnel per segment side by side, the dimension chosen here."""

    panel_id = "segments"
    title = N_("Segments")
    key = "3"

    def __init__(self) -> None:
        super().__init__()
        self.by = DIMENSIONS[0][0]

    def compose(self) -> ComposeResult:
        yield Select([(Text(_(label)), value) for value, label in DIMENSIONS], value=self.by, allow_blank=False,
                     id="segment-by")
        yield block("segments-table")
        yield block("segments-note")

    @on(Select.Changed, "#segment-by")
    def _by_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.BLANK and event.value != self.by:
            self.by = str(event.value)
            self.post_message(self.Asked(self))

    def request(self) -> str:
        return self.by

    @staticmethod
    def read(store: Any, choice: Choice, request: Any) -> dict[str, Any]:
        return localise(store.segments(now=choice.now, by=request, deals=choice.deals(), pipeline=choice.pipeline),
                        choice.labels)

    def show(self, data: dict[str, Any]) -> None:
        self.data = data
        self.query_one("#segments-table").update(segments_table(data) if data["segments"] else Text(""))
        self.query_one("#segments-note").update(segments_note(data))


def cycle_bar(days: float | None, top: float) -> Text:
    if days is None or top <= 0:
        return Text("")
    return Text("█" * max(1 if days > 0 else 0, round(CYCLE_BAR * days / top)), style="bold")


def kpi_table(s: dict[str, Any], kpis: dict[str, dict[str, Any]]) -> Table:
    table = panel_table(_("KPIs per stage"))
    for i, head in enumerate((_("Stage"), _("Reached"), _("Avg deal size"), _("Mean days"), _("Median days"),
                              _("Cycle part"), "")):
        table.add_column(Text(head), justify="left" if i in (0, 6) else "right", no_wrap=i == 6,
                         overflow="crop" if i == 6 else "fold")
    top = max((k["cycle_days_in_stage"] or 0.0 for k in kpis.values()), default=0.0)
    for st in s["stages"]:
        k = kpis.get(st["key"], {})
        size = st.get("avg_deal_size")
        split = k.get("cycle_days_in_stage")
        table.add_row(Text(st["name"]), Text(str(st["reached"])), Text("—" if size is None else amount_text(round(size))),
                      Text(days_label(st["avg_days_in_stage"])), Text(days_label(k.get("median_days_in_stage"))),
                      Text(days_label(split) if split is not None else "—"), cycle_bar(split, top))
    return table


def kpi_note(s: dict[str, Any]) -> Text:
    return Text(_("Sales cycle {days} (created → won, on average). Average deal size: of the deals that reached "
                  "the stage. Cycle part: the won deals' mean days in the stage.").format(
        days=days_label(s["avg_cycle_days"])), style="italic")


class KpisPanel(SummaryPanel):
    """Per stage: average deal size, mean and median days, the cycle split by stage."""

    panel_id = "kpis"
    title = N_("KPIs")
    key = "4"

    def compose(self) -> ComposeResult:
        yield block("kpis-table")
        yield block("kpis-note")

    @staticmethod
    def read(store: Any, choice: Choice, request: Any) -> dict[str, Any]:
        deals = choice.deals()
        s = localise(store.summary(now=choice.now, deals=deals, pipeline=choice.pipeline), choice.labels)
        return {"summary": s, "kpis": store.stage_kpis(deals=deals, pipeline=choice.pipeline)}

    def show(self, data: dict[str, Any]) -> None:
        self.data = data
        self.query_one("#kpis-table").update(Group(kpi_table(data["summary"], data["kpis"])))
        self.query_one("#kpis-note").update(kpi_note(data["summary"]))
