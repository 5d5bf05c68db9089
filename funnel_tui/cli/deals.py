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
    shown,
    stage_names,
)
from funnel_tui.cli.followups import kind_code
from funnel_tui.domain.vocab import DEAL_STATUS, FOLLOWUP_KINDS, LOST_REASON, column_name
from funnel_tui.i18n import N_, _

DEAL_OPTIONS: tuple[tuple[str, str, str, str], ...] = (
    # (flag, field, metavar, help): metavar and help are English, marked for the catalog and
    # translated as the parser is built (the metavars are argparse's own, FIELD in capitals).
    ("--title", "title", N_("TITLE"), N_("what is being sold, e.g. 'CRM annual licence'")),
    ("--stage", "stage", N_("STAGE"), N_("stage key or name (default: the first stage)")),
    ("--amount", "amount", N_("AMOUNT"), N_("deal value, e.g. 12500, 12,500.50, 3万")),
    ("--currency", "currency", N_("CURRENCY"), N_("three-letter code (default CNY)")),
    ("--probability", "probability", N_("PROBABILITY"), N_("win probability 0–100 (default: the stage's)")),
    ("--owner", "owner", N_("OWNER"), N_("the rep who owns the deal")),
    ("--source", "source", N_("SOURCE"), N_("lead source channel, e.g. referral, website, 展会")),
    ("--industry", "industry", N_("INDUSTRY"), N_("the customer's industry")),
    ("--size", "company_size", N_("COMPANY_SIZE"), N_("company size, e.g. 50-200")),
    ("--contact", "contact_name", N_("CONTACT_NAME"), N_("contact person")),
    ("--role", "contact_role", N_("CONTACT_ROLE"), N_("the contact's decision role")),
    ("--phone", "contact_phone", N_("CONTACT_PHONE"), N_("contact phone")),
    ("--email", "contact_email", N_("CONTACT_EMAIL"), N_("contact email")),
    ("--lead-score", "lead_score", N_("LEAD_SCORE"), N_("lead score 0–10")),
    ("--close", "expected_close", N_("EXPECTED_CLOSE"), N_("expected close date: 2026-12-31, +30d, fri")),
    ("--risk", "risk_level", N_("RISK_LEVEL"), N_("risk level: high, medium, low (高/中/低)")),
    ("--risk-note", "risk_note", N_("RISK_NOTE"), N_("what could go wrong")),
    ("--mitigation", "mitigation", N_("MITIGATION"), N_("what you will do about it")),
    ("--budget", "budget", N_("BUDGET"), N_("the customer's budget range")),
    ("--decision-chain", "decision_chain", N_("DECISION_CHAIN"), N_("who decides, who signs")),
    ("--pain", "pain_points", N_("PAIN_POINTS"), N_("the customer's core pain points")),
    ("--competitors", "competitors", N_("COMPETITORS"), N_("who else is in the deal")),
    ("--notes", "notes", N_("NOTES"), N_("anything else")),
    ("--external-id", "external_id", N_("EXTERNAL_ID"), N_("the deal's id in another CRM")),
)


def _deal_values(args: argparse.Namespace) -> dict[str, Any]:
    return {field: getattr(args, field) for _flag, field, _meta, _help in DEAL_OPTIONS
            if getattr(args, field) is not None}


def cmd_add(args: argparse.Namespace) -> int:
    from funnel_tui.domain.validation import FollowUpDraft

    store = open_store(args)
    now = now_utc()
    follow = parse_follow_up(args.follow_up, _("follow-up"), allow_past=args.past) if args.follow_up else None
    values = {"customer": args.customer, **_deal_values(args)}
    if not values.get("owner"):
        ask_name_once(store)  # the first time only, and only on a terminal
    # The deal and its first follow-up: one transaction and one `funnel undo` step.
    first = FollowUpDraft(0, follow, args.kind or "call", "") if follow is not None else None
    deal_id = store.add_deal(values, now=now, tz=local_tz(), follow_up=first, pipeline=args.pipeline)
    deal = store.get_deal(deal_id)
    stage = stage_names(store).get(deal["stage"], deal["stage"])
    owner = _(", owner {owner}").format(owner=safe(deal["owner"])) if deal["owner"] else ""
    when = _(", follow-up {when}").format(when=fmt_time(follow)) if follow else ""
    print(_("added deal {id}: {customer} in {stage}").format(id=deal_id, customer=safe(deal["customer"]), stage=stage)
          + owner + when)
    if not deal["owner"]:
        print(f"funnel: {owner_hint()}", file=sys.stderr)
    return EXIT_OK


