"""Writing stage and pipeline changes (planned by domain.stage_plan) and walking them back.

Each change is one action in history: a setup row per stage or pipeline it touched (no deal,
field `stage:<key>`; `old`/`new` the whole definition as JSON), and, for a split or merge, a `stage` row
per deal it moved (the move keeps the deal's stage-entered time: the funnel math reads it
as a relabel, see domain/funnel.py), and a `stage_entered_at` field row per open deal whose
clock an earlier move set that is a relabel now (A → B, then A merged into B: the clock goes
back to when it entered A, the rule of store/stage_stays.py). Undo restores the definitions from `old` and the
deals through the ordinary column restore, so a stage change undoes like any other action.

Positions are unique per pipeline, so rows are rewritten in two passes (first to negative
places, then to the final ones): any reorder passes through no duplicate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import and_, delete, false, insert, select, update
from sqlalchemy.engine import Connection

from funnel_tui.domain.stage_history import (
    PIPELINE_FIELD,
    SETUP_KIND,
    STAGE_FIELD,
    pipeline_from_json,
    pipeline_json,
    stage_from_json,
    stage_json,
)
from funnel_tui.domain.stage_plan import Plan
from funnel_tui.domain.stages import PipelineDef, StageDef, StageMap
from funnel_tui.store.history import history_row, live_sql, record, ser
from funnel_tui.store.settings import read_pipelines, read_stages
from funnel_tui.store.stage_stays import stale_clocks
from funnel_tui.store.tables import IN_CHUNK, D, H, P, S, aware_row, from_db, to_db

Pair = tuple["StageDef | None", "StageDef | None"]


def deals_in(conn: Connection, stage_key: str, *, open_only: bool = True) -> int:
    """How many live deals sit in a stage: open ones (and won ones, in a won or post stage)."""
    q = select(D.c.id).where(and_(D.c.stage == stage_key, D.c.deleted_at.is_(None)))
    if open_only:
        q = q.where(D.c.status != "lost")
    return len(conn.execute(q).all())


def setup_rows_after(conn: Connection, moment: datetime) -> list[dict]:
    """The setup rows (stage and pipeline changes) written after `moment`, oldest first."""
    rows = conn.execute(select(H.c.id, H.c.at, H.c.kind, H.c.field, H.c.old, H.c.new).where(and_(
        H.c.kind == SETUP_KIND, H.c.deal_id.is_(None), H.c.at > to_db(moment))).order_by(H.c.id)).mappings().all()
    return [aware_row(dict(r)) for r in rows]


def apply_plan(conn: Connection, before: Sequence[StageDef], plan: Plan, *, now: datetime, action: str,
               pipelines_before: Sequence[PipelineDef] = ()) -> dict[str, Any]:
    """Write a planned change: the stages (and pipelines) it touched, with their setup rows,
    then the deals it moves. Returns {"stages": keys changed, "moved": deals moved}."""
    at = to_db(now)
    old = {s.key: s for s in before}
    pairs: list[Pair] = [(old.get(s.key), s) for s in plan.stages if old.get(s.key) != s]
    rows = []
    if plan.pipelines is not None:
        old_p = {p.key: p for p in pipelines_before}
        p_pairs = [(old_p.get(p.key), p) for p in plan.pipelines if old_p.get(p.key) != p]
        write_pipelines(conn, p_pairs)
        rows += [history_row(None, at, SETUP_KIND, action, field=PIPELINE_FIELD + (b or a).key,  # type: ignore[arg-type]
                             old=pipeline_json(a), new=pipeline_json(b)) for a, b in p_pairs]
    write_stages(conn, pairs)
    rows += [history_row(None, at, SETUP_KIND, action, field=STAGE_FIELD + (b or a).key,  # type: ignore[arg-type]
                         old=stage_json(a), new=stage_json(b)) for a, b in pairs]
    record(conn, rows)
    by_key = {s.key: s for s in plan.stages}
    moved = 0
    for source, target in plan.moves.items():
        moved += _move_all(conn, source, by_key[target], at=at, action=action)
    for target in dict.fromkeys(plan.moves.values()):
        _restart_clocks(conn, by_key[target], at=at, action=action)
    repriced = {t for t in plan.moves.values()} | {
        b.key for a, b in pairs if a is not None and b is not None and a.probability != b.probability}
    for key in repriced:
        _reprice(conn, by_key[key], at=at, action=action)
    return {"stages": [(b or a).key for a, b in pairs], "moved": moved}  # type: ignore[union-attr]


def write_stages(conn: Connection, pairs: Iterable[Pair]) -> None:
    """Make the stage table say `new` for each (old, new) pair; new None deletes (undo of a
    creation). Two passes keep (pipeline, position) unique at every statement."""
    pairs = list(pairs)
    for old, new in pairs:
        if new is None and old is not None:
            conn.execute(delete(S).where(S.c.key == old.key))
    live = [(old, new) for old, new in pairs if new is not None]
    for old, new in live:
        if old is None:
            conn.execute(insert(S).values(**{**new.as_row(), "position": -new.position}))
        else:
            conn.execute(update(S).where(S.c.key == new.key).values(position=-new.position))
    for _old, new in live:
        conn.execute(update(S).where(S.c.key == new.key).values(**new.as_row()))


def write_pipelines(conn: Connection, pairs: Iterable[tuple[PipelineDef | None, PipelineDef | None]]) -> None:
    """The pipeline table's side of a change (positions unique: the same two passes)."""
    pairs = list(pairs)
    for old, new in pairs:
        if new is None and old is not None:
            conn.execute(delete(P).where(P.c.key == old.key))
    live = [(old, new) for old, new in pairs if new is not None]
    for old, new in live:
        if old is None:
            conn.execute(insert(P).values(**{**new.as_row(), "position": -new.position}))
        else:
            conn.execute(update(P).where(P.c.key == new.key).values(position=-new.position))
    for _old, new in live:
        conn.execute(update(P).where(P.c.key == new.key).values(**new.as_row()))


