"""The store: engine factory, schema, and every read and write (see core.Store)."""

from funnel_tui.store.core import (
    DueItem,
    NotFound,
    StaleDealError,
    Store,
    StoreError,
    WarningItem,
    from_db,
    to_db,
)
from funnel_tui.store.schema import NewerSchemaError

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
