"""The Forecast panel (挤压水分): the open pipeline weighted by stage probability and by the
rep's own history side by side, the water between them, the four bands (certain / likely /
unlikely / remote) and, per stage, the deals to push first — a line-rendered list whose line
opens the deal (the screen handles `OptionList.OptionSelected` of `#forecast-push`).
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from funnel_tui.domain.text import display_width
from funnel_tui.i18n import N_, _
from funnel_tui.tui.widgets.summary_blocks import amount_text, localise
from funnel_tui.tui.widgets.summary_panel import Choice, SummaryPanel, block, panel_table

BAND_BAR = 12


def band_names() -> dict[str, str]:
    return {"certain": _("certain ≥ 80%"), "likely": _("likely 50–80%"), "unlikely": _("unlikely 20–50%"),
            "remote": _("remote < 20%")}


def headline(f: dict[str, Any]) -> Group:
    """The open pipeline, weighted both ways, and the water between them (figures aligned)."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(no_wrap=True)
    share = "" if f["water_share"] is None else f"{f['water_share'] * 100:.0f}%"
    grid.add_row(Text(_("Weighted by stage probability")), Text(amount_text(f["probability_weighted"]), style="bold"),
                 Text(""))
    grid.add_row(Text(_("Weighted by your history")), Text(amount_text(f["history_weighted"]), style="bold"),
                 Text(""))
    grid.add_row(Text(_("Water (水分)")), Text(amount_text(f["water"]), style="bold reverse" if f["water"] > 0 else "bold"),
                 Text(share))
    title = Text(_("{n} open deals, {amount} open").format(n=f["open_deals"], amount=amount_text(f["open_amount"])),
                 style="bold")
    return Group(title, grid)


def bands_table(f: dict[str, Any]) -> Table:
    table = panel_table(_("By historical probability"))
    for i, head in enumerate((_("Band"), _("Deals"), _("Amount"), _("By history"), "")):
        table.add_column(Text(head), justify="right" if i in (1, 2, 3) else "left", no_wrap=True)
    names, top = band_names(), max((b["amount"] for b in f["bands"]), default=0)
    for b in f["bands"]:
        bar = "" if not top or not b["amount"] else "█" * max(1, round(BAND_BAR * b["amount"] / top))
        table.add_row(Text(names[b["band"]]), Text(str(b["deals"])), Text(amount_text(b["amount"])),
                      Text(amount_text(b["history_weighted"])), Text(bar, style="bold"))
    return table


def stages_table(f: dict[str, Any]) -> Table:
    table = panel_table(_("Per stage"))
    for i, head in enumerate((_("Stage"), _("Deals"), _("Open amount"), _("By probability"), _("By history"),
                              _("Water"))):
        table.add_column(Text(head), justify="left" if i == 0 else "right", no_wrap=i == 0,
                         overflow="ellipsis" if i == 0 else "fold")  # headers break whole at 80
    for s in f["stages"]:
        table.add_row(Text(s["name"]), Text(str(s["open_deals"])), Text(amount_text(s["open_amount"])),
                      Text(amount_text(s["probability_weighted"])), Text(amount_text(s["history_weighted"])),
                      Text(amount_text(s["water"])))
    return table


def push_options(f: dict[str, Any]) -> list[Option]:
    """`Demo  #12 华信科技 · 王磊 · 12,000 · 45% · quiet 3 d`, one line per deal to push."""
    width = max((display_width(s["name"]) for s in f["stages"] if s["push_first"]), default=0)
    out = []
    for s in f["stages"]:
        for p in s["push_first"]:
            line = Text(s["name"] + " " * (width - display_width(s["name"])) + "  ", style="bold")
            line.append(f"#{p['deal_id']} ")
            line.append(p["customer"])
            line.append(" · ")
            line.append(p["owner"] or _("(no owner)"))
            line.append(" · " + amount_text(p["amount"]) + f" · {p['historical_probability'] * 100:.0f}% · ")
            line.append(_("quiet {days:.0f} d").format(days=p["quiet_days"]), style="dim")
            out.append(Option(line, id=str(p["deal_id"])))
    return out


class ForecastPanel(SummaryPanel):
    """The forecast with the water squeezed out, and the deals to push first."""

    panel_id = "forecast"
    title = N_("Forecast")
    key = "5"

    DEFAULT_CSS = """
    ForecastPanel #forecast-push { height: auto; max-height: 12; margin-bottom: 1; }
    """

    def compose(self) -> ComposeResult:
        yield block("forecast-headline")
        yield block("forecast-bands")
        yield block("forecast-push-title")
        yield OptionList(id="forecast-push")
        yield block("forecast-stages")
        yield block("forecast-note")

    @staticmethod
    def read(store: Any, choice: Choice, request: Any) -> dict[str, Any]:
        return localise(store.forecast(now=choice.now, owner=choice.owner, pipeline=choice.pipeline),
                        choice.labels)

    def show(self, data: dict[str, Any]) -> None:
        self.data = data
        self.query_one("#forecast-headline").update(headline(data))
        self.query_one("#forecast-bands").update(bands_table(data))
        options = push_options(data)
        self.query_one("#forecast-push-title").update(Text(
            _("Push first (historical probability × amount × recency) — Enter opens the deal") if options
            else _("No open deals to push."), style="bold"))
        push = self.query_one("#forecast-push", OptionList)
        push.set_options(options)
        push.display = bool(options)
        if options:
            push.highlighted = 0  # Enter on the list opens a deal at once

        self.query_one("#forecast-stages").update(stages_table(data))
        self.query_one("#forecast-note").update(Text(
            _("History = the rep's own won / closed from the stage, with the stage probability counted as 10 "
              "deals while the record is short (a Beta prior). Water = by probability − by history."),
            style="italic"))
