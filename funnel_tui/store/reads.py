"""Reads of deals and what hangs off them: one deal, its history, follow-ups and touches;
lists, search and counts. Rows leave as plain dicts with aware UTC times."""

from __future__ import annotations

from typing import Sequence

from sqlalchemy import and_, func, or_, select, true, union_all
from sqlalchemy.engine import Connection

from funnel_tui.domain.customers import customer_key, full_width, search_needle
from funnel_tui.domain.text import clean_text, escape_like
from funnel_tui.store.history import deal_row
from funnel_tui.store.search import in_order_where, run_search, search_where
from funnel_tui.store.tables import DEAL_FIELDS, D, F, H, T, U, aware_row


def get_deal(conn: Connection, deal_id: int, *, include_deleted: bool = False) -> dict:
    return aware_row(deal_row(conn, deal_id, include_deleted=include_deleted))


def deal_history(conn: Connection, deal_id: int) -> list[dict]:
    """Every history row of the deal, undone ones and undo rows too: the append-only record."""
    rows = conn.execute(select(H).where(H.c.deal_id == deal_id).order_by(H.c.id)).mappings().all()
    return [aware_row(dict(r)) for r in rows]


def _timeline_clause(deal_id: int):
    skipped = union_all(select(U.c.action), select(U.c.undo_action))
    return and_(H.c.deal_id == deal_id, H.c.action.not_in(skipped))


def deal_timeline(conn: Connection, deal_id: int, *, newest: int | None = None) -> list[dict]:
    """The deal's history as the rep reads it: actions that were undone, and the undos' own
    inverse rows, left out (the deal screen's timeline, `funnel show`). Oldest first;
    `newest`: only the latest that many (a deal may have 20,000 rows: `show` and the Deal
    screen page them), read newest first along ix_history_deal."""
    q = select(H).where(_timeline_clause(deal_id))
    if newest is None:
        rows = conn.execute(q.order_by(H.c.id)).mappings().all()
    else:
        rows = conn.execute(q.order_by(H.c.at.desc(), H.c.id.desc()).limit(max(newest, 0))).mappings().all()[::-1]
    return [aware_row(dict(r)) for r in rows]


def count_timeline(conn: Connection, deal_id: int) -> int:
    """How many rows deal_timeline has in all."""
    return int(conn.execute(select(func.count()).select_from(H).where(_timeline_clause(deal_id))).scalar() or 0)


def deal_follow_ups(conn: Connection, deal_id: int, *, open_only: bool = False) -> list[dict]:
    q = select(F).where(F.c.deal_id == deal_id)
    if open_only:
        q = q.where(F.c.status == "open")
    return [aware_row(dict(r)) for r in conn.execute(q.order_by(F.c.due_at)).mappings().all()]


def deal_touches(conn: Connection, deal_id: int) -> list[dict]:
    rows = conn.execute(
        select(T).where(and_(T.c.deal_id == deal_id, T.c.voided_at.is_(None))).order_by(T.c.at)
    ).mappings().all()
    return [aware_row(dict(r)) for r in rows]


def chosen_deals(q, *, status: str | Sequence[str | None] | None = "open", stage_key: str | None = None,
                 owner: str | None = None):
    """`q` narrowed to deals not deleted, of `status` (one, several, or None / "" / "all"
    for every status), in a stage, of a rep; oldest id first."""
    q = q.where(D.c.deleted_at.is_(None))
    statuses = (status,) if isinstance(status, str) or status is None else tuple(status)
    if statuses and all(statuses) and "all" not in statuses:
        q = q.where(D.c.status == statuses[0] if len(statuses) == 1 else D.c.status.in_(statuses))
    if stage_key:
        q = q.where(D.c.stage == stage_key)
    if owner:
        q = q.where(D.c.owner == owner)
    return q.order_by(D.c.id)


