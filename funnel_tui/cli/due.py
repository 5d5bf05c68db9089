"""`funnel due`: follow-ups overdue and due soon, for the rep, a shell prompt and cron.

Exit codes drive prompts and cron jobs: 11 something overdue, 10 due in the window, 0 nothing
due. `--count` prints one line of counts (README, "Shell prompt and cron").

Fast on a SQLite file: after the same checks at start every command makes
(store/open_check: damage, a read-only disk, the automatic backup), the due query
(store/due_sql.py) is read with sqlite3 from the file opened read-only (cli/plain.py,
store/due_read.py), so neither SQLAlchemy nor SQLModel is imported, and the table is drawn
without Rich (cli/plain_table.py). Anything else — a server URL, a missing, empty, older or
newer database, one the checks open read-only, any SQLite error — opens the Store as every
command does. `--owner me` is the rep's `me` setting on both paths, as for every command. `--pipeline` narrows both paths alike (the pipeline's
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
    PENDING_NOTES,
    add_command,
    add_format,
    add_pipeline_option,
    emit,
    local_tz,
    now_utc,
    open_store,
    shown,
    stage_names,
)
from funnel_tui.cli.plain import plain_connection
from funnel_tui.cli.plain_table import print_table
from funnel_tui.domain.rules import LISTED_BUCKETS
from funnel_tui.i18n import N_, NP_, _, active_lang, pgettext

DUE_TABLE_ROWS = 25  # a readable screenful; JSON and CSV always give all
DUE_COLUMNS = ["followup_id", "deal_id", "customer", "title", "stage", "kind", "due_at", "bucket", "note"]
TABLE_COLUMNS = ["followup_id", "deal_id", "bucket", "due", "kind", "customer", "stage", "note"]
# The due table's buckets as a narrow column shows them (the code itself in English).
BUCKETS_SHORT = (NP_("due bucket (short)", "overdue"), NP_("due bucket (short)", "24h"),
                 NP_("due bucket (short)", "3d"))
# The title and --count count each bucket: "2 overdue · 3 due in 24h".
BUCKET_COUNTS = {"overdue": N_("{n} overdue"), "24h": N_("{n} due in 24h"), "3d": N_("{n} due in 3d"),
                 "later": N_("{n} later")}


class _Answer:
    """What both paths hand the printing: the items, the counts per bucket, and (for the
    table) what each stage key is called."""

    def __init__(self, items: list, counts: dict[str, int], stages: dict[str, str] | None = None) -> None:
        self.items, self.counts, self.stages = items, counts, stages


def cmd_due(args: argparse.Namespace) -> int:
    now = now_utc()
    plain = plain_connection(args, mmap=True)
    answer = None
    if plain.conn is not None:
        reader = _PlainReader(plain.conn, plain.path)
        try:
            answer = _ask(reader, args, now)
        except (sqlite3.Error, ValueError):
            # A damaged page, a lock held past the timeout …, or a --pipeline nobody keeps
            # (the domain's StageChangeError): the store decides, and words the refusal.
            answer = None
        finally:
            reader.close()
        if answer is not None:
            PENDING_NOTES.extend(plain.opened.notes)  # else open_store adds them
    if answer is None:
        store = open_store(args, opened=plain.opened)
        try:
            answer = _ask(store, args, now)
        finally:
            store.close()
    counts = answer.counts
    if args.count:
        _print_counts(counts, args.within, args.format)
    elif args.format == "table":
        _print_table(answer, now)
    else:
        _print_rows(answer.items, args.format)
    total = sum(counts.values())
    if args.notify and total:
        _notify(counts)
    return EXIT_OVERDUE if counts["overdue"] else (EXIT_DUE if total else EXIT_OK)


def _ask(source, args: argparse.Namespace, now) -> _Answer:
    """The answer from the Store or the sqlite3 reader: the counts alone for --count, a
    screenful, the counts and the stage names for the table, everything for JSON and CSV."""
    owner = args.owner
    if owner is not None and owner.strip().casefold() == "me":
        owner = source.me() or owner  # the rep's own name, as every command reads `me`
    which = {"now": now, "within": args.within, "owner": owner, "pipeline": args.pipeline}
    if args.count:
        return _Answer([], source.due_overview(limit=0, **which)[1])
    if args.format == "table":
        # A screenful: the bucket counts come from SQL and only the shown rows are built
        # (20 ms instead of 120 ms for the 7k follow-ups due at 100k deals).
        items, counts = source.due_overview(limit=max(args.limit, 0), **which)
        # English tables show the stage keys themselves (stage_names maps each key to itself):
        # no stages to read, nor the stage definitions to load (~10 ms of a prompt's table).
        return _Answer(items, counts, stage_names(source) if active_lang() != "en" else None)
    items = source.due(**which)
    counts = dict.fromkeys(LISTED_BUCKETS, 0)
    for item in items:
        counts[item.bucket] += 1
    return _Answer(items, counts)


class _PlainReader:
    """The Store methods `funnel due` calls, on a read-only sqlite3 connection (the stages
    and settings through store/board_read.BoardReader, as the board's first frame reads them)."""

    def __init__(self, conn: sqlite3.Connection, path) -> None:
        self.conn, self.path = conn, path
        self._board = None

    def _reader(self):
        if self._board is None:  # the table's stage names and `me` only: --count needs neither
            from funnel_tui.store.board_read import BoardReader

            self._board = BoardReader(self.conn, self.path)
        return self._board

    def due(self, **kw):
        from funnel_tui.store import due_read

        return due_read.due(self.conn, **kw)

    def due_overview(self, *, limit: int, **kw):
        from funnel_tui.store import due_read

        if limit == 0:
            return [], due_read.due_counts(self.conn, **kw)
        return due_read.due_overview(self.conn, limit=limit, **kw)

    def stages(self, pipeline: str | None = None):
        return self._reader().stages(pipeline)

    def me(self) -> str | None:
        """Store.me: the `me` setting where it lives (the config file; a demo's own rep)."""
        return self._reader().get_setting("me") or None

    def close(self) -> None:
        self.conn.close()


def _summary(counts: dict[str, int], within: str | None = None) -> list[str]:
    """"3 overdue", "2 due in 24h" …: every bucket of the window (`within`), or those with any."""
    shown = {"24h": ("overdue", "24h"), "3d": ("overdue", "24h", "3d"),
             "7d": ("overdue", "24h", "3d", "later")}.get(within or "", ())
    return [_(BUCKET_COUNTS[b]).format(n=n) for b, n in counts.items() if n or b in shown]


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


def _print_table(answer: _Answer, now) -> None:
    """The screenful, drawn without Rich (cli/plain_table.py): each bucket, kind and stage in
    the rep's language, times as the rep reads them."""
    from funnel_tui.domain.dates import format_shown
    from funnel_tui.domain.vocab import FOLLOWUP_KIND

    tz = local_tz()  # once: local_tz() reads the zone file (0.6 s for 7k rows when called per row)
    stages = answer.stages or {}
    rows = [{"followup_id": i.followup_id, "deal_id": i.deal_id,
             "bucket": pgettext("due bucket (short)", i.bucket), "due": format_shown(i.due_at, tz, now=now),
             "kind": shown(FOLLOWUP_KIND, i.kind), "customer": i.customer, "stage": stages.get(i.stage, i.stage),
             "note": i.note} for i in answer.items]
    total = sum(answer.counts.values())
    summary = " · ".join(_summary(answer.counts))
    more = None
    if total > len(rows):
        more = _("… and {n} more (use --format json for all)").format(n=total - len(rows))
    # A narrow screen leaves the bucket out: the time says overdue, the title counts the buckets.
    print_table(rows, TABLE_COLUMNS, title=_("Due ({summary})").format(summary=summary) if summary else _("Due"),
                footer=more, optional=("bucket",))


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
    sp = add_command(sub, "due", cmd_due, _("follow-ups overdue and due soon (exit 11 overdue, 10 due, 0 none)"))
    sp.add_argument("--within", choices=("24h", "3d", "7d"), default="3d", help=_("how far ahead (default 3d)"))
    sp.add_argument("--owner", metavar=_("OWNER"), help=_("only this rep's deals (me: yours)"))
    sp.add_argument("--count", action="store_true",
                    help=_("only the counts, on one line (for a shell prompt; JSON or CSV with --format)"))
    sp.add_argument("--limit", type=int, default=DUE_TABLE_ROWS, metavar=_("LIMIT"),
                    help=_("rows in the table (JSON gives all)"))
    sp.add_argument("--notify", action="store_true", help=_("also raise a desktop notification"))
    add_pipeline_option(sp)
    add_format(sp)