def _rehome(conn: Connection, stage_now: Mapping[str, StageDef], stage_pairs: Sequence[Pair],
            pipe_pairs: Sequence[tuple[PipelineDef | None, PipelineDef | None]], *, at: datetime,
            action: str) -> None:
    """Before an undo removes a stage it created: the deals still pointing at it (only deleted
    ones can: every later action was undone first, and an undone creation soft-deletes its
    deal) go to the first live stage that stays, so `funnel restore` finds them a home."""
    gone = {a.key for a, b in stage_pairs if a is not None and b is None}
    if not gone:
        return
    final = {k: v for k, v in stage_now.items() if k not in gone}
    final.update({b.key: b for _a, b in stage_pairs if b is not None})
    dropped = {a.key for a, b in pipe_pairs if a is not None and b is None}
    default = next((p.key for _a, p in pipe_pairs if p is not None and p.is_default), None)
    for key in sorted(gone):
        pipeline = stage_now[key].pipeline
        if pipeline in dropped:
            pipeline = default or next((p.key for p in read_pipelines(conn) if p.is_default), pipeline)
        home = sorted((s for s in final.values() if s.pipeline == pipeline and not s.archived),
                      key=lambda s: s.position)
        if home:
            _move_all(conn, key, home[0], at=at, action=action)


def _move_all(conn: Connection, source: str, target: StageDef, *, at: datetime, action: str) -> int:
    """Every deal in `source` (any status, deleted ones too) into `target`, one history row
    each; the stage-entered time stays (the stay goes on under its new name)."""
    ids = conn.execute(select(D.c.id).where(D.c.stage == source).order_by(D.c.id)).scalars().all()
    for i in range(0, len(ids), IN_CHUNK):
        chunk = ids[i:i + IN_CHUNK]
        record(conn, [history_row(deal_id, at, "stage", action, field="stage", old=source, new=target.key,
                                  from_stage=source, to_stage=target.key) for deal_id in chunk])
        conn.execute(update(D).where(D.c.id.in_(chunk)).values(
            stage=target.key, updated_at=at, version=D.c.version + 1))
    return len(ids)


