"""`funnel warnings | list | show`: what the rep reads in the morning (and cron reads as
JSON); `funnel due` has its own module (due.py)."""

from __future__ import annotations

import argparse
from datetime import datetime

from funnel_tui.cli.common import (
    EXIT_OK,
    add_command,
    add_deal,
    add_format,
    add_pipeline_option,
    emit,
    fmt_time,
    iso,
    local_tz,
    now_utc,
    open_store,
)
from funnel_tui.domain.vocab import DEAL_STATUSES

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
    summary = " · ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    hidden = sum(counts.values()) - len(rows)
    more = f"… and {hidden} more (worst {args.limit} of each kind shown; --format json for all)" if hidden else None
    emit(rows, "table", WARNING_COLUMNS, title=f"Warnings ({summary})" if summary else "Warnings", footer=more)
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from funnel_tui.exchange.columns import CSV_COLUMNS, deal_record

    store = open_store(args)
    deals = store.list_deals(status=args.status, stage=args.stage, owner=args.owner,
                             search=args.search, limit=args.limit, pipeline=args.pipeline)
    tz = local_tz()
    if args.format == "table":
        from funnel_tui.domain.money import format_money

        rows = [{"id": d["id"], "customer": d["customer"], "title": d["title"], "stage": d["stage"],
                 "status": d["status"], "amount": format_money(d["amount"], d["currency"]),
                 "prob": f"{d['probability']}%", "owner": d["owner"],
                 "next": fmt_time(d["next_follow_up_at"])} for d in deals]
        emit(rows, "table", ["id", "customer", "title", "stage", "status", "amount", "prob", "owner", "next"],
             title=f"Deals ({len(rows)})")
        return EXIT_OK
    records = [deal_record(d, tz=tz, amounts_as_text=args.format == "csv") for d in deals]
    emit(records, args.format, CSV_COLUMNS)
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    from funnel_tui.exchange.columns import deal_record

    store = open_store(args)
    deal = store.get_deal(args.deal)
    tz = local_tz()
    history = [{"at": iso(h["at"]), "kind": h["kind"], "from_stage": h["from_stage"], "to_stage": h["to_stage"],
                "field": h["field"], "old": h["old"], "new": h["new"]} for h in store.deal_timeline(args.deal)]
    followups = [{"followup_id": f["id"], "kind": f["kind"], "due_at": iso(f["due_at"]), "status": f["status"],
                  "note": f["note"], "done_at": iso(f["done_at"])} for f in store.deal_follow_ups(args.deal)]
    touches = [{"touch_id": t["id"], "kind": t["kind"], "at": iso(t["at"]), "note": t["note"]}
               for t in store.deal_touches(args.deal)]
    rec = deal_record(deal, tz=tz, amounts_as_text=args.format != "json")
    if args.format == "json":
        emit([], "json", [], json_value={**rec, "history": history, "followups": followups, "touches": touches})
        return EXIT_OK
    if args.format == "csv":
        emit([rec], "csv", list(rec))
        return EXIT_OK
    emit([{"field": k, "value": v} for k, v in rec.items() if v not in ("", None)], "table",
         ["field", "value"], title=f"Deal {deal['id']}")
    emit([{**f, "due_at": fmt_time(datetime.fromisoformat(f["due_at"]))} for f in followups if f["status"] == "open"],
         "table", ["followup_id", "kind", "due_at", "note"], title="Open follow-ups")
    emit(touches, "table", ["at", "kind", "note"], title="Touches")
    emit(history, "table", ["at", "kind", "field", "old", "new"], title="History")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "warnings", cmd_warnings,
                     "deals past their stage's dwell limit, silent, or with no next step")
    sp.add_argument("--owner", help="only this rep's deals")
    sp.add_argument("--kind", choices=("dwell_over", "dwell_near", "silent", "no_next_step"))
    sp.add_argument("--limit", type=int, default=10, help="rows of each kind in the table (JSON gives all)")
    add_pipeline_option(sp)
    add_format(sp)

    sp = add_command(sub, "list", cmd_list, "list deals")
    sp.add_argument("--status", choices=(*DEAL_STATUSES, "all"), default="open")
    sp.add_argument("--stage", help="only this stage")
    sp.add_argument("--owner", help="only this rep's deals")
    sp.add_argument("--search", help="customer, title or contact contains this text")
    sp.add_argument("--limit", type=int, help="at most this many")
    add_pipeline_option(sp)
    add_format(sp)

    sp = add_command(sub, "show", cmd_show, "one deal: fields, follow-ups, touches, history")
    add_deal(sp)
    add_format(sp)
