"""One deal: every field, a timeline of what happened, and its open follow-ups to act on.

The screen reads through the store and redraws; what changes the deal (done, snooze, edit,
follow-up, log) runs through `tui.deal_actions`, and forms never write. Times are shown in
the rep's zone.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from funnel_tui.i18n import N_, _
from funnel_tui.store import StoreError
from funnel_tui.tui.context import HasContext
from funnel_tui.tui.deal_actions import Change, DealActions
from funnel_tui.tui.key_table import localise_bindings
from funnel_tui.domain.tiers import tier_mark
from funnel_tui.tui.widgets.deal_details import TIMELINE_LIMIT, due_line, fields_table, timeline
from funnel_tui.tui.widgets.key_bar import KeyBar


class FollowUpOption(Option):
    """An open follow-up row; carries its id so keys act on the right one."""

    def __init__(self, prompt: Text, followup: dict):
        super().__init__(prompt, id=f"fu-{followup['id']}")
        self.followup_id: int = followup["id"]
        self.followup = followup


class ChecklistOption(Option):
    """An item of the stage's playbook on this deal; carries its id (`actions.0`, …)."""

    def __init__(self, prompt: Text, item: str, done: bool):
        super().__init__(prompt, id=f"check-{item}")
        self.item = item
        self.done = done


