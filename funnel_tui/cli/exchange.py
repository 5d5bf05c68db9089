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
from funnel_tui.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from funnel_tui.exchange.importer import ImportReport

SOURCE_NAMES = {"funnel": N_("funnel-tui columns"), "template": N_("Chinese tracking template"),
                "pipedrive": N_("Pipedrive export"), "hubspot": N_("HubSpot export")}


# --- printing --------------------------------------------------------------------------------


def _rows(n: int) -> str:
    return ngettext("{n} row", "{n} rows", n).format(n=n)


def _print_report(r: ImportReport) -> None:
    out = sys.stdout
    name = safe(Path(r.path).name)
    source = _(SOURCE_NAMES[r.source]) if r.source in SOURCE_NAMES else r.source
    print(_("import: {name} ({encoding}, {source})").format(name=name, encoding=r.encoding, source=source), file=out)
    if r.ignored_columns:
        print("  " + _("ignored columns: {columns}").format(columns=", ".join(safe(c) for c in r.ignored_columns)),
              file=out)
    if r.aborted:
        print("  " + _("{rows} read; {rejected} rejected; --on-error abort: nothing was imported").format(
            rows=_rows(r.rows), rejected=r.rejected), file=out)
    else:
        parts = [_("{n} new").format(n=r.inserted)]
        if r.updated or r.unchanged:
            parts.append(_("{updated} updated, {unchanged} unchanged").format(updated=r.updated, unchanged=r.unchanged))
        parts += [_("{n} duplicates skipped").format(n=r.duplicates) if r.duplicates else _("no duplicates"),
                  _("{n} rejected").format(n=r.rejected)]
        line = (_("{rows} read; would import: {parts}") if r.dry_run else _("{rows} read; imported: {parts}")).format(
            rows=_rows(r.rows), parts=", ".join(parts))
        if r.follow_ups:
            line += _("; {follow_ups} planned").format(
                follow_ups=ngettext("{n} follow-up", "{n} follow-ups", r.follow_ups).format(n=r.follow_ups))
        print("  " + line, file=out)
    if r.owner_default:
        print("  " + (_("no owner column: the deals are {owner}'s") if not r.owner_column else
                      _("rows without an owner are {owner}'s")).format(owner=safe(r.owner_default)), file=out)
    elif not r.owner_column:
        print("  " + _("no owner column and no name set: the deals have no owner "
                       "(funnel settings me NAME, or --owner NAME)"), file=out)
    for line in r.reasons:
        print("  " + _("rejected {reason}").format(reason=safe(line)), file=out)
    if r.rejected > len(r.reasons):
        print("  " + _("… and {n} more rejected").format(n=r.rejected - len(r.reasons)), file=out)
    if r.unknown_stages:
        listed = ", ".join(f"{safe(k)!r} ({_rows(n)})" for k, n in r.unknown_stages.items())
        example = next(iter(r.unknown_stages))
        print("  " + _("unknown stages: {stages}; map them, e.g. --stage-map {example}=qualified "
                       "(see `funnel stages`)").format(stages=listed, example=repr(safe(example))), file=out)
    for line in r.duplicate_lines[:5]:
        print("  " + _("duplicate {line}").format(line=safe(line)), file=out)
    if r.rejected_file:
        print("  " + _("rejected rows, with a reason column, to fix and import again: {path}").format(
            path=safe(r.rejected_file)), file=out)
    if r.dry_run:
        print("  " + _("dry run: nothing was written"), file=out)
    elif r.backup:
        print("  " + _("backup first: {path}").format(path=safe(r.backup)), file=out)
    if not r.dry_run and not r.aborted and (r.inserted or r.updated):
        print("  " + _("undo the whole import with: funnel undo"), file=out)


# --- commands ---------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    from funnel_tui.exchange.csv_export import ExportError, export_deals, export_summary

    store = open_store(args)
    now, tz = now_utc(), local_tz()
    dest = args.path if args.path is not None else Path.cwd()
    try:
        if args.summary:
            res = export_summary(store, dest, now=now, tz=tz, owner=args.owner, encoding=args.encoding)
            done = _("exported {n} stages to {where} ({encoding})")
        else:
            res = export_deals(store, dest, now=now, tz=tz, owner=args.owner, status=args.status,
                               stage=args.stage, encoding=args.encoding)
            done = _("exported {n} deals to {where} ({encoding})")
    except ExportError as exc:
        raise CliError(_("export: {error}").format(error=exc)) from None
    except OSError as exc:  # the disk said no while writing (full, read-only, gone): one line, nothing left
        raise CliError(_("export: cannot write {path}: {reason}").format(
            path=safe(dest), reason=exc.strerror or type(exc).__name__)) from None
    where = "stdout" if res.path is None else str(res.path)
    print(done.format(n=res.rows, where=safe(where), encoding=res.encoding),
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
        raise CliError(_("import: cannot read {path}: {error}").format(
            path=safe(args.path), error=exc.strerror or type(exc).__name__)) from None
    if getattr(args, "format", "table") == "json":
        json.dump({**asdict(report), "ok": report.ok}, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        _print_report(report)
    return EXIT_OK if report.ok else EXIT_ERROR


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

    sp = add_command(sub, "import", cmd_import,
             _("import deals from CSV: our export, the Chinese template, Pipedrive or HubSpot "
               "(exit 1 if any row was rejected)"))
    sp.add_argument("path", metavar=_("path"), help=_("the CSV file"))
    sp.add_argument("--dry-run", action="store_true", help=_("check and report; write nothing"))
    sp.add_argument("--encoding", default="auto", metavar=_("ENCODING"),
                    help=_("auto (BOM, then UTF-8, then GB18030; the default), utf-8, gb18030, …"))
    sp.add_argument("--on-error", choices=("skip", "abort"), default="skip",
                    help=_("skip: import the good rows, write the bad ones to <file>.rejected.csv "
                           "(default); abort: one bad row means nothing is imported"))
    sp.add_argument("--update", action="store_true",
                    help=_("update deals whose uid/external_id already exist (default: skip them)"))
    sp.add_argument("--stage-map", action="append", metavar=_("OLD=NEW"),
                    help=_("map a stage name in the file to one of ours (repeatable), "
                           "e.g. --stage-map 'Contact Made=qualified'"))
    sp.add_argument("--owner", metavar=_("OWNER"), help=_("owner for rows that name none"))
    sp.add_argument("--format", choices=("table", "json"), default="table",
                    help=_("table: a report for people; json: the counts and reasons for scripts"))
