"""The Summary screen's blocks as Rich renderables: funnel bars, the stage table, totals,
tiers, lost reasons, sources, the week against last, reps side by side.

Pure functions of what `store.summary` / `store.review` answered; every cell is a Text, so
a rep, source or lost reason called `Acme [/]` shows as written. Rates resting on fewer
than 10 deals are starred. Words in the rep's language; amounts grouped in English and in
万/亿 in Chinese.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from funnel_tui.domain.currency_totals import format_total, rates_of
from funnel_tui.domain.dates_zh import format_zh
from funnel_tui.domain.funnel import SMALL_MARK, days_label, rate_label
from funnel_tui.domain.money import format_compact_in, format_money
from funnel_tui.domain.text import display_width
from funnel_tui.domain.tiers import tier_label
from funnel_tui.domain.vocab import LOST_REASON
from funnel_tui.i18n import _, active_lang, pgettext

BAR_WIDTH = 40


def amount_text(minor: int) -> str:
    """A summary amount: grouped in English (1,250,000), 万/亿 in Chinese (125万)."""
    lang = active_lang()
    return format_compact_in(minor, lang) if lang == "zh" else format_money(minor)


def _table(*columns: str, right: tuple[int, ...] = (), title: str | None = None) -> Table:
    table = Table(title=Text(title, style="bold") if title else None, title_justify="left",
                  header_style="bold", expand=False, pad_edge=False)
    for i, col in enumerate(columns):
        table.add_column(Text(col), justify="right" if i in right else "left", no_wrap=i == 0)
    return table


def localise(value: Any, labels: dict[str, str]) -> Any:
    """The summary/review answer with each stage's `name` in the rep's language."""
    if isinstance(value, dict):
        out = {k: localise(v, labels) for k, v in value.items()}
        key = value.get("key", value.get("stage"))
        if "name" in out and isinstance(key, str) and key in labels:
            out["name"] = labels[key]
        return out
    if isinstance(value, list):
        return [localise(v, labels) for v in value]
    return value


def funnel_bars(s: dict[str, Any]) -> Text:
    """Horizontal bars of reached per stage, with the conversion (n/N) between them."""
    stages = s["stages"]
    top = max((st["reached"] for st in stages), default=0)
    width = max((display_width(st["name"]) for st in stages), default=0)
    out = Text()
    for i, st in enumerate(stages):
        filled = 0 if top == 0 else round(BAR_WIDTH * st["reached"] / top)
        if st["reached"] and not filled:
            filled = 1
        out.append(st["name"] + " " * (width - display_width(st["name"])) + "  ")
        out.append("█" * filled, style="bold")
        out.append("·" * (BAR_WIDTH - filled), style="dim")
        out.append(f"  {st['reached']}\n")
        if i + 1 < len(stages) and st["conversion_d"]:
            label = rate_label(st["conversion_n"], st["conversion_d"], st["conversion_to_next"], st["small_sample"])
            out.append(" " * width + f"  ↓ {label}\n", style="italic")
    leak = s.get("weakest_step")
    if leak:
        names = {st["key"]: st["name"] for st in stages}
        out.append(_("Weakest step: "), style="bold")
        out.append(f"{names[leak['stage']]} → {names[leak['next']]}  "
                   f"{rate_label(leak['n'], leak['d'], leak['rate'], leak['small_sample'])}\n")
    return out


def money(s: dict[str, Any], row: dict[str, Any], key: str, sep: str = " + ") -> str:
    """An amount of the summary: one number (≈ when converted at the rep's rates), or one per
    currency when a currency in it has no rate (one per line with sep "\n")."""
    return format_total(row[f"{key}_by_currency"], rates_of(s), amount_text, sep=sep)


def currency_note(s: dict[str, Any]) -> Text:
    """Which rates made the totals, and which currencies stay apart ("" when one currency)."""
    out = Text()
    if s.get("converted_at"):
        rates = ", ".join(f"{code} {rate}" for code, rate in s["converted_at"].items())
        out.append(_("≈ converted to {base} at your rates: {rates}").format(base=s["currency"], rates=rates) + "\n",
                   style="italic")
    if s.get("not_converted"):
        codes = ", ".join(s["not_converted"])
        out.append(_("no rate for {codes}: those amounts are shown apart (funnel settings rate {code} …)").format(
            codes=codes, code=s["not_converted"][0]) + "\n", style="italic")
    return out


def stage_table(s: dict[str, Any]) -> Table:
    table = _table(_("Stage"), _("Reached"), _("Now"), _("→ next (n/N)"), _("Avg days"), _("Dwell now"),
                   pgettext("summary column", "Open"), _("Weighted"), right=(1, 2, 3, 4, 5, 6, 7), title=_("Stages"))
    for st in s["stages"]:
        table.add_row(
            Text(st["name"]), Text(str(st["reached"])), Text(str(st["current"])),
            Text(rate_label(st["conversion_n"], st["conversion_d"], st["conversion_to_next"], st["small_sample"])),
            Text(days_label(st["avg_days_in_stage"])), Text(days_label(st["current_avg_dwell"])),
            Text(money(s, st, "open_amount", "\n")), Text(money(s, st, "weighted_amount", "\n")),
        )
    return table


def totals_table(s: dict[str, Any]) -> Table:
    table = _table("", "", title=_("Totals"))
    table.add_row(Text(_("Won / lost")), Text(f"{s['won']} / {s['lost']}"))
    table.add_row(Text(_("Win rate")), Text(rate_label(s["win_rate_n"], s["win_rate_d"], s["win_rate"],
                                                       s["win_rate_small_sample"]) or "—"))
    table.add_row(Text(_("Won amount")), Text(money(s, s, "won_amount")))
    table.add_row(Text(_("Open pipeline")), Text(money(s, s, "open_amount")))
    table.add_row(Text(_("Weighted pipeline")), Text(money(s, s, "weighted_pipeline"), style="bold"))
    table.add_row(Text(_("Sales cycle")), Text(days_label(s["avg_cycle_days"])))
    return table


def tiers_table(s: dict[str, Any]) -> Table:
    if "amount_tiers" in s:  # amount tiering (funnel settings tiering amount): count and amount per tier
        table = _table(_("Tier"), _("Deals"), _("Amount"), right=(1, 2), title=_("Tiers (open deals)"))
        for tier, row in s["amount_tiers"].items():
            if tier != "unrated" or row["deals"]:
                table.add_row(Text(tier_label(None if tier == "unrated" else tier, active_lang())),
                              Text(str(row["deals"])), Text(amount_text(row["amount"]) if "amount" in row else " + ".join(
                                  format_money(v, c) for c, v in sorted(row["amount_by_currency"].items()))))
        return table
    table = _table(_("Tier"), _("Deals"), _("Weighted"), right=(1, 2), title=_("Tiers (open deals)"))
    for tier in "ABC":
        table.add_row(Text(tier), Text(str(s["tiers"][tier])), Text(amount_text(s["tier_weighted"][tier])))
    return table


def reasons_table(s: dict[str, Any]) -> Table:
    table = _table(_("Lost reason"), _("Deals"), right=(1,), title=_("Lost reasons"))
    for reason, n in s["lost_reasons"].items():
        table.add_row(Text(LOST_REASON.label_text(reason) or _("(none)")), Text(str(n)))
    if not s["lost_reasons"]:
        table.add_row(Text(_("none lost")), Text(""))
    return table


def sources_table(s: dict[str, Any]) -> Table:
    table = _table(_("Source"), _("Deals"), pgettext("summary column", "Won"), _("Win rate"), right=(1, 2, 3), title=_("By source"))
    for source, v in s["by_source"].items():
        table.add_row(Text(source or _("(none)")), Text(str(v["reached_first"])), Text(str(v["won"])),
                      Text(rate_label(v["won"], v["won"] + v["lost"], v["win_rate"], v["small_sample"])
                           if v["won"] + v["lost"] else "—"))
    return table


def week_table(r: dict[str, Any]) -> Table:
    start = r["week_start"]
    day = format_zh(start, start.tzinfo, with_time=False) if active_lang() == "zh" else f"{start:%a %d %b}"
    table = _table("", _("This week"), _("Last week"), _("4-week avg"), right=(1, 2, 3),
                   title=_("This week (from {day}) vs last").format(day=day))
    names = {"new_deals": _("New deals"), "wins": _("Wins"), "losses": _("Losses"), "won_amount": _("Won amount")}
    lang = active_lang()
    for m in r["metrics"]:
        if m["metric"] == "won_amount":
            cells = (format_compact_in(m["this_week"], lang), format_compact_in(m["last_week"], lang),
                     format_compact_in(round(m["avg_4_weeks"]), lang))
        else:
            cells = (str(m["this_week"]), str(m["last_week"]), f"{m['avg_4_weeks']:.1f}")
        table.add_row(Text(names[m["metric"]]), *(Text(c) for c in cells))
    for e in r["entries"]:
        table.add_row(Text(f"→ {e['name']}"), Text(str(e["this_week"])), Text(str(e["last_week"])),
                      Text(f"{e['avg_4_weeks']:.1f}"))
    return table


def bottleneck_text(r: dict[str, Any]) -> Text:
    flagged = [c for c in r["conversion"] if c["bottleneck"]]
    if not flagged:
        return Text(_("No bottleneck: no stage stayed below {pct:.0f} % two weeks running.")
                    .format(pct=r["threshold"] * 100))
    out = Text()
    for c in flagged:
        lw, wb = c["last_week"], c["week_before"]
        out.append(_("Bottleneck: "), style="bold reverse")
        out.append(" " + _("{stage} → next below {pct:.0f} % two weeks running ({n1}/{d1}, then {n2}/{d2})").format(
            stage=c["name"], pct=r["threshold"] * 100, n1=lw["n"], d1=lw["d"], n2=wb["n"], d2=wb["d"])
                   + (f" {SMALL_MARK}" if c["small_sample"] else "") + "\n")
    return out


def compare_table(reps: list[dict[str, Any]]) -> Table:
    steps = [st["key"] for st in reps[0]["stages"] if st["conversion_d"] is not None] if reps else []
    names = {st["key"]: st["name"] for st in reps[0]["stages"]} if reps else {}
    table = _table(_("Rep"), _("Deals"), pgettext("summary column", "Won"), pgettext("summary column", "Lost"), _("Win rate"), _("Won amount"), _("Weighted"),
                   _("Cycle"), *(f"{names[k]} →" for k in steps), right=tuple(range(1, 8 + len(steps))),
                   title=_("Reps side by side"))
    for s in reps:
        by_key = {st["key"]: st for st in s["stages"]}
        table.add_row(
            Text(s["owner"] or _("(no owner)")), Text(str(s["deals"])), Text(str(s["won"])), Text(str(s["lost"])),
            Text(rate_label(s["win_rate_n"], s["win_rate_d"], s["win_rate"], s["win_rate_small_sample"]) or "—"),
            Text(money(s, s, "won_amount")), Text(money(s, s, "weighted_pipeline")),
            Text(days_label(s["avg_cycle_days"])),
            *(Text(rate_label(by_key[k]["conversion_n"], by_key[k]["conversion_d"], by_key[k]["conversion_to_next"],
                              by_key[k]["small_sample"])) for k in steps),
        )
    return table


def side_by_side(*tables: Table) -> Table:
    grid = Table.grid(padding=(0, 4))
    for _each in tables:
        grid.add_column()
    grid.add_row(*tables)
    return grid
