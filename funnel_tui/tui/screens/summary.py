"""Summary: the Monday review on one screen — where the funnel leaks, how long deals sit, what
the pipeline is worth weighted, and this week against last.

Two selectors at the top: the rep (me by default; all reps; every rep side by side; any one
rep) and the period (deals created in it). The numbers are read by a thread worker through
store.summary and drawn as Rich renderables whose every cell is a Text, so a rep, source or
lost reason called `Acme [/]` shows as written. Rates resting on fewer than 10 deals are
starred.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Select, Static

from funnel_tui.domain.funnel import SMALL_MARK, days_label, rate_label
from funnel_tui.domain.money import format_compact, format_money
from funnel_tui.domain.text import display_width
from funnel_tui.tui.i18n import tr

ALL = "\x00all"  # selector values that no rep name can equal (names are cleaned of controls)
COMPARE = "\x00compare"
ME = "\x00me"
BAR_WIDTH = 40
PERIODS: tuple[tuple[str, str], ...] = (
    ("all", "All time"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("year", "This year"),
    ("last_year", "Last year"),
)


@dataclass(frozen=True, slots=True)
class Period:
    since: datetime | None
    until: datetime | None


def period_bounds(key: str, now: datetime, tz) -> Period:
    """Deals created in [since, until) for a period key, in the rep's calendar."""
    local = now.astimezone(tz)
    midnight = datetime(local.year, local.month, local.day, tzinfo=tz)
    if key == "30d":
        return Period(midnight - timedelta(days=30), None)
    if key == "90d":
        return Period(midnight - timedelta(days=90), None)
    if key == "year":
        return Period(datetime(local.year, 1, 1, tzinfo=tz), None)
    if key == "last_year":
        return Period(datetime(local.year - 1, 1, 1, tzinfo=tz), datetime(local.year, 1, 1, tzinfo=tz))
    return Period(None, None)


def _table(*columns: str, right: tuple[int, ...] = (), title: str | None = None) -> Table:
    table = Table(title=Text(title, style="bold") if title else None, title_justify="left",
                  header_style="bold", expand=False, pad_edge=False)
    for i, col in enumerate(columns):
        table.add_column(Text(col), justify="right" if i in right else "left", no_wrap=i == 0)
    return table


def localise(value: Any, labels: dict[str, str]) -> Any:
    """The summary/review answer with each stage's `name` in the rep's language."""
    if isinstance(value, dict):
        out = {k: localise(v, labels) for k, v in value.items()}
        key = value.get("key", value.get("stage"))
        if "name" in out and isinstance(key, str) and key in labels:
            out["name"] = labels[key]
        return out
    if isinstance(value, list):
        return [localise(v, labels) for v in value]
    return value


def funnel_bars(s: dict[str, Any]) -> Text:
    """Horizontal bars of reached per stage, with the conversion (n/N) between them."""
    stages = s["stages"]
    top = max((st["reached"] for st in stages), default=0)
    width = max((display_width(st["name"]) for st in stages), default=0)
    out = Text()
    for i, st in enumerate(stages):
        filled = 0 if top == 0 else round(BAR_WIDTH * st["reached"] / top)
        if st["reached"] and not filled:
            filled = 1
        out.append(st["name"] + " " * (width - display_width(st["name"])) + "  ")
        out.append("█" * filled, style="bold")
        out.append("·" * (BAR_WIDTH - filled), style="dim")
        out.append(f"  {st['reached']}\n")
        if i + 1 < len(stages) and st["conversion_d"]:
            label = rate_label(st["conversion_n"], st["conversion_d"], st["conversion_to_next"], st["small_sample"])
            out.append(" " * width + f"  ↓ {label}\n", style="italic")
    leak = s.get("weakest_step")
    if leak:
        names = {st["key"]: st["name"] for st in stages}
        out.append("Weakest step: ", style="bold")
        out.append(f"{names[leak['stage']]} → {names[leak['next']]}  "
                   f"{rate_label(leak['n'], leak['d'], leak['rate'], leak['small_sample'])}\n")
    return out


