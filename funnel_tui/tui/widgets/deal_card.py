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
from funnel_tui.domain.money import format_compact_in
from funnel_tui.domain.rules import dwell
from funnel_tui.domain.text import truncate_to_width
from funnel_tui.domain.vocab import DEAL_STATUS, LOST_REASON, RISK_LEVEL
from funnel_tui.domain.tiers import SHORT
from funnel_tui.i18n import _, pgettext


@dataclass(frozen=True, slots=True)
class CardColours:
    """Theme colours for badges (hex strings from the app's current theme)."""

    error: str = "red"
    warning: str = "yellow"
    success: str = "green"
    accent: str = "cyan"
    muted: str = "bright_black"


RISK_SIGN = {"high": "▲", "medium": "◆", "low": "▽"}


def risk_mark(risk: str) -> str:
    """`▲high` / `◆med` / `▽low` (`▲高` …): the card's short risk label."""
    return RISK_SIGN.get(risk, "") + RISK_LEVEL.label(risk, short=True)


def next_step_badge(due: datetime | None, now: datetime, tz: tzinfo) -> tuple[str, str]:
    """(kind, text): kind is overdue / today / upcoming / none."""
    if due is None:
        return "none", _("no next step")
    if due < now:
        return "overdue", "⏰ " + _("overdue {span}").format(span=humanize_delta(now - due))
    local_due, local_now = due.astimezone(tz), now.astimezone(tz)
    if local_due.date() == local_now.date():
        return "today", "◷ " + _("today {time}").format(time=f"{local_due:%H:%M}")
    days = (local_due.date() - local_now.date()).days
    # Translators: a next step's day on a card: 11-26 (+2d) is in two days, on 26 November.
    return "upcoming", "◷ " + pgettext("card", "{month:02d}-{day:02d} (+{days}d)").format(
        month=local_due.month, day=local_due.day, days=days)


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
    compact: bool = False,
    progress: tuple[int, int] | None = None,
) -> Text:
    """Customer + tier, title (+ playbook progress), amount · probability · risk, next step;
    dwell when near/over. `progress` is (ticked, items) of the stage's playbook, shown once
    something is ticked (no badge on a deal nobody has started).

    `compact` (a short screen, e.g. 80×24): three lines — customer + tier, amount ·
    probability, and the numbers of the badges (`⏰ 3d  ⌛ 22/14d`) — so more cards fit and
    nothing a rep acts on is cut; the progress goes where it fits."""
    width = max(width, 8)
    if compact:
        return compact_card_text(deal, width=width, now=now, tz=tz, max_dwell_days=max_dwell_days,
                                 tier=tier, colours=colours, lang=lang, progress=progress)
    card = Text(no_wrap=True, overflow="ellipsis", end="")
    lost = deal.get("status") == "lost"
    tier_mark = f" {tier}" if tier else ""
    customer = truncate_to_width(deal["customer"], width - Text(tier_mark).cell_len)
    card.append(customer, style="bold strike" if lost else "bold")
    if tier_mark:
        pad = width - Text(tier_mark).cell_len - Text(customer).cell_len
        card.append(" " * max(pad, 0))
        card.append(tier_mark, style=f"bold {colours.accent}" if tier in _top_marks() else colours.muted)
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

    money = Text(format_compact_in(deal.get("amount") or 0, lang), style="bold")
    if deal.get("currency") and deal["currency"] != "CNY":
        money.append(f" {deal['currency']}", style=colours.muted)
    money.append(f" · {deal.get('probability', 0)}%")
    risk = deal.get("risk_level")
    if risk:
        money.append(" · ")
        style = {"high": colours.error, "medium": colours.warning}.get(risk, colours.muted)
        money.append(risk_mark(risk), style=style)
    money.truncate(width, overflow="ellipsis")
    card.append_text(money)
    card.append("\n")

    badges = Text()
    if lost:
        badges.append(f"✗ {DEAL_STATUS.label('lost')}: ", style=colours.error)
        badges.append(truncate_to_width(LOST_REASON.label_text(deal.get("lost_reason")), max(width - 8, 1)))
    elif deal.get("status") == "won":
        badges.append(f"✓ {DEAL_STATUS.label('won')}", style=colours.success)
    else:
        kind, text = next_step_badge(deal.get("next_follow_up_at"), now, tz)
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
            words = (_("over {days}d (max {limit})") if d.state == "over"
                     else _("near {days}d (max {limit})"))
            badge = Text("⌛ " + words.format(days=d.whole_days, limit=d.limit),
                         style=colours.error if d.state == "over" else colours.warning)
            badge.truncate(width, overflow="ellipsis")
            card.append("\n")
            card.append_text(badge)
    return card


