"""`funnel follow-up | done | log | snooze`: the next steps on a deal, and the calls that happened."""

from __future__ import annotations

import argparse
import sys

from funnel_tui.cli.common import (
    EXIT_OK,
    CliError,
    add_command,
    add_deal,
    add_past,
    fmt_time,
    now_utc,
    open_store,
    parse_follow_up,
    shown,
    whole_id,
)
from funnel_tui.domain.vocab import FOLLOWUP_KIND, FOLLOWUP_KINDS
from funnel_tui.i18n import _


def kind_code(text: str) -> str:
    """`--kind`: a code, or any word for one (电话, 拜访, phone) as its code; an unknown word is
    left as typed, for argparse's choices to refuse with the list."""
    return text if text in FOLLOWUP_KINDS else FOLLOWUP_KIND.lookup(text) or text


def cmd_follow_up(args: argparse.Namespace) -> int:
    from funnel_tui.domain.validation import FollowUpDraft

    store = open_store(args)
    due = parse_follow_up(args.when, allow_past=args.past)
    fid = store.add_follow_up(FollowUpDraft(args.deal, due, args.kind, args.note or ""), now=now_utc())
    print(_("follow-up {id} on deal {deal}: {kind} {when}").format(
        id=fid, deal=args.deal, kind=shown(FOLLOWUP_KIND, args.kind), when=fmt_time(due)))
    return EXIT_OK


def _next_step(res: dict, when) -> str:
    """The tail of a done/log message when the next follow-up was planned in the same step."""
    if not res["next_followup_id"]:
        return ""
    return _("; next follow-up {id} {when}").format(id=res["next_followup_id"], when=fmt_time(when))


def cmd_done(args: argparse.Namespace) -> int:
    store = open_store(args)
    now = now_utc()
    fid = args.followup
    if args.deal is not None:
        open_fus = store.deal_follow_ups(args.deal, open_only=True)
        if not open_fus:
            raise CliError(_("deal {id} has no open follow-up").format(id=args.deal))
        fid = open_fus[0]["id"]
    if fid is None:
        raise CliError(_("done: give a follow-up id (see `funnel due`) or --deal ID"))
    nxt = parse_follow_up(args.next, _("next"), allow_past=args.past) if args.next else None
    res = store.complete_follow_up(fid, now=now, note=args.note or "", next_due_at=nxt,
                                   next_kind=args.next_kind, next_note=args.next_note or "")
    print(_("done: follow-up {id} on deal {deal} logged").format(id=fid, deal=res["deal_id"]) + _next_step(res, nxt))
    return EXIT_OK


def cmd_log(args: argparse.Namespace) -> int:
    from funnel_tui.domain.validation import TouchDraft

    store = open_store(args)
    nxt = parse_follow_up(args.next, _("next"), allow_past=args.past) if args.next else None
    completes = args.followup
    open_fus = store.deal_follow_ups(args.deal, open_only=True)
    if args.done and completes is None:
        if not open_fus:
            raise CliError(_("done: deal {deal} has no open follow-up to complete").format(deal=args.deal))
        completes = open_fus[0]["id"]
    draft = TouchDraft(args.deal, args.kind, " ".join(args.note), nxt, args.next_kind or args.kind, "",
                       completes=completes)
    res = store.log_touch(draft, now=now_utc())
    done = _("; follow-up {id} done").format(id=completes) if completes is not None else ""
    print(_("logged {kind} on deal {deal}").format(kind=shown(FOLLOWUP_KIND, args.kind), deal=args.deal)
          + done + _next_step(res, nxt))
    if completes is None and open_fus:
        first = open_fus[0]
        print(_("note: follow-up {id} ({kind}, due {due}) is still open; `funnel done {id}` completes it, "
                "or log with --done next time").format(id=first["id"], kind=shown(FOLLOWUP_KIND, first["kind"]),
                                                       due=fmt_time(first["due_at"])), file=sys.stderr)
    return EXIT_OK


def cmd_snooze(args: argparse.Namespace) -> int:
    store = open_store(args)
    due = parse_follow_up(args.when, allow_past=args.past)
    store.snooze_follow_up(args.followup, due, now=now_utc())
    print(_("follow-up {id} snoozed to {when}").format(id=args.followup, when=fmt_time(due)))
    return EXIT_OK


def _add_next(sp: argparse.ArgumentParser) -> None:
    """--next WHEN and --next-kind: plan the next follow-up in the same step."""
    sp.add_argument("--next", metavar=_("WHEN"), help=_("schedule the next follow-up in the same step"))
    sp.add_argument("--next-kind", choices=FOLLOWUP_KINDS)
    add_past(sp)


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "follow-up", cmd_follow_up, _("plan a follow-up on a deal"))
    add_deal(sp)
    sp.add_argument("when", metavar=_("when"), help=_("e.g. tomorrow 10:00, +3d, fri, 2026-12-01 15:00"))
    sp.add_argument("--kind", default="call", type=kind_code, choices=FOLLOWUP_KINDS)
    sp.add_argument("--note", metavar=_("NOTE"), help=_("what to do"))
    add_past(sp)

    sp = add_command(sub, "done", cmd_done, _("complete a follow-up (logs a touch); --next plans the next one"))
    sp.add_argument("followup", nargs="?", type=whole_id, metavar=_("followup"),
                    help=_("follow-up id (see `funnel due`)"))
    sp.add_argument("--deal", type=whole_id, metavar=_("DEAL"),
                    help=_("complete this deal's earliest open follow-up instead"))
    sp.add_argument("--note", metavar=_("NOTE"), help=_("what was said"))
    _add_next(sp)
    sp.add_argument("--next-note", metavar=_("NEXT_NOTE"), help=_("what the next follow-up is for"))

    sp = add_command(sub, "log", cmd_log, _("log a contact (call, visit, …) on a deal"))
    add_deal(sp)
    sp.add_argument("note", nargs="+", metavar=_("note"), help=_("what was said, customer feedback"))
    sp.add_argument("--kind", default="call", type=kind_code, choices=FOLLOWUP_KINDS)
    sp.add_argument("--done", action="store_true",
                    help=_("this touch completes the deal's next open follow-up (the earliest), with this note"))
    sp.add_argument("--followup", type=whole_id, metavar=_("ID"),
                    help=_("this touch completes that open follow-up of the deal"))
    _add_next(sp)

    sp = add_command(sub, "snooze", cmd_snooze, _("move a follow-up to a later time"))
    sp.add_argument("followup", type=whole_id, metavar=_("followup"), help=_("follow-up id"))
    sp.add_argument("when", metavar=_("when"), help=_("e.g. +1d, +3d, +1w, mon 09:00"))
    add_past(sp)
