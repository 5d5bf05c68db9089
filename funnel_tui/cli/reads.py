"""`funnel warnings | list | show`: what the rep reads in the morning (and cron reads as
JSON); `funnel due` has its own module (due.py)."""

from __future__ import annotations

import argparse
from datetime import date, datetime

from funnel_tui.cli.common import (
    EXIT_OK,
    add_command,
    add_deal,
    add_format,
    add_pipeline_option,
    emit,
    fmt_time,
    local_tz,
    now_utc,
    open_store,
    safe,
    shown,
    stage_names,
)
from funnel_tui.domain.vocab import (
    DEAL_STATUS,
    DEAL_STATUSES,
    FOLLOWUP_KIND,
    HISTORY_KIND,
    WARNING_KIND,
    column_name,
)
from funnel_tui.i18n import _, active_lang

SHOW_HISTORY = 50  # history rows `show` prints unless asked for more (JSON says history_total)
WARNING_COLUMNS = ["deal_id", "customer", "stage", "kind", "days", "limit"]


def cmd_warnings(args: argparse.Namespace) -> int:
    store = open_store(args)
    now = now_utc()
    table = args.format == "table"
    # The table shows the worst few of each kind with the true counts; json/csv give all.
    items = store.warnings(now=now, owner=args.owner, limit=args.limit if table else None, pipeline=args.pipeline)
    if args.kind:
        items = [w for w in items if w.kind == args.kind]
    rows = [{"deal_id": w.deal_id, "customer": w.customer, "stage": w.stage, "kind": w.kind,
             "days": w.days, "limit": w.limit} for w in items]
    if not table:
        emit(rows, args.format, WARNING_COLUMNS)
        return EXIT_OK
    counts = store.warning_counts(now=now, owner=args.owner, pipeline=args.pipeline)
    if args.kind:
        counts = {args.kind: counts[args.kind]}
    stages = stage_names(store)
    for r in rows:
        r.update(kind=shown(WARNING_KIND, r["kind"]), stage=stages.get(r["stage"], r["stage"]))
    summary = " · ".join(f"{n} {shown(WARNING_KIND, kind)}" for kind, n in counts.items() if n)
    hidden = sum(counts.values()) - len(rows)
    more = (_("… and {n} more (worst {limit} of each kind shown; --format json for all)").format(
        n=hidden, limit=args.limit) if hidden else None)
    emit(rows, "table", WARNING_COLUMNS, title=_("Warnings ({summary})").format(summary=summary) if summary
         else _("Warnings"), footer=more)
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from funnel_tui.exchange.columns import CSV_COLUMNS, deal_record

    store = open_store(args)
    deals = store.list_deals(status=args.status, stage=args.stage, owner=args.owner,
                             search=args.search, limit=args.limit, pipeline=args.pipeline)
    tz = local_tz()
    if args.format == "table" and args.search and not deals:
        print(_("no deals match “{query}”: customer, title or contact, as written or in pinyin "
                "(huaxin, hxkj, 华x)").format(query=safe(args.search)))
        return EXIT_OK
    if args.format == "table":
        from funnel_tui.domain.money import format_money

        stages = stage_names(store)
        rows = [{"id": d["id"], "customer": d["customer"], "title": d["title"],
                 "stage": stages.get(d["stage"], d["stage"]), "status": shown(DEAL_STATUS, d["status"]),
                 "amount": format_money(d["amount"], d["currency"]),
                 "prob": f"{d['probability']}%", "owner": d["owner"],
                 "next": fmt_time(d["next_follow_up_at"])} for d in deals]
        emit(rows, "table", ["id", "customer", "title", "stage", "status", "amount", "prob", "owner", "next"],
             title=_("Deals ({n})").format(n=len(rows)), optional=("status", "owner", "prob", "title"))
        return EXIT_OK
    records = [deal_record(d, tz=tz, amounts_as_text=args.format == "csv") for d in deals]
    emit(records, args.format, CSV_COLUMNS)
    return EXIT_OK


def _shown_value(key: str, value, stages: dict[str, str]):
    """A `show` table cell: as exported in English; in another language the vocabulary's
    labels, stage names and times as the rep reads them."""
    from funnel_tui.domain.dates import format_day
    from funnel_tui.domain.vocab import LOST_REASON, RISK_LEVEL

    if active_lang() == "en" or value in ("", None):
        return value
    if key == "status":
        return shown(DEAL_STATUS, value)
    if key == "risk_level":
        return shown(RISK_LEVEL, value)
    if key == "lost_reason":
        return LOST_REASON.label_text(value)
    if key == "stage":
        return stages.get(value, value)
    if key == "expected_close":
        return format_day(date.fromisoformat(str(value)))
    if key.endswith("_at"):
        return _when(value)
    return value


def _when(value):
    """An ISO time from the export as a table shows it (English keeps the ISO form)."""
    if not value or active_lang() == "en":
        return value
    return fmt_time(datetime.fromisoformat(str(value)))


