"""The flows that change a deal, written once for Board, Deal and Today: add, edit, plan a
follow-up, log a touch, mark a follow-up done, snooze it, move the deal, mark it lost, undo.

Each flow reads as one line of thought, as braindrop's are: ask with a typed form (awaited
with `push_screen_wait`, so the screen's action runs it in a `@work` worker), write once
through the store, then tell the screen what changed (`deal_changed`); the screen only
redraws. There is one error path: `reporting_errors` turns a refusal into an error toast,
and the screen is told `REFUSED` and re-reads, because a refusal (stale deal, deal gone,
database locked) means the data may have changed under it.

What a flow reports (`Change`), the screen it runs on and the rules the flows share live in
tui/deal_change.py, re-exported here. Forms are imported inside the flows: the board imports this module at start-up, and the
forms (≈40 ms of imports) load with the first form opened.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Mapping, TypeVar

from funnel_tui.domain.dates import format_shown
from funnel_tui.domain.rules import lead_score_warning
from funnel_tui.domain.stages import StageDef
from funnel_tui.domain.undo import describe_undo as undo_title
from funnel_tui.domain.validation import TouchDraft
from funnel_tui.domain.vocab import FOLLOWUP_KIND, LOST_REASON, column_name
from funnel_tui.i18n import N_, _
from funnel_tui.store import StaleDealError
from funnel_tui.tui.context import AppContext, context_of
from funnel_tui.tui.deal_change import (  # noqa: F401 - re-exported: the names screens import
    ADD,
    DONE,
    EDIT,
    FOLLOW_UP,
    LESSON,
    LOG,
    LOSE,
    MOVE,
    REFUSED,
    SNOOZE,
    UNDO,
    Change,
    DealHost,
    default_next_follow_up,
    describe_undo,
    neighbour_stage,
    snoozed_due,
)

if TYPE_CHECKING:
    from textual.screen import Screen

R = TypeVar("R")


# --- the flows ------------------------------------------------------------------------------


class DealActions:
    """The flows, bound to the screen that runs them (its `deal_changed` redraws)."""

    def __init__(self, host: DealHost) -> None:
        self.host = host

    @property
    def ctx(self) -> AppContext:
        return context_of(self.host)  # type: ignore[arg-type]

    async def _ask(self, form: Screen[R]) -> R | None:
        """Open a form and wait for what it hands back (only from a worker). Every form here
        leads to a write: on a database that refuses writes (read-only, a full disk, damage)
        the refusal is the toast at once, before the rep types anything."""
        with self.ctx.reporting_errors() as report:
            self.ctx.store.check_writable()
        if report.error is not None:
            return None
        return await self.host.app.push_screen_wait(form)

    def _tell(self, message: str) -> None:
        self.host.app.notify(message, markup=False)

    def _changed(self, change: Change) -> bool:
        with self.ctx.reporting_errors():  # the redraw reads too: a locked database is a toast
            return self.host.deal_changed(change)
        return False

    def _write(self, action: str, before: Mapping[str, Any] | None, write: Callable[[], R],
               message: str | Callable[[R], str], *, returns_deal: bool = False) -> R | None:
        """One store write; then the screen redraws and, unless the redraw says it, a toast.
        A refusal is the error toast instead, and the screen re-reads."""
        deal_id = before["id"] if before else None
        with self.ctx.reporting_errors() as report:
            result = write()
        if report.error is not None:
            self._changed(Change(REFUSED, deal_id, before))
            return None
        after = result if returns_deal else None
        if after is not None:
            deal_id = after["id"]  # type: ignore[index]
        if not self._changed(Change(action, deal_id, before, after)):  # type: ignore[arg-type]
            self._tell(message if isinstance(message, str) else message(result))
        return result

    def _warn_lead_score(self, deal: Mapping[str, Any], stage_key: str) -> None:
        """The domain's qualification warning, after the frame that shows the move."""
        warning = lead_score_warning(stage_key, deal.get("lead_score"))
        if warning:
            self.host.call_after_refresh(self.host.app.notify, f"{deal['customer']}: {warning}",
                                         severity="warning", markup=False)

    def read_deal(self, deal_id: int) -> dict | None:
        """The deal as the store has it now; None (toast, re-read) if it is gone."""
        with self.ctx.reporting_errors():
            return self.ctx.store.get_deal(deal_id)
        self._changed(Change(REFUSED, deal_id))
        return None

    async def _touch_draft(self, deal: Mapping[str, Any], **form: Any) -> TouchDraft | None:
        """Ask what was said and the next step, offering the tier cadence's next follow-up."""
        from funnel_tui.tui.forms.touch import TouchForm

        ctx = self.ctx
        now = ctx.now()
        with ctx.reporting_errors() as report:
            default = default_next_follow_up(ctx.store, deal, now=now, tz=ctx.tz)
        if report.error is not None:
            self._changed(Change(REFUSED, deal["id"], deal))
            return None
        return await self._ask(TouchForm(deal["id"], deal["customer"], now=now, tz=ctx.tz,
                                         default_next=default, **form))

    async def add(self, stage: str | None = None) -> None:
        """A new deal, starting in `stage` (the first open stage by default)."""
        from funnel_tui.tui.forms.deal import DealForm

        ctx = self.ctx
        store = ctx.store
        pipeline = ctx.pipeline
        draft = await self._ask(DealForm(store.stages(pipeline), now=ctx.now(), tz=ctx.tz, stage=stage, lang=ctx.lang,
                                         similar=lambda name: store.similar_customers(name, limit=3)))
        if draft is None:
            return
        if draft.open_existing is not None:  # the customer is already there: open that deal
            open_deal = getattr(self.host, "open_deal", None)
            if open_deal is not None:
                open_deal(draft.open_existing)
            return
        self._write(ADD, None, lambda: store.get_deal(store.add_deal(
            draft.values, now=ctx.now(), tz=ctx.tz, follow_up=draft.follow_up, pipeline=pipeline)),
                    lambda deal: _("Added {customer}").format(customer=deal["customer"]), returns_deal=True)

    async def edit(self, deal: Mapping[str, Any]) -> None:
        """Edit the deal's fields; a new stage is a move. A save over someone else's change
        is refused, and the form comes back over the fresh deal with the rep's input kept."""
        from funnel_tui.tui.forms.deal import DealForm

        ctx, draft = self.ctx, None
        while True:
            stages = ctx.store.stages(ctx.store.stage(deal["stage"]).pipeline)
            draft = await self._ask(DealForm(stages, now=ctx.now(), tz=ctx.tz, deal=dict(deal),
                                             draft=draft, lang=ctx.lang))
            if draft is None:
                return
            values = dict(draft.values)
            stage = values.pop("stage", None)  # update_deal refuses stage: that is a move
            moved, stale = None, False
            with ctx.reporting_errors() as report:
                try:
                    version = draft.version
                    if values:
                        version = ctx.store.update_deal(deal["id"], values, now=ctx.now(), tz=ctx.tz,
                                                        expected_version=version)["version"]
                    if stage:
                        moved = ctx.store.move_deal(deal["id"], stage, now=ctx.now(), expected_version=version)
                except StaleDealError:
                    stale = True
            if stale:
                self.host.app.notify(_("changed elsewhere — reload? Your edits are kept: save again to apply them."),
                                     title=_("Not saved"), severity="warning", markup=False)
            saved = report.error is None and not stale
            self._changed(Change(EDIT if saved else REFUSED, deal["id"], deal, moved))
            if saved:
                self._tell(_("saved: {fields}").format(fields=", ".join(column_name(f) for f in sorted(draft.values))))
                if moved is not None:
                    self._warn_lead_score(moved, moved["stage"])
                return
            if not stale and not isinstance(report.error, ValueError):
                return  # the store said no for another reason: nothing of the input to keep
            fresh = self.read_deal(deal["id"])
            if fresh is None:
                return
            deal = fresh

    async def follow_up(self, deal: Mapping[str, Any]) -> None:
        """Plan a follow-up on the deal."""
        from funnel_tui.tui.forms.follow_up import FollowUpForm

        ctx = self.ctx
        draft = await self._ask(FollowUpForm(deal["id"], deal["customer"], now=ctx.now(), tz=ctx.tz))
        if draft is not None:
            self._write(FOLLOW_UP, deal, lambda: ctx.store.add_follow_up(draft, now=ctx.now()),
                        _("Follow-up planned for {customer}").format(customer=deal["customer"]))

    async def log_touch(self, deal: Mapping[str, Any], kind: str = "call", followup_id: int | None = None) -> None:
        """Log a call or visit (what was said) and plan the next step (tier cadence). From a
        Today row, `followup_id` is the row's follow-up: the touch completes it, with the note."""
        ctx = self.ctx
        draft = await self._touch_draft(deal, kind=kind)
        if draft is not None:
            if followup_id is not None:
                draft = replace(draft, completes=followup_id)
            message = _("Logged a {kind} with {customer}").format(kind=FOLLOWUP_KIND.label(draft.kind),
                                                                  customer=deal["customer"])
            if followup_id is not None:
                message = _("{logged}; its follow-up is done").format(logged=message)
            self._write(LOG, deal, lambda: ctx.store.log_touch(draft, now=ctx.now()), message)

    async def complete(self, deal: Mapping[str, Any], followup_id: int, kind: str) -> None:
        """Mark a follow-up done: what was said (a touch of its kind), then the next one."""
        ctx = self.ctx
        draft = await self._touch_draft(deal, kind=kind, title=N_("Done"), ask_kind=False)
        if draft is not None:
            self._write(DONE, deal, lambda: ctx.store.complete_follow_up(
                followup_id, now=ctx.now(), note=draft.note, next_due_at=draft.next_due_at,
                next_kind=draft.next_kind, next_note=draft.next_note,
            ), _("done: {kind} with {customer}").format(kind=FOLLOWUP_KIND.label(kind), customer=deal["customer"]))

    def snooze(self, deal: Mapping[str, Any], followup_id: int, due_at: datetime, days: int) -> None:
        """Push a follow-up `days` later (from now if it is overdue)."""
        ctx = self.ctx
        now = ctx.now()
        due = snoozed_due(due_at, days, now=now, tz=ctx.tz)
        self._write(SNOOZE, deal, lambda: ctx.store.snooze_follow_up(followup_id, due, now=now),
                    _("snoozed to {when}").format(when=format_shown(due, ctx.tz, now=now)))

    def move(self, deal: Mapping[str, Any], target: StageDef) -> None:
        """Move the deal to `target`; into Won asks first, and so does a move on while key
        actions of the deal's checklist are not ticked. Refused if the deal changed since it
        was read (its `version`).

        Called straight from a key: a move that asks nothing is written and redrawn before
        the key returns (a worker hop would cost the board ≈15 ms per move); the question
        runs in a worker of the screen, awaiting the dialog."""
        question = self._move_question(deal, target)
        if question:
            self.host.run_worker(self._move_once_confirmed(deal, target, question))
        else:
            self._move(deal, target)

    def _move_question(self, deal: Mapping[str, Any], target: StageDef) -> str | None:
        """What to ask before the move, if anything: unticked key actions on a move on (once
        the deal's checklist in this stage is in use: a rep who ticks nothing is never
        asked), and the win."""
        ctx = self.ctx
        lines = []
        with ctx.reporting_errors():
            here = ctx.store.stage(deal["stage"])
            # A card knows its ticks (`ticked`): no read unless some are there.
            in_use = deal.get("ticked", 1) and ctx.store.ticks(deal["id"], here.key)
            if deal.get("status") == "open" and target.position > here.position and in_use:
                missing = ctx.store.unticked_actions(deal, ctx.lang)
                if missing:
                    lines.append(_("key actions not done: {items}").format(items="; ".join(missing)))
        if target.kind == "won" and deal.get("status") == "open":
            lines.append(_("Mark {customer} as won ({stage})?").format(customer=deal["customer"],
                                                                       stage=target.label(ctx.lang)))
        elif lines:
            lines[-1] += _("; move anyway?")
        return "\n".join(lines) or None

    async def _move_once_confirmed(self, deal: Mapping[str, Any], target: StageDef, question: str) -> None:
        from funnel_tui.tui.forms.confirm import ConfirmDialog
        from funnel_tui.tui.forms.lesson import WinDialog

        # The win's question offers the lesson of the win (经验), written with it.
        dialog = WinDialog(question) if target.kind == "won" and deal.get("status") == "open" \
            else ConfirmDialog(question)
        if await self._ask(dialog):
            self._move(deal, target, lesson=getattr(dialog, "lesson", "") or None)

    def _move(self, deal: Mapping[str, Any], target: StageDef, *, lesson: str | None = None) -> None:
        ctx = self.ctx
        label = target.label(ctx.lang)
        moved = self._write(MOVE, deal, lambda: ctx.store.move_deal(
            deal["id"], target.key, now=ctx.now(), expected_version=deal.get("version"), lesson=lesson,
        ), f"{deal['customer']} → {label}", returns_deal=True)
        if moved is not None:
            self._warn_lead_score(deal, target.key)

    async def lose(self, deal: Mapping[str, Any]) -> None:
        """Mark the deal lost, with a reason (it keeps its stage)."""
        from funnel_tui.tui.forms.lose import LoseForm

        ctx = self.ctx
        form = LoseForm(deal["customer"])
        reason = await self._ask(form)
        if reason:
            lesson = form.lesson or None  # what the loss taught (教训), written with it
            self._write(LOSE, deal, lambda: ctx.store.lose_deal(deal["id"], reason, now=ctx.now(), lesson=lesson),
                        _("{customer}: lost ({reason})").format(customer=deal["customer"],
                                                                reason=LOST_REASON.label_text(reason)),
                        returns_deal=True)

    async def purge(self, deal: Mapping[str, Any], *, remove: bool) -> None:
        """The purge queue's keep (a note logged as a touch: the clock restarts) or remove (lost,
        reason purged, with the note)."""
        from funnel_tui.tui.forms.purge_note import PurgeNoteForm

        ctx = self.ctx
        note = await self._ask(PurgeNoteForm(deal["customer"], remove=remove))
        if not note:
            return
        if remove:
            self._write(LOSE, deal, lambda: ctx.store.purge_remove(deal["id"], note, now=ctx.now(), tz=ctx.tz),
                        _("{customer}: removed (lost: purged)").format(customer=deal["customer"]),
                        returns_deal=True)
        else:
            self._write(LOG, deal, lambda: ctx.store.purge_keep(deal["id"], note, now=ctx.now(), tz=ctx.tz),
                        _("{customer}: kept; the note is logged").format(customer=deal["customer"]))

    async def lesson(self, deal: Mapping[str, Any]) -> None:
        """Write or change the lesson of a won or lost deal (复盘); shared with the team."""
        from funnel_tui.tui.forms.lesson import LessonForm

        ctx = self.ctx
        with ctx.reporting_errors() as report:
            old = ctx.store.lesson(deal["id"])
        if report.error is not None:
            return
        text = await self._ask(LessonForm(deal["customer"], deal.get("status") or "", old["text"] if old else ""))
        if text:
            self._write(LESSON, deal, lambda: ctx.store.set_lesson(deal["id"], text, now=ctx.now()),
                        _("{customer}: lesson kept").format(customer=deal["customer"]))

    def undo(self) -> None:
        """Undo the last change (any deal); the toast says what was reverted."""
        ctx = self.ctx
        with ctx.reporting_errors() as report:
            result = ctx.store.undo(now=ctx.now())
        if report.error is not None:
            self._changed(Change(REFUSED))
        elif result is None:
            self.host.app.notify(_("Nothing to undo"), timeout=3)
        else:
            self._changed(Change(UNDO))
            # The title names what was taken back (action, deal, fields: domain.undo, as
            # `funnel undo` says it); the message what changed back.
            labels = {s.key: s.label(ctx.lang) for s in ctx.store.stages()}
            self.host.app.notify(describe_undo(ctx.store, result, ctx.lang), markup=False,
                                 title=undo_title(result, lambda key: labels.get(key, key)))
