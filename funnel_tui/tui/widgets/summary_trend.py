"""The Trend panel: each step's cohort conversion period by period as a column chart drawn in
block characters, with its counts (n/d) and the small-sample mark under every column, and the
flow (new deals, wins, losses, won amount, cycle time) per period with sparklines.

Hand-drawn rather than plotext: a rate per period is a handful of columns, Chinese stage names
must keep their double width, the picture must be the same on every machine for the snapshot
tests, and it has to fit 80 columns; eighth blocks do all that with no new dependency.
"""

from __future__ import annotations

from typing import Any, Sequence

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual import on
from textual.widgets import Select

from funnel_tui.domain.funnel import SMALL_MARK, days_label
from funnel_tui.domain.text import display_width
from funnel_tui.i18n import N_, _
from funnel_tui.tui.widgets.summary_blocks import amount_text, localise
from funnel_tui.tui.widgets.summary_panel import Choice, SummaryPanel, block, panel_table

LEVELS = " ▁▂▃▄▅▆▇█"
ROWS = 3  # chart height in lines: 24 steps of 100 %/24 each
AXIS = 5  # "100%│"
SPANS: tuple[tuple[str, str, int, str], ...] = (  # (value, label, weeks, by)
    ("week", N_("12 weeks"), 12, "week"),
    ("month", N_("6 months"), 26, "month"),
)


def count_label(c: dict[str, Any]) -> str:
    """`3/5*` under a column; `—` when no deal entered the stage in the period."""
    if not c["d"]:
        return "—"
    return f"{c['n']}/{c['d']}" + (SMALL_MARK if c["small_sample"] else "")


def pct_label(c: dict[str, Any]) -> str:
    return "" if not c["d"] or c["ratio"] is None else f"{c['ratio'] * 100:.0f}%"


