"""`funnel backup create | list | restore | recover | start-empty`: the rep's own safety net.

These commands work on the database file directly (not through the start-up checks), so a
damaged or missing database can still be restored from here. On a team server, create, list
and restore use pg_dump/pg_restore (store.pg_backup) instead. `restore` sets a damaged file
aside (with its -wal/-shm) and says how to copy back what it holds that the backup lacks:
`recover`. `start-empty` is the one way to begin again with an empty database where backups
show data lived.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from funnel_tui.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_UNAVAILABLE,
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

DISK_KINDS = ("full", "read_only", "permission", "locked", "io")


def _db_path(args: argparse.Namespace) -> Path:
    from funnel_tui.store.engine import redact_url, sqlite_path

    target = resolve_db(args)
    path = sqlite_path(target)
    if path is None:
        raise CliError(_("backups are for SQLite files; for {target} use the server's own backups (e.g. pg_dump)")
                       .format(target=redact_url(target)))
    return path


def _server(args: argparse.Namespace):
    """The open Store when the target is a team server, else None (a SQLite file)."""
    from funnel_tui.store.engine import sqlite_path

    if sqlite_path(resolve_db(args)) is not None:
        return None
    return open_store(args)


def _failed(line: str, exc) -> CliError:
    """A BackupError as one line (`line`: the translated "backup: {error}"), with exit 3 when
    the disk or the database said no."""
    code = EXIT_UNAVAILABLE if getattr(exc, "kind", "other") in DISK_KINDS else EXIT_ERROR
    return CliError(line.format(error=safe(exc)), exit_code=code)


def cmd_backup_create(args: argparse.Namespace) -> int:
    from funnel_tui.store.backup import BackupError, create_backup
    from funnel_tui.store.open_check import Opened, repair_after

    store = _server(args)
    if store is not None:
        from funnel_tui.store.pg_backup import ServerBackupError, dump_engine

        try:
            server_dump = dump_engine(store.engine, reason=args.reason, now=now_utc())
        except ServerBackupError as exc:
            raise CliError(_("backup: {error}").format(error=exc)) from None
        print(_("backup: {path} ({kib} KiB, pg_dump custom format, verified)").format(
            path=safe(server_dump.path), kib=server_dump.size // 1024))
        return EXIT_OK
    path = _db_path(args)
    now = now_utc()
    try:
        info = create_backup(path, reason=args.reason, now=now)
    except BackupError as exc:
        raise _failed(_("backup: {error}"), exc) from None
    print(_("backup: {path} ({kib} KiB, verified)").format(path=safe(info.path), kib=info.size // 1024))
    if info.repaired_indexes:  # the copy needed REINDEX: the database needs it too
        opened = Opened()
        repair_after(path, now, opened, info)
        for note in opened.notes:
            print(f"funnel: {safe(note)}", file=sys.stderr)
    return EXIT_OK


def cmd_backup_list(args: argparse.Namespace) -> int:
    from funnel_tui.domain.dates import format_shown, iso_local, local_tz
    from funnel_tui.store.backup import deal_count, is_future, list_backups

    store = _server(args)
    if store is not None:
        from funnel_tui.store.pg_backup import list_dumps

        found, name, count = list_dumps(store.engine.url), store.engine.url.database or "", lambda _p: None
    else:
        path = _db_path(args)
        found, name, count = list_backups(path), path.name, deal_count
    tz = local_tz()
    now = now_utc()
    rows = []
    for b in found:
        ahead = is_future(b, now)
        at = format_shown(b.at, tz, now=now) if args.format == "table" else iso_local(b.at, tz)
        rows.append({"file": b.path.name, "at": at + (_(" (clock ahead?)") if ahead and args.format == "table" else ""),
                     "reason": b.reason, "kib": b.size // 1024, "deals": count(b.path),
                     "future": ahead, "path": str(b.path)})
    cols = ["file", "at", "reason", "kib", "deals"]
    if args.format != "table":
        cols += ["future", "path"]
    emit(rows, args.format, cols, title=_("Backups of {name} (newest first)").format(name=name))
    return EXIT_OK


def _backup_named(path: Path, name: str) -> Path:
    from funnel_tui.store.backup import latest

    if name == "latest":
        newest = latest(path, now_utc())
        if newest is None:
            raise CliError(_("restore: no backups of {name} yet (funnel backup create)").format(name=path.name))
        return newest.path
    source = Path(name)
    if not source.exists() and (path.parent / "backups" / name).exists():
        source = path.parent / "backups" / name  # a name from `funnel backup list`
    return source


def cmd_backup_restore(args: argparse.Namespace) -> int:
    from funnel_tui.store.backup import BackupError, deal_count
    from funnel_tui.store.restore import restore_backup
    from funnel_tui.store.open_check import command

    store = _server(args)
    if store is not None:
        return _restore_server(store, args.backup)
    path = _db_path(args)
    source = _backup_named(path, args.backup)
    try:
        done = restore_backup(path, source, now=now_utc())
    except BackupError as exc:
        raise _failed(_("restore: {error}"), exc) from None
    msg = _("restored {name} from {source} ({n} deals)").format(name=path.name, source=safe(source.name),
                                                                n=deal_count(path))
    if done.saved is not None:
        msg += _("; the database as it was is saved as {saved}").format(saved=safe(done.saved.path.name))
    print(msg)
    if done.aside is not None:
        print(_("the damaged file is kept as {aside}; it may hold changes newer than the backup — copy them "
                "back with: {command}").format(aside=safe(done.aside),
                                                command=command(path, "backup", "recover", str(done.aside))))
    return EXIT_OK


def _restore_server(store, name: str) -> int:
    """A server's dump goes back into a NEW database beside the live one (never over it), or
    the exact commands are printed for an administrator."""
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
        raise CliError(_("restore: {error}").format(error=exc)) from None
    if done:
        print(_("restored {file} into the new database {db}; the live database is unchanged. Check it, "
                "then point the team at it (--db …/{db})").format(file=safe(source.name), db=plan.database))
    else:
        print(_("restore: this role may not create databases here (or pg_restore is missing); an "
                "administrator runs:"))
        for command in plan.commands:
            print("  " + command)
    return EXIT_OK


def cmd_backup_recover(args: argparse.Namespace) -> int:
    from funnel_tui.store.backup import BackupError, create_backup
    from funnel_tui.store.recover import recover

    path = _db_path(args)
    source = Path(args.file).expanduser()
    if not source.is_file():
        raise CliError(_("recover: no file {file}").format(file=safe(source)))
    if source.resolve() == path.resolve():
        raise CliError(_("recover: {file} is the database itself; name the damaged or older copy "
                         "(the file restore set aside, or a backup)").format(file=safe(source)))
    store = open_store(args)  # the start-up checks: this one must be sound and writable
    try:
        store.check_writable()
    finally:
        store.close()
    saved = None
    if not args.dry_run:
        try:
            saved = create_backup(path, reason="before-recover", now=now_utc())
        except BackupError as exc:
            raise _failed(_("recover: {error}"), exc) from None
    import sqlite3

    try:
        got = recover(path, source, dry_run=args.dry_run, use_cli=not args.no_sqlite3)
    except sqlite3.Error as exc:
        from funnel_tui.store import health

        problem = health.problem_of(exc, path)
        code = EXIT_UNAVAILABLE if problem.kind in DISK_KINDS else EXIT_ERROR
        raise CliError(_("recover: {why}; nothing was changed").format(why=problem.detail),
                       exit_code=code) from None
    verb = _("would copy") if args.dry_run else _("copied")
    print(_("recover: read {read} deals from {file} ({how}); {verb}: {added} new deals, {updated} deals "
            "brought up to date, {history} history rows, {follow_ups} follow-ups, {touches} touches").format(
        read=got.deals_read, file=safe(source.name), how=got.how, verb=verb, added=got.deals_added,
        updated=got.deals_updated, history=got.history, follow_ups=got.follow_ups, touches=got.touches))
    for why in got.skipped:
        print(_("  not copied: {why}").format(why=safe(why)))
    if saved is not None:
        print(_("  backup first: {name} (restore it to take this back)").format(name=safe(saved.path.name)))
    return EXIT_OK


def cmd_backup_start_empty(args: argparse.Namespace) -> int:
    import sqlite3

    from funnel_tui.store import health
    from funnel_tui.store.backup import BackupError
    from funnel_tui.store.restore import move_aside
    from funnel_tui.store.open_check import command

    path = _db_path(args)
    aside = None
    if path.exists() and path.stat().st_size > 0:
        try:
            problems = health.check(path, full=True)
        except sqlite3.Error as exc:
            problem = health.problem_of(exc, path)
            if problem.kind != "damaged":
                raise CliError(health.explain(problem, path), exit_code=EXIT_UNAVAILABLE) from None
            problems = [problem.detail]
        if not problems:
            raise CliError(_("start-empty: {path} holds a sound database; it never replaces one (to go "
                             "back to a backup: funnel backup restore)").format(path=safe(path)))
        if health.in_use(path):
            raise CliError(_("start-empty: the damaged database is still open in another funnel window or "
                             "command; close it first; nothing was changed"), exit_code=EXIT_UNAVAILABLE)
        try:
            aside = move_aside(path, now=now_utc())
        except OSError as exc:
            refusal = BackupError(str(exc), kind=health.problem_of(exc).kind)
            raise _failed(_("start-empty: {error}"), refusal) from None
    elif path.exists():
        path.unlink()  # an empty file: nothing in it to keep
    from funnel_tui.store import Store

    Store(path).close()
    print(_("started an empty database at {path}").format(path=safe(path)))
    if aside is not None:
        print(_("the damaged file is kept as {aside}; copy every deal it still holds back with: {command}").format(
            aside=safe(aside), command=command(path, "backup", "recover", str(aside))))
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "backup", _backup_usage,
                     _("verified backups of your database: create, list, restore, recover, start-empty"))
    actions = sp.add_subparsers(dest="backup_command", metavar=_("ACTION"))

    p = actions.add_parser("create", help=_("back up now (SQLite backup API, checked, private 0600)"))
    p.add_argument("--reason", default="manual", metavar=_("REASON"),
                   help=_("a word kept in the file name (default manual)"))
    p.set_defaults(func=cmd_backup_create)

    p = actions.add_parser("list", help=_("backups of this database, newest first"))
    add_format(p)
    p.set_defaults(func=cmd_backup_list)

    p = actions.add_parser("restore", help=_("put a backup back (the current database is backed up first; "
                                             "a damaged one is set aside for `recover`)"))
    p.add_argument("backup", metavar=_("backup"), help=_("a backup file or name from `funnel backup list`, or latest"))
    p.set_defaults(func=cmd_backup_restore)

    p = actions.add_parser("recover", help=_("copy back the deals, history, follow-ups and touches a damaged, "
                                             "set-aside or older file holds and this database lacks"))
    p.add_argument("file", metavar=_("file"), help=_("the file: the damaged one restore set aside, or a backup"))
    p.add_argument("--dry-run", action="store_true", help=_("say what would be copied; write nothing"))
    p.add_argument("--no-sqlite3", action="store_true",
                   help=_("read the file row by row even when the sqlite3 program (its .recover) is installed"))
    p.set_defaults(func=cmd_backup_recover)

    p = actions.add_parser("start-empty", help=_("begin an empty database where the file is missing, empty "
                                                 "or damaged (a damaged one is set aside); never over a sound one"))
    p.set_defaults(func=cmd_backup_start_empty)
    sp.set_defaults(_backup_parser=sp)


def _backup_usage(args: argparse.Namespace) -> int:
    args._backup_parser.print_help(sys.stdout)
    return EXIT_OK
