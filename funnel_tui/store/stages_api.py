"""The Store's stage, pipeline and checklist methods (mixed into core.Store).

Lookups read the stage table once per Store and keep it (every change here resets it).
A change is planned by domain.stage_plan from the stages as the database has them, and a
change that moves or reprices deals takes a verified backup first; then one write
transaction plans again from a fresh read (another terminal may have changed something)
and writes the plan with its history (store/stage_setup.py).
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

from funnel_tui.domain.stage_plan import (
    Plan,
    StageChangeError,
    add_pipeline,
    add_stage,
    archive_stage,
    edit_pipeline,
    edit_stage,
    find_pipeline,
    merge_stage,
    move_stage,
    pipeline_stage_keys,
    split_stage,
)
from funnel_tui.domain.stage_history import stages_as_of
from funnel_tui.domain.stages import PipelineDef, StageDef, find_stage, live, of_pipeline
from funnel_tui.i18n import _
from funnel_tui.store import checklist, settings, stage_setup
from funnel_tui.store.errors import StoreError
from funnel_tui.store.history import new_action

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

Planner = Callable[[Sequence[StageDef], Sequence[PipelineDef], "Connection"], Plan]


@contextmanager
def _refusal() -> Iterator[None]:
    try:
        yield
    except StageChangeError as exc:
        raise StoreError(str(exc)) from None


class StageMethods:
    """Stages, pipelines and playbook ticks: the part of the Store they need."""

    _all_stages: tuple[StageDef, ...] | None = None
    _pipelines: tuple[PipelineDef, ...] | None = None
    _any_ticks: bool | None = None  # None: not looked yet; ticks are only ever set from a Store

    # provided by Store
    engine: Any
    read: Callable[..., Any]
    write: Callable[..., Any]

    def forget_stages(self) -> None:
        """Read stages and pipelines again next time (after a change, an undo)."""
        self._all_stages = None
        self._pipelines = None

    # --- lookups ------------------------------------------------------------------------------

    def all_stages(self) -> tuple[StageDef, ...]:
        """Every stage of every pipeline, archived ones included."""
        if self._all_stages is None:
            with self.read() as conn:
                self._all_stages = settings.read_stages(conn)
        return self._all_stages

    def pipelines(self) -> tuple[PipelineDef, ...]:
        if self._pipelines is None:
            with self.read() as conn:
                self._pipelines = settings.read_pipelines(conn)
        return self._pipelines

    def pipeline(self, text: str | None = None) -> PipelineDef:
        """A pipeline by key or name; None is the default one."""
        with _refusal():
            return find_pipeline(self.pipelines(), text)

    def stages(self, pipeline: str | None = None) -> tuple[StageDef, ...]:
        """The live stages of a pipeline (the default one unless named), in funnel order."""
        key = self.pipeline(pipeline).key
        return tuple(s for s in of_pipeline(self.all_stages(), key) if not s.archived)

    def pipeline_stages(self, pipeline: str | None = None) -> tuple[StageDef, ...]:
        """Every stage of a pipeline, archived ones included: what its history counts on."""
        return tuple(of_pipeline(self.all_stages(), self.pipeline(pipeline).key))

    def live_stages(self) -> tuple[StageDef, ...]:
        """The live stages of every pipeline."""
        return tuple(live(self.all_stages()))

    def stage(self, key_or_name: str, pipeline: str | None = None) -> StageDef:
        """The stage a rep means: its key (archived ones too), else a name of a live stage of
        `pipeline` (the default one), else of any pipeline when only one has it."""
        everything = self.all_stages()
        for s in everything:
            if s.key == key_or_name:
                return s
        preferred = [s for s in self.stages(pipeline)]
        try:
            return find_stage(preferred, key_or_name)
        except ValueError:
            pass
        return settings.stage_named(self.live_stages(), key_or_name)

    def stage_keys(self, pipeline: str | None) -> tuple[str, ...] | None:
        """The stage keys that select a pipeline's deals; None when nothing needs selecting
        (no pipeline named, or the rep keeps only one)."""
        if pipeline is None:
            return None
        with _refusal():
            return pipeline_stage_keys(self.all_stages(), self.pipelines(), pipeline)

    def stage_set(self, pipeline: str | None = None, as_of: datetime | None = None) -> tuple[StageDef, ...]:
        """A pipeline's stages (archived included) as they stood at `as_of` (now when None):
        what the funnel math of that moment counts on (domain/funnel.py)."""
        if as_of is None:
            return self.pipeline_stages(pipeline)
        key = self.pipeline(pipeline).key
        with self.read() as conn:
            rows = stage_setup.setup_rows_after(conn, as_of)
        return tuple(s for s in stages_as_of(self.all_stages(), rows, as_of) if s.pipeline == key)

    # --- changes ------------------------------------------------------------------------------

    def _change(self, planner: Planner, *, now: datetime, reason: str) -> dict[str, Any]:
        """Plan, back up when deals change, write with history; returns what changed."""
        with _refusal():
            with self.read() as conn:
                before, pipes = settings.read_stages(conn), settings.read_pipelines(conn)
                plan = planner(before, pipes, conn)
                touched = _touches_deals(conn, before, plan)
            backup = None
            if touched:
                from funnel_tui.store.backup import backup_before

                backup = backup_before(self.engine, reason=f"stages-{reason}")
            try:
                with self.write() as conn:
                    before, pipes = settings.read_stages(conn), settings.read_pipelines(conn)
                    plan = planner(before, pipes, conn)
                    done = stage_setup.apply_plan(conn, before, plan, now=now, action=new_action(),
                                                  pipelines_before=pipes)
            finally:
                self.forget_stages()
        return {**done, "backup": backup}

    def add_stage(self, key: str, *, now: datetime, **options: Any) -> dict[str, Any]:
        """A new stage after (or before) another: `name`, `name_zh`, `probability`,
        `max_dwell_days`, `after`/`before`, playbook texts."""
        return self._change(lambda st, _p, _c: add_stage(st, key, **options), now=now, reason="add")

    def edit_stage(self, key: str, changes: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
        """Names, probability (open deals on the stage's default follow it), dwell limit, playbook."""
        key = self.stage(key).key
        return self._change(lambda st, _p, _c: edit_stage(st, key, changes), now=now, reason="edit")

    def move_stage(self, key: str, *, now: datetime, after: str | None = None,
                   before: str | None = None) -> dict[str, Any]:
        key = self.stage(key).key
        after = self.stage(after).key if after else None
        before = self.stage(before).key if before else None
        return self._change(lambda st, _p, _c: move_stage(st, key, after=after, before=before), now=now,
                            reason="move")

    def split_stage(self, key: str, parts: Sequence[tuple[str, str, str]], *, now: datetime) -> dict[str, Any]:
        """Split a stage into parts (key, name, name_zh); its deals move to the first."""
        key = self.stage(key).key
        return self._change(lambda st, _p, _c: split_stage(st, key, parts), now=now, reason="split")

    def merge_stage(self, key: str, into: str, *, now: datetime) -> dict[str, Any]:
        key, into = self.stage(key).key, self.stage(into).key
        return self._change(lambda st, _p, _c: merge_stage(st, key, into), now=now, reason="merge")

    def archive_stage(self, key: str, *, now: datetime) -> dict[str, Any]:
        """Archive a stage no open deal sits in (refused with the count and the way out)."""
        key = self.stage(key).key

        def plan(st, _p, conn):
            same = [s for s in st if s.pipeline == self.stage(key).pipeline and not s.archived]
            i = [s.key for s in same].index(key)
            nearby = [s for s in same[:i][::-1] + same[i + 1:] if s.kind == same[i].kind]
            return archive_stage(st, key, deals_in_it=stage_setup.deals_in(conn, key),
                                 neighbour=nearby[0].key if nearby else None)

        return self._change(plan, now=now, reason="archive")

    def add_pipeline(self, key: str, *, name: str, name_zh: str = "", parts: Sequence[tuple[str, str, str]],
                     now: datetime) -> dict[str, Any]:
        """A second (third…) pipeline with its own stages; the last part is its won stage."""
        return self._change(lambda st, p, _c: add_pipeline(p, st, key, name=name, name_zh=name_zh, parts=parts),
                            now=now, reason="pipeline")

    def edit_pipeline(self, key: str, *, now: datetime, name: str | None = None, name_zh: str | None = None,
                      default: bool = False) -> dict[str, Any]:
        key = self.pipeline(key).key

        def plan(st, p, _c):
            return Plan(list(st), {}, edit_pipeline(p, key, name=name, name_zh=name_zh, default=default))

        return self._change(plan, now=now, reason="pipeline")

    def deals_in_stage(self, key: str) -> int:
        """Open (not lost) deals sitting in a stage."""
        with self.read() as conn:
            return stage_setup.deals_in(conn, self.stage(key).key)

    # --- the playbook checklist -----------------------------------------------------------------

    def ticks(self, deal_id: int, stage: str) -> set[str]:
        with self.read() as conn:
            return checklist.ticks(conn, deal_id, stage)

    def tick_counts(self, deals: Sequence[Mapping[str, Any]]) -> dict[int, int]:
        """Items ticked per deal in its current stage (the cards' 2/3). A rep who never ticks
        pays one look at start, then nothing: the board reads this for every column."""
        if not deals:
            return {}
        if self._any_ticks is None:
            with self.read() as conn:
                self._any_ticks = checklist.any_ticks(conn)
        if not self._any_ticks:
            return {}
        with self.read() as conn:
            return checklist.tick_counts(conn, deals)

    def set_tick(self, deal_id: int, item: str, done: bool, *, now: datetime) -> bool:
        """Tick or untick an item of the deal's current stage's playbook (in history)."""
        with self.read() as conn:
            from funnel_tui.store.history import deal_row

            stage_key = deal_row(conn, deal_id)["stage"]
        stage = self.stage(stage_key)
        if item not in {i for i, _text in stage.checklist()}:
            raise StoreError(_("checklist: {stage} has no item {item!r}").format(stage=stage.key, item=item))
        with self.write() as conn:
            changed = checklist.set_tick(conn, deal_id, stage_key, item, done, now=now, action=new_action())
        self._any_ticks = self._any_ticks or done
        return changed

    def unticked_actions(self, deal: Mapping[str, Any], lang: str = "en") -> list[str]:
        """The key actions of the deal's current stage not ticked yet (asked before a move on)."""
        stage = self.stage(deal["stage"])
        done = self.ticks(deal["id"], stage.key)
        return [text for item, text in stage.checklist(lang) if item.startswith("actions.") and item not in done]


def _touches_deals(conn: "Connection", before: Sequence[StageDef], plan: Plan) -> bool:
    """True when writing the plan changes deals (a move, or a new default probability)."""
    old = {s.key: s for s in before}
    keys = set(plan.moves) | {s.key for s in plan.stages
                              if s.key in old and old[s.key].probability != s.probability}
    return any(stage_setup.deals_in(conn, key, open_only=False) for key in keys)
