"""The store: every read and write of the rep's database, through one facade (core.Store).

The modules behind it are listed in core.py; engine, schema, migrations and backup open,
create, upgrade and copy the database itself; health, open_check and recover say what SQLite
found, check the file at start, and copy back what a damaged or older file holds.
"""

from funnel_tui.store.core import Store
from funnel_tui.store.errors import NotFound, StaleDealError, StoreError
from funnel_tui.store.schema import NewerSchemaError
from funnel_tui.store.tables import from_db, to_db
from funnel_tui.store.today import DueItem, WarningItem

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
