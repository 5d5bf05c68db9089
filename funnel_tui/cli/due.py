"""`funnel due`: follow-ups overdue and due soon, for the rep, a shell prompt and cron.

Exit codes drive prompts and cron jobs: 11 something overdue, 10 due in the window, 0 nothing
due. `--count` prints one line of counts (README, "Shell prompt and cron").

Fast on a SQLite file: after the same checks at start every command makes (damage, the
automatic backup), the due query (store/due_sql.py) is read with sqlite3 from the file opened
read-only (cli/plain.py, store/due_read.py), so neither SQLAlchemy nor SQLModel is imported.
Anything else — a server URL, a missing, empty, older or newer database, any SQLite error —
opens the Store as every command does. `--pipeline` narrows both paths alike (the pipeline's
stage keys: domain.stage_plan.pipeline_stage_keys); one nobody keeps is left to the Store to
refuse. Both paths print the same (tests/test_due_read.py, tests/test_due_backends.py).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys

from funnel_tui.cli.common import (
    EXIT_DUE,
    EXIT_OK,
    EXIT_OVERDUE,
    add_command,
    add_format,
    add_pipeline_option,
    emit,
    local_tz,
    now_utc,
    open_store,
)
from funnel_tui.cli.plain import plain_connection
from funnel_tui.domain.rules import LISTED_BUCKETS
from funnel_tui.i18n import _

DUE_TABLE_ROWS = 25  # a readable screenful; JSON and CSV always give all
DUE_COLUMNS = ["followup_id", "deal_id", "customer", "title", "stage", "kind", "due_at", "bucket", "note"]
TABLE_COLUMNS = ["followup_id", "deal_id", "bucket", "due", "kind", "customer", "stage", "note"]


def cmd_due(args: argparse.Namespace) -> int:
    now = now_utc()
    reader, checked = _plain_reader(args)
    answer = None
    if reader is not None:
        try:
            answer = _ask(reader, args, now)
        except (sqlite3.Error, ValueError):
            # A damaged page, a lock held past the timeout …, or a --pipeline nobody keeps
            # (the domain's StageChangeError): the store decides, and words the refusal.
            answer = None
        finally:
            reader.close()
    if answer is None:
        store = open_store(args, checked=checked)
        try:
            answer = _ask(store, args, now)
        finally:
            store.close()
    items, counts = answer
    if args.count:
        _print_counts(counts, args.within, args.format)
    elif args.format == "table":
        _print_table(items, counts)
    else:
        _print_rows(items, args.format)
    total = sum(counts.values())
    if args.notify and total:
        _notify(counts)
    return EXIT_OVERDUE if counts["overdue"] else (EXIT_DUE if total else EXIT_OK)


def _ask(source, args: argparse.Namespace, now) -> tuple[list, dict[str, int]]:
    """(items, counts per bucket) from the Store or the sqlite3 reader: the counts alone for
    --count, a screenful and the counts for the table, everything for JSON and CSV."""
    which = {"now": now, "within": args.within, "owner": args.owner, "pipeline": args.pipeline}
    if args.count:
        return [], source.due_overview(limit=0, **which)[1]
    if args.format == "table":
        # A screenful: the bucket counts come from SQL and only the shown rows are built
        # (20 ms instead of 120 ms for the 7k follow-ups due at 100k deals).
        return source.due_overview(limit=max(args.limit, 0), **which)
    items = source.due(**which)
    counts = dict.fromkeys(LISTED_BUCKETS, 0)
    for item in items:
        counts[item.bucket] += 1
    return items, counts


def _plain_reader(args: argparse.Namespace):
    """(the sqlite3 reader, or None: then the Store opens the file; whether the checks at
    start ran)."""
    if args.owner and args.owner.strip().casefold() == "me":
        return None, False  # `me` means what the store's path makes of it: one place decides
    conn, checked = plain_connection(args, mmap=True)
    return (None if conn is None else _PlainReader(conn)), checked


class _PlainReader:
    """The two Store methods `funnel due` calls, on a read-only sqlite3 connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def due(self, **kw):
        from funnel_tui.store import due_read

        return due_read.due(self.conn, **kw)

    def due_overview(self, *, limit: int, **kw):
        from funnel_tui.store import due_read

        if limit == 0:
            return [], due_read.due_counts(self.conn, **kw)
        return due_read.due_overview(self.conn, limit=limit, **kw)

    def close(self) -> None:
        self.conn.close()