def stage_table(s: dict[str, Any]) -> Table:
    table = _table("Stage", "Reached", "Now", "→ next (n/N)", "Avg days", "Dwell now", "Open", "Weighted",
                   right=(1, 2, 3, 4, 5, 6, 7), title="Stages")
    for st in s["stages"]:
        table.add_row(
            Text(st["name"]), Text(str(st["reached"])), Text(str(st["current"])),
            Text(rate_label(st["conversion_n"], st["conversion_d"], st["conversion_to_next"], st["small_sample"])),
            Text(days_label(st["avg_days_in_stage"])), Text(days_label(st["current_avg_dwell"])),
            Text(format_money(st["open_amount"])), Text(format_money(st["weighted_amount"])),
        )
    return table


def totals_table(s: dict[str, Any]) -> Table:
    table = _table("", "", title="Totals")
    table.add_row(Text("Won / lost"), Text(f"{s['won']} / {s['lost']}"))
    table.add_row(Text("Win rate"), Text(rate_label(s["win_rate_n"], s["win_rate_d"], s["win_rate"],
                                                    s["win_rate_small_sample"]) or "—"))
    table.add_row(Text("Won amount"), Text(format_money(s["won_amount"])))
    table.add_row(Text("Open pipeline"), Text(format_money(s["open_amount"])))
    table.add_row(Text("Weighted pipeline"), Text(format_money(s["weighted_pipeline"]), style="bold"))
    table.add_row(Text("Sales cycle"), Text(days_label(s["avg_cycle_days"])))
    return table


def tiers_table(s: dict[str, Any]) -> Table:
    table = _table("Tier", "Deals", "Weighted", right=(1, 2), title="Tiers (open deals)")
    for tier in "ABC":
        table.add_row(Text(tier), Text(str(s["tiers"][tier])), Text(format_money(s["tier_weighted"][tier])))
    return table


def reasons_table(s: dict[str, Any]) -> Table:
    table = _table("Lost reason", "Deals", right=(1,), title="Lost reasons")
    for reason, n in s["lost_reasons"].items():
        table.add_row(Text(reason or "(none)"), Text(str(n)))
    if not s["lost_reasons"]:
        table.add_row(Text("none lost"), Text(""))
    return table


def sources_table(s: dict[str, Any]) -> Table:
    table = _table("Source", "Deals", "Won", "Win rate", right=(1, 2, 3), title="By source")
    for source, v in s["by_source"].items():
        table.add_row(Text(source or "(none)"), Text(str(v["reached_first"])), Text(str(v["won"])),
                      Text(rate_label(v["won"], v["won"] + v["lost"], v["win_rate"], v["small_sample"])
                           if v["won"] + v["lost"] else "—"))
    return table


def week_table(r: dict[str, Any]) -> Table:
    table = _table("", "This week", "Last week", "4-week avg", right=(1, 2, 3),
                   title=f"This week (from {r['week_start']:%a %d %b}) vs last")
    names = {"new_deals": "New deals", "wins": "Wins", "losses": "Losses", "won_amount": "Won amount"}
    for m in r["metrics"]:
        if m["metric"] == "won_amount":
            cells = (format_compact(m["this_week"]), format_compact(m["last_week"]),
                     format_compact(round(m["avg_4_weeks"])))
        else:
            cells = (str(m["this_week"]), str(m["last_week"]), f"{m['avg_4_weeks']:.1f}")
        table.add_row(Text(names[m["metric"]]), *(Text(c) for c in cells))
    for e in r["entries"]:
        table.add_row(Text(f"→ {e['name']}"), Text(str(e["this_week"])), Text(str(e["last_week"])),
                      Text(f"{e['avg_4_weeks']:.1f}"))
    return table


def bottleneck_text(r: dict[str, Any]) -> Text:
    flagged = [c for c in r["conversion"] if c["bottleneck"]]
    if not flagged:
        return Text(f"No bottleneck: no stage stayed below {r['threshold'] * 100:.0f} % two weeks running.")
    out = Text()
    for c in flagged:
        lw, wb = c["last_week"], c["week_before"]
        out.append("Bottleneck: ", style="bold reverse")
        out.append(f" {c['name']} → next below {r['threshold'] * 100:.0f} % two weeks running "
                   f"({lw['n']}/{lw['d']}, then {wb['n']}/{wb['d']})"
                   + (f" {SMALL_MARK}" if c["small_sample"] else "") + "\n")
    return out


