"""The Store's lesson methods (mixed into core.Store): write a lesson on a closed deal, read
one, list them (store.lessons holds the rules)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from funnel_tui.domain.vocab import LOST_REASON
from funnel_tui.store import lessons as lesson_rows
from funnel_tui.store.history import new_action
from funnel_tui.store.tables import aware_row


class LessonMethods:
    """Lessons (复盘): one per won or lost deal, shared with the team, changed by their author."""

    def lesson(self, deal_id: int) -> dict | None:
        """The deal's lesson (outcome, stage, reason, text, customer, owner, author, times), or None."""
        with self.read() as conn:  # type: ignore[attr-defined]
            row = lesson_rows.lesson_of(conn, deal_id)
        return aware_row(row) if row is not None else None

    def set_lesson(self, deal_id: int, text: str, *, now: datetime) -> dict:
        """Write or change the lesson of a won or lost deal (one undo step); returns it."""
        lesson_rows.clean_lesson(text)  # refused before the transaction opens
        stages = self.all_stages()  # type: ignore[attr-defined]
        with self.write() as conn:  # type: ignore[attr-defined]
            row = lesson_rows.write_lesson(conn, deal_id, text, stages=stages, now=now, action=new_action())
        return aware_row(row)

    def lessons(self, *, stage: str | None = None, reason: str | None = None, owner: str | None = None,
                outcome: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Lessons, newest first. `stage`: a stage key or name in either language (StoreError
        when none has it); `reason`: a lost reason code or label in either language, or the
        rep's own words; `owner`: the deal's owner."""
        keys = None
        if stage is not None:
            keys = [self.stage(stage).key]  # type: ignore[attr-defined]
        code = None
        if reason is not None:
            code = LOST_REASON.lookup(reason) or reason.strip()
        with self.read() as conn:  # type: ignore[attr-defined]
            rows = lesson_rows.list_lessons(conn, stages=keys, reason=code, owner=owner, outcome=outcome,
                                            limit=limit)
        return [aware_row(r) for r in rows]
