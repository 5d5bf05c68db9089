"""`funnel backup create | list | restore`: the rep's own safety net, from the command line.

These commands work on the database file directly (not through open_store), so a
damaged database that was moved aside at start can still be restored from here.
"""

from __future__ import annotations

import argparse
import sys

from funnel_tui.cli.common import (
    EXIT_OK,
    CliError,
    add_command,
    add_format,
    emit,
    now_utc,
    open_store,
    resolve_db,
    safe,
)
from funnel_tui.i18n import _


def _db_path(args: argparse.Namespace):
    from funnel_tui.store.engine import redact_url, sqlite_path

    target = resolve_db(args)
    path = sqlite_path(target)
    if path is None:
        raise CliError(f"backups are for SQLite files; for {redact_url(target)} use the server's "
                       "own backups (e.g. pg_dump)")
    return path


def _server(args: argparse.Namespace):
    """The open Store when the target is a team server, else None (a SQLite file)."""
    from funnel_tui.store.engine import sqlite_path

    if sqlite_path(resolve_db(args)) is not None:
        return None
    return open_store(args)


def cmd_backup_create(args: argparse.Namespace) -> int:
    from funnel_tui.store.backup import BackupError, create_backup

    store = _server(args)
    if store is not None:
        from funnel_tui.store.pg_backup import ServerBackupError, dump_engine

        try:
            info = dump_engine(store.engine, reason=args.reason, now=now_utc())
        except ServerBackupError as exc:
            raise CliError(f"backup: {exc}") from None
        print(_("backup: {path} ({kib} KiB, pg_dump custom format, verified)").format(
            path=safe(info.path), kib=info.size // 1024))
        return EXIT_OK
    path = _db_path(args)
    try:
        info = create_backup(path, reason=args.reason, now=now_utc())
    except BackupError as exc:
        raise CliError(f"backup: {exc}") from None
    print(f"backup: {safe(info.path)} ({info.size // 1024} KiB, verified)")
    return EXIT_OK


def cmd_backup_list(args: argparse.Namespace) -> int:
    from funnel_tui.domain.dates import format_local, iso_local, local_tz
    from funnel_tui.store.backup import list_backups

    store = _server(args)
    if store is not None:
        from funnel_tui.store.pg_backup import list_dumps

        found, name = list_dumps(store.engine.url), store.engine.url.database or ""
    else:
        path = _db_path(args)
        found, name = list_backups(path), path.name
    tz = local_tz()
    rows = [{"file": b.path.name, "at": format_local(b.at, tz) if args.format == "table" else iso_local(b.at, tz),
             "reason": b.reason, "kib": b.size // 1024, "path": str(b.path)}
            for b in found]
    cols = ["file", "at", "reason", "kib"] if args.format == "table" else ["file", "at", "reason", "kib", "path"]
    emit(rows, args.format, cols, title=f"Backups of {name} (newest first)")
    return EXIT_OK


def cmd_backup_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from funnel_tui.store.backup import BackupError, list_backups, restore_backup

    store = _server(args)
    if store is not None:
        return _restore_server(store, args.backup)
    path = _db_path(args)
    if args.backup == "latest":
        backups = list_backups(path)
        if not backups:
            raise CliError(f"restore: no backups of {path.name} yet (funnel backup create)")
        source = backups[0].path
    else:
        source = Path(args.backup)
        if not source.exists() and (path.parent / "backups" / args.backup).exists():
            source = path.parent / "backups" / args.backup  # a name from `funnel backup list`
    try:
        saved = restore_backup(path, source, now=now_utc())
    except BackupError as exc:
        raise CliError(f"restore: {exc}") from None
    msg = f"restored {path.name} from {safe(source.name)}"
    if saved is not None:
        msg += f"; the database as it was is saved as {safe(saved.path.name)}"
    print(msg)
    return EXIT_OK


def _restore_server(store, name: str) -> int:
    """A server's dump goes back into a NEW database beside the live one (never over it), or
    the exact commands are printed for an administrator."""
    from pathlib import Path

    from funnel_tui.store.pg_backup import ServerBackupError, list_dumps, restore_into_new, server_backups_dir

    url = store.engine.url
    if name == "latest":
        dumps = list_dumps(url)
        if not dumps:
            raise CliError(_("restore: no backups of {db} yet (funnel backup create)").format(db=url.database))
        source = dumps[0].path
    else:
        source = Path(name)
        if not source.exists() and (server_backups_dir() / name).exists():
            source = server_backups_dir() / name
    if not source.is_file():
        raise CliError(_("restore: no backup file {name}").format(name=safe(name)))
    try:
        plan, done = restore_into_new(store.engine, url, source, now=now_utc())
    except ServerBackupError as exc:
        raise CliError(f"restore: {exc}") from None
    if done:
        print(_("restored {file} into the new database {db}; the live database is unchanged. Check it, "
                "then point the team at it (--db …/{db})").format(file=safe(source.name), db=plan.database))
    else:
        print(_("restore: this role may not create databases here (or pg_restore is missing); an "
                "administrator runs:"))
        for command in plan.commands:
            print("  " + command)
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "backup", _backup_usage, "verified backups of your database: create, list, restore")
    actions = sp.add_subparsers(dest="backup_command", metavar="ACTION")

    p = actions.add_parser("create", help="back up now (SQLite backup API, checked, private 0600)")
    p.add_argument("--reason", default="manual", help="a word kept in the file name (default manual)")
    p.set_defaults(func=cmd_backup_create)

    p = actions.add_parser("list", help="backups of this database, newest first")
    add_format(p)
    p.set_defaults(func=cmd_backup_list)

    p = actions.add_parser("restore", help="put a backup back (the current database is backed up first)")
    p.add_argument("backup", help="a backup file or name from `funnel backup list`, or latest")
    p.set_defaults(func=cmd_backup_restore)
    sp.set_defaults(_backup_parser=sp)


def _backup_usage(args: argparse.Namespace) -> int:
    args._backup_parser.print_help(sys.stdout)
    return EXIT_OK
