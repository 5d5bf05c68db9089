"""What an undo took back, in the rep's words: "moved Acme Robotics Negotiation → Won",
"edit of 华信科技: amount, title", "import of 120 deals".

`what_was_done` reads the history rows of one action (as the store wrote them) and names the
action; `describe_undo` turns that into the one line `funnel undo` prints and the board's `u`
toasts. Pure: rows in, words out.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from funnel_tui.i18n import _, ngettext

__all__ = ["INTERNAL_FIELDS", "what_was_done", "describe_undo", "undone_text"]

# Columns that change along with what the rep did, never on their own: a move also sets the
# stage clock and the default probability, a loss the close time, a touch the last contact.
INTERNAL_FIELDS = frozenset({
    "stage", "stage_entered_at", "closed_at", "status", "last_contact_at", "probability_custom",
    "deleted_at", "lost_reason", "updated_at", "scorecard",
})


def what_was_done(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The action of these history rows (oldest first): {"what", "fields", "from_stage",
    "to_stage", "deals"}. `what` is one of add, import, move, lose, purge, reopen, delete, restore,
    done, log, follow_up, snooze, edit, stages (a change to the stages or pipelines: `fields`
    names them), tick (a playbook item ticked or unticked), scorecard (rules changed: `fields`
    names their ids), rescore (scores set by the scorecard, nothing else), lesson (a lesson written
    or changed)."""
    rows = list(rows)
    kinds = {r["kind"] for r in rows}
    deals = len({r["deal_id"] for r in rows if r["deal_id"] is not None})
    setup = [r["field"].split(":", 1)[1] for r in rows if r["deal_id"] is None and (r["field"] or "").startswith(
        ("stage:", "pipeline:"))]
    ticks = [r for r in rows if (r["field"] or "").startswith("check:")]
    fields = [r["field"] for r in rows if r["kind"] == "field" and r["field"]
              and r["field"] not in INTERNAL_FIELDS]
    moved = next((r for r in rows if r["kind"] == "stage"), None)
    followup = [r for r in rows if (r["field"] or "").startswith("followup.")]
    out: dict[str, Any] = {"fields": [], "from_stage": None, "to_stage": None, "deals": deals}
    if setup:  # a split or merge moves deals too: the stages are what the rep changed
        out.update(what="stages", fields=list(dict.fromkeys(setup)))
        return out
    if ticks:
        out.update(what="tick", fields=[r["field"].split(":", 2)[2] for r in ticks])
        return out
    rules = [r["field"].split(":", 1)[1] for r in rows if r["deal_id"] is None and (r["field"] or "").startswith(
        "scorecard:")]
    if rules:  # a change to the scorecard's rules (store.scoring)
        out.update(what="scorecard", fields=list(dict.fromkeys(rules)))
        return out
    scored = [r["deal_id"] for r in rows if r["field"] == "lead_score"]
    if rows and all(r["field"] in ("lead_score", "scorecard") for r in rows) and any(
            r["field"] == "scorecard" for r in rows) and len(scored) == len(set(scored)):
        # (a hand score cleared and the scorecard's put back is two rows on one deal: an edit)
        out.update(what="rescore")  # the scorecard scored deals, and nothing else changed
        return out
    if kinds == {"field"} and all(r["field"] == "lesson" for r in rows):
        out["what"] = "lesson"  # a lesson written on its own, after the win or the loss
        return out
    if "imported" in kinds:
        what = "import"
    elif "created" in kinds:
        what = "add"
    elif moved is not None:
        what = "move"
        out.update(from_stage=moved["from_stage"], to_stage=moved["to_stage"])
    elif "lost" in kinds:
        # A removal from the purge queue is a loss with the reason `purged` (domain.purge).
        purged = any(r["field"] == "lost_reason" and str(r["new"] or "").split(":")[0] == "purged" for r in rows)
        what = "purge" if purged else "lose"
    elif "reopened" in kinds or "won" in kinds:
        what = "reopen" if "reopened" in kinds else "move"
    elif "deleted" in kinds:
        what = "delete"
    elif "restored" in kinds:
        what = "restore"
    elif any(r["old"] == "open" and r["new"] == "done" for r in followup):
        what = "done"
    elif "touch" in kinds:
        what = "log"
    elif any(r["field"].endswith(".status") and r["new"] == "open" for r in followup):
        what = "follow_up"
    elif any(r["field"].endswith(".due_at") for r in followup):
        what = "snooze"
    else:
        what = "edit"
        out["fields"] = list(dict.fromkeys(fields))
    if what == "move":  # an edit that also moved the deal (the Deal form)
        custom = any(r["field"] == "probability_custom" for r in rows)
        # A move brings the new stage's default probability along; only a typed one is an edit.
        out["fields"] = list(dict.fromkeys(f for f in fields if f != "probability" or custom))
    out["what"] = what
    return out


