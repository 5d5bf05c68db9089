"""The pipeline's settings kept in the database: its stages, and key/value settings; and
where the rep's own settings live (`personal_setting`, `set_personal_setting`).

Settings that belong to the person — `me`, `lang`, `theme`, `export_dir` (funnel_tui.config)
— live in the user's config dir on SQLite, and per role on a team server (funnel_user_setting,
store/pg_schema.py). A value a
database still holds from before is carried over to the config file the first time it is
asked for and the file has none. A demo database speaks as its demo rep: its `demo_me` is the
answer to `me` there, and is never carried over.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete, insert, inspect, select, text, update
from sqlalchemy.engine import Connection

from funnel_tui import config, paths
from funnel_tui.domain.currency_totals import BASE_CURRENCY, RATE_PREFIX, Rates
from funnel_tui.domain.rules import TIER_A_SHARE, TIER_B_SHARE
from funnel_tui.domain.stages import (
    DEFAULT_PIPELINE_DEF,
    PIPELINE_COLUMNS,
    STAGE_COLUMNS,
    PipelineDef,
    StageDef,
    find_stage,
)
from funnel_tui.store.errors import StoreError
from funnel_tui.store.tables import P, S, SET


def read_stages(conn: Connection) -> tuple[StageDef, ...]:
    """Every stage of every pipeline, archived ones included, in funnel order per pipeline.

    Read as `SELECT *`: a database opened read-only because a newer (or older) funnel-tui
    wrote it may lack or add columns; the missing ones take their defaults."""
    rows = conn.execute(text("SELECT * FROM stage")).mappings().all()
    out = [StageDef(**{c: (bool(r[c]) if c == "archived" else r[c]) for c in STAGE_COLUMNS if c in r}) for r in rows]
    return tuple(sorted(out, key=lambda s: (s.pipeline, s.position)))


def read_pipelines(conn: Connection) -> tuple[PipelineDef, ...]:
    """Every pipeline, in the order the rep made them (the default one where the table is
    missing: a database from before pipelines, opened read-only)."""
    if not inspect(conn).has_table("pipeline"):
        return (DEFAULT_PIPELINE_DEF,)
    rows = conn.execute(select(P).order_by(P.c.position)).mappings().all()
    return tuple(PipelineDef(**{c: (bool(r[c]) if c == "is_default" else r[c]) for c in PIPELINE_COLUMNS})
                 for r in rows)


def stage_named(stages: tuple[StageDef, ...], key_or_name: str) -> StageDef:
    """The stage a rep means by its key or a name (English or Chinese)."""
    try:
        return find_stage(stages, key_or_name)
    except ValueError as exc:
        raise StoreError(f"stage: {exc}") from None


def stage_by_key(stages: tuple[StageDef, ...], key: str) -> StageDef:
    """The stage with exactly this key (as stored on a deal)."""
    for s in stages:
        if s.key == key:
            return s
    raise StoreError(f"stage: unknown stage {key!r}")


def get_setting(conn: Connection, key: str, *, personal: bool = False) -> str | None:
    """A setting of the pipeline, or (`personal`, on a server) the connected role's own."""
    if personal:
        return get_personal(conn, key)
    return conn.execute(select(SET.c.value).where(SET.c.key == key)).scalar()


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
    a = get_setting(conn, "tier_a_share")
    b = get_setting(conn, "tier_b_share")
    return (float(a) if a else TIER_A_SHARE, float(b) if b else TIER_B_SHARE)


DEMO_ME = "demo_me"  # set by exchange.demo: the demo pipeline's own rep


def is_personal(key: str) -> bool:
    return key in config.PERSONAL or key == config.ASKED_NAME


def personal_in_config(dialect: str) -> bool:
    """SQLite: the rep's own settings are in their config dir. (A team server keeps them per
    role, in funnel_user_setting: get_personal.)"""
    return dialect == "sqlite"


def read_setting(conn: Connection, key: str, *, db_path: Path | None) -> str | None:
    """Any setting, from where it lives (the config file, the role's own on a server, or this
    database)."""
    if is_personal(key) and personal_in_config(conn.dialect.name):
        try:
            return personal_setting(conn, key, db_path=db_path)
        except config.ConfigError as exc:
            raise StoreError(str(exc)) from None
    return get_setting(conn, key, personal=is_personal(key))


def write_personal(key: str, value: str) -> None:
    """A personal setting into the config file (a broken file is a StoreError)."""
    try:
        config.set_value(key, value)
    except config.ConfigError as exc:
        raise StoreError(str(exc)) from None


def personal_setting(conn: Connection, key: str, *, db_path: Path | None) -> str | None:
    """A personal setting: the demo's rep for `me` in a demo database, else the config file's
    value, else (once) the value this database held before personal settings moved out."""
    if key == "me":
        demo = get_setting(conn, DEMO_ME)
        if demo:
            return demo
    value = config.get(key)
    if value is not None:
        return value
    old = get_setting(conn, key)
    if old is None or (key == "me" and db_path is not None and paths.is_demo_db(db_path)):
        return None  # a demo database made before demo_me: its rep is not the user
    config.set_value(key, old)
    return old


def read_rates(conn: Connection) -> Rates:
    """The exchange rates the rep set into the base currency, CNY (settings `rate:USD` = "7.1",
    kept as the text typed and read back as an exact Decimal)."""
    rows = conn.execute(select(SET.c.key, SET.c.value).where(SET.c.key.startswith(RATE_PREFIX))).all()
    return Rates(BASE_CURRENCY, {key[len(RATE_PREFIX):]: Decimal(value) for key, value in rows
                                 if key[len(RATE_PREFIX):] != BASE_CURRENCY})


def set_rate(conn: Connection, code: str, rate: Decimal | None) -> None:
    """Set (or with None, remove) the rate of one currency in the base currency."""
    key = RATE_PREFIX + code
    if rate is None:
        conn.execute(delete(SET).where(SET.c.key == key))
    else:
        set_setting(conn, key, str(rate))
