"""What every `funnel` command shares: errors and exit codes, the clock, the store, output,
and the options several commands take.

Imports no other `cli` module (they all import this one) and nothing heavy at import: the
store (SQLModel), Rich and the domain are imported inside the functions that use them, so
`funnel --help` loads argparse only.

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

from funnel_tui import config
from funnel_tui.i18n import _

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_DUE = 10
EXIT_OVERDUE = 11


class CliError(Exception):
    """One line for the user; exit code 1."""


def is_user_error(exc: BaseException) -> bool:
    """Refusals the rep should read as one line: CLI, validation and store errors."""
    if isinstance(exc, CliError):
        return True
    from funnel_tui.domain.validation import FieldError, ValidationError

    kinds: tuple[type, ...] = (FieldError, ValidationError)
    errors = sys.modules.get("funnel_tui.store.errors")  # not loaded: no store error can have happened
    if errors is not None:
        kinds += (errors.StoreError,)
    return isinstance(exc, kinds)


# --- the clock and the zone -----------------------------------------------------------------


def now_utc() -> datetime:
    """The clock. FUNNEL_NOW (ISO with offset) pins it for tests, screenshots and demos."""
    pinned = os.environ.get("FUNNEL_NOW")
    if pinned:
        value = datetime.fromisoformat(pinned)
        if value.tzinfo is None:
            raise CliError("FUNNEL_NOW must carry an offset, e.g. 2026-11-24T09:00:00+08:00")
        return value.astimezone(timezone.utc)
    return datetime.now(timezone.utc)


def local_tz():
    """The rep's zone (TZ honoured), read when a command needs it."""
    from funnel_tui.domain.dates import local_tz as _local_tz

    return _local_tz()


def parse_when(text: str, field: str = "when") -> datetime:
    """A date or phrase the rep typed (`tomorrow 10:00`, `+3d`, `明天`), or a CliError naming the field."""
    from funnel_tui.domain.dates import parse_when as _parse

    try:
        return _parse(text, now=now_utc(), tz=local_tz())
    except ValueError as exc:
        raise CliError(f"{field}: {exc}") from None


def parse_follow_up(text: str, field: str = "when", *, allow_past: bool = False) -> datetime:
    """A follow-up's due time: like parse_when, and refused in the past unless `allow_past`."""
    from funnel_tui.domain.dates import PastFollowUp
    from funnel_tui.domain.dates import parse_follow_up as _parse

    try:
        return _parse(text, now=now_utc(), tz=local_tz(), allow_past=allow_past)
    except PastFollowUp as exc:
        raise CliError(_("{field}: {error} (--past plans it anyway)").format(field=field, error=exc)) from None
    except ValueError as exc:
        raise CliError(f"{field}: {exc}") from None


def add_past(sp: argparse.ArgumentParser) -> None:
    """--past: a follow-up time in the past is taken (to record one that was missed)."""
    sp.add_argument("--past", action="store_true",
                    help="accept a follow-up time in the past (normally refused as a typo)")


def fmt_time(dt: datetime | None) -> str:
    """A moment as the rep reads it, in local time."""
    from funnel_tui.domain.dates import format_local

    return format_local(dt, local_tz())


def iso(dt: datetime | None) -> str | None:
    """A moment as ISO 8601 with the local offset, for JSON."""
    from funnel_tui.domain.dates import iso_local

    return iso_local(dt, local_tz()) if dt is not None else None


# --- the database ----------------------------------------------------------------------------


def resolve_db(args: argparse.Namespace) -> str:
    """Which database: --demo, --db, FUNNEL_DB, else funnel.db in the data dir."""
    from funnel_tui import paths

    if getattr(args, "demo", False):
        return str(paths.demo_db_path())
    if args.db:
        return args.db
    if os.environ.get("FUNNEL_DB"):
        return os.environ["FUNNEL_DB"]
    return str(paths.default_db_path())


def open_store(args: argparse.Namespace, *, checked: bool = False):
    """The Store for this command; a newer schema opens read-only, a failure is one line.
    `checked`: the checks at start (_check_file) already ran in this process."""
    from funnel_tui.store import NewerSchemaError, Store, StoreError
    from funnel_tui.store.engine import redact_url

    target = resolve_db(args)
    if not checked:
        _check_file(target)
    try:
        return Store(target)
    except StoreError as exc:  # named causes (a server: authentication, reachability, …)
        raise CliError(str(exc)) from None
    except NewerSchemaError as exc:
        # Readable, never written: a newer funnel-tui owns this file's format.
        print(f"funnel: {exc}; opened read-only (changes are refused)", file=sys.stderr)
        try:
            return Store(target, read_only=True)
        except StoreError as exc2:
            raise CliError(str(exc2)) from None
        except Exception as exc2:  # noqa: BLE001
            raise CliError(f"cannot open database {redact_url(target)}: {type(exc2).__name__}") from None
    except Exception as exc:  # noqa: BLE001 - never print a URL with its password
        raise CliError(f"cannot open database {redact_url(target)}: {type(exc).__name__}") from None


def ask_name_once(store, *, ask=input) -> str | None:
    """The rep's name as deal owner (`me`). The first time it is missing on a terminal, ask
    for it once (Enter skips, and is not asked again); returns the name, or None."""
    from funnel_tui.domain.text import clean_text

    me = store.me()
    if me or store.get_setting(config.ASKED_NAME) or not (sys.stdin.isatty() and sys.stdout.isatty()):
        return me
    store.set_setting(config.ASKED_NAME, "1")
    try:
        name = clean_text(ask(_("Your name, as the owner of your deals (Enter to skip): "))).strip()
    except EOFError:
        name = ""
    if not name or len(name) > 100:
        return None
    store.set_setting("me", name)
    print(_("Saved: new deals are {name}'s (change it with: funnel settings me NAME)").format(name=name))
    return name


def owner_hint() -> str:
    """Said when a new deal gets no owner because the rep's name is not set."""
    return _("no owner: tell funnel your name once with `funnel settings me NAME` and new deals are yours")


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


# --- output ----------------------------------------------------------------------------------


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


# --- the options several commands share --------------------------------------------------------


def add_command(sub: argparse._SubParsersAction, name: str, func: Callable[[argparse.Namespace], int],
                help_: str, **kw: Any) -> argparse.ArgumentParser:
    """A `funnel NAME` subcommand whose one-line help is also its description."""
    sp = sub.add_parser(name, help=help_, description=help_, **kw)
    sp.set_defaults(func=func)
    return sp


def add_format(sp: argparse.ArgumentParser) -> None:
    """--format table|json|csv, the read commands' output switch."""
    sp.add_argument("--format", choices=("table", "json", "csv"), default="table",
                    help="table for people, json for scripts and cron, csv for spreadsheets")


def whole_id(value: str) -> int:
    """argparse type of a deal or follow-up id: a positive whole number, `#42` allowed."""
    try:
        n = int(str(value).lstrip("#"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a deal id (a whole number, e.g. 42)") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a deal id (a whole number, e.g. 42)")
    return n


def add_deal(sp: argparse.ArgumentParser) -> None:
    """The DEAL positional: which deal the command acts on."""
    sp.add_argument("deal", type=whole_id, help="deal id")


def add_pipeline_option(sp: argparse.ArgumentParser) -> None:
    """--pipeline NAME: the commands that read or write one pipeline's deals or stages."""
    sp.add_argument("--pipeline", metavar="NAME",
                    help="which pipeline (key or name, see `funnel pipelines`; default: all of them for "
                         "lists, the default pipeline for stages and the funnel)")

