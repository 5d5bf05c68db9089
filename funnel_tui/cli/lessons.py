"""`funnel lessons [--stage S] [--reason R] [--owner O]` and `funnel lessons add DEAL TEXT`: the
team's lessons of won and lost deals (复盘, 经验库), grouped by stage and reason (store.lessons)."""

from __future__ import annotations

import argparse
from funnel_tui.cli.common import (
    EXIT_OK,
    add_command,
    add_deal,
    add_format,
    emit,
    now_utc,
    open_store,
    safe,
    shown,
)
from funnel_tui.domain.lessons import group_lessons
from funnel_tui.domain.vocab import DEAL_STATUS
from funnel_tui.i18n import _, active_lang

COLUMNS = ("outcome", "stage", "reason", "deal_id", "customer", "lesson", "owner", "author", "at")


def cmd_lessons(args: argparse.Namespace) -> int:
    store = open_store(args)
    rows = store.lessons(stage=args.stage, reason=args.reason, owner=args.owner)
    lang = active_lang()
    groups = group_lessons(rows, store.all_stages(), lang)
    if args.format == "json":
        emit([], "json", COLUMNS, json_value={"groups": groups})
        return EXIT_OK
    table: list[dict] = []
    english = lang == "en"
    for g in groups:
        first = True
        for lesson in g["lessons"]:
            shown_group = first or args.format == "csv"  # a table names its group once
            table.append({
                "outcome": shown(DEAL_STATUS, g["outcome"]) if shown_group else "",
                "stage": (g["stage"] if english else g["stage_name"]) if shown_group else "",
                "reason": (g["reason"] if english or args.format == "csv" else g["reason_label"])
                if shown_group else "",
                "deal_id": lesson["deal_id"], "customer": lesson["customer"], "lesson": lesson["text"],
                "owner": lesson["owner"], "author": lesson["author"], "at": lesson["updated_at"]})
            first = False
    emit(table, args.format, COLUMNS, title=_("lessons"), optional=("author", "at", "owner", "outcome"))
    return EXIT_OK


def cmd_lessons_add(args: argparse.Namespace) -> int:
    store = open_store(args)
    lesson = store.set_lesson(args.deal, " ".join(args.text), now=now_utc())
    print(_("lesson on deal {id} ({customer}) kept: {text}").format(
        id=args.deal, customer=safe(lesson["customer"]), text=safe(lesson["text"])))
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "lessons", cmd_lessons, _(
        "lessons of won and lost deals (复盘), by stage and reason; `lessons add DEAL TEXT` writes one"))
    sp.add_argument("--stage", metavar=_("STAGE"), help=_("only this stage (key or name, either language)"))
    sp.add_argument("--reason", metavar=_("REASON"),
                    help=_("only this lost reason (code or word in either language, e.g. price, 价格)"))
    sp.add_argument("--owner", metavar=_("OWNER"), help=_("only the lessons of this rep's deals"))
    add_format(sp)
    ops = sp.add_subparsers(dest="lessons_command", metavar=_("CHANGE"))
    op = add_command(ops, "add", cmd_lessons_add, _(
        "write or change the lesson of a won or lost deal (undo takes it back)"))
    add_deal(op)
    op.add_argument("text", nargs="+", metavar=_("text"), help=_("what the deal taught"))
