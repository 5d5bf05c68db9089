"""`funnel team init | add-rep | add-lead | migrate | whoami`: a team on one PostgreSQL server.

The administrator (the database's owner, or a superuser) runs `init` once (again is
harmless), then `add-rep` / `add-lead` for each person; each person then connects with
their own name and password: `funnel --db postgresql://NAME:PASSWORD@host/db`.
`migrate` brings the server's schema to this funnel-tui's version, after a pg_dump backup.
"""

from __future__ import annotations

import argparse
import sys

from funnel_tui.cli.common import EXIT_OK, CliError, add_command, open_store, resolve_db
from funnel_tui.i18n import _


def _server_target(args: argparse.Namespace) -> str:
    from funnel_tui.store.engine import sqlite_path

    target = resolve_db(args)
    if sqlite_path(target) is not None:
        raise CliError(_("team: a team works on a PostgreSQL server: funnel --db postgresql://ADMIN@HOST/DB "
                         "team {command}").format(command=args.team_command))
    return target


def _refusal(exc: Exception, target: str) -> CliError:
    """A server error at set-up as one line: the cause named, never the password."""
    from funnel_tui.store.pg_engine import explain

    why = explain(exc, target)
    if why is None:
        raise exc
    return CliError(str(why))


def cmd_init(args: argparse.Namespace) -> int:
    from funnel_tui.store.pg_team import init_team

    target = _server_target(args)
    try:
        before, after = init_team(target)
    except Exception as exc:  # noqa: BLE001 - named by _refusal, or re-raised
        raise _refusal(exc, target) from None
    if before == 0:
        print(_("team: schema created (version {v})").format(v=after))
    elif before != after:
        print(_("team: schema migrated from version {a} to {b}").format(a=before, b=after))
    print(_("team: roles funnel_rep and funnel_lead, grants and row-level security are in place; "
            "add people with: funnel --db URL team add-rep NAME --password P"))
    return EXIT_OK


def _password(args: argparse.Namespace) -> str:
    if args.password is not None and args.password != "-":
        return args.password
    if args.password is None and sys.stdin.isatty():
        import getpass

        return getpass.getpass(_("password for {name}: ").format(name=args.name))
    return sys.stdin.readline().rstrip("\n")  # `--password -`, or piped in


def _add(args: argparse.Namespace, *, lead: bool) -> int:
    from funnel_tui.store.pg_engine import server_url
    from funnel_tui.store.pg_team import add_member

    target = _server_target(args)
    try:
        new = add_member(target, args.name, _password(args), lead=lead)
    except Exception as exc:  # noqa: BLE001
        raise _refusal(exc, target) from None
    url = server_url(target).set(username=args.name, password=None, drivername="postgresql")
    who = _("lead") if lead else _("rep")
    verb = _("added") if new else _("updated (password and group)")
    print(_("team: {who} {name} {verb}; they connect with: funnel --db {url}").format(
        who=who, name=args.name, verb=verb,
        url=url.render_as_string(hide_password=True).replace(f"{args.name}@", f"{args.name}:PASSWORD@", 1)))
    return EXIT_OK


def cmd_add_rep(args: argparse.Namespace) -> int:
    return _add(args, lead=False)


def cmd_add_lead(args: argparse.Namespace) -> int:
    return _add(args, lead=True)


def cmd_migrate(args: argparse.Namespace) -> int:
    from funnel_tui.store.pg_backup import ServerBackupError, dump_engine
    from funnel_tui.store.pg_engine import create_pg_engine
    from funnel_tui.store.pg_schema import migrate_server
    from funnel_tui.store.pg_team import apply_team_rules

    target = _server_target(args)
    engine = create_pg_engine(target)
    try:
        if not args.without_backup:
            try:
                info = dump_engine(engine, reason="before-migrate")
            except ServerBackupError as exc:
                raise CliError(_("migrate: no migration without a backup, and the backup failed: {why} "
                                 "(--without-backup if you have your own)").format(why=exc)) from None
            print(_("backup first: {path}").format(path=info.path))
        before, after = migrate_server(engine)
        apply_team_rules(engine, only_if_team=True)  # grants for what the steps added
    except CliError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _refusal(exc, target) from None
    finally:
        engine.dispose()
    if before == after:
        print(_("migrate: the server's schema is already version {v}").format(v=after))
    else:
        print(_("migrate: the server's schema went from version {a} to {b}").format(a=before, b=after))
    return EXIT_OK


def cmd_whoami(args: argparse.Namespace) -> int:
    store = open_store(args)
    role = store.team_role() if store.server else None
    words = {"lead": _("lead"), "rep": _("rep")}
    print(_("{name} ({role})").format(name=store.author, role=words.get(role or "", _("not in a team"))))
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "team", _team_usage, _("a team on one PostgreSQL server: init, add-rep, add-lead, migrate"))
    actions = sp.add_subparsers(dest="team_command", metavar=_("ACTION"))

    p = actions.add_parser("init", help=_("create or upgrade the schema, the roles, grants and row-level "
                                          "security (safe to run again)"))
    p.set_defaults(func=cmd_init)
    for name, func, help_ in (("add-rep", cmd_add_rep, _("add a rep: sees and changes their own deals")),
                              ("add-lead", cmd_add_lead, _("add a lead: sees every rep's deals and may "
                                                           "reassign them"))):
        p = actions.add_parser(name, help=help_)
        p.add_argument("name", help=_("their name: the login and the owner of their deals"))
        p.add_argument("--password", help=_("their password (leave out to be asked; - reads it from stdin)"))
        p.set_defaults(func=func)
    p = actions.add_parser("migrate", help=_("bring the server's schema to this version (pg_dump backup first)"))
    p.add_argument("--without-backup", action="store_true", help=_("skip the pg_dump backup (you have your own)"))
    p.set_defaults(func=cmd_migrate)
    p = actions.add_parser("whoami", help=_("who you are connected as, and your part in the team"))
    p.set_defaults(func=cmd_whoami)
    sp.set_defaults(_team_parser=sp)


def _team_usage(args: argparse.Namespace) -> int:
    args._team_parser.print_help(sys.stdout)
    return EXIT_OK
