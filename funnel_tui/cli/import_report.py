"""`funnel import`: its options, the run, and the report a rep reads.

The work is exchange.importer's; this module turns the options into ImportOptions, keeps a
mapping with --save-profile, lists the profiles (--profiles) and prints the ImportReport:
which profile, encoding and delimiter (or sheet) were used, the columns left out (the first
ten and a count), the counts, the first reasons, and where the refused rows went.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from funnel_tui.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_PARTLY,
    CliError,
    ask_name_once,
    local_tz,
    now_utc,
    open_store,
    resolve_db,
    safe,
)
from funnel_tui.i18n import _, ngettext

if TYPE_CHECKING:
    from funnel_tui.exchange.importer import ImportOptions, ImportReport

SHOWN_IGNORED = 10


def add_import_options(sp: argparse.ArgumentParser) -> None:
    """The options of `funnel import` (argparse only: nothing heavy at import)."""
    # An import leaves millions of cells behind; its process ends without tearing them down.
    sp.set_defaults(leave_at_once=True)
    sp.add_argument("path", nargs="?", help=_("the file: CSV (any delimiter, any common encoding) or .xlsx"))
    sp.add_argument("--profiles", action="store_true",
                    help=_("list the profiles (the tools whose exports are read without options) and stop"))
    sp.add_argument("--profile", metavar=_("KEY"), help=_("read the file with this profile (see --profiles)"))
    sp.add_argument("--map", action="append", metavar=_("HEADER=FIELD"), default=[],
                    help=_("read column HEADER as FIELD (repeatable), e.g. --map 'Account Name=customer'; "
                           "FIELD - leaves a column out"))
    sp.add_argument("--save-profile", metavar=_("NAME"),
                    help=_("keep this file's --map, --stage-map and reading options as profile NAME, "
                           "used for the next file with the same columns"))
    sp.add_argument("--stage-map", action="append", metavar=_("OLD=NEW"),
                    help=_("map a stage name in the file to one of ours, or to lost (repeatable), "
                           "e.g. --stage-map 'Contact Made=qualified'"))
    dec = sp.add_mutually_exclusive_group()
    dec.add_argument("--decimal-comma", dest="decimal", action="store_const", const="comma",
                     help=_("amounts are written 1.234,56 (when the column itself cannot tell)"))
    dec.add_argument("--decimal-point", dest="decimal", action="store_const", const="point",
                     help=_("amounts are written 1,234.56 (when the column itself cannot tell)"))
    sp.add_argument("--date-order", choices=("dmy", "mdy", "ymd"),
                    help=_("how 03/04/2024 is read, when the column itself cannot tell"))
    sp.add_argument("--currency", metavar=_("CODE"),
                    help=_("the currency of amounts that name none, and of $ or ¥ (e.g. USD, CNY)"))
    sp.add_argument("--sheet", metavar=_("NAME|N"), help=_("the sheet of an .xlsx workbook (default: the first)"))
    sp.add_argument("--encoding", default="auto",
                    help=_("auto (the default: a BOM, UTF-8, then GB18030, Big5, Shift_JIS, UTF-16 or "
                           "Windows-1252 when certain), or e.g. gb18030, big5, cp1252"))
    sp.add_argument("--dry-run", action="store_true", help=_("check and report; write nothing"))
    sp.add_argument("--on-error", choices=("skip", "abort"), default="skip",
                    help=_("skip: import the good rows, write the bad ones to <file>.rejected.csv "
                           "(default); abort: one bad row means nothing is imported"))
    sp.add_argument("--update", action="store_true",
                    help=_("update deals whose uid/external_id already exist (default: skip them)"))
    sp.add_argument("--owner", help=_("owner for rows that name none (default: you, the `me` setting)"))
    sp.add_argument("--format", choices=("table", "json"), default="table",
                    help=_("table: a report for people; json: the counts and reasons for scripts"))


def run_import(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from funnel_tui.exchange.import_read import ImportFileError
    from funnel_tui.exchange.importer import import_file

    if args.profiles:
        return _list_profiles(args)
    if not args.path:
        raise CliError(_("import: name the file to import (or --profiles to list the profiles)"))
    options = _options(args)
    now, tz = now_utc(), local_tz()
    early = _early_reader(args, options, now, tz)
    try:
        store = open_store(args)
        if not args.owner:
            ask_name_once(store)  # the first time only, and only on a terminal
        owner = _owner(args, store)
        report = import_file(store, args.path, now=now, tz=tz, dry_run=args.dry_run, on_error=args.on_error,
                             update=args.update, owner=owner, options=options, early=early)
    except ImportFileError as exc:  # a full disk, a backup or rejected file that failed: exit 3
        raise CliError(str(exc), exit_code=getattr(exc, "exit_code", EXIT_ERROR)) from None
    except OSError as exc:
        raise CliError(_("import: cannot read {path}: {why}").format(
            path=safe(args.path), why=exc.strerror or type(exc).__name__)) from None
    finally:
        if early is not None:
            early.reader.stop()  # the store refused, or the import is done: no reader outlives it
    saved = _save(args, report, options) if args.save_profile else None
    if getattr(args, "format", "table") == "json":
        json.dump({**asdict(report), "ok": report.ok, "saved_profile": saved}, sys.stdout,
                  ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print_report(report)
        if saved:
            print(_("  saved profile {name}: {path}; the next file with these columns is read with it").format(
                name=safe(args.save_profile), path=safe(saved)))
    if report.rejected_file_error:  # committed: said so above; the failure on its own line
        print(f"funnel: {safe(report.rejected_file_error)}", file=sys.stderr)
        return EXIT_PARTLY
    return EXIT_OK if report.ok else EXIT_ERROR


def _early_reader(args: argparse.Namespace, options: ImportOptions, now, tz):
    """A big CSV's reader forked before the store opens (exchange/import_early.py), for a real
    import into a SQLite file; None otherwise. The importer uses it only if it fits."""
    if args.dry_run or _owner_is_me(args):
        return None  # --owner me is the store's to say
    from funnel_tui.exchange.import_early import start
    from funnel_tui.exchange.importer import BATCH
    from funnel_tui.store.engine import sqlite_path

    return start(args.path, sqlite_path(resolve_db(args)), options, owner=args.owner or None, now=now, tz=tz,
                 batch=BATCH)


def _options(args: argparse.Namespace) -> ImportOptions:
    from funnel_tui.exchange.importer import ImportOptions
    from funnel_tui.exchange.profiles.saved import SavedProfileError, load_saved, parse_map

    try:
        mapping = parse_map(args.map)
    except SavedProfileError as exc:
        raise CliError(str(exc)) from None
    currency = None
    if args.currency:
        from funnel_tui.exchange.currencies import code_of_column

        try:
            currency = code_of_column(args.currency)
        except ValueError as exc:
            raise CliError(_("currency: {error}").format(error=exc)) from None
    saved, problems = load_saved()
    for line in problems:
        print(_("funnel: a saved import profile was skipped: {problem}").format(problem=safe(line)),
              file=sys.stderr)
    return ImportOptions(encoding=args.encoding, sheet=args.sheet, decimal=args.decimal,
                         date_order=args.date_order, currency=currency, profile=args.profile,
                         mapping=mapping, stage_map=args.stage_map or (), saved=saved)


def _owner(args: argparse.Namespace, store) -> str | None:
    """--owner (`me` is the rep in settings); without it the importer gives rows that name no
    owner to the rep (store.me())."""
    if _owner_is_me(args):
        return store.me() or args.owner
    return args.owner or None


def _owner_is_me(args: argparse.Namespace) -> bool:
    return bool(args.owner) and args.owner.strip().casefold() == "me"


def _save(args: argparse.Namespace, report: ImportReport, options: ImportOptions) -> str:
    from funnel_tui.exchange.profiles.saved import SavedProfileError, save_profile

    stages = {}
    for item in options.stage_map:
        old, _sep, new = item.partition("=")
        stages[old.strip()] = new.strip()
    base = report.profile if report.profile and not report.profile.startswith(("saved:", "map")) else None
    mapping = dict(options.mapping) or {h: f for h, f in report.columns if f}
    try:
        path = save_profile(args.save_profile, mapping, stages=stages, decimal=options.decimal,
                            date_order=options.date_order, currency=options.currency, base=base)
    except (SavedProfileError, OSError) as exc:
        raise CliError(_("save-profile: {error}").format(error=exc)) from None
    return str(path)


def _list_profiles(args: argparse.Namespace) -> int:
    from funnel_tui.exchange.profiles import describe
    from funnel_tui.exchange.profiles.saved import load_saved

    saved, problems = load_saved()
    rows = [{"key": k, "name": _(n), "source": s} for k, n, s in describe()]
    rows += [{"key": p.key, "name": p.name, "source": p.source} for p in saved]
    if getattr(args, "format", "table") == "json":
        import json

        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    print(_("Profiles (recognised from a file's header; choose one with --profile KEY):"))
    for row in rows:
        print(f"  {row['key']:<12} {safe(row['name'])}")
        print(f"  {'':<12} {safe(row['source'])}")
    for line in problems:
        print(_("  skipped: {problem}").format(problem=safe(line)))
    return EXIT_OK


# --- the report --------------------------------------------------------------------------------


def print_report(r: ImportReport) -> None:
    from funnel_tui.exchange.importer import DELIMITER_NAMES, ENCODING_HOW

    out = sys.stdout
    name = safe(Path(r.path).name)
    how = r.encoding if r.encoding else _("workbook")
    print(_("import: {name} ({how}, {profile})").format(name=name, how=how, profile=safe(_(r.profile_name))),
          file=out)
    if r.sheet:
        print(_("  read as: profile {key}, sheet {sheet!r}").format(key=r.profile, sheet=safe(r.sheet)), file=out)
    else:
        print(_("  read as: profile {key}, encoding {label} ({how}), delimiter {delimiter}").format(
            key=r.profile, label=r.encoding_label, how=_(ENCODING_HOW.get(r.encoding_how, r.encoding_how)),
            delimiter=_(DELIMITER_NAMES.get(r.delimiter, r.delimiter))), file=out)
    if r.ignored_columns:
        names = ", ".join(repr(safe(c)) for c in r.ignored_columns[:SHOWN_IGNORED])
        more = len(r.ignored_columns) - SHOWN_IGNORED
        line = ngettext("  ignored {n} column: {names}", "  ignored {n} columns: {names}",
                        len(r.ignored_columns)).format(n=len(r.ignored_columns), names=names)
        if more > 0:
            line += _(" and {more} more").format(more=more)
        print(line + _(" (read one with --map \"Header=field\")"), file=out)
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
            rows=_rows(r.rows), parts=_(", ").join(parts))  # the rep's punctuation (，in Chinese)
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
    if r.rounded_probabilities:
        print(ngettext("  {n} probability was rounded to a whole percent",
                       "  {n} probabilities were rounded to a whole percent",
                       r.rounded_probabilities).format(n=r.rounded_probabilities), file=out)
    for line in r.reasons:
        print("  " + _("rejected {reason}").format(reason=safe(line)), file=out)
    if r.rejected > len(r.reasons):
        print("  " + _("… and {n} more rejected").format(n=r.rejected - len(r.reasons)), file=out)
    if r.unknown_stages:
        listed = ", ".join(f"{safe(k)!r} ({_rows(n)})" for k, n in r.unknown_stages.items())
        example = next(iter(r.unknown_stages))
        print("  " + _("unknown stages: {stages}; map them, e.g. --stage-map {example}=qualified "
                       "(or =lost; see `funnel stages`)").format(stages=listed, example=repr(safe(example))), file=out)
    for line in r.duplicate_lines[:5]:
        print("  " + _("duplicate {line}").format(line=safe(line)), file=out)
    if r.rejected_file:
        print("  " + _("rejected rows, with a reason column, to fix and import again: {path}").format(
            path=safe(r.rejected_file)), file=out)
    if r.rejected_file_error:
        print(_("  the import is committed (do not import the file again), but {why}: fix the rows listed "
                "above").format(why=safe(r.rejected_file_error)), file=out)
    if r.dry_run:
        print("  " + _("dry run: nothing was written"), file=out)
    elif r.backup:
        print("  " + _("backup first: {path}").format(path=safe(r.backup)), file=out)
    if not r.dry_run and not r.aborted and r.inserted:
        # Each new deal was scored as the import wrote it (store/scoring.py, ImportScoring).
        print("  " + _("lead scores: a score in the file is kept as set by hand; the scorecard scored the "
                       "others as they were imported"), file=out)
    if not r.dry_run and not r.aborted and (r.inserted or r.updated):
        print("  " + _("undo the whole import with: funnel undo"), file=out)


def _rows(n: int) -> str:
    return ngettext("{n} row", "{n} rows", n).format(n=n)
