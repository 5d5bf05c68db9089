"""Creating the schema on first use, seeding stages, and guarding the schema version."""

from __future__ import annotations

from typing import TYPE_CHECKING

from funnel_tui.domain.pinyin import KEY_VERSION
from funnel_tui.domain.stages import DEFAULT_PIPELINE_DEF, DEFAULT_STAGES
from funnel_tui.i18n import _
from funnel_tui.store import migrations
from funnel_tui.store.migrations import UNDO_TRIGGERS, seed_scorecard, user_version

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine


class NewerSchemaError(RuntimeError):
    """The database was written by a newer funnel-tui; we must not touch it."""


# History is append-only: the database itself refuses edits and deletes, so no code
# path (or a hand-written UPDATE) can rewrite what happened.
HISTORY_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS tr_history_no_update BEFORE UPDATE ON history
       BEGIN SELECT RAISE(ABORT, 'history is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS tr_history_no_delete BEFORE DELETE ON history
       BEGIN SELECT RAISE(ABORT, 'history is append-only'); END""",
    # Deals are never hard-deleted either: delete is a soft delete (deleted_at).
    """CREATE TRIGGER IF NOT EXISTS tr_deal_no_delete BEFORE DELETE ON deal
       BEGIN SELECT RAISE(ABORT, 'deals are never deleted; set deleted_at'); END""",
    *UNDO_TRIGGERS,
)


def has_tables(conn: "Connection") -> bool:
    return bool(
        conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='deal'"
        ).scalar()
    )


def create_schema(conn: "Connection") -> None:
    """Create every table, index, trigger and the default stages (inside `conn`'s txn)."""
    from funnel_tui import models
    from sqlmodel import SQLModel

    SQLModel.metadata.create_all(conn)
    if conn.dialect.name == "sqlite":
        for ddl in HISTORY_TRIGGERS:
            conn.exec_driver_sql(ddl)
    seed_stages(conn)
    seed_scorecard(conn)
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA user_version = {models.SCHEMA_VERSION}")


def seed_stages(conn: "Connection") -> None:
    """The default pipeline and its stages, with the source documents' playbooks."""
    from sqlalchemy import insert, select

    from funnel_tui.models import Pipeline, Stage

    table = Stage.__table__
    if conn.execute(select(table.c.key).limit(1)).first() is not None:
        return
    conn.execute(insert(Pipeline.__table__).values(**DEFAULT_PIPELINE_DEF.as_row()))
    conn.execute(insert(table), [s.as_row() for s in DEFAULT_STAGES])


def ensure_schema(engine: "Engine") -> None:
    """Bring a SQLite database to the current schema: create it, or refuse a newer one (a
    server's schema: store/pg_schema.ensure_pg_schema).

    Older versions are upgraded by `funnel_tui.store.migrations` (with a backup first);
    the arrow runs schema → migrations only, so migrations never imports this module.
    """
    from funnel_tui.models import SCHEMA_VERSION

    with engine.connect() as conn:
        version = user_version(conn)
        exists = has_tables(conn)
        keys = search_keys_version(conn) if exists and version == SCHEMA_VERSION else None
    if exists and version > SCHEMA_VERSION:
        raise NewerSchemaError(_("this database has schema version {version}, newer than this funnel-tui "
                                 "understands ({known}); upgrade funnel-tui to change it").format(
            version=version, known=SCHEMA_VERSION))
    if not exists:
        with engine.connect().execution_options(funnel_write=True) as conn:
            with conn.begin():
                if not has_tables(conn):  # another process may have won the race
                    create_schema(conn)
        return
    if version < SCHEMA_VERSION:
        migrations.migrate(engine, from_version=version)  # looked up now: tests swap it
    elif (keys or "1") != str(KEY_VERSION):  # none recorded: version 1's (store.search)
        rebuild_search_keys(engine)


def search_keys_version(conn: "Connection") -> str | None:
    """The domain.pinyin.KEY_VERSION the deals' search keys were built with (store.search)."""
    return conn.exec_driver_sql("SELECT value FROM setting WHERE key = 'search_key_version'").scalar()


def rebuild_search_keys(engine: "Engine") -> None:
    """Search keys built by another funnel-tui's rules (a new pypinyin, a new surname reading)
    are built again, once, after a verified backup, in one write transaction."""
    from funnel_tui.store.backup import backup_before
    from funnel_tui.store.search import rebuild_keys

    backup_before(engine, reason="search-keys")
    with engine.connect().execution_options(funnel_write=True) as conn:
        with conn.begin():
            if (search_keys_version(conn) or "1") != str(KEY_VERSION):  # another terminal may have done it
                rebuild_keys(conn)


def check_readable_schema(engine: "Engine") -> None:
    """A database opened read-only is read as it is: it must have our tables, and not need an
    upgrade this process cannot write (a newer schema is read as it is, see NewerSchemaError)."""
    from funnel_tui.models import SCHEMA_VERSION
    from funnel_tui.store.errors import DatabaseReadOnly

    with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            return
        version = user_version(conn)
        exists = has_tables(conn)
    if not exists:
        raise DatabaseReadOnly(_("{path} holds no funnel data yet, and it is read-only, so none can be "
                                 "created").format(path=engine.url.database))
    if version < SCHEMA_VERSION:
        raise DatabaseReadOnly(_("{path} needs an upgrade to schema version {new} (it has {old}), and it is "
                                 "read-only; make it writable and run funnel once").format(
            path=engine.url.database, new=SCHEMA_VERSION, old=version))
