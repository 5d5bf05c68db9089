"""The pipeline's settings kept in the database: its stages, and key/value settings."""

from __future__ import annotations

from sqlalchemy import insert, text, update
from sqlalchemy.engine import Connection

from funnel_tui.domain.stages import StageDef, find_stage
from funnel_tui.store import board_sql
from funnel_tui.store.errors import StoreError
from funnel_tui.store.tables import SET


def read_stages(conn: Connection) -> tuple[StageDef, ...]:
    """Every stage, in funnel order (the board's first read reads them too: board_sql)."""
    return board_sql.stage_defs(conn.execute(text(board_sql.STAGES_SQL)).all())


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


def get_setting(conn: Connection, key: str) -> str | None:
    return conn.execute(text(board_sql.SETTING_SQL), {"key": key}).scalar()


def set_setting(conn: Connection, key: str, value: str) -> None:
    done = conn.execute(update(SET).where(SET.c.key == key).values(value=value)).rowcount
    if not done:
        conn.execute(insert(SET).values(key=key, value=value))


def tier_shares(conn: Connection) -> tuple[float, float]:
    """Tier thresholds: settings tier_a_share / tier_b_share, else 80 % / 95 %."""
    return board_sql.tier_shares(get_setting(conn, "tier_a_share"), get_setting(conn, "tier_b_share"))
