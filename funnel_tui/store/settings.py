"""The pipeline's settings kept in the database: its stages, and key/value settings."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from funnel_tui.domain.currency_totals import BASE_CURRENCY, RATE_PREFIX, Rates
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