def _centre(s: str, width: int) -> str:
    gap = max(width - display_width(s), 0)
    return " " * (gap // 2) + s + " " * (gap - gap // 2)


class CohortChart:
    """One step's cohort conversion per period as columns of blocks, oldest left, newest
    right; as many of the latest periods as the width holds (Rich renderable)."""

    def __init__(self, title: str, cells: Sequence[dict[str, Any]], labels: Sequence[str]) -> None:
        self.title, self.cells, self.labels = title, list(cells), list(labels)

    def column_width(self) -> int:
        texts = [count_label(c) for c in self.cells] + self.labels
        return max(6, max((display_width(t) for t in texts), default=0) + 1)

    def lines(self, width: int) -> list[Text]:
        col = self.column_width()
        fit = max(1, (width - AXIS) // col)
        cells, labels = self.cells[-fit:], self.labels[-fit:]
        out = [Text(self.title, style="bold")]
        for row in range(ROWS, 0, -1):
            axis = "100%" if row == ROWS else "  0%" if row == 1 else "    "
            line = Text(axis + "│", style="dim")
            for c in cells:
                level = 0 if not c["d"] or c["ratio"] is None else round(c["ratio"] * ROWS * 8)
                glyph = LEVELS[min(max(level - (row - 1) * 8, 0), 8)]
                left = (col - 3) // 2
                line.append(" " * left)
                line.append(glyph * 3, style="dim" if c["small_sample"] else "bold")
                line.append(" " * (col - 3 - left))
            out.append(line)
        for row_cells, style in (([pct_label(c) for c in cells], "bold"), ([count_label(c) for c in cells], ""),
                                 (labels, "dim")):
            line = Text("    │", style="dim")  # no leading blank: Textual trims it off a line
            for s in row_cells:
                line.append(_centre(s, col), style=style)
            out.append(line)
        if fit < len(self.cells):
            out.append(Text(_("(the latest {n} of {total} periods; a wider window shows more)").format(
                n=fit, total=len(self.cells)), style="dim italic"))
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.lines(options.max_width)


def sparkline(values: Sequence[float]) -> str:
    """One block per value, scaled to the largest (all blank when every value is 0)."""
    top = max(values, default=0)
    if top <= 0:
        return LEVELS[1] * len(values)
    return "".join(LEVELS[max(1, round(8 * v / top))] if v > 0 else LEVELS[1] for v in values)


def charts(t: dict[str, Any]) -> Group:
    """A chart per step, each titled `Lead → Qualified`."""
    labels = [p["label"] + ("…" if p["partial"] else "") for p in t["periods"]]
    parts: list[Any] = []
    for st in t["steps"]:
        title = f"{st['name']} → {st.get('next_name', st['next'])}"
        parts += [CohortChart(title, [p["conversion"][st["stage"]] for p in t["periods"]], labels), Text("")]
    if not t["steps"]:
        parts.append(Text(_("No steps to chart: the pipeline has a single open stage.")))
    return Group(*parts)


def flow_table(t: dict[str, Any]) -> Group:
    """Sparklines of the flow, then one line per period (newest last)."""
    periods = t["periods"]
    spark = Table.grid(padding=(0, 2))
    spark.add_column(no_wrap=True)
    spark.add_column(no_wrap=True)
    for name, key in ((_("New deals"), "new_deals"), (_("Wins"), "wins"), (_("Won amount"), "won_amount"),
                      (_("Cycle"), "avg_cycle_days")):
        spark.add_row(Text(name), Text(sparkline([p[key] or 0 for p in periods]), style="bold"))
    table = panel_table(_("The flow per period"))
    for i, head in enumerate((_("Period"), _("New deals"), _("Wins"), _("Losses"), _("Won amount"), _("Cycle"))):
        table.add_column(Text(head), justify="left" if i == 0 else "right", no_wrap=i == 0,
                         overflow="ellipsis" if i == 0 else "fold")  # headers break whole at 80
    for p in periods:
        table.add_row(Text(p["label"] + ("…" if p["partial"] else "")), Text(str(p["new_deals"])),
                      Text(str(p["wins"])), Text(str(p["losses"])), Text(amount_text(p["won_amount"])),
                      Text(days_label(p["avg_cycle_days"])))
    return Group(spark, Text(""), table)


def legend() -> Text:
    return Text(_("Cohort conversion: of the deals that entered the stage in the period (d), how many have "
                  "reached the next stage since (n). {mark} fewer than 10 deals; … the period still running.")
                .format(mark=SMALL_MARK), style="italic")


class TrendPanel(SummaryPanel):
    """Cohort conversion per step over the periods, and the flow."""

    panel_id = "trend"
    title = N_("Trend")
    key = "2"

    def __init__(self) -> None:
        super().__init__()
        self.span = SPANS[0][0]

    def compose(self) -> ComposeResult:
        yield Select([(Text(_(label)), value) for value, label, _w, _by in SPANS], value=self.span,
                     allow_blank=False, id="trend-span")
        yield block("trend-charts")
        yield block("trend-flow")
        yield block("trend-legend")

    @on(Select.Changed, "#trend-span")
    def _span_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.BLANK and event.value != self.span:
            self.span = str(event.value)
            self.post_message(self.Asked(self))

    def request(self) -> str:
        return self.span

    @staticmethod
    def read(store: Any, choice: Choice, request: Any) -> dict[str, Any]:
        _v, _label, weeks, by = next(s for s in SPANS if s[0] == request)
        t = localise(store.trend(now=choice.now, tz=choice.tz, owner=choice.owner, weeks=weeks, by=by,
                                 pipeline=choice.pipeline), choice.labels)
        for st in t["steps"]:
            st["next_name"] = choice.labels.get(st["next"], st["next"])
        return t

    def show(self, data: dict[str, Any]) -> None:
        self.data = data
        self.query_one("#trend-legend").update(legend())
        self.query_one("#trend-charts").update(charts(data))
        self.query_one("#trend-flow").update(flow_table(data))
