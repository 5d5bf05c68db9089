"""What every `funnel` command shares: errors and exit codes, the clock, the store, output,
and the options several commands take.

Imports no other `cli` module (they all import this one) and nothing heavy at import: the
store (SQLModel), Rich and the domain are imported inside the functions that use them, so
`funnel --help` loads argparse only. The rep's language for the run is chosen in
cli/language.py, and an error no command worded becomes one line in cli/failures.py.

Exit codes: 0 ok; 1 a refused or failed action (one line on stderr naming the field);
2 bad usage; 3 the database or the disk said no — locked, full, read-only, not yours, an I/O
error — and nothing was changed; 4 the database is damaged, or missing although backups show
it held data: the line names the restore; 5 an import committed but its rejected-rows file
could not be written (the line says which rows). `funnel due` adds 10 (follow-ups due in the
window, none overdue) and 11 (something overdue) so it can drive a shell prompt or a cron job.
Every error ends in one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

from funnel_tui import config
from funnel_tui.cli.table_layout import fits, layout
from funnel_tui.i18n import _, activate, active_lang, resolve_lang

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
EXIT_DAMAGED = 4
EXIT_PARTLY = 5
EXIT_DUE = 10
EXIT_OVERDUE = 11


class CliError(Exception):
    """One line for the user; exit code 1 unless `exit_code` says otherwise."""

    def __init__(self, message: str, *, exit_code: int = EXIT_ERROR):
        super().__init__(message)
        self.exit_code = exit_code


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


def exit_code_of(exc: BaseException) -> int:
    """The documented exit code of a user error (see the module docstring)."""
    return int(getattr(exc, "exit_code", EXIT_ERROR))


# --- the clock and the zone -----------------------------------------------------------------


def now_utc() -> datetime:
    """The clock. FUNNEL_NOW (ISO with offset) pins it for tests, screenshots and demos."""
    pinned = os.environ.get("FUNNEL_NOW")
    if pinned:
        value = datetime.fromisoformat(pinned)
        if value.tzinfo is None:
            raise CliError(_("FUNNEL_NOW must carry an offset, e.g. 2026-11-24T09:00:00+08:00"))
        return value.astimezone(timezone.utc)
    return datetime.now(timezone.utc)


def local_tz():
    """The rep's zone (TZ honoured), read when a command needs it."""
    from funnel_tui.domain.dates import local_tz as _local_tz

    return _local_tz()


def parse_when(text: str, field: str | None = None) -> datetime:
    """A date or phrase the rep typed (`tomorrow 10:00`, `+3d`, `明天`), or a CliError naming the
    field (in the rep's language; "when" by default)."""
    from funnel_tui.domain.dates import parse_when as _parse

    field = field or _("when")
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
                    help=_("accept a follow-up time in the past (normally refused as a typo)"))


def fmt_time(dt: datetime | None) -> str:
    """A moment as the rep reads it, in local time (`2026-11-24 15:00`, `11月24日 周二 15:00`)."""
    from funnel_tui.domain.dates import format_shown

    return format_shown(dt, local_tz(), now=now_utc())


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


# What the start-up checks want the rep to know (a failed automatic backup, a full disk):
# `main` prints them once the command is done, or drops them when its own error says it.
PENDING_NOTES: list[str] = []


def print_notes(*, failed_with: int | None = None) -> None:
    notes, PENDING_NOTES[:] = list(PENDING_NOTES), []
    if failed_with in (EXIT_UNAVAILABLE, EXIT_DAMAGED):
        return  # the error line names the database's state itself
    for note in notes:
        print(f"funnel: {safe(note)}", file=sys.stderr)


def check_open(path):
    """store.open_check.check_at_open for `path` now (an Opened: read-only or not, and why;
    notes for the rep), its refusals (damaged, missing, unusable) as they are."""
    from funnel_tui.store.open_check import check_at_open

    return check_at_open(path, now=now_utc())


def open_store(args: argparse.Namespace, *, notes: list[str] | None = None, opened=None):
    """The Store for this command, after the start-up checks (store.open_check): a damaged,
    missing or unusable file is one line and its exit code; a read-only one opens read-only.
    What the rep should know (a full disk, a backup that failed) goes to stderr after the
    command (PENDING_NOTES), or into `notes` when the caller shows it itself (the board).
    `opened`: what check_at_open said when the caller ran it already (the sqlite3 read path,
    cli/plain.py): the checks run once per process.

    The `lang` setting is read again through the store (a server database keeps it there too),
    for what the command says from here on."""
    store = _open_store(args, notes, opened)
    activate(resolve_lang(store.get_setting("lang")))
    return store


