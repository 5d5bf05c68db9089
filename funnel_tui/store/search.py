"""Search in the store: deals found by customer, title or contact as typed, in full pinyin, by
initials or mixed (`huaxin`, `hxkj`, `华x`: domain.pinyin states the rule), and the stored key
that makes it one indexed query.

- Every write of customer, title or contact writes `deal.search_key` with it
  (`key_of`, `with_key`: insert_deal, apply_changes, the import's parser).
- A query becomes GLOBs on SQLite and POSIX regexes (`~`) on PostgreSQL (`search_where`); a
  mixed query's SQL finds a superset that `SearchQuery.check` narrows (`run_search`).
- The keys carry the version they were built with (setting `search_key_version`, written by a
  rebuild only: none means version 1, so a new database's shared settings stay as they were); a funnel-tui
  whose domain.pinyin.KEY_VERSION differs builds them again (`rebuild_keys`): on SQLite when the
  database is opened, after a backup; on a server when the administrator runs `team migrate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from sqlalchemy import and_, bindparam, literal_column, select, update
from sqlalchemy.engine import Connection

from funnel_tui.domain.pinyin import RS, US, KEY_VERSION, SearchQuery, deal_search_key, fold, search_query
from funnel_tui.domain.text import escape_like
from funnel_tui.store.tables import SET, D

SEARCHED = ("customer", "title", "contact_name")  # the fields a search reads
VERSION_SETTING = "search_key_version"
SQL_FUNCTION = "funnel_search_key"  # the key builder as a SQLite function (register_functions)
CHUNK = 2000


def key_of(deal: Mapping[str, Any]) -> str:
    """The stored key of a deal (a row or the values of a new one)."""
    return deal_search_key(deal.get("customer"), deal.get("title"), deal.get("contact_name"))


def with_key(deal: Mapping[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` to a deal, plus its new key when a searched field changes."""
    if any(f in changes for f in SEARCHED):
        changes["search_key"] = key_of({**deal, **changes})
    return changes


def search_where(dialect: str, query: str | SearchQuery):
    """(SQL condition, SearchQuery) for deals matching `query`; the condition is None for an
    empty query. When `SearchQuery.exact` is False, check each row found (`run_search`)."""
    q = query if isinstance(query, SearchQuery) else search_query(query)
    if not q.globs:
        return None, q
    if dialect == "sqlite":
        # Case-sensitive by definition (LIKE is not); the separators keep a match in one part.
        terms = [D.c.search_key.op("GLOB")(g) for g in q.globs]
    else:
        terms = [D.c.search_key.op("~")(r) for r in q.regexes]
    return and_(*terms), q


@dataclass(frozen=True)
class InOrder:
    """The palette's fuzzy match: the customer holds these characters in order (`acr` finds
    Acme Robotics). Checked on the folded customer, the first part of the stored key."""

    chars: str
    exact: bool = False  # for run_search: SQL finds a superset (any field, any case)

    def check(self, stored_key: str) -> bool:
        customer = stored_key.split(RS, 1)[0].split(US, 1)[0]
        rest = iter(customer)
        return all(ch in rest for ch in self.chars)  # `in` consumes the iterator: order kept


def in_order_where(query: str):
    """(SQL condition, InOrder) for the palette's fuzzy match, or (None, None) for an empty
    query. The LIKE reads the key index (its first part is the folded customer), not the
    table; the check keeps the customer's matches."""
    chars = fold(query)
    if not chars:
        return None, None
    pattern = "%" + "%".join(escape_like(ch) for ch in chars) + "%"
    return D.c.search_key.like(pattern, escape="\\"), InOrder(chars)


def run_search(conn: Connection, stmt, q: "SearchQuery | InOrder", *, limit: int | None, offset: int = 0) -> list[dict]:
    """Rows of `stmt` (which must select deal.search_key, and already holds the search
    condition) with `limit` and `offset` applied to the rows that really match: an exact query
    lets SQL do it, a mixed one reads candidates in pages and checks each."""
    if q.exact:
        if offset:
            stmt = stmt.offset(offset)
        if limit:
            stmt = stmt.limit(limit)
        return [dict(r) for r in conn.execute(stmt).mappings()]
    out: list[dict] = []
    skip, page, start = offset, max(CHUNK, (limit or 0) * 4), 0
    while True:
        rows = conn.execute(stmt.offset(start).limit(page)).mappings().all()
        for r in rows:
            if q.check(r["search_key"]):
                if skip:
                    skip -= 1
                    continue
                out.append(dict(r))
                if limit and len(out) >= limit:
                    return out
        if len(rows) < page:
            return out
        start += page


# --- the keys of existing deals -----------------------------------------------------------------


def register_functions(raw) -> None:
    """funnel_search_key(customer, title, contact_name) on a sqlite3 connection: a migration
    and a rebuild compute every key inside one UPDATE or INSERT … SELECT."""
    raw.create_function(SQL_FUNCTION, 3, deal_search_key, deterministic=True)


def key_version(conn: Connection) -> int | None:
    """The KEY_VERSION the stored keys were built with: none recorded means 1, the first (the
    setting is written only by a rebuild, so the shared settings stay as they were)."""
    value = conn.execute(select(SET.c.value).where(SET.c.key == VERSION_SETTING)).scalar()
    try:
        return int(value) if value is not None else 1
    except ValueError:
        return None


def record_key_version(conn: Connection) -> None:
    """Say the keys are this funnel-tui's (every deal's key was just built, or there are none)."""
    if conn.execute(select(SET.c.key).where(SET.c.key == VERSION_SETTING)).first() is None:
        conn.execute(SET.insert().values(key=VERSION_SETTING, value=str(KEY_VERSION)))
    else:
        conn.execute(update(SET).where(SET.c.key == VERSION_SETTING).values(value=str(KEY_VERSION)))


def _id_chunks(conn: Connection) -> Iterator[list[tuple]]:
    last = 0
    while True:
        rows = conn.execute(
            select(D.c.id, D.c.customer, D.c.title, D.c.contact_name, D.c.search_key)
            .where(D.c.id > last).order_by(D.c.id).limit(CHUNK)).all()
        if not rows:
            return
        last = rows[-1][0]
        yield rows


def rebuild_keys(conn: Connection) -> int:
    """Build every deal's key again, deleted deals too (they may be restored), and record the
    version; inside the caller's write transaction. Returns how many keys changed.

    SQLite: one UPDATE calling the key builder (register_functions). Elsewhere: read in
    id order by pages, write the keys that differ."""
    if conn.dialect.name == "sqlite":
        register_functions(conn.connection.dbapi_connection)
        expr = literal_column(f"{SQL_FUNCTION}(customer, title, contact_name)")
        changed = conn.execute(update(D).where(D.c.search_key.is_distinct_from(expr))
                               .values(search_key=expr)).rowcount
    else:
        changed = 0
        for rows in _id_chunks(conn):
            fresh = [{"i": i, "k": deal_search_key(c, t, n)} for i, c, t, n, old in rows]
            fresh = [f for f, r in zip(fresh, rows) if f["k"] != r[4]]
            if fresh:
                conn.execute(update(D).where(D.c.id == bindparam("i")).values(search_key=bindparam("k")), fresh)
                changed += len(fresh)
    record_key_version(conn)
    return int(changed or 0)
