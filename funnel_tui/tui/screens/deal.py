"""One deal: every field, a timeline of what happened, and its open follow-ups to act on.

The screen reads through `app.store` and writes only in response to a key or a form's
draft; forms never write. Times are shown in the rep's zone (`app.tz`).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any, Callable

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from funnel_tui.domain.dates import format_local, humanize_delta, parse_when
from funnel_tui.domain.money import format_money, weighted_minor
from funnel_tui.domain import rules
from funnel_tui.domain.rules import cadence, dwell
from funnel_tui.domain.validation import ValidationError
from funnel_tui.store import StaleDealError, StoreError
from funnel_tui.tui.forms import DealDraft, DealForm, FollowUpForm, TouchForm

TIMELINE_LIMIT = 300  # newest entries shown; older history stays in `funnel show --format json`
# Columns that change as a side effect of another entry already on the timeline.
_QUIET_FIELDS = {"last_contact_at", "stage_entered_at", "closed_at", "probability_custom", "deleted_at"}


# --- shared with the Today screen ------------------------------------------------------


def snoozed_due(due_at: datetime, days: int, *, now: datetime, tz: tzinfo) -> datetime:
    """`days` later on the rep's calendar, counted from the due time or from now if overdue
    (snoozing an overdue call by a day means tomorrow, not yesterday)."""
    return parse_when(f"+{days}d", now=max(due_at, now), tz=tz)


def default_next_follow_up(store: Any, deal: dict, *, now: datetime, tz: tzinfo) -> datetime | None:
    """The next touch the tier cadence asks for (A: tomorrow, B: a week, C: a month), at the
    start of the working day; None for a deal that is no longer open."""
    if deal.get("status") != "open":
        return None
    tier = store.tier_cutoffs().tier(weighted_minor(deal["amount"], deal["probability"]))
    day = now.astimezone(tz).date() + timedelta(days=cadence(tier).days)
    return parse_when(day.isoformat(), now=now, tz=tz)


def next_stage(store: Any, stage_key: str) -> Any | None:
    """The stage after `stage_key` in funnel order, or None at the end."""
    order = sorted(store.stages(), key=lambda s: s.position)
    keys = [s.key for s in order]
    i = keys.index(stage_key) if stage_key in keys else -1
    return order[i + 1] if 0 <= i < len(order) - 1 else None


def lead_score_warning(deal: dict) -> str | None:
    """The domain's qualification warning for a deal row (never a blocking dialog)."""
    return rules.lead_score_warning(deal.get("stage", ""), deal.get("lead_score"))


def due_label(due_at: datetime, now: datetime) -> str:
    """`overdue 2d` / `in 5h`: how far a follow-up is from now."""
    delta = due_at - now
    return f"overdue {humanize_delta(delta)}" if delta < timedelta(0) else f"in {humanize_delta(delta)}"


# --- the screen ----------------------------------------------------------------------


class FollowUpOption(Option):
    """An open follow-up row; carries its id so keys act on the right one."""

    def __init__(self, prompt: Text, followup: dict):
        super().__init__(prompt, id=f"fu-{followup['id']}")
        self.followup_id: int = followup["id"]
        self.followup = followup


