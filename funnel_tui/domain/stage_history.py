"""Stages through time: a deal's stays read through the stages as they count now, the stage
set as it stood at a past moment (for `--as-of`), and the weekly review's suggestion to
split a stage deals keep overstaying.

Stage and pipeline changes are history rows too: kind `field`, no deal, field `stage:<key>`
or `pipeline:<key>`, `old` and `new` the whole definition as JSON (None where it did not
exist). Undo appends the inverse rows, so the rows chain. (Kind `field` keeps the history
table's CHECK of kinds as it was; the field's prefix and the missing deal tell them apart.)
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable, Iterator, Mapping, Sequence

from funnel_tui.domain.stages import PipelineDef, StageDef, StageMap

SETUP_KIND = "field"
STAGE_FIELD = "stage:"
PIPELINE_FIELD = "pipeline:"
SLOW_WEEKS = 4  # the seed's rule: a stage overstayed on average this many whole weeks running


def is_setup(row: Mapping[str, Any]) -> bool:
    """A history row of a stage or pipeline change (not a deal's)."""
    field = row.get("field") or ""
    return row.get("deal_id") is None and (field.startswith(STAGE_FIELD) or field.startswith(PIPELINE_FIELD))


# --- stays read through the stages as they count now ------------------------------------------


def is_relabel(h: Mapping[str, Any], smap: StageMap | None) -> bool:
    """A split's or merge's move: both ends count as one stage now (no entry, no exit)."""
    return smap is not None and h["kind"] == "stage" and smap.same(h.get("from_stage"), h.get("to_stage"))


def deal_stays(entries: Iterable[Mapping[str, Any]], smap: StageMap,
               undone: set[str]) -> Iterator[tuple[str, datetime, datetime]]:
    """A deal's completed stays (stage as it counts now, entered, left) from its entry rows,
    oldest first: each effective exit closes the stay opened by the entry before it. Undone
    moves and their undo rows are no stays; a relabel neither opens nor closes one."""
    entered_at: datetime | None = None
    for h in entries:
        if (h.get("action") or "") in undone or is_relabel(h, smap):
            continue
        if h["kind"] == "stage" and h.get("from_stage") and entered_at is not None:
            stage = smap.key(h["from_stage"])
            if stage is not None:
                yield stage, entered_at, h["at"]
        entered_at = h["at"]


def open_stay_start(entries: Sequence[Mapping[str, Any]], smap: StageMap, undone: set[str],
                    stored: datetime) -> datetime:
    """When the deal's current stay began: its `stage_entered_at` (`stored`), unless relabel
    moves follow its last counted entry (a move A → B made before A was merged into B set
    `stored`, and is no entry now): then that entry. `entries` oldest first."""
    live = [h for h in entries if (h.get("action") or "") not in undone]
    if not live or not is_relabel(live[-1], smap):
        return stored
    counted = [h for h in live if not is_relabel(h, smap)]
    return counted[-1]["at"] if counted else stored


# --- the stage definitions as history rows -------------------------------------------------


def stage_json(stage: StageDef | None) -> str | None:
    return None if stage is None else json.dumps(stage.as_row(), ensure_ascii=False, sort_keys=True)


def stage_from_json(text: str | None) -> StageDef | None:
    return None if not text else StageDef(**json.loads(text))


def pipeline_json(pipeline: PipelineDef | None) -> str | None:
    return None if pipeline is None else json.dumps(pipeline.as_row(), ensure_ascii=False, sort_keys=True)


def pipeline_from_json(text: str | None) -> PipelineDef | None:
    return None if not text else PipelineDef(**json.loads(text))


def stages_as_of(current: Sequence[StageDef], setup_rows: Iterable[Mapping[str, Any]],
                 as_of: datetime) -> list[StageDef]:
    """Every stage as it stood at `as_of`, from the stages now and the setup rows after then.

    A stage's state then is the `old` of its first change after `as_of` (rows chain: each
    `old` is the previous `new`, undo rows included, so an action undone later still counts
    before its undo); without a later change it is as now. A stage whose first later row
    created it did not exist yet; stages older than any setup row (the defaults) always did.
    """
    now_by_key = {s.key: s for s in current}
    first_after: dict[str, Mapping[str, Any]] = {}
    for row in sorted(setup_rows, key=lambda r: r["id"]):
        field = row.get("field") or ""
        if not is_setup(row) or not field.startswith(STAGE_FIELD) or row["at"] <= as_of:
            continue
        first_after.setdefault(field[len(STAGE_FIELD):], row)
    out = []
    for key in {*now_by_key, *first_after}:
        row = first_after.get(key)
        stage = now_by_key[key] if row is None else stage_from_json(row.get("old"))
        if stage is not None:
            out.append(stage)
    return sorted(out, key=lambda s: (s.pipeline, s.position))


def slow_stages(stages: Sequence[StageDef], stays: Iterable[tuple[str, datetime, datetime]],
                windows: Sequence[tuple[datetime, datetime]], *, weeks: int = SLOW_WEEKS) -> list[dict[str, Any]]:
    """Open stages whose completed stays averaged above the stage's max dwell in each of the
    last `weeks` whole weeks (windows[1..weeks]; windows[0] is this week, still running).

    `stays` are (stage, entered, left) as they count now; a stay belongs to the week it
    ended in. A week without a completed stay breaks the run. A suggestion only: nothing
    is changed."""
    span = windows[1:weeks + 1]
    sums: dict[tuple[str, int], list[float]] = {}
    for stage, entered, left in stays:
        for w, (start, end) in enumerate(span, start=1):
            if start <= left < end:
                bucket = sums.setdefault((stage, w), [0, 0.0])
                bucket[0] += 1
                bucket[1] += (left - entered).total_seconds() / 86400
                break
    out = []
    for s in stages:
        if s.kind != "open" or not s.max_dwell_days or s.archived:
            continue
        per_week = []
        for w in range(1, len(span) + 1):
            n, days = sums.get((s.key, w), (0, 0.0))
            per_week.append({"n": n, "avg_days": None if n == 0 else days / n})
        if len(per_week) == weeks and all(wk["avg_days"] is not None and wk["avg_days"] > s.max_dwell_days
                                          for wk in per_week):
            out.append({"stage": s.key, "name": s.name, "name_zh": s.name_zh, "limit": s.max_dwell_days,
                        "weeks": per_week, "suggest": "split"})
    return out
