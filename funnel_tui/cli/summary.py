"""`funnel summary` and `funnel review`: the Monday numbers, for the rep and for the lead.

JSON keeps DESIGN §6's shape: amounts in major units (1054.0), rates as fractions 0–1 or
null, each rate beside its counts (`conversion_n` of `conversion_d`) and a `small_sample`
flag when fewer than 10 deals stand behind it. Tables are Rich with plain Text cells only.
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime, time, timedelta
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
from funnel_tui.i18n import _, active_lang

AMOUNT_KEYS = ("open_amount", "weighted_amount", "won_amount", "weighted_pipeline")


# --- shared helpers ----------------------------------------------------------------------


def _local_midnight(text: str, field: str, tz) -> datetime:
    from funnel_tui.domain.dates import parse_date

    try:
        d = parse_date(text, now=now_utc(), tz=tz, horizon=None)  # a report may look back years
    except ValueError as exc:
        raise CliError(f"{field}: {exc}") from None
    return datetime.combine(d, time(0), tzinfo=tz)


def _as_of(text: str, tz) -> datetime:
    """A bare date means the end of that day (everything that happened on it counts)."""
    if re.fullmatch(r"\s*\d{4}-\d{1,2}-\d{1,2}\s*", text):
        start = _local_midnight(text, "as-of", tz)
        following = datetime.combine(start.date() + timedelta(days=1), time(0), tzinfo=tz)
        return following - timedelta(microseconds=1)
    from funnel_tui.domain.dates import parse_when

    try:
        return parse_when(text, now=now_utc(), tz=tz, horizon=None)
    except ValueError as exc:
        raise CliError(f"as-of: {exc}") from None


def _owner(store, name: str | None) -> str | None:
    """`me` is the rep this database belongs to (setting "me"), when that is set."""
    if name is None:
        return None
    if name.strip().casefold() == "me":
        return store.get_setting("me") or name
    return name


def _major(minor: int | None) -> float | None:
    return None if minor is None else minor / 100


def _majors(by_currency: dict[str, int]) -> dict[str, float]:
    return {code: minor / 100 for code, minor in by_currency.items()}


def _round(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


def summary_json(s: dict[str, Any], tz) -> dict[str, Any]:
    """The domain summary (minor units) as DESIGN §6 JSON (major units, ISO time)."""
    from funnel_tui.domain.dates import iso_local

    out = dict(s)
    out["as_of"] = iso_local(s["as_of"], tz) if s.get("as_of") else None
    out["stages"] = []
    for st in s["stages"]:
        row = dict(st)
        for key in AMOUNT_KEYS:
            if key in row:
                row[key] = _major(row[key])
            if f"{key}_by_currency" in row:
                row[f"{key}_by_currency"] = _majors(row[f"{key}_by_currency"])
        row["conversion_to_next"] = _round(row["conversion_to_next"], 4)
        row["avg_days_in_stage"] = _round(row["avg_days_in_stage"], 2)
        row["current_avg_dwell"] = _round(row["current_avg_dwell"], 2)
        out["stages"].append(row)
    for key in ("won_amount", "weighted_pipeline", "open_amount"):
        out[key] = _major(s[key])
        out[f"{key}_by_currency"] = _majors(s[f"{key}_by_currency"])
    out["tier_weighted"] = {k: _major(v) for k, v in s["tier_weighted"].items()}
    out["win_rate"] = _round(s["win_rate"], 4)
    if s.get("weakest_step"):
        out["weakest_step"] = {**s["weakest_step"], "rate": _round(s["weakest_step"]["rate"], 4)}
    out["avg_cycle_days"] = _round(s["avg_cycle_days"], 2)
    out["by_source"] = {k: {**v, "win_rate": _round(v["win_rate"], 4)} for k, v in s["by_source"].items()}
    return out


def ratio(n: int | None, d: int | None, rate: float | None, small: bool) -> str:
    """The domain's rate label for narrow tables: "12/40 30%" and a star on a small sample."""
    from funnel_tui.domain.funnel import rate_label

    return rate_label(n, d, rate, small, narrow=True)


def money(minor: int) -> str:
    from funnel_tui.domain.money import format_money

    return format_money(minor)


