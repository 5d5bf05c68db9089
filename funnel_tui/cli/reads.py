"""`funnel due | warnings | list | show`: what the rep reads in the morning (and cron reads as JSON).

`due` keeps its exit codes for shell prompts and cron: 11 something overdue, 10 due in the
window, 0 nothing due.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from funnel_tui.cli.common import (
    add_pipeline_option,
    EXIT_DUE,
    EXIT_OK,
    EXIT_OVERDUE,
    add_command,
    add_deal,
    add_format,
    emit,
    fmt_time,
    local_tz,
    now_utc,
    open_store,
    safe,
)
from funnel_tui.domain.vocab import DEAL_STATUSES
from funnel_tui.i18n import _

DUE_TABLE_ROWS = 25  # a readable screenful; JSON and CSV always give all
SHOW_HISTORY = 50  # history rows `show` prints unless asked for more (JSON says history_total)
DUE_COLUMNS = ["followup_id", "deal_id", "customer", "title", "stage", "kind", "due_at", "bucket", "note"]
WARNING_COLUMNS = ["deal_id", "customer", "stage", "kind", "days", "limit"]


def cmd_due(args: argparse.Namespace) -> int:
    from funnel_tui.domain.dates import format_local, iso_local

    store = open_store(args)
    now = now_utc()
    tz = local_tz()  # once: local_tz() reads the zone file (0.6 s for 7k rows when called per row)
    if args.format == "table":
        # A screenful: the bucket counts come from SQL and only the shown rows are built
        # (20 ms instead of 120 ms for the 7k follow-ups due at 100k deals).
        items, counts = store.due_overview(now=now, within=args.within, owner=args.owner,
                                           limit=max(args.limit, 0), pipeline=args.pipeline)
    else:
        items = store.due(now=now, within=args.within, owner=args.owner, pipeline=args.pipeline)
        counts = {b: sum(1 for i in items if i.bucket == b) for b in ("overdue", "24h", "3d", "later")}
    total = sum(counts.values())
    rows = [
        {"followup_id": i.followup_id, "deal_id": i.deal_id, "customer": i.customer, "title": i.title,
         "stage": i.stage, "kind": i.kind, "due_at": iso_local(i.due_at, tz), "bucket": i.bucket,
         "note": i.note}
        for i in items
    ]
    code = EXIT_OVERDUE if counts["overdue"] else (EXIT_DUE if total else EXIT_OK)
    if args.format == "table":
        for r, i in zip(rows, items):
            r["due"] = format_local(i.due_at, tz)
        summary = " · ".join(f"{n} {'due in ' + b if b not in ('overdue', 'later') else b}"
                             for b, n in counts.items() if n)
        more = f"… and {total - len(rows)} more (use --format json for all)" if total > len(rows) else None
        emit(rows, "table", ["followup_id", "deal_id", "bucket", "due", "kind", "customer", "stage", "note"],
             title=f"Due ({summary})" if summary else "Due", footer=more)
    else:
        emit(rows, args.format, DUE_COLUMNS)
    if args.notify and total:
        _notify(items if args.format != "table" else store.due(now=now, within=args.within, owner=args.owner,
                                                               pipeline=args.pipeline))
    return code


def _notify(items) -> None:
    """A desktop notification where the system offers one; say so where it cannot."""
    import shutil
    import subprocess

    overdue = sum(1 for i in items if i.bucket == "overdue")
    soon = len(items) - overdue
    body = f"{overdue} overdue · {soon} due soon"
    if shutil.which("notify-send"):
        cmd = ["notify-send", "funnel: follow-ups", body]
    elif shutil.which("osascript"):
        cmd = ["osascript", "-e", f'display notification "{body}" with title "funnel: follow-ups"']
    else:
        print("notify: no desktop notifier here (needs notify-send or osascript)", file=sys.stderr)
        return
    try:
        subprocess.run(cmd, check=False, timeout=5, capture_output=True)
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"notify: could not notify ({type(exc).__name__})", file=sys.stderr)


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
    if args.format == "table" and args.search and not deals:
        print(_("no deals match “{query}”: customer, title or contact, as written or in pinyin "
                "(huaxin, hxkj, 华x)").format(query=safe(args.search)))
        return EXIT_OK
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
    from funnel_tui.domain.dates import iso_local
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
    emit([{"field": k, "value": v} for k, v in rec.items() if v not in ("", None)], "table",
         ["field", "value"], title=f"Deal {deal['id']}")
    emit([{**f, "due_at": fmt_time(datetime.fromisoformat(f["due_at"]))} for f in followups if f["status"] == "open"],
         "table", ["followup_id", "kind", "due_at", "note"], title="Open follow-ups")
    emit(touches, "table", ["at", "kind", "note"], title="Touches")
    older = total - len(history)
    more = _("… {n} older history rows not shown (--history all, or --history N for the newest N)").format(
        n=older) if older > 0 else None
    emit(history, "table", ["at", "kind", "field", "old", "new"], title="History", footer=more)
    return EXIT_OK


def history_rows(value: str) -> int | None:
    """argparse type of --history: a count of rows, or all."""
    if value == "all":
        return None
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: give a number of rows, or all") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"{value!r}: give a number of rows, or all")
    return n


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "due", cmd_due, "follow-ups overdue and due soon (exit 11 overdue, 10 due, 0 none)")
    sp.add_argument("--within", choices=("24h", "3d", "7d"), default="3d", help="how far ahead (default 3d)")
    sp.add_argument("--owner", help="only this rep's deals")
    sp.add_argument("--limit", type=int, default=DUE_TABLE_ROWS, help="rows in the table (JSON gives all)")
    sp.add_argument("--notify", action="store_true", help="also raise a desktop notification")
    add_pipeline_option(sp)
    add_format(sp)

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
    sp.add_argument("--search", help=_("customer, title or contact: as written, or in pinyin (huaxin, hxkj, 华x)"))
    sp.add_argument("--limit", type=int, help="at most this many")
    add_pipeline_option(sp)
    add_format(sp)

    sp = add_command(sub, "show", cmd_show, "one deal: fields, follow-ups, touches, history")
    add_deal(sp)
    sp.add_argument("--history", type=history_rows, default=SHOW_HISTORY, metavar="N|all",
                    help=f"the newest N history rows (default {SHOW_HISTORY}), or all")
    add_format(sp)
