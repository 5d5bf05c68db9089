"""A deal drawn as a few lines of Rich Text for a board column (no widget per deal).

Everything the rep typed goes into `Text(...)` as plain text, so a customer called
`Acme [/]` or `[@click=app.quit]x` is shown as written and does nothing. Colours come
from the current theme (passed in as `CardColours`), so every theme works.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from rich.text import Text

from funnel_tui.domain.dates import humanize_delta
from funnel_tui.domain.money import format_compact
from funnel_tui.domain.rules import dwell
from funnel_tui.domain.text import truncate_to_width
from funnel_tui.tui.i18n import tr


@dataclass(frozen=True, slots=True)
class CardColours:
    """Theme colours for badges (hex strings from the app's current theme)."""

    error: str = "red"
    warning: str = "yellow"
    success: str = "green"
    accent: str = "cyan"
    muted: str = "bright_black"


RISK_MARK = {"high": "▲high", "medium": "◆med", "low": "▽low"}


def next_step_badge(due: datetime | None, now: datetime, tz: tzinfo, lang: str = "en") -> tuple[str, str]:
    """(kind, text): kind is overdue / today / upcoming / none."""
    if due is None:
        return "none", tr(lang, "no next step")
    if due < now:
        return "overdue", f"⏰ {tr(lang, 'overdue')} {humanize_delta(now - due)}"
    local_due, local_now = due.astimezone(tz), now.astimezone(tz)
    if local_due.date() == local_now.date():
        return "today", f"◷ {tr(lang, 'today')} {local_due:%H:%M}"
    days = (local_due.date() - local_now.date()).days
    return "upcoming", f"◷ {local_due:%m-%d} (+{days}d)"


def card_text(
    deal: dict,
    *,
    width: int,
    now: datetime,
    tz: tzinfo,
    max_dwell_days: int | None,
    tier: str | None,
    colours: CardColours,
    lang: str = "en",
    progress: tuple[int, int] | None = None,
) -> Text:
    """Customer + tier, title (+ playbook progress), amount · probability · risk, next step;
    dwell when near/over. `progress` is (ticked, items) of the stage's playbook, shown right
    of the title once something is ticked (no badge on a deal nobody has started)."""
    width = max(width, 8)
    card = Text(no_wrap=True, overflow="ellipsis", end="")
    lost = deal.get("status") == "lost"
    tier_mark = f" {tier}" if tier else ""
    customer = truncate_to_width(deal["customer"], width - len(tier_mark))
    card.append(customer, style="bold strike" if lost else "bold")
    if tier_mark:
        pad = width - len(tier_mark) - Text(customer).cell_len
        card.append(" " * max(pad, 0))
        card.append(tier_mark, style=f"bold {colours.accent}" if tier == "A" else colours.muted)
    card.append("\n")
    badge = ""
    if progress and progress[0] and progress[1]:  # the playbook's progress, right of the title
        badge = f" ☑{progress[0]}/{progress[1]}"
    title = truncate_to_width(deal.get("title") or "—", max(width - len(badge), 1))
    card.append(title, style=colours.muted)
    if badge:
        card.append(" " * max(width - len(badge) - Text(title).cell_len, 0))
        card.append(badge, style=colours.success if progress[0] >= progress[1] else colours.accent)
    card.append("\n")

    money = Text(format_compact(deal.get("amount") or 0), style="bold")
    if deal.get("currency") and deal["currency"] != "CNY":
        money.append(f" {deal['currency']}", style=colours.muted)
    money.append(f" · {deal.get('probability', 0)}%")
    risk = deal.get("risk_level")
    if risk:
        money.append(" · ")
        style = {"high": colours.error, "medium": colours.warning}.get(risk, colours.muted)
        money.append(RISK_MARK.get(risk, risk), style=style)
    money.truncate(width, overflow="ellipsis")
    card.append_text(money)
    card.append("\n")

    badges = Text()
    if lost:
        badges.append(f"✗ {tr(lang, 'lost')}: ", style=colours.error)
        badges.append(truncate_to_width(deal.get("lost_reason") or "", max(width - 8, 1)))
    elif deal.get("status") == "won":
        badges.append(f"✓ {tr(lang, 'won')}", style=colours.success)
    else:
        kind, text = next_step_badge(deal.get("next_follow_up_at"), now, tz, lang)
        style = {"overdue": f"bold {colours.error}", "today": colours.warning,
                 "upcoming": colours.success, "none": f"italic {colours.warning}"}[kind]
        badges.append(text, style=style)
    badges.truncate(width, overflow="ellipsis")
    card.append_text(badges)
    entered = deal.get("stage_entered_at")
    if deal.get("status") == "open" and entered is not None:
        d = dwell(entered, now, max_dwell_days)
        if d.state != "ok":
            # A fifth line only for rotting deals, so healthy cards stay short.
            badge = Text(f"⌛ {tr(lang, d.state)} {d.whole_days}d ({tr(lang, 'max')} {d.limit})",
                         style=colours.error if d.state == "over" else colours.warning)
            badge.truncate(width, overflow="ellipsis")
            card.append("\n")
            card.append_text(badge)
    return card


__all__ = ["CardColours", "card_text", "next_step_badge"]
