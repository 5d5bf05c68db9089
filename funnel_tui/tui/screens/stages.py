"""Stages: the rep's own stages and their playbooks (from the palette, ctrl+p → Stages).

The list shows the current pipeline's live stages; the pane beside it the highlighted one's
playbook. Every change goes through the store like `funnel stages …` does — into history,
undoable (`u`), a backup first when deals move, invariants refused with the reason — and
the list is read again. Forms return drafts; this screen writes.
"""

from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from funnel_tui.domain.stages import StageDef
from funnel_tui.i18n import N_, _, pgettext
from funnel_tui.tui.context import HasContext
from funnel_tui.tui.key_table import localise_bindings
from funnel_tui.tui.pipelines import PIPELINE_BINDINGS, bind_pipeline_key, has_pipelines, next_pipeline


class StageOption(Option):
    """A stage's row; carries its key."""

    def __init__(self, prompt: Text, stage: StageDef):
        super().__init__(prompt, id=f"stage-{stage.key}")
        self.stage = stage


def stage_line(s: StageDef, lang: str, number: int) -> Text:
    """Two lines: `3  Demo / Proposal · 方案演示`, then its numbers (probability, dwell
    limit, kind, playbook items per part), dim — readable from 80 columns up."""
    line = Text(f"{number:>2}  ")
    line.append(s.label(lang), style="bold")
    other = s.name_zh if lang != "zh" else s.name
    if other and other != s.label(lang):
        line.append(f" · {other}", style="dim")
    prob = "—" if s.probability is None else f"{s.probability}%"
    dwell = "—" if s.max_dwell_days is None else pgettext("time span", "{n}d").format(n=s.max_dwell_days)
    counts = "/".join(str(len(s.items(sec))) for sec in ("entry", "actions", "outputs"))
    line.append(f"\n    {prob}  {dwell}  {s.kind_label()}  ☐ {counts}", style="dim")
    return line


def playbook_text(s: StageDef, lang: str) -> Text:
    """The stage's numbers and its playbook, items in the rep's language (the other dim)."""
    out = Text()
    out.append(s.label(lang), style="bold")
    other = s.name_zh if lang != "zh" else s.name
    if other and other != s.label(lang):
        out.append(f" · {other}")
    out.append(f"  ({s.key})\n", style="dim")
    out.append(_("Kind: {kind} · probability: {p} · max dwell: {d}").format(
        kind=s.kind_label(), p="—" if s.probability is None else f"{s.probability} %",
        d="—" if s.max_dwell_days is None else pgettext("time span", "{n}d").format(n=s.max_dwell_days)) + "\n\n")
    other_lang = "en" if lang == "zh" else "zh"
    for section, title in (("entry", _("Entry condition")), ("actions", _("Key actions")),
                           ("outputs", _("Outputs"))):
        out.append(title + "\n", style="bold")
        items, others = s.items(section, lang), s.items(section, other_lang)
        if not items:
            out.append("  —\n", style="dim")
        for i, item in enumerate(items):
            out.append(f"• {item}")
            if i < len(others) and others[i] != item:
                out.append(f" — {others[i]}", style="dim")
            out.append("\n")
    return out


