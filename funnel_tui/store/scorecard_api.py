"""The Store's scorecard methods (issue 17): read and change the rules, explain a deal's
score, rescore the open deals. Mixed into Store like StageMethods; the SQL is store/scoring.py."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from funnel_tui.domain.scorecard import Rule, parse_rule, rule_json
from funnel_tui.store import scoring
from funnel_tui.store.history import new_action

if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from typing import Callable

    from sqlalchemy.engine import Connection, Engine


class ScorecardMethods:
    """Scorecard reads and writes of the Store (which gives `read`, `write` and `engine`)."""

    engine: "Engine"
    read: "Callable[[], AbstractContextManager[Connection]]"
    write: "Callable[[], AbstractContextManager[Connection]]"

    def scorecard(self) -> tuple[Rule, ...]:
        """The scorecard's rules in their order."""
        with self.read() as conn:
            return scoring.read_rules(conn)

    def add_rule(self, kind: str, field: str, pattern: str, points: Any, *, now: datetime,
                 label: str = "", label_zh: str = "") -> Rule:
        """A new rule (checked: ValueError names what is wrong), at the end."""
        rule = parse_rule(kind, field, pattern, points, label, label_zh)
        with self.write() as conn:
            return scoring.add_rule(conn, rule, now=now, action=new_action())

    def edit_rule(self, rule_id: int, changes: Mapping[str, Any], *, now: datetime) -> Rule:
        """Change some of a rule's kind, field, pattern, points, label, label_zh."""
        with self.write() as conn:
            old = scoring._rule(conn, rule_id)
            merged = {**rule_json(old), **{k: v for k, v in changes.items() if v is not None}}
            rule = parse_rule(merged["kind"], merged["field"], merged["pattern"], merged["points"],
                              merged["label"], merged["label_zh"])
            return scoring.edit_rule(conn, rule_id, rule, now=now, action=new_action())

    def remove_rule(self, rule_id: int, *, now: datetime) -> Rule:
        with self.write() as conn:
            return scoring.remove_rule(conn, rule_id, now=now, action=new_action())

    def explain_score(self, deal_id: int) -> dict[str, Any]:
        """Why the deal has its score (scoring.explain)."""
        with self.read() as conn:
            return scoring.explain(conn, deal_id)

    def rescore(self, *, now: datetime, backup: bool = True) -> dict[str, Any]:
        """Score every open deal again with today's rules (hand scores hold): a verified backup
        first, then one action (one undo). Returns {"deals", "changed", "by_hand", "backup"};
        an action that changed nothing leaves no trace (and no undo step)."""
        path: Path | None = None
        if backup:
            from funnel_tui.store.backup import backup_before

            path = backup_before(self.engine, reason="rescore")
        with self.write() as conn:
            done = scoring.rescore(conn, now=now, action=new_action())
        return {**done, "backup": str(path) if path else None}
