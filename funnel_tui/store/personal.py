"""Where a setting lives: the rep's own — `me`, `lang`, `theme`, `export_dir` (funnel_tui.config)
— in the user's config dir on SQLite (on a team server, per role: team mode), the pipeline's
in its database. A value a database still holds from before is carried over to the config
file the first time it is asked for and the file has none. A demo database speaks as its demo
rep: its `demo_me` is the answer to `me` there, and is never carried over.

Standard library only: the store (settings.py) and the board's first read (board_read.py,
before SQLAlchemy loads) route every setting through `read_setting`, so both answer alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from funnel_tui import config, paths
from funnel_tui.store.errors import StoreError

DEMO_ME = "demo_me"  # set by exchange.demo: the demo pipeline's own rep


def is_personal(key: str) -> bool:
    return key in config.PERSONAL or key == config.ASKED_NAME


def personal_in_config(dialect: str) -> bool:
    """SQLite: the rep's own settings are in their config dir. (A team server keeps them per
    role, in funnel_user_setting: settings.get_personal.)"""
    return dialect == "sqlite"


def read_setting(db_value: Callable[[str], str | None], key: str, *, dialect: str,
                 db_path: Path | None, move: bool = True) -> str | None:
    """Any setting, from where it lives; `db_value(key)` reads one from the database (on a
    server the store reads the rep's own settings itself: settings.get_personal). `move`:
    see personal_setting."""
    if is_personal(key) and personal_in_config(dialect):
        try:
            return personal_setting(db_value, key, db_path=db_path, move=move)
        except config.ConfigError as exc:
            raise StoreError(str(exc)) from None
    return db_value(key)


def personal_setting(db_value: Callable[[str], str | None], key: str, *, db_path: Path | None,
                     move: bool = True) -> str | None:
    """A personal setting: the demo's rep for `me` in a demo database, else the config file's
    value, else (once) the value this database held before personal settings moved out —
    moved into the config file then, unless `move` is False (a read that writes nothing:
    exchange/import_early.py guesses before the store opens)."""
    if key == "me":
        demo = db_value(DEMO_ME)
        if demo:
            return demo
    value = config.get(key)
    if value is not None:
        return value
    old = db_value(key)
    if old is None or (key == "me" and db_path is not None and paths.is_demo_db(db_path)):
        return None  # a demo database made before demo_me: its rep is not the user
    if move:
        config.set_value(key, old)
    return old
