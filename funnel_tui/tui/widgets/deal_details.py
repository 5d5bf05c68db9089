"""One deal drawn as Rich renderables: its fields, its timeline, a follow-up's due line.

Pure functions of what the store returned (no Textual, no database): the Deal and Today
screens read, these draw. Everything the rep typed goes into `Text(...)` as plain text.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any, Callable, Mapping, Sequence

from rich.table import Table
from rich.text import Text

from funnel_tui.domain.dates import format_day, format_shown, humanize_delta
from funnel_tui.domain.money import format_money, weighted_minor
from funnel_tui.domain.rules import dwell
from funnel_tui.domain.scorecard import SCORECARD_FIELD, explain_lines, headline, score_note
from funnel_tui.domain.stages import StageDef
from funnel_tui.domain.text import display_width, pad_to_width
from funnel_tui.domain.vocab import (
    DEAL_STATUS,
    FOLLOWUP_KIND,
    HISTORY_KIND,
    LOST_REASON,
    RISK_LEVEL,
    column_name,
)
from funnel_tui.i18n import N_, _, pgettext

TIMELINE_LIMIT = 300  # timeline entries to a page: the Deal screen's `o` shows the next page
# Columns that change as a side effect of another entry already on the timeline.
_QUIET_FIELDS = {"last_contact_at", "stage_entered_at", "closed_at", "probability_custom", "deleted_at"}

StageLabel = Callable[[str | None], str]
ItemLabel = Callable[[str, str], str]  # (stage key, item id) -> the playbook item's text


def due_label(due_at: datetime, now: datetime) -> str:
    """`overdue 2d` / `in 5h` (`逾期 2天` / `5小时后`): how far a follow-up is from now."""
    delta = due_at - now
    span = humanize_delta(delta)
    return _("overdue {span}").format(span=span) if delta < timedelta(0) else _("in {span}").format(span=span)


def due_line(due_at: datetime, kind: str, *, now: datetime, tz: tzinfo) -> Text:
    """`2026-11-24 08:00  overdue 2h   call     ` (`11月24日 周二 08:00  逾期 2小时   电话`): the start
    of a follow-up's row, padded by display width so the rows line up."""
    when = format_shown(due_at, tz, now=now)
    line = Text()
    line.append(f"{pad_to_width(when, max(16, display_width(when)))}  ",
                style="bold red" if due_at < now else "bold")
    line.append(f"{pad_to_width(due_label(due_at, now), 12)} ")
    line.append(f"{pad_to_width(FOLLOWUP_KIND.label(kind), 8)} ")
    return line


def _days(n: int) -> str:
    return pgettext("time span", "{n}d").format(n=n)