def amount(s: dict[str, Any], row: dict[str, Any], key: str, *, compact: bool = False) -> str:
    """An amount of the summary `s` as a rep reads it: one number when everything is in one
    currency or converts at the rep's rates (then marked ≈), else per currency."""
    from funnel_tui.domain.currency_totals import format_total, rates_of
    from funnel_tui.domain.money import format_compact, format_money

    return format_total(row[f"{key}_by_currency"], rates_of(s), format_compact if compact else format_money,
                        sep="\n" if compact else " + ")


def currency_note(s: dict[str, Any]) -> str | None:
    """What the totals say about currencies: the rates used, the currencies left apart."""
    parts = []
    if s.get("converted_at"):
        rates = ", ".join(f"{code} {rate}" for code, rate in s["converted_at"].items())
        parts.append(_("≈ converted to {base} at your rates: {rates}").format(base=s["currency"], rates=rates))
    if s.get("not_converted"):
        codes = ", ".join(s["not_converted"])
        parts.append(_("no rate for {codes}: those amounts are shown apart (funnel settings rate {code} …)").format(
            codes=codes, code=s["not_converted"][0]))
    return "; ".join(parts) or None


def _console():
    from rich.console import Console

    return Console(markup=False, emoji=False, highlight=False)


def _table(title: str, columns: list[str], rows: list[list[str]], right: set[int] = frozenset(),
           no_wrap: set[int] = frozenset()):
    from rich import box
    from rich.table import Table
    from rich.text import Text

    # Light rules and numbers that never wrap: in 80 columns only the first column folds.
    table = Table(title=Text(title), header_style="bold", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    for i, col in enumerate(columns):
        table.add_column(Text(col), justify="right" if i in right else "left", overflow="fold",
                         no_wrap=i in no_wrap or i > 0, min_width=10 if i == 0 else None)
    for row in rows:  # a cell may hold lines of its own (amounts per currency), each cleaned
        table.add_row(*(Text("\n".join(safe(part) for part in str(c).split("\n"))) for c in row))
    return table


# --- summary -----------------------------------------------------------------------------


def stage_rows(s: dict[str, Any]) -> list[list[str]]:
    def d(value: float | None) -> str:
        return "—" if value is None else f"{value:.1f}"

    return [
        [st["name"], str(st["reached"]), str(st["current"]),
         ratio(st["conversion_n"], st["conversion_d"], st["conversion_to_next"], st["small_sample"]),
         d(st["avg_days_in_stage"]), d(st["current_avg_dwell"]),
         amount(s, st, "open_amount", compact=True), amount(s, st, "weighted_amount", compact=True)]
        for st in s["stages"]
    ]


STAGE_COLUMNS = ["stage", "reached", "now", "→ next", "avg d", "dwell d", "open", "weighted"]


def render_summary(s: dict[str, Any], tz) -> None:
    from rich.text import Text

    from funnel_tui.domain.dates import format_local
    from funnel_tui.domain.funnel import SMALL_MARK, days_label

    console = _console()
    who = "all reps" if s["owner"] is None else s["owner"]
    console.print(Text(f"Funnel — {safe(who)} — as of {format_local(s['as_of'], tz)} — {s['deals']} deals"))
    console.print(_table("Stages", STAGE_COLUMNS, stage_rows(s), right={1, 2, 3, 4, 5, 6, 7}))
    leak = s.get("weakest_step")
    if leak:
        names = {st["key"]: st["name"] for st in s["stages"]}
        console.print(Text(f"Weakest step: {names[leak['stage']]} → {names[leak['next']]} "
                           f"{ratio(leak['n'], leak['d'], leak['rate'], leak['small_sample'])}"))
    totals = [
        ["won", str(s["won"])],
        ["lost", str(s["lost"])],
        ["win rate", ratio(s["win_rate_n"], s["win_rate_d"], s["win_rate"], s["win_rate_small_sample"])],
        ["won amount", amount(s, s, "won_amount")],
        ["open amount", amount(s, s, "open_amount")],
        ["weighted pipeline", amount(s, s, "weighted_pipeline")],
        ["sales cycle", days_label(s["avg_cycle_days"])],
        ["tiers A / B / C", " / ".join(f"{s['tiers'][t]} ({money(s['tier_weighted'][t])})" for t in "ABC")],
    ]
    console.print(_table("Totals", ["", "value"], totals))
    note = currency_note(s)
    if note:
        console.print(Text(note))
    if s["lost_reasons"]:
        console.print(_table("Lost reasons", ["reason", "deals"],
                             [[r or "(none)", str(n)] for r, n in s["lost_reasons"].items()], right={1}))
    if s["by_source"]:
        console.print(_table("By source", ["source", "deals", "won", "win rate"],
                             [[src or "(none)", str(v["reached_first"]), str(v["won"]),
                               ratio(v["won"], v["won"] + v["lost"], v["win_rate"], v["small_sample"])]
                              for src, v in s["by_source"].items()], right={1, 2, 3}))
    console.print(Text(f"{SMALL_MARK} fewer than 10 deals behind the rate; → next = reached next / reached; "
                       "avg d = completed stays, dwell d = open deals now; exact amounts: --format json"))


def owner_row(s: dict[str, Any]) -> dict[str, Any]:
    """One rep's line in the lead's comparison table (and its CSV)."""
    row: dict[str, Any] = {
        "owner": s["owner"], "deals": s["deals"], "won": s["won"], "lost": s["lost"],
        "win_rate": _round(s["win_rate"], 4), "won_amount": _major(s["won_amount"]),
        "open_amount": _major(s["open_amount"]), "weighted_pipeline": _major(s["weighted_pipeline"]),
        "avg_cycle_days": _round(s["avg_cycle_days"], 2),
        "currency": s["currency"],
    }
    for key in ("won_amount", "open_amount", "weighted_pipeline"):  # apart only when they cannot add up
        if s[key] is None:
            for code, minor in s[f"{key}_by_currency"].items():
                row[f"{key}_{code}"] = _major(minor)
    for st in s["stages"]:
        if st["conversion_d"] is not None:
            row[f"{st['key']}_reached"] = st["reached"]
            row[f"{st['key']}_conversion"] = _round(st["conversion_to_next"], 4)
    return row


def render_by_owner(reps: list[dict[str, Any]], tz) -> None:
    from rich.text import Text

    from funnel_tui.domain.funnel import SMALL_MARK, days_label

    console = _console()
    if not reps:
        console.print(Text("No deals."))
        return
    moment = reps[0]["as_of"].astimezone(tz)
    rows = [[s["owner"] or "(no owner)", str(s["deals"]), str(s["won"]), str(s["lost"]),
             ratio(s["win_rate_n"], s["win_rate_d"], s["win_rate"], s["win_rate_small_sample"]),
             amount(s, s, "won_amount"), amount(s, s, "weighted_pipeline"), days_label(s["avg_cycle_days"])]
            for s in reps]
    console.print(_table(f"Per rep — as of {moment:%Y-%m-%d %H:%M}",
                         ["rep", "deals", "won", "lost", "win rate", "won amount", "weighted", "cycle"],
                         rows, right=set(range(1, 8)), no_wrap={0}))
    steps = [st for st in reps[0]["stages"] if st["conversion_d"] is not None]
    rows = []
    for s in reps:
        by_key = {st["key"]: st for st in s["stages"]}
        rows.append([s["owner"] or "(no owner)"] + [
            ratio(by_key[st["key"]]["conversion_n"], by_key[st["key"]]["conversion_d"],
                  by_key[st["key"]]["conversion_to_next"], by_key[st["key"]]["small_sample"])
            for st in steps])
    console.print(_table("Conversion to the next stage, per rep", ["rep"] + [f"{st['key']}→" for st in steps],
                         rows, right=set(range(1, len(steps) + 1)), no_wrap={0}))
    console.print(Text(f"{SMALL_MARK} fewer than 10 deals behind the rate"))


def cmd_summary(args: argparse.Namespace) -> int:
    from funnel_tui.store.summary import DealSet

    tz = local_tz()
    store = open_store(args)
    since = _local_midnight(args.since, "since", tz) if args.since else None
    until = _local_midnight(args.until, "until", tz) if args.until else None
    if since and until and until <= since:
        raise CliError("until: must be after --since (the period is [since, until))")
    as_of = _as_of(args.as_of, tz) if args.as_of else None
    deals = DealSet(owner=_owner(store, args.owner), since=since, until=until)
    result = store.summary(now=now_utc(), deals=deals, as_of=as_of, by_owner=args.by_owner, pipeline=args.pipeline)
    if args.by_owner:
        if args.format == "json":
            emit([], "json", [], json_value=[summary_json(s, tz) for s in result])
        elif args.format == "csv":
            rows = [owner_row(s) for s in result]
            emit(rows, "csv", list(rows[0]) if rows else ["owner"])
        else:
            render_by_owner(result, tz)
        return 0
    if args.format == "json":
        emit([], "json", [], json_value=summary_json(result, tz))
    elif args.format == "csv":
        rows = summary_json(result, tz)["stages"]
        emit(rows, "csv", list(rows[0]))
    else:
        render_summary(result, tz)
    return 0


# --- review ------------------------------------------------------------------------------


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
                 for w in ("this_week", "last_week", "week_before") if w in c}}
        for c in r["conversion"]
    ]
    return out