def cmd_show(args: argparse.Namespace) -> int:
    from funnel_tui.domain.dates import iso_local
    from funnel_tui.domain.scorecard import SCORECARD_FIELD, score_note
    from funnel_tui.exchange.columns import deal_record

    store = open_store(args)
    deal = store.get_deal(args.deal)
    tz = local_tz()  # once: reading the zone per row cost seconds on a long history

    def at(dt):
        return iso_local(dt, tz) if dt is not None else None

    # Long histories are paged: the newest --history rows (all with --history all).
    total = store.count_timeline(args.deal)
    rows = store.deal_timeline(args.deal, newest=args.history)
    history = [{"at": at(h["at"]), "kind": h["kind"], "from_stage": h["from_stage"], "to_stage": h["to_stage"],
                "field": h["field"], "old": h["old"], "new": h["new"]} for h in rows]
    followups = [{"followup_id": f["id"], "kind": f["kind"], "due_at": at(f["due_at"]), "status": f["status"],
                  "note": f["note"], "done_at": at(f["done_at"])} for f in store.deal_follow_ups(args.deal)]
    touches = [{"touch_id": t["id"], "kind": t["kind"], "at": at(t["at"]), "note": t["note"]}
               for t in store.deal_touches(args.deal)]
    rec = deal_record(deal, tz=tz, amounts_as_text=args.format != "json")
    if args.format == "json":
        emit([], "json", [], json_value={**rec, "history": history, "history_total": total,
                                         "followups": followups, "touches": touches})
        return EXIT_OK
    if args.format == "csv":
        emit([rec], "csv", list(rec))
        return EXIT_OK
    stages = stage_names(store)
    emit([{"field": column_name(k), "value": _shown_value(k, v, stages)} for k, v in rec.items() if v not in ("", None)],
         "table", ["field", "value"], title=_("Deal {id}").format(id=deal["id"]))
    emit([{**f, "due_at": fmt_time(datetime.fromisoformat(f["due_at"])), "kind": shown(FOLLOWUP_KIND, f["kind"])}
          for f in followups if f["status"] == "open"],
         "table", ["followup_id", "kind", "due_at", "note"], title=_("Open follow-ups"))
    emit([{**t, "at": _when(t["at"]), "kind": shown(FOLLOWUP_KIND, t["kind"])} for t in touches], "table",
         ["at", "kind", "note"], title=_("Touches"))
    older = total - len(history)
    more = _("… {n} older history rows not shown (--history all, or --history N for the newest N)").format(
        n=older) if older > 0 else None
    emit([{**h, "at": _when(h["at"]), "kind": shown(HISTORY_KIND, h["kind"]),
           "field": column_name(h["field"]) if h["field"] else None,
           **({"old": stages.get(h["old"], h["old"]), "new": stages.get(h["new"], h["new"])}
              if h["field"] == "stage" else {}),
           **({"old": None, "new": score_note(h["new"])} if h["field"] == SCORECARD_FIELD else {})}
          for h in history], "table", ["at", "kind", "field", "old", "new"], title=_("History"), footer=more)
    return EXIT_OK


def history_rows(value: str) -> int | None:
    """argparse type of --history: a count of rows, or all."""
    if value == "all":
        return None
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(_("{value}: give a number of rows, or all").format(value=repr(value))) from None
    if n < 0:
        raise argparse.ArgumentTypeError(_("{value}: give a number of rows, or all").format(value=repr(value)))
    return n


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "warnings", cmd_warnings,
                     _("deals past their stage's dwell limit, silent, or with no next step"))
    sp.add_argument("--owner", metavar=_("OWNER"), help=_("only this rep's deals"))
    sp.add_argument("--kind", choices=("dwell_over", "dwell_near", "silent", "no_next_step"))
    sp.add_argument("--limit", type=int, default=10, metavar=_("LIMIT"),
                    help=_("rows of each kind in the table (JSON gives all)"))
    add_pipeline_option(sp)
    add_format(sp)

    sp = add_command(sub, "list", cmd_list, _("list deals"))
    sp.add_argument("--status", choices=(*DEAL_STATUSES, "all"), default="open")
    sp.add_argument("--stage", metavar=_("STAGE"), help=_("only this stage"))
    sp.add_argument("--owner", metavar=_("OWNER"), help=_("only this rep's deals"))
    sp.add_argument("--search", metavar=_("SEARCH"),
                    help=_("customer, title or contact: as written, or in pinyin (huaxin, hxkj, 华x)"))
    sp.add_argument("--limit", type=int, metavar=_("LIMIT"), help=_("at most this many"))
    add_pipeline_option(sp)
    add_format(sp)

    sp = add_command(sub, "show", cmd_show, _("one deal: fields, follow-ups, touches, history"))
    add_deal(sp)
    sp.add_argument("--history", type=history_rows, default=SHOW_HISTORY, metavar="N|all",
                    help=_("the newest N history rows (default {n}), or all").format(n=SHOW_HISTORY))
    add_format(sp)
