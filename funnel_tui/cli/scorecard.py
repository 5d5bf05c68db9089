"""`funnel scorecard …`: the lead scorecard (issue 17, source documents 001 and 004) — its rules
listed and changed, a deal's score explained, the open deals scored again.

Every change is one action in history (`funnel undo` takes it back). A rescore takes a verified
backup first when any score changes; hand scores hold (store/scoring.py says how).
"""

from __future__ import annotations

import argparse
from typing import Any

from funnel_tui.cli.common import (
    EXIT_OK,
    CliError,
    add_command,
    add_deal,
    add_format,
    emit,
    now_utc,
    open_store,
    safe,
)
from funnel_tui.i18n import _, ngettext


def rule_json(rule, lang: str | None = None) -> dict[str, Any]:
    """One rule as `funnel scorecard --format json` gives it (`text`: in the rep's language)."""
    from funnel_tui.domain.scorecard import rule_text

    return {"id": rule.id, "position": rule.position, "kind": rule.kind, "field": rule.field,
            "match": rule.pattern, "points": rule.points, "label": rule.label, "label_zh": rule.label_zh,
            "text": rule_text(rule, lang)}


def _kind_label(kind: str) -> str:
    return _("attribute") if kind == "attribute" else _("behaviour")


def _field_label(rule) -> str:
    from funnel_tui.domain.scorecard import ANY_KIND, field_name
    from funnel_tui.domain.vocab import FOLLOWUP_KIND

    if rule.kind == "attribute":
        return field_name(rule.field)
    return _("any touch") if rule.field == ANY_KIND else FOLLOWUP_KIND.label(rule.field)


def cmd_scorecard(args: argparse.Namespace) -> int:
    from funnel_tui.domain.rules import QUALIFY_MIN_SCORE
    from funnel_tui.domain.scorecard import MAX_SCORE

    store = open_store(args)
    rules = store.scorecard()
    if args.format == "json":
        emit([], "json", [], json_value={"scale": MAX_SCORE, "qualifies_at": QUALIFY_MIN_SCORE,
                                         "rules": [rule_json(r) for r in rules]})
        return EXIT_OK
    if args.format == "csv":
        rows = [rule_json(r) for r in rules]
        emit(rows, "csv", ["id", "position", "kind", "field", "match", "points", "label", "label_zh", "text"])
        return EXIT_OK
    cols = ["id", _("rule"), _("kind"), _("looks at"), _("match"), _("points")]
    rows = [dict(zip(cols, (r.id, rule_json(r)["text"], _kind_label(r.kind), _field_label(r),
                            r.pattern or "—", f"{r.points:+d}"))) for r in rules]
    emit(rows, "table", cols, title=_("Lead scorecard"), optional=[_("match")],
         footer=_("Score = the points of the rules a deal matches, capped to 0–{max}; {min} or more qualifies. "
                  "A score set by hand holds until it is cleared.").format(max=MAX_SCORE, min=QUALIFY_MIN_SCORE))
    return EXIT_OK


def _check(exc: ValueError) -> CliError:
    return CliError(str(exc))


