"""`funnel add | edit | move | lose | reopen | delete | restore`: one deal's life in the funnel."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from funnel_tui.cli.common import (
    EXIT_OK,
    CliError,
    add_command,
    add_deal,
    add_past,
    add_pipeline_option,
    ask_name_once,
    fmt_time,
    local_tz,
    now_utc,
    open_store,
    owner_hint,
    parse_follow_up,
    safe,
)
from funnel_tui.domain.vocab import FOLLOWUP_KINDS
from funnel_tui.i18n import _

DEAL_OPTIONS: tuple[tuple[str, str, str], ...] = (
    # (flag, field, help)
    ("--title", "title", "what is being sold, e.g. 'CRM annual licence'"),
    ("--stage", "stage", "stage key or name (default: the first stage)"),
    ("--amount", "amount", "deal value, e.g. 12500, 12,500.50, 3万"),
    ("--currency", "currency", "three-letter code (default CNY)"),
    ("--probability", "probability", "win probability 0–100 (default: the stage's)"),
    ("--owner", "owner", "the rep who owns the deal"),
    ("--source", "source", "lead source channel, e.g. referral, website, 展会"),
    ("--industry", "industry", "the customer's industry"),
    ("--size", "company_size", "company size, e.g. 50-200"),
    ("--contact", "contact_name", "contact person"),
    ("--role", "contact_role", "the contact's decision role"),
    ("--phone", "contact_phone", "contact phone"),
    ("--email", "contact_email", "contact email"),
    ("--lead-score", "lead_score", "lead score 0–10"),
    ("--close", "expected_close", "expected close date: 2026-12-31, +30d, fri"),
    ("--risk", "risk_level", "risk level: high, medium, low (高/中/低)"),
    ("--risk-note", "risk_note", "what could go wrong"),
    ("--mitigation", "mitigation", "what you will do about it"),
    ("--budget", "budget", "the customer's budget range"),
    ("--decision-chain", "decision_chain", "who decides, who signs"),
    ("--pain", "pain_points", "the customer's core pain points"),
    ("--competitors", "competitors", "who else is in the deal"),
    ("--notes", "notes", "anything else"),
    ("--external-id", "external_id", "the deal's id in another CRM"),
)


def _deal_values(args: argparse.Namespace) -> dict[str, Any]:
    return {field: getattr(args, field) for _flag, field, _help in DEAL_OPTIONS if getattr(args, field) is not None}


def cmd_add(args: argparse.Namespace) -> int:
    from funnel_tui.domain.validation import FollowUpDraft

    store = open_store(args)
    now = now_utc()
    follow = parse_follow_up(args.follow_up, "follow-up", allow_past=args.past) if args.follow_up else None
    values = {"customer": args.customer, **_deal_values(args)}
    if not values.get("owner"):
        ask_name_once(store)  # the first time only, and only on a terminal
    # The deal and its first follow-up: one transaction and one `funnel undo` step.
    first = FollowUpDraft(0, follow, args.kind or "call", "") if follow is not None else None
    deal_id = store.add_deal(values, now=now, tz=local_tz(), follow_up=first, pipeline=args.pipeline)
    deal = store.get_deal(deal_id)
    owner = _(", owner {owner}").format(owner=safe(deal["owner"])) if deal["owner"] else ""
    print(f"added deal {deal_id}: {safe(deal['customer'])} in {deal['stage']}" + owner
          + (f", follow-up {fmt_time(follow)}" if follow else ""))
    if not deal["owner"]:
        print(f"funnel: {owner_hint()}", file=sys.stderr)
    return EXIT_OK


def cmd_edit(args: argparse.Namespace) -> int:
    values = _deal_values(args)
    if args.customer is not None:
        values["customer"] = args.customer
    values.pop("stage", None)
    if not values:
        raise CliError("edit: give at least one field to change, e.g. --amount 5000")
    store = open_store(args)
    deal = store.update_deal(args.deal, values, now=now_utc(), tz=local_tz())
    print(f"updated deal {deal['id']}: {', '.join(sorted(values))}")
    return EXIT_OK


def cmd_move(args: argparse.Namespace) -> int:
    from funnel_tui.domain.rules import lead_score_warning

    store = open_store(args)
    target = args.stage
    if target in ("next", "prev"):
        deal = store.get_deal(args.deal)
        order = [s.key for s in store.stages(store.stage(deal["stage"]).pipeline)]
        i = order.index(deal["stage"]) + (1 if target == "next" else -1)
        if not 0 <= i < len(order):
            raise CliError(f"stage: deal {args.deal} is already at the {'last' if target == 'next' else 'first'} stage")
        target = order[i]
    deal = store.move_deal(args.deal, target, now=now_utc())
    warning = lead_score_warning(deal["stage"], deal.get("lead_score"))
    warn = f" (warning: {warning})" if warning else ""
    print(f"moved deal {deal['id']} to {deal['stage']} ({deal['status']}, {deal['probability']} %){warn}")
    return EXIT_OK


def cmd_lose(args: argparse.Namespace) -> int:
    store = open_store(args)
    deal = store.lose_deal(args.deal, " ".join(args.reason), now=now_utc())
    print(f"deal {deal['id']} lost in {deal['stage']}: {safe(deal['lost_reason'])}")
    return EXIT_OK


def cmd_reopen(args: argparse.Namespace) -> int:
    store = open_store(args)
    deal = store.reopen_deal(args.deal, now=now_utc(), stage=args.stage)
    print(f"deal {deal['id']} reopened in {deal['stage']}")
    return EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    store = open_store(args)
    deal = store.delete_deal(args.deal, now=now_utc())
    print(f"deal {deal['id']} deleted (restore with: funnel restore {deal['id']})")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    store = open_store(args)
    deal = store.restore_deal(args.deal, now=now_utc())
    print(f"deal {deal['id']} restored")
    return EXIT_OK


def _add_deal_fields(sp: argparse.ArgumentParser) -> None:
    for flag, field, help_ in DEAL_OPTIONS:
        sp.add_argument(flag, dest=field, help=help_)


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "add", cmd_add, "add a deal")
    sp.add_argument("customer", help="the customer (company) name")
    _add_deal_fields(sp)
    sp.add_argument("--follow-up", metavar="WHEN", help="plan the first follow-up, e.g. tomorrow 10:00")
    sp.add_argument("--kind", choices=FOLLOWUP_KINDS, help="kind of that follow-up (default call)")
    add_past(sp)
    add_pipeline_option(sp)

    sp = add_command(sub, "edit", cmd_edit, "change fields of a deal (stage: use move; lost: use lose)")
    add_deal(sp)
    sp.add_argument("--customer", help="the customer (company) name")
    _add_deal_fields(sp)

    sp = add_command(sub, "move", cmd_move, "move a deal to another stage (or next/prev)")
    add_deal(sp)
    sp.add_argument("stage", help="stage key or name, or next / prev")

    sp = add_command(sub, "lose", cmd_lose, "mark a deal lost; it keeps its stage")
    add_deal(sp)
    sp.add_argument("reason", nargs="+", help="why it was lost, e.g. price, competitor")

    sp = add_command(sub, "reopen", cmd_reopen, "reopen a lost or won deal")
    add_deal(sp)
    sp.add_argument("--stage", help="reopen into this stage (default: where it was)")

    add_deal(add_command(sub, "delete", cmd_delete, "delete a deal (soft: `restore` brings it back)"))
    add_deal(add_command(sub, "restore", cmd_restore, "restore a deleted deal"))
