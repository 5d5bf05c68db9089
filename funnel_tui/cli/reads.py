"""`funnel due | warnings | list | show`: what the rep reads in the morning (and cron reads as JSON).

`due` keeps its exit codes for shell prompts and cron: 11 something overdue, 10 due in the
window, 0 nothing due.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime

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
from funnel_tui.i18n import N_, NP_, _, active_lang, pgettext

DUE_TABLE_ROWS = 25  # a readable screenful; JSON and CSV always give all
# The due table's buckets as a narrow column shows them (the code itself in English).
BUCKETS_SHORT = (NP_("due bucket (short)", "overdue"), NP_("due bucket (short)", "24h"),
                 NP_("due bucket (short)", "3d"))
# The due table's title counts each bucket: "2 overdue · 3 due in 24h".
BUCKET_COUNTS = {"overdue": N_("{n} overdue"), "24h": N_("{n} due in 24h"), "3d": N_("{n} due in 3d"),
                 "later": N_("{n} later")}
SHOW_HISTORY = 50  # history rows `show` prints unless asked for more (JSON says history_total)
DUE_COLUMNS = ["followup_id", "deal_id", "customer", "title", "stage", "kind", "due_at", "bucket", "note"]
WARNING_COLUMNS = ["deal_id", "customer", "stage", "kind", "days", "limit"]


def cmd_due(args: argparse.Namespace) -> int:
    from funnel_tui.domain.dates import format_shown, iso_local

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
        stages = stage_names(store)
        for r, i in zip(rows, items):
            r.update(due=format_shown(i.due_at, tz, now=now), bucket=pgettext("due bucket (short)", i.bucket),
                     kind=shown(FOLLOWUP_KIND, i.kind), stage=stages.get(i.stage, i.stage))
        summary = " · ".join(_(BUCKET_COUNTS[b]).format(n=n) for b, n in counts.items() if n)
        more = (_("… and {n} more (use --format json for all)").format(n=total - len(rows))
                if total > len(rows) else None)
        emit(rows, "table", ["followup_id", "deal_id", "bucket", "due", "kind", "customer", "stage", "note"],
             title=_("Due ({summary})").format(summary=summary) if summary else _("Due"), footer=more,
             optional=("bucket",))  # a narrow screen: the time says overdue, the title counts the buckets
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
    body = _("{overdue} overdue · {soon} due soon").format(overdue=overdue, soon=soon)
    title = _("funnel: follow-ups")
    if shutil.which("notify-send"):
        cmd = ["notify-send", title, body]
    elif shutil.which("osascript"):
        cmd = ["osascript", "-e", f'display notification "{body}" with title "{title}"']
    else:
        print(_("notify: no desktop notifier here (needs notify-send or osascript)"), file=sys.stderr)
        return
    try:
        subprocess.run(cmd, check=False, timeout=5, capture_output=True)
    except (OSError, subprocess.SubprocessError) as exc:
        print(_("notify: could not notify ({error})").format(error=type(exc).__name__), file=sys.stderr)


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
    sp = add_command(sub, "due", cmd_due, _("follow-ups overdue and due soon (exit 11 overdue, 10 due, 0 none)"))
    sp.add_argument("--within", choices=("24h", "3d", "7d"), default="3d", help=_("how far ahead (default 3d)"))
    sp.add_argument("--owner", metavar=_("OWNER"), help=_("only this rep's deals"))
    sp.add_argument("--limit", type=int, default=DUE_TABLE_ROWS, metavar=_("LIMIT"),
                    help=_("rows in the table (JSON gives all)"))
    sp.add_argument("--notify", action="store_true", help=_("also raise a desktop notification"))
    add_pipeline_option(sp)
    add_format(sp)

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
