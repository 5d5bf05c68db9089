"""`funnel summary`: the Monday numbers, for the rep and for the lead (`funnel review`, the
week against the weeks before, is cli/review.py; trend and forecast have their own modules too).

JSON keeps DESIGN §6's shape: amounts in major units (1054.0), rates as fractions 0–1 or
null, each rate beside its counts (`conversion_n` of `conversion_d`) and a `small_sample`
flag when fewer than 10 deals stand behind it. Tables are Rich with plain Text cells only.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any

from funnel_tui.cli import segments
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
from funnel_tui.i18n import N_, _, active_lang, pgettext

AMOUNT_KEYS = ("open_amount", "weighted_amount", "won_amount", "weighted_pipeline", "reached_amount")


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
        start = _local_midnight(text, _("as-of"), tz)
        following = datetime.combine(start.date() + timedelta(days=1), time(0), tzinfo=tz)
        return following - timedelta(microseconds=1)
    from funnel_tui.domain.dates import parse_when

    try:
        return parse_when(text, now=now_utc(), tz=tz, horizon=None)
    except ValueError as exc:
        raise CliError(_("as-of") + f": {exc}") from None


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
        if "avg_deal_size" in row:
            row["avg_deal_size"] = None if row["avg_deal_size"] is None else round(row["avg_deal_size"] / 100, 2)
        row["avg_days_in_stage"] = _round(row["avg_days_in_stage"], 2)
        for key in ("median_days_in_stage", "cycle_days_in_stage"):
            if key in row:
                row[key] = _round(row[key], 2)
        row["current_avg_dwell"] = _round(row["current_avg_dwell"], 2)
        out["stages"].append(row)
    for key in ("won_amount", "weighted_pipeline", "open_amount"):
        out[key] = _major(s[key])
        out[f"{key}_by_currency"] = _majors(s[f"{key}_by_currency"])
    out["tier_weighted"] = {k: _major(v) for k, v in s["tier_weighted"].items()}
    if "amount_tiers" in s:  # amount tiering: major units, the unrated per currency
        out["amount_tiers"] = {k: ({**v, "amount": _major(v["amount"])} if "amount" in v else
                                   {**v, "amount_by_currency": _majors(v["amount_by_currency"])})
                               for k, v in s["amount_tiers"].items()}
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
    """An amount in a summary table: grouped in English, 万/亿 in Chinese."""
    from funnel_tui.domain.money import format_compact_in, format_money

    lang = active_lang()
    return format_compact_in(minor, lang) if lang == "zh" else format_money(minor)


def amount(s: dict[str, Any], row: dict[str, Any], key: str, *, compact: bool = False) -> str:
    """An amount of the summary `s` as a rep reads it: one number when everything is in one
    currency or converts at the rep's rates (then marked ≈), else per currency."""
    from funnel_tui.domain.currency_totals import format_total, rates_of
    from funnel_tui.domain.money import format_compact_in

    lang = active_lang()
    return format_total(row[f"{key}_by_currency"], rates_of(s),
                        (lambda minor: format_compact_in(minor, lang)) if compact else money,
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
    # Widths are display widths (Rich measures cells: a Chinese character is two columns); the
    # first column keeps each name whole up to 24 columns rather than folding it mid-word.
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


def kpi_rows(s: dict[str, Any]) -> list[list[str]]:
    """Average deal size, median and mean days in the stage, the stage's part of the cycle."""
    from funnel_tui.domain.money import format_compact_in

    def d(value: float | None) -> str:
        return "—" if value is None else f"{value:.1f}"

    return [[st["name"], "—" if st["avg_deal_size"] is None else format_compact_in(round(st["avg_deal_size"]), active_lang()),
             d(st["median_days_in_stage"]), d(st["avg_days_in_stage"]), d(st["cycle_days_in_stage"])]
            for st in s["stages"]]


STAGE_COLUMNS = [N_("stage"), N_("reached"), N_("now"), N_("→ next"), N_("avg d"), N_("dwell d"), N_("open"),
                 N_("weighted")]


def render_summary(s: dict[str, Any], tz) -> None:
    from rich.text import Text

    from funnel_tui.domain.dates import format_shown
    from funnel_tui.domain.funnel import SMALL_MARK, days_label

    console = _console()
    who = _("all reps") if s["owner"] is None else s["owner"]
    console.print(Text(_("Funnel — {who} — as of {when} — {n} deals").format(
        who=safe(who), when=format_shown(s["as_of"], tz, now=now_utc()), n=s["deals"])))
    console.print(_table(_("Stages"), [_(c) for c in STAGE_COLUMNS], stage_rows(s), right={1, 2, 3, 4, 5, 6, 7}))
    if "median_days_in_stage" in s["stages"][0]:
        console.print(_table(_("Per stage"), [_("stage"), _("avg deal"), _("median d"), _("avg d"), _("cycle d")],
                             kpi_rows(s), right={1, 2, 3, 4}))
    leak = s.get("weakest_step")
    if leak:
        names = {st["key"]: st["name"] for st in s["stages"]}
        console.print(Text(_("Weakest step: {step} {rate}").format(
            step=f"{names[leak['stage']]} → {names[leak['next']]}",
            rate=ratio(leak["n"], leak["d"], leak["rate"], leak["small_sample"]))))
    totals = [
        [pgettext("summary", "won"), str(s["won"])],
        [pgettext("summary", "lost"), str(s["lost"])],
        [_("win rate"), ratio(s["win_rate_n"], s["win_rate_d"], s["win_rate"], s["win_rate_small_sample"])],
        [_("won amount"), amount(s, s, "won_amount")],
        [_("open amount"), amount(s, s, "open_amount")],
        [_("weighted pipeline"), amount(s, s, "weighted_pipeline")],
        [_("sales cycle"), days_label(s["avg_cycle_days"])],
        [_("tiers A / B / C"), " / ".join(f"{s['tiers'][t]} ({money(s['tier_weighted'][t])})" for t in "ABC")],
    ]
    if "amount_tiers" in s:  # funnel settings tiering amount
        from funnel_tui.domain.tiers import tier_label

        totals.append([_("tiers by amount"), " / ".join(
            f"{tier_label(None if t == 'unrated' else t, active_lang())} {row['deals']}"
            + (f" ({money(row['amount'])})" if "amount" in row else "")
            for t, row in s["amount_tiers"].items() if t != "unrated" or row["deals"])])
    console.print(_table(_("Totals"), ["", _("value")], totals))
    note = currency_note(s)
    if note:
        console.print(Text(note))
    if s["lost_reasons"]:
        console.print(_table(_("Lost reasons"), [_("reason"), _("deals")],
                             [[_reason(r), str(n)] for r, n in s["lost_reasons"].items()], right={1}))
    if s["by_source"]:
        console.print(_table(_("By source"), [_("source"), _("deals"), pgettext("summary", "won"), _("win rate")],
                             [[src or _("(none)"), str(v["reached_first"]), str(v["won"]),
                               ratio(v["won"], v["won"] + v["lost"], v["win_rate"], v["small_sample"])]
                              for src, v in s["by_source"].items()], right={1, 2, 3}))
    console.print(Text(_("{mark} fewer than 10 deals behind the rate; → next = reached next / reached; "
                         "avg d = completed stays, dwell d = open deals now; exact amounts: --format json")
                       .format(mark=SMALL_MARK)))


def _reason(text: str | None) -> str:
    """A lost reason in a table: a code or vocabulary word as its label in the rep's language
    (`no_decision_maker` → no decision maker / 无决策人), the rep's own words as written."""
    from funnel_tui.domain.vocab import LOST_REASON

    if not text:
        return _("(none)")
    return LOST_REASON.label_text(text)


def _named(value: Any, store) -> Any:
    """A summary or review answer for a table: each stage's `name` in the rep's language (the
    JSON and CSV keep the stored English names)."""
    if active_lang() == "en":
        return value
    labels = {st.key: st.label(active_lang()) for st in store.all_stages()}  # every pipeline's, archived too

    def named(v: Any) -> Any:
        if isinstance(v, dict):
            out = {k: named(x) for k, x in v.items()}
            key = v.get("key", v.get("stage"))
            if "name" in out and isinstance(key, str) and key in labels:
                out["name"] = labels[key]
            return out
        return [named(x) for x in v] if isinstance(v, list) else v

    return named(value)


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

    from funnel_tui.domain.dates import format_shown

    console = _console()
    if not reps:
        console.print(Text(_("No deals.")))
        return
    moment = format_shown(reps[0]["as_of"], tz, now=now_utc())
    rows = [[s["owner"] or _("(no owner)"), str(s["deals"]), str(s["won"]), str(s["lost"]),
             ratio(s["win_rate_n"], s["win_rate_d"], s["win_rate"], s["win_rate_small_sample"]),
             amount(s, s, "won_amount"), amount(s, s, "weighted_pipeline"), days_label(s["avg_cycle_days"])]
            for s in reps]
    console.print(_table(_("Per rep — as of {when}").format(when=moment),
                         [_("rep"), _("deals"), pgettext("summary", "won"), pgettext("summary", "lost"), _("win rate"),
                          _("won amount"), _("weighted"), _("cycle")],
                         rows, right=set(range(1, 8)), no_wrap={0}))
    steps = [st for st in reps[0]["stages"] if st["conversion_d"] is not None]
    rows = []
    for s in reps:
        by_key = {st["key"]: st for st in s["stages"]}
        rows.append([s["owner"] or _("(no owner)")] + [
            ratio(by_key[st["key"]]["conversion_n"], by_key[st["key"]]["conversion_d"],
                  by_key[st["key"]]["conversion_to_next"], by_key[st["key"]]["small_sample"])
            for st in steps])
    console.print(_table(_("Conversion to the next stage, per rep"), [_("rep")] + [f"{st['key'] if active_lang() == 'en' else st['name']}→" for st in steps],
                         rows, right=set(range(1, len(steps) + 1)), no_wrap={0}))
    console.print(Text(_("{mark} fewer than 10 deals behind the rate").format(mark=SMALL_MARK)))


def cmd_summary(args: argparse.Namespace) -> int:
    from funnel_tui.store.summary import DealSet

    tz = local_tz()
    store = open_store(args)
    since = _local_midnight(args.since, _("since"), tz) if args.since else None
    until = _local_midnight(args.until, _("until"), tz) if args.until else None
    if since and until and until <= since:
        raise CliError(_("until: must be after --since (the period is [since, until))"))
    as_of = _as_of(args.as_of, tz) if args.as_of else None
    deals = DealSet(owner=_owner(store, args.owner), since=since, until=until)
    if args.by:
        if as_of is not None or args.by_owner:
            raise CliError(_("by: segments are shown as of now, without --as-of or --by-owner "
                             "(--by owner is the per-rep view)"))
        return segments.run(args, store, deals, tz)
    result = store.summary(now=now_utc(), deals=deals, as_of=as_of, by_owner=args.by_owner, pipeline=args.pipeline)
    if args.kpis:  # as of now (per rep with --by-owner); they read every stay, so on request
        if as_of is not None:
            raise CliError(_("kpis: the KPIs per stage are as of now; leave out --as-of"))
        for one in (result if args.by_owner else [result]):
            kpis = store.stage_kpis(deals=replace(deals, owner=one["owner"]) if args.by_owner else deals,
                                    pipeline=args.pipeline)
            for st in one["stages"]:
                st.update(kpis[st["key"]])
    if args.by_owner:
        if args.format == "json":
            emit([], "json", [], json_value=[summary_json(s, tz) for s in result])
        elif args.format == "csv":
            rows = [owner_row(s) for s in result]
            emit(rows, "csv", list(rows[0]) if rows else ["owner"])
        else:
            render_by_owner([_named(s, store) for s in result], tz)
        return 0
    if args.format == "json":
        emit([], "json", [], json_value=summary_json(result, tz))
    elif args.format == "csv":
        rows = summary_json(result, tz)["stages"]
        emit(rows, "csv", list(rows[0]))
    else:
        render_summary(_named({**result, "owner": store.seen_as(result["owner"])}, store), tz)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "summary", cmd_summary, _("the funnel: reached, conversion, time in stage, weighted pipeline"))
    sp.add_argument("--owner", metavar=_("OWNER"),
                    help=_("one rep's deals ('me' = the rep set in settings); default: every deal"))
    sp.add_argument("--by-owner", action="store_true", help=_("one line per rep, for the team lead"))
    sp.add_argument("--since", metavar=_("DATE"), help=_("only deals created on or after this date"))
    sp.add_argument("--until", metavar=_("DATE"), help=_("only deals created before this date"))
    sp.add_argument("--as-of", metavar=_("WHEN"), help=_("the pipeline as it stood then, replayed from history "
                                                         "(a bare date means the end of that day; stages as they "
                                                         "stood then too)"))
    sp.add_argument("--kpis", action="store_true", help=_("add the KPIs per stage: average deal size, median and "
                    "mean days in the stage, the sales cycle split by stage (as of now)"))
    sp.add_argument("--by", choices=("source", "industry", "company_size", "owner", "new_vs_existing"),
                    help=_("the funnel per segment side by side, best and worst converting marked"))
    add_pipeline_option(sp)
    add_format(sp)
