"""`funnel backup create | list | restore`: the rep's own safety net, from the command line.

These commands work on the database file directly (not through open_store), so a
damaged database that was moved aside at start can still be restored from here.
"""

from __future__ import annotations

import argparse
import sys

from funnel_tui.cli.common import EXIT_OK, CliError, add_command, add_format, emit, now_utc, resolve_db, safe
from funnel_tui.i18n import _


def _db_path(args: argparse.Namespace):
    from funnel_tui.store.engine import redact_url, sqlite_path

    target = resolve_db(args)
    path = sqlite_path(target)
    if path is None:
        raise CliError(_("backups are for SQLite files; for {target} use the server's own backups (e.g. pg_dump)")
                       .format(target=redact_url(target)))
    return path


def cmd_backup_create(args: argparse.Namespace) -> int:
    from funnel_tui.store.backup import BackupError, create_backup

    path = _db_path(args)
    try:
        info = create_backup(path, reason=args.reason, now=now_utc())
    except BackupError as exc:
        raise CliError(_("backup: {error}").format(error=exc)) from None
    print(_("backup: {path} ({kib} KiB, verified)").format(path=safe(info.path), kib=info.size // 1024))
    return EXIT_OK


def cmd_backup_list(args: argparse.Namespace) -> int:
    from funnel_tui.domain.dates import format_shown, iso_local, local_tz
    from funnel_tui.store.backup import list_backups

    path = _db_path(args)
    tz = local_tz()
    now = now_utc()
    rows = [{"file": b.path.name, "at": format_shown(b.at, tz, now=now) if args.format == "table" else iso_local(b.at, tz),
             "reason": b.reason, "kib": b.size // 1024, "path": str(b.path)}
            for b in list_backups(path)]
    cols = ["file", "at", "reason", "kib"] if args.format == "table" else ["file", "at", "reason", "kib", "path"]
    emit(rows, args.format, cols, title=_("Backups of {name} (newest first)").format(name=path.name))
    return EXIT_OK


def cmd_backup_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from funnel_tui.store.backup import BackupError, list_backups, restore_backup

    path = _db_path(args)
    if args.backup == "latest":
        backups = list_backups(path)
        if not backups:
            raise CliError(_("restore: no backups of {name} yet (funnel backup create)").format(name=path.name))
        source = backups[0].path
    else:
        source = Path(args.backup)
        if not source.exists() and (path.parent / "backups" / args.backup).exists():
            source = path.parent / "backups" / args.backup  # a name from `funnel backup list`
    try:
        saved = restore_backup(path, source, now=now_utc())
    except BackupError as exc:
        raise CliError(_("restore: {error}").format(error=exc)) from None
    msg = _("restored {name} from {source}").format(name=path.name, source=safe(source.name))
    if saved is not None:
        msg += _("; the database as it was is saved as {saved}").format(saved=safe(saved.path.name))
    print(msg)
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "backup", _backup_usage, _("verified backups of your database: create, list, restore"))
    actions = sp.add_subparsers(dest="backup_command", metavar=_("ACTION"))

    p = actions.add_parser("create", help=_("back up now (SQLite backup API, checked, private 0600)"))
    p.add_argument("--reason", default="manual", metavar=_("REASON"),
                   help=_("a word kept in the file name (default manual)"))
    p.set_defaults(func=cmd_backup_create)

    p = actions.add_parser("list", help=_("backups of this database, newest first"))
    add_format(p)
    p.set_defaults(func=cmd_backup_list)

    p = actions.add_parser("restore", help=_("put a backup back (the current database is backed up first)"))
    p.add_argument("backup", metavar=_("backup"), help=_("a backup file or name from `funnel backup list`, or latest"))
    p.set_defaults(func=cmd_backup_restore)
    sp.set_defaults(_backup_parser=sp)


def _backup_usage(args: argparse.Namespace) -> int:
    args._backup_parser.print_help(sys.stdout)
    return EXIT_OK