class DealScreen(Screen):
    """Every field of one deal, its timeline and its open follow-ups."""

    BINDINGS = [
        Binding("d", "done", "Done", tooltip="Mark the highlighted follow-up done: note, then the next one"),
        Binding("z", "snooze(1)", "Snooze +1d", tooltip="Push the highlighted follow-up a day later"),
        Binding("3", "snooze(3)", "+3d", tooltip="Push the highlighted follow-up three days later"),
        Binding("w", "snooze(7)", "+1w", tooltip="Push the highlighted follow-up a week later"),
        Binding("e", "edit", "Edit", tooltip="Edit the deal's fields (checked as you type)"),
        Binding("f", "follow_up", "Follow-up", tooltip="Plan a follow-up on this deal"),
        Binding("l", "log", "Log touch", tooltip="Log a call or visit and plan the next step"),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="All keys"),
        Binding("escape", "back", "Back", tooltip="Back to where you came from"),
    ]

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
    DealScreen #followups:focus {
        border: round $primary;
    }
    DealScreen #timeline-pane {
        height: 1fr;
        border: round $primary 50%;
        padding: 0 1;
    }
    """

    def __init__(self, deal_id: int):
        super().__init__()
        self.deal_id = deal_id
        self.deal: dict = {}

    # --- building -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Label(Text(""), id="deal-title")
        with Horizontal(id="deal-body"):
            with VerticalScroll(id="fields-pane"):
                yield Static(id="fields")
            with Vertical(id="side"):
                yield Label(Text("Open follow-ups"), classes="section")
                yield OptionList(id="followups", markup=False)
                yield Label(Text("Timeline"), classes="section")
                with VerticalScroll(id="timeline-pane"):
                    yield Static(id="timeline")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#followups", OptionList).focus()

    def on_screen_resume(self) -> None:
        if self.deal:
            self.reload()

    @property
    def now(self) -> datetime:
        return self.app.now()

    @property
    def tz(self) -> tzinfo:
        return self.app.tz

    def reload(self) -> None:
        """Read the deal again and redraw everything, keeping the follow-up cursor."""
        store = self.app.store
        try:
            self.deal = store.get_deal(self.deal_id)
        except StoreError as exc:  # deleted elsewhere
            self.notify(str(exc), severity="error", markup=False)
            self.app.pop_screen()
            return
        deal = self.deal
        title = Text(f"Deal {deal['id']} · ")
        title.append(str(deal["customer"]))
        if deal.get("title"):
            title.append(" — ")
            title.append(str(deal["title"]))
        self.query_one("#deal-title", Label).update(title)
        self.query_one("#fields", Static).update(self._fields_table())
        followups = store.deal_follow_ups(self.deal_id, open_only=True)
        self._fill_follow_ups(followups)
        self.query_one("#timeline", Static).update(self._timeline())
        self.refresh_bindings()

    def _stage_label(self, key: str | None) -> str:
        if not key:
            return ""
        try:
            return self.app.store.stage(key).label(getattr(self.app, "lang", "en"))
        except StoreError:
            return key
        except ValueError:
            return key

    def _fields_table(self) -> Table:
        deal, tz, now = self.deal, self.tz, self.now
        table = Table(box=None, show_header=False, expand=True, padding=(0, 1))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(ratio=1, overflow="fold")
        stage = None
        try:
            stage = self.app.store.stage(deal["stage"])
        except (StoreError, ValueError):
            pass
        money = format_money(deal["amount"] or 0, deal.get("currency") or "")
        weighted = format_money(weighted_minor(deal["amount"] or 0, deal["probability"] or 0),
                                deal.get("currency") or "")
        prob = f"{deal['probability']} %" + ("" if deal.get("probability_custom") else " (stage default)")
        stay = ""
        if deal.get("stage_entered_at") and deal["status"] == "open":
            d = dwell(deal["stage_entered_at"], now, stage.max_dwell_days if stage else None)
            stay = f"{d.whole_days}d" + (f" of {d.limit}d" if d.limit else "") + (
                f" ({d.state})" if d.state != "ok" else "")
        nxt = deal.get("next_follow_up_at")
        rows: list[tuple[str, Any]] = [
            ("Stage", self._stage_label(deal["stage"])),
            ("Status", deal["status"]),
            ("In stage", stay),
            ("Amount", money),
            ("Probability", prob),
            ("Weighted", weighted),
            ("Expected close", deal["expected_close"].isoformat() if deal.get("expected_close") else ""),
            ("Owner", deal.get("owner")),
            ("Source", deal.get("source")),
            ("Lead score", deal.get("lead_score")),
            ("Contact", deal.get("contact_name")),
            ("Role", deal.get("contact_role")),
            ("Phone", deal.get("contact_phone")),
            ("Email", deal.get("contact_email")),
            ("Industry", deal.get("industry")),
            ("Company size", deal.get("company_size")),
            ("Risk", deal.get("risk_level")),
            ("Risk note", deal.get("risk_note")),
            ("Mitigation", deal.get("mitigation")),
            ("Budget", deal.get("budget")),
            ("Decision chain", deal.get("decision_chain")),
            ("Pain points", deal.get("pain_points")),
            ("Competitors", deal.get("competitors")),
            ("Lost reason", deal.get("lost_reason")),
            ("Notes", deal.get("notes")),
            ("Next step", (format_local(nxt, tz) + f"  ({due_label(nxt, now)})") if nxt else "none"),
            ("Last contact", format_local(deal.get("last_contact_at"), tz)),
            ("Created", format_local(deal.get("created_at"), tz)),
            ("Stage entered", format_local(deal.get("stage_entered_at"), tz)),
            ("Closed", format_local(deal.get("closed_at"), tz)),
            ("External id", deal.get("external_id")),
            ("UID", deal.get("uid")),
            ("Version", deal.get("version")),
        ]
        for name, value in rows:
            table.add_row(Text(name), Text("" if value is None else str(value)))
        return table

    def _fill_follow_ups(self, followups: list[dict]) -> None:
        ol = self.query_one("#followups", OptionList)
        keep = ol.highlighted
        ol.clear_options()
        now, tz = self.now, self.tz
        for fu in followups:
            line = Text()
            overdue = fu["due_at"] < now
            line.append(f"{format_local(fu['due_at'], tz)}  ", style="bold red" if overdue else "bold")
            line.append(f"{due_label(fu['due_at'], now):<12} ")
            line.append(f"{fu['kind']:<8} ")
            line.append(str(fu.get("note") or ""))
            ol.add_option(FollowUpOption(line, fu))
        if not followups:
            ol.add_option(Option(Text("no open follow-up: f plans one"), disabled=True))
        elif keep is not None:
            ol.highlighted = min(keep, len(followups) - 1)
        else:
            ol.highlighted = 0

    def _timeline(self) -> Text:
        """Touches, stage moves and edits, newest first, in local time."""
        store, tz = self.app.store, self.tz
        entries: list[tuple[datetime, int, Text]] = []
        for t in store.deal_touches(self.deal_id):
            line = Text(f"{t['kind']} logged", style="bold")
            if t.get("note"):
                line.append("  ")
                line.append(str(t["note"]))
            entries.append((t["at"], 0, line))
        fus = {f["id"]: f for f in store.deal_follow_ups(self.deal_id)}
        history = store.deal_history(self.deal_id)
        # A move resets probability to the stage default; that follows from the move line.
        moves = {h["action"] for h in history if h["kind"] == "stage"}
        for h in history:
            if h["field"] == "probability" and h["action"] in moves:
                continue
            line = self._history_line(h, fus)
            if line is not None:
                entries.append((h["at"], h["id"], line))
        entries.sort(key=lambda e: (e[0], e[1]), reverse=True)
        out = Text()
        for at, _, line in entries[:TIMELINE_LIMIT]:
            out.append(f"{format_local(at, tz)}  ", style="dim")
            out.append_text(line)
            out.append("\n")
        if len(entries) > TIMELINE_LIMIT:
            out.append(f"… {len(entries) - TIMELINE_LIMIT} older entries not shown\n", style="dim")
        if not entries:
            out.append("nothing yet", style="dim")
        return out

    def _history_line(self, h: dict, fus: dict[int, dict]) -> Text | None:
        kind, field = h["kind"], h.get("field") or ""
        undo = str(h.get("action") or "").startswith("undo:")
        line = Text("undo: " if undo else "", style="italic")
        if kind == "touch":
            return None  # shown from the touch itself (voided touches drop out)
        if kind in ("created", "imported"):
            line.append(f"{kind} in {self._stage_label(h.get('to_stage'))}", style="bold")
        elif kind == "stage":
            line.append(f"moved {self._stage_label(h.get('from_stage'))} → {self._stage_label(h.get('to_stage'))}",
                        style="bold")
        elif kind in ("won", "lost", "reopened", "deleted", "restored"):
            line.append(kind, style="bold")
        elif kind == "followup":
            parts = field.split(".")
            fu = fus.get(int(parts[1])) if len(parts) == 3 and parts[1].isdigit() else None
            what = f"{fu['kind']} " if fu else ""
            if parts[-1] == "due_at":
                new = _parse_iso(h.get("new"))
                line.append(f"{what}follow-up moved to {format_local(new, self.tz) if new else '?'}")
            else:
                status = h.get("new")
                verb = {"open": "planned", "done": "done", "canceled": "canceled"}.get(status or "", status or "")
                line.append(f"{what}follow-up {verb}")
                if status == "open" and fu:
                    line.append(f" for {format_local(fu['due_at'], self.tz)}")
        elif kind == "field":
            if field in _QUIET_FIELDS:
                return None
            line.append(f"{field}: ", style="bold")
            line.append(_shown(field, h.get("old")))
            line.append(" → ")
            line.append(_shown(field, h.get("new")))
        else:
            line.append(f"{kind} {field}")
        return line

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
        if action == "follow_up":
            return self.deal.get("status") != "lost"
        return True

    @on(OptionList.OptionHighlighted, "#followups")
    def _moved(self) -> None:
        self.refresh_bindings()

    def _customer(self) -> str:
        return str(self.deal.get("customer") or "")

    def _write(self, what: Callable[[], Any], ok: str) -> bool:
        """Run one store write; refusals become an error toast, never a crash."""
        try:
            what()
        except ValidationError as exc:
            self.notify("; ".join(f"{k}: {v}" for k, v in exc.errors.items()), severity="error", markup=False)
            return False
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return False
        self.reload()
        self.notify(ok, markup=False)
        return True

    def action_done(self) -> None:
        """Mark the highlighted follow-up done, with a note and the next follow-up."""
        opt = self.highlighted_follow_up()
        if opt is None:
            return
        fu = opt.followup
        default = default_next_follow_up(self.app.store, self.deal, now=self.now, tz=self.tz)

        def finish(draft) -> None:
            if draft is None:
                return
            self._write(lambda: self.app.store.complete_follow_up(
                opt.followup_id, now=self.app.now(), note=draft.note,
                next_due_at=draft.next_due_at, next_kind=draft.next_kind,
            ), f"done: {fu['kind']} with {self._customer()}")

        form = TouchForm(self.deal_id, self._customer(), now=self.now, tz=self.tz,
                         default_next=default, kind=fu["kind"], title="Done", ask_kind=False)
        self.app.push_screen(form, finish)

    def action_snooze(self, days: int) -> None:
        """Push the highlighted follow-up later by `days` (from now if it is overdue)."""
        opt = self.highlighted_follow_up()
        if opt is None:
            return
        now = self.now
        due = snoozed_due(opt.followup["due_at"], days, now=now, tz=self.tz)
        self._write(lambda: self.app.store.snooze_follow_up(opt.followup_id, due, now=now),
                    f"snoozed to {format_local(due, self.tz)}")

    def action_edit(self, draft: DealDraft | None = None) -> None:
        """Edit the deal's fields in a form."""
        self.app.push_screen(
            DealForm(self.app.store.stages(), now=self.now, tz=self.tz, deal=self.deal, draft=draft,
                     lang=getattr(self.app, "lang", "en")),
            self._save_edit,
        )

    def _save_edit(self, draft: DealDraft | None) -> None:
        if draft is None:
            return
        store, now = self.app.store, self.app.now()
        values = dict(draft.values)
        stage = values.pop("stage", None)  # update_deal refuses stage: that is a move
        try:
            version = draft.version
            if values:
                version = store.update_deal(self.deal_id, values, now=now, tz=self.tz,
                                            expected_version=version)["version"]
            if stage:
                moved = store.move_deal(self.deal_id, stage, now=now, expected_version=version)
                warning = lead_score_warning(moved)
                if warning:
                    self.notify(warning, severity="warning", markup=False)
        except StaleDealError:
            # Someone else saved first: keep the rep's input, on top of the fresh deal.
            self.notify("changed elsewhere — reload? Your edits are kept: save again to apply them.",
                        title="Not saved", severity="warning", markup=False)
            self.reload()
            self.action_edit(draft)
            return
        except ValidationError as exc:
            self.notify("; ".join(f"{k}: {v}" for k, v in exc.errors.items()), severity="error", markup=False)
            self.reload()
            self.action_edit(draft)
            return
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
            self.reload()
            return
        self.reload()
        self.notify(f"saved: {', '.join(sorted(draft.values))}", markup=False)

    def action_follow_up(self) -> None:
        """Plan a follow-up on this deal."""
        def finish(draft) -> None:
            if draft is not None:
                self._write(lambda: self.app.store.add_follow_up(draft, now=self.app.now()),
                            f"follow-up planned for {format_local(draft.due_at, self.tz)}")

        self.app.push_screen(FollowUpForm(self.deal_id, self._customer(), now=self.now, tz=self.tz), finish)

    def action_log(self) -> None:
        """Log a touch (call, email, ...) and plan the next follow-up."""
        default = default_next_follow_up(self.app.store, self.deal, now=self.now, tz=self.tz)

        def finish(draft) -> None:
            if draft is not None:
                self._write(lambda: self.app.store.log_touch(draft, now=self.app.now()),
                            f"logged {draft.kind} with {self._customer()}")

        self.app.push_screen(TouchForm(self.deal_id, self._customer(), now=self.now, tz=self.tz,
                                       default_next=default), finish)

    def action_help(self) -> None:
        """Every key of this screen."""
        from funnel_tui.tui.help import HelpScreen

        self.app.push_screen(HelpScreen(self.BINDINGS))

    def action_back(self) -> None:
        """Back to where you came from."""
        self.app.pop_screen()


def _parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _shown(field: str, text: str | None) -> str:
    """A history value as the rep would read it (money grouped, blanks visible)."""
    if text is None or text == "":
        return "—"
    if field == "amount":
        try:
            return format_money(int(text))
        except ValueError:
            return text
    return text