def describe_undo(result: Mapping[str, Any], stage_label: Callable[[str], str] = str) -> str:
    """One line saying what undo took back (from Store.undo's result), in the active language."""
    return _("Undone: {what}").format(what=undone_text(result, stage_label))


def undone_text(result: Mapping[str, Any], stage_label: Callable[[str], str] = str) -> str:
    """What undo took back, without the "Undone:" in front ("the move of Acme (deal 3) from
    Negotiation to Won")."""
    customer = result.get("customer") or ""
    deal = ", ".join(str(d) for d in result.get("deal_ids", [])[:3])
    who = _("{customer} (deal {deal})").format(customer=customer, deal=deal) if customer else \
        _("deal {deal}").format(deal=deal)
    what = result.get("what")
    fields = ", ".join(result.get("fields") or [])
    if what == "import":
        n = int(result.get("deals") or 0)
        text = ngettext("the import of {n} deal", "the import of {n} deals", n).format(n=n)
    elif what == "add":
        text = _("the new deal {who}").format(who=who)
    elif what == "move":
        text = _("the move of {who} from {old} to {new}").format(
            who=who, old=stage_label(result.get("from_stage") or ""), new=stage_label(result.get("to_stage") or ""))
        if fields:
            text += _("; the edit of {fields}").format(fields=fields)
    elif what == "lose":
        text = _("marking {who} lost").format(who=who)
    elif what == "purge":
        n = int(result.get("deals") or 0)
        text = (ngettext("the purge of {n} deal", "the purge of {n} deals", n).format(n=n) if n > 1
                else _("removing {who} from the purge queue").format(who=who))
    elif what == "reopen":
        text = _("reopening {who}").format(who=who)
    elif what == "delete":
        text = _("deleting {who}").format(who=who)
    elif what == "restore":
        text = _("restoring {who}").format(who=who)
    elif what == "done":
        text = _("the follow-up done on {who}").format(who=who)
    elif what == "log":
        text = _("the touch logged on {who}").format(who=who)
    elif what == "follow_up":
        text = _("the follow-up planned on {who}").format(who=who)
    elif what == "snooze":
        text = _("the snooze of a follow-up on {who}").format(who=who)
    elif what == "stages":
        text = _("the change to your stages: {stages}").format(stages=fields)
    elif what == "tick":
        text = _("the checklist tick on {who}").format(who=who)
    elif what == "scorecard":
        text = _("the change to the scorecard: rules {ids}").format(ids=fields)
    elif what == "rescore":
        n = int(result.get("deals") or 0)
        text = ngettext("the scorecard's new score of {n} deal", "the scorecard's new scores of {n} deals",
                        n).format(n=n)
    elif what == "lesson":
        text = _("the lesson on {who}").format(who=who)
    elif fields:
        text = _("the edit of {who}: {fields}").format(who=who, fields=fields)
    else:
        text = _("a change to {who}").format(who=who)
    return text
