"""The pipeline's settings kept in the database: its stages, and key/value settings; and
the way to any setting, wherever it lives (`read_setting`, `write_personal`). The rep's own
settings — `me`, `lang`, `theme`, `export_dir` — live in the user's config dir on SQLite (the
rules of where, shared with the board's first read, are in personal.py), and per role on a
team server (funnel_user_setting, store/pg_schema.py: `get_personal`).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete, inspect, insert, text, update
from sqlalchemy.engine import Connection

from funnel_tui import config
from funnel_tui.domain.currency_totals import RATE_PREFIX, Rates
from funnel_tui.domain.stages import DEFAULT_PIPELINE_DEF, PipelineDef, StageDef, find_stage
from funnel_tui.domain.vocab import column_name
from funnel_tui.i18n import _
from funnel_tui.store import board_sql
from funnel_tui.store.errors import StoreError
from funnel_tui.store.personal import DEMO_ME, is_personal, personal_in_config  # noqa: F401 - re-exported
from funnel_tui.store.personal import read_setting as _where_it_lives
from funnel_tui.store.tables import SET


def read_stages(conn: Connection) -> tuple[StageDef, ...]:
    """Every stage of every pipeline, archived ones included, in funnel order per pipeline
    (the board's first read reads them the same way: board_sql.STAGES_SQL, stage_defs).

    Read as `SELECT *`: a database opened read-only because a newer (or older) funnel-tui
    wrote it may lack or add columns; the missing ones take their defaults."""
    return board_sql.stage_defs(conn.execute(text(board_sql.STAGES_SQL)).mappings().all())


def read_pipelines(conn: Connection) -> tuple[PipelineDef, ...]:
    """Every pipeline, in the order the rep made them (the default one where the table is
    missing: a database from before pipelines, opened read-only)."""
    if not inspect(conn).has_table("pipeline"):
        return (DEFAULT_PIPELINE_DEF,)
    return board_sql.pipeline_defs(conn.execute(text(board_sql.PIPELINES_SQL)).mappings().all())


def stage_named(stages: tuple[StageDef, ...], key_or_name: str) -> StageDef:
    """The stage a rep means by its key or a name (English or Chinese)."""
    try:
        return find_stage(stages, key_or_name)
    except ValueError as exc:
        raise StoreError(f"{column_name('stage')}: {exc}") from None


def stage_by_key(stages: tuple[StageDef, ...], key: str) -> StageDef:
    """The stage with exactly this key (as stored on a deal)."""
    for s in stages:
        if s.key == key:
            return s
    raise StoreError(column_name("stage") + ": " + _("unknown stage {text}").format(text=repr(key)))


def get_setting(conn: Connection, key: str, *, personal: bool = False) -> str | None:
    """A setting of the pipeline, or (`personal`, on a server) the connected role's own."""
    if personal:
        return get_personal(conn, key)
    return conn.execute(text(board_sql.SETTING_SQL), {"key": key}).scalar()


def set_setting(conn: Connection, key: str, value: str, *, personal: bool = False) -> None:
    if personal:
        set_personal(conn, key, value)
        return
    done = conn.execute(update(SET).where(SET.c.key == key).values(value=value)).rowcount
    if not done:
        conn.execute(insert(SET).values(key=key, value=value))


def author(conn: Connection) -> str:
    """Who writes, as history signs it: the connected role on a server; on SQLite the OS user
    (stable where the `me` setting may be renamed), else `me`."""
    if conn.dialect.name != "sqlite":
        return str(conn.exec_driver_sql("SELECT current_user").scalar())
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in this environment
        return get_setting(conn, "me") or ""


def get_personal(conn: Connection, key: str) -> str | None:
    """The connected role's own setting on a server (`me` defaults to the role's name)."""
    if conn.exec_driver_sql("SELECT to_regclass('funnel_user_setting') IS NULL").scalar():
        value = None  # a server not yet migrated (opened read-only): nothing personal kept yet
    else:
        value = conn.exec_driver_sql(
            "SELECT value FROM funnel_user_setting WHERE username = current_user AND key = %(key)s",
            {"key": key}).scalar()
    if value is None and key == "me":
        return str(conn.exec_driver_sql("SELECT current_user").scalar())
    return value


def set_personal(conn: Connection, key: str, value: str) -> None:
    conn.exec_driver_sql(
        "INSERT INTO funnel_user_setting (key, value) VALUES (%(key)s, %(value)s) "
        "ON CONFLICT (username, key) DO UPDATE SET value = EXCLUDED.value",
        {"key": key, "value": value})


def tier_shares(conn: Connection) -> tuple[float, float]:
    """Tier thresholds: settings tier_a_share / tier_b_share, else 80 % / 95 %."""
    return board_sql.tier_shares(get_setting(conn, "tier_a_share"), get_setting(conn, "tier_b_share"))


def read_setting(conn: Connection, key: str, *, db_path: Path | None) -> str | None:
    """Any setting, from where it lives (the config file, the role's own on a server, or this
    database: personal.py has the rules)."""
    if is_personal(key) and not personal_in_config(conn.dialect.name):
        return get_personal(conn, key)
    return _where_it_lives(lambda k: get_setting(conn, k), key, dialect=conn.dialect.name, db_path=db_path)


def write_personal(key: str, value: str) -> None:
    """A personal setting into the config file (a broken file is a StoreError)."""
    try:
        config.set_value(key, value)
    except config.ConfigError as exc:
        raise StoreError(str(exc)) from None


def read_rates(conn: Connection) -> Rates:
    """The exchange rates the rep set into the base currency, CNY (settings `rate:USD` = "7.1",
    kept as the text typed and read back as an exact Decimal)."""
    return board_sql.rates(conn.execute(text(board_sql.RATES_SQL)).all())


def set_rate(conn: Connection, code: str, rate: Decimal | None) -> None:
    """Set (or with None, remove) the rate of one currency in the base currency."""
    key = RATE_PREFIX + code
    if rate is None:
        conn.execute(delete(SET).where(SET.c.key == key))
    else:
        set_setting(conn, key, str(rate))
