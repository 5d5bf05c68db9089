"""`funnel export` and `funnel import`: CSV for the team lead and for onboarding.

The work is in exchange (csv_export, importer); this module parses the arguments and
prints what happened. Exit codes: 0 done; 1 refused, or some rows were rejected (the
report says which).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from funnel_tui.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    CliError,
    add_command,
    ask_name_once,
    local_tz,
    now_utc,
    open_store,
    safe,
)
from funnel_tui.domain.vocab import DEAL_STATUSES
from funnel_tui.i18n import _

if TYPE_CHECKING:
    from funnel_tui.exchange.importer import ImportReport

SOURCE_NAMES = {"funnel": "funnel-tui columns", "template": "Chinese tracking template",
                "pipedrive": "Pipedrive export", "hubspot": "HubSpot export"}


# --- printing --------------------------------------------------------------------------------


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _print_report(r: ImportReport) -> None:
    out = sys.stdout
    name = safe(Path(r.path).name)
    print(f"import: {name} ({r.encoding}, {SOURCE_NAMES.get(r.source, r.source)})", file=out)
    if r.ignored_columns:
        print("  ignored columns: " + ", ".join(safe(c) for c in r.ignored_columns), file=out)
    if r.aborted:
        print(f"  {_n(r.rows, 'row')} read; {r.rejected} rejected; --on-error abort: nothing was imported",
              file=out)
    else:
        verb = "would import" if r.dry_run else "imported"
        parts = [f"{r.inserted} new"]
        if r.updated or r.unchanged:
            parts.append(f"{r.updated} updated, {r.unchanged} unchanged")
        parts += [f"{r.duplicates} duplicates skipped" if r.duplicates else "no duplicates",
                  f"{r.rejected} rejected"]
        print(f"  {_n(r.rows, 'row')} read; {verb}: {', '.join(parts)}"
              + (f"; {_n(r.follow_ups, 'follow-up')} planned" if r.follow_ups else ""), file=out)
    if r.owner_default:
        print("  " + (_("no owner column: the deals are {owner}'s") if not r.owner_column else
                      _("rows without an owner are {owner}'s")).format(owner=safe(r.owner_default)), file=out)
    elif not r.owner_column:
        print("  " + _("no owner column and no name set: the deals have no owner "
                       "(funnel settings me NAME, or --owner NAME)"), file=out)
    for line in r.reasons:
        print(f"  rejected {safe(line)}", file=out)
    if r.rejected > len(r.reasons):
        print(f"  … and {r.rejected - len(r.reasons)} more rejected", file=out)
    if r.unknown_stages:
        listed = ", ".join(f"{safe(k)!r} ({n} row{'s' if n != 1 else ''})" for k, n in r.unknown_stages.items())
        example = next(iter(r.unknown_stages))
        print(f"  unknown stages: {listed}; map them, e.g. --stage-map {safe(example)!r}=qualified "
              "(see `funnel stages`)", file=out)
    for line in r.duplicate_lines[:5]:
        print(f"  duplicate {safe(line)}", file=out)
    if r.rejected_file:
        print(f"  rejected rows, with a reason column, to fix and import again: {safe(r.rejected_file)}", file=out)
    if r.dry_run:
        print("  dry run: nothing was written", file=out)
    elif r.backup:
        print(f"  backup first: {safe(r.backup)}", file=out)
    if not r.dry_run and not r.aborted and (r.inserted or r.updated):
        print("  undo the whole import with: funnel undo", file=out)


# --- commands ---------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    from funnel_tui.exchange.csv_export import ExportError, export_deals, export_summary

    store = open_store(args)
    now, tz = now_utc(), local_tz()
    dest = args.path if args.path is not None else Path.cwd()
    try:
        if args.summary:
            res = export_summary(store, dest, now=now, tz=tz, owner=args.owner, encoding=args.encoding)
            what = "stages"
        else:
            res = export_deals(store, dest, now=now, tz=tz, owner=args.owner, status=args.status,
                               stage=args.stage, encoding=args.encoding)
            what = "deals"
    except ExportError as exc:
        raise CliError(f"export: {exc}") from None
    except OSError as exc:  # the disk said no while writing (full, read-only, gone): one line, nothing left
        raise CliError(_("export: cannot write {path}: {reason}").format(
            path=safe(dest), reason=exc.strerror or type(exc).__name__)) from None
    where = "stdout" if res.path is None else str(res.path)
    print(f"exported {res.rows} {what} to {safe(where)} ({res.encoding})",
          file=sys.stderr if res.path is None else sys.stdout)
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from funnel_tui.exchange.import_read import ImportFileError
    from funnel_tui.exchange.importer import import_file

    store = open_store(args)
    if not args.owner:
        ask_name_once(store)  # the first time only, and only on a terminal
    try:
        report = import_file(
            store, args.path, now=now_utc(), tz=local_tz(), dry_run=args.dry_run, encoding=args.encoding,
            on_error=args.on_error, update=args.update, stage_map=args.stage_map or (), owner=args.owner,
        )
    except ImportFileError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"import: cannot read {safe(args.path)}: {exc.strerror or type(exc).__name__}") from None
    if getattr(args, "format", "table") == "json":
        json.dump({**asdict(report), "ok": report.ok}, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        _print_report(report)
    return EXIT_OK if report.ok else EXIT_ERROR


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "export", cmd_export, "export deals to CSV for Excel (UTF-8 with BOM, formula-safe)")
    sp.add_argument("path", nargs="?", metavar="PATH|-",
                    help="file or folder to write (default: a dated file here); - for stdout")
    sp.add_argument("--owner", help="only this rep's deals")
    sp.add_argument("--status", choices=(*DEAL_STATUSES, "all"), default="open",
                    help="which deals (default open)")
    sp.add_argument("--stage", help="only this stage (key or name)")
    sp.add_argument("--encoding", choices=("utf-8-sig", "utf-8", "gb18030", "gbk"), default="utf-8-sig",
                    help="utf-8-sig (default: Excel reads Chinese correctly), utf-8, or gb18030/gbk "
                         "for old Excel; characters an encoding cannot hold are reported, never replaced")
    sp.add_argument("--summary", action="store_true", help="write the per-stage summary table instead")

    sp = add_command(sub, "import", cmd_import,
             "import deals from CSV: our export, the Chinese template, Pipedrive or HubSpot "
             "(exit 1 if any row was rejected)")
    sp.add_argument("path", help="the CSV file")
    sp.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
    sp.add_argument("--encoding", default="auto",
                    help="auto (BOM, then UTF-8, then GB18030; the default), utf-8, gb18030, …")
    sp.add_argument("--on-error", choices=("skip", "abort"), default="skip",
                    help="skip: import the good rows, write the bad ones to <file>.rejected.csv "
                         "(default); abort: one bad row means nothing is imported")
    sp.add_argument("--update", action="store_true",
                    help="update deals whose uid/external_id already exist (default: skip them)")
    sp.add_argument("--stage-map", action="append", metavar="OLD=NEW",
                    help="map a stage name in the file to one of ours (repeatable), "
                         "e.g. --stage-map 'Contact Made=qualified'")
    sp.add_argument("--owner", help="owner for rows that name none")
    sp.add_argument("--format", choices=("table", "json"), default="table",
                    help="table: a report for people; json: the counts and reasons for scripts")
