"""`funnel trend`: the funnel period by period (issue 17, source document 003).

Per week (or month): each step's cohort conversion with its counts (DESIGN §3), the entries,
new deals, wins, losses, the won amount and the cycle time. JSON amounts in major units, rates
as fractions 0–1 or null, times in local ISO form — the shapes the README documents.
"""

from __future__ import annotations

import argparse
from typing import Any

from funnel_tui.cli.common import (
    CliError,
    add_command,
    add_format,
    add_pipeline_option,
    emit,
    local_tz,
    now_utc,
    open_store,
    safe,
)
from funnel_tui.cli.summary import _as_of, _console, _major, _named, _owner, _round, _table, money, ratio
from funnel_tui.i18n import _


def trend_json(t: dict[str, Any], tz) -> dict[str, Any]:
    from funnel_tui.domain.dates import iso_local

    out = {**t, "as_of": iso_local(t["as_of"], tz), "periods": []}
    for p in t["periods"]:
        out["periods"].append({
            **p,
            "start": iso_local(p["start"], tz),
            "end": iso_local(p["end"], tz),
            "won_amount": _major(p["won_amount"]),
            "avg_cycle_days": _round(p["avg_cycle_days"], 2),
            "conversion": {k: {**c, "ratio": _round(c["ratio"], 4)} for k, c in p["conversion"].items()},
        })
    return out


def trend_rows(t: dict[str, Any]) -> list[dict[str, str]]:
    """One flat line per period (the table's and the CSV's)."""
    rows = []
    for p in t["periods"]:
        row = {"period": p["label"] + ("…" if p["partial"] else ""), "new_deals": str(p["new_deals"]),
               "wins": str(p["wins"]), "losses": str(p["losses"]), "won_amount": money(p["won_amount"]),
               "cycle_days": "" if p["avg_cycle_days"] is None else f"{p['avg_cycle_days']:.1f}"}
        for st in t["steps"]:
            c = p["conversion"][st["stage"]]
            row[st["stage"]] = ratio(c["n"], c["d"], c["ratio"], c["small_sample"])
        rows.append(row)
    return rows


def cmd_trend(args: argparse.Namespace) -> int:
    from rich.text import Text

    from funnel_tui.domain.funnel import SMALL_MARK

    tz = local_tz()
    if not 1 <= args.weeks <= 520:
        raise CliError(_("weeks: give a whole number of weeks from 1 to 520, e.g. 12"))
    store = open_store(args)
    now = _as_of(args.as_of, tz) if args.as_of else now_utc()
    t = store.trend(now=now, tz=tz, owner=_owner(store, args.owner), weeks=args.weeks, by=args.by,
                    pipeline=args.pipeline)
    if args.format == "json":
        emit([], "json", [], json_value=trend_json(t, tz))
        return 0
    rows = trend_rows(t)
    if args.format == "csv":
        emit(rows, "csv", list(rows[0]) if rows else ["period"])
        return 0
    console = _console()
    t = _named({**t, "owner": store.seen_as(t["owner"])}, store)  # stage names in the rep's language
    who = _("all reps") if t["owner"] is None else t["owner"]
    console.print(Text(_("Trend — {who} — cohort conversion to the next stage, per {period}").format(
        who=safe(who), period=_("week") if args.by == "week" else _("month"))))
    # Two tables, so each fits 80 columns: the cohorts, then the flow.
    steps = [st["stage"] for st in t["steps"]]
    console.print(_table("", [_("period"), *(f"{st['name']}→" for st in t["steps"])],
                         [[r["period"], *(r[k] for k in steps)] for r in rows], right=set(range(1, len(steps) + 1))))
    flow = ["period", "new_deals", "wins", "losses", "won_amount", "cycle_days"]
    console.print(_table("", [_("period"), _("new"), _("won"), _("lost"), _("won amount"), _("cycle d")],
                         [[r[k] for k in flow] for r in rows], right=set(range(1, len(flow)))))
    console.print(Text(_("{mark} fewer than 10 deals; … the period still running. Conversion here = of the "
                         "deals that entered the stage during the period, how many have reached the next "
                         "stage since").format(mark=SMALL_MARK)))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "trend", cmd_trend, _("cohort conversion and the flow per week or month"))
    sp.add_argument("--owner", metavar=_("OWNER"),
                    help=_("one rep's deals ('me' = the rep set in settings); default: every deal"))
    sp.add_argument("--weeks", type=int, default=12, help=_("how many weeks back (default 12; with --by month: "
                                                             "the months those weeks touch)"))
    sp.add_argument("--by", choices=("week", "month"), default="week", help=_("period length (default week)"))
    sp.add_argument("--as-of", metavar=_("WHEN"), help=_("the trend as it stood at this moment"))
    add_pipeline_option(sp)
    add_format(sp)
