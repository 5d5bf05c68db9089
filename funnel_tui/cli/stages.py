"""`funnel stages …` and `funnel pipelines …`: the rep's own stages, their playbooks, and more
than one pipeline.

Every change is one action in history (`funnel undo` takes it back); a change that moves
deals (split, merge) or gives them a new default probability takes a backup first; a change
that would break an invariant is refused with the reason (domain/stage_plan.py).
"""

from __future__ import annotations

import argparse
from typing import Any

from funnel_tui.cli.common import (
    EXIT_OK,
    CliError,
    add_command,
    add_format,
    add_pipeline_option,
    emit,
    now_utc,
    open_store,
    safe,
)
from funnel_tui.i18n import N_, _

# (option, StageDef field, help, help of its -zh variant) for the texts a stage carries.
TEXT_OPTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("--name", "name", N_("the stage's name"), N_("the stage's name in Chinese")),
    ("--entry", "entry", N_("its entry condition (进入条件): items separated by ; or new lines"),
     N_("its entry condition in Chinese")),
    ("--actions", "actions", N_("its key actions (关键动作): items separated by ; or new lines"),
     N_("its key actions in Chinese")),
    ("--outputs", "outputs", N_("its outputs (输出物): items separated by ; or new lines"),
     N_("its outputs in Chinese")),
)