class DealScreen(HasContext, Screen):
    """Every field of one deal, its timeline, its open follow-ups and its stage's playbook
    as a checklist."""

    BINDINGS = [
        Binding("d", "done", N_("Done"), tooltip=N_("Mark the highlighted follow-up done: note, then the next one")),
        Binding("1", "snooze(1)", N_("Snooze +1d"), tooltip=N_("Push the highlighted follow-up a day later")),
        Binding("3", "snooze(3)", N_("+3d"), tooltip=N_("Push the highlighted follow-up three days later")),
        Binding("w", "snooze(7)", N_("+1w"), tooltip=N_("Push the highlighted follow-up a week later")),
        Binding("e", "edit", N_("Edit"), tooltip=N_("Edit the deal's fields (checked as you type)")),
        Binding("f", "follow_up", N_("Follow-up"), tooltip=N_("Plan a follow-up on this deal")),
        Binding("l", "log", N_("Log touch"), tooltip=N_("Log a call or visit and plan the next step")),
        Binding("space", "tick", N_("Tick"), tooltip=N_("Tick or untick the highlighted item of the stage's playbook")),
        Binding("c", "checklist", N_("Checklist"), show=False,
                tooltip=N_("Go to the stage's playbook: entry condition, key actions, outputs")),
        Binding("k", "lesson", N_("Lesson"),
                tooltip=N_("Write or change the lesson of this won or lost deal (shared with your team)")),
        Binding("o", "older", N_("Older"),
                tooltip=N_("Show older entries on the timeline (a long history comes in pages)")),
        Binding("question_mark", "app.help", N_("Help"), key_display="?", tooltip=N_("All keys")),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to where you came from")),
    ]
    """
    | Key | Action |
    | :- | :- |
    | ↑ ↓ | move between open follow-ups |
    | d | done: a note, then the next follow-up |
    | 1 / 3 / w | snooze a day / three days / a week (the same keys on every screen) |
    | e | edit the deal (a new stage is a move) |
    | f / l | plan a follow-up / log a touch |
    | c, Tab / space | the stage's playbook checklist / tick an item |
    | k | the lesson of a won or lost deal (复盘, shared with the team) |
    | o | older timeline entries (shown when there are more) |
    | ? / Esc | help / back |
    """

    DEFAULT_CSS = """
    DealScreen #deal-title {
        width: 100%;
        background: $primary 30%;
        color: $text;
        text-style: bold;
        padding: 0 1;
    }
    DealScreen #deal-body {
        height: 1fr;
    }
    DealScreen #fields-pane {
        width: 1fr;
        border: round $primary 50%;
        padding: 0 1;
    }
    DealScreen #side {
        width: 1fr;
    }
    DealScreen .section {
        color: $text-accent;
        text-style: bold;
        padding: 0 1;
    }
    DealScreen #followups {
        height: auto;
        max-height: 10;
        border: round $primary 50%;
    }
    DealScreen #followups:focus, DealScreen #checklist:focus {
        border: round $primary;
    }
    DealScreen #checklist {
        height: auto;
        max-height: 35%;
        border: round $primary 50%;
    }
    DealScreen #timeline-pane {
        height: 1fr;
        border: round $primary 50%;
        padding: 0 1;
    }
    """

    def __init__(self, deal_id: int):
        super().__init__()
        localise_bindings(self)
        self.deal_id = deal_id
        self.deal: dict = {}
        self.actions = DealActions(self)
        # The timeline reads the newest history rows a page at a time (`o` for more): a deal
        # with 20,000 rows opens as fast as one with 20.
        self.history_rows = TIMELINE_LIMIT
        self.older = 0

    # --- building -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Label(Text(""), id="deal-title")
        with Horizontal(id="deal-body"):
            with VerticalScroll(id="fields-pane"):
                yield Static(id="fields")
            with Vertical(id="side"):
                yield Label(Text(_("Open follow-ups")), classes="section")
                yield OptionList(id="followups", markup=False)
                yield Label(Text(""), id="checklist-title", classes="section")
                yield OptionList(id="checklist", markup=False)
                yield Label(Text(_("Timeline")), classes="section")
                with VerticalScroll(id="timeline-pane"):
                    yield Static(id="timeline")
        yield KeyBar(id="key-bar")

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#followups", OptionList).focus()

    def on_screen_resume(self) -> None:
        if self.deal:
            self.reload()

    def reload(self) -> None:
        """Read the deal again and redraw everything, keeping the follow-up cursor."""
        ctx = self.ctx
        store, now, tz = ctx.store, ctx.now(), ctx.tz
        try:
            self.deal = store.get_deal(self.deal_id)
        except StoreError as exc:  # deleted elsewhere
            self.notify(str(exc), severity="error", markup=False)
            self.app.pop_screen()
            return
        deal = self.deal
        title = Text(_("Deal {id} · ").format(id=deal["id"]))
        title.append(str(deal["customer"]))
        if deal.get("title"):
            title.append(" — ")
            title.append(str(deal["title"]))
        self.query_one("#deal-title", Label).update(title)
        try:
            stage = store.stage(deal["stage"])
        except (StoreError, ValueError):
            stage = None
        tier = tier_mark(store.tier_cutoffs(), deal, self.ctx.lang, short=False) if deal["status"] == "open" else None
        self.query_one("#fields", Static).update(fields_table(deal, stage, self._stage_label, now=now, tz=tz,
                                                              tier=tier, score_why=store.explain_score(self.deal_id)))
        self._fill_follow_ups(store.deal_follow_ups(self.deal_id, open_only=True))
        self._fill_checklist(stage)
        history = store.deal_timeline(self.deal_id, newest=self.history_rows)
        unread = store.count_timeline(self.deal_id) - len(history) if len(history) >= self.history_rows else 0
        text, self.older = timeline(store.deal_touches(self.deal_id), store.deal_follow_ups(self.deal_id),
                                    history, self._stage_label, tz, self._item_label,
                                    now=now, limit=self.history_rows, unread=unread)
        self.query_one("#timeline", Static).update(text)
        self.refresh_bindings()

    def _stage_label(self, key: str | None) -> str:
        if not key:
            return ""
        try:
            return self.ctx.store.stage(key).label(self.ctx.lang)
        except (StoreError, ValueError):
            return key

    def _item_label(self, stage_key: str, item: str) -> str:
        try:
            return dict(self.ctx.store.stage(stage_key).checklist(self.ctx.lang)).get(item, item)
        except (StoreError, ValueError):
            return item

    def _fill_follow_ups(self, followups: list[dict]) -> None:
        ol = self.query_one("#followups", OptionList)
        keep = ol.highlighted
        ol.clear_options()
        now, tz = self.ctx.now(), self.ctx.tz
        for fu in followups:
            line = due_line(fu["due_at"], fu["kind"], now=now, tz=tz)
            line.append(str(fu.get("note") or ""))
            ol.add_option(FollowUpOption(line, fu))
        if not followups:
            ol.add_option(Option(Text(_("no open follow-up: f plans one")), disabled=True))
        elif keep is not None:
            ol.highlighted = min(keep, len(followups) - 1)
        else:
            ol.highlighted = 0

    def _fill_checklist(self, stage) -> None:
        """The stage's playbook, ticked as stored: entry condition, key actions, outputs."""
        ol = self.query_one("#checklist", OptionList)
        keep = ol.highlighted
        ol.clear_options()
        lang = self.ctx.lang
        items = stage.checklist(lang) if stage is not None else []
        done = self.ctx.store.ticks(self.deal_id, stage.key) if stage is not None else set()
        title = Text(_("Playbook · {stage} {done}/{total}").format(
            stage=stage.label(lang) if stage else "", done=len(done & {i for i, _t in items}), total=len(items)))
        self.query_one("#checklist-title", Label).update(title)
        self.query_one("#checklist", OptionList).display = bool(items)
        self.query_one("#checklist-title", Label).display = bool(items)
        headers = {"entry": _("Entry condition"), "actions": _("Key actions"), "outputs": _("Outputs")}
        section = None
        for item, text in items:
            if item.split(".")[0] != section:
                section = item.split(".")[0]
                ol.add_option(Option(Text(headers[section], style="bold italic"), disabled=True))
            line = Text("☑ " if item in done else "☐ ", style="bold" if item in done else "")
            line.append(text, style="dim" if item in done else "")
            ol.add_option(ChecklistOption(line, item, item in done))
        if items:
            first = next(i for i, o in enumerate(ol.options) if isinstance(o, ChecklistOption))
            ol.highlighted = keep if keep is not None and keep < ol.option_count else first

    def highlighted_item(self) -> ChecklistOption | None:
        ol = self.query_one("#checklist", OptionList)
        if ol.highlighted is None or not ol.has_focus:
            return None
        option = ol.get_option_at_index(ol.highlighted)
        return option if isinstance(option, ChecklistOption) else None

    def deal_changed(self, change: Change) -> bool:
        """After a flow (or a refusal): read the deal again."""
        self.reload()
        return False

    # --- keys ------------------------------------------------------------------------------

    def highlighted_follow_up(self) -> FollowUpOption | None:
        ol = self.query_one("#followups", OptionList)
        if ol.highlighted is None:
            return None
        option = ol.get_option_at_index(ol.highlighted)
        return option if isinstance(option, FollowUpOption) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys show in the footer only when they can act on this deal right now."""
        if not self.deal or not self.is_mounted:
            return True
        if action in ("done", "snooze"):
            return self.highlighted_follow_up() is not None
        if action == "tick":
            return self.highlighted_item() is not None
        if action == "follow_up":
            return self.deal.get("status") != "lost"
        if action == "older":
            return self.older > 0
        if action == "lesson":
            return self.deal.get("status") in ("won", "lost")
        return True

    @on(OptionList.OptionHighlighted, "#followups")
    @on(OptionList.OptionHighlighted, "#checklist")
    def _moved(self) -> None:
        self.refresh_bindings()

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()  # Tick shows while the checklist has the focus

    @on(OptionList.OptionSelected, "#checklist")
    def _selected(self) -> None:
        self.action_tick()

    def action_tick(self) -> None:
        """Tick or untick the highlighted playbook item (stored, and in the deal's history)."""
        option = self.highlighted_item()
        if option is None:
            return
        ctx = self.ctx
        with ctx.reporting_errors():
            ctx.store.set_tick(self.deal_id, option.item, not option.done, now=ctx.now())
        self.reload()

    def action_checklist(self) -> None:
        """Put the cursor on the stage's playbook."""
        checklist = self.query_one("#checklist", OptionList)
        if checklist.display:
            checklist.focus()

    @work
    async def action_done(self) -> None:
        """Mark the highlighted follow-up done, with a note and the next follow-up."""
        opt = self.highlighted_follow_up()
        if opt is not None:
            await self.actions.complete(self.deal, opt.followup_id, opt.followup["kind"])

    def action_snooze(self, days: int) -> None:
        """Push the highlighted follow-up later by `days` (from now if it is overdue)."""
        opt = self.highlighted_follow_up()
        if opt is not None:
            self.actions.snooze(self.deal, opt.followup_id, opt.followup["due_at"], days)

    @work
    async def action_edit(self) -> None:
        """Edit the deal's fields in a form."""
        await self.actions.edit(self.deal)

    @work
    async def action_follow_up(self) -> None:
        """Plan a follow-up on this deal."""
        await self.actions.follow_up(self.deal)

    @work
    async def action_log(self) -> None:
        """Log a touch (call, email, ...) and plan the next follow-up."""
        await self.actions.log_touch(self.deal)

    @work
    async def action_lesson(self) -> None:
        """Write or change the lesson of this won or lost deal."""
        await self.actions.lesson(self.deal)

    def action_older(self) -> None:
        """Show the next page of older timeline entries."""
        self.history_rows += TIMELINE_LIMIT
        self.reload()

    def action_back(self) -> None:
        """Back to where you came from."""
        self.app.pop_screen()
