"""The store: every read and write of the rep's database, through one facade (core.Store).

The modules behind it are listed in core.py; engine, schema, migrations and backup open,
create, upgrade and copy the database itself; health, open_check and recover say what SQLite
found, check the file at start, and copy back what a damaged or older file holds.

The names below are loaded when first asked for (`from funnel_tui.store import Store`
works as always): importing the package itself loads nothing, so the modules that need no
SQLAlchemy — engine, backup, open_check, due_sql, due_read, which `funnel due` uses on its
sqlite3 read path — can be imported without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from funnel_tui.store.core import Store
    from funnel_tui.store.due_sql import DueItem
    from funnel_tui.store.errors import NotFound, StaleDealError, StoreError
    from funnel_tui.store.schema import NewerSchemaError
    from funnel_tui.store.tables import from_db, to_db
    from funnel_tui.store.today import WarningItem

__all__ = [
    "DueItem",
    "NewerSchemaError",
    "NotFound",
    "StaleDealError",
    "Store",
    "StoreError",
    "WarningItem",
    "from_db",
    "to_db",
]


def __getattr__(name: str) -> Any:
    """The public names, each imported from its module on first use (PEP 562)."""
    if name == "Store":
        from funnel_tui.store.core import Store as value
    elif name == "DueItem":
        from funnel_tui.store.due_sql import DueItem as value
    elif name in ("NotFound", "StaleDealError", "StoreError"):
        from funnel_tui.store import errors

        value = getattr(errors, name)
    elif name == "NewerSchemaError":
        from funnel_tui.store.schema import NewerSchemaError as value
    elif name in ("from_db", "to_db"):
        from funnel_tui.store import tables

        value = getattr(tables, name)
    elif name == "WarningItem":
        from funnel_tui.store.today import WarningItem as value
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value
