"""One deal drawn as Rich renderables: its fields, its timeline, a follow-up's due line.

Pure functions of what the store returned (no Textual, no database): the Deal and Today
screens read, these draw. Everything the rep typed goes into `Text(...)` as plain text.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any, Callable, Mapping, Sequence

from rich.table import Table
from rich.text import Text

from funnel_tui.domain.dates import format_local, humanize_delta
from funnel_tui.domain.money import format_money, weighted_minor
from funnel_tui.domain.rules import dwell
from funnel_tui.domain.stages import StageDef
from funnel_tui.i18n import _

TIMELINE_LIMIT = 300  # newest entries shown; older history stays in `funnel show --format json`
# Columns that change as a side effect of another entry already on the timeline.
_QUIET_FIELDS = {"last_contact_at", "stage_entered_at", "closed_at", "probability_custom", "deleted_at"}

StageLabel = Callable[[str | None], str]
ItemLabel = Callable[[str, str], str]  # (stage key, item id) -> the playbook item's text


def due_label(due_at: datetime, now: datetime) -> str:
    """`overdue 2d` / `in 5h`: how far a follow-up is from now."""
    delta = due_at - now
    return f"overdue {humanize_delta(delta)}" if delta < timedelta(0) else f"in {humanize_delta(delta)}"


def due_line(due_at: datetime, kind: str, *, now: datetime, tz: tzinfo) -> Text:
    """`2026-11-24 08:00  overdue 2h   call     `: the start of a follow-up's row."""
    line = Text()
    line.append(f"{format_local(due_at, tz)}  ", style="bold red" if due_at < now else "bold")
    line.append(f"{due_label(due_at, now):<12} ")
    line.append(f"{kind:<8} ")
    return line


def fields_table(deal: Mapping[str, Any], stage: StageDef | None, stage_label: StageLabel, *,
                 now: datetime, tz: tzinfo) -> Table:
    """Every field of the deal, two columns: name, value (money grouped, times local)."""
    table = Table(box=None, show_header=False, expand=True, padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(ratio=1, overflow="fold")
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
        ("Stage", stage_label(deal["stage"])),
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


def timeline(touches: Sequence[Mapping], followups: Sequence[Mapping], history: Sequence[Mapping],
             stage_label: StageLabel, tz: tzinfo, item_label: ItemLabel | None = None) -> Text:
    """Touches, stage moves and edits, newest first, in local time."""
    entries: list[tuple[datetime, int, Text]] = []
    for t in touches:
        line = Text(f"{t['kind']} logged", style="bold")
        if t.get("note"):
            line.append("  ")
            line.append(str(t["note"]))
        entries.append((t["at"], 0, line))
    fus = {f["id"]: f for f in followups}
    # A move resets probability to the stage default; that follows from the move line.
    moves = {h["action"] for h in history if h["kind"] == "stage"}
    for h in history:
        if h["field"] == "probability" and h["action"] in moves:
            continue
        line = history_line(h, fus, stage_label, tz, item_label)
        if line is not None:
            entries.append((h["at"], h["id"], line))
    entries.sort(key=lambda e: (e[0], e[1]), reverse=True)
    out = Text()
    for at, _order, line in entries[:TIMELINE_LIMIT]:
        out.append(f"{format_local(at, tz)}  ", style="dim")
        out.append_text(line)
        out.append("\n")
    if len(entries) > TIMELINE_LIMIT:
        out.append(f"… {len(entries) - TIMELINE_LIMIT} older entries not shown\n", style="dim")
    if not entries:
        out.append("nothing yet", style="dim")
    return out


def history_line(h: Mapping, fus: Mapping[int, Mapping], stage_label: StageLabel, tz: tzinfo,
                 item_label: ItemLabel | None = None) -> Text | None:
    """One history row as the rep reads it; None for rows another entry already says."""
    kind, field = h["kind"], h.get("field") or ""
    undo = str(h.get("action") or "").startswith("undo:")
    line = Text("undo: " if undo else "", style="italic")
    if kind == "touch":
        return None  # shown from the touch itself (voided touches drop out)
    if field.startswith("check:"):  # check:<stage>:<item>, "1" ticked / "0" unticked
        _prefix, stage, item = (field.split(":", 2) + ["", ""])[:3]
        text = item_label(stage, item) if item_label else item
        line.append(_("ticked: ") if h.get("new") == "1" else _("unticked: "), style="bold")
        line.append(text)
        line.append(f" ({stage_label(stage)})", style="dim")
        return line
    if kind in ("created", "imported"):
        line.append(f"{kind} in {stage_label(h.get('to_stage'))}", style="bold")
    elif kind == "stage":
        line.append(f"moved {stage_label(h.get('from_stage'))} → {stage_label(h.get('to_stage'))}",
                    style="bold")
    elif kind in ("won", "lost", "reopened", "deleted", "restored"):
        line.append(kind, style="bold")
    elif kind == "followup":
        parts = field.split(".")
        fu = fus.get(int(parts[1])) if len(parts) == 3 and parts[1].isdigit() else None
        what = f"{fu['kind']} " if fu else ""
        if parts[-1] == "due_at":
            new = _parse_iso(h.get("new"))
            line.append(f"{what}follow-up moved to {format_local(new, tz) if new else '?'}")
        else:
            status = h.get("new")
            verb = {"open": "planned", "done": "done", "canceled": "canceled"}.get(status or "", status or "")
            line.append(f"{what}follow-up {verb}")
            if status == "open" and fu:
                line.append(f" for {format_local(fu['due_at'], tz)}")
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