class StagesScreen(HasContext, Screen):
    """The current pipeline's stages and their playbooks, changed in place."""

    BINDINGS = [
        Binding("a", "add", N_("Add"), tooltip=N_("Add a stage after the highlighted one")),
        Binding("e", "edit", N_("Edit"),
                tooltip=N_("Rename the stage, change its probability, dwell limit or playbook")),
        Binding("K,shift+up", "move(-1)", N_("Move ↑"), key_display="K",
                tooltip=N_("Move the stage one place earlier in the funnel")),
        Binding("J,shift+down", "move(1)", N_("Move ↓"), key_display="J",
                tooltip=N_("Move the stage one place later in the funnel")),
        Binding("s", "split", N_("Split"), tooltip=N_("Split the stage into parts; its deals move to the first")),
        Binding("m", "merge", N_("Merge"), tooltip=N_("Merge the stage into another; its deals move there")),
        Binding("A", "archive", N_("Archive"), tooltip=N_("Archive a stage no open deal sits in")),
        Binding("u", "undo", N_("Undo"), tooltip=N_("Undo the last change")),
        Binding("question_mark", "app.help", N_("Help"), key_display="?", tooltip=N_("All keys")),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to where you came from")),
    ]
    """
    | Key | Action |
    | :- | :- |
    | ↑ ↓ | move between stages |
    | a / e | add a stage after this one / edit it |
    | K / J | move the stage earlier / later |
    | s / m / A | split / merge / archive it |
    | u | undo the last change |
    | P | the next pipeline |
    | ? / Esc | help / back |
    """
    CONDITIONAL_BINDINGS = PIPELINE_BINDINGS
    """`P`, bound only when the rep keeps a second pipeline (tui/pipelines.py)."""

    DEFAULT_CSS = """
    StagesScreen #stages-title {
        width: 100%;
        background: $primary 30%;
        color: $text;
        text-style: bold;
        padding: 0 1;
    }
    StagesScreen #stages-body { height: 1fr; }
    StagesScreen #stage-list {
        width: 1fr;
        height: 1fr;
        border: round $primary 50%;
    }
    StagesScreen #stage-list:focus { border: round $primary; }
    StagesScreen #playbook-pane {
        width: 1fr;
        border: round $primary 50%;
        padding: 0 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        localise_bindings(self)

    def compose(self) -> ComposeResult:
        yield Label(Text(""), id="stages-title")
        with Horizontal(id="stages-body"):
            yield OptionList(id="stage-list", markup=False)
            with VerticalScroll(id="playbook-pane"):
                yield Static(id="playbook")
        yield Footer()

    def on_mount(self) -> None:
        bind_pipeline_key(self)
        self.reload()
        self.query_one("#stage-list", OptionList).focus()

    # --- reading -----------------------------------------------------------------------------

    @property
    def stages(self) -> list[StageDef]:
        return list(self.ctx.store.stages(self.ctx.pipeline))

    def reload(self, keep: str | None = None) -> None:
        """Read the stages again; the cursor stays on `keep` (or where it was)."""
        ctx = self.ctx
        store = ctx.store
        ol = self.query_one("#stage-list", OptionList)
        keep = keep or (self.current.key if self.current else None)
        index = ol.highlighted
        title = _("Stages")
        if len(store.pipelines()) > 1:
            title += f" · {store.pipeline(ctx.pipeline).label(ctx.lang)}"
        self.query_one("#stages-title", Label).update(Text(title))
        ol.clear_options()
        stages = self.stages
        for number, s in enumerate(stages, start=1):
            ol.add_option(StageOption(stage_line(s, ctx.lang, number), s))
        keys = [s.key for s in stages]
        if keep in keys:
            ol.highlighted = keys.index(keep)
        elif stages:
            ol.highlighted = min(index or 0, len(stages) - 1)
        self._show_playbook()
        self.refresh_bindings()

    @property
    def current(self) -> StageDef | None:
        ol = self.query_one("#stage-list", OptionList)
        if ol.highlighted is None or ol.highlighted >= ol.option_count:
            return None
        option = ol.get_option_at_index(ol.highlighted)
        return option.stage if isinstance(option, StageOption) else None

    @on(OptionList.OptionHighlighted, "#stage-list")
    def _show_playbook(self) -> None:
        stage = self.current
        self.query_one("#playbook", Static).update(playbook_text(stage, self.ctx.lang) if stage else Text(""))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys show only when they can act on the highlighted stage."""
        if not self.is_mounted:
            return True
        if action == "switch_pipeline":
            return has_pipelines(self.ctx)
        if action in ("edit", "add", "move", "split", "merge", "archive"):
            stage = self.current
            if stage is None:
                return False
            if action in ("split", "archive"):
                return stage.kind != "won"
            if action == "merge":
                return bool(self._merge_choices(stage))
            if action == "move":
                step = int(parameters[0]) if parameters else 1
                keys = [s.key for s in self.stages]
                return 0 <= keys.index(stage.key) + step < len(keys)
        return True

    # --- changes -------------------------------------------------------------------------------

    def _change(self, write: Callable[[], Any], message: str, keep: str | None = None) -> None:
        """One store write (a refusal is the toast saying why), then the list again."""
        ctx = self.ctx
        with ctx.reporting_errors() as report:
            result = write()
        if report.error is None:
            moved = (result or {}).get("moved") if isinstance(result, dict) else None
            self.notify(message + (" — " + _("{n} deal(s) moved").format(n=moved) if moved else ""),
                        markup=False, timeout=4)
        self.reload(keep)

    @work
    async def action_add(self) -> None:
        """Add a stage after the highlighted one (after the won stage it is a post stage)."""
        from funnel_tui.tui.forms.stage import StageForm

        here = self.current
        if here is None:
            return
        ctx = self.ctx
        taken = [s.key for s in ctx.store.all_stages()]
        draft = await self.app.push_screen_wait(StageForm(
            taken=taken, title=_("New stage after {stage}").format(stage=here.label(ctx.lang))))
        if draft is not None:
            self._change(lambda: ctx.store.add_stage(draft.key, now=ctx.now(), after=here.key, **draft.values),
                         _("added stage {key}").format(key=draft.key), keep=draft.key)

    @work
    async def action_edit(self) -> None:
        """Edit the highlighted stage's names, numbers and playbook."""
        from funnel_tui.tui.forms.stage import StageForm

        here = self.current
        if here is None:
            return
        ctx = self.ctx
        draft = await self.app.push_screen_wait(StageForm(here, title=_("Edit {stage}").format(
            stage=here.label(ctx.lang))))
        if draft is not None and draft.values:
            self._change(lambda: ctx.store.edit_stage(here.key, draft.values, now=ctx.now()),
                         _("updated stage {key}: {fields}").format(key=here.key, fields=", ".join(sorted(draft.values))))

    def action_move(self, step: int) -> None:
        """Move the highlighted stage one place earlier (-1) or later (1)."""
        here = self.current
        if here is None:
            return
        keys = [s.key for s in self.stages]
        i = keys.index(here.key) + step
        if not 0 <= i < len(keys):
            return
        ctx = self.ctx
        where = {"before": keys[i]} if step < 0 else {"after": keys[i]}
        self._change(lambda: ctx.store.move_stage(here.key, now=ctx.now(), **where),
                     _("moved stage {key}").format(key=here.key), keep=here.key)

    @work
    async def action_split(self) -> None:
        """Split the highlighted stage into parts; its deals move to the first part."""
        from funnel_tui.tui.forms.stage import SplitForm

        here = self.current
        if here is None:
            return
        ctx = self.ctx
        parts = await self.app.push_screen_wait(SplitForm(here))
        if parts:
            self._change(lambda: ctx.store.split_stage(here.key, parts, now=ctx.now()),
                         _("split {key} into {parts}").format(key=here.key, parts=", ".join(p[0] for p in parts)),
                         keep=parts[0][0])

    def _merge_choices(self, stage: StageDef) -> list[StageDef]:
        return [s for s in self.stages if s.key != stage.key and s.kind == stage.kind]

    @work
    async def action_merge(self) -> None:
        """Merge the highlighted stage into another of its kind; its deals move there."""
        from funnel_tui.tui.forms.stage import MergeForm

        here = self.current
        if here is None or not self._merge_choices(here):
            return
        ctx = self.ctx
        into = await self.app.push_screen_wait(MergeForm(here, self._merge_choices(here), ctx.lang))
        if into:
            self._change(lambda: ctx.store.merge_stage(here.key, into, now=ctx.now()),
                         _("merged {key} into {into}").format(key=here.key, into=into), keep=into)

    @work
    async def action_archive(self) -> None:
        """Archive the highlighted stage (refused while open deals sit in it)."""
        from funnel_tui.tui.forms.confirm import ConfirmDialog

        here = self.current
        if here is None:
            return
        ctx = self.ctx
        question = _("Archive {stage}? Its history stays; it leaves the board.").format(stage=here.label(ctx.lang))
        if await self.app.push_screen_wait(ConfirmDialog(question)):
            self._change(lambda: ctx.store.archive_stage(here.key, now=ctx.now()),
                         _("archived stage {key}").format(key=here.key))

    def action_undo(self) -> None:
        """Undo the last change (a stage change, or anything else)."""
        ctx = self.ctx
        with ctx.reporting_errors():
            result = ctx.store.undo(now=ctx.now())
            self.notify(_("Nothing to undo") if result is None else _("Undone"), timeout=3)
        self.reload()

    def action_switch_pipeline(self) -> None:
        """The next pipeline's stages."""
        if next_pipeline(self.ctx):
            self.reload()

    def action_back(self) -> None:
        """Back to where you came from."""
        self.app.pop_screen()
