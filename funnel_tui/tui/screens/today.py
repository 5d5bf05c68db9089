"""Today: what is due and what is rotting, with every row actionable in place.

One line-rendered OptionList: section headers are disabled options, each row carries the
follow-up and/or deal it stands for. After an action the list is read again and the cursor
stays where it was, so the next row slides under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from funnel_tui.domain.dates import format_shown
from funnel_tui.domain.tiers import tier_label
from funnel_tui.i18n import N_, _
from funnel_tui.store import StoreError
from funnel_tui.tui.context import HasContext
from funnel_tui.tui.pipelines import PIPELINE_BINDINGS, bind_pipeline_key, has_pipelines, next_pipeline
from funnel_tui.tui.deal_actions import Change, DealActions, neighbour_stage
from funnel_tui.tui.key_table import localise_bindings
from funnel_tui.tui.widgets.deal_details import due_line
from funnel_tui.tui.widgets.key_bar import KeyBar

SECTION_LIMIT = 200  # rows per section; the rest is counted (due) or pointed to (warnings)
WARNING_SECTIONS = ("dwell_over", "dwell_near", "silent", "no_next_step")

# (key, heading, what an empty section says)
SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("overdue", N_("Overdue"), N_("nothing overdue")),
    ("24h", N_("Due within 24 h"), N_("nothing due in the next 24 h")),
    ("3d", N_("Due within 3 days"), N_("nothing else due in 3 days")),
    ("dwell_over", N_("Too long in stage"), N_("no deal past its stage limit")),
    ("dwell_near", N_("Nearing the stage limit"), N_("no deal near its stage limit")),
    ("no_next_step", N_("No next step"), N_("every open deal has a next step")),
    ("silent", N_("Silent"), N_("nobody has gone quiet")),
    ("to_review", N_("To review: quiet deals of the lowest tier"), N_("no quiet deal to review")),
)
CAPPED = (*WARNING_SECTIONS, "to_review")  # bounded reads: "and more" points to the command


@dataclass(frozen=True, slots=True)
class RowRef:
    """What a row stands for: a deal, and the follow-up when the row is one."""

    deal_id: int
    customer: str
    stage: str
    followup_id: int | None = None
    kind: str = "call"
    due_at: datetime | None = None
    purge: bool = False  # a row of the purge queue ("to review"): keep or remove it

    def deal(self) -> dict:
        """The deal as far as the row knows it (enough for a snooze)."""
        return {"id": self.deal_id, "customer": self.customer, "stage": self.stage}


class TodayRow(Option):
    """A row that can be acted on: a follow-up (followup_id set) or a warned deal."""

    def __init__(self, prompt: Text, ref: RowRef, option_id: str):
        super().__init__(prompt, id=option_id)
        self.ref = ref
        self.followup_id = ref.followup_id
        self.deal_id = ref.deal_id


class TodayScreen(HasContext, Screen):
    """Overdue, due within 24 h and 3 days, dwell warnings, no next step, silent deals."""

    BINDINGS = [
        Binding("d", "done", N_("Done"), tooltip=N_("Mark the follow-up done: note, then the next one")),
        Binding("1", "snooze(1)", N_("+1d"), tooltip=N_("Snooze the follow-up a day")),
        Binding("3", "snooze(3)", N_("+3d"), tooltip=N_("Snooze the follow-up three days")),
        Binding("w", "snooze(7)", N_("+1w"), tooltip=N_("Snooze the follow-up a week")),
        Binding("l", "log", N_("Log touch"),
                tooltip=N_("Log a call or visit on the row's deal: it completes the row's follow-up; plan the next")),
        Binding("m", "move_next", N_("Next stage"), tooltip=N_("Move the row's deal to the next stage (Won asks first)")),
        Binding("k", "keep", N_("Keep"),
                tooltip=N_("Keep the quiet deal: a note, logged as a touch, restarts its clock")),
        Binding("x", "remove", N_("Remove"), tooltip=N_("Remove the quiet deal: lost (purged), with a note")),
        Binding("enter", "open", N_("Open"), tooltip=N_("Open the row's deal")),
        Binding("r", "reload", N_("Reload"), show=False, tooltip=N_("Read everything again")),
        Binding("question_mark", "app.help", N_("Help"), key_display="?", tooltip=N_("All keys")),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the board")),
    ]
    """
    | Key | Action |
    | :- | :- |
    | ↑ ↓ | move between rows (section headers are skipped) |
    | d | done: a note, then the next follow-up |
    | 1 / 3 / w | snooze a day / three days / a week |
    | l / m | log a touch / move the deal to the next stage |
    | k / x | to review: keep the quiet deal (a note) / remove it (lost: purged) |
    | Enter | open the deal |
    | P | the next pipeline (with more than one) |
    | r / ? / Esc | read again / help / back |
    """
    CONDITIONAL_BINDINGS = PIPELINE_BINDINGS
    """`P`, bound only when the rep keeps a second pipeline (tui/pipelines.py)."""

    DEFAULT_CSS = """
    TodayScreen #today-title {
        width: 100%;
        background: $primary 30%;
        color: $text;
        text-style: bold;
        padding: 0 1;
    }
    TodayScreen #today-list {
        height: 1fr;
        border: round $primary 50%;
    }
    TodayScreen #today-list:focus {
        border: round $primary;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        localise_bindings(self)
        self.actions = DealActions(self)

    def compose(self) -> ComposeResult:
        yield Label(Text(""), id="today-title")
        yield OptionList(id="today-list", markup=False)
        yield KeyBar(id="key-bar")

    def on_mount(self) -> None:
        bind_pipeline_key(self)
        self.reload()
        self.query_one("#today-list", OptionList).focus()

    def on_screen_resume(self) -> None:
        self.reload(keep="id")

    # --- building --------------------------------------------------------------------------

    def _stage_name(self, key: str) -> str:
        try:
            return self.ctx.store.stage(key).label(self.ctx.lang)
        except StoreError:
            return key

    def _sections(self) -> dict[str, list[tuple[str, Text, RowRef]]]:
        """Rows per section: (option id, line, ref), read from the store with an explicit now."""
        ctx = self.ctx
        store, now = ctx.store, ctx.now()
        pipeline = store.pipeline(ctx.pipeline).key  # the board's pipeline (all of it when just one)
        out: dict[str, list[tuple[str, Text, RowRef]]] = {key: [] for key, *_words in SECTIONS}
        for item in store.due(now=now, within="3d", pipeline=pipeline):
            if item.bucket not in ("overdue", "24h", "3d"):
                continue
            line = due_line(item.due_at, item.kind, now=now, tz=ctx.tz)
            line.append(str(item.customer), style="bold")
            if item.title:
                line.append(" — ")
                line.append(str(item.title))
            line.append(f"  · {self._stage_name(item.stage)}", style="dim")
            if item.note:
                line.append("  ")
                line.append(str(item.note), style="italic")
            ref = RowRef(item.deal_id, item.customer, item.stage, item.followup_id, item.kind, item.due_at)
            out[item.bucket].append((f"fu-{item.followup_id}", line, ref))
        # Warnings come worst first and bounded (one more than we draw, to know there is more).
        for w in store.warnings(now=now, limit=SECTION_LIMIT + 1, pipeline=pipeline):
            line = Text()
            line.append(str(w.customer), style="bold")
            line.append(f"  · {self._stage_name(w.stage)}  ", style="dim")
            if w.kind in ("dwell_over", "dwell_near"):
                line.append(_("{days}d in stage (limit {limit}d)").format(days=w.days, limit=w.limit))
            elif w.kind == "silent":
                line.append(_("silent {days}d (cadence {limit}d)").format(days=w.days, limit=w.limit))
            else:
                line.append(_("no follow-up planned · {days}d in stage").format(days=w.days))
            out[w.kind].append((f"{w.kind}-{w.deal_id}", line, RowRef(w.deal_id, w.customer, w.stage)))
        for c in store.purge_candidates(now=now, tz=ctx.tz, pipeline=pipeline, limit=SECTION_LIMIT + 1):
            line = Text()
            line.append(str(c.customer), style="bold")
            line.append(f"  · {self._stage_name(c.stage)} · {tier_label(c.tier, ctx.lang)}  ", style="dim")
            line.append(_("no change for {days}d").format(days=c.quiet_days))
            out["to_review"].append((f"purge-{c.deal_id}", line, RowRef(c.deal_id, c.customer, c.stage, purge=True)))
        return out

    def reload(self, keep: str = "index") -> None:
        """Read everything again. keep="index": the cursor stays on the same line (after an
        action the next row slides under it); keep="id": it follows the same row."""
        ol = self.query_one("#today-list", OptionList)
        old_index = ol.highlighted
        old_id = None
        if old_index is not None:
            old_id = ol.get_option_at_index(old_index).id
        sections = self._sections()
        ol.clear_options()
        options: list[Option] = []
        for key, heading, empty in SECTIONS:
            rows = sections[key]
            capped = key in CAPPED and len(rows) > SECTION_LIMIT
            count = f"{SECTION_LIMIT}+" if capped else str(len(rows))
            header = Text(f"{_(heading)} · {count}", style="bold reverse")
            options.append(Option(header, id=f"h-{key}", disabled=True))
            if not rows:
                options.append(Option(Text(f"  {_(empty)}", style="dim"), id=f"e-{key}", disabled=True))
            for option_id, line, ref in rows[:SECTION_LIMIT]:
                options.append(TodayRow(Text("  ").append_text(line), ref, option_id))
            if capped:
                more = "  " + (_("… and more (funnel purge lists them all)") if key == "to_review" else
                               _("… and more (funnel warnings --kind {key} lists them all)").format(key=key))
                options.append(Option(Text(more, style="dim"), id=f"m-{key}", disabled=True))
            elif len(rows) > SECTION_LIMIT:
                hidden = len(rows) - SECTION_LIMIT
                more = "  " + _("… {n} more").format(n=hidden)
                options.append(Option(Text(more, style="dim"), id=f"m-{key}", disabled=True))
        ol.add_options(options)
        self._place_cursor(ol, old_index, old_id if keep == "id" else None)
        tz, now = self.ctx.tz, self.ctx.now()
        title = _("Today")
        store = self.ctx.store
        if len(store.pipelines()) > 1:  # a rep with one pipeline sees nothing new
            title += f" · {store.pipeline(self.ctx.pipeline).label(self.ctx.lang)}"
        self.query_one("#today-title", Label).update(
            Text(title + " · " + format_shown(now, tz, now=now, weekday=True)))
        self.refresh_bindings()

    @staticmethod
    def _place_cursor(ol: OptionList, index: int | None, option_id: str | None) -> None:
        if option_id is not None:
            try:
                ol.highlighted = ol.get_option_index(option_id)
                return
            except Exception:  # the row is gone: fall back to its place
                pass
        n = ol.option_count
        start = min(index if index is not None else 0, n - 1)
        # Nearest actionable row: at or below the old place, else above it.
        for i in [*range(start, n), *range(start - 1, -1, -1)]:
            if not ol.get_option_at_index(i).disabled:
                ol.highlighted = i
                return
        ol.highlighted = None

    # --- keys --------------------------------------------------------------------------------

    def current(self) -> TodayRow | None:
        ol = self.query_one("#today-list", OptionList)
        if ol.highlighted is None:
            return None
        option = ol.get_option_at_index(ol.highlighted)
        return option if isinstance(option, TodayRow) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only keys that can act on the highlighted row show in the footer."""
        if not self.is_mounted or action in ("back", "reload"):
            return True
        try:
            row = self.current()
        except Exception:  # before compose
            return True
        if action in ("done", "snooze"):
            return row is not None and row.followup_id is not None
        if action in ("log", "open"):
            return row is not None
        if action in ("keep", "remove"):
            return row is not None and row.ref.purge
        if action == "move_next":
            return row is not None and neighbour_stage(self._stages_of(row), row.ref.stage) is not None
        if action == "switch_pipeline":
            return has_pipelines(self.ctx)
        return True

    def _stages_of(self, row: TodayRow) -> tuple:
        """The live stages of the row's deal's pipeline."""
        store = self.ctx.store
        return store.stages(store.stage(row.ref.stage).pipeline)

    @on(OptionList.OptionHighlighted, "#today-list")
    def _moved(self) -> None:
        self.refresh_bindings()

    @on(OptionList.OptionSelected, "#today-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open()

    def deal_changed(self, change: Change) -> bool:
        """After a flow (or a refusal): read the list again; the cursor keeps its line, so
        the next row slides under it."""
        self.reload()
        return False

    @work
    async def action_done(self) -> None:
        """Mark the follow-up done, with a note and the next follow-up."""
        row = self.current()
        if row is None or row.followup_id is None:
            return
        deal = self.actions.read_deal(row.deal_id)
        if deal is not None:
            await self.actions.complete(deal, row.followup_id, row.ref.kind)

    def action_snooze(self, days: int) -> None:
        """Push the follow-up later by `days` (from now if it is overdue)."""
        row = self.current()
        if row is not None and row.followup_id is not None and row.ref.due_at is not None:
            self.actions.snooze(row.ref.deal(), row.followup_id, row.ref.due_at, days)

    @work
    async def action_log(self) -> None:
        """Log a touch on the row's deal (it completes the row's follow-up) and plan the next."""
        row = self.current()
        deal = self.actions.read_deal(row.deal_id) if row is not None else None
        if row is not None and deal is not None:
            await self.actions.log_touch(deal, kind=row.ref.kind, followup_id=row.followup_id)

    def action_move_next(self) -> None:
        """Move the row's deal to the next stage (into Won asks first)."""
        row = self.current()
        target = neighbour_stage(self._stages_of(row), row.ref.stage) if row is not None else None
        deal = self.actions.read_deal(row.deal_id) if row is not None and target is not None else None
        if deal is not None and target is not None:
            self.actions.move(deal, target)

    @work
    async def action_keep(self) -> None:
        """Keep the quiet deal: a note (logged as a touch) restarts its clock."""
        row = self.current()
        if row is not None and row.ref.purge:
            await self.actions.purge(row.ref.deal(), remove=False)

    @work
    async def action_remove(self) -> None:
        """Remove the quiet deal: lost, reason purged, with a note."""
        row = self.current()
        if row is not None and row.ref.purge:
            await self.actions.purge(row.ref.deal(), remove=True)

    def action_open(self) -> None:
        """Open the row's deal."""
        from funnel_tui.tui.screens.deal import DealScreen

        row = self.current()
        if row is not None:
            self.app.push_screen(DealScreen(row.deal_id))

    def action_reload(self) -> None:
        """Read everything again."""
        self.reload(keep="id")

    def action_switch_pipeline(self) -> None:
        """The next pipeline's day (the board and Summary follow it)."""
        if next_pipeline(self.ctx):
            self.reload(keep="index")

    def action_back(self) -> None:
        """Back to the board."""
        self.app.pop_screen()
