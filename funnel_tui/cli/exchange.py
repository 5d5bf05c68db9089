"""`funnel export` and `funnel import`: CSV for the team lead and for onboarding.

The work is in exchange (csv_export, importer); this module parses the arguments and
prints what happened. Exit codes: 0 done; 1 refused, or some rows were rejected (the
report says which).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from funnel_tui.cli.common import (
    EXIT_OK,
    EXIT_UNAVAILABLE,
    CliError,
    add_command,
    local_tz,
    now_utc,
    open_store,
    safe,
)
from funnel_tui.cli.import_report import add_import_options, run_import
from funnel_tui.domain.vocab import DEAL_STATUSES
from funnel_tui.i18n import _

# --- commands ---------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    from funnel_tui.exchange.csv_export import ExportError, export_deals, export_lessons, export_summary

    store = open_store(args)
    now, tz = now_utc(), local_tz()
    dest = args.path if args.path is not None else Path.cwd()
    try:
        if args.lessons:
            res = export_lessons(store, dest, now=now, tz=tz, owner=args.owner, encoding=args.encoding)
            done = _("exported {n} lessons to {where} ({encoding})")
        elif args.summary:
            res = export_summary(store, dest, now=now, tz=tz, owner=args.owner, encoding=args.encoding)
            done = _("exported {n} stages to {where} ({encoding})")
        else:
            res = export_deals(store, dest, now=now, tz=tz, owner=args.owner, status=args.status,
                               stage=args.stage, encoding=args.encoding)
            done = _("exported {n} deals to {where} ({encoding})")
    except ExportError as exc:
        raise CliError(_("export: {error}").format(error=exc), exit_code=exc.exit_code) from None
    except OSError as exc:  # the disk said no while writing (full, read-only, gone): one line, nothing left
        from funnel_tui.store.health import problem_of

        disk = problem_of(exc).kind in ("full", "read_only", "permission")
        raise CliError(_("export: cannot write {path}: {reason}").format(
            path=safe(dest), reason=exc.strerror or type(exc).__name__),
            exit_code=EXIT_UNAVAILABLE if disk else EXIT_ERROR) from None
    # Only now, with every row on the disk (or handed whole to the pipe), is it "exported".
    where = "stdout" if res.path is None else str(res.path)
    print(done.format(n=res.rows, where=safe(where), encoding=res.encoding),
          file=sys.stderr if res.path is None else sys.stdout)
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    return run_import(args)


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "export", cmd_export, _("export deals to CSV for Excel (UTF-8 with BOM, formula-safe)"))
    sp.add_argument("path", nargs="?", metavar=_("PATH|-"),
                    help=_("file or folder to write (default: a dated file here); - for stdout"))
    sp.add_argument("--owner", metavar=_("OWNER"), help=_("only this rep's deals"))
    sp.add_argument("--status", choices=(*DEAL_STATUSES, "all"), default="open",
                    help=_("which deals (default open)"))
    sp.add_argument("--stage", metavar=_("STAGE"), help=_("only this stage (key or name)"))
    sp.add_argument("--encoding", choices=("utf-8-sig", "utf-8", "gb18030", "gbk"), default="utf-8-sig",
                    help=_("utf-8-sig (default: Excel reads Chinese correctly), utf-8, or gb18030/gbk "
                           "for old Excel; characters an encoding cannot hold are reported, never replaced"))
    sp.add_argument("--summary", action="store_true", help=_("write the per-stage summary table instead"))
    sp.add_argument("--lessons", action="store_true",
                    help=_("write the lessons of won and lost deals instead (复盘: one row per lesson)"))

    add_import_options(add_command(sub, "import", cmd_import, _(
        "import deals from CSV or .xlsx: our export, our Chinese template, Pipedrive, HubSpot, "
        "Salesforce, Zoho, Odoo, Twenty, WukongCRM, Cordys, or any file with --map "
        "(exit 1 if any row was rejected)")))
