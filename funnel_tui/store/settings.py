"""The pipeline's settings kept in the database: its stages, and key/value settings; and
the way to any setting, wherever it lives (`read_setting`, `write_personal`): the rules of
where — the rep's own in the config file, the pipeline's here — are in personal.py, which
the board's first read shares.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import insert, text, update
from sqlalchemy.engine import Connection

from funnel_tui import config
from funnel_tui.domain.stages import StageDef, find_stage
from funnel_tui.store import board_sql, personal
from funnel_tui.store.errors import StoreError
from funnel_tui.store.personal import DEMO_ME, is_personal, personal_in_config  # noqa: F401 - re-exported
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


def read_setting(conn: Connection, key: str, *, db_path: Path | None) -> str | None:
    """Any setting, from where it lives (the config file or this database: personal.py)."""
    return personal.read_setting(lambda k: get_setting(conn, k), key, dialect=conn.dialect.name,
                                 db_path=db_path)


def write_personal(key: str, value: str) -> None:
    """A personal setting into the config file (a broken file is a StoreError)."""
    try:
        config.set_value(key, value)
    except config.ConfigError as exc:
        raise StoreError(str(exc)) from None