def list_deals(conn: Connection, *, status: str | None = "open", stage_key: str | None = None,
               owner: str | None = None, search: str | None = None, limit: int | None = None,
               offset: int = 0, stage_keys: Sequence[str] | None = None) -> list[dict]:
    """Deals by id, filtered; `status` None or "all" for every status; `stage_keys` one
    pipeline's stages; `search` finds them by customer, title or contact as typed or in pinyin
    (store.search)."""
    where, sq = search_where(conn.dialect.name, clean_text(search)) if search else (None, None)
    if where is not None:
        q = chosen_deals(select(*DEAL_FIELDS, D.c.search_key), status=status, stage_key=stage_key, owner=owner)
        if stage_keys is not None:
            q = q.where(D.c.stage.in_(list(stage_keys)))
        rows = run_search(conn, q.where(where), sq, limit=limit, offset=offset)
        return [aware_row({k: v for k, v in r.items() if k != "search_key"}) for r in rows]
    q = chosen_deals(select(*DEAL_FIELDS), status=status, stage_key=stage_key, owner=owner)
    if stage_keys is not None:
        q = q.where(D.c.stage.in_(list(stage_keys)))
    q = q.offset(offset)
    if limit:
        q = q.limit(limit)
    return [aware_row(dict(r)) for r in conn.execute(q).mappings()]


FOUND = (D.c.id, D.c.customer, D.c.title, D.c.contact_name, D.c.stage, D.c.status, D.c.search_key)


def search_deals(conn: Connection, text: str, *, limit: int = 20, fuzzy: bool = False) -> list[dict]:
    """Deals (any status, not deleted) matching `text`, open ones first; bounded.

    Customer, title or contact, as typed or in pinyin: `huaxin`, `hxkj`, `华x` (store.search).
    `fuzzy` adds, after those, deals whose customer holds the characters of `text` in order
    ("acr" finds "Acme Robotics"), for the palette's jump-to-deal.
    """
    needle = clean_text(text)
    where, sq = search_where(conn.dialect.name, needle)
    if where is None:
        return []
    q = (select(*FOUND).where(and_(D.c.deleted_at.is_(None), where))
         .order_by((D.c.status == "open").desc(), D.c.id))
    rows = run_search(conn, q, sq, limit=limit)
    fuzzy_where, in_order = in_order_where(needle) if fuzzy and len(rows) < limit else (None, None)
    if fuzzy_where is not None:
        seen = [r["id"] for r in rows]
        q = (select(*FOUND).where(and_(D.c.deleted_at.is_(None), fuzzy_where,
                                       D.c.id.not_in(seen) if seen else true()))
             .order_by((D.c.status == "open").desc(), D.c.id))
        rows += run_search(conn, q, in_order, limit=limit - len(rows))
    for r in rows:
        del r["search_key"]
    return rows


def similar_customers(conn: Connection, name: str, *, limit: int = 5, scan: int = 200) -> list[dict]:
    """Deals (any status, not deleted) whose customer is the same company as `name` by
    `domain.customers.customer_key` (华信科技有限公司 = 华信科技, ＡＣＭＥ Inc. = Acme), open
    ones first. One bounded LIKE on the name's longest word finds candidates (in half- and
    full-width forms); their keys are then compared whole."""
    key, needle = customer_key(name), search_needle(name)
    if not key or not needle:
        return []
    forms = dict.fromkeys((needle, full_width(needle), full_width(needle.upper())))
    where = or_(*(D.c.customer.ilike(f"%{escape_like(form)}%", escape="\\") for form in forms))
    q = (
        select(D.c.id, D.c.customer, D.c.title, D.c.stage, D.c.status)
        .where(and_(D.c.deleted_at.is_(None), where))
        .order_by((D.c.status == "open").desc(), D.c.id)
        .limit(scan)
    )
    rows = [dict(r) for r in conn.execute(q).mappings()]
    return [r for r in rows if customer_key(r["customer"]) == key][:limit]


def count_deals(conn: Connection, *, status: str | None = "open") -> int:
    q = select(func.count()).select_from(D).where(D.c.deleted_at.is_(None))
    if status and status != "all":
        q = q.where(D.c.status == status)
    return int(conn.execute(q).scalar() or 0)
