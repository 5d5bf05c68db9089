"""The rep's language for a whole `funnel` run, chosen before the parser is built (its help
is translated as it is built): the `lang` setting, else the locale.

Read with tomllib and sqlite3 alone, no ORM, creating neither the config nor the data dir:
`funnel --help` stays light and leaves no trace. (Split from cli/common.py.)
"""

from __future__ import annotations

import os
from typing import Sequence

from funnel_tui import config
from funnel_tui.i18n import activate, resolve_lang


def choose_language(argv: Sequence[str]) -> str:
    """Speak the rep's language from the first line on: the `lang` setting, else the locale.

    Runs before the parser is built, because its help is translated as it is built. The
    setting is read with sqlite3 alone (see `_lang_setting`); `open_store` reads it again
    through the store, for databases this cannot read (a server URL).
    """
    lang = resolve_lang(_lang_setting(argv))
    activate(lang)
    return lang


_DEMO = "\0demo"  # what `_db_named` says for --demo: the demo database in the data dir


def _db_named(argv: Sequence[str]) -> str | None:
    """The database `--db`/`--demo`/FUNNEL_DB names, from the options before the command."""
    args = list(argv)
    for i, arg in enumerate(args):
        if arg == "--db" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--db="):
            return arg[len("--db="):]
        if arg == "--demo":
            return _DEMO
        if not arg.startswith("-"):
            break  # the command: its own options are not ours
    return os.environ.get("FUNNEL_DB") or None


def _lang_setting(argv: Sequence[str]) -> str | None:
    """The rep's `lang` setting for this run, or None (none set, a server URL, anything
    unreadable: then the locale decides).

    On SQLite it lives in the rep's config file (`funnel_tui.config`); a database from before
    that file may still hold it in its own setting table (the store carries it over when it
    opens). Read-only, with tomllib and sqlite3 and no ORM, creating neither the config nor the
    data dir: `funnel --help` stays light and leaves no trace.
    """
    target = _db_named(argv)
    if target is not None and "://" in target and not target.startswith("sqlite:///"):
        return None
    try:
        from funnel_tui.paths import config_dir_unmade

        lang = config.read(config_dir_unmade() / config.FILE_NAME).get("lang")
        if lang:
            return lang
        if target is None or target == _DEMO:
            from funnel_tui.paths import data_dir_unmade

            path = data_dir_unmade() / ("demo.db" if target else "funnel.db")
        else:
            from pathlib import Path

            path = Path(target.removeprefix("sqlite:///"))
        if not path.is_file():
            return None
        import sqlite3

        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.2)
        try:
            row = conn.execute("SELECT value FROM setting WHERE key = 'lang'").fetchone()
        finally:
            conn.close()
    except Exception:  # noqa: BLE001 - a language is never worth a failed command
        return None
    return row[0] if row else None
