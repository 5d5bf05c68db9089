"""`funnel purge`: the purge queue (清理) — list the quiet deals of the lowest tier, keep one with
a note, remove one (lost: purged), or remove them all after a backup (one undo takes it back)."""

from __future__ import annotations

import argparse

from funnel_tui.cli.common import (
    EXIT_OK,
    CliError,
    add_command,
    add_format,
    emit,
    fmt_time,
    iso,
    local_tz,
    now_utc,
    open_store,
    safe,
    whole_id,
)
from funnel_tui.domain.vocab import FOLLOWUP_KINDS
from funnel_tui.i18n import _, active_lang, ngettext

COLUMNS = ["deal_id", "customer", "title", "stage", "owner", "amount", "currency", "tier", "quiet_since",
           "quiet_days"]


def candidate_rows(store, found, lang: str, *, table: bool) -> list[dict]:
    """The queue as rows: JSON keeps codes, exact amounts (strings) and ISO times; the table
    the rep's words."""
    from funnel_tui.domain.money import format_compact_in, minor_to_decimal
    from funnel_tui.domain.tiers import tier_label

    labels = {s.key: s.label(lang) for s in store.all_stages()}
    rows = []
    for c in found:
        rows.append({
            "deal_id": c.deal_id, "customer": c.customer, "title": c.title,
            "stage": labels.get(c.stage, c.stage) if table else c.stage, "owner": c.owner,
            "amount": format_compact_in(c.amount, lang) if table else str(minor_to_decimal(c.amount)),
            "amount_minor": c.amount, "currency": c.currency,
            "tier": tier_label(c.tier, lang) if table else c.tier,
            "quiet_since": fmt_time(c.quiet_since) if table else iso(c.quiet_since),
            "quiet_days": c.quiet_days,
        })
    return rows


def cmd_purge(args: argparse.Namespace) -> int:
    store = open_store(args)
    now, tz = now_utc(), local_tz()
    if args.apply:
        return _apply_all(args, store, now, tz)
    found = store.purge_candidates(now=now, tz=tz, pipeline=args.pipeline)
    months = store.purge_months()
    tiering = "amount" if store.get_setting("tiering") == "amount" else "abc"
    lang = active_lang()
    if args.format == "json":
        emit([], "json", [], json_value={
            "as_of": iso(now), "tiering": tiering, "lowest_tier": store.tier_cutoffs().lowest,
            "purge_after_months": months, "cutoff": iso(store.purge_cutoff(now=now, tz=tz)),
            "candidates": candidate_rows(store, found, lang, table=False)})
        return EXIT_OK
    rows = candidate_rows(store, found, lang, table=args.format == "table")
    emit(rows, args.format, COLUMNS, title=_("Purge queue"), optional=("quiet_since", "title", "owner"),
         footer=_("open deals of the lowest tier with no change for {n} months (funnel settings "
                  "purge_after_months); keep one: funnel purge keep ID --note …; remove one: funnel purge "
                  "remove ID --note …; all: funnel purge --apply --yes").format(n=months))
    return EXIT_OK


def _apply_all(args: argparse.Namespace, store, now, tz) -> int:
    if not args.yes:
        n = store.purge_count(now=now, tz=tz, pipeline=args.pipeline)
        raise CliError(ngettext("purge: this would mark {n} deal lost (purged); add --yes to do it",
                                "purge: this would mark {n} deals lost (purged); add --yes to do it", n).format(n=n))
    done = store.purge_all(now=now, tz=tz, note=args.note or "", pipeline=args.pipeline)
    n = len(done["deal_ids"])
    if args.format == "json":
        emit([], "json", [], json_value=done)
        return EXIT_OK
    if not n:
        print(_("purge: the queue is empty; nothing was changed"))
        return EXIT_OK
    print(safe(ngettext("purged {n} deal (lost: purged); backup first: {backup}; funnel undo takes it back",
                        "purged {n} deals (lost: purged); backup first: {backup}; funnel undo takes them all back",
                        n).format(n=n, backup=done["backup"] or "-")))
    return EXIT_OK


def cmd_keep(args: argparse.Namespace) -> int:
    store = open_store(args)
    store.purge_keep(args.deal, args.note, now=now_utc(), tz=local_tz(), kind=args.kind)
    print(safe(_("deal {id} kept: the note is logged and its quiet clock starts again").format(id=args.deal)))
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    store = open_store(args)
    deal = store.purge_remove(args.deal, args.note, now=now_utc(), tz=local_tz())
    print(safe(_("deal {id} ({customer}) removed: lost, reason purged").format(id=args.deal,
                                                                               customer=deal["customer"])))
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "purge", cmd_purge,
                     _("the purge queue: quiet deals of the lowest tier to keep (with a note) or remove"))
    sp.add_argument("--apply", action="store_true",
                    help=_("remove every deal in the queue (lost: purged), after a backup; undo takes it back"))
    sp.add_argument("--yes", action="store_true", help=_("with --apply: do it (without it, only the count)"))
    sp.add_argument("--note", metavar=_("NOTE"), help=_("with --apply: the note of every removal"))
    sp.add_argument("--pipeline", metavar=_("PIPELINE"), help=_("one pipeline's queue"))
    add_format(sp)
    what = sp.add_subparsers(dest="purge_action", metavar=_("keep|remove"))
    keep = what.add_parser("keep", help=_("keep a deal in your funnel: the note is logged, the clock restarts"))
    keep.add_argument("deal", type=whole_id, metavar=_("deal"), help=_("deal id"))
    keep.add_argument("--note", required=True, metavar=_("NOTE"), help=_("why it stays"))
    keep.add_argument("--kind", default="task", choices=FOLLOWUP_KINDS, help=_("the kind of the touch (default task)"))
    keep.set_defaults(func=cmd_keep)
    remove = what.add_parser("remove", help=_("remove a deal: lost, reason purged, with the note"))
    remove.add_argument("deal", type=whole_id, metavar=_("deal"), help=_("deal id"))
    remove.add_argument("--note", required=True, metavar=_("NOTE"), help=_("why it goes"))
    remove.set_defaults(func=cmd_remove)
