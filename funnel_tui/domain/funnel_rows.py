"""The funnel contract over plain rows (DESIGN §3, the rules in domain/funnel.py): deals and
history rows in, FunnelFacts out — the oracle the store's SQL is tested against, and the
replay of one deal as it stood at a past moment. Re-exported by domain.funnel.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

from funnel_tui.domain.currency_totals import BASE_CURRENCY
from funnel_tui.domain.funnel_facts import (
    ENTRY_KINDS,
    STATUS_KINDS,
    UNDO_PREFIX,
    DealGroup,
    FunnelFacts,
    days_between,
)
from funnel_tui.domain.money import weighted_minor
from funnel_tui.domain.stage_history import deal_stays, is_relabel, open_stay_start
from funnel_tui.domain.stages import StageDef, StageMap


def undone_actions(history: Iterable[Mapping[str, Any]], as_of: datetime | None = None) -> set[str]:
    """Actions reverted by an undo (at or before `as_of`), and the undo actions themselves."""
    out: set[str] = set()
    for h in history:
        action = h.get("action") or ""
        if action.startswith(UNDO_PREFIX) and (as_of is None or h["at"] <= as_of):
            out.add(action)
            out.add(action[len(UNDO_PREFIX):])
    return out


def _field_as_of(rows: list[Mapping[str, Any]], current: Any, as_of: datetime, parse=lambda v: v) -> Any:
    """A column's value at `as_of`: the last change up to then, else the value before the first
    later change, else its value now. `rows` are the column's history rows, oldest first."""
    before = [r for r in rows if r["at"] <= as_of]
    if before:
        return parse(before[-1]["new"])
    if rows:
        return parse(rows[0]["old"])
    return current


def deal_state_as_of(deal: Mapping[str, Any], history: Sequence[Mapping[str, Any]], as_of: datetime,
                     undone: set[str], smap: StageMap | None = None) -> dict[str, Any] | None:
    """The deal as it stood at `as_of` (stage, status, amount, …), or None if it did not exist.

    `history` is this deal's rows, oldest first (by id); `smap` reads stage keys as they
    count at `as_of` (a relabel move does not restart the stay)."""
    if deal.get("deleted_at") is not None and deal["deleted_at"] <= as_of:
        return None
    entries = [h for h in history if h.get("to_stage") and h["kind"] in ENTRY_KINDS and h["at"] <= as_of]
    if not entries:
        return None
    effective = [h for h in entries if (h.get("action") or "") not in undone and not is_relabel(h, smap)]
    entered = (effective or entries)[-1]["at"]
    status_rows = [h for h in history if h["kind"] in STATUS_KINDS]
    status = _field_as_of(status_rows, deal["status"], as_of)
    by_field: dict[str, list] = {}
    for h in history:
        if h["kind"] == "field" or (h["kind"] in STATUS_KINDS and h.get("field")):
            by_field.setdefault(h.get("field") or "", []).append(h)
    closed = _field_as_of(by_field.get("closed_at", []), deal.get("closed_at"), as_of,
                          lambda v: datetime.fromisoformat(v) if v else None)
    return {
        **deal,
        "stage": entries[-1]["to_stage"],
        "stage_entered_at": entered,
        "status": status,
        "amount": _field_as_of(by_field.get("amount", []), deal["amount"], as_of, int),
        "probability": _field_as_of(by_field.get("probability", []), deal["probability"], as_of, int),
        "lost_reason": _field_as_of(by_field.get("lost_reason", []), deal.get("lost_reason") or "", as_of,
                                    lambda v: v or ""),
        "closed_at": closed,
        "currency": _field_as_of(by_field.get("currency", []), deal.get("currency") or BASE_CURRENCY, as_of),
    }


def facts_from_rows(
    stages: Sequence[StageDef],
    deals: Iterable[Mapping[str, Any]],
    history: Iterable[Mapping[str, Any]],
    *,
    now: datetime,
    as_of: datetime | None = None,
) -> FunnelFacts:
    """FunnelFacts from plain rows: the set is `deals` (already filtered; deleted ones are
    skipped); `history` may hold rows of other deals. Times are aware datetimes.

    `stages` is the pipeline's stage set as it stood at `as_of` (or now), archived stages
    included: stage keys count as the stages they map to (StageMap)."""
    smap = StageMap.of(stages)
    position = smap.position
    by_deal: dict[int, list[Mapping[str, Any]]] = {}
    all_rows = sorted((h for h in history if h.get("deal_id") is not None), key=lambda h: h["id"])
    for h in all_rows:
        by_deal.setdefault(h["deal_id"], []).append(h)
    undone = undone_actions(all_rows, as_of)
    clock = as_of or now
    groups: dict[tuple, list] = {}
    facts = FunnelFacts()
    for deal in deals:
        rows = by_deal.get(deal["id"], [])
        if as_of is not None:
            state = deal_state_as_of(deal, rows, as_of, undone, smap)
            if state is None:
                continue
            rows = [h for h in rows if h["at"] <= as_of]
        else:
            if deal.get("deleted_at") is not None:
                continue
            state = deal
        entries = [h for h in rows if h.get("to_stage") and h["kind"] in ENTRY_KINDS]
        live = [h for h in entries if (h.get("action") or "") not in undone]
        stage_now = smap.key(state["stage"]) or state["stage"]
        top = max((h["to_stage"] for h in live if h["to_stage"] in position),
                  key=position.__getitem__, default=stage_now)
        if position.get(stage_now, 0) > position.get(top, 0):
            top = stage_now
        top = smap.key(top) or top
        facts.highest[top] = facts.highest.get(top, 0) + 1
        facts.highest_amount[top] = facts.highest_amount.get(top, 0) + state["amount"]
        for stage, entered, left in deal_stays(entries, smap, undone):
            n, d = facts.stays.get(stage, (0, 0.0))
            facts.stays[stage] = (n + 1, d + days_between(entered, left))
        status = state["status"]
        w = weighted_minor(state["amount"], state["probability"])
        key = (status, stage_now, state.get("source") or "", state.get("lost_reason") or "" if status == "lost" else "",
               state.get("currency") or BASE_CURRENCY)
        g = groups.setdefault(key, [0, 0, 0, 0.0, 0.0])
        g[0] += 1
        g[1] += state["amount"]
        g[2] += w
        if status == "won" and state.get("closed_at") is not None:
            g[3] += days_between(state["created_at"], state["closed_at"])
        if status == "open":
            entered = state["stage_entered_at"] if as_of is not None else \
                open_stay_start(entries, smap, undone, state["stage_entered_at"])
            g[4] += days_between(entered, clock)
            facts.open_weighted[w] = facts.open_weighted.get(w, 0) + 1
    facts.groups = [DealGroup(*k[:4], *v, currency=k[4]) for k, v in groups.items()]
    return facts