def compare_table(reps: list[dict[str, Any]]) -> Table:
    steps = [st["key"] for st in reps[0]["stages"] if st["conversion_d"] is not None] if reps else []
    names = {st["key"]: st["name"] for st in reps[0]["stages"]} if reps else {}
    table = _table("Rep", "Deals", "Won", "Lost", "Win rate", "Won amount", "Weighted", "Cycle",
                   *(f"{names[k]} →" for k in steps), right=tuple(range(1, 8 + len(steps))),
                   title="Reps side by side")
    for s in reps:
        by_key = {st["key"]: st for st in s["stages"]}
        table.add_row(
            Text(s["owner"] or "(no owner)"), Text(str(s["deals"])), Text(str(s["won"])), Text(str(s["lost"])),
            Text(rate_label(s["win_rate_n"], s["win_rate_d"], s["win_rate"], s["win_rate_small_sample"]) or "—"),
            Text(format_money(s["won_amount"])), Text(format_money(s["weighted_pipeline"])),
            Text(days_label(s["avg_cycle_days"])),
            *(Text(rate_label(by_key[k]["conversion_n"], by_key[k]["conversion_d"], by_key[k]["conversion_to_next"],
                              by_key[k]["small_sample"])) for k in steps),
        )
    return table


class SummaryScreen(Screen):
    """Per rep and period: funnel bars, stage table, tiers, lost reasons, sources, the week."""

    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the board"),
        Binding("r", "focus_rep", "Rep", tooltip="Choose whose funnel: me, all reps, side by side, one rep"),
        Binding("p", "focus_period", "Period", tooltip="Only deals created in this period"),
        Binding("ctrl+r", "reload", "Reload", tooltip="Read the numbers again"),
    ]
    """
    | Key | Action |
    | :- | :- |
    | r | choose the rep: me, all reps, reps side by side, one rep |
    | p | choose the period: deals created in it |
    | Enter / ↑ ↓ | open the focused selector, pick |
    | Tab | next selector |
    | ctrl+r | read the numbers again |
    | Esc | back to the board |
    """

    DEFAULT_CSS = """
    SummaryScreen #selectors { height: auto; padding: 0 1; }
    SummaryScreen #selectors Select { width: 32; margin-right: 2; }
    SummaryScreen #selectors Label { padding: 1 1 0 0; }
    SummaryScreen #body { padding: 0 1; }
    SummaryScreen .block { margin-bottom: 1; height: auto; }
    SummaryScreen #status { color: $text-muted; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.rep: str = ME
        self.period: str = "all"
        self.shown: dict[str, Any] = {}  # what the blocks show (also handy for tests)
        self._token = 0  # bumped by every new choice; older answers are dropped
        self._reps_listed = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="selectors"):
            yield Label(Text("Rep"))
            yield Select([(Text("All reps"), ALL)], id="rep", allow_blank=False, value=ALL)
            yield Label(Text("Period"))
            yield Select([(Text(label), key) for key, label in PERIODS], id="period", allow_blank=False,
                         value="all")
        yield Static(Text("Reading the funnel…"), id="status")
        with VerticalScroll(id="body"):
            yield Static(Text(""), id="funnel", classes="block")
            yield Static(Text(""), id="stages", classes="block")
            yield Static(Text(""), id="totals", classes="block")
            yield Static(Text(""), id="breakdown", classes="block")
            yield Static(Text(""), id="week", classes="block")
        yield Footer()

    def on_mount(self) -> None:
        self.app.sub_title = tr(self.app.lang, "Summary")
        # The numbers and the list of reps are read side by side: "me" is resolved by the
        # reader itself, so nothing waits for the selector to fill.
        self.refresh_numbers()
        self.load_reps()

    # --- choosing ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="summary-reps")
    def load_reps(self) -> None:
        from funnel_tui.store.core import owners

        store = self.app.store
        me = store.get_setting("me") or ""
        reps = owners(store)
        self.app.call_from_thread(self._set_reps, me, reps)

    def _set_reps(self, me: str, reps: list[str]) -> None:
        options: list[tuple[Text, str]] = []
        if me:
            options.append((Text(f"Me ({me})"), ME))
        options += [(Text("All reps"), ALL), (Text("Reps side by side"), COMPARE)]
        options += [(Text(name or "(no owner)"), name) for name in reps if name != me or not me]
        if self.rep == ME and not me:
            self.rep = ALL  # nobody is "me" here: the numbers being read are everyone's already
        select = self.query_one("#rep", Select)
        with self.prevent(Select.Changed):
            select.set_options(options)
            select.value = self.rep if any(value == self.rep for _, value in options) else ALL
        self._reps_listed = True

    @on(Select.Changed, "#rep")
    def _rep_changed(self, event: Select.Changed) -> None:
        # Until the reps are listed the selector holds a placeholder: its events mean nothing.
        if self._reps_listed and event.value is not Select.BLANK and event.value != self.rep:
            self.rep = event.value
            self.refresh_numbers()

    @on(Select.Changed, "#period")
    def _period_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.BLANK and event.value != self.period:
            self.period = event.value
            self.refresh_numbers()

    def action_focus_rep(self) -> None:
        self.query_one("#rep", Select).focus()

    def action_focus_period(self) -> None:
        self.query_one("#period", Select).focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_reload(self) -> None:
        self.refresh_numbers()

    # --- reading ----------------------------------------------------------------------------

    def refresh_numbers(self) -> None:
        """Read the funnel and the week for the current choice (two workers, in parallel)."""
        self._token += 1
        self.query_one("#status", Static).update(Text("Reading the funnel…"))
        self._read_funnel(self._token, self.rep, self.period)
        self._read_week(self._token, self.rep)

    def _owner_for(self, rep: str) -> str | None:
        if rep == ME:
            return self.app.store.get_setting("me") or None
        return None if rep in (ALL, COMPARE) else rep

    @work(thread=True, exclusive=True, group="summary")
    def _read_funnel(self, token: int, rep: str, period_key: str) -> None:
        from funnel_tui.store.core import summary
        from funnel_tui.store.summary import DealSet

        store, now, tz = self.app.store, self.app.now(), self.app.tz
        owner = self._owner_for(rep)
        bounds = period_bounds(period_key, now, tz)
        deals = DealSet(owner=owner, since=bounds.since, until=bounds.until)
        result = localise(summary(store, now=now, deals=deals, by_owner=rep == COMPARE), self._labels())
        self.app.call_from_thread(self._show_funnel, token, rep, owner, period_key, result)

    @work(thread=True, exclusive=True, group="summary-week")
    def _read_week(self, token: int, rep: str) -> None:
        from funnel_tui.store.core import review

        week = review(self.app.store, now=self.app.now(), tz=self.app.tz, owner=self._owner_for(rep))
        self.app.call_from_thread(self._show_week, token, localise(week, self._labels()))

    def _labels(self) -> dict[str, str]:
        """Stage names in the rep's language (Chinese names for zh)."""
        return {s.key: s.label(self.app.lang) for s in self.app.store.stages()}

    def _show_funnel(self, token: int, rep: str, owner: str | None, period_key: str, result: Any) -> None:
        if token != self._token:
            return  # a newer choice is being read
        period = dict(PERIODS)[period_key]
        who = "all reps" if owner is None else owner
        if rep == COMPARE:
            who = "reps side by side"
            self.shown = {**self.shown, "compare": result, "summary": None}
            total = sum(s["deals"] for s in result)
            self._update("funnel", compare_table(result) if result else Text("No deals in this period."))
            self._update("stages", Text(""))
            self._update("totals", Text(""))
            self._update("breakdown", Text(""))
        else:
            self.shown = {**self.shown, "summary": result, "compare": None}
            total = result["deals"]
            self._update("funnel", Group(Text("Funnel: deals that reached each stage", style="bold"),
                                         funnel_bars(result)))
            self._update("stages", stage_table(result))
            self._update("totals", _side_by_side(totals_table(result), tiers_table(result)))
            self._update("breakdown", _side_by_side(reasons_table(result), sources_table(result)))
        status = Text(f"{who} · {period} · {total} deals · as of "
                      f"{self.app.now().astimezone(self.app.tz):%Y-%m-%d %H:%M} · "
                      f"{SMALL_MARK} = fewer than 10 deals behind the rate")
        self.query_one("#status", Static).update(status)

    def _show_week(self, token: int, week: dict[str, Any]) -> None:
        if token != self._token:
            return
        self.shown = {**self.shown, "week": week}
        self._update("week", Group(week_table(week), bottleneck_text(week)))

    def _update(self, block: str, renderable: Any) -> None:
        self.query_one(f"#{block}", Static).update(renderable)


def _side_by_side(*tables: Table) -> Table:
    grid = Table.grid(padding=(0, 4))
    for _ in tables:
        grid.add_column()
    grid.add_row(*tables)
    return grid