def cmd_edit(args: argparse.Namespace) -> int:
    values = _deal_values(args)
    if args.customer is not None:
        values["customer"] = args.customer
    values.pop("stage", None)
    if not values:
        raise CliError(_("edit: give at least one field to change, e.g. --amount 5000"))
    store = open_store(args)
    deal = store.update_deal(args.deal, values, now=now_utc(), tz=local_tz())
    print(_("updated deal {id}: {fields}").format(id=deal["id"], fields=", ".join(column_name(f) for f in sorted(values))))
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
            at_end = (_("stage: deal {id} is already at the last stage") if target == "next"
                      else _("stage: deal {id} is already at the first stage"))
            raise CliError(at_end.format(id=args.deal))
        target = order[i]
    deal = store.move_deal(args.deal, target, now=now_utc(), lesson=args.lesson)
    warning = lead_score_warning(deal["stage"], deal.get("lead_score"))
    warn = " " + _("(warning: {warning})").format(warning=warning) if warning else ""
    print(_("moved deal {id} to {stage} ({status}, {probability} %)").format(
        id=deal["id"], stage=stage_names(store).get(deal["stage"], deal["stage"]),
        status=shown(DEAL_STATUS, deal["status"]), probability=deal["probability"]) + warn)
    return EXIT_OK


def cmd_lose(args: argparse.Namespace) -> int:
    store = open_store(args)
    deal = store.lose_deal(args.deal, " ".join(args.reason), now=now_utc(), lesson=args.lesson)
    print(_("deal {id} lost in {stage}: {reason}").format(
        id=deal["id"], stage=stage_names(store).get(deal["stage"], deal["stage"]),
        reason=safe(LOST_REASON.label_text(deal["lost_reason"]))))
    return EXIT_OK


def cmd_reopen(args: argparse.Namespace) -> int:
    store = open_store(args)
    deal = store.reopen_deal(args.deal, now=now_utc(), stage=args.stage)
    print(_("deal {id} reopened in {stage}").format(id=deal["id"], stage=stage_names(store).get(deal["stage"], deal["stage"])))
    return EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    store = open_store(args)
    deal = store.delete_deal(args.deal, now=now_utc())
    print(_("deal {id} deleted (restore with: funnel restore {id})").format(id=deal["id"]))
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    store = open_store(args)
    deal = store.restore_deal(args.deal, now=now_utc())
    print(_("deal {id} restored").format(id=deal["id"]))
    return EXIT_OK


def _add_deal_fields(sp: argparse.ArgumentParser) -> None:
    for flag, field, metavar, help_ in DEAL_OPTIONS:
        sp.add_argument(flag, dest=field, metavar=_(metavar), help=_(help_))


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "add", cmd_add, _("add a deal"))
    sp.add_argument("customer", metavar=_("customer"), help=_("the customer (company) name"))
    _add_deal_fields(sp)
    sp.add_argument("--follow-up", metavar=_("WHEN"), help=_("plan the first follow-up, e.g. tomorrow 10:00"))
    sp.add_argument("--kind", type=kind_code, choices=FOLLOWUP_KINDS, help=_("kind of that follow-up (default call)"))
    add_past(sp)
    add_pipeline_option(sp)

    sp = add_command(sub, "edit", cmd_edit, _("change fields of a deal (stage: use move; lost: use lose)"))
    add_deal(sp)
    sp.add_argument("--customer", metavar=_("CUSTOMER"), help=_("the customer (company) name"))
    _add_deal_fields(sp)

    sp = add_command(sub, "move", cmd_move, _("move a deal to another stage (or next/prev)"))
    add_deal(sp)
    sp.add_argument("stage", metavar=_("stage"), help=_("stage key or name, or next / prev"))
    sp.add_argument("--lesson", metavar=_("TEXT"), help=_("into a won stage: what the win taught (经验)"))

    sp = add_command(sub, "lose", cmd_lose, _("mark a deal lost; it keeps its stage"))
    add_deal(sp)
    sp.add_argument("reason", nargs="+", metavar=_("reason"), help=_("why it was lost, e.g. price, competitor"))
    sp.add_argument("--lesson", metavar=_("TEXT"), help=_("what the loss taught (教训)"))

    sp = add_command(sub, "reopen", cmd_reopen, _("reopen a lost or won deal"))
    add_deal(sp)
    sp.add_argument("--stage", metavar=_("STAGE"), help=_("reopen into this stage (default: where it was)"))

    add_deal(add_command(sub, "delete", cmd_delete, _("delete a deal (soft: `restore` brings it back)")))
    add_deal(add_command(sub, "restore", cmd_restore, _("restore a deleted deal")))
