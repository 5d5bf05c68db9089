"""Versioned schema migrations, keyed by PRAGMA user_version.

Version 1 is the first released schema, so there is nothing to migrate yet. Each future
step is a function `(conn) -> None` registered in MIGRATIONS[from_version]; `migrate`
takes a verified backup first and runs every step in one transaction with foreign keys
off and a clean `foreign_key_check` before commit (a table rebuild with foreign keys on
would silently cascade-delete child rows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

MIGRATIONS: dict[int, Callable[["Connection"], None]] = {}


class MigrationError(RuntimeError):
    pass


def migrate(engine: "Engine", *, from_version: int) -> None:
    from funnel_tui.models import SCHEMA_VERSION

    steps = list(range(from_version, SCHEMA_VERSION))
    missing = [v for v in steps if v not in MIGRATIONS]
    if missing:
        raise MigrationError(
            f"no migration from schema version {missing[0]}; this database cannot be upgraded"
        )
    from funnel_tui.store.backup import backup_before

    backup_before(engine, reason=f"migrate-v{from_version}-to-v{SCHEMA_VERSION}")
    with engine.connect() as conn:
        # foreign_keys cannot change inside a transaction, so switch it off first.
        conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
        try:
            conn = conn.execution_options(funnel_write=True)
            with conn.begin():
                for version in steps:
                    MIGRATIONS[version](conn)
                bad = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if bad:
                    raise MigrationError(f"migration left {len(bad)} orphaned rows; nothing changed")
                conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
        finally:
            conn.exec_driver_sql("PRAGMA foreign_keys = ON")
