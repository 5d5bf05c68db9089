"""Lead scoring in the store (issue 17): the scorecard's rules, a deal scored when it or a touch
is written, a whole rescore, and rule changes with their history and undo.

Automatic or by hand: a deal's score is the scorecard's unless the rep set it by hand, and a
hand score holds until the rep clears it (`funnel edit ID --lead-score ""`, or empty in the
Deal form); clearing it scores the deal again at once. Which one a deal has is read from its
history, never kept twice: the newest standing history row of field `lead_score` or
`scorecard` decides — a `scorecard` row (written with every automatic change, `new` = the
score and the rules that gave it, as JSON) means automatic, a `lead_score` row with a value
means by hand, and a deal with neither but a score got it by hand, at creation, from an import
or before the scorecard existed. Undo skips undone rows, so undoing a hand score (or a
clearing) brings the earlier state back with the earlier value: a true inverse.

Rule changes are setup rows like stage changes (store/stage_setup.py): kind `field`, no deal,
field `scorecard:<id>`, `old`/`new` the rule as JSON (None where there was none).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import and_, bindparam, delete, func, insert, select, text, update
from sqlalchemy.engine import Connection

from funnel_tui.domain.scorecard import BEHAVIOUR, SCORECARD_FIELD, Rule, Score, rule_from_json, rule_json, score
from funnel_tui.i18n import _
from funnel_tui.store.errors import NotFound
from funnel_tui.store.history import AUTHOR_OPTION, apply_changes, deal_row, history_row, live_sql, record, ser
from funnel_tui.store.tables import IN_CHUNK, SC, D, T, open_clause, sqlite_value, to_db

SCORE_FIELD = SCORECARD_FIELD  # a deal's row: scored by the scorecard
RULE_FIELD = "scorecard:"  # a setup row: a rule changed
ATTRIBUTES = ("company_size", "industry", "contact_role", "source")


def is_rule_row(row: Mapping[str, Any]) -> bool:
    """A history row of a scorecard rule change (not a deal's)."""
    return row.get("deal_id") is None and (row.get("field") or "").startswith(RULE_FIELD)


def read_rules(conn: Connection) -> tuple[Rule, ...]:
    """The scorecard's rules in their order."""
    rows = conn.execute(select(SC).order_by(SC.c.position, SC.c.id)).mappings().all()
    return tuple(Rule(r["kind"], r["field"], r["pattern"], r["points"], r["label"], r["label_zh"],
                      r["id"], r["position"]) for r in rows)


def _touches(conn: Connection, deal_ids: Sequence[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {i: [] for i in deal_ids}
    for i in range(0, len(deal_ids), IN_CHUNK):
        rows = conn.execute(select(T.c.deal_id, T.c.kind, T.c.note).where(and_(
            T.c.deal_id.in_(deal_ids[i:i + IN_CHUNK]), T.c.voided_at.is_(None)))).mappings()
        for r in rows:
            out[r["deal_id"]].append(dict(r))
    return out


def _last_score_rows(conn: Connection, deal_ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
    """Per deal, the newest standing history row of field lead_score or scorecard: (field, new)."""
    out: dict[int, tuple[str, str | None]] = {}
    for i in range(0, len(deal_ids), IN_CHUNK):
        rows = conn.execute(text(
            f"SELECT h.deal_id, h.field, h.new FROM history h WHERE h.deal_id IN :ids "
            f"AND h.field IN ('lead_score', '{SCORE_FIELD}') AND {live_sql('h')} ORDER BY h.id"
        ).bindparams(bindparam("ids", expanding=True)), {"ids": list(deal_ids[i:i + IN_CHUNK])})
        for deal_id, field, new in rows:
            out[deal_id] = (field, new)
    return out


def by_hand(lead_score: int | None, last: tuple[str, str | None] | None) -> bool:
    """Whether a deal's score was set by hand (and so holds), from its newest score row."""
    if last is None:
        return lead_score is not None
    field, new = last
    return field == "lead_score" and new is not None


def score_row(deal_id: int, at: datetime, action: str, old: int | None, result: Score,
              as_json: Mapping[int | None, dict] | None = None) -> dict[str, Any]:
    """The history row saying the scorecard scored a deal: `new` the score and its rules (JSON).
    `as_json`: the rules' JSON by id, made once for a whole rescore."""
    js = as_json or {}
    new = {"score": result.value, "raw": result.raw,
           "rules": [{**(js.get(h.rule.id) or rule_json(h.rule)), "matched": h.matched} for h in result.hits]}
    return history_row(deal_id, at, "field", action, field=SCORE_FIELD, old=ser(old),
                       new=json.dumps(new, ensure_ascii=False))


def apply_scorecard(conn: Connection, deal_id: int, *, now: datetime, action: str,
                    cleared: bool = False) -> dict | None:
    """Score one deal with the scorecard, inside the caller's write (a deal or a touch was just
    written under `action`). A hand score holds; `cleared`: the rep has just cleared theirs.
    Returns the new deal row when the score changed, else None."""
    rules = read_rules(conn)
    if not rules:
        return None
    deal = deal_row(conn, deal_id)
    # No score is nobody's (a hand score is never None): the history need not be read.
    if not cleared and deal["lead_score"] is not None and by_hand(
            deal["lead_score"], _last_score_rows(conn, [deal_id]).get(deal_id)):
        return None
    behaviour = any(r.kind == BEHAVIOUR for r in rules)
    result = score(rules, deal, _touches(conn, [deal_id])[deal_id] if behaviour else [])
    if result.value == deal["lead_score"] and not cleared:
        return None
    at = to_db(now)
    old = deal["lead_score"]
    if result.value != old:
        deal = apply_changes(conn, deal, {"lead_score": result.value}, now=now, action=action)
    record(conn, [score_row(deal_id, at, action, old, result)])  # even to None: it was the scorecard's doing
    return deal


class ImportScoring:
    """The scorecard applied to an import's new deals, set-wise and inside the import's write:
    for each new deal without a score in its file, exactly what apply_scorecard writes for a
    single `add` (the score, its `lead_score` row, its `scorecard` row; version 2). A new deal
    has no touches, so only attribute rules can match: the verdict is made once per distinct
    (company size, industry, role, source), not once per deal. A score the file gives is the
    rep's and holds (by_hand: a score without score rows was set by hand)."""

    def __init__(self, conn: Connection):
        self.rules = read_rules(conn)
        self._as_json = {r.id: rule_json(r) for r in self.rules}
        self._memo: dict[tuple, tuple[int | None, str | None]] = {}

    def verdict(self, attrs: tuple) -> tuple[int | None, str | None]:
        """(score, the `scorecard` row's `new`) for these ATTRIBUTES' values; (None, None): no rule matches."""
        hit = self._memo.get(attrs)
        if hit is None:
            result = score(self.rules, dict(zip(ATTRIBUTES, attrs)), ())
            hit = (None, None) if result.value is None else \
                (result.value, score_row(0, None, "", None, result, self._as_json)["new"])
            self._memo[attrs] = hit
        return hit

    def score_new(self, conn: Connection, *, at: datetime, action: str, after_id: int | None = None,
                  ids: Sequence[int] = ()) -> int:
        """Score the new deals with an id above `after_id` (the staged path: one range) or in `ids`;
        returns how many got a score."""
        if not self.rules:
            return 0
        cols = [D.c.id, *(D.c[a] for a in ATTRIBUTES)]
        found: list = []
        if after_id is not None:
            found += conn.execute(select(*cols).where(and_(D.c.id > after_id, D.c.lead_score.is_(None)))).all()
        for i in range(0, len(ids), IN_CHUNK):
            found += conn.execute(select(*cols).where(and_(D.c.id.in_(ids[i:i + IN_CHUNK]),
                                                           D.c.lead_score.is_(None)))).all()
        verdict = self.verdict
        scored = [(deal_id, *verdict(tuple(attrs))) for deal_id, *attrs in found]
        # apply_scorecard writes nothing when no rule matches a deal without a score.
        scored = [s for s in scored if s[1] is not None]
        if not scored:
            return 0
        if conn.dialect.name == "sqlite":  # past SQLAlchemy's per-row work: a big import scores 100k deals
            conn.exec_driver_sql("UPDATE deal SET lead_score = ?, version = version + 1 WHERE id = ?",
                                 [(value, deal_id) for deal_id, value, _why in scored])
            when, author = sqlite_value(at), conn.get_execution_options().get(AUTHOR_OPTION, "")
            rows = []  # what history_row and stamp_author make, as tuples
            for deal_id, value, why in scored:
                rows.append((deal_id, when, "field", "lead_score", None, str(value), action, author))
                rows.append((deal_id, when, "field", SCORE_FIELD, None, why, action, author))
            conn.exec_driver_sql("INSERT INTO history (deal_id, at, kind, field, old, new, action, author) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            return len(scored)
        conn.execute(update(D).where(D.c.id == bindparam("b_id")).values(
            lead_score=bindparam("b_score"), version=D.c.version + 1),
            [{"b_id": deal_id, "b_score": value} for deal_id, value, _why in scored])
        record(conn, [row for deal_id, value, why in scored for row in (
            history_row(deal_id, at, "field", action, field="lead_score", old=None, new=str(value)),
            history_row(deal_id, at, "field", action, field=SCORE_FIELD, old=None, new=why))])
        return len(scored)


def explain(conn: Connection, deal_id: int) -> dict[str, Any]:
    """Why a deal has its score: {"score", "by_hand", "now": the scorecard's Score today,
    "rules": how many rules there are}. `now` may differ from `score` when the rules changed
    since the deal was last scored (a rescore settles it) or the score is the rep's."""
    deal = deal_row(conn, deal_id)
    rules = read_rules(conn)
    hand = by_hand(deal["lead_score"], _last_score_rows(conn, [deal_id]).get(deal_id))
    return {"score": deal["lead_score"], "by_hand": hand, "now": score(rules, deal, _touches(conn, [deal_id])[deal_id]),
            "rules": len(rules)}


def rescore(conn: Connection, *, now: datetime, action: str) -> dict[str, Any]:
    """Score every open deal again with today's rules (hand scores hold), in chunks of ids;
    one action, so one undo takes it all back. Returns {"deals", "changed", "by_hand"}."""
    rules = read_rules(conn)
    as_json = {r.id: rule_json(r) for r in rules}
    at = to_db(now)
    seen = changed = hand = 0
    last_id = 0
    cols = [D.c.id, D.c.version, D.c.lead_score, *(D.c[a] for a in ATTRIBUTES)]
    while True:
        q = select(*cols).where(and_(open_clause(), D.c.id > last_id)).order_by(D.c.id).limit(IN_CHUNK)
        if conn.dialect.name == "postgresql":
            q = q.with_for_update()  # as every write locks a deal before changing it
        chunk = conn.execute(q).mappings().all()
        if not chunk:
            break
        last_id = chunk[-1]["id"]
        ids = [r["id"] for r in chunk]
        lasts = _last_score_rows(conn, ids)
        touches = _touches(conn, ids) if rules else {}
        updates, rows = [], []
        for d in chunk:
            seen += 1
            if by_hand(d["lead_score"], lasts.get(d["id"])):
                hand += 1
                continue
            if not rules:
                continue
            result = score(rules, d, touches[d["id"]])
            if result.value == d["lead_score"]:
                continue
            changed += 1
            updates.append({"b_id": d["id"], "b_score": result.value, "b_version": d["version"]})
            rows.append(history_row(d["id"], at, "field", action, field="lead_score",
                                    old=ser(d["lead_score"]), new=ser(result.value)))
            rows.append(score_row(d["id"], at, action, d["lead_score"], result, as_json))
        if updates:
            conn.execute(update(D).where(and_(D.c.id == bindparam("b_id"), D.c.version == bindparam("b_version")))
                         .values(lead_score=bindparam("b_score"), updated_at=at, version=D.c.version + 1), updates)
            record(conn, rows)
    return {"deals": seen, "changed": changed, "by_hand": hand}


def undo_rescore(conn: Connection, rows: Sequence[Mapping[str, Any]], *, now: datetime, action: str) -> list[int]:
    """The inverse of an action of scores only (a rescore; domain.undo says "rescore"): each
    deal's score back to its oldest row's `old`, set-wise — one UPDATE per chunk and the same
    history rows apply_changes would write one deal at a time. Returns the deals' ids."""
    back: dict[int, tuple[str | None, str | None]] = {}
    for r in sorted(rows, key=lambda r: r["id"]):
        if r["field"] == "lead_score":
            back.setdefault(r["deal_id"], (r["old"], r["new"]))
    at = to_db(now)
    ids = list(back)
    for i in range(0, len(ids), IN_CHUNK):
        chunk = ids[i:i + IN_CHUNK]
        now_scores = dict(conn.execute(select(D.c.id, D.c.lead_score).where(D.c.id.in_(chunk))).all())
        conn.execute(update(D).where(D.c.id == bindparam("b_id")).values(
            lead_score=bindparam("b_score"), updated_at=at, version=D.c.version + 1),
            [{"b_id": d, "b_score": None if back[d][0] is None else int(back[d][0])} for d in chunk])
        record(conn, [history_row(d, at, "field", action, field="lead_score", old=ser(now_scores.get(d)),
                                  new=back[d][0]) for d in chunk])
    return ids


def changes_to_score(changed: Iterable[str]) -> bool:
    """Whether an edit of these fields can change the scorecard's score."""
    return bool(set(changed) & set(ATTRIBUTES))


# --- rule changes ------------------------------------------------------------------------------


def _rule(conn: Connection, rule_id: int) -> Rule:
    for r in read_rules(conn):
        if r.id == rule_id:
            return r
    raise NotFound(_("scorecard: no rule with id {id}; funnel scorecard lists them").format(id=rule_id))


def _row(rule: Rule) -> dict[str, Any]:
    return {"kind": rule.kind, "field": rule.field, "pattern": rule.pattern, "points": rule.points,
            "label": rule.label, "label_zh": rule.label_zh, "position": rule.position}


def _setup_row(at: datetime, action: str, rule_id: int, old: Rule | None, new: Rule | None) -> dict[str, Any]:
    js = lambda r: None if r is None else json.dumps(rule_json(r), ensure_ascii=False)  # noqa: E731
    return history_row(None, at, "field", action, field=f"{RULE_FIELD}{rule_id}", old=js(old), new=js(new))  # type: ignore[arg-type]


def add_rule(conn: Connection, rule: Rule, *, now: datetime, action: str) -> Rule:
    """A new rule at the end of the scorecard."""
    position = int(conn.execute(select(func.coalesce(func.max(SC.c.position), 0))).scalar()) + 1
    new = Rule(**{**rule_json(rule), "id": None, "position": position})  # type: ignore[arg-type]
    rule_id = int(conn.execute(insert(SC).values(**_row(new))).inserted_primary_key[0])
    new = Rule(**{**rule_json(new), "id": rule_id})  # type: ignore[arg-type]
    record(conn, [_setup_row(to_db(now), action, rule_id, None, new)])
    return new


def edit_rule(conn: Connection, rule_id: int, new: Rule, *, now: datetime, action: str) -> Rule:
    """Replace rule `rule_id` by `new` (its id and place kept)."""
    old = _rule(conn, rule_id)
    new = Rule(**{**rule_json(new), "id": rule_id, "position": old.position})  # type: ignore[arg-type]
    if new != old:
        conn.execute(update(SC).where(SC.c.id == rule_id).values(**_row(new)))
        record(conn, [_setup_row(to_db(now), action, rule_id, old, new)])
    return new


def remove_rule(conn: Connection, rule_id: int, *, now: datetime, action: str) -> Rule:
    old = _rule(conn, rule_id)
    conn.execute(delete(SC).where(SC.c.id == rule_id))
    record(conn, [_setup_row(to_db(now), action, rule_id, old, None)])
    return old


def undo_rules(conn: Connection, rows: Sequence[Mapping[str, Any]], *, now: datetime, action: str) -> None:
    """The inverse of an action's rule rows: each rule back to its `old` (a new one removed, a
    removed one back under its id), with the inverse rows recorded."""
    first: dict[str, Mapping[str, Any]] = {}
    for row in sorted(rows, key=lambda r: r["id"]):
        first.setdefault(row["field"], row)
    current = {r.id: r for r in read_rules(conn)}
    at = to_db(now)
    out = []
    for field, row in first.items():
        rule_id = int(field[len(RULE_FIELD):])
        before = rule_from_json(json.loads(row["old"])) if row["old"] else None
        now_rule = current.get(rule_id)
        if before is None:
            conn.execute(delete(SC).where(SC.c.id == rule_id))
        elif now_rule is None:
            conn.execute(insert(SC).values(id=rule_id, **_row(before)))
        else:
            conn.execute(update(SC).where(SC.c.id == rule_id).values(**_row(before)))
        out.append(_setup_row(at, action, rule_id, now_rule, before))
    record(conn, out)
    if conn.dialect.name == "postgresql" and any(r["old"] and not current.get(int(f[len(RULE_FIELD):]))
                                                  for f, r in first.items()):
        # A rule put back under its own id: the id sequence must not hand that id out again.
        conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('scorecard_rule', 'id'), "
                             "(SELECT max(id) FROM scorecard_rule))")