def _texts(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for _flag, field, _help, _help_zh in TEXT_OPTIONS:
        for name in (field, field + "_zh"):
            if getattr(args, name, None) is not None:
                out[name] = getattr(args, name)
    return out


def _numbers(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if args.probability is not None:
        out["probability"] = args.probability
    if args.max_dwell is not None:
        out["max_dwell_days"] = args.max_dwell
    return out


def stage_json(s) -> dict[str, Any]:
    """One stage as `funnel stages --format json` gives it (playbook items as lists)."""
    from funnel_tui.domain.stages import split_items

    row: dict[str, Any] = {"key": s.key, "name": s.name, "name_zh": s.name_zh, "probability": s.probability,
                           "max_dwell_days": s.max_dwell_days, "kind": s.kind, "position": s.position}
    for section in ("entry", "actions", "outputs"):
        row[section] = split_items(getattr(s, section))
        row[section + "_zh"] = split_items(getattr(s, section + "_zh"))
    row.update(archived=s.archived, maps_to=s.maps_to, pipeline=s.pipeline)
    return row


def cmd_stages(args: argparse.Namespace) -> int:
    store = open_store(args)
    stages = store.pipeline_stages(args.pipeline) if args.all else store.stages(args.pipeline)
    if args.format == "json":
        emit([], "json", [], json_value=[stage_json(s) for s in stages])
        return EXIT_OK
    if args.format == "csv":
        rows = [stage_json(s) for s in stages]
        for row in rows:
            for section in ("entry", "actions", "outputs"):
                for name in (section, section + "_zh"):
                    row[name] = "; ".join(row[name])
        emit(rows, "csv", list(rows[0]) if rows else ["key"])
        return EXIT_OK
    rows = [{"#": s.position, "key": s.key, "name": s.name, "中文": s.name_zh,
             "%": "" if s.probability is None else s.probability,
             _("max d"): s.max_dwell_days, _("kind"): s.kind_label(),
             _("playbook"): "/".join(str(len(s.items(sec))) for sec in ("entry", "actions", "outputs")),
             _("archived"): (f"→ {s.maps_to}" if s.maps_to else _("yes")) if s.archived else ""}
            for s in stages]
    columns = ["#", "key", "name", "中文", "%", _("max d"), _("kind"), _("playbook")]
    if args.all:
        columns.append(_("archived"))
    pipeline = store.pipeline(args.pipeline)
    title = _("Stages") if len(store.pipelines()) < 2 else _("Stages — {pipeline}").format(pipeline=pipeline.name)
    emit(rows, args.format, columns, title=title,
         footer=_("playbook = entry condition / key actions / outputs; `funnel stages show KEY` lists them"))
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    store = open_store(args)
    s = store.stage(args.key, args.pipeline)
    if args.format == "json":
        emit([], "json", [], json_value=stage_json(s))
        return EXIT_OK
    from rich.console import Console
    from rich.text import Text

    console = Console(markup=False, emoji=False, highlight=False)
    head = f"{s.name}" + (f" · {s.name_zh}" if s.name_zh else "") + f"  ({s.key}, {s.kind_label()}"
    head += (f", {s.probability} %" if s.probability is not None else "")
    head += (_(", max {n} days").format(n=s.max_dwell_days) if s.max_dwell_days else "") + ")"
    console.print(Text(safe(head), style="bold"))
    titles = {"entry": _("Entry condition"), "actions": _("Key actions"), "outputs": _("Outputs")}
    for section, title in titles.items():
        console.print(Text(title, style="bold"))
        en, zh = s.items(section, "en"), s.items(section, "zh")
        if not en:
            console.print(Text("  —"))
        for i, item in enumerate(en):
            other = zh[i] if i < len(zh) and zh[i] != item else ""
            console.print(Text(safe(f"  • {item}" + (f"  ({other})" if other else ""))))
    return EXIT_OK


def _said(result: dict[str, Any], what: str) -> None:
    moved = result.get("moved") or 0
    line = what + (" — " + _("{n} deal(s) moved").format(n=moved) if moved else "")
    if result.get("backup"):
        line += " — " + _("backup: {path}").format(path=result["backup"])
    print(safe(line))
    print(_("(funnel undo takes it back)"))


def cmd_add(args: argparse.Namespace) -> int:
    if not args.after and not args.before:
        raise CliError(_("after: say where the stage goes: --after KEY (or --before KEY)"))
    store = open_store(args)
    after = store.stage(args.after, args.pipeline).key if args.after else None
    before = store.stage(args.before, args.pipeline).key if args.before else None
    result = store.add_stage(args.key, now=now_utc(), name=args.name or "", after=after, before=before,
                             **{k: v for k, v in {**_texts(args), **_numbers(args)}.items() if k != "name"})
    _said(result, _("added stage {key}").format(key=args.key))
    return EXIT_OK


def cmd_edit(args: argparse.Namespace) -> int:
    changes = {**_texts(args), **_numbers(args)}
    if not changes:
        raise CliError(_("edit: give at least one thing to change, e.g. --max-dwell 10"))
    store = open_store(args)
    key = store.stage(args.key, args.pipeline).key
    result = store.edit_stage(key, changes, now=now_utc())
    _said(result, _("updated stage {key}: {fields}").format(key=key, fields=", ".join(sorted(changes))))
    return EXIT_OK


def cmd_move(args: argparse.Namespace) -> int:
    if not args.after and not args.before:
        raise CliError(_("after: say where the stage goes: --after KEY (or --before KEY)"))
    store = open_store(args)
    key = store.stage(args.key, args.pipeline).key
    result = store.move_stage(key, now=now_utc(), after=args.after, before=args.before)
    order = " → ".join(s.key for s in store.stages(store.stage(key).pipeline))
    _said(result, _("moved stage {key}: {order}").format(key=key, order=order))
    return EXIT_OK


def cmd_split(args: argparse.Namespace) -> int:
    from funnel_tui.domain.stage_plan import StageChangeError, parse_part

    try:
        parts = [parse_part(p) for p in args.into]
    except StageChangeError as exc:
        raise CliError(str(exc)) from None
    if args.into_zh:
        if len(args.into_zh) != len(parts):
            raise CliError(_("into-zh: give one Chinese name per part ({n})").format(n=len(parts)))
        parts = [(k, n, zh) for (k, n, _old), zh in zip(parts, args.into_zh)]
    store = open_store(args)
    key = store.stage(args.key, args.pipeline).key
    result = store.split_stage(key, parts, now=now_utc())
    _said(result, _("split {key} into {parts}").format(key=key, parts=", ".join(p[0] for p in parts)))
    return EXIT_OK


def cmd_merge(args: argparse.Namespace) -> int:
    rest = list(args.into)
    if rest and rest[0].casefold() == "into":
        rest = rest[1:]
    if len(rest) != 1:
        raise CliError(_("merge: say which stage it goes into: funnel stages merge KEY INTO KEY"))
    store = open_store(args)
    key, into = store.stage(args.key, args.pipeline).key, store.stage(rest[0], args.pipeline).key
    result = store.merge_stage(key, into, now=now_utc())
    _said(result, _("merged {key} into {into}").format(key=key, into=into))
    return EXIT_OK


def cmd_archive(args: argparse.Namespace) -> int:
    store = open_store(args)
    key = store.stage(args.key, args.pipeline).key
    result = store.archive_stage(key, now=now_utc())
    _said(result, _("archived stage {key}").format(key=key))
    return EXIT_OK


def cmd_pipelines(args: argparse.Namespace) -> int:
    store = open_store(args)
    rows = []
    for p in store.pipelines():
        stages = store.stages(p.key)
        rows.append({"key": p.key, "name": p.name, "name_zh": p.name_zh, "default": p.is_default,
                     "stages": [s.key for s in stages] if args.format == "json" else " → ".join(s.key for s in stages)})
    emit(rows, args.format, ["key", "name", "name_zh", "default", "stages"], title=_("Pipelines"))
    return EXIT_OK


def cmd_pipeline_add(args: argparse.Namespace) -> int:
    from funnel_tui.domain.stage_plan import StageChangeError, parse_part

    try:
        parts = [parse_part(p) for p in args.stages]
    except StageChangeError as exc:
        raise CliError(str(exc).replace("into:", "stages:")) from None
    store = open_store(args)
    store.add_pipeline(args.key, name=args.name, name_zh=args.name_zh or "", parts=parts, now=now_utc())
    print(safe(_("added pipeline {key}: {stages} (the last is its won stage)").format(
        key=args.key, stages=" → ".join(p[0] for p in parts))))
    print(_("(funnel undo takes it back)"))
    return EXIT_OK


def cmd_pipeline_edit(args: argparse.Namespace) -> int:
    if args.name is None and args.name_zh is None and not args.default:
        raise CliError(_("edit: give --name, --name-zh or --default"))
    store = open_store(args)
    key = store.pipeline(args.key).key
    store.edit_pipeline(key, name=args.name, name_zh=args.name_zh, default=args.default, now=now_utc())
    print(safe(_("updated pipeline {key}").format(key=key)))
    return EXIT_OK


def _stage_texts(sp: argparse.ArgumentParser, *, name_required: bool = False) -> None:
    for flag, field, help_, help_zh in TEXT_OPTIONS:
        sp.add_argument(flag, dest=field, required=field == "name" and name_required, help=_(help_))
        sp.add_argument(flag + "-zh", dest=field + "_zh", metavar=(field + "_zh").upper(),
                        help=_(help_zh))
    sp.add_argument("--probability", metavar="P", help=_("default win probability 0–100"))
    sp.add_argument("--max-dwell", metavar=_("DAYS"), help=_("days a deal may sit here before it rots"))


def register(sub: argparse._SubParsersAction) -> None:
    """`stages …` and `pipelines …`."""
    sp = add_command(sub, "stages", cmd_stages, _("your funnel stages and their playbooks: list, add, edit, move, "
                                                  "split, merge, archive"))
    add_pipeline_option(sp)
    sp.add_argument("--all", action="store_true", help=_("archived stages too"))
    add_format(sp)
    ops = sp.add_subparsers(dest="stages_command", metavar=_("CHANGE"))

    op = add_command(ops, "show", cmd_show, _("one stage and its playbook"))
    op.add_argument("key", metavar=_("key"), help=_("stage key or name"))
    add_pipeline_option(op)
    add_format(op)

    op = add_command(ops, "add", cmd_add, _("add a stage after (or before) another"))
    op.add_argument("key", metavar=_("key"), help=_("the new stage's key: lowercase letters, digits, - or _"))
    _stage_texts(op, name_required=True)
    op.add_argument("--after", metavar=_("KEY"), help=_("the stage it comes after"))
    op.add_argument("--before", metavar=_("KEY"), help=_("or the stage it comes before"))
    add_pipeline_option(op)

    op = add_command(ops, "edit", cmd_edit, _("rename a stage, change its probability, dwell limit or playbook"))
    op.add_argument("key", metavar=_("key"), help=_("stage key or name"))
    _stage_texts(op)
    add_pipeline_option(op)

    op = add_command(ops, "move", cmd_move, _("reorder: put a stage after (or before) another"))
    op.add_argument("key", metavar=_("key"), help=_("stage key or name"))
    op.add_argument("--after", metavar=_("KEY"), help=_("the stage it comes after"))
    op.add_argument("--before", metavar=_("KEY"), help=_("or the stage it comes before"))
    add_pipeline_option(op)

    op = add_command(ops, "split", cmd_split, _("split a slow stage into parts; its deals move to the first part"))
    op.add_argument("key", metavar=_("key"), help=_("stage key or name"))
    op.add_argument("--into", nargs="+", required=True, metavar=_("KEY:NAME"),
                    help=_("the parts in order, e.g. terms:条款谈判 price:价格确认 (KEY:NAME:中文名 for both)"))
    op.add_argument("--into-zh", nargs="+", metavar=_("NAME_ZH"), help=_("the parts' Chinese names, in order"))
    add_pipeline_option(op)

    op = add_command(ops, "merge", cmd_merge, _("merge a stage into another: its deals move there"))
    op.add_argument("key", metavar=_("key"), help=_("the stage that goes"))
    op.add_argument("into", nargs="+", metavar=_("INTO KEY"), help=_("INTO and the stage it goes into"))
    add_pipeline_option(op)

    op = add_command(ops, "archive", cmd_archive, _("archive a stage no open deal sits in"))
    op.add_argument("key", metavar=_("key"), help=_("stage key or name"))
    add_pipeline_option(op)

    sp = add_command(sub, "pipelines", cmd_pipelines, _("your pipelines (new business, renewals…): list, add, edit"))
    add_format(sp)
    ops = sp.add_subparsers(dest="pipelines_command", metavar=_("CHANGE"))
    op = add_command(ops, "add", cmd_pipeline_add, _("a new pipeline with its own stages"))
    op.add_argument("key", metavar=_("key"), help=_("the pipeline's key, e.g. renewals"))
    op.add_argument("--name", required=True, metavar=_("NAME"), help=_("its name, e.g. Renewals"))
    op.add_argument("--name-zh", metavar=_("NAME_ZH"), help=_("its Chinese name, e.g. 续费"))
    op.add_argument("--stages", nargs="+", required=True, metavar=_("KEY:NAME"),
                    help=_("its stages in order, the last one the won stage, e.g. "
                           "renew-due:到期提醒 renew-talk:续费沟通 renewed:续费成功"))
    op = add_command(ops, "edit", cmd_pipeline_edit, _("rename a pipeline, or make it the default"))
    op.add_argument("key", metavar=_("key"), help=_("pipeline key or name"))
    op.add_argument("--name", metavar=_("NAME"), help=_("its name"))
    op.add_argument("--name-zh", metavar=_("NAME_ZH"), help=_("its Chinese name"))
    op.add_argument("--default", action="store_true", help=_("make it the default pipeline"))
