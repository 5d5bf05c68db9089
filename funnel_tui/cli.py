"""The `funnel` command line.

Kept light: only argparse at import; the store (SQLModel), Rich and above all Textual are
imported inside the commands that need them, so `funnel due` starts fast.

Exit codes: 0 ok; 1 a refused or failed action (one line on stderr naming the field);
2 bad usage. `funnel due` adds 10 (follow-ups due in the window, none overdue) and
11 (something overdue) so it can drive a shell prompt or a cron job.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_DUE = 10
EXIT_OVERDUE = 11
DUE_TABLE_ROWS = 25  # a readable screenful; JSON and CSV always give all


class CliError(Exception):
    """One line for the user; exit code 1."""


# --- shared plumbing --------------------------------------------------------------------


def now_utc() -> datetime:
    """The clock. FUNNEL_NOW (ISO with offset) pins it for tests, screenshots and demos."""
    pinned = os.environ.get("FUNNEL_NOW")
    if pinned:
        value = datetime.fromisoformat(pinned)
        if value.tzinfo is None:
            raise CliError("FUNNEL_NOW must carry an offset, e.g. 2026-11-24T09:00:00+08:00")
        return value.astimezone(timezone.utc)
    return datetime.now(timezone.utc)


def resolve_db(args: argparse.Namespace) -> str:
    from funnel_tui import paths

    if getattr(args, "demo", False):
        return str(paths.demo_db_path())
    if args.db:
        return args.db
    if os.environ.get("FUNNEL_DB"):
        return os.environ["FUNNEL_DB"]
    return str(paths.default_db_path())


def open_store(args: argparse.Namespace):
    from funnel_tui.store import NewerSchemaError, Store
    from funnel_tui.store.engine import redact_url

    target = resolve_db(args)
    _check_file(target)
    try:
        return Store(target)
    except NewerSchemaError as exc:
        # Readable, never written: a newer funnel-tui owns this file's format.
        print(f"funnel: {exc}; opened read-only (changes are refused)", file=sys.stderr)
        try:
            return Store(target, read_only=True)
        except Exception as exc2:  # noqa: BLE001
            raise CliError(f"cannot open database {redact_url(target)}: {type(exc2).__name__}") from None
    except Exception as exc:  # noqa: BLE001 - never print a URL with its password
        raise CliError(f"cannot open database {redact_url(target)}: {type(exc).__name__}") from None


def _check_file(target: str) -> None:
    """At start: a damaged file is moved aside (restore offered), then the automatic backup."""
    from funnel_tui.store.backup import BackupError, CorruptDatabaseError, check_at_open
    from funnel_tui.store.engine import sqlite_path

    path = sqlite_path(target)
    if path is None:
        return
    try:
        check_at_open(path, now=now_utc())
    except CorruptDatabaseError as exc:
        raise CliError(str(exc)) from None
    except (BackupError, OSError) as exc:
        print(f"funnel: warning: automatic backup failed: {safe(exc)}", file=sys.stderr)


def _tz():
    from funnel_tui.domain.dates import local_tz

    return local_tz()


def parse_when(text: str, field: str = "when") -> datetime:
    from funnel_tui.domain.dates import parse_when as _parse

    try:
        return _parse(text, now=now_utc(), tz=_tz())
    except ValueError as exc:
        raise CliError(f"{field}: {exc}") from None


def safe(text: Any) -> str:
    """Text for the terminal: no control characters, whatever is stored."""
    from funnel_tui.domain.text import clean_text

    return clean_text("" if text is None else str(text))


def emit(rows: list[dict], fmt: str, columns: Sequence[str], *, title: str | None = None,
         json_value: Any = None, footer: str | None = None) -> None:
    """Print rows as a Rich table, JSON or CSV. Cells are plain Text: never markup."""
    if fmt == "json":
        json.dump(rows if json_value is None else json_value, sys.stdout, ensure_ascii=False,
                  indent=2, default=str)
        sys.stdout.write("\n")
        return
    if fmt == "csv":
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=list(columns), extrasaction="ignore",
                                lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(markup=False, emoji=False, highlight=False)
    if not rows:
        console.print(Text(f"{title}: none" if title else "nothing to show"))
        return
    table = Table(title=Text(title) if title else None, show_lines=False, header_style="bold")
    for col in columns:
        table.add_column(Text(col), overflow="fold")
    for row in rows:
        table.add_row(*(Text(safe(row.get(c))) for c in columns))
    console.print(table)
    if footer:
        console.print(Text(footer))


def _deal_id(value: str) -> int:
    try:
        n = int(str(value).lstrip("#"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a deal id (a whole number, e.g. 42)") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a deal id (a whole number, e.g. 42)")
    return n


def _fmt_time(dt: datetime | None) -> str:
    from funnel_tui.domain.dates import format_local

    return format_local(dt, _tz())


def _iso(dt: datetime | None) -> str | None:
    from funnel_tui.domain.dates import iso_local

    return iso_local(dt, _tz()) if dt is not None else None


# --- commands ---------------------------------------------------------------------------

DEAL_OPTIONS: tuple[tuple[str, str, str], ...] = (
    # (flag, field, help)
    ("--title", "title", "what is being sold, e.g. 'CRM annual licence'"),
    ("--stage", "stage", "stage key or name (default: the first stage)"),
    ("--amount", "amount", "deal value, e.g. 12500, 12,500.50, 3万"),
    ("--currency", "currency", "three-letter code (default CNY)"),
    ("--probability", "probability", "win probability 0–100 (default: the stage's)"),
    ("--owner", "owner", "the rep who owns the deal"),
    ("--source", "source", "lead source channel, e.g. referral, website, 展会"),
    ("--industry", "industry", "the customer's industry"),
    ("--size", "company_size", "company size, e.g. 50-200"),
    ("--contact", "contact_name", "contact person"),
    ("--role", "contact_role", "the contact's decision role"),
    ("--phone", "contact_phone", "contact phone"),
    ("--email", "contact_email", "contact email"),
    ("--lead-score", "lead_score", "lead score 0–10"),
    ("--close", "expected_close", "expected close date: 2026-12-31, +30d, fri"),
    ("--risk", "risk_level", "risk level: high, medium, low (高/中/低)"),
    ("--risk-note", "risk_note", "what could go wrong"),
    ("--mitigation", "mitigation", "what you will do about it"),
    ("--budget", "budget", "the customer's budget range"),
    ("--decision-chain", "decision_chain", "who decides, who signs"),
    ("--pain", "pain_points", "the customer's core pain points"),
    ("--competitors", "competitors", "who else is in the deal"),
    ("--notes", "notes", "anything else"),
    ("--external-id", "external_id", "the deal's id in another CRM"),
)


def _deal_values(args: argparse.Namespace) -> dict[str, Any]:
    return {field: getattr(args, field) for _, field, _ in DEAL_OPTIONS if getattr(args, field) is not None}


def cmd_add(args: argparse.Namespace) -> int:
    from funnel_tui.domain.validation import FollowUpDraft

    store = open_store(args)
    now = now_utc()
    follow = parse_when(args.follow_up, "follow-up") if args.follow_up else None
    values = {"customer": args.customer, **_deal_values(args)}
    from funnel_tui.store.history import new_action

    action = new_action()  # one `funnel undo` takes back the deal and its first follow-up
    deal_id = store.add_deal(values, now=now, tz=_tz(), action=action)
    if follow is not None:
        store.add_follow_up(FollowUpDraft(deal_id, follow, args.kind or "call", ""), now=now, action=action)
    deal = store.get_deal(deal_id)
    print(f"added deal {deal_id}: {safe(deal['customer'])} in {deal['stage']}"
          + (f", follow-up {_fmt_time(follow)}" if follow else ""))
    return EXIT_OK


def cmd_edit(args: argparse.Namespace) -> int:
    values = _deal_values(args)
    if args.customer is not None:
        values["customer"] = args.customer
    values.pop("stage", None)
    if not values:
        raise CliError("edit: give at least one field to change, e.g. --amount 5000")
    store = open_store(args)
    deal = store.update_deal(args.deal, values, now=now_utc(), tz=_tz())
    print(f"updated deal {deal['id']}: {', '.join(sorted(values))}")
    return EXIT_OK


def cmd_move(args: argparse.Namespace) -> int:
    store = open_store(args)
    target = args.stage
    if target in ("next", "prev"):
        deal = store.get_deal(args.deal)
        order = [s.key for s in store.stages()]
        i = order.index(deal["stage"]) + (1 if target == "next" else -1)
        if not 0 <= i < len(order):
            raise CliError(f"stage: deal {args.deal} is already at the {'last' if target == 'next' else 'first'} stage")
        target = order[i]
    deal = store.move_deal(args.deal, target, now=now_utc())
    from funnel_tui.domain.rules import lead_score_warning

    warning = lead_score_warning(deal["stage"], deal.get("lead_score"))
    warn = f" (warning: {warning})" if warning else ""
    print(f"moved deal {deal['id']} to {deal['stage']} ({deal['status']}, {deal['probability']} %){warn}")
    return EXIT_OK


def cmd_lose(args: argparse.Namespace) -> int:
    store = open_store(args)
    deal = store.lose_deal(args.deal, " ".join(args.reason), now=now_utc())
    print(f"deal {deal['id']} lost in {deal['stage']}: {safe(deal['lost_reason'])}")
    return EXIT_OK


def cmd_reopen(args: argparse.Namespace) -> int:
    store = open_store(args)
    deal = store.reopen_deal(args.deal, now=now_utc(), stage=args.stage)
    print(f"deal {deal['id']} reopened in {deal['stage']}")
    return EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    store = open_store(args)
    deal = store.delete_deal(args.deal, now=now_utc())
    print(f"deal {deal['id']} deleted (restore with: funnel restore {deal['id']})")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    store = open_store(args)
    deal = store.restore_deal(args.deal, now=now_utc())
    print(f"deal {deal['id']} restored")
    return EXIT_OK


def cmd_follow_up(args: argparse.Namespace) -> int:
    from funnel_tui.domain.validation import FollowUpDraft

    store = open_store(args)
    due = parse_when(args.when)
    fid = store.add_follow_up(FollowUpDraft(args.deal, due, args.kind, args.note or ""), now=now_utc())
    print(f"follow-up {fid} on deal {args.deal}: {args.kind} {_fmt_time(due)}")
    return EXIT_OK


def cmd_done(args: argparse.Namespace) -> int:
    store = open_store(args)
    now = now_utc()
    fid = args.followup
    if args.deal is not None:
        open_fus = store.deal_follow_ups(args.deal, open_only=True)
        if not open_fus:
            raise CliError(f"deal {args.deal} has no open follow-up")
        fid = open_fus[0]["id"]
    if fid is None:
        raise CliError("done: give a follow-up id (see `funnel due`) or --deal ID")
    nxt = parse_when(args.next, "next") if args.next else None
    res = store.complete_follow_up(fid, now=now, note=args.note or "", next_due_at=nxt,
                                   next_kind=args.next_kind, next_note=args.next_note or "")
    msg = f"done: follow-up {fid} on deal {res['deal_id']} logged"
    if res["next_followup_id"]:
        msg += f"; next follow-up {res['next_followup_id']} {_fmt_time(nxt)}"
    print(msg)
    return EXIT_OK


def cmd_log(args: argparse.Namespace) -> int:
    from funnel_tui.domain.validation import TouchDraft

    store = open_store(args)
    nxt = parse_when(args.next, "next") if args.next else None
    draft = TouchDraft(args.deal, args.kind, " ".join(args.note), nxt, args.next_kind or args.kind, "")
    res = store.log_touch(draft, now=now_utc())
    msg = f"logged {args.kind} on deal {args.deal}"
    if res["next_followup_id"]:
        msg += f"; next follow-up {res['next_followup_id']} {_fmt_time(nxt)}"
    print(msg)
    return EXIT_OK


def cmd_snooze(args: argparse.Namespace) -> int:
    store = open_store(args)
    due = parse_when(args.when)
    store.snooze_follow_up(args.followup, due, now=now_utc())
    print(f"follow-up {args.followup} snoozed to {_fmt_time(due)}")
    return EXIT_OK


def cmd_due(args: argparse.Namespace) -> int:
    store = open_store(args)
    now = now_utc()
    from funnel_tui.domain.dates import format_local, iso_local

    tz = _tz()  # once: local_tz() reads the zone file (0.6 s for 7k rows when called per row)
    if args.format == "table":
        # A screenful: the bucket counts come from SQL and only the shown rows are built
        # (20 ms instead of 120 ms for the 7k follow-ups due at 100k deals).
        items, counts = store.due_overview(now=now, within=args.within, owner=args.owner,
                                           limit=max(args.limit, 0))
    else:
        items = store.due(now=now, within=args.within, owner=args.owner)
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
        emit(rows, args.format, ["followup_id", "deal_id", "customer", "title", "stage", "kind",
                                 "due_at", "bucket", "note"])
    if args.notify and total:
        _notify(items if args.format != "table" else store.due(now=now, within=args.within, owner=args.owner))
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
    items = store.warnings(now=now, owner=args.owner, limit=args.limit if table else None)
    if args.kind:
        items = [w for w in items if w.kind == args.kind]
    rows = [{"deal_id": w.deal_id, "customer": w.customer, "stage": w.stage, "kind": w.kind,
             "days": w.days, "limit": w.limit} for w in items]
    columns = ["deal_id", "customer", "stage", "kind", "days", "limit"]
    if not table:
        emit(rows, args.format, columns)
        return EXIT_OK
    counts = store.warning_counts(now=now, owner=args.owner)
    if args.kind:
        counts = {args.kind: counts[args.kind]}
    summary = " · ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    hidden = sum(counts.values()) - len(rows)
    more = f"… and {hidden} more (worst {args.limit} of each kind shown; --format json for all)" if hidden else None
    emit(rows, "table", columns, title=f"Warnings ({summary})" if summary else "Warnings", footer=more)
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from funnel_tui.exchange.columns import CSV_COLUMNS, deal_record

    store = open_store(args)
    deals = store.list_deals(status=args.status, stage=args.stage, owner=args.owner,
                             search=args.search, limit=args.limit)
    tz = _tz()
    if args.format == "table":
        from funnel_tui.domain.money import format_money

        rows = [{"id": d["id"], "customer": d["customer"], "title": d["title"], "stage": d["stage"],
                 "status": d["status"], "amount": format_money(d["amount"], d["currency"]),
                 "prob": f"{d['probability']}%", "owner": d["owner"],
                 "next": _fmt_time(d["next_follow_up_at"])} for d in deals]
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
    tz = _tz()
    history = [{"at": _iso(h["at"]), "kind": h["kind"], "from_stage": h["from_stage"], "to_stage": h["to_stage"],
                "field": h["field"], "old": h["old"], "new": h["new"]} for h in store.deal_history(args.deal)]
    followups = [{"followup_id": f["id"], "kind": f["kind"], "due_at": _iso(f["due_at"]), "status": f["status"],
                  "note": f["note"], "done_at": _iso(f["done_at"])} for f in store.deal_follow_ups(args.deal)]
    touches = [{"touch_id": t["id"], "kind": t["kind"], "at": _iso(t["at"]), "note": t["note"]}
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
    emit([{**f, "due_at": _fmt_time(datetime.fromisoformat(f["due_at"]))} for f in followups if f["status"] == "open"],
         "table", ["followup_id", "kind", "due_at", "note"], title="Open follow-ups")
    emit(touches, "table", ["at", "kind", "note"], title="Touches")
    emit(history, "table", ["at", "kind", "field", "old", "new"], title="History")
    return EXIT_OK


def cmd_stages(args: argparse.Namespace) -> int:
    store = open_store(args)
    rows = [{"position": s.position, "key": s.key, "name": s.name, "name_zh": s.name_zh,
             "probability": s.probability, "max_dwell_days": s.max_dwell_days, "kind": s.kind}
            for s in store.stages()]
    emit(rows, args.format, ["position", "key", "name", "name_zh", "probability", "max_dwell_days", "kind"],
         title="Stages")
    return EXIT_OK


def cmd_undo(args: argparse.Namespace) -> int:
    store = open_store(args)
    res = store.undo(now=now_utc())
    if res is None:
        print("nothing to undo")
        return EXIT_OK
    deals = ", ".join(str(d) for d in res["deal_ids"][:10])
    more = f" (+{len(res['deal_ids']) - 10} more)" if len(res["deal_ids"]) > 10 else ""
    print(f"undone: {res['rows']} change(s) on deal {deals}{more}")
    return EXIT_OK


SETTINGS = {
    "me": "your name as deal owner: `--owner me` and the Summary screen's default rep",
    "lang": "en or zh: the language of stage and screen names (default: from your locale)",
    "theme": "the board's colour theme (also switched from the palette, ctrl+p)",
    "tier_a_share": "share of weighted pipeline that makes tier A (default 0.80)",
    "tier_b_share": "cumulative share that ends tier B (default 0.95)",
}


def _check_setting(key: str, value: str, store) -> str:
    from funnel_tui.domain.text import clean_text

    text = clean_text(value)
    if key == "me":
        if not text or len(text) > 100:
            raise CliError("me: give your name as it appears in the owner column (1–100 characters)")
    elif key == "lang":
        if text not in ("en", "zh"):
            raise CliError(f"lang: {text!r} is not a language; use en or zh")
    elif key == "theme":
        if not text:
            raise CliError("theme: give a theme name, e.g. textual-dark, nord, gruvbox")
    else:
        try:
            share = float(text)
        except ValueError:
            raise CliError(f"{key}: {text!r} is not a number; use a fraction such as 0.8") from None
        if not 0 < share < 1:
            raise CliError(f"{key}: {share} is out of range; use a fraction between 0 and 1")
        other = "tier_b_share" if key == "tier_a_share" else "tier_a_share"
        other_value = float(store.get_setting(other) or (0.95 if other == "tier_b_share" else 0.80))
        a, b = (share, other_value) if key == "tier_a_share" else (other_value, share)
        if a >= b:
            raise CliError(f"{key}: tier A's share ({a}) must be below tier B's ({b})")
        text = str(share)
    return text


def cmd_settings(args: argparse.Namespace) -> int:
    store = open_store(args)
    if args.key is None:
        rows = [{"key": k, "value": store.get_setting(k) or "", "meaning": m} for k, m in SETTINGS.items()]
        emit(rows, args.format, ["key", "value", "meaning"], title="Settings")
        return EXIT_OK
    if args.value is None:
        print(safe(store.get_setting(args.key) or ""))
        return EXIT_OK
    store.set_setting(args.key, _check_setting(args.key, args.value, store))
    print(f"{args.key} = {safe(store.get_setting(args.key))}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from funnel_tui.exchange.demo import fill_demo

    target = resolve_db(args)
    from funnel_tui.store.engine import sqlite_path

    path = sqlite_path(target)
    if args.reset and path is not None and path.exists():
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            p.unlink(missing_ok=True)
    store = open_store(args)
    if store.count_deals(status="all") and not args.reset:
        raise CliError("demo: this database already has deals; use --reset on a demo database "
                       "(e.g. funnel --demo demo --reset), never on your real one")
    n = fill_demo(store, deals=args.deals, seed=args.seed, now=now_utc())
    from funnel_tui.store.engine import redact_url

    print(f"demo: {n} deals in {redact_url(target)}")  # a team URL carries a password
    return EXIT_OK


def cmd_tui(args: argparse.Namespace) -> int:
    import gc

    # Start-up allocates a lot and frees little: no cycle collections until the board is up
    # (the app turns them back on then). ~10% of the time to the first frame.
    gc.disable()
    store = open_store(args)
    if args.demo and store.count_deals(status="all") == 0:
        from funnel_tui.exchange.demo import fill_demo

        fill_demo(store, now=now_utc())
    from funnel_tui.tui.board_data import FirstRead  # no Textual: reads while Textual loads

    first_read = FirstRead(store)
    from funnel_tui.tui.app import run_app  # Textual is imported only here

    return run_app(store, clock=now_utc, first_read=first_read)


# --- parser ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from funnel_tui import __version__

    p = argparse.ArgumentParser(
        prog="funnel",
        description="Your own sales funnel in the terminal. With no command, opens the board.",
        epilog="Dates accept ISO forms (2026-12-01, 2026-12-01 15:00, with or without offset) and "
               "phrases: today 15:00, tomorrow, +2h, +3d, fri. Exit codes: 0 ok, 1 refused, 2 usage; "
               "`due` adds 10 (due soon) and 11 (overdue).",
    )
    p.add_argument("--db", metavar="PATH|URL", help="database file or SQLAlchemy URL (default: FUNNEL_DB, "
                   "else funnel.db in your data dir)")
    p.add_argument("--demo", action="store_true", help="use the demo database in your data dir")
    p.add_argument("--version", action="version", version=f"funnel-tui {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def cmd(name: str, func: Callable, help_: str, **kw) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_, **kw)
        sp.set_defaults(func=func)
        return sp

    def fmt(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--format", choices=("table", "json", "csv"), default="table",
                        help="table for people, json for scripts and cron, csv for spreadsheets")

    def deal_opts(sp: argparse.ArgumentParser) -> None:
        for flag, field, help_ in DEAL_OPTIONS:
            sp.add_argument(flag, dest=field, help=help_)

    cmd("tui", cmd_tui, "open the board (the default)")

    sp = cmd("demo", cmd_demo, "fill a database with a realistic demo pipeline")
    sp.add_argument("--deals", type=int, default=60, help="how many deals (default 60)")
    sp.add_argument("--seed", type=int, default=7, help="random seed, for a repeatable pipeline")
    sp.add_argument("--reset", action="store_true", help="start the database afresh first")

    sp = cmd("add", cmd_add, "add a deal")
    sp.add_argument("customer", help="the customer (company) name")
    deal_opts(sp)
    sp.add_argument("--follow-up", metavar="WHEN", help="plan the first follow-up, e.g. tomorrow 10:00")
    sp.add_argument("--kind", choices=("call", "email", "meeting", "visit", "message", "task"),
                    help="kind of that follow-up (default call)")

    sp = cmd("edit", cmd_edit, "change fields of a deal (stage: use move; lost: use lose)")
    sp.add_argument("deal", type=_deal_id, help="deal id")
    sp.add_argument("--customer", help="the customer (company) name")
    deal_opts(sp)

    sp = cmd("move", cmd_move, "move a deal to another stage (or next/prev)")
    sp.add_argument("deal", type=_deal_id, help="deal id")
    sp.add_argument("stage", help="stage key or name, or next / prev")

    sp = cmd("lose", cmd_lose, "mark a deal lost; it keeps its stage")
    sp.add_argument("deal", type=_deal_id, help="deal id")
    sp.add_argument("reason", nargs="+", help="why it was lost, e.g. price, competitor")

    sp = cmd("reopen", cmd_reopen, "reopen a lost or won deal")
    sp.add_argument("deal", type=_deal_id, help="deal id")
    sp.add_argument("--stage", help="reopen into this stage (default: where it was)")

    sp = cmd("delete", cmd_delete, "delete a deal (soft: `restore` brings it back)")
    sp.add_argument("deal", type=_deal_id, help="deal id")
    sp = cmd("restore", cmd_restore, "restore a deleted deal")
    sp.add_argument("deal", type=_deal_id, help="deal id")

    sp = cmd("follow-up", cmd_follow_up, "plan a follow-up on a deal")
    sp.add_argument("deal", type=_deal_id, help="deal id")
    sp.add_argument("when", help="e.g. tomorrow 10:00, +3d, fri, 2026-12-01 15:00")
    sp.add_argument("--kind", default="call", choices=("call", "email", "meeting", "visit", "message", "task"))
    sp.add_argument("--note", help="what to do")

    sp = cmd("done", cmd_done, "complete a follow-up (logs a touch); --next plans the next one")
    sp.add_argument("followup", nargs="?", type=_deal_id, help="follow-up id (see `funnel due`)")
    sp.add_argument("--deal", type=_deal_id, help="complete this deal's earliest open follow-up instead")
    sp.add_argument("--note", help="what was said")
    sp.add_argument("--next", metavar="WHEN", help="schedule the next follow-up in the same step")
    sp.add_argument("--next-kind", choices=("call", "email", "meeting", "visit", "message", "task"))
    sp.add_argument("--next-note", help="what the next follow-up is for")

    sp = cmd("log", cmd_log, "log a contact (call, visit, …) on a deal")
    sp.add_argument("deal", type=_deal_id, help="deal id")
    sp.add_argument("note", nargs="+", help="what was said, customer feedback")
    sp.add_argument("--kind", default="call", choices=("call", "email", "meeting", "visit", "message", "task"))
    sp.add_argument("--next", metavar="WHEN", help="schedule the next follow-up in the same step")
    sp.add_argument("--next-kind", choices=("call", "email", "meeting", "visit", "message", "task"))

    sp = cmd("snooze", cmd_snooze, "move a follow-up to a later time")
    sp.add_argument("followup", type=_deal_id, help="follow-up id")
    sp.add_argument("when", help="e.g. +1d, +3d, +1w, mon 09:00")

    sp = cmd("due", cmd_due, "follow-ups overdue and due soon (exit 11 overdue, 10 due, 0 none)")
    sp.add_argument("--within", choices=("24h", "3d", "7d"), default="3d", help="how far ahead (default 3d)")
    sp.add_argument("--owner", help="only this rep's deals")
    sp.add_argument("--limit", type=int, default=DUE_TABLE_ROWS, help="rows in the table (JSON gives all)")
    sp.add_argument("--notify", action="store_true", help="also raise a desktop notification")
    fmt(sp)

    sp = cmd("warnings", cmd_warnings, "deals past their stage's dwell limit, silent, or with no next step")
    sp.add_argument("--owner", help="only this rep's deals")
    sp.add_argument("--kind", choices=("dwell_over", "dwell_near", "silent", "no_next_step"))
    sp.add_argument("--limit", type=int, default=10, help="rows of each kind in the table (JSON gives all)")
    fmt(sp)

    sp = cmd("list", cmd_list, "list deals")
    sp.add_argument("--status", choices=("open", "won", "lost", "all"), default="open")
    sp.add_argument("--stage", help="only this stage")
    sp.add_argument("--owner", help="only this rep's deals")
    sp.add_argument("--search", help="customer, title or contact contains this text")
    sp.add_argument("--limit", type=int, help="at most this many")
    fmt(sp)

    sp = cmd("show", cmd_show, "one deal: fields, follow-ups, touches, history")
    sp.add_argument("deal", type=_deal_id, help="deal id")
    fmt(sp)

    sp = cmd("stages", cmd_stages, "the funnel stages")
    fmt(sp)

    cmd("undo", cmd_undo, "revert the last change (again and again)")

    sp = cmd("settings", cmd_settings, "show or change a setting: me, lang, theme, tier shares")
    sp.add_argument("key", nargs="?", choices=tuple(SETTINGS), help="the setting")
    sp.add_argument("value", nargs="?", help="its new value (leave out to show it)")
    fmt(sp)

    _register_groups(cmd, fmt)
    return p


def _register_groups(cmd, fmt) -> None:
    """Command groups kept in their own modules (summary/review, export/import, backup)."""
    from funnel_tui import cli_backup, cli_exchange, cli_summary

    for module in (cli_summary, cli_exchange, cli_backup):
        module.register(cmd, fmt)


def _is_user_error(exc: BaseException) -> bool:
    """Refusals the rep should read as one line: CLI, validation and store errors."""
    if isinstance(exc, CliError):
        return True
    from funnel_tui.domain.validation import FieldError, ValidationError

    core = sys.modules.get("funnel_tui.store.core")
    kinds: tuple[type, ...] = (FieldError, ValidationError)
    if core is not None:
        kinds += (core.StoreError,)
    return isinstance(exc, kinds)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        args = parser.parse_args([*(argv if argv is not None else sys.argv[1:]), "tui"])
    try:
        return args.func(args) or EXIT_OK
    except BrokenPipeError:  # `funnel list | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - user errors become one line; the rest re-raise
        if not _is_user_error(exc):
            raise
        print(f"funnel: {safe(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