def cmd_add(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        rule = store.add_rule(args.kind, args.field, args.match or "", args.points, now=now_utc(),
                              label=args.label or "", label_zh=args.label_zh or "")
    except ValueError as exc:
        raise _check(exc) from None
    print(safe(_("Added rule {id}: {text} ({points:+d}); `funnel scorecard rescore` applies it to the open "
                 "deals now").format(id=rule.id, text=rule_json(rule)["text"], points=rule.points)))
    return EXIT_OK


def cmd_edit(args: argparse.Namespace) -> int:
    changes = {"kind": args.kind, "field": args.field, "pattern": args.match, "points": args.points,
               "label": args.label, "label_zh": args.label_zh}
    if all(v is None for v in changes.values()):
        raise CliError(_("nothing to change: give --points, --match, --field, --kind, --label or --label-zh"))
    store = open_store(args)
    try:
        rule = store.edit_rule(args.rule, changes, now=now_utc())
    except ValueError as exc:
        raise _check(exc) from None
    print(safe(_("Rule {id} is now: {text} ({points:+d})").format(
        id=rule.id, text=rule_json(rule)["text"], points=rule.points)))
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    store = open_store(args)
    rule = store.remove_rule(args.rule, now=now_utc())
    print(safe(_("Removed rule {id}: {text} (funnel undo puts it back)").format(
        id=rule.id, text=rule_json(rule)["text"])))
    return EXIT_OK


def cmd_rescore(args: argparse.Namespace) -> int:
    store = open_store(args)
    done = store.rescore(now=now_utc())
    if args.format == "json":
        emit([], "json", [], json_value=done)
        return EXIT_OK
    print(safe(ngettext("Rescored {deals} open deal: {changed} new scores, {hand} set by hand kept.",
                        "Rescored {deals} open deals: {changed} new scores, {hand} set by hand kept.",
                        done["deals"]).format(deals=done["deals"], changed=done["changed"], hand=done["by_hand"])))
    if done["backup"]:
        print(safe(_("backup first: {path}").format(path=done["backup"])))
    if done["changed"]:
        print(_("funnel undo takes the new scores back"))
    return EXIT_OK


def explain_json(ex: dict[str, Any]) -> dict[str, Any]:
    """`funnel scorecard explain ID --format json`: the stored score, whether by hand, and the
    rules that give points today (`scorecard_score`: what the scorecard gives now)."""
    from funnel_tui.domain.scorecard import qualifies

    now = ex["now"]
    return {"score": ex["score"], "by_hand": ex["by_hand"], "qualifies": qualifies(ex["score"]),
            "scorecard_score": now.value, "scorecard_sum": now.raw,
            "rules": [{**rule_json(h.rule), "matched": h.matched} for h in now.hits]}


def cmd_explain(args: argparse.Namespace) -> int:
    from funnel_tui.domain.scorecard import explain_lines

    store = open_store(args)
    ex = store.explain_score(args.deal)
    if args.format == "json":
        emit([], "json", [], json_value=explain_json(ex))
        return EXIT_OK
    for depth, line in explain_lines(ex):
        print("    " * depth + safe(line))
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """`scorecard …`."""
    sp = add_command(sub, "scorecard", cmd_scorecard, _("the lead scorecard: its rules, and changes to them"))
    add_format(sp)
    ops = sp.add_subparsers(dest="scorecard_command", metavar=_("CHANGE"))

    def rule_options(op: argparse.ArgumentParser) -> None:
        op.add_argument("--label", metavar=_("TEXT"), help=_("what people read for the rule (English)"))
        op.add_argument("--label-zh", metavar=_("TEXT"), help=_("what people read for the rule in Chinese"))

    op = add_command(ops, "add", cmd_add, _("add a rule: attribute FIELD BAND|WORDS, or behaviour KIND [WORDS]"))
    op.add_argument("kind", metavar=_("kind"), help=_("attribute (a field of the deal) or behaviour (its touches)"))
    op.add_argument("field", metavar=_("field"), help=_("attribute: company_size, industry, contact_role or "
                                                       "source; behaviour: a touch kind (call, visit…) or any"))
    op.add_argument("match", nargs="?", metavar=_("match"),
                    help=_("company size: a band such as 50-200 or 201-; otherwise words separated by |, any of "
                           "which the field (or the touch's note) contains; none: every touch of the kind"))
    op.add_argument("--points", required=True, metavar=_("N"), help=_("points it gives, -10 to 10"))
    rule_options(op)

    op = add_command(ops, "edit", cmd_edit, _("change a rule's points, match, field or labels"))
    op.add_argument("rule", type=int, metavar=_("rule"), help=_("rule id (funnel scorecard lists them)"))
    op.add_argument("--kind", metavar=_("KIND"), help=_("attribute or behaviour"))
    op.add_argument("--field", metavar=_("FIELD"), help=_("the field or touch kind it looks at"))
    op.add_argument("--match", metavar=_("MATCH"), help=_("the band or the words"))
    op.add_argument("--points", metavar=_("N"), help=_("points it gives, -10 to 10"))
    rule_options(op)

    op = add_command(ops, "remove", cmd_remove, _("remove a rule"))
    op.add_argument("rule", type=int, metavar=_("rule"), help=_("rule id (funnel scorecard lists them)"))

    op = add_command(ops, "rescore", cmd_rescore, _("score every open deal again with today's rules (backup "
                                                    "first; hand scores hold; one undo)"))
    add_format(op)

    op = add_command(ops, "explain", cmd_explain, _("why a deal has its score: the rules that gave points"))
    add_deal(op)
    add_format(op)