def _restart_clocks(conn: Connection, stage: StageDef, *, at: datetime, action: str) -> None:
    """After a merge (or split) into `stage`: an open deal whose clock was set by a move that
    is now a relabel (A → B, then A merged into B) has been in `stage` since its last counted
    entry; its `stage_entered_at` goes there, one field row each, so undo restores the old
    clock. The rule is the summary's (store/stage_stays.py); this change's own relabel rows
    are left out, so a clock only they follow (every plain split or merge) stays."""
    smap = StageMap.of([s for s in read_stages(conn) if s.pipeline == stage.pipeline])
    found = stale_clocks(conn, smap, stage.key, live_sql("h"), action)
    for i in range(0, len(found), IN_CHUNK):
        chunk = dict(found[i:i + IN_CHUNK])
        entered = dict(conn.execute(select(H.c.id, H.c.at).where(H.c.id.in_(list(chunk.values())))).all())
        stored = dict(conn.execute(select(D.c.id, D.c.stage_entered_at).where(D.c.id.in_(list(chunk)))).all())
        record(conn, [history_row(deal_id, at, "field", action, field="stage_entered_at",
                                  old=ser(stored[deal_id]), new=ser(entered[entry]))
                      for deal_id, entry in chunk.items()])
        for deal_id, entry in chunk.items():
            conn.execute(update(D).where(D.c.id == deal_id).values(
                stage_entered_at=to_db(from_db(entered[entry])), updated_at=at, version=D.c.version + 1))


def _reprice(conn: Connection, stage: StageDef, *, at: datetime, action: str) -> None:
    """Open deals that follow their stage's default probability take its new value."""
    if stage.probability is None:
        return
    rows = conn.execute(select(D.c.id, D.c.probability).where(and_(
        D.c.stage == stage.key, D.c.status == "open", D.c.deleted_at.is_(None),
        D.c.probability_custom == false(), D.c.probability != stage.probability))).all()
    ids = [r.id for r in rows]
    record(conn, [history_row(r.id, at, "field", action, field="probability", old=ser(r.probability),
                              new=ser(stage.probability)) for r in rows])
    for i in range(0, len(ids), IN_CHUNK):
        conn.execute(update(D).where(D.c.id.in_(ids[i:i + IN_CHUNK])).values(
            probability=stage.probability, updated_at=at, version=D.c.version + 1))


def undo_setup(conn: Connection, rows: Sequence[Mapping[str, Any]], *, now: datetime, action: str) -> None:
    """The inverse of an action's setup rows: each definition back to its `old` (a created
    stage is removed again: by now no deal points at it), with the inverse rows recorded."""
    at = to_db(now)
    first: dict[str, Mapping[str, Any]] = {}
    for row in sorted(rows, key=lambda r: r["id"]):  # the first row's `old`: the state before
        first.setdefault(row["field"] or "", row)
    stage_now = {s.key: s for s in read_stages(conn)}
    pipe_now = {p.key: p for p in read_pipelines(conn)}
    stage_pairs = [(stage_now.get(f[len(STAGE_FIELD):]), stage_from_json(r["old"]))
                   for f, r in first.items() if f.startswith(STAGE_FIELD)]
    pipe_pairs = [(pipe_now.get(f[len(PIPELINE_FIELD):]), pipeline_from_json(r["old"]))
                  for f, r in first.items() if f.startswith(PIPELINE_FIELD)]
    # Pipelines come back before their stages and go after them (stages point at them).
    write_pipelines(conn, [(a, b) for a, b in pipe_pairs if b is not None])
    _rehome(conn, stage_now, stage_pairs, pipe_pairs, at=at, action=action)
    write_stages(conn, stage_pairs)
    write_pipelines(conn, [(a, b) for a, b in pipe_pairs if b is None])
    record(conn, [history_row(None, at, SETUP_KIND, action, field=STAGE_FIELD + (b or a).key,  # type: ignore
                              old=stage_json(a), new=stage_json(b)) for a, b in stage_pairs]
           + [history_row(None, at, SETUP_KIND, action, field=PIPELINE_FIELD + (b or a).key,  # type: ignore
                          old=pipeline_json(a), new=pipeline_json(b)) for a, b in pipe_pairs])
