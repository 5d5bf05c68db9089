"""What the deal flows (tui/deal_actions.py) tell a screen, and the rules they share: the
`Change` a flow reports, the screen it runs on (`DealHost`), snooze and next follow-up dates,
the neighbouring stage, and the line that says what an undo reverted. Re-exported by
tui.deal_actions, the name screens import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, Sequence

from funnel_tui.domain.dates import parse_when
from funnel_tui.domain.rules import cadence
from funnel_tui.domain.stages import StageDef
from funnel_tui.domain.vocab import HISTORY_KIND, column_name
from funnel_tui.i18n import _

if TYPE_CHECKING:
    from textual.app import App


# What a flow did, as `Change.action`.
ADD, EDIT, FOLLOW_UP, LOG, DONE, SNOOZE, MOVE, LOSE, UNDO, LESSON = (
    "add", "edit", "follow_up", "log", "done", "snooze", "move", "lose", "undo", "lesson")
REFUSED = "refused"  # the store or a validator said no: nothing written, re-read


@dataclass(frozen=True, slots=True)
class Change:
    """What a flow wrote (or that it was refused): the screen redraws from it."""

    action: str
    deal_id: int | None = None
    before: Mapping[str, Any] | None = None
    """The deal as the screen had it (at least id, customer, stage)."""
    after: Mapping[str, Any] | None = None
    """The deal as the store returned it (add, edit with a move, move, lose)."""


class DealHost(Protocol):
    """A screen that runs these flows."""

    app: App

    def deal_changed(self, change: Change) -> bool:
        """Redraw after a flow; True when the redraw itself shows the change (no toast)."""
        ...

    def call_after_refresh(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> bool: ...

    def run_worker(self, work: Any) -> Any: ...


# --- rules the flows share -----------------------------------------------------------------


def snoozed_due(due_at: datetime, days: int, *, now: datetime, tz: tzinfo) -> datetime:
    """`days` later on the rep's calendar, counted from the due time or from now if overdue
    (snoozing an overdue call by a day means tomorrow, not yesterday)."""
    return parse_when(f"+{days}d", now=max(due_at, now), tz=tz)


def default_next_follow_up(store: Any, deal: Mapping[str, Any], *, now: datetime, tz: tzinfo) -> datetime | None:
    """The next touch the tier cadence asks for (A or 关键: tomorrow, 重点: three days, B or 一般: a
    week, C or 维持: a month; domain.rules.CADENCE), whichever tiering is in force, at the
    start of the working day; None for a deal that is no longer open."""
    if deal.get("status") != "open":
        return None
    tier = store.tier_cutoffs().tier_of(int(deal["amount"] or 0), int(deal["probability"] or 0), deal.get("currency"))
    day = now.astimezone(tz).date() + timedelta(days=cadence(tier).days)
    return parse_when(day.isoformat(), now=now, tz=tz)


def neighbour_stage(stages: Sequence[StageDef], key: str, step: int = 1) -> StageDef | None:
    """The stage `step` places from `key` in funnel order, or None past either end."""
    order = sorted(stages, key=lambda s: s.position)
    keys = [s.key for s in order]
    if key not in keys:
        return None
    i = keys.index(key) + step
    return order[i] if 0 <= i < len(order) else None


# --- what an undo reverted ------------------------------------------------------------------


def describe_undo(store: Any, result: dict, lang: str = "en") -> str:
    """One line saying what undo reverted, from the history rows it appended."""
    action = "undo:" + result["action"]
    parts: list[str] = []
    customer = ""
    stages = {s.key: s.label(lang) for s in store.all_stages()}
    for deal_id in result["deal_ids"][:3]:
        try:
            deal = store.get_deal(deal_id, include_deleted=True)
        except Exception:  # noqa: BLE001 - a description must never fail the undo
            continue
        customer = customer or deal["customer"]
        for row in store.deal_history(deal_id):
            if row["action"] != action:
                continue
            kind, field = row["kind"], row["field"] or ""
            if kind == "stage":
                parts.append(_("stage {from_stage} → {to_stage}").format(
                    from_stage=stages.get(row["from_stage"], row["from_stage"]),
                    to_stage=stages.get(row["to_stage"], row["to_stage"])))
            elif kind in ("reopened", "lost", "won"):
                parts.append(HISTORY_KIND.label(kind))
            elif kind == "deleted":
                parts.append(_("new deal removed"))
            elif kind == "restored":
                parts.append(_("deal restored"))
            elif field.startswith("followup."):
                parts.append(HISTORY_KIND.label("followup"))
            elif field.startswith("touch."):
                parts.append(_("touch voided"))
            elif field == "lesson":
                parts.append(column_name("lesson"))
            elif field not in ("stage_entered_at", "closed_at", "status", "probability",
                               "last_contact_at", "lost_reason", "probability_custom"):
                parts.append(column_name(field))
    parts = list(dict.fromkeys(parts)) or [_("{n} change(s)").format(n=result["rows"])]
    if customer:
        return _("Undone — {customer}: {what}").format(customer=customer, what=", ".join(parts))
    return _("Undone: {what}").format(what=", ".join(parts))