def _open_store(args: argparse.Namespace, notes: list[str] | None, opened=None):
    from funnel_tui.store import NewerSchemaError, Store
    from funnel_tui.store.engine import redact_url, sqlite_path
    from funnel_tui.store.migrations import MigrationError

    target = resolve_db(args)
    path = sqlite_path(target)
    read_only: str | bool = False
    immutable = False
    if path is not None:
        if opened is None:
            opened = check_open(path)
        read_only, immutable = opened.read_only or False, opened.immutable
        if notes is not None and read_only and not opened.notes:  # the board says so once
            opened.notes.append(_("read-only ({why}): you can look, changes are refused").format(why=read_only))
        (notes if notes is not None else PENDING_NOTES).extend(opened.notes)
    try:
        return Store(target, read_only=read_only, immutable=immutable)
    except NewerSchemaError as exc:
        # Readable, never written: a newer funnel-tui owns this file's format.
        print("funnel: " + _("{error}; opened read-only (changes are refused)").format(error=exc), file=sys.stderr)
        try:
            return Store(target, read_only=True, immutable=immutable)
        except Exception as exc2:  # noqa: BLE001
            if is_user_error(exc2):
                raise
            raise CliError(_("cannot open database {target}: {error}").format(
                target=redact_url(target), error=type(exc2).__name__)) from None
    except MigrationError as exc:
        raise CliError(_("cannot upgrade {target}: {error}").format(target=redact_url(target), error=safe(exc)),
                       exit_code=EXIT_UNAVAILABLE) from None
    except Exception as exc:  # noqa: BLE001 - never print a URL with its password
        if is_user_error(exc):
            raise
        raise CliError(_("cannot open database {target}: {error}").format(
            target=redact_url(target), error=type(exc).__name__)) from None


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


# --- output ----------------------------------------------------------------------------------


def safe(text: Any) -> str:
    """Text for the terminal: no control characters, whatever is stored."""
    from funnel_tui.domain.text import clean_text

    return clean_text("" if text is None else str(text))


def shown(vocabulary: Any, code: str | None) -> str:
    """A stored code in a table cell: the code itself in English (what scripts and the JSON see,
    and what English tables always showed), the vocabulary's label in another language."""
    if code is None:
        return ""
    return code if active_lang() == "en" else vocabulary.label(code)


def stage_names(store: Any) -> dict[str, str]:
    """Stage key -> what a table shows for it: the key in English, the Chinese name in Chinese."""
    lang = active_lang()
    return {s.key: s.key if lang == "en" else s.label(lang) for s in store.stages()}


# Columns of free text, which may break between Chinese characters (cli.table_layout); every other
# column breaks only between words: a customer is never split into 东方制/造, a time never into 12:4/6.
FOLD_COLUMNS = frozenset({"note", "notes", "title", "value", "meaning", "old", "new", "reason", "path"})
# Columns never cut short when the screen is too narrow for every column (names may be).
KEEP_COLUMNS = frozenset({"id", "followup_id", "deal_id", "touch_id", "due", "due_at", "at", "next", "bucket",
                          "amount", "prob", "days", "limit"})


def emit(rows: list[dict], fmt: str, columns: Sequence[str], *, title: str | None = None,
         json_value: Any = None, footer: str | None = None, optional: Sequence[str] = ()) -> None:
    """Print rows as a Rich table, JSON or CSV. Cells are plain Text: never markup.

    Tables are laid out by display width (Rich measures cells, a Chinese character is two
    columns, see cli.table_layout): headers are the columns' names in the rep's language
    (`column_name`). When the screen cannot hold every column without cutting a name, the
    `optional` columns are left out of the table, in that order. JSON and CSV keep every key."""
    if fmt == "json":
        import json

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

    from funnel_tui.domain.vocab import column_name

    console = Console(markup=False, emoji=False, highlight=False)
    if not rows:
        console.print(Text(_("{title}: none").format(title=title) if title else _("nothing to show")))
        return
    columns = list(columns)
    for leave_out in [None, *optional]:
        if leave_out is not None and leave_out in columns:
            columns.remove(leave_out)
        cells = [[safe(row.get(c)) for c in columns] for row in rows]
        headers = [column_name(c) for c in columns]
        if fits(headers, cells, [c in FOLD_COLUMNS for c in columns], console.width):
            break
    widths, headers, lines = layout(headers, cells, [c in FOLD_COLUMNS for c in columns],
                                    console.width, [c in KEEP_COLUMNS for c in columns])
    table = Table(title=Text(title) if title else None, show_lines=False, header_style="bold")
    for header, width in zip(headers, widths):
        table.add_column(Text(header), width=width, no_wrap=True, overflow="ellipsis")
    for row_cells in lines:
        table.add_row(*(Text(c) for c in row_cells))
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
                    help=_("table for people, json for scripts and cron, csv for spreadsheets"))


def whole_id(value: str) -> int:
    """argparse type of a deal or follow-up id: a positive whole number, `#42` allowed."""
    try:
        n = int(str(value).lstrip("#"))
    except ValueError:
        raise argparse.ArgumentTypeError(_("{value} is not a deal id (a whole number, e.g. 42)").format(
            value=repr(value))) from None
    if n <= 0:
        raise argparse.ArgumentTypeError(_("{value} is not a deal id (a whole number, e.g. 42)").format(value=repr(value)))
    return n


def add_deal(sp: argparse.ArgumentParser) -> None:
    """The DEAL positional: which deal the command acts on."""
    sp.add_argument("deal", type=whole_id, metavar=_("deal"), help=_("deal id"))


def add_pipeline_option(sp: argparse.ArgumentParser) -> None:
    """--pipeline NAME: the commands that read or write one pipeline's deals or stages."""
    sp.add_argument("--pipeline", metavar=_("NAME"),
                    help=_("which pipeline (key or name, see `funnel pipelines`; default: all of them for "
                           "lists, the default pipeline for stages and the funnel)"))

