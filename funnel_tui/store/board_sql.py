"""The board's reads, spelled once: SQL text that the store runs through SQLAlchemy (board.py,
settings.py, today.py, with `text()` and the columns' types) and the board's first read runs
through sqlite3 (board_read.py) before SQLAlchemy is loaded, plus the few lines that turn
their rows into what the store returns.

Statuses are literals: SQLite uses a partial index (WHERE status = 'open') only when the
query names the value itself. The `INDEXED BY` hints are SQLite's; the store leaves them out
on other databases (`sqlite=False`).

No SQLAlchemy here: this module is on the board's first frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sequence

from funnel_tui.domain.rules import TIER_A_SHARE, TIER_B_SHARE
from funnel_tui.domain.stages import PIPELINE_COLUMNS, STAGE_COLUMNS, PipelineDef, StageDef

if TYPE_CHECKING:
    from funnel_tui.domain.currency_totals import Rates

STATUSES = ("open", "won", "lost")

# A card's columns, in order; the time columns come back as aware UTC datetimes.
CARD_COLUMNS = ("id", "customer", "title", "amount", "currency", "probability", "stage", "status",
                "stage_entered_at", "next_follow_up_at", "risk_level", "lead_score", "owner",
                "last_contact_at", "created_at", "version", "lost_reason")
CARD_TIME_COLUMNS = ("stage_entered_at", "next_follow_up_at", "last_contact_at", "created_at")
_CARDS = ", ".join(f"deal.{c}" for c in CARD_COLUMNS)
# A column's cards: one stage, one status, not deleted (of one rep when the board shows one).
_IN_STAGE = "deal.stage = :stage AND deal.status = '{status}' AND deal.deleted_at IS NULL{owner}"
_OWNER = " AND deal.owner = :owner"

# Open cards by urgency: two index-ordered LIMIT queries (dated on ix_deal_board, then
# undated) instead of one sort with NULLS LAST, so the cost does not grow with the pipeline.
_OPEN_DATED_SQL = (f"SELECT {_CARDS} FROM deal WHERE {_IN_STAGE} AND deal.next_follow_up_at IS NOT NULL "
                   "ORDER BY deal.next_follow_up_at, deal.id LIMIT :limit OFFSET :offset")
_OPEN_UNDATED_SQL = (f"SELECT {_CARDS} FROM deal WHERE {_IN_STAGE} AND deal.next_follow_up_at IS NULL "
                     "ORDER BY deal.id LIMIT :limit OFFSET :offset")
# How many dated cards there are: needed only to page past them.
_OPEN_DATED_COUNT_SQL = f"SELECT count(*) FROM deal WHERE {_IN_STAGE} AND deal.next_follow_up_at IS NOT NULL"
# Won and lost cards: newest closed first.
_CLOSED_SQL = f"SELECT {_CARDS} FROM deal WHERE {_IN_STAGE} ORDER BY deal.closed_at DESC LIMIT :limit OFFSET :offset"


def weighted_sql(amount: str = "amount", probability: str = "probability") -> str:
    """amount × probability / 100, rounded half up, as SQL text over two integer column
    expressions. Integer arithmetic; amounts are ≥ 0 and probabilities 0–100 (CHECKs), so
    SQL's truncating division is Python's floor, as in domain.money.weighted_minor."""
    return f"(({amount} * {probability} + 50) / 100)"


# Money is 64-bit per deal, but a sum of many deals is not: 9,224 deals of ¥10^13 (the most
# one deal may hold) overflow SQLite's SUM ("integer overflow", issue 12's Summary screen).
# Each sum is taken in two parts, the billions and the rest, each far from the limit, and
# joined in Python, whose integers have no limit: exact, never a float.
SPLIT = 10**9


def exact_sum_sql(expr: str) -> str:
    """Two SQL sums (SELECT-list text) that `exact_total` joins into Σ expr, exactly; `expr`
    is a non-negative integer expression (amounts and weighted values are)."""
    return f"sum(({expr}) / {SPLIT}), sum(({expr}) % {SPLIT})"


def exact_total(high: int | None, low: int | None) -> int:
    """The two sums of exact_sum_sql joined into one exact integer."""
    return int(high or 0) * SPLIT + int(low or 0)


# Per stage and currency: count, Σ amount, Σ weighted (each as exact_sum_sql's two sums). SQLite's planner (no statistics) prefers
# seeking another index and reading every open deal's row to scanning the covering partial index
# ix_deal_stage_money (stage, currency, amount, probability): 6-7x slower (100 vs 16 ms at 100k
# deals, 900 vs 130 ms at 1M); it takes it only when told.
_TOTALS_SQL = ("SELECT stage, currency, count(*), " + exact_sum_sql("amount") + ", "
               + exact_sum_sql(weighted_sql()) + " FROM deal{hint} "
               "WHERE status = '{status}' AND deleted_at IS NULL{owner} GROUP BY stage, currency")
# The weighted values of open deals, grouped: where the A and B tiers start (one pass over
# the same covering index).
_OPEN_WEIGHTS_SQL = ("SELECT " + weighted_sql() + " AS w, count(*) FROM deal{hint} "
                     "WHERE status = 'open' AND deleted_at IS NULL GROUP BY w")
_HINT = " INDEXED BY ix_deal_stage_money"

# Every stage of every pipeline, archived ones included, and the pipelines (schema v5). Read
# as `SELECT *` and by column name (stage_defs, pipeline_defs): a database a newer or older
# funnel-tui wrote, opened read-only by the store, may lack or add columns.
STAGES_SQL = "SELECT * FROM stage"
PIPELINES_SQL = "SELECT * FROM pipeline ORDER BY position"
# Playbook ticks (schema v5): whether any deal has one (most reps never tick, and then no
# card needs a count), and how many items each of a page of deals has ticked per stage.
ANY_TICK_SQL = "SELECT deal_id FROM checklist_tick WHERE done = TRUE LIMIT 1"
_TICK_COUNTS_SQL = ("SELECT deal_id, stage, count(*) FROM checklist_tick "
                    "WHERE deal_id IN ({ids}) AND done = TRUE GROUP BY deal_id, stage")
TICK_IDS_PER_QUERY = 400
SETTING_SQL = "SELECT value FROM setting WHERE key = :key"
# The exchange rates the rep set (settings `rate:USD` = "7.1"; domain.currency_totals).
RATES_SQL = "SELECT key, value FROM setting WHERE key LIKE 'rate:%'"


def open_dated_sql(*, owner: bool = False) -> str:
    """Open cards of a stage with a next follow-up, soonest first."""
    return _OPEN_DATED_SQL.format(status="open", owner=_OWNER if owner else "")


def open_undated_sql(*, owner: bool = False) -> str:
    """Open cards of a stage without a next follow-up, oldest first."""
    return _OPEN_UNDATED_SQL.format(status="open", owner=_OWNER if owner else "")


def open_dated_count_sql(*, owner: bool = False) -> str:
    return _OPEN_DATED_COUNT_SQL.format(status="open", owner=_OWNER if owner else "")


def closed_sql(status: str, *, owner: bool = False) -> str:
    """Won or lost cards of a stage, newest closed first."""
    if status not in STATUSES[1:]:
        raise ValueError(f"status: {status!r} is not won or lost")
    return _CLOSED_SQL.format(status=status, owner=_OWNER if owner else "")


def totals_sql(status: str, *, sqlite: bool, owner: bool = False) -> str:
    """Count, Σ amount, Σ weighted per stage of the deals with `status` (of one rep: `owner`;
    the covering index holds no owner, so that one is left to the planner)."""
    if status not in STATUSES:
        raise ValueError(f"status: {status!r} is not one of open, won, lost")
    hint = _HINT if sqlite and status == "open" and not owner else ""
    return _TOTALS_SQL.format(hint=hint, status=status, owner=" AND owner = :owner" if owner else "")


def open_weights_sql(*, sqlite: bool) -> str:
    """(weighted value, how many open deals have it) of every open deal."""
    return _OPEN_WEIGHTS_SQL.format(hint=_HINT if sqlite else "")


def totals(rows: Iterable[tuple], read_rates: Callable[[], Rates]) -> dict[str, dict[str, Any]]:
    """Rows of totals_sql as the store returns them: per stage, domain.currency_totals'
    column_totals (per currency, and in the base currency at the rep's rates). `read_rates`
    is asked only when the board holds more than one currency (most pipelines: one query)."""
    from funnel_tui.domain.currency_totals import Rates, column_totals, one_currency

    per: dict[str, dict[str, dict[str, int]]] = {}
    for stage, currency, n, a_hi, a_lo, w_hi, w_lo in rows:
        per.setdefault(stage, {})[currency] = {"count": n, "amount": exact_total(a_hi, a_lo),
                                               "weighted": exact_total(w_hi, w_lo)}
    codes = {code for by_currency in per.values() for code in by_currency}
    rates = one_currency(read_rates() if len(codes) > 1 else Rates(), codes)
    return {stage: column_totals(by_currency, rates) for stage, by_currency in per.items()}


def rates(rows: Iterable[tuple]) -> Rates:
    """Rows of RATES_SQL as the rates into the base currency, CNY (kept as the text typed and
    read back as an exact Decimal)."""
    from decimal import Decimal

    from funnel_tui.domain.currency_totals import BASE_CURRENCY, RATE_PREFIX, Rates

    return Rates(BASE_CURRENCY, {key[len(RATE_PREFIX):]: Decimal(value) for key, value in rows
                                 if key.startswith(RATE_PREFIX) and key[len(RATE_PREFIX):] != BASE_CURRENCY})


def stage_defs(rows: Iterable[Mapping[str, Any]]) -> tuple[StageDef, ...]:
    """Rows of STAGES_SQL (by column name) as StageDefs, in funnel order per pipeline; a
    column the table lacks takes the StageDef's default."""
    out = [StageDef(**{c: (bool(r[c]) if c == "archived" else r[c]) for c in STAGE_COLUMNS if c in r})
           for r in rows]
    return tuple(sorted(out, key=lambda s: (s.pipeline, s.position)))


def pipeline_defs(rows: Iterable[Mapping[str, Any]]) -> tuple[PipelineDef, ...]:
    """Rows of PIPELINES_SQL (by column name) as PipelineDefs, in the order the rep made them."""
    return tuple(PipelineDef(**{c: (bool(r[c]) if c == "is_default" else r[c]) for c in PIPELINE_COLUMNS})
                 for r in rows)


def tick_queries(ids: Sequence[int]) -> Iterator[tuple[str, dict[str, int]]]:
    """(SQL, parameters) reading the ticked items per (deal, stage) of these deals, a few
    hundred ids per statement (far below SQLite's variable limit)."""
    for i in range(0, len(ids), TICK_IDS_PER_QUERY):
        chunk = ids[i:i + TICK_IDS_PER_QUERY]
        sql = _TICK_COUNTS_SQL.format(ids=", ".join(f":deal_{n}" for n in range(len(chunk))))
        yield sql, {f"deal_{n}": deal_id for n, deal_id in enumerate(chunk)}


def tick_counts(stage_of: Mapping[int, str], rows: Iterable[tuple]) -> dict[int, int]:
    """Rows of tick_counts_sql as items ticked per deal in its current stage (`stage_of`:
    deal id → stage; a deal that came back to a stage finds its ticks there)."""
    return {deal_id: n for deal_id, stage, n in rows if stage_of.get(deal_id) == stage}


def cards(rows: Iterable[tuple], when: Callable[[Any], Any]) -> list[dict]:
    """Rows in CARD_COLUMNS order as the store's card dicts; `when` turns a stored time into
    an aware UTC datetime (the column type has done it in the store, sqlite3 gives text)."""
    out = []
    for r in rows:
        card = dict(zip(CARD_COLUMNS, r))
        for c in CARD_TIME_COLUMNS:
            if card[c] is not None:
                card[c] = when(card[c])
        out.append(card)
    return out


def tier_shares(a: str | None, b: str | None) -> tuple[float, float]:
    """Tier thresholds from the settings tier_a_share / tier_b_share, else 80 % / 95 %."""
    return (float(a) if a else TIER_A_SHARE, float(b) if b else TIER_B_SHARE)
