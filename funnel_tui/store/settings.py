"""The pipeline's settings kept in the database: its stages, and key/value settings."""

from __future__ import annotations

from sqlalchemy import insert, inspect, select, text, update
from sqlalchemy.engine import Connection

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


def get_setting(conn: Connection, key: str) -> str | None:
    return conn.execute(select(SET.c.value).where(SET.c.key == key)).scalar()


def set_setting(conn: Connection, key: str, value: str) -> None:
    done = conn.execute(update(SET).where(SET.c.key == key).values(value=value)).rowcount
    if not done:
        conn.execute(insert(SET).values(key=key, value=value))


def tier_shares(conn: Connection) -> tuple[float, float]:
    """Tier thresholds: settings tier_a_share / tier_b_share, else 80 % / 95 %."""
    a = get_setting(conn, "tier_a_share")
    b = get_setting(conn, "tier_b_share")
    return (float(a) if a else TIER_A_SHARE, float(b) if b else TIER_B_SHARE)