def _top_marks() -> tuple[str, ...]:
    """The marks of the top tier, highlighted: A, or 关键/key by amount."""
    return ("A", pgettext("amount tier (short)", SHORT["key"]))


def _customer_line(deal: dict, width: int, tier: str | None, colours: CardColours, lost: bool) -> Text:
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    tier_mark = f" {tier}" if tier else ""
    customer = truncate_to_width(deal["customer"], width - Text(tier_mark).cell_len)
    line.append(customer, style="bold strike" if lost else "bold")
    if tier_mark:
        line.append(" " * max(width - Text(tier_mark).cell_len - Text(customer).cell_len, 0))
        line.append(tier_mark, style=f"bold {colours.accent}" if tier in _top_marks() else colours.muted)
    return line


def compact_badges(deal: dict, *, now: datetime, tz: tzinfo, max_dwell_days: int | None,
                   colours: CardColours) -> Text:
    """The badges as numbers only: `⏰ 3d` overdue, `◷ 15:00` today, `◷ +2d` later, `◌` no
    next step, then `⌛ 22/14d` when the dwell is near or over its limit."""
    badges = Text()
    status = deal.get("status")
    if status == "lost":
        badges.append("✗", style=colours.error)
        return badges
    if status == "won":
        badges.append("✓", style=colours.success)
        return badges
    due = deal.get("next_follow_up_at")
    kind, _text = next_step_badge(due, now, tz)
    if kind == "overdue":
        badges.append(f"⏰ {humanize_delta(now - due)}", style=f"bold {colours.error}")
    elif kind == "today":
        badges.append(f"◷ {due.astimezone(tz):%H:%M}", style=colours.warning)
    elif kind == "upcoming":
        days = (due.astimezone(tz).date() - now.astimezone(tz).date()).days
        badges.append("◷ +" + pgettext("time span", "{n}d").format(n=days), style=colours.success)
    else:
        badges.append("◌", style=f"bold {colours.warning}")
    entered = deal.get("stage_entered_at")
    if entered is not None:
        d = dwell(entered, now, max_dwell_days)
        if d.state != "ok":
            # Translators: a compact dwell badge, days in stage of the stage's limit ("43/14d").
            badges.append("  ⌛ " + pgettext("dwell badge", "{days}/{limit}d").format(days=d.whole_days, limit=d.limit),
                          style=colours.error if d.state == "over" else colours.warning)
    return badges


def compact_card_text(deal: dict, *, width: int, now: datetime, tz: tzinfo, max_dwell_days: int | None,
                      tier: str | None, colours: CardColours, lang: str = "en",
                      progress: tuple[int, int] | None = None) -> Text:
    """Three lines: customer + tier; amount · probability; the badges' numbers. The playbook's
    progress (☑2/5) ends the money line, or the badges' line, where it fits."""
    card = _customer_line(deal, width, tier, colours, deal.get("status") == "lost")
    card.append("\n")
    money = Text(format_compact_in(deal.get("amount") or 0, lang), style="bold")
    if deal.get("currency") and deal["currency"] != "CNY":
        money.append(f" {deal['currency']}", style=colours.muted)
    money.append(f" · {deal.get('probability', 0)}%")
    risk = deal.get("risk_level")
    if risk:
        style = {"high": colours.error, "medium": colours.warning}.get(risk, colours.muted)
        money.append(" " + RISK_SIGN.get(risk, risk[:1]), style=style)
    badges = compact_badges(deal, now=now, tz=tz, max_dwell_days=max_dwell_days, colours=colours)
    if progress and progress[0] and progress[1]:
        mark = Text(f" ☑{progress[0]}/{progress[1]}",
                    style=colours.success if progress[0] >= progress[1] else colours.accent)
        for line in (money, badges):
            if line.cell_len + mark.cell_len <= width:
                line.append(" " * (width - line.cell_len - mark.cell_len))
                line.append_text(mark)
                break
    money.truncate(width, overflow="ellipsis")
    card.append_text(money)
    card.append("\n")
    badges.truncate(width, overflow="ellipsis")
    card.append_text(badges)
    return card


__all__ = ["CardColours", "card_text", "compact_badges", "compact_card_text", "next_step_badge", "risk_mark"]