def review_rows(r: dict[str, Any]) -> list[list[str]]:
    """Metric lines: this week, last week, trailing 4-week average."""
    labels = {"new_deals": "new deals", "wins": "wins", "losses": "losses", "won_amount": "won amount"}
    rows = []
    for m in r["metrics"]:
        if m["metric"] == "won_amount":
            rows.append([labels[m["metric"]], money(m["this_week"]), money(m["last_week"]),
                         money(round(m["avg_4_weeks"]))])
        else:
            rows.append([labels[m["metric"]], str(m["this_week"]), str(m["last_week"]), f"{m['avg_4_weeks']:.1f}"])
    for e in r["entries"]:
        rows.append([f"entered {e['name']}", str(e["this_week"]), str(e["last_week"]), f"{e['avg_4_weeks']:.1f}"])
    return rows


def conversion_rows(r: dict[str, Any]) -> list[list[str]]:
    from funnel_tui.domain.funnel import SMALL_SAMPLE

    out = []
    for c in r["conversion"]:
        lw, wb = c["last_week"], c["week_before"]
        out.append([c["name"], ratio(lw["n"], lw["d"], lw["ratio"], lw["d"] < SMALL_SAMPLE),
                    ratio(wb["n"], wb["d"], wb["ratio"], wb["d"] < SMALL_SAMPLE),
                    "BOTTLENECK" if c["bottleneck"] else ""])
    return out


