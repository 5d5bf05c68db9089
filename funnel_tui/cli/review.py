"""`funnel review`: the weekly review — this week against last and the trailing four weeks,
the cohort conversion of each stage with its six-week trend, the bottlenecks, and the stages
deals overstayed (a split suggested). Shares the summary's helpers (cli/summary.py).
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
from funnel_tui.i18n import _, active_lang

def review_json(r: dict[str, Any], tz) -> dict[str, Any]:
    from funnel_tui.domain.dates import iso_local

    out = dict(r)
    out["week_start"] = iso_local(r["week_start"], tz)
    out["last_week_start"] = iso_local(r["last_week_start"], tz)
    out["metrics"] = []
    for m in r["metrics"]:
        if m["metric"] == "won_amount":
            m = {**m, "this_week": _major(m["this_week"]), "last_week": _major(m["last_week"]),
                 "avg_4_weeks": round(m["avg_4_weeks"] / 100, 2)}
        out["metrics"].append(m)
    out["conversion"] = [
        {**c, **{w: {**c[w], "ratio": _round(c[w]["ratio"], 4)}
                 for w in ("this_week", "last_week", "week_before") if w in c},
         **({"trend": [{**t, "ratio": _round(t["ratio"], 4)} for t in c["trend"]]} if "trend" in c else {})}
        for c in r["conversion"]
    ]
    return out


def review_rows(r: dict[str, Any]) -> list[list[str]]:
    """Metric lines: this week, last week, trailing 4-week average."""
    labels = {"new_deals": _("new deals"), "wins": _("wins"), "losses": _("losses"), "won_amount": _("won amount")}
    rows = []
    for m in r["metrics"]:
        if m["metric"] == "won_amount":
            rows.append([labels[m["metric"]], money(m["this_week"]), money(m["last_week"]),
                         money(round(m["avg_4_weeks"]))])
        else:
            rows.append([labels[m["metric"]], str(m["this_week"]), str(m["last_week"]), f"{m['avg_4_weeks']:.1f}"])
    for e in r["entries"]:
        rows.append([_("entered {stage}").format(stage=e["name"]), str(e["this_week"]), str(e["last_week"]),
                     f"{e['avg_4_weeks']:.1f}"])
    return rows


def conversion_rows(r: dict[str, Any]) -> list[list[str]]:
    from funnel_tui.domain.funnel import SMALL_SAMPLE

    out = []
    for c in r["conversion"]:
        lw, wb = c["last_week"], c["week_before"]
        out.append([c["name"], ratio(lw["n"], lw["d"], lw["ratio"], lw["d"] < SMALL_SAMPLE),
                    ratio(wb["n"], wb["d"], wb["ratio"], wb["d"] < SMALL_SAMPLE),
                    " ".join("·" if t["ratio"] is None else f"{t['ratio'] * 100:.0f}" for t in c.get("trend", ())),
                    _("BOTTLENECK") if c["bottleneck"] else ""])
    return out


def cmd_review(args: argparse.Namespace) -> int:
    from rich.text import Text

    from funnel_tui.domain.funnel import SMALL_MARK

    tz = local_tz()
    store = open_store(args)
    if not 0 < args.threshold <= 100:
        raise CliError(_("threshold: give a percentage between 1 and 100, e.g. 30"))
    now = _as_of(args.as_of, tz) if args.as_of else now_utc()
    r = store.review(now=now, tz=tz, owner=_owner(store, args.owner), threshold=args.threshold / 100,
                     pipeline=args.pipeline)
    if args.format == "json":
        emit([], "json", [], json_value=review_json(r, tz))
        return 0
    if args.format == "csv":
        rows = [{"metric": row[0], "this_week": row[1], "last_week": row[2], "avg_4_weeks": row[3]}
                for row in review_rows({**r, "metrics": review_json(r, tz)["metrics"]})]
        emit(rows, "csv", ["metric", "this_week", "last_week", "avg_4_weeks"])
        return 0
    r = _named({**r, "owner": store.seen_as(r["owner"])}, store)
    console = _console()
    who = _("all reps") if r["owner"] is None else r["owner"]
    console.print(Text(_("Weekly review — {who} — week of {week} (so far) vs {last}").format(
        who=safe(who), week=f"{r['week_start']:%Y-%m-%d}", last=f"{r['last_week_start']:%Y-%m-%d}")))
    console.print(_table(_("Flow"), ["", _("this week"), _("last week"), _("4-week avg")], review_rows(r),
                         right={1, 2, 3}))
    console.print(_table(_("Conversion to the next stage (bottleneck: below {pct} % two weeks running)").format(
        pct=f"{args.threshold:g}"), [_("stage"), _("last week"), _("week before"), _("6 weeks, %"), ""],
        conversion_rows(r), right={1, 2, 3}))
    console.print(Text(_("{mark} fewer than 10 deals; conversion here = of the deals that entered the stage "
                         "during the week, how many have reached the next stage since").format(mark=SMALL_MARK)))
    for slow in r.get("slow_stages", []):
        console.print(Text(safe(slow_stage_line(slow)), style="bold"))
    return 0


def slow_stage_line(slow: dict[str, Any]) -> str:
    """The seed's rule as a suggestion: a stage overstayed four weeks running could be split."""
    name = slow["name_zh"] if active_lang() == "zh" and slow.get("name_zh") else slow["name"]
    weeks = ", ".join(f"{w['avg_days']:.1f}" for w in reversed(slow["weeks"]))
    return _("Suggestion: deals stayed in {name} longer than its {limit} days on average, {n} weeks running "
             "({weeks} d, oldest first); consider splitting it: funnel stages split {key} --into KEY:NAME KEY:NAME"
             ).format(name=name, limit=slow["limit"], n=len(slow["weeks"]), weeks=weeks, key=slow["stage"])


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "review", cmd_review,
                     _("weekly review: this week vs last vs the 4-week average; bottlenecks"))
    sp.add_argument("--owner", metavar=_("OWNER"),
                    help=_("one rep's deals ('me' = the rep set in settings); default: every deal"))
    sp.add_argument("--threshold", type=float, default=30.0, metavar=_("PCT"),
                    help=_("flag a stage whose conversion stayed below this %% two weeks running (default 30)"))
    sp.add_argument("--as-of", metavar=_("WHEN"), help=_("review the weeks as of this moment instead of now"))
    add_pipeline_option(sp)
    add_format(sp)
