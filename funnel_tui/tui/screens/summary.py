"""Summary: the Monday review on one screen — where the funnel leaks, how long deals sit, what
the pipeline is worth weighted, and this week against last.

Two selectors at the top: the rep (me by default; all reps; every rep side by side; any one
rep) and the period (deals created in it). The numbers are read by a thread worker through
store.summary and drawn by `widgets.summary_blocks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Label, Select, Static

from funnel_tui.domain.funnel import SMALL_MARK
from funnel_tui.domain.dates import format_shown
from funnel_tui.i18n import N_, _
from funnel_tui.tui.context import HasContext
from funnel_tui.tui.key_table import localise_bindings
from funnel_tui.tui.pipelines import PIPELINE_BINDINGS, bind_pipeline_key, has_pipelines, next_pipeline
from funnel_tui.tui.widgets.key_bar import KeyBar
from funnel_tui.tui.widgets.lessons_panel import LessonsPanel
from funnel_tui.tui.widgets.summary_blocks import (
    bottleneck_text,
    compare_table,
    currency_note,
    funnel_bars,
    localise,
    reasons_table,
    side_by_side,
    sources_table,
    stage_table,
    tiers_table,
    totals_table,
    week_table,
)

ALL = "\x00all"  # selector values that no rep name can equal (names are cleaned of controls)
COMPARE = "\x00compare"
ME = "\x00me"
PERIODS: tuple[tuple[str, str], ...] = (
    ("all", N_("All time")),
    ("30d", N_("Last 30 days")),
    ("90d", N_("Last 90 days")),
    ("year", N_("This year")),
    ("last_year", N_("Last year")),
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


class SummaryScreen(HasContext, Screen):
    """Per rep and period: funnel bars, stage table, tiers, lost reasons, sources, the week."""

    BINDINGS = [
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the board")),
        Binding("r", "focus_rep", N_("Rep"), tooltip=N_("Choose whose funnel: me, all reps, side by side, one rep")),
        Binding("p", "focus_period", N_("Period"), tooltip=N_("Only deals created in this period")),
        Binding("ctrl+r", "reload", N_("Reload"), tooltip=N_("Read the numbers again")),
        Binding("question_mark", "app.help", N_("Help"), key_display="?", tooltip=N_("All keys")),
    ]
    """
    | Key | Action |
    | :- | :- |
    | r | choose the rep: me, all reps, reps side by side, one rep |
    | p | choose the period: deals created in it |
    | Enter / ↑ ↓ | open the focused selector, pick |
    | Tab | next selector |
    | ctrl+r | read the numbers again |
    | P | the next pipeline (with more than one) |
    | Esc | back to the board |
    """
    CONDITIONAL_BINDINGS = PIPELINE_BINDINGS
    """`P`, bound only when the rep keeps a second pipeline (tui/pipelines.py)."""

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
        localise_bindings(self)
        self.rep: str = ME
        self.period: str = "all"
        self.shown: dict[str, Any] = {}  # what the blocks show (also handy for tests)
        self._token = 0  # bumped by every new choice; older answers are dropped
        self._reps_listed = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="selectors"):
            yield Label(Text(_("Rep")))
            yield Select([(Text(_("All reps")), ALL)], id="rep", allow_blank=False, value=ALL)
            yield Label(Text(_("Period")))
            yield Select([(Text(_(label)), key) for key, label in PERIODS], id="period", allow_blank=False,
                         value="all")
        yield Static(Text(_("Reading the funnel…")), id="status")
        with VerticalScroll(id="body"):
            yield Static(Text(""), id="funnel", classes="block")
            yield Static(Text(""), id="stages", classes="block")
            yield Static(Text(""), id="totals", classes="block")
            yield Static(Text(""), id="breakdown", classes="block")
            yield Static(Text(""), id="week", classes="block")
            yield LessonsPanel(id="lessons", classes="block")
        yield KeyBar(id="key-bar")

    def on_mount(self) -> None:
        self.app.sub_title = _("Summary")
        bind_pipeline_key(self)
        # The numbers and the list of reps are read side by side: "me" is resolved by the
        # reader itself, so nothing waits for the selector to fill.
        self.refresh_numbers()
        self.load_reps()

    # --- choosing ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="summary-reps")
    def load_reps(self) -> None:
        store = self.ctx.store
        me = store.get_setting("me") or ""
        reps = store.owners()
        self.app.call_from_thread(self._set_reps, me, reps)

    def _set_reps(self, me: str, reps: list[str]) -> None:
        options: list[tuple[Text, str]] = []
        if me:
            options.append((Text(_("Me ({me})").format(me=me)), ME))
        options += [(Text(_("All reps")), ALL), (Text(_("Reps side by side")), COMPARE)]
        options += [(Text(name or _("(no owner)")), name) for name in reps if name != me or not me]
        if self.rep == ME and not me:
            self.rep = ALL  # nobody is "me" here: the numbers being read are everyone's already
        select = self.query_one("#rep", Select)
        with self.prevent(Select.Changed):
            select.set_options(options)
            select.value = self.rep if any(value == self.rep for _label, value in options) else ALL
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "switch_pipeline":
            return has_pipelines(self.ctx)
        return True

    def action_switch_pipeline(self) -> None:
        """The next pipeline's funnel (the board and Today follow it)."""
        if next_pipeline(self.ctx):
            self.refresh_numbers()

    def refresh_numbers(self) -> None:
        """Read the funnel and the week for the current choice (two workers, in parallel)."""
        self._token += 1
        self.query_one("#status", Static).update(Text(_("Reading the funnel…")))
        self._read_funnel(self._token, self.rep, self.period)
        self._read_week(self._token, self.rep)
        self.query_one(LessonsPanel).load(self._owner_for(self.rep))

    def _owner_for(self, rep: str) -> str | None:
        if rep == ME:
            return self.ctx.store.get_setting("me") or None
        return None if rep in (ALL, COMPARE) else rep

    @work(thread=True, exclusive=True, group="summary")
    def _read_funnel(self, token: int, rep: str, period_key: str) -> None:
        from funnel_tui.store.summary import DealSet

        store, now, tz = self.ctx.store, self.ctx.now(), self.ctx.tz
        owner = self._owner_for(rep)
        bounds = period_bounds(period_key, now, tz)
        deals = DealSet(owner=owner, since=bounds.since, until=bounds.until)
        result = localise(store.summary(now=now, deals=deals, by_owner=rep == COMPARE, pipeline=self.ctx.pipeline),
                          self._labels())
        self.app.call_from_thread(self._show_funnel, token, rep, owner, period_key, result)

    @work(thread=True, exclusive=True, group="summary-week")
    def _read_week(self, token: int, rep: str) -> None:

        week = self.ctx.store.review(now=self.ctx.now(), tz=self.ctx.tz, owner=self._owner_for(rep),
                                     pipeline=self.ctx.pipeline)
        self.app.call_from_thread(self._show_week, token, localise(week, self._labels()))

    def _labels(self) -> dict[str, str]:
        """Stage names in the rep's language (Chinese names for zh)."""
        return {s.key: s.label(self.ctx.lang) for s in self.ctx.store.all_stages()}

    def _show_funnel(self, token: int, rep: str, owner: str | None, period_key: str, result: Any) -> None:
        if token != self._token:
            return  # a newer choice is being read
        period = _(dict(PERIODS)[period_key])
        seen = self.ctx.store.seen_as(owner)  # a rep on a team server sees only their own
        who = _("all reps") if seen is None else seen
        if rep == COMPARE:
            who = _("reps side by side")
            self.shown = {**self.shown, "compare": result, "summary": None}
            total = sum(s["deals"] for s in result)
            self._update("funnel", compare_table(result) if result else Text(_("No deals in this period.")))
            self._update("stages", Text(""))
            self._update("totals", Text(""))
            self._update("breakdown", Text(""))
        else:
            self.shown = {**self.shown, "summary": result, "compare": None}
            total = result["deals"]
            self._update("funnel", Group(Text(_("Funnel: deals that reached each stage"), style="bold"),
                                         funnel_bars(result)))
            self._update("stages", stage_table(result))
            totals, note = side_by_side(totals_table(result), tiers_table(result)), currency_note(result)
            self._update("totals", Group(totals, note) if note.plain else totals)  # no blank line for one currency
            self._update("breakdown", side_by_side(reasons_table(result), sources_table(result)))
        now = self.ctx.now()
        store = self.ctx.store
        if len(store.pipelines()) > 1:  # a rep with one pipeline sees nothing new
            who = f"{store.pipeline(self.ctx.pipeline).label(self.ctx.lang)} · {who}"
        status = Text(_("{who} · {period} · {n} deals · as of {when} · {mark} = fewer than 10 deals "
                        "behind the rate").format(
            who=who, period=period, n=total, when=format_shown(now, self.ctx.tz, now=now), mark=SMALL_MARK))
        self.query_one("#status", Static).update(status)

    def _show_week(self, token: int, week: dict[str, Any]) -> None:
        if token != self._token:
            return
        self.shown = {**self.shown, "week": week}
        blocks = [week_table(week), bottleneck_text(week)]
        if week.get("slow_stages"):  # the seed's rule, only when it has something to say
            blocks.append(slow_text(week, self.ctx.lang))
        self._update("week", Group(*blocks))

    def _update(self, block: str, renderable: Any) -> None:
        self.query_one(f"#{block}", Static).update(renderable)


def slow_text(week: dict[str, Any], lang: str) -> Text:
    """The seed's rule, as a suggestion: stages deals overstayed four weeks running."""
    out = Text()
    for slow in week.get("slow_stages", []):
        name = slow["name_zh"] if lang == "zh" and slow.get("name_zh") else slow["name"]
        weeks = ", ".join(f"{w['avg_days']:.1f}" for w in reversed(slow["weeks"]))
        out.append(_("Suggestion: deals stayed in {name} longer than its {limit} days on average, {n} weeks "
                     "running ({weeks} d); consider splitting it (ctrl+p → Stages → s)").format(
            name=name, limit=slow["limit"], n=len(slow["weeks"]), weeks=weeks), style="bold")
        out.append("\n")
    return out

