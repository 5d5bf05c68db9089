"""The pipeline's settings kept in the database: its stages, and key/value settings."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from funnel_tui.domain.rules import TIER_A_SHARE, TIER_B_SHARE
from funnel_tui.domain.stages import StageDef, find_stage
from funnel_tui.store.errors import StoreError
from funnel_tui.store.tables import S, SET


def read_stages(conn: Connection) -> tuple[StageDef, ...]:
    """Every stage, in funnel order."""
    rows = conn.execute(select(S).order_by(S.c.position)).mappings().all()
    return tuple(
        StageDef(r["key"], r["position"], r["name"], r["name_zh"], r["probability"],
                 r["max_dwell_days"], r["kind"])
        for r in rows
    )


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


# Settings that belong to the person, not the pipeline (DESIGN §5): on a server, each role's own.
PERSONAL = frozenset({"me", "lang", "theme"})


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