def _summary(counts: dict[str, int], within: str | None = None) -> list[str]:
    """"3 overdue", "2 due in 24h" …: every bucket of the window (`within`), or those with any."""
    shown = {"24h": ("overdue", "24h"), "3d": ("overdue", "24h", "3d"),
             "7d": ("overdue", "24h", "3d", "later")}.get(within or "", ())
    words = {"overdue": _("{n} overdue"), "24h": _("{n} due in 24h"), "3d": _("{n} due in 3d"),
             "later": _("{n} later")}
    return [words[b].format(n=n) for b, n in counts.items() if n or b in shown]


def _print_counts(counts: dict[str, int], within: str, fmt: str) -> None:
    """--count: one line for a prompt; JSON or CSV of the counts for scripts."""
    shown = {b: n for b, n in counts.items() if b != "later" or within == "7d"}
    if fmt == "json":
        import json

        print(json.dumps(shown))
    elif fmt == "csv":
        print(",".join(shown))
        print(",".join(str(n) for n in shown.values()))
    else:
        print(" · ".join(_summary(counts, within)))


def _print_table(items, counts: dict[str, int]) -> None:
    tz = local_tz()  # once: local_tz() reads the zone file (0.6 s for 7k rows when called per row)
    from funnel_tui.domain.dates import format_local

    rows = [{"followup_id": i.followup_id, "deal_id": i.deal_id, "bucket": i.bucket,
             "due": format_local(i.due_at, tz), "kind": i.kind, "customer": i.customer, "stage": i.stage,
             "note": i.note} for i in items]
    total = sum(counts.values())
    summary = " · ".join(_summary(counts))
    more = None
    if total > len(rows):
        more = _("… and {n} more (use --format json for all)").format(n=total - len(rows))
    emit(rows, "table", TABLE_COLUMNS, title=_("Due ({summary})").format(summary=summary) if summary else _("Due"),
         footer=more)


def _print_rows(items, fmt: str) -> None:
    tz = local_tz()
    from funnel_tui.domain.dates import iso_local

    rows = [{"followup_id": i.followup_id, "deal_id": i.deal_id, "customer": i.customer, "title": i.title,
             "stage": i.stage, "kind": i.kind, "due_at": iso_local(i.due_at, tz), "bucket": i.bucket,
             "note": i.note} for i in items]
    emit(rows, fmt, DUE_COLUMNS)


def _notify(counts: dict[str, int]) -> None:
    """A desktop notification where the system offers one; say so where it cannot."""
    import shutil
    import subprocess

    overdue = counts["overdue"]
    body = _("{overdue} overdue · {soon} due soon").format(overdue=overdue, soon=sum(counts.values()) - overdue)
    title = _("funnel: follow-ups")
    if shutil.which("notify-send"):
        cmd = ["notify-send", title, body]
    elif shutil.which("osascript"):
        script = f"display notification {_applescript(body)} with title {_applescript(title)}"
        cmd = ["osascript", "-e", script]
    else:
        print(_("notify: no desktop notifier here (needs notify-send or osascript)"), file=sys.stderr)
        return
    try:
        subprocess.run(cmd, check=False, timeout=5, capture_output=True)
    except (OSError, subprocess.SubprocessError) as exc:
        print(_("notify: could not notify ({error})").format(error=type(exc).__name__), file=sys.stderr)


def _applescript(text: str) -> str:
    """A string literal for AppleScript."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "due", cmd_due, "follow-ups overdue and due soon (exit 11 overdue, 10 due, 0 none)")
    sp.add_argument("--within", choices=("24h", "3d", "7d"), default="3d", help="how far ahead (default 3d)")
    sp.add_argument("--owner", help="only this rep's deals")
    sp.add_argument("--count", action="store_true",
                    help=_("only the counts, on one line (for a shell prompt; JSON or CSV with --format)"))
    sp.add_argument("--limit", type=int, default=DUE_TABLE_ROWS, help="rows in the table (JSON gives all)")
    sp.add_argument("--notify", action="store_true", help="also raise a desktop notification")
    add_pipeline_option(sp)
    add_format(sp)