def fields_table(deal: Mapping[str, Any], stage: StageDef | None, stage_label: StageLabel, *,
                 now: datetime, tz: tzinfo, tier: str | None = None,
                 score_why: Mapping[str, Any] | None = None) -> Table:
    """Every field of the deal, two columns: name, value (money grouped, times local); `tier`:
    the open deal's tier by the tiering in force (A/B/C or by amount); `score_why`
    (store.scoring.explain) explains the lead score under it: by hand or by the scorecard, and
    the rules that give points."""
    table = Table(box=None, show_header=False, expand=True, padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(ratio=1, overflow="fold")
    money = format_money(deal["amount"] or 0, deal.get("currency") or "")
    weighted = format_money(weighted_minor(deal["amount"] or 0, deal["probability"] or 0),
                            deal.get("currency") or "")
    prob = (_("{p} %") if deal.get("probability_custom") else _("{p} % (stage default)")).format(
        p=deal["probability"])
    stay = ""
    if deal.get("stage_entered_at") and deal["status"] == "open":
        d = dwell(deal["stage_entered_at"], now, stage.max_dwell_days if stage else None)
        stay = _days(d.whole_days)
        if d.limit:
            stay = _("{days} of {limit}").format(days=stay, limit=_days(d.limit))
        if d.state != "ok":
            stay += " (" + (pgettext("dwell", "near") if d.state == "near" else pgettext("dwell", "over")) + ")"
    nxt = deal.get("next_follow_up_at")
    rows: list[tuple[str, Any]] = [
        (N_("Stage"), stage_label(deal["stage"])),
        (N_("Status"), DEAL_STATUS.label(deal["status"])),
        (N_("In stage"), stay),
        (N_("Amount"), money),
        (N_("Probability"), prob),
        (N_("Weighted"), weighted),
        (N_("Tier"), tier),
        (N_("Expected close"), format_day(deal.get("expected_close"))),
        (N_("Owner"), deal.get("owner")),
        (N_("Source"), deal.get("source")),
        (N_("Lead score"), headline(score_why) if score_why is not None else deal.get("lead_score")),
        (N_("Contact"), deal.get("contact_name")),
        (N_("Role"), deal.get("contact_role")),
        (N_("Phone"), deal.get("contact_phone")),
        (N_("Email"), deal.get("contact_email")),
        (N_("Industry"), deal.get("industry")),
        (N_("Company size"), deal.get("company_size")),
        (N_("Risk"), RISK_LEVEL.label(deal.get("risk_level"))),
        (N_("Risk note"), deal.get("risk_note")),
        (N_("Mitigation"), deal.get("mitigation")),
        (N_("Budget"), deal.get("budget")),
        (N_("Decision chain"), deal.get("decision_chain")),
        (N_("Pain points"), deal.get("pain_points")),
        (N_("Competitors"), deal.get("competitors")),
        (N_("Lost reason"), LOST_REASON.label_text(deal.get("lost_reason"))),
        (N_("Notes"), deal.get("notes")),
        (N_("Next step"), (format_shown(nxt, tz, now=now) + f"  ({due_label(nxt, now)})") if nxt else _("none")),
        (N_("Last contact"), format_shown(deal.get("last_contact_at"), tz, now=now)),
        (N_("Created"), format_shown(deal.get("created_at"), tz, now=now)),
        (N_("Stage entered"), format_shown(deal.get("stage_entered_at"), tz, now=now)),
        (N_("Closed"), format_shown(deal.get("closed_at"), tz, now=now)),
        (N_("External id"), deal.get("external_id")),
        (N_("UID"), deal.get("uid")),
        (N_("Version"), deal.get("version")),
    ]
    for name, value in rows:
        table.add_row(Text(_(name)), Text("" if value is None else str(value)))
        if name == "Lead score" and score_why is not None:
            for depth, line in explain_lines(score_why, with_headline=False):
                table.add_row(Text(""), Text("  " * depth + line, style="" if depth else "dim"))
    return table


def timeline(touches: Sequence[Mapping], followups: Sequence[Mapping], history: Sequence[Mapping],
             stage_label: StageLabel, tz: tzinfo, item_label: ItemLabel | None = None, *,
             now: datetime | None = None, limit: int = TIMELINE_LIMIT,
             unread: int = 0) -> tuple[Text, int]:
    """Touches, stage moves and edits, newest first, in local time (relative to `now`): the
    newest `limit` entries, and how many older ones are not shown (`unread`: history rows not
    even read)."""
    entries: list[tuple[datetime, int, Text]] = []
    for t in touches:
        line = Text(_("{kind} logged").format(kind=FOLLOWUP_KIND.label(t["kind"])), style="bold")
        if t.get("note"):
            line.append("  ")
            line.append(str(t["note"]))
        entries.append((t["at"], 0, line))
    fus = {f["id"]: f for f in followups}
    # A move resets probability to the stage default; that follows from the move line.
    moves = {h["action"] for h in history if h["kind"] == "stage"}
    # A score the scorecard set is said by its `scorecard` row; a score without one was typed.
    scored = {h["action"] for h in history if h["field"] == SCORECARD_FIELD}
    for h in history:
        if h["field"] == "probability" and h["action"] in moves:
            continue
        if h["field"] == "lead_score" and h["action"] in scored:
            continue
        line = history_line(h, fus, stage_label, tz, item_label, now)
        if line is not None and h["field"] == "lead_score" and not str(h.get("action") or "").startswith("undo:"):
            line.append("  " + _("(by hand)"), style="dim")
        if line is not None:
            entries.append((h["at"], h["id"], line))
    entries.sort(key=lambda e: (e[0], e[1]), reverse=True)
    out = Text()
    for at, _order, line in entries[:limit]:
        out.append(f"{format_shown(at, tz, now=now)}  ", style="dim")
        out.append_text(line)
        out.append("\n")
    older = max(len(entries) - limit, 0) + unread
    if older:
        out.append(_("… {n} older entries: o shows more").format(n=older) + "\n", style="dim")
    if not entries:
        out.append(_("nothing yet"), style="dim")
    return out, older


def history_line(h: Mapping, fus: Mapping[int, Mapping], stage_label: StageLabel, tz: tzinfo,
                 item_label: ItemLabel | None = None, now: datetime | None = None) -> Text | None:
    """One history row as the rep reads it; None for rows another entry already says."""
    kind, field = h["kind"], h.get("field") or ""
    undo = str(h.get("action") or "").startswith("undo:")
    line = Text(_("undo: ") if undo else "", style="italic")
    if kind == "touch":
        return None  # shown from the touch itself (voided touches drop out)
    if field.startswith("check:"):  # check:<stage>:<item>, "1" ticked / "0" unticked
        _prefix, stage, item = (field.split(":", 2) + ["", ""])[:3]
        text = item_label(stage, item) if item_label else item
        line.append(_("ticked: ") if h.get("new") == "1" else _("unticked: "), style="bold")
        line.append(text)
        line.append(f" ({stage_label(stage)})", style="dim")
        return line
    if field == "lesson":  # store.lessons: the lesson as JSON; the rep reads its words
        from funnel_tui.store.lessons import lesson_text

        line.append(f"{column_name(field)}: ", style="bold")
        line.append(lesson_text(h.get("new")) or "—")
        return line
    if kind == "created":
        line.append(_("created in {stage}").format(stage=stage_label(h.get("to_stage"))), style="bold")
    elif kind == "imported":
        line.append(_("imported in {stage}").format(stage=stage_label(h.get("to_stage"))), style="bold")
    elif kind == "stage":
        line.append(_("moved {from_stage} → {to_stage}").format(
            from_stage=stage_label(h.get("from_stage")), to_stage=stage_label(h.get("to_stage"))), style="bold")
    elif kind in ("won", "lost", "reopened", "deleted", "restored"):
        line.append(HISTORY_KIND.label(kind), style="bold")
    elif kind == "followup":
        parts = field.split(".")
        fu = fus.get(int(parts[1])) if len(parts) == 3 and parts[1].isdigit() else None
        subject = _("{kind} follow-up").format(kind=FOLLOWUP_KIND.label(fu["kind"])) if fu else _("follow-up")
        if parts[-1] == "due_at":
            new = _parse_iso(h.get("new"))
            when = format_shown(new, tz, now=now) if new else "?"
            line.append(_("{subject} moved to {when}").format(subject=subject, when=when))
        else:
            status = h.get("new") or ""
            if status == "open" and fu:
                text = _("{subject} planned for {when}").format(
                    subject=subject, when=format_shown(fu["due_at"], tz, now=now))
            elif status in _FOLLOW_UP_VERBS:
                text = _(_FOLLOW_UP_VERBS[status]).format(subject=subject)
            else:
                text = f"{subject} {status}"
            line.append(text)
    elif field == SCORECARD_FIELD:
        line.append(f"{column_name('lead_score')}: ", style="bold")
        line.append(_shown(field, h.get("old")))
        line.append(" → ")
        line.append(score_note(h.get("new")))
    elif kind == "field":
        if field in _QUIET_FIELDS:
            return None
        line.append(f"{column_name(field)}: ", style="bold")
        line.append(_shown(field, h.get("old")))
        line.append(" → ")
        line.append(_shown(field, h.get("new")))
    else:
        line.append(f"{kind} {field}")
    return line


_FOLLOW_UP_VERBS = {"open": N_("{subject} planned"), "done": N_("{subject} done"),
                    "canceled": N_("{subject} canceled")}


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
    if field == "risk_level":
        return RISK_LEVEL.label(text)
    if field == "lost_reason":
        return LOST_REASON.label_text(text)
    if field == "status":
        return DEAL_STATUS.label(text)
    return text