def cmd_review(args: argparse.Namespace) -> int:
    from rich.text import Text

    from funnel_tui.domain.funnel import SMALL_MARK

    tz = local_tz()
    store = open_store(args)
    if not 0 < args.threshold <= 100:
        raise CliError("threshold: give a percentage between 1 and 100, e.g. 30")
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
    console = _console()
    who = "all reps" if r["owner"] is None else r["owner"]
    console.print(Text(f"Weekly review — {safe(who)} — week of {r['week_start']:%Y-%m-%d} (so far) "
                       f"vs {r['last_week_start']:%Y-%m-%d}"))
    console.print(_table("Flow", ["", "this week", "last week", "4-week avg"], review_rows(r), right={1, 2, 3}))
    console.print(_table(f"Conversion to the next stage (bottleneck: below {args.threshold:g} % two weeks running)",
                         ["stage", "last week", "week before", ""], conversion_rows(r), right={1, 2}))
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
    sp = add_command(sub, "summary", cmd_summary, "the funnel: reached, conversion, time in stage, weighted pipeline")
    sp.add_argument("--owner", help="one rep's deals ('me' = the rep set in settings); default: every deal")
    sp.add_argument("--by-owner", action="store_true", help="one line per rep, for the team lead")
    sp.add_argument("--since", metavar="DATE", help="only deals created on or after this date")
    sp.add_argument("--until", metavar="DATE", help="only deals created before this date")
    sp.add_argument("--as-of", metavar="WHEN", help="the pipeline as it stood then, replayed from history "
                    "(a bare date means the end of that day; stages as they stood then too)")
    add_pipeline_option(sp)
    add_format(sp)

    sp = add_command(sub, "review", cmd_review, "weekly review: this week vs last vs the 4-week average; bottlenecks")
    sp.add_argument("--owner", help="one rep's deals ('me' = the rep set in settings); default: every deal")
    sp.add_argument("--threshold", type=float, default=30.0, metavar="PCT",
                    help="flag a stage whose conversion stayed below this %% two weeks running (default 30)")
    sp.add_argument("--as-of", metavar="WHEN", help="review the weeks as of this moment instead of now")
    add_pipeline_option(sp)
    add_format(sp)
